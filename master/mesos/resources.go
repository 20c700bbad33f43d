package mesos

import (
	"slices"
	"strings"
)

// Resources is a list of resources with Mesos' arithmetic. Any list is
// accepted as input (unmerged, either reservation format); results are
// normalized: post-refinement format, one entry per shape with values
// merged, empty and invalid entries dropped (as Mesos drops them). Shared
// resources are a multiset: each copy is its own entry.
//
// Methods never modify their receiver or arguments, and results share
// storage with inputs (Scalar pointers, Ranges and Set arrays, labels, disk
// info): treat Resource values as immutable, or Clone before mutating one
// in place.
type Resources []Resource

// sameShape reports whether a and b differ at most in their values: same
// name, type, allocation, reservations, disk, revocability, provider and
// sharedness. Both must be in post-refinement format.
func sameShape(a, b *Resource) bool {
	if a.Name != b.Name || a.Type != b.Type || a.ProviderID != b.ProviderID {
		return false
	}
	if (a.AllocationInfo == nil) != (b.AllocationInfo == nil) ||
		(a.AllocationInfo != nil && a.AllocationInfo.Role != b.AllocationInfo.Role) {
		return false
	}
	if len(a.Reservations) != len(b.Reservations) {
		return false
	}
	for i := range a.Reservations {
		if !a.Reservations[i].Equal(b.Reservations[i]) {
			return false
		}
	}
	if (a.Revocable == nil) != (b.Revocable == nil) || (a.Shared == nil) != (b.Shared == nil) {
		return false
	}
	return equalMessages(a.Disk, b.Disk)
}

// sameValue compares values of two resources of the same type.
func sameValue(a, b *Resource) bool {
	switch a.Type {
	case ValueScalar:
		return a.Scalar != nil && b.Scalar != nil && a.Scalar.Cmp(*b.Scalar) == 0
	case ValueRanges:
		return a.Ranges.Equal(b.Ranges)
	case ValueSet:
		return a.Set.Equal(b.Set)
	}
	return false
}

// exclusiveDisk reports disks that must never be merged or split: MOUNT and
// BLOCK disks, RAW disks with an identity, and persistent volumes.
func exclusiveDisk(r *Resource) bool {
	if r.Disk == nil {
		return false
	}
	if r.Disk.Persistence != nil {
		return true
	}
	if src := r.Disk.Source; src != nil {
		switch src.Type {
		case DiskSourceMount, DiskSourceBlock:
			return true
		case DiskSourceRaw:
			return src.ID != ""
		}
	}
	return false
}

// addable reports whether b's value can be merged into a's entry.
func addable(a, b *Resource) bool {
	if !sameShape(a, b) {
		return false
	}
	return a.Shared == nil && !exclusiveDisk(a)
}

// subtractable reports whether b can be taken out of a's entry.
func subtractable(a, b *Resource) bool {
	if !sameShape(a, b) {
		return false
	}
	if a.Shared != nil || exclusiveDisk(a) {
		return sameValue(a, b)
	}
	return true
}

// containsOne reports whether entry a holds all of b.
func containsOne(a, b *Resource) bool {
	if !subtractable(a, b) {
		return false
	}
	switch a.Type {
	case ValueScalar:
		return b.Scalar.Cmp(*a.Scalar) <= 0
	case ValueRanges:
		return a.Ranges.Contains(b.Ranges)
	case ValueSet:
		return a.Set.Contains(b.Set)
	}
	return false
}

// Clone returns a deep copy.
func (rs Resources) Clone() Resources {
	if rs == nil {
		return nil
	}
	out := make(Resources, len(rs))
	for i, r := range rs {
		out[i] = r.Clone()
	}
	return out
}

// addInto merges r into the normalized list out.
func addInto(out Resources, r Resource) Resources {
	r = r.upgraded()
	if !r.valid() || r.IsEmpty() {
		return out
	}
	for i := range out {
		e := &out[i]
		if !addable(e, &r) {
			continue
		}
		switch e.Type {
		case ValueScalar:
			s := e.Scalar.Add(*r.Scalar)
			e.Scalar = &s
		case ValueRanges:
			e.Ranges = e.Ranges.Add(r.Ranges)
		case ValueSet:
			e.Set = e.Set.Add(r.Set)
		}
		return out
	}
	// The new entry shares r's value storage; that is safe because no
	// method writes through a Scalar pointer or into a Ranges or Set
	// backing array: merging always stores fresh values.
	if r.Type == ValueRanges {
		r.Ranges = r.Ranges.normalized()
	}
	return append(out, r)
}

// Normalize returns rs merged, in post-refinement format, without empty or
// invalid entries.
func (rs Resources) Normalize() Resources {
	return rs.normalizeCap(0)
}

// normalizeCap is Normalize with room for extra entries to come.
func (rs Resources) normalizeCap(extra int) Resources {
	if len(rs)+extra == 0 {
		return nil
	}
	out := make(Resources, 0, len(rs)+extra)
	for _, r := range rs {
		out = addInto(out, r)
	}
	if len(out) == 0 && extra == 0 {
		return nil
	}
	return out
}

// normalizeStrict is Normalize that refuses invalid entries instead of
// dropping them, so Contains cannot be fooled by "cpus:-1".
func (rs Resources) normalizeStrict() (Resources, bool) {
	var out Resources
	for _, r := range rs {
		if !r.valid() {
			return nil, false
		}
		out = addInto(out, r)
	}
	return out, true
}

// Add returns rs + o; add a whole list with rs.Add(o...).
func (rs Resources) Add(o ...Resource) Resources {
	out := rs.normalizeCap(len(o))
	for _, r := range o {
		out = addInto(out, r)
	}
	return out
}

// Subtract returns rs - o (rs.Subtract(o...) for a list). Quantities never
// go negative: an entry that would becomes absent, as in Mesos.
// Subtracting what rs lacks is a no-op for that part; use Contains first
// where that matters.
func (rs Resources) Subtract(o ...Resource) Resources {
	out := rs.Normalize()
	for _, r := range o {
		r = r.upgraded()
		if !r.valid() || r.IsEmpty() {
			continue
		}
		for i := range out {
			e := &out[i]
			if !subtractable(e, &r) {
				continue
			}
			remove := false
			switch {
			case e.Shared != nil || exclusiveDisk(e):
				remove = true
			case e.Type == ValueScalar:
				s := e.Scalar.Sub(*r.Scalar)
				e.Scalar = &s
				remove = s.Sign() <= 0
			case e.Type == ValueRanges:
				e.Ranges = e.Ranges.Subtract(r.Ranges)
				remove = len(e.Ranges) == 0
			case e.Type == ValueSet:
				e.Set = e.Set.Subtract(r.Set)
				remove = len(e.Set) == 0
			}
			if remove {
				out = slices.Delete(out, i, i+1)
			}
			break
		}
	}
	return out
}

// Contains reports whether rs holds all of o. Any invalid entry in o makes
// the answer false.
func (rs Resources) Contains(o Resources) bool {
	have := rs.Normalize()
	want, ok := o.normalizeStrict()
	if !ok {
		return false
	}
	for i := range want {
		w := &want[i]
		found := -1
		for j := range have {
			if containsOne(&have[j], w) {
				found = j
				break
			}
		}
		if found < 0 {
			return false
		}
		// Volumes and shared copies are matched one for one.
		if have[found].Shared != nil || exclusiveDisk(&have[found]) {
			have = slices.Delete(have, found, found+1)
		}
	}
	return true
}

// Equal reports whether rs and o hold the same resources.
func (rs Resources) Equal(o Resources) bool {
	return rs.Contains(o) && o.Contains(rs)
}

// IsEmpty reports whether rs holds nothing.
func (rs Resources) IsEmpty() bool { return len(rs.Normalize()) == 0 }

// Validate reports every invalid entry, with paths like "[2].scalar.value".
func (rs Resources) Validate() error {
	var errs FieldErrors
	for i, r := range rs {
		r.check(indexPath("", i), &errs)
	}
	return errs.err()
}

// Filter returns the entries for which keep is true (not normalized).
func (rs Resources) Filter(keep func(Resource) bool) Resources {
	var out Resources
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Named returns the entries with the given name.
func (rs Resources) Named(name string) Resources {
	return rs.Filter(func(r Resource) bool { return r.Name == name })
}

// Names returns the distinct resource names, sorted.
func (rs Resources) Names() []string {
	var names []string
	for _, r := range rs {
		if !slices.Contains(names, r.Name) {
			names = append(names, r.Name)
		}
	}
	slices.Sort(names)
	return names
}

// Scalar returns the sum of every valid scalar entry with the given name,
// whatever its reservation or allocation.
func (rs Resources) Scalar(name string) Scalar {
	var sum Scalar
	for _, r := range rs.Named(name).Normalize() {
		if r.Type == ValueScalar {
			sum = sum.Add(*r.Scalar)
		}
	}
	return sum
}

// Ranges returns the union of every ranges entry with the given name.
func (rs Resources) Ranges(name string) Ranges {
	var out Ranges
	for _, r := range rs.Named(name).Normalize() {
		if r.Type == ValueRanges {
			out = out.Add(r.Ranges)
		}
	}
	return out
}

// Set returns the union of every set entry with the given name.
func (rs Resources) Set(name string) Set {
	var out Set
	for _, r := range rs.Named(name).Normalize() {
		if r.Type == ValueSet {
			out = out.Add(r.Set)
		}
	}
	return out
}

// Cpus, Mem (MB), Disk (MB), Gpus and Ports are the well-known resources.
func (rs Resources) Cpus() Scalar  { return rs.Scalar("cpus") }
func (rs Resources) Mem() Scalar   { return rs.Scalar("mem") }
func (rs Resources) Disk() Scalar  { return rs.Scalar("disk") }
func (rs Resources) Gpus() Scalar  { return rs.Scalar("gpus") }
func (rs Resources) Ports() Ranges { return rs.Ranges("ports") }

// Quantities sums rs by name, ignoring reservations and allocation: scalars
// add up, ranges count their integers, sets their items. This is what quota
// and DRF shares are computed from.
func (rs Resources) Quantities() map[string]Scalar {
	out := make(map[string]Scalar)
	for _, r := range rs.Normalize() {
		var q Scalar
		switch r.Type {
		case ValueScalar:
			q = *r.Scalar
		case ValueRanges:
			q = ScalarFromMilli(int64(min(r.Ranges.Size(), uint64(maxMilli/1000))) * 1000)
		case ValueSet:
			q = ScalarFromMilli(int64(len(r.Set)) * 1000)
		}
		out[r.Name] = out[r.Name].Add(q)
	}
	return out
}

// Unreserved returns the entries reserved for no role.
func (rs Resources) Unreserved() Resources {
	return rs.Filter(Resource.IsUnreserved)
}

// Reserved returns the entries reserved for any role.
func (rs Resources) Reserved() Resources {
	return rs.Filter(Resource.IsReserved)
}

// ReservedFor returns the entries whose reservation role is exactly role.
func (rs Resources) ReservedFor(role string) Resources {
	return rs.Filter(func(r Resource) bool { return r.IsReserved() && r.ReservationRole() == role })
}

// ReservedToSubtree returns the entries reserved for root or any role below
// it; quota counts these as consumed by root.
func (rs Resources) ReservedToSubtree(root string) Resources {
	return rs.Filter(func(r Resource) bool { return r.IsReserved() && IsRoleInSubtree(r.ReservationRole(), root) })
}

// AllocatableTo returns the entries that may be offered to role: unreserved
// ones and those reserved for role or one of its ancestors.
func (rs Resources) AllocatableTo(role string) Resources {
	return rs.Filter(func(r Resource) bool { return r.IsAllocatableTo(role) })
}

// Reservations groups the reserved entries by reservation role.
func (rs Resources) Reservations() map[string]Resources {
	out := make(map[string]Resources)
	for _, r := range rs.Normalize() {
		if role := r.ReservationRole(); role != "" {
			out[role] = append(out[role], r)
		}
	}
	return out
}

// ToUnreserved returns rs with every reservation removed (and the
// deprecated role/reservation fields cleared), merged.
func (rs Resources) ToUnreserved() Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		r.Role, r.Reservation, r.Reservations = "", nil, nil
		out = append(out, r)
	}
	return out.Normalize()
}

// Flatten returns rs as plain quantities of their shape: no reservations
// and no allocation, merged. Two agents' worth of "cpus(a):1" and
// "cpus:1" flatten to "cpus:2".
func (rs Resources) Flatten() Resources {
	return rs.Unallocate().ToUnreserved()
}

// Allocate returns rs with every entry allocated to role.
func (rs Resources) Allocate(role string) Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		r.AllocationInfo = &AllocationInfo{Role: role}
		out = append(out, r)
	}
	return out.Normalize()
}

// Unallocate returns rs without allocation info.
func (rs Resources) Unallocate() Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		r.AllocationInfo = nil
		out = append(out, r)
	}
	return out.Normalize()
}

// Allocations groups the entries by the role they are allocated to
// (unallocated entries under "").
func (rs Resources) Allocations() map[string]Resources {
	out := make(map[string]Resources)
	for _, r := range rs.Normalize() {
		role := ""
		if r.AllocationInfo != nil {
			role = r.AllocationInfo.Role
		}
		out[role] = append(out[role], r)
	}
	return out
}

// PushReservation returns rs with res added on top of every entry's
// reservation stack: what a RESERVE operation does to its source.
func (rs Resources) PushReservation(res ReservationInfo) Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		r = r.upgraded()
		stack := make([]ReservationInfo, 0, len(r.Reservations)+1)
		r.Reservations = append(append(stack, r.Reservations...), res)
		out = append(out, r)
	}
	return out.Normalize()
}

// PopReservation returns rs with the innermost reservation removed from
// every entry: what an UNRESERVE operation does.
func (rs Resources) PopReservation() Resources {
	out := make(Resources, 0, len(rs))
	for _, r := range rs {
		r = r.upgraded()
		if n := len(r.Reservations); n > 0 {
			r.Reservations = slices.Clone(r.Reservations[:n-1])
			if len(r.Reservations) == 0 {
				r.Reservations = nil
			}
		}
		out = append(out, r)
	}
	return out.Normalize()
}

// Revocable returns the revocable entries; NonRevocable the others.
func (rs Resources) Revocable() Resources { return rs.Filter(Resource.IsRevocable) }
func (rs Resources) NonRevocable() Resources {
	return rs.Filter(func(r Resource) bool { return !r.IsRevocable() })
}

// String prints rs in flag syntax, "cpus:4;mem:2048;ports:[31000-32000]".
func (rs Resources) String() string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ";")
}
