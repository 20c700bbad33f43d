package mesos

import (
	"maps"
	"slices"
)

// QuotaConfig is a role's quota (QUOTA_V2): Guarantees the allocator keeps
// reachable for the role, Limits it never exceeds. Consumption counts both
// what is allocated to the role's subtree and what is reserved for it.
type QuotaConfig struct {
	Role       string            `json:"role"`
	Guarantees map[string]Scalar `json:"guarantees,omitempty"`
	Limits     map[string]Scalar `json:"limits,omitempty"`
}

// check requires a valid role other than "*" and finite, non-negative
// quantities; a guarantee above its limit is a contradiction.
func (q QuotaConfig) check(path string, errs *FieldErrors) {
	switch err := ValidateRole(q.Role); {
	case q.Role == "":
		errs.add(joinPath(path, "role"), "required field is missing")
	case err != nil:
		errs.add(joinPath(path, "role"), "%v", err)
	case q.Role == DefaultRole:
		errs.add(joinPath(path, "role"), `quota cannot be set for role "*"`)
	}
	for _, part := range []struct {
		field string
		m     map[string]Scalar
	}{{"guarantees", q.Guarantees}, {"limits", q.Limits}} {
		for _, name := range sortedKeys(part.m) {
			s := part.m[name]
			p := joinPath(path, part.field) + "[" + quoteKey(name) + "]"
			switch {
			case name == "":
				errs.add(p, "resource name is empty")
			case !s.IsFinite():
				errs.add(joinPath(p, "value"), "%s is not a quantity", s)
			case s.Sign() < 0:
				errs.add(joinPath(p, "value"), "negative value %s", s)
			}
		}
	}
	for _, name := range sortedKeys(q.Guarantees) {
		g := q.Guarantees[name]
		if l, ok := q.Limits[name]; ok && g.IsFinite() && l.IsFinite() && g.Cmp(l) > 0 {
			errs.add(joinPath(path, "guarantees")+"["+quoteKey(name)+"]",
				"guarantee %s is above limit %s", g, l)
		}
	}
}

// QuotaInfo is the deprecated quota form (guarantees only, as resources).
type QuotaInfo struct {
	Role      string    `json:"role,omitempty"`
	Principal string    `json:"principal,omitempty"`
	Guarantee Resources `json:"guarantee,omitempty"`
}

// QuotaStatus is GET_QUOTA's answer: Configs for every role with quota.
type QuotaStatus struct {
	Infos   []QuotaInfo   `json:"infos,omitempty"` // deprecated
	Configs []QuotaConfig `json:"configs,omitempty"`
}

// sortedKeys returns m's keys in order, so errors come out deterministically.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
