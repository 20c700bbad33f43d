package placement

import (
	"strconv"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/master/mesos"
)

// Instance is where one of the app's instances already runs (or is being
// launched): what constraints compare new offers against.
type Instance struct {
	AgentID    string
	Hostname   string
	Region     string
	Zone       string
	Attributes mesos.Attributes
}

// InstanceFromOffer records the placement an offer gives an instance.
func InstanceFromOffer(o *mesos.Offer) Instance {
	in := Instance{AgentID: string(o.AgentID), Hostname: o.Hostname, Attributes: o.Attributes}
	in.Region, in.Zone = domainOf(o.Domain)
	return in
}

func domainOf(d *mesos.DomainInfo) (region, zone string) {
	if d == nil || d.FaultDomain == nil {
		return "", ""
	}
	if r := d.FaultDomain.Region; r != nil {
		region = r.Name
	}
	if z := d.FaultDomain.Zone; z != nil {
		zone = z.Name
	}
	return region, zone
}

// fieldValue reads a constraint field: hostname, @region, @zone or an
// agent attribute printed as Marathon compares it (text as is, scalars as
// numbers, ranges and sets in Mesos' notation). ok is false when the agent
// has no such attribute or fault domain.
func (in Instance) fieldValue(field string) (string, bool) {
	switch field {
	case app.FieldHostname, app.FieldAtHostname:
		return in.Hostname, true
	case app.FieldRegion:
		return in.Region, in.Region != ""
	case app.FieldZone:
		return in.Zone, in.Zone != ""
	}
	a, ok := in.Attributes.Get(field)
	if !ok {
		return "", false
	}
	return attributeText(a), true
}

func attributeText(a mesos.Attribute) string {
	switch a.Type {
	case mesos.ValueText:
		if a.Text != nil {
			return a.Text.Value
		}
	case mesos.ValueScalar:
		if a.Scalar != nil {
			return strconv.FormatFloat(a.Scalar.Float64(), 'f', -1, 64)
		}
	}
	return a.Value().String()
}

// meets reports whether placing one more instance at offer satisfies r,
// given the instances already placed and the app's target instance count
// (Marathon's Constraints.meetsConstraint).
func meets(r app.Rule, offer Instance, placed []Instance, instances int) bool {
	value, ok := offer.fieldValue(r.Field)
	if !ok {
		// An agent without the attribute only passes UNLIKE.
		return r.Operator == app.Unlike
	}
	same := 0
	groups := map[string]int{}
	for _, p := range placed {
		if v, ok := p.fieldValue(r.Field); ok {
			groups[v]++
			if v == value {
				same++
			}
		}
	}
	switch r.Operator {
	case app.Unique:
		return same == 0
	case app.Cluster:
		if r.HasValue && r.Value != "" {
			return value == r.Value
		}
		// Without a value, all instances go where the first one went.
		return len(groups) == 0 || (len(groups) == 1 && groups[value] > 0)
	case app.GroupBy:
		return groupByAccepts(r, value, groups, instances)
	case app.MaxPer:
		return same < r.Count
	case app.Like:
		return r.Matches(value)
	case app.Unlike:
		return !r.Matches(value)
	case app.Is:
		if a, ok := offer.Attributes.Get(r.Field); ok && a.Type == mesos.ValueScalar && a.Scalar != nil {
			want, err := strconv.ParseFloat(r.Value, 64)
			return err == nil && mesos.ScalarOf(want).Cmp(*a.Scalar) == 0
		}
		return value == r.Value
	}
	return false
}

// groupByAccepts decides GROUP_BY. With a group count N, Marathon aims at
// instances/N per group, letting the first instances%N groups take one
// more, and opens new groups until N are in use. Without N it only knows
// the groups it has seen: a new group, or one of the smallest, is fine.
func groupByAccepts(r app.Rule, value string, groups map[string]int, instances int) bool {
	count, seen := groups[value]
	if r.Count <= 0 {
		if !seen {
			return true
		}
		for _, c := range groups {
			if c < count {
				return false
			}
		}
		return true
	}
	if !seen {
		return len(groups) < r.Count
	}
	if instances < 1 {
		instances = 1
	}
	per, remainder := instances/r.Count, instances%r.Count
	consumed := 0
	for _, c := range groups {
		consumed += max(0, c-per)
	}
	return count < per || (count == per && remainder-consumed > 0)
}
