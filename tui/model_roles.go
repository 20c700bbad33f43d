package tui

import (
	"time"
)

// The Roles view: each role's weight, its weighted dominant share as a bar
// (what hierarchical DRF compares: the smallest goes first), and what is
// allocated to it (tasks and outstanding offers, subroles included).

func rolesView() *viewSpec {
	return &viewSpec{
		name: "roles", title: "Roles", defaultSort: 0,
		cols: []column{
			{Title: "ROLE", Width: 10, Flex: 1},
			{Title: "WEIGHT", Width: 6, Right: true},
			{Title: "FWS", Width: 3, Right: true, Drop: 3},
			{Title: "WEIGHTED SHARE", Width: 18, Flex: 2, Bar: true},
			{Title: "DOMINANT", Width: 8, Drop: 2},
			{Title: "ALLOCATED", Width: 16, Flex: 1},
			{Title: "QUOTA", Width: 10, Flex: 1, Drop: 4},
		},
		build: buildRoles,
	}
}

func buildRoles(c *Cluster, _ time.Time) []row {
	rr := c.RoleRows()
	rows := make([]row, 0, len(rr))
	for i := range rr {
		r := &rr[i]
		quota := "-"
		if r.Quota != nil {
			quota = "g " + orDash(quotaLine(r.Quota.Guarantees)) + " l " + orDash(quotaLine(r.Quota.Limits))
		}
		dom := "-"
		if r.Dominant != "" {
			dom = r.Dominant + " " + pct(r.Share)
		}
		var alloc string
		for _, n := range scalarNames {
			if v := r.Allocated[n]; v > 0 {
				if alloc != "" {
					alloc += " "
				}
				alloc += n + ":" + amount(n, v)
			}
		}
		rows = append(rows, row{
			id: r.Name,
			cells: []cell{
				txt(r.Name), number(num(r.Weight), r.Weight), number(itoa(r.Frameworks), float64(r.Frameworks)),
				barCell(num(r.Weighted), r.Weighted, 0), txt(dom), txt(orDash(alloc)), txt(quota),
			},
			obj: r,
		})
	}
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
