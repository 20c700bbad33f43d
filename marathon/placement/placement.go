package placement

import (
	"fmt"
	"slices"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/master/mesos"
)

// Reason is one of Marathon's NoOfferMatchReasons.
type Reason string

// Marathon's reasons for not using an offer.
const (
	UnfulfilledRole                 Reason = "UnfulfilledRole"
	UnfulfilledConstraint           Reason = "UnfulfilledConstraint"
	NoCorrespondingReservationFound Reason = "NoCorrespondingReservationFound"
	AgentMaintenance                Reason = "AgentMaintenance"
	InsufficientCpus                Reason = "InsufficientCpus"
	InsufficientMemory              Reason = "InsufficientMemory"
	InsufficientDisk                Reason = "InsufficientDisk"
	InsufficientGpus                Reason = "InsufficientGpus"
	InsufficientPorts               Reason = "InsufficientPorts"
	DeclinedScarceResources         Reason = "DeclinedScarceResources"
)

// Funnel is Marathon's reasonFunnel: when an offer fails for several
// reasons, the first in this order is the one counted.
var Funnel = []Reason{
	UnfulfilledRole, UnfulfilledConstraint, NoCorrespondingReservationFound, AgentMaintenance,
	InsufficientCpus, InsufficientMemory, InsufficientDisk, InsufficientGpus, InsufficientPorts,
	DeclinedScarceResources,
}

// Request is one question: can Offer run one more instance of App?
type Request struct {
	App *app.App
	// Rules are App's parsed constraints; nil means parse them here (pass
	// them when matching many offers for the same app).
	Rules []app.Rule
	Offer *mesos.Offer
	// Placed are the app's instances that constraints count (running,
	// staged, and those already matched in this round).
	Placed []Instance
	// FrameworkRole is the role marathon registered with; with no
	// acceptedResourceRoles an app takes unreserved resources and those
	// reserved for this role.
	FrameworkRole string
	// Now and DrainWindow decide AgentMaintenance: an offer from an agent
	// whose unavailability starts before Now+DrainWindow is refused when
	// DeclineMaintenance is set (Marathon's --maintenance_mode).
	Now                time.Time
	DrainWindow        time.Duration
	DeclineMaintenance bool
	// DeclineScarceGPUs keeps apps that need no GPUs off GPU agents
	// (Marathon's --gpu_scheduling_behavior restricted).
	DeclineScarceGPUs bool
}

// Match is what one instance takes from an offer.
type Match struct {
	// Resources are the exact offered resources to put in the TaskInfo,
	// with their reservation and allocation info kept.
	Resources mesos.Resources
	// HostPorts has one entry per port definition (host networking) or
	// per container port mapping, in index order; 0 for a mapping without
	// a host port.
	HostPorts []int
	// Placement is where the instance lands, for the next constraint check.
	Placement Instance
}

// Decision answers a Request: a Match, or the Reasons it is refused.
type Decision struct {
	Match   *Match
	Reasons []Reason
}

// First is the reason Marathon counts for a refusal ("" for a match).
func (d Decision) First() Reason {
	for _, r := range Funnel {
		if slices.Contains(d.Reasons, r) {
			return r
		}
	}
	return ""
}

// AcceptedRoles is the set of reservation roles the app may consume ("*"
// meaning unreserved): its acceptedResourceRoles, or by default "*" and
// the framework's role.
func AcceptedRoles(a *app.App, frameworkRole string) []string {
	if len(a.AcceptedResourceRoles) > 0 {
		return a.AcceptedResourceRoles
	}
	roles := []string{mesos.DefaultRole}
	if frameworkRole != "" && frameworkRole != mesos.DefaultRole {
		roles = append(roles, frameworkRole)
	}
	return roles
}

// Decide decides one instance.
func Decide(req Request) Decision {
	rules := req.Rules
	if rules == nil {
		var err error
		if rules, err = req.App.Rules(); err != nil {
			// Validated apps never get here; refuse rather than ignore.
			return Decision{Reasons: []Reason{UnfulfilledConstraint}}
		}
	}
	var reasons []Reason
	offer := req.Offer
	where := InstanceFromOffer(offer)

	usable := usableResources(offer.Resources, AcceptedRoles(req.App, req.FrameworkRole))
	if len(usable) == 0 && len(offer.Resources) > 0 {
		reasons = append(reasons, UnfulfilledRole)
	}
	for _, r := range rules {
		if !meets(r, where, req.Placed, req.App.Instances) {
			reasons = append(reasons, UnfulfilledConstraint)
			break
		}
	}
	if req.DeclineMaintenance && inMaintenance(offer.Unavailability, req.Now, req.DrainWindow) {
		reasons = append(reasons, AgentMaintenance)
	}

	var taken mesos.Resources
	pool := usable.Clone()
	for _, s := range []struct {
		name   string
		amount float64
		reason Reason
	}{
		{"cpus", req.App.Cpus, InsufficientCpus},
		{"mem", req.App.Mem, InsufficientMemory},
		{"disk", req.App.Disk, InsufficientDisk},
		{"gpus", float64(req.App.Gpus), InsufficientGpus},
	} {
		got, ok := takeScalar(pool, s.name, mesos.ScalarOf(s.amount))
		if !ok {
			reasons = append(reasons, s.reason)
			continue
		}
		taken = append(taken, got...)
		pool = pool.Subtract(got...)
	}
	hostPorts, portRes, ok := takePorts(pool, portRequests(req.App))
	if !ok {
		reasons = append(reasons, InsufficientPorts)
	}
	taken = append(taken, portRes...)
	if req.DeclineScarceGPUs && req.App.Gpus == 0 && !offer.Resources.Gpus().IsZero() {
		reasons = append(reasons, DeclinedScarceResources)
	}
	if len(reasons) > 0 {
		return Decision{Reasons: reasons}
	}
	return Decision{Match: &Match{Resources: taken, HostPorts: hostPorts, Placement: where}}
}

// Place matches up to count instances from one offer: each match takes its
// resources out of what the next one sees and counts as placed for the
// constraints. The Decision is the one that stopped placement (no Match
// when every requested instance was placed).
func Place(req Request, count int) ([]Match, Decision) {
	if req.Rules == nil {
		rules, err := req.App.Rules()
		if err != nil {
			return nil, Decision{Reasons: []Reason{UnfulfilledConstraint}}
		}
		req.Rules = rules
	}
	offer := *req.Offer
	offer.Resources = offer.Resources.Clone()
	req.Offer = &offer
	req.Placed = slices.Clone(req.Placed)
	var out []Match
	for len(out) < count {
		d := Decide(req)
		if d.Match == nil {
			return out, d
		}
		out = append(out, *d.Match)
		offer.Resources = offer.Resources.Subtract(d.Match.Resources...)
		req.Placed = append(req.Placed, d.Match.Placement)
	}
	return out, Decision{}
}

// usableResources keeps the offered resources the app may consume: those
// whose reservation role (or "*" when unreserved) is accepted. Left out are
// revocable resources (Marathon does not launch on them), shared ones, and
// disks with a source or a volume (MOUNT disks and persistent volumes are
// consumed whole, by resident apps only).
func usableResources(rs mesos.Resources, accepted []string) mesos.Resources {
	return rs.Filter(func(r mesos.Resource) bool {
		if r.IsRevocable() || r.IsShared() || r.Disk != nil {
			return false
		}
		role := r.ReservationRole()
		if role == "" {
			role = mesos.DefaultRole
		}
		return slices.Contains(accepted, role)
	})
}

// takeScalar takes amount of name from rs, reserved resources first (a
// framework should spend what is set aside for it before the shared pool).
func takeScalar(rs mesos.Resources, name string, amount mesos.Scalar) (mesos.Resources, bool) {
	if amount.Sign() <= 0 {
		return nil, true
	}
	var out mesos.Resources
	left := amount
	for _, pass := range []bool{true, false} {
		for _, r := range rs {
			if r.Name != name || r.Type != mesos.ValueScalar || r.Scalar == nil || r.IsReserved() != pass {
				continue
			}
			if left.Sign() <= 0 {
				break
			}
			part := r.Scalar.Min(left)
			if part.Sign() <= 0 {
				continue
			}
			got := r
			got.Scalar = &part
			out = append(out, got)
			left = left.Sub(part)
		}
	}
	return out, left.Sign() <= 0
}

// portRequest is one port the instance needs: fixed (a specific host port)
// or any. need=false for a port mapping without a host port.
type portRequest struct {
	need  bool
	fixed int
}

// portRequests lists the app's host ports in index order: port
// definitions on host networking (fixed when requirePorts), or the host
// ports of container port mappings (fixed when non-zero).
func portRequests(a *app.App) []portRequest {
	if c := a.Container; c != nil && len(c.PortMappings) > 0 {
		out := make([]portRequest, len(c.PortMappings))
		for i, m := range c.PortMappings {
			if m.HostPort != nil {
				out[i] = portRequest{need: true, fixed: *m.HostPort}
			}
		}
		return out
	}
	out := make([]portRequest, len(a.PortDefinitions))
	for i, p := range a.PortDefinitions {
		out[i] = portRequest{need: true}
		if a.RequirePorts {
			out[i].fixed = p.Port
		}
	}
	return out
}

// takePorts assigns host ports from the ranges in rs: fixed ports must be
// offered; the others take the lowest offered port not already assigned
// (reserved ranges first). It returns the ports in request order and the
// resources to take, one single-port range per port.
func takePorts(rs mesos.Resources, reqs []portRequest) ([]int, mesos.Resources, bool) {
	hostPorts := make([]int, len(reqs))
	var out mesos.Resources
	used := map[uint64]bool{}
	candidates := rs.Filter(func(r mesos.Resource) bool { return r.Name == "ports" && r.Type == mesos.ValueRanges })
	slices.SortStableFunc(candidates, func(a, b mesos.Resource) int {
		switch {
		case a.IsReserved() == b.IsReserved():
			return 0
		case a.IsReserved():
			return -1
		}
		return 1
	})
	take := func(r mesos.Resource, port uint64) {
		got := r
		got.Ranges = mesos.Ranges{{Begin: port, End: port}}
		out = append(out, got)
		used[port] = true
	}
	// Fixed ports first, so dynamic ones never steal them.
	for i, pr := range reqs {
		if !pr.need || pr.fixed == 0 {
			continue
		}
		p := uint64(pr.fixed)
		found := false
		for _, r := range candidates {
			if !used[p] && r.Ranges.Contains(mesos.Ranges{{Begin: p, End: p}}) {
				take(r, p)
				found = true
				break
			}
		}
		if !found {
			return nil, nil, false
		}
		hostPorts[i] = pr.fixed
	}
	for i, pr := range reqs {
		if !pr.need || pr.fixed != 0 {
			continue
		}
		found := false
		for _, r := range candidates {
			for _, rg := range r.Ranges.Normalize() {
				for p := rg.Begin; ; p++ {
					if !used[p] {
						take(r, p)
						hostPorts[i] = int(p)
						found = true
						break
					}
					if p == rg.End {
						break
					}
				}
				if found {
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			return nil, nil, false
		}
	}
	return hostPorts, out, true
}

// String summarizes a decision for logs.
func (d Decision) String() string {
	if d.Match != nil {
		return fmt.Sprintf("match %s ports %v", d.Match.Resources, d.Match.HostPorts)
	}
	return fmt.Sprintf("no match %v", d.Reasons)
}

// inMaintenance reports whether an agent's unavailability window starts
// within drain of now and has not already ended.
func inMaintenance(u *mesos.Unavailability, now time.Time, drain time.Duration) bool {
	if u == nil || u.Start == nil {
		return false
	}
	start := u.Start.Time()
	if start.After(now.Add(drain)) {
		return false
	}
	if u.Duration != nil && !start.Add(u.Duration.Duration()).After(now) {
		return false // the window is over
	}
	return true
}
