package mesos

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseResources reads resources the way the agent's --resources flag does
// in Mesos: either a JSON array of Resource objects, or the text syntax
//
//	cpus:4;mem:2048;ports:[31000-32000,33000-33100];cpus(ads):2;disks:{a,b}
//
// where "name(role)" statically reserves for role ("*" means unreserved)
// and entries without a role get defaultRole ("" or "*" for unreserved).
// Values are scalars (4, 0.5), ranges ([a-b,c-d]) or sets ({x,y}); spaces
// are ignored. The result is validated, in post-refinement format and
// merged ("cpus:1;cpus:2" is cpus:3). Like Mesos' command line, it rejects
// dynamic reservations, persistent volumes, revocable resources and one
// name used with two types.
func ParseResources(text, defaultRole string) (Resources, error) {
	if defaultRole == "" {
		defaultRole = DefaultRole
	}
	if err := ValidateRole(defaultRole); err != nil {
		return nil, fmt.Errorf("default role: %w", err)
	}
	var list Resources
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "[") && json.Valid([]byte(t)) {
		if err := DecodeJSON([]byte(t), &list); err != nil {
			return nil, fmt.Errorf("resources JSON: %w", err)
		}
		for i := range list {
			if list[i].Role == "" && len(list[i].Reservations) == 0 {
				list[i].Role = defaultRole
			}
		}
	} else {
		var err error
		if list, err = parseResourceText(text, defaultRole); err != nil {
			return nil, err
		}
	}
	types := make(map[string]ValueType)
	for i, r := range list {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("resource %d (%s): %w", i, r.Name, err)
		}
		switch {
		case r.IsPersistentVolume():
			return nil, fmt.Errorf("resource %d (%s): persistent volumes cannot be given on the command line", i, r.Name)
		case r.IsRevocable():
			return nil, fmt.Errorf("resource %d (%s): revocable resources cannot be given on the command line", i, r.Name)
		case r.IsDynamicallyReserved():
			return nil, fmt.Errorf("resource %d (%s): dynamic reservations cannot be given on the command line", i, r.Name)
		}
		if t, seen := types[r.Name]; seen && t != r.Type {
			return nil, fmt.Errorf("resource %q is given as both %s and %s", r.Name, t, r.Type)
		}
		types[r.Name] = r.Type
	}
	return list.Normalize(), nil
}

// MustParseResources is ParseResources for literals in tests and defaults;
// it panics on error.
func MustParseResources(text string) Resources {
	rs, err := ParseResources(text, "")
	if err != nil {
		panic(err)
	}
	return rs
}

// parseResourceText reads the "name(role):value;..." syntax.
func parseResourceText(text, defaultRole string) (Resources, error) {
	var out Resources
	for _, token := range strings.Split(text, ";") {
		if strings.TrimSpace(token) == "" {
			continue
		}
		key, value, ok := strings.Cut(token, ":")
		if !ok || strings.Contains(value, ":") {
			return nil, fmt.Errorf("bad resource %q: want name:value with exactly one ':'", token)
		}
		name, role := strings.TrimSpace(key), defaultRole
		if open := strings.IndexByte(key, '('); open >= 0 {
			end := strings.IndexByte(key, ')')
			if end < open || strings.TrimSpace(key[end+1:]) != "" {
				return nil, fmt.Errorf("bad resource %q: mismatched parentheses", token)
			}
			name = strings.TrimSpace(key[:open])
			role = strings.TrimSpace(key[open+1 : end])
		}
		if name == "" {
			return nil, fmt.Errorf("bad resource %q: empty name", token)
		}
		if i := strings.IndexAny(name, "(){}[]<>,;:= \t"); i >= 0 {
			return nil, fmt.Errorf("bad resource %q: name %q contains %q", token, name, name[i])
		}
		v, err := ParseValue(value)
		if err != nil {
			return nil, fmt.Errorf("bad resource %q: %w", token, err)
		}
		r := Resource{Name: name, Type: v.Type, Scalar: v.Scalar, Ranges: v.Ranges, Set: v.Set}
		if v.Type == ValueText {
			return nil, fmt.Errorf("bad resource %q: %q is not a number, [ranges] or {set}", token, strings.TrimSpace(value))
		}
		if role != DefaultRole {
			if err := ValidateRole(role); err != nil {
				return nil, fmt.Errorf("bad resource %q: %w", token, err)
			}
			r.Reservations = []ReservationInfo{{Type: ReservationStatic, Role: role}}
		}
		out = append(out, r)
	}
	return out, nil
}

// ParseValue reads one value of the flag syntax: "[1-2,5-9]" is RANGES,
// "{a,b}" is SET, a non-negative finite number is SCALAR, anything else is
// TEXT. Spaces are removed first, as Mesos does.
func ParseValue(text string) (Value, error) {
	t := strings.ReplaceAll(text, " ", "")
	if t == "" {
		return Value{}, fmt.Errorf("empty value")
	}
	if !bracketsBalanced(t) {
		return Value{}, fmt.Errorf("mismatched brackets in %q", t)
	}
	switch {
	case strings.HasPrefix(t, "["):
		if !strings.HasSuffix(t, "]") {
			return Value{}, fmt.Errorf("ranges %q must end with ']'", t)
		}
		var rs Ranges
		for _, part := range strings.Split(t[1:len(t)-1], ",") {
			if part == "" {
				continue
			}
			lo, hi, ok := strings.Cut(part, "-")
			if !ok {
				return Value{}, fmt.Errorf("range %q must be begin-end", part)
			}
			b, err1 := strconv.ParseUint(lo, 10, 64)
			e, err2 := strconv.ParseUint(hi, 10, 64)
			if err1 != nil || err2 != nil {
				return Value{}, fmt.Errorf("range %q: want non-negative integers", part)
			}
			if b > e {
				return Value{}, fmt.Errorf("range %q: begin is greater than end", part)
			}
			rs = append(rs, Range{Begin: b, End: e})
		}
		if len(rs) == 0 {
			return Value{}, fmt.Errorf("ranges %q are empty", t)
		}
		return Value{Type: ValueRanges, Ranges: rs.Normalize()}, nil
	case strings.Contains(t, "["):
		return Value{}, fmt.Errorf("unexpected '[' in %q", t)
	case strings.HasPrefix(t, "{"):
		if !strings.HasSuffix(t, "}") {
			return Value{}, fmt.Errorf("set %q must end with '}'", t)
		}
		var items Set
		for _, it := range strings.Split(t[1:len(t)-1], ",") {
			if it != "" {
				items = append(items, it)
			}
		}
		return Value{Type: ValueSet, Set: items}, nil
	case strings.Contains(t, "{"):
		return Value{}, fmt.Errorf("unexpected '{' in %q", t)
	}
	if f, err := strconv.ParseFloat(t, 64); (err == nil || isRangeErr(err)) && looksNumeric(t) {
		switch {
		case math.IsInf(f, 0) || math.IsNaN(f):
			return Value{}, fmt.Errorf("%q is not a finite number", t)
		case f < 0:
			return Value{}, fmt.Errorf("negative value %q", t)
		case f != 0 && math.Abs(f) < 2.2250738585072014e-308:
			return Value{}, fmt.Errorf("subnormal value %q", t)
		}
		s := ScalarOf(f)
		return Value{Type: ValueScalar, Scalar: &s}, nil
	}
	return Value{Type: ValueText, Text: &Text{Value: t}}, nil
}

// looksNumeric rejects the spellings strconv accepts but Mesos' numify does
// not treat as numbers ("inf", "nan", hex floats, underscores), so they
// become TEXT as they would there.
func looksNumeric(t string) bool {
	for _, c := range t {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

func bracketsBalanced(s string) bool {
	depth := map[byte]int{}
	pairs := map[byte]byte{']': '[', '}': '{', ')': '('}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '[', '{', '(':
			depth[c]++
		case ']', '}', ')':
			if depth[pairs[c]] == 0 {
				return false
			}
			depth[pairs[c]]--
		}
	}
	return depth['['] == 0 && depth['{'] == 0 && depth['('] == 0
}

// ParseAttributes reads the agent's --attributes flag: "rack:r1;zone:a;level:2".
// Each value is typed as ParseValue types it: numbers are SCALAR, [a-b] is
// RANGES, anything else TEXT (text may contain ':'). Sets are not attributes.
func ParseAttributes(text string) (Attributes, error) {
	var out Attributes
	for _, token := range strings.FieldsFunc(text, func(r rune) bool { return r == ';' || r == '\n' }) {
		if strings.TrimSpace(token) == "" {
			continue
		}
		name, value, ok := strings.Cut(token, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.TrimSpace(value) == "" {
			return nil, fmt.Errorf("bad attribute %q: want name:value", token)
		}
		v, err := ParseValue(value)
		if err != nil {
			return nil, fmt.Errorf("bad attribute %q: %w", token, err)
		}
		if v.Type == ValueSet {
			return nil, fmt.Errorf("bad attribute %q: sets are not supported for attributes", token)
		}
		out = append(out, Attribute{Name: name, Type: v.Type, Scalar: v.Scalar, Ranges: v.Ranges, Text: v.Text})
	}
	return out, nil
}
