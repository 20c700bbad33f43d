package mesos

import (
	"fmt"
	"strings"
)

// Roles are hierarchical names like "eng/backend": the slash separates a
// parent from its children. "*" is the default role that owns unreserved
// resources; it cannot be a component of a longer name.

// DefaultRole is the role of unreserved resources and of frameworks that
// name none.
const DefaultRole = "*"

// ValidateRole applies Mesos' role-name rules: "*" alone, or slash-separated
// components that are not ".", "..", "*", do not start with "-", and contain
// no whitespace or DEL; no leading, trailing or doubled slashes.
func ValidateRole(role string) error {
	if role == DefaultRole {
		return nil
	}
	if role == "" {
		return fmt.Errorf("role name is empty")
	}
	if strings.HasPrefix(role, "/") {
		return fmt.Errorf("role %q cannot start with a slash", role)
	}
	if strings.HasSuffix(role, "/") {
		return fmt.Errorf("role %q cannot end with a slash", role)
	}
	if strings.Contains(role, "//") {
		return fmt.Errorf("role %q cannot contain two adjacent slashes", role)
	}
	for rest := role; rest != ""; {
		var c string
		c, rest, _ = strings.Cut(rest, "/")
		switch {
		case c == "." || c == ".." || c == "*":
			return fmt.Errorf("role %q cannot include %q as a component", role, c)
		case strings.HasPrefix(c, "-"):
			return fmt.Errorf("role component %q cannot start with a dash", c)
		case strings.ContainsAny(c, "\t\n\v\f\r \x7f"):
			return fmt.Errorf("role component %q cannot contain whitespace or backspace", c)
		}
	}
	return nil
}

// IsStrictSubrole reports whether child lies strictly below parent in the
// hierarchy ("eng/backend" below "eng", but not "engineering").
func IsStrictSubrole(child, parent string) bool {
	return len(child) > len(parent) && child[len(parent)] == '/' && strings.HasPrefix(child, parent)
}

// IsRoleInSubtree reports whether role is root or lies below it.
func IsRoleInSubtree(role, root string) bool {
	return role == root || IsStrictSubrole(role, root)
}

// RoleAncestors returns role's ancestors, nearest first:
// "a/b/c" gives ["a/b", "a"].
func RoleAncestors(role string) []string {
	var out []string
	for i := len(role) - 1; i >= 0; i-- {
		if role[i] == '/' {
			out = append(out, role[:i])
		}
	}
	return out
}

// Role is the operator API's view of one role (GET_ROLES).
type Role struct {
	Name       string        `json:"name"`
	Weight     float64       `json:"weight"`
	Frameworks []FrameworkID `json:"frameworks,omitempty"`
	Resources  Resources     `json:"resources,omitempty"`
}

// WeightInfo is a role's weight, its relative share in DRF.
type WeightInfo struct {
	Weight float64 `json:"weight"`
	Role   string  `json:"role,omitempty"`
}
