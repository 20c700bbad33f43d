package mesos

import (
	"encoding/json"
	"slices"
	"strings"
)

// ValueType is Value.Type: which of scalar, ranges, set or text a resource
// or attribute carries.
type ValueType string

const (
	ValueScalar ValueType = "SCALAR"
	ValueRanges ValueType = "RANGES"
	ValueSet    ValueType = "SET"
	ValueText   ValueType = "TEXT"
)

var valueTypes = enumSet(ValueScalar, ValueRanges, ValueSet, ValueText)

// IsKnown reports whether t is one of Mesos' names.
func (t ValueType) IsKnown() bool { _, ok := valueTypes[t]; return ok }

// Set is Value.Set, a set of strings; in JSON {"item": ["a", "b"]}. Order is
// kept as given but ignored by comparisons.
type Set []string

func (Set) wrappedKey() string { return "item" }

// MarshalJSON writes {"item": [...]}.
func (s Set) MarshalJSON() ([]byte, error) {
	items := []string(s)
	if items == nil {
		items = []string{}
	}
	return json.Marshal(struct {
		Item []string `json:"item"`
	}{items})
}

// UnmarshalJSON reads {"item": [...]}; null is empty.
func (s *Set) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*s = nil
		return nil
	}
	var w struct {
		Item []string `json:"item"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*s = w.Item
	return nil
}

// Add returns the union of s and o: s's items in order, then o's new ones.
func (s Set) Add(o Set) Set {
	out := make(Set, 0, len(s)+len(o))
	seen := make(map[string]struct{}, len(s)+len(o))
	for _, list := range [2]Set{s, o} {
		for _, it := range list {
			if _, dup := seen[it]; !dup {
				seen[it] = struct{}{}
				out = append(out, it)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Subtract returns the items of s not in o.
func (s Set) Subtract(o Set) Set {
	drop := make(map[string]struct{}, len(o))
	for _, it := range o {
		drop[it] = struct{}{}
	}
	var out Set
	for _, it := range s {
		if _, gone := drop[it]; !gone {
			out = append(out, it)
		}
	}
	return out
}

// Contains reports whether every item of o is in s.
func (s Set) Contains(o Set) bool {
	have := make(map[string]struct{}, len(s))
	for _, it := range s {
		have[it] = struct{}{}
	}
	for _, it := range o {
		if _, ok := have[it]; !ok {
			return false
		}
	}
	return true
}

// Equal reports whether s and o hold the same items, in any order.
func (s Set) Equal(o Set) bool {
	return s.Contains(o) && o.Contains(s)
}

// String prints the flag syntax: {a,b}.
func (s Set) String() string {
	return "{" + strings.Join(s, ",") + "}"
}

// hasDuplicates reports whether an item appears twice.
func (s Set) hasDuplicates() bool {
	if len(s) > 16 {
		seen := make(map[string]struct{}, len(s))
		for _, it := range s {
			if _, dup := seen[it]; dup {
				return true
			}
			seen[it] = struct{}{}
		}
		return false
	}
	for i, it := range s {
		if slices.Contains(s[i+1:], it) {
			return true
		}
	}
	return false
}

// checkItems reports duplicated items; path names the Set message.
func (s Set) checkItems(path string, errs *FieldErrors) {
	seen := make(map[string]int, len(s))
	base := joinPath(path, "item")
	for i, it := range s {
		if j, dup := seen[it]; dup {
			errs.add(indexPath(base, i), "item %q duplicates item %d", it, j)
			continue
		}
		seen[it] = i
	}
}

// Text is Value.Text, {"value": "..."}.
type Text struct {
	Value string `json:"value"`
}

// Value is Mesos' Value union: exactly the field named by Type is set.
type Value struct {
	Type   ValueType `json:"type" mesos:"required"`
	Scalar *Scalar   `json:"scalar,omitempty"`
	Ranges Ranges    `json:"ranges,omitempty"`
	Set    Set       `json:"set,omitempty"`
	Text   *Text     `json:"text,omitempty"`
}

// String prints the value in flag syntax.
func (v Value) String() string {
	switch v.Type {
	case ValueScalar:
		if v.Scalar != nil {
			return v.Scalar.String()
		}
	case ValueRanges:
		return v.Ranges.String()
	case ValueSet:
		return v.Set.String()
	case ValueText:
		if v.Text != nil {
			return v.Text.Value
		}
	}
	return ""
}

// Attribute describes a property of an agent ("rack:r1", "level:2") that
// frameworks match against; attributes are never consumed.
type Attribute struct {
	Name   string    `json:"name"`
	Type   ValueType `json:"type"`
	Scalar *Scalar   `json:"scalar,omitempty"`
	Ranges Ranges    `json:"ranges,omitempty"`
	Set    Set       `json:"set,omitempty"`
	Text   *Text     `json:"text,omitempty"`
}

// Value returns the attribute's value as a Value.
func (a Attribute) Value() Value {
	return Value{Type: a.Type, Scalar: a.Scalar, Ranges: a.Ranges, Set: a.Set, Text: a.Text}
}

// String prints the attribute in flag syntax: rack:r1.
func (a Attribute) String() string {
	return a.Name + ":" + a.Value().String()
}

// Equal reports whether a and o have the same name, type and value.
func (a Attribute) Equal(o Attribute) bool {
	if a.Name != o.Name || a.Type != o.Type {
		return false
	}
	switch a.Type {
	case ValueScalar:
		return a.Scalar != nil && o.Scalar != nil && a.Scalar.Cmp(*o.Scalar) == 0
	case ValueRanges:
		return a.Ranges.Equal(o.Ranges)
	case ValueSet:
		return a.Set.Equal(o.Set)
	case ValueText:
		return a.Text != nil && o.Text != nil && a.Text.Value == o.Text.Value
	}
	return false
}

// check applies Mesos' Attributes::isValid: a name, and the value matching
// the type. SET attributes are accepted on the wire (Mesos' JSON allows
// them) though the flag syntax cannot produce them.
func (a Attribute) check(path string, errs *FieldErrors) {
	if a.Name == "" {
		errs.add(joinPath(path, "name"), "attribute name is empty")
	}
	switch {
	case a.Type == "":
		errs.add(joinPath(path, "type"), "required field is missing")
	case !a.Type.IsKnown():
		errs.add(joinPath(path, "type"), "unknown value %q", a.Type)
	}
	switch a.Type {
	case ValueScalar:
		if a.Scalar == nil {
			errs.add(joinPath(path, "scalar"), "SCALAR attribute has no scalar")
		} else if !a.Scalar.IsFinite() {
			errs.add(joinPath(path, "scalar.value"), "%s is not a finite number", a.Scalar)
		}
	case ValueText:
		if a.Text == nil {
			errs.add(joinPath(path, "text"), "TEXT attribute has no text")
		}
	}
}

// Attributes is a list of attributes, printed in flag syntax
// ("rack:r1;level:2").
type Attributes []Attribute

// String prints the attributes in flag syntax.
func (as Attributes) String() string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ";")
}

// Get returns the first attribute with the given name.
func (as Attributes) Get(name string) (Attribute, bool) {
	i := slices.IndexFunc(as, func(a Attribute) bool { return a.Name == name })
	if i < 0 {
		return Attribute{}, false
	}
	return as[i], true
}

// Equal reports whether as and o hold the same attributes in any order.
func (as Attributes) Equal(o Attributes) bool {
	if len(as) != len(o) {
		return false
	}
	used := make([]bool, len(o))
	for _, a := range as {
		found := false
		for j, b := range o {
			if !used[j] && a.Equal(b) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
