package mesos

// OfferConstraints (scheduler.proto) let a framework tell the master, per
// role, which agents it wants offers from: an agent qualifies if, for any
// one group, all of that group's attribute constraints hold.
type OfferConstraints struct {
	RoleConstraints map[string]RoleConstraints `json:"role_constraints,omitempty"`
}

// RoleConstraints is a disjunction of constraint groups.
type RoleConstraints struct {
	Groups []ConstraintGroup `json:"groups,omitempty"`
}

// ConstraintGroup is a conjunction of attribute constraints.
type ConstraintGroup struct {
	AttributeConstraints []AttributeConstraint `json:"attribute_constraints,omitempty"`
}

// AttributeConstraint tests one attribute (or pseudo-attribute) of an agent.
type AttributeConstraint struct {
	Selector  *AttributeSelector  `json:"selector" mesos:"required"`
	Predicate *AttributePredicate `json:"predicate" mesos:"required"`
}

// PseudoattributeType names agent properties that are not attributes.
type PseudoattributeType string

const (
	PseudoattributeUnknown  PseudoattributeType = "UNKNOWN"
	PseudoattributeHostname PseudoattributeType = "HOSTNAME"
	PseudoattributeRegion   PseudoattributeType = "REGION"
	PseudoattributeZone     PseudoattributeType = "ZONE"
)

var pseudoattributeTypes = enumSet(PseudoattributeUnknown, PseudoattributeHostname, PseudoattributeRegion,
	PseudoattributeZone)

// IsKnown reports whether t is one of Mesos' names.
func (t PseudoattributeType) IsKnown() bool { _, ok := pseudoattributeTypes[t]; return ok }

// AttributeSelector picks what a constraint looks at; set exactly one field.
type AttributeSelector struct {
	PseudoattributeType PseudoattributeType `json:"pseudoattribute_type,omitempty"`
	AttributeName       string              `json:"attribute_name,omitempty"`
}

// AttributePredicate is what must hold; set exactly one field.
type AttributePredicate struct {
	Exists         *Empty     `json:"exists,omitempty"`
	NotExists      *Empty     `json:"not_exists,omitempty"`
	TextEquals     *TextValue `json:"text_equals,omitempty"`
	TextNotEquals  *TextValue `json:"text_not_equals,omitempty"`
	TextMatches    *TextRegex `json:"text_matches,omitempty"`
	TextNotMatches *TextRegex `json:"text_not_matches,omitempty"`
}

// Empty is a message without fields, written {}.
type Empty struct{}

// TextValue is a predicate operand.
type TextValue struct {
	Value string `json:"value"`
}

// TextRegex is a predicate's regular expression (RE2 syntax).
type TextRegex struct {
	Regex string `json:"regex"`
}
