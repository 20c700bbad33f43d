package client

import (
	"fmt"

	"github.com/strata-dc/strata/master/mesos"
)

// DynamicReservation turns an operator's "cpus:1;mem:128" into resources
// dynamically reserved for role (by principal, may be empty), the form
// RESERVE_RESOURCES and UNRESERVE_RESOURCES take.
func DynamicReservation(text, role, principal string) (mesos.Resources, error) {
	if err := mesos.ValidateRole(role); err != nil || role == "" || role == mesos.DefaultRole {
		return nil, fmt.Errorf("role %q: a reservation needs a role other than %q", role, mesos.DefaultRole)
	}
	rs, err := mesos.ParseResources(text, "")
	if err != nil {
		return nil, fmt.Errorf("resources %q: %w", text, err)
	}
	out := make(mesos.Resources, 0, len(rs))
	for _, r := range rs {
		if r.IsReserved() {
			return nil, fmt.Errorf("resources %q: give unreserved resources (%s is reserved already); --role says for whom", text, r.Name)
		}
		r.Reservations = append(r.Reservations, mesos.ReservationInfo{Type: mesos.ReservationDynamic, Role: role, Principal: principal})
		out = append(out, r)
	}
	return out, nil
}
