package app

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Constraint is one placement constraint as Marathon's app JSON writes it:
// [field, operator] or [field, operator, value], e.g. ["hostname",
// "UNIQUE"], ["rack_id", "GROUP_BY", "3"], ["rack_id", "LIKE", "rack-[1-3]"].
// It is kept as the strings the user sent so that it round-trips and a
// malformed one can be reported at its index; Parse gives the typed Rule.
type Constraint []string

// Operator is a constraint operator.
type Operator string

// Marathon's constraint operators.
const (
	Unique  Operator = "UNIQUE"
	Cluster Operator = "CLUSTER"
	GroupBy Operator = "GROUP_BY"
	Like    Operator = "LIKE"
	Unlike  Operator = "UNLIKE"
	MaxPer  Operator = "MAX_PER"
	Is      Operator = "IS"
)

var operators = map[Operator]bool{Unique: true, Cluster: true, GroupBy: true, Like: true, Unlike: true, MaxPer: true, Is: true}

// Field names with a special meaning. "hostname" and "@hostname" read the
// offer's hostname, "@region" and "@zone" its fault domain; every other
// name reads the agent attribute of that name.
const (
	FieldHostname   = "hostname"
	FieldAtHostname = "@hostname"
	FieldRegion     = "@region"
	FieldZone       = "@zone"
)

// Marathon's constraint messages (SchedulingValidationMessages).
const (
	msgConstraintFields      = "Each constraint must have either 2 or 3 fields"
	msgConstraintMissing     = "Missing field and operator"
	msgConstraintRequires    = "missing field for constraint declaration"
	msgConstraintIllegal     = "illegal constraint specification"
	msgConstraintOperator    = "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS"
	msgUniqueNoValue         = "UNIQUE does not accept a value"
	msgGroupByInt            = "GROUP BY must define an integer value or else no value at all"
	msgMaxPerInt             = "MAX_PER requires an integer value"
	msgLikeRegexp            = "LIKE and UNLIKE require a non-empty, regular expression value"
	msgInvalidRegexp         = "is not a valid regular expression"
	msgIsOnlySupportsText    = "IS only supports Mesos text and float values (see http://mesos.apache.org/documentation/latest/attributes-resources/)"
	isLiteralOrFloatPatternS = `^[a-zA-Z0-9_/.-]*$`
)

var isLiteralOrFloat = regexp.MustCompile(isLiteralOrFloatPatternS)

// Rule is a parsed, valid constraint.
type Rule struct {
	Field    string
	Operator Operator
	// Value is the third element; HasValue tells "" from absent.
	Value    string
	HasValue bool
	// Count is the integer value of GROUP_BY (0 when absent) and MAX_PER.
	Count int
	re    *regexp.Regexp
}

// Matches reports whether value fully matches a LIKE/UNLIKE rule's
// regular expression (Java's Pattern.matches semantics).
func (r Rule) Matches(value string) bool { return r.re != nil && r.re.MatchString(value) }

// String prints the rule in its JSON form.
func (r Rule) String() string {
	if r.HasValue {
		return fmt.Sprintf("[%q, %q, %q]", r.Field, r.Operator, r.Value)
	}
	return fmt.Sprintf("[%q, %q]", r.Field, r.Operator)
}

// Parse checks the constraint as Marathon's complyWithAppConstraintRules
// does and returns its typed form; the error's text is Marathon's message.
func (c Constraint) Parse() (Rule, error) {
	if len(c) < 2 || len(c) > 3 {
		if len(c) == 0 {
			return Rule{}, fmt.Errorf("%s", msgConstraintMissing)
		}
		return Rule{}, fmt.Errorf("%s", msgConstraintFields)
	}
	field, op := c[0], Operator(strings.ToUpper(c[1]))
	if field == "" {
		return Rule{}, fmt.Errorf("%s", msgConstraintIllegal)
	}
	if !operators[op] {
		return Rule{}, fmt.Errorf("%s", msgConstraintOperator)
	}
	r := Rule{Field: field, Operator: op}
	if len(c) == 3 {
		r.Value, r.HasValue = c[2], true
	}
	switch op {
	case Unique:
		if r.HasValue {
			return Rule{}, fmt.Errorf("%s", msgUniqueNoValue)
		}
	case GroupBy:
		if r.HasValue {
			n, err := strconv.Atoi(r.Value)
			if err != nil {
				return Rule{}, fmt.Errorf("%s", msgGroupByInt)
			}
			r.Count = n
		}
	case MaxPer:
		n, err := strconv.Atoi(r.Value)
		if !r.HasValue || err != nil {
			return Rule{}, fmt.Errorf("%s", msgMaxPerInt)
		}
		r.Count = n
	case Like, Unlike:
		if !r.HasValue {
			return Rule{}, fmt.Errorf("%s", msgLikeRegexp)
		}
		re, err := regexp.Compile(`^(?:` + r.Value + `)$`)
		if err != nil {
			return Rule{}, fmt.Errorf("%s", msgInvalidRegexp)
		}
		r.re = re
	case Is:
		if !isLiteralOrFloat.MatchString(r.Value) {
			return Rule{}, fmt.Errorf("%s", msgIsOnlySupportsText)
		}
	}
	return r, nil
}

// Rules parses all of the app's constraints; an invalid one is an error
// naming its index (validated apps never have one).
func (a *App) Rules() ([]Rule, error) {
	out := make([]Rule, 0, len(a.Constraints))
	for i, c := range a.Constraints {
		r, err := c.Parse()
		if err != nil {
			return nil, fmt.Errorf("constraints(%d) %v: %w", i, []string(c), err)
		}
		out = append(out, r)
	}
	return out, nil
}
