package mesos

import (
	"math"
	"slices"
)

// FrameworkCapabilityType is FrameworkInfo.Capability.Type: features a
// framework opts into, which change what the master sends it.
type FrameworkCapabilityType string

const (
	FrameworkCapabilityUnknown               FrameworkCapabilityType = "UNKNOWN"
	FrameworkCapabilityRevocableResources    FrameworkCapabilityType = "REVOCABLE_RESOURCES"
	FrameworkCapabilityTaskKillingState      FrameworkCapabilityType = "TASK_KILLING_STATE"
	FrameworkCapabilityGPUResources          FrameworkCapabilityType = "GPU_RESOURCES"
	FrameworkCapabilitySharedResources       FrameworkCapabilityType = "SHARED_RESOURCES"
	FrameworkCapabilityPartitionAware        FrameworkCapabilityType = "PARTITION_AWARE"
	FrameworkCapabilityMultiRole             FrameworkCapabilityType = "MULTI_ROLE"
	FrameworkCapabilityReservationRefinement FrameworkCapabilityType = "RESERVATION_REFINEMENT"
	FrameworkCapabilityRegionAware           FrameworkCapabilityType = "REGION_AWARE"
)

var frameworkCapabilityTypes = enumSet(FrameworkCapabilityUnknown, FrameworkCapabilityRevocableResources,
	FrameworkCapabilityTaskKillingState, FrameworkCapabilityGPUResources, FrameworkCapabilitySharedResources,
	FrameworkCapabilityPartitionAware, FrameworkCapabilityMultiRole, FrameworkCapabilityReservationRefinement,
	FrameworkCapabilityRegionAware)

// IsKnown reports whether t is one of Mesos' names.
func (t FrameworkCapabilityType) IsKnown() bool { _, ok := frameworkCapabilityTypes[t]; return ok }

// FrameworkCapability is one capability, {"type": "MULTI_ROLE"}.
type FrameworkCapability struct {
	Type FrameworkCapabilityType `json:"type,omitempty"`
}

// FrameworkInfo describes a framework as it subscribes.
//
// FailoverTimeout and Checkpoint are pointers so "unset" is visible: Mesos
// defaults them to 0 and false, Strata's master chooses safer defaults for
// an unset failover timeout. Role is the deprecated single role (default
// "*"); MULTI_ROLE frameworks use Roles instead. Use GetRoles to read
// whichever applies.
type FrameworkInfo struct {
	User            string                  `json:"user"`
	Name            string                  `json:"name"`
	ID              FrameworkID             `json:"id,omitempty"`
	FailoverTimeout *float64                `json:"failover_timeout,omitempty"`
	Checkpoint      *bool                   `json:"checkpoint,omitempty"`
	Role            string                  `json:"role,omitempty"` // deprecated
	Roles           []string                `json:"roles,omitempty"`
	Hostname        string                  `json:"hostname,omitempty"`
	Principal       string                  `json:"principal,omitempty"`
	WebUIURL        string                  `json:"webui_url,omitempty"`
	Capabilities    []FrameworkCapability   `json:"capabilities,omitempty"`
	Labels          Labels                  `json:"labels,omitempty"`
	OfferFilters    map[string]OfferFilters `json:"offer_filters,omitempty"`
}

// HasCapability reports whether the framework declared capability t.
func (f *FrameworkInfo) HasCapability(t FrameworkCapabilityType) bool {
	return f != nil && slices.ContainsFunc(f.Capabilities, func(c FrameworkCapability) bool { return c.Type == t })
}

// GetRoles returns the roles the framework subscribes to: Roles for a
// MULTI_ROLE framework, otherwise the single Role ("*" when unset), as
// Mesos' protobuf::framework::getRoles does.
func (f *FrameworkInfo) GetRoles() []string {
	if f.HasCapability(FrameworkCapabilityMultiRole) {
		return f.Roles
	}
	if f.Role == "" {
		return []string{DefaultRole}
	}
	return []string{f.Role}
}

// GetFailoverTimeout returns FailoverTimeout and whether it was set.
func (f *FrameworkInfo) GetFailoverTimeout() (float64, bool) {
	if f.FailoverTimeout == nil {
		return 0, false
	}
	return *f.FailoverTimeout, true
}

// GetCheckpoint returns Checkpoint (default false).
func (f *FrameworkInfo) GetCheckpoint() bool { return f.Checkpoint != nil && *f.Checkpoint }

// OfferFilters shapes the offers sent to one role: only offers holding at
// least one of the listed quantity sets are made.
type OfferFilters struct {
	MinAllocatableResources *MinAllocatableResources `json:"min_allocatable_resources,omitempty"`
}

// MinAllocatableResources is a list of alternatives; an offer qualifies if
// it contains any one of them.
type MinAllocatableResources struct {
	Quantities []ResourceQuantities `json:"quantities,omitempty"`
}

// ResourceQuantities maps resource names to amounts,
// {"quantities": {"cpus": {"value": 1}}}.
type ResourceQuantities struct {
	Quantities map[string]Scalar `json:"quantities,omitempty"`
}

// maxDurationSeconds is the longest time.Duration, in seconds.
const maxDurationSeconds = float64(math.MaxInt64 / 1e9)

// check adds Mesos' role rules to the generic ones: a MULTI_ROLE framework
// uses Roles (unique, valid names) and not Role; any other framework uses
// Role and not Roles.
func (f FrameworkInfo) check(path string, errs *FieldErrors) {
	type plain FrameworkInfo
	validateInto(plain(f), path, errs)
	// Mesos refuses a failover timeout that is not a Duration; a negative
	// one is refused too, as it would mean "already failed over".
	if ft := f.FailoverTimeout; ft != nil && !(*ft >= 0 && *ft <= maxDurationSeconds) {
		errs.add(joinPath(path, "failover_timeout"), "%v seconds is not a duration between 0 and %.0f", *ft, maxDurationSeconds)
	}
	if f.HasCapability(FrameworkCapabilityMultiRole) {
		if f.Role != "" {
			errs.add(joinPath(path, "role"), "must not be set for a MULTI_ROLE framework; use roles")
		}
		seen := make(map[string]bool, len(f.Roles))
		for i, role := range f.Roles {
			p := indexPath(joinPath(path, "roles"), i)
			if seen[role] {
				errs.add(p, "duplicate role %q", role)
			}
			seen[role] = true
			if err := ValidateRole(role); err != nil {
				errs.add(p, "%v", err)
			}
		}
		return
	}
	if len(f.Roles) > 0 {
		errs.add(joinPath(path, "roles"), "needs the MULTI_ROLE capability; use role")
	}
	if f.Role != "" {
		if err := ValidateRole(f.Role); err != nil {
			errs.add(joinPath(path, "role"), "%v", err)
		}
	}
}
