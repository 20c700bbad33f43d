package tui

import (
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// The Quota view: one row per role and resource with a quota, showing
// consumption (allocated to the role's subtree) against the guarantee and
// the limit. The bar is consumption over the limit (or the guarantee when
// there is no limit); it turns yellow at the limit.

func quotaView() *viewSpec {
	return &viewSpec{
		name: "quota", title: "Quota", defaultSort: -1,
		cols: []column{
			{Title: "ROLE", Width: 10, Flex: 1},
			{Title: "RESOURCE", Width: 8},
			{Title: "CONSUMED", Width: 8, Right: true},
			{Title: "GUARANTEE", Width: 9, Right: true},
			{Title: "LIMIT", Width: 8, Right: true},
			{Title: "CONSUMPTION", Width: 18, Flex: 2, Bar: true},
		},
		build: buildQuota,
	}
}

// quotaRow is the object behind a Quota row (describe shows the config).
type quotaRow struct {
	Role     string             `json:"role"`
	Resource string             `json:"resource"`
	Consumed float64            `json:"consumed"`
	Config   *mesos.QuotaConfig `json:"quota_config"`
}

func buildQuota(c *Cluster, _ time.Time) []row {
	var rows []row
	for _, r := range c.RoleRows() {
		if r.Quota == nil {
			continue
		}
		names := map[string]bool{}
		for n := range r.Quota.Guarantees {
			names[n] = true
		}
		for n := range r.Quota.Limits {
			names[n] = true
		}
		for _, n := range sortedNames(names) {
			consumed := r.Allocated[n]
			g, hasG := r.Quota.Guarantees[n]
			l, hasL := r.Quota.Limits[n]
			gs, ls := "-", "-"
			if hasG {
				gs = amount(n, g.Float64())
			}
			if hasL {
				ls = amount(n, l.Float64())
			}
			var frac float64
			tone := ToneGood
			switch {
			case hasL && l.Float64() > 0:
				frac = consumed / l.Float64()
				if consumed >= l.Float64() {
					tone = ToneWarn
				}
			case hasG && g.Float64() > 0:
				frac = consumed / g.Float64()
			}
			if hasG && consumed < g.Float64() {
				tone = ToneInfo // guarantee not used up: still reachable
			}
			cl := barCell(pct(frac), frac, 0)
			cl.tone = tone
			rows = append(rows, row{
				id: r.Name + "/" + n,
				cells: []cell{
					txt(r.Name), txt(n), number(amount(n, consumed), consumed),
					number(gs, g.Float64()), number(ls, l.Float64()), cl,
				},
				obj: &quotaRow{Role: r.Name, Resource: n, Consumed: consumed, Config: r.Quota},
			})
		}
	}
	return rows
}

func sortedNames(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for _, n := range scalarNames {
		if m[n] {
			out = append(out, n)
			delete(m, n)
		}
	}
	rest := make([]string, 0, len(m))
	for n := range m {
		rest = append(rest, n)
	}
	sortStrings(rest)
	return append(out, rest...)
}
