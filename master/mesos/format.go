package mesos

import (
	"fmt"
	"reflect"
	"sync"
)

// ResourceFormat is how a resource's reservations are written, following
// Mesos' resources_utils:
//
//   - PostRefinement (the canonical form, and what arithmetic returns):
//     only the Reservations stack; unreserved resources carry no role.
//   - PreRefinement: for frameworks without the RESERVATION_REFINEMENT
//     capability. Role is set ("*" when unreserved) and, for a dynamic
//     reservation, Reservation carries principal and labels; Reservations is
//     cleared. Refined (multi-level) reservations cannot be expressed.
//   - Endpoint: for the operator API and /state. Role and Reservation as in
//     PreRefinement, and Reservations kept too ("role": "*" appears on
//     unreserved resources, as in Mesos' documented examples).
type ResourceFormat int

const (
	PostRefinement ResourceFormat = iota
	PreRefinement
	EndpointFormat
)

func (f ResourceFormat) String() string {
	switch f {
	case PostRefinement:
		return "post-reservation-refinement"
	case PreRefinement:
		return "pre-reservation-refinement"
	case EndpointFormat:
		return "endpoint"
	}
	return fmt.Sprintf("ResourceFormat(%d)", int(f))
}

// Format returns r written in format f. It fails only for PreRefinement of
// a refined reservation.
func (r Resource) Format(f ResourceFormat) (Resource, error) {
	r = r.upgraded()
	if f == PostRefinement {
		return r, nil
	}
	switch len(r.Reservations) {
	case 0:
		r.Role = DefaultRole
	case 1:
		res := r.Reservations[0]
		r.Role = res.Role
		if res.Type == ReservationDynamic {
			r.Reservation = &ReservationInfo{Principal: res.Principal, Labels: res.Labels}
		}
		if f == PreRefinement {
			r.Reservations = nil
		}
	default:
		if f == PreRefinement {
			return r, fmt.Errorf("resource %s has refined reservations, which need the RESERVATION_REFINEMENT capability", r)
		}
	}
	return r, nil
}

// Format returns rs written in format f (entries are not merged).
func (rs Resources) Format(f ResourceFormat) (Resources, error) {
	if rs == nil {
		return nil, nil
	}
	out := make(Resources, len(rs))
	for i, r := range rs {
		var err error
		if out[i], err = r.Format(f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ConvertResources rewrites, in format f, every resource reachable from msg
// (a non-nil pointer to any message of this package): offers in an event,
// task resources in a call, totals in GET_STATE. The master uses it to
// upgrade what frameworks send (PostRefinement) and to downgrade what it
// sends to frameworks without RESERVATION_REFINEMENT (PreRefinement).
//
// Only *msg itself is written: every pointer, slice and map on the way to a
// resource is copied before it is changed, so structures msg shares with
// the caller's state are never modified. On error msg may be partly
// converted.
func ConvertResources(msg any, f ResourceFormat) error {
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("ConvertResources needs a non-nil pointer, got %T", msg)
	}
	return convertIn(v.Elem(), f)
}

var (
	resourceType = reflect.TypeFor[Resource]()
	holdsCache   sync.Map // reflect.Type -> bool
)

// holdsResources reports whether values of t can contain a Resource, so the
// conversion skips (and never copies) the rest.
func holdsResources(t reflect.Type) bool {
	if v, ok := holdsCache.Load(t); ok {
		return v.(bool)
	}
	holds := holdsResourcesUncached(t, map[reflect.Type]bool{})
	holdsCache.Store(t, holds)
	return holds
}

func holdsResourcesUncached(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if t == resourceType {
		return true
	}
	if visiting[t] {
		return false
	}
	visiting[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsResourcesUncached(t.Elem(), visiting)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() && holdsResourcesUncached(t.Field(i).Type, visiting) {
				return true
			}
		}
	}
	return false
}

// convertIn converts the settable value v in place, copying containers
// before writing into them.
func convertIn(v reflect.Value, f ResourceFormat) error {
	t := v.Type()
	if !holdsResources(t) {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		cp := reflect.New(t.Elem())
		cp.Elem().Set(v.Elem())
		if err := convertIn(cp.Elem(), f); err != nil {
			return err
		}
		v.Set(cp)
	case reflect.Struct:
		if t == resourceType {
			r, err := v.Interface().(Resource).Format(f)
			if err != nil {
				return err
			}
			v.Set(reflect.ValueOf(r))
			return nil
		}
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				if err := convertIn(v.Field(i), f); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		cp := reflect.MakeSlice(t, v.Len(), v.Len())
		reflect.Copy(cp, v)
		for i := 0; i < cp.Len(); i++ {
			if err := convertIn(cp.Index(i), f); err != nil {
				return err
			}
		}
		v.Set(cp)
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		cp := reflect.MakeMapWithSize(t, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			elem := reflect.New(t.Elem()).Elem()
			elem.Set(iter.Value())
			if err := convertIn(elem, f); err != nil {
				return err
			}
			cp.SetMapIndex(iter.Key(), elem)
		}
		v.Set(cp)
	}
	return nil
}
