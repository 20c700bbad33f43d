package mesos

import (
	"reflect"
	"slices"
	"strings"
)

// Resource is one named quantity on an agent: "cpus:4", "ports:[31000-32000]",
// possibly reserved for a role, allocated to a role, a disk volume, revocable
// or shared.
//
// Reservations come in two formats, as in Mesos. The current one
// ("post-refinement") is the Reservations stack: the last entry is the role
// the resource is reserved for, earlier entries are the ancestors it was
// refined from. The deprecated one ("pre-refinement") is Role plus, for
// dynamic reservations, Reservation. Arithmetic reads either; see
// ResourceFormat for writing the one a consumer expects.
type Resource struct {
	ProviderID     ResourceProviderID `json:"provider_id,omitempty"`
	Name           string             `json:"name"`
	Type           ValueType          `json:"type"`
	Scalar         *Scalar            `json:"scalar,omitempty"`
	Ranges         Ranges             `json:"ranges,omitempty"`
	Set            Set                `json:"set,omitempty"`
	Role           string             `json:"role,omitempty"` // deprecated: pre-refinement format
	AllocationInfo *AllocationInfo    `json:"allocation_info,omitempty"`
	Reservation    *ReservationInfo   `json:"reservation,omitempty"` // deprecated: pre-refinement format
	Reservations   []ReservationInfo  `json:"reservations,omitempty"`
	Disk           *DiskInfo          `json:"disk,omitempty"`
	Revocable      *RevocableInfo     `json:"revocable,omitempty"`
	Shared         *SharedInfo        `json:"shared,omitempty"`
}

// AllocationInfo names the role a resource is allocated to (set on offered
// and used resources).
type AllocationInfo struct {
	Role string `json:"role,omitempty"`
}

// ReservationType is ReservationInfo.Type.
type ReservationType string

const (
	ReservationUnknown ReservationType = "UNKNOWN"
	ReservationStatic  ReservationType = "STATIC"
	ReservationDynamic ReservationType = "DYNAMIC"
)

var reservationTypes = enumSet(ReservationUnknown, ReservationStatic, ReservationDynamic)

// IsKnown reports whether t is one of Mesos' names.
func (t ReservationType) IsKnown() bool { _, ok := reservationTypes[t]; return ok }

// ReservationInfo is one level of a reservation. Static reservations come
// from the agent's --resources; dynamic ones from RESERVE operations.
type ReservationInfo struct {
	Type      ReservationType `json:"type,omitempty"`
	Role      string          `json:"role,omitempty"`
	Principal string          `json:"principal,omitempty"`
	Labels    Labels          `json:"labels,omitempty"`
}

// Equal compares every field.
func (ri ReservationInfo) Equal(o ReservationInfo) bool {
	return ri.Type == o.Type && ri.Role == o.Role && ri.Principal == o.Principal && ri.Labels.Equal(o.Labels)
}

// RevocableInfo marks resources that may be taken back (oversubscription).
type RevocableInfo struct{}

// SharedInfo marks resources (persistent volumes) that several tasks may use
// at once.
type SharedInfo struct{}

// DiskSourceType is Resource.DiskInfo.Source.Type.
type DiskSourceType string

const (
	DiskSourceUnknown DiskSourceType = "UNKNOWN"
	DiskSourcePath    DiskSourceType = "PATH"
	DiskSourceMount   DiskSourceType = "MOUNT"
	DiskSourceBlock   DiskSourceType = "BLOCK"
	DiskSourceRaw     DiskSourceType = "RAW"
)

var diskSourceTypes = enumSet(DiskSourceUnknown, DiskSourcePath, DiskSourceMount, DiskSourceBlock, DiskSourceRaw)

// IsKnown reports whether t is one of Mesos' names.
func (t DiskSourceType) IsKnown() bool { _, ok := diskSourceTypes[t]; return ok }

// DiskInfo describes a disk resource: where it comes from and, for persistent
// volumes, its identity and mount point.
type DiskInfo struct {
	Persistence *DiskPersistence `json:"persistence,omitempty"`
	Volume      *Volume          `json:"volume,omitempty"`
	Source      *DiskSource      `json:"source,omitempty"`
}

// DiskPersistence identifies a persistent volume.
type DiskPersistence struct {
	ID        string `json:"id"`
	Principal string `json:"principal,omitempty"`
}

// DiskSource says where disk space comes from: the agent's work dir (PATH),
// a dedicated mount (MOUNT), or a block/raw device from a resource provider.
type DiskSource struct {
	Type     DiskSourceType `json:"type"`
	Path     *DiskRoot      `json:"path,omitempty"`
	Mount    *DiskRoot      `json:"mount,omitempty"`
	Vendor   string         `json:"vendor,omitempty"`
	ID       string         `json:"id,omitempty"`
	Metadata Labels         `json:"metadata,omitempty"`
	Profile  string         `json:"profile,omitempty"`
}

// DiskRoot is the root directory of a PATH or MOUNT disk.
type DiskRoot struct {
	Root string `json:"root,omitempty"`
}

// equalMessages compares optional sub-messages that arithmetic treats as
// opaque identity (disk info). They are small and rare, so reflection is
// fine.
func equalMessages[T any](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(a, b)
}

// Resource predicates and accessors. They read both reservation formats.

// reservations returns r's reservation stack in post-refinement form without
// allocating when r is already in that form.
func (r *Resource) reservations() []ReservationInfo {
	if len(r.Reservations) > 0 || r.Role == "" || r.Role == DefaultRole {
		return r.Reservations
	}
	return r.upgraded().Reservations
}

// upgraded returns r in post-refinement format: Role and Reservation folded
// into Reservations. r's slices are shared, never modified.
func (r Resource) upgraded() Resource {
	if len(r.Reservations) > 0 {
		r.Role, r.Reservation = "", nil
		return r
	}
	if r.Role == "" || r.Role == DefaultRole {
		r.Role, r.Reservation = "", nil
		return r
	}
	ri := ReservationInfo{Type: ReservationStatic, Role: r.Role}
	if r.Reservation != nil {
		ri.Type = ReservationDynamic
		ri.Principal = r.Reservation.Principal
		ri.Labels = r.Reservation.Labels
	}
	r.Reservations = []ReservationInfo{ri}
	r.Role, r.Reservation = "", nil
	return r
}

// IsReserved reports whether r is reserved for any role.
func (r Resource) IsReserved() bool { return len(r.reservations()) > 0 }

// IsUnreserved reports whether r belongs to no role.
func (r Resource) IsUnreserved() bool { return len(r.reservations()) == 0 }

// ReservationRole is the role r is reserved for ("" when unreserved): the
// last entry of the reservation stack.
func (r Resource) ReservationRole() string {
	rs := r.reservations()
	if len(rs) == 0 {
		return ""
	}
	return rs[len(rs)-1].Role
}

// IsDynamicallyReserved reports whether r's innermost reservation is DYNAMIC.
func (r Resource) IsDynamicallyReserved() bool {
	rs := r.reservations()
	return len(rs) > 0 && rs[len(rs)-1].Type == ReservationDynamic
}

// IsAllocatableTo reports whether r may be offered to role: it is
// unreserved, reserved for role, or reserved for one of role's ancestors
// (a reservation for "eng" serves "eng/backend", as refined reservations do
// in Mesos).
func (r Resource) IsAllocatableTo(role string) bool {
	rr := r.ReservationRole()
	return rr == "" || rr == role || IsStrictSubrole(role, rr)
}

// IsRevocable reports whether r is revocable.
func (r Resource) IsRevocable() bool { return r.Revocable != nil }

// IsShared reports whether r is shared.
func (r Resource) IsShared() bool { return r.Shared != nil }

// IsPersistentVolume reports whether r is a persistent volume.
func (r Resource) IsPersistentVolume() bool { return r.Disk != nil && r.Disk.Persistence != nil }

// IsEmpty reports whether r holds nothing: zero scalar, no ranges, no items.
func (r Resource) IsEmpty() bool {
	switch r.Type {
	case ValueScalar:
		return r.Scalar == nil || r.Scalar.IsZero()
	case ValueRanges:
		return r.Ranges.Size() == 0
	case ValueSet:
		return len(r.Set) == 0
	}
	return false
}

// Validate reports everything wrong with r as FieldErrors.
func (r Resource) Validate() error {
	var errs FieldErrors
	r.check("", &errs)
	return errs.err()
}

// valid reports whether Validate would pass. Arithmetic calls it on every
// entry, so the common shapes (no disk, no deprecated fields) are decided
// here without allocating; the rest go through check. A test keeps the two
// in agreement.
func (r *Resource) valid() bool {
	if r.Disk != nil || r.Shared != nil || r.Reservation != nil || r.Role != "" {
		var errs FieldErrors
		r.check("", &errs)
		return len(errs) == 0
	}
	if r.Name == "" {
		return false
	}
	switch r.Type {
	case ValueScalar:
		if r.Scalar == nil || r.Ranges != nil || r.Set != nil || !r.Scalar.IsFinite() || r.Scalar.Sign() < 0 {
			return false
		}
	case ValueRanges:
		if r.Scalar != nil || r.Set != nil || !r.Ranges.disjoint() {
			return false
		}
	case ValueSet:
		if r.Scalar != nil || r.Ranges != nil || r.Set.hasDuplicates() {
			return false
		}
	default:
		return false
	}
	for i, res := range r.Reservations {
		switch {
		case res.Type != ReservationStatic && res.Type != ReservationDynamic,
			i > 0 && res.Type == ReservationStatic,
			res.Role == "" || res.Role == DefaultRole,
			ValidateRole(res.Role) != nil,
			i > 0 && !IsStrictSubrole(res.Role, r.Reservations[i-1].Role):
			return false
		}
	}
	return true
}

// check applies Mesos' Resources::validate: a name; a known type other than
// TEXT with exactly its value set; finite non-negative scalars; ordered,
// non-overlapping ranges; no duplicate set items; well-formed reservations
// in either format (roles valid, refinements each a strict subrole of the
// one before, never "*"); disk info only on "disk"; shared only for
// persistent volumes.
func (r Resource) check(path string, errs *FieldErrors) {
	at := func(field string) string { return joinPath(path, field) }
	if r.Name == "" {
		errs.add(at("name"), "resource name is empty")
	}
	switch {
	case r.Type == "":
		errs.add(at("type"), "required field is missing")
	case !r.Type.IsKnown():
		errs.add(at("type"), "unknown value %q", r.Type)
	case r.Type == ValueText:
		errs.add(at("type"), "TEXT is not a resource type")
	}
	if r.Type.IsKnown() {
		if r.Type != ValueScalar && r.Scalar != nil {
			errs.add(at("scalar"), "set on a %s resource", r.Type)
		}
		if r.Type != ValueRanges && r.Ranges != nil {
			errs.add(at("ranges"), "set on a %s resource", r.Type)
		}
		if r.Type != ValueSet && r.Set != nil {
			errs.add(at("set"), "set on a %s resource", r.Type)
		}
	}
	switch r.Type {
	case ValueScalar:
		switch s := r.Scalar; {
		case s == nil:
			errs.add(at("scalar"), "SCALAR resource has no scalar")
		case s.IsNaN():
			errs.add(at("scalar.value"), "NaN is not a quantity")
		case s.IsInf(0):
			errs.add(at("scalar.value"), "%s is not a quantity", s)
		case s.Sign() < 0:
			errs.add(at("scalar.value"), "negative value %s", s)
		}
	case ValueRanges:
		r.Ranges.checkRanges(at("ranges"), errs)
	case ValueSet:
		r.Set.checkItems(at("set"), errs)
	}
	r.checkReservations(path, errs)
	if d := r.Disk; d != nil {
		if r.Name != "disk" {
			errs.add(at("disk"), "disk info set on a %q resource", r.Name)
		}
		if src := d.Source; src != nil {
			switch {
			case src.Type == "" || src.Type == DiskSourceUnknown:
				errs.add(at("disk.source.type"), "disk source type is missing")
			case !src.Type.IsKnown():
				errs.add(at("disk.source.type"), "unknown value %q", src.Type)
			case (src.Type == DiskSourceBlock || src.Type == DiskSourceRaw) && src.Mount != nil:
				errs.add(at("disk.source.mount"), "mount set on a %s disk source", src.Type)
			case (src.Type == DiskSourceBlock || src.Type == DiskSourceRaw) && src.Path != nil:
				errs.add(at("disk.source.path"), "path set on a %s disk source", src.Type)
			}
		}
		if d.Volume != nil {
			validateInto(d.Volume, at("disk.volume"), errs)
		}
	}
	if r.Shared != nil {
		if r.Name != "disk" {
			errs.add(at("shared"), "%q resources cannot be shared", r.Name)
		} else if !r.IsPersistentVolume() {
			errs.add(at("shared"), "only persistent volumes can be shared")
		}
	}
}

func (r Resource) checkReservations(path string, errs *FieldErrors) {
	at := func(field string) string { return joinPath(path, field) }
	if len(r.Reservations) == 0 {
		if r.Role != "" {
			if err := ValidateRole(r.Role); err != nil {
				errs.add(at("role"), "%v", err)
			}
		}
		if res := r.Reservation; res != nil {
			if res.Type != "" {
				errs.add(at("reservation.type"), "must not be set in the deprecated reservation field")
			}
			if res.Role != "" {
				errs.add(at("reservation.role"), "must not be set in the deprecated reservation field")
			}
			if r.Role == "" || r.Role == DefaultRole {
				errs.add(at("reservation"), `role "*" cannot be dynamically reserved`)
			}
		}
		return
	}
	for i, res := range r.Reservations {
		p := indexPath(at("reservations"), i)
		switch {
		case res.Type == "":
			errs.add(joinPath(p, "type"), "required field is missing")
		case !res.Type.IsKnown():
			errs.add(joinPath(p, "type"), "unknown value %q", res.Type)
		case res.Type == ReservationUnknown:
			errs.add(joinPath(p, "type"), "must be STATIC or DYNAMIC")
		case i > 0 && res.Type == ReservationStatic:
			errs.add(joinPath(p, "type"), "a refined reservation cannot be STATIC")
		}
		switch {
		case res.Role == "":
			errs.add(joinPath(p, "role"), "required field is missing")
		case res.Role == DefaultRole:
			errs.add(joinPath(p, "role"), `role "*" cannot be reserved`)
		default:
			if err := ValidateRole(res.Role); err != nil {
				errs.add(joinPath(p, "role"), "%v", err)
			} else if i > 0 && !IsStrictSubrole(res.Role, r.Reservations[i-1].Role) {
				errs.add(joinPath(p, "role"), "%q is not a refinement of %q", res.Role, r.Reservations[i-1].Role)
			}
		}
	}
	if len(r.Reservations) > 1 {
		if r.Role != "" {
			errs.add(at("role"), "must not be set with more than one reservation")
		}
		if r.Reservation != nil {
			errs.add(at("reservation"), "must not be set with more than one reservation")
		}
		return
	}
	// One reservation: the deprecated fields may ride along (the "endpoint"
	// format) but must agree with it.
	res := r.Reservations[0]
	if r.Role != "" && r.Role != res.Role {
		errs.add(at("role"), "%q does not match reservation role %q", r.Role, res.Role)
	}
	switch res.Type {
	case ReservationStatic:
		if r.Reservation != nil {
			errs.add(at("reservation"), "must not be set for a STATIC reservation")
		}
	case ReservationDynamic:
		if (r.Role != "") != (r.Reservation != nil) {
			errs.add(at("reservation"), "role and reservation must be both set or both unset for a DYNAMIC reservation")
		} else if r.Reservation != nil && (r.Reservation.Principal != res.Principal || !r.Reservation.Labels.Equal(res.Labels)) {
			errs.add(at("reservation"), "does not match reservations[0]")
		}
	}
}

// Clone returns a deep copy of r.
func (r Resource) Clone() Resource {
	if r.Scalar != nil {
		s := *r.Scalar
		r.Scalar = &s
	}
	r.Ranges = slices.Clone(r.Ranges)
	r.Set = slices.Clone(r.Set)
	if r.AllocationInfo != nil {
		a := *r.AllocationInfo
		r.AllocationInfo = &a
	}
	if r.Reservation != nil {
		res := *r.Reservation
		res.Labels = slices.Clone(res.Labels)
		r.Reservation = &res
	}
	if r.Reservations != nil {
		rs := make([]ReservationInfo, len(r.Reservations))
		for i, res := range r.Reservations {
			res.Labels = slices.Clone(res.Labels)
			rs[i] = res
		}
		r.Reservations = rs
	}
	if r.Disk != nil {
		d := cloneDisk(*r.Disk)
		r.Disk = &d
	}
	if r.Revocable != nil {
		r.Revocable = &RevocableInfo{}
	}
	if r.Shared != nil {
		r.Shared = &SharedInfo{}
	}
	return r
}

func cloneDisk(d DiskInfo) DiskInfo {
	if d.Persistence != nil {
		p := *d.Persistence
		d.Persistence = &p
	}
	if d.Source != nil {
		s := *d.Source
		if s.Path != nil {
			p := *s.Path
			s.Path = &p
		}
		if s.Mount != nil {
			m := *s.Mount
			s.Mount = &m
		}
		s.Metadata = slices.Clone(s.Metadata)
		d.Source = &s
	}
	if d.Volume != nil {
		v := d.Volume.clone()
		d.Volume = &v
	}
	return d
}

// String prints r in flag syntax: name, the reservation role in parentheses
// when reserved, then ":" and the value ("cpus(eng/backend):2"). Properties
// the flag syntax cannot express are marked Mesos-style and do not parse
// back: "(allocated: role)", "[volume id]", "{REV}" for revocable and
// "<SHARED>". Whether a reservation is static or dynamic is not shown.
func (r Resource) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if role := r.ReservationRole(); role != "" {
		b.WriteString("(" + role + ")")
	}
	if r.AllocationInfo != nil {
		b.WriteString("(allocated: " + r.AllocationInfo.Role + ")")
	}
	if r.Disk != nil && r.Disk.Persistence != nil {
		b.WriteString("[" + r.Disk.Persistence.ID + "]")
	}
	if r.Revocable != nil {
		b.WriteString("{REV}")
	}
	if r.Shared != nil {
		b.WriteString("<SHARED>")
	}
	b.WriteByte(':')
	switch r.Type {
	case ValueScalar:
		if r.Scalar != nil {
			b.WriteString(r.Scalar.String())
		}
	case ValueRanges:
		b.WriteString(r.Ranges.String())
	case ValueSet:
		b.WriteString(r.Set.String())
	}
	return b.String()
}

// ScalarResource builds an unreserved scalar resource: ScalarResource("cpus", 2).
func ScalarResource(name string, v float64) Resource {
	s := ScalarOf(v)
	return Resource{Name: name, Type: ValueScalar, Scalar: &s}
}

// RangesResource builds an unreserved ranges resource.
func RangesResource(name string, rs ...Range) Resource {
	return Resource{Name: name, Type: ValueRanges, Ranges: Ranges(rs).Normalize()}
}

// SetResource builds an unreserved set resource.
func SetResource(name string, items ...string) Resource {
	return Resource{Name: name, Type: ValueSet, Set: Set(items)}
}

// Reserve returns r statically reserved for role (post-refinement format).
func (r Resource) Reserve(role string) Resource {
	r = r.upgraded()
	stack := make([]ReservationInfo, 0, len(r.Reservations)+1)
	r.Reservations = append(append(stack, r.Reservations...), ReservationInfo{Type: ReservationStatic, Role: role})
	return r
}
