package placement

import (
	"slices"
	"strings"
	"testing"

	"github.com/strata-dc/strata/master/mesos"
)

// agent is a test agent: hostname, attributes and fault domain.
type agent struct {
	host, attrs, region, zone string
}

var agents = []agent{
	{"h1", "rack:r1;level:1", "eu", "eu-a"},
	{"h2", "rack:r1;level:2", "eu", "eu-b"},
	{"h3", "rack:r2;level:2.5", "us", "us-a"},
	{"h4", "rack:r3", "us", "us-b"},
	{"h5", "", "", ""},
}

func (ag agent) offer(t *testing.T) *mesos.Offer {
	o := offer(t, ag.host, plenty, ag.attrs)
	if ag.region != "" {
		o.Domain = mesos.Domain(ag.region, ag.zone)
	}
	return o
}

func TestConstraintOperators(t *testing.T) {
	tests := []struct {
		name       string
		constraint string
		placed     []string // hosts already running an instance
		want       []string // hosts whose offers are accepted
	}{
		{"unique hostname, none placed", `["hostname","UNIQUE"]`, nil, []string{"h1", "h2", "h3", "h4", "h5"}},
		{"unique hostname", `["hostname","UNIQUE"]`, []string{"h1", "h3"}, []string{"h2", "h4", "h5"}},
		{"unique @hostname", `["@hostname","UNIQUE"]`, []string{"h2"}, []string{"h1", "h3", "h4", "h5"}},
		{"unique attribute", `["rack","UNIQUE"]`, []string{"h1"}, []string{"h3", "h4"}},
		{"cluster value", `["rack","CLUSTER","r1"]`, nil, []string{"h1", "h2"}},
		{"cluster hostname", `["hostname","CLUSTER","h4"]`, nil, []string{"h4"}},
		{"cluster follows first", `["rack","CLUSTER"]`, []string{"h3"}, []string{"h3"}},
		{"cluster empty accepts any with attribute", `["rack","CLUSTER"]`, nil, []string{"h1", "h2", "h3", "h4"}},
		// Without a count Marathon only knows the groups it has seen: a
		// new group or a smallest one is fine.
		{"group_by without count", `["rack","GROUP_BY"]`, []string{"h1", "h2", "h3"}, []string{"h3", "h4"}},
		// With a count and 3 instances: one per rack, new racks first.
		{"group_by 3 new groups first", `["rack","GROUP_BY","3"]`, []string{"h1", "h3"}, []string{"h4"}},
		{"group_by 3 full", `["rack","GROUP_BY","3"]`, []string{"h1", "h3", "h4"}, nil},
		{"group_by 3 of 4, remainder", `["rack","GROUP_BY","3"],["x","UNLIKE","y"]`, []string{"h1", "h3", "h4"}, []string{"h1", "h2", "h3", "h4"}},
		{"group_by zone", `["@zone","GROUP_BY"]`, []string{"h1", "h1", "h2", "h3", "h3"}, []string{"h2", "h4"}},
		{"max_per", `["rack","MAX_PER","2"]`, []string{"h1", "h2", "h3"}, []string{"h3", "h4"}},
		{"max_per region", `["@region","MAX_PER","1"]`, []string{"h1"}, []string{"h3", "h4"}},
		{"like", `["rack","LIKE","r[1-2]"]`, nil, []string{"h1", "h2", "h3"}},
		{"like is anchored", `["rack","LIKE","r"]`, nil, nil},
		{"like hostname", `["hostname","LIKE","h[45]"]`, nil, []string{"h4", "h5"}},
		{"unlike", `["rack","UNLIKE","r1"]`, nil, []string{"h3", "h4", "h5"}},
		{"is text", `["rack","IS","r3"]`, nil, []string{"h4"}},
		{"is scalar", `["level","IS","2.50"]`, nil, []string{"h3"}},
		{"is region", `["@region","IS","us"]`, nil, []string{"h3", "h4"}},
		{"missing attribute", `["gpu","CLUSTER","yes"]`, nil, nil},
		{"lowercase operator", `["hostname","unique"]`, []string{"h1"}, []string{"h2", "h3", "h4", "h5"}},
	}
	byHost := map[string]agent{}
	for _, ag := range agents {
		byHost[ag.host] = ag
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			instances := "3"
			if strings.Contains(tt.name, "of 4") {
				instances = "4"
			}
			a := mkApp(t, `{"id":"c","cmd":"x","cpus":0.1,"mem":10,"instances":`+instances+`,"constraints":[`+tt.constraint+`]}`)
			var placed []Instance
			for _, h := range tt.placed {
				placed = append(placed, InstanceFromOffer(byHost[h].offer(t)))
			}
			var got []string
			for _, ag := range agents {
				d := Decide(Request{App: a, Offer: ag.offer(t), Placed: placed})
				if d.Match != nil {
					got = append(got, ag.host)
				} else if !slices.Equal(d.Reasons, []Reason{UnfulfilledConstraint}) {
					t.Errorf("%s refused for %v, want only UnfulfilledConstraint", ag.host, d.Reasons)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("accepted %v, want %v", got, tt.want)
			}
		})
	}
}

// TestGroupBySpreadsAcrossOffers places instances one at a time, always on
// the first accepted offer, and checks GROUP_BY keeps racks balanced.
func TestGroupBySpreadsAcrossOffers(t *testing.T) {
	a := mkApp(t, `{"id":"g","cmd":"x","cpus":0.1,"mem":10,"instances":9,"constraints":[["rack","GROUP_BY","3"]]}`)
	var placed []Instance
	for range 9 {
		for _, ag := range agents[:4] {
			if d := Decide(Request{App: a, Offer: ag.offer(t), Placed: placed}); d.Match != nil {
				placed = append(placed, d.Match.Placement)
				break
			}
		}
	}
	count := map[string]int{}
	for _, p := range placed {
		v, _ := p.fieldValue("rack")
		count[v]++
	}
	if len(placed) != 9 || count["r1"] != 3 || count["r2"] != 3 || count["r3"] != 3 {
		t.Errorf("placed %d: %v", len(placed), count)
	}
}
