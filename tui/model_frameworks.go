package tui

import (
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// The Frameworks view: registered frameworks (and recently completed
// ones) with roles, connection, tasks, resources and offers held.

func frameworksView() *viewSpec {
	return &viewSpec{
		name: "frameworks", title: "Frameworks", defaultSort: 0, ageing: true,
		cols: []column{
			{Title: "NAME", Width: 10, Flex: 1},
			{Title: "ID", Width: 12, Flex: 2, Drop: 3},
			{Title: "ROLES", Width: 8, Flex: 1},
			{Title: "STATE", Width: 12},
			{Title: "TASKS", Width: 5, Right: true},
			{Title: "CPUS", Width: 5, Right: true},
			{Title: "MEM", Width: 6, Right: true},
			{Title: "OFFERS", Width: 6, Right: true, Drop: 2},
			{Title: "AGE", Width: 5, Right: true, Drop: 4},
			{Title: "WEB UI", Width: 10, Flex: 1, Drop: 5},
		},
		build: buildFrameworks,
	}
}

func buildFrameworks(c *Cluster, now time.Time) []row {
	t := c.Totals()
	offers := map[mesos.FrameworkID]int{}
	for _, o := range c.Offers {
		offers[o.Offer.FrameworkID]++
	}
	rows := make([]row, 0, len(c.Frameworks)+len(c.Completed))
	add := func(f *mesos.Framework, completed bool) {
		info := f.FrameworkInfo
		id := info.ID
		used := t.perFrameworkUsed[id]
		if used == nil {
			used = quantities{}
		}
		st, tone := "active", ToneGood
		switch {
		case completed:
			st, tone = "completed", ToneDim
		case !f.Connected:
			st, tone = "disconnected", ToneBad
		case !f.Active:
			st, tone = "inactive", ToneWarn
		}
		var since time.Time
		if f.RegisteredTime != nil {
			since = f.RegisteredTime.Time()
		}
		rows = append(rows, row{
			id: string(id),
			cells: []cell{
				txt(info.Name), txt(string(id)), txt(strings.Join(info.GetRoles(), ",")), toned(st, tone),
				number(itoa(t.perFrameworkTasks[id]), float64(t.perFrameworkTasks[id])),
				number(num(used["cpus"]), used["cpus"]), number(amount("mem", used["mem"]), used["mem"]),
				number(itoa(offers[id]), float64(offers[id])),
				number(age(since, now), float64(-since.Unix())),
				txt(info.WebUIURL),
			},
			obj: f,
		})
	}
	for _, f := range c.Frameworks {
		add(f, false)
	}
	for _, f := range c.Completed {
		add(f, true)
	}
	return rows
}
