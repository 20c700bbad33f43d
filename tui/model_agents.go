package tui

import (
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// The Agents view: per agent, resources used (by tasks), offered and free
// as bars, its tasks, drain state and attributes. Describe lists the
// agent's tasks beside its JSON.

func agentsView() *viewSpec {
	return &viewSpec{
		name: "agents", title: "Agents", defaultSort: 0,
		cols: []column{
			{Title: "HOST", Width: 12, Flex: 2},
			{Title: "ID", Width: 12, Flex: 1, Drop: 3},
			{Title: "STATE", Width: 9},
			{Title: "TASKS", Width: 5, Right: true},
			{Title: "CPUS", Width: 14, Flex: 1, Bar: true},
			{Title: "MEM", Width: 16, Flex: 1, Bar: true},
			{Title: "DISK", Width: 16, Flex: 1, Bar: true, Drop: 2},
			{Title: "FREE", Width: 12, Drop: 4},
			{Title: "ATTRIBUTES", Width: 10, Flex: 2, Drop: 5},
		},
		build: buildAgents,
	}
}

func buildAgents(c *Cluster, _ time.Time) []row {
	t := c.Totals()
	rows := make([]row, 0, len(c.Agents))
	for id, a := range c.Agents {
		if a.AgentInfo == nil {
			continue
		}
		total := quantitiesOf(a.TotalResources)
		used, offered := t.perAgentUsed[id], t.perAgentOffered[id]
		bars := make([]cell, 0, 3)
		for _, n := range scalarNames {
			var u, o float64
			if used != nil {
				u = used[n]
			}
			if offered != nil {
				o = offered[n]
			}
			tot := total[n]
			label := amount(n, u+o) + "/" + amount(n, tot)
			if tot <= 0 {
				bars = append(bars, barCell("-", 0, 0))
				continue
			}
			bars = append(bars, barCell(label, u/tot, o/tot))
		}
		free := quantities{}
		for _, n := range []string{"cpus", "mem"} {
			free[n] = total[n]
			if used != nil {
				free[n] -= used[n]
			}
			if offered != nil {
				free[n] -= offered[n]
			}
		}
		st := agentState(a)
		rows = append(rows, row{
			id: string(id),
			cells: []cell{
				txt(a.AgentInfo.Hostname), txt(string(id)), toned(st, agentTone(st)),
				number(itoa(t.perAgentTasks[id]), float64(t.perAgentTasks[id])),
				bars[0], bars[1], bars[2],
				number(num(free["cpus"])+" "+amount("mem", free["mem"]), free["cpus"]),
				txt(a.AgentInfo.Attributes.String()),
			},
			obj: a,
		})
	}
	return rows
}

// agentState is one word for an agent: draining/drained, deactivated,
// active, or inactive (disconnected).
func agentState(a *mesos.Agent) string {
	switch {
	case a.DrainInfo != nil && a.DrainInfo.State != "" && a.DrainInfo.State != mesos.DrainUnknown:
		return strings.ToLower(string(a.DrainInfo.State))
	case a.Deactivated:
		return "deactivated"
	case a.Active:
		return "active"
	}
	return "inactive"
}

func agentTone(state string) Tone {
	switch state {
	case "active":
		return ToneGood
	case "inactive":
		return ToneBad
	}
	return ToneWarn
}
