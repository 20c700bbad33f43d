package tui

import (
	"sort"
	"time"
)

// viewSpec is one tab of the dashboard. Table views give columns and a
// build function (cluster in, rows out; pure, so golden tests and
// benchmarks use it directly); the others draw their body themselves.
type viewSpec struct {
	name, title string
	cols        []column
	build       func(c *Cluster, now time.Time) []row
	// draw renders a non-table body, or (for table views) a panel below
	// the table that takes the lower part of the body.
	draw func(m *Model, w, h int) []string
	// ageing views show ages, so they are rebuilt as the clock moves
	// even when the cluster did not change. They are small lists.
	ageing bool
	// defaultSort is the column sorted by at start (-1: as built).
	defaultSort int
	sortDesc    bool
}

// views are the tabs in order; keys 1–9 then 0 select them.
func allViews() []*viewSpec {
	return []*viewSpec{
		overviewView(), agentsView(), frameworksView(), offersView(), rolesView(),
		quotaView(), tasksView(), appsView(), jobsView(), eventsView(),
	}
}

// sortRows orders rows as built (before any column sort).
func sortRows(rows []row, less func(a, b *row) bool) {
	sort.Slice(rows, func(i, j int) bool { return less(&rows[i], &rows[j]) })
}

func sortStrings(s []string) { sort.Strings(s) }
