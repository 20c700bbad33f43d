package table

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Roles lists roles: weight, frameworks, and what they are allocated;
// quotas (may be nil) add each role's guarantee and limit.
func Roles(g *mesos.GetRoles, q *mesos.GetQuota) *Table {
	t := &Table{Columns: []Column{
		{Header: "ROLE"}, {Header: "WEIGHT", Right: true}, {Header: "FRAMEWORKS", Right: true},
		{Header: "CPUS", Right: true}, {Header: "MEM", Right: true}, {Header: "DISK", Right: true, Wide: true},
		{Header: "GUARANTEE", Wide: true}, {Header: "LIMIT", Wide: true},
	}}
	if g == nil {
		return t
	}
	quotas := quotaByRole(q)
	roles := slices.Clone(g.Roles)
	slices.SortFunc(roles, func(x, y mesos.Role) int { return strings.Compare(x.Name, y.Name) })
	for _, r := range roles {
		qc := quotas[r.Name]
		t.Rows = append(t.Rows, []string{
			r.Name, Number(r.Weight), fmt.Sprint(len(r.Frameworks)),
			Number(round3(r.Resources.Cpus().Float64())), SizeMB(r.Resources.Mem().Float64()),
			SizeMB(r.Resources.Scalar("disk").Float64()),
			quantities(qc.Guarantees), quantities(qc.Limits),
		})
	}
	return t
}

func quotaByRole(q *mesos.GetQuota) map[string]mesos.QuotaConfig {
	out := map[string]mesos.QuotaConfig{}
	if q == nil || q.Status == nil {
		return out
	}
	for _, c := range q.Status.Configs {
		out[c.Role] = c
	}
	return out
}

// quantities shows a quota's map as "cpus:2;mem:1GiB" in name order.
func quantities(m map[string]mesos.Scalar) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		v := m[name].Float64()
		s := Number(round3(v))
		if name == "mem" || name == "disk" {
			s = SizeMB(v)
		}
		parts = append(parts, name+":"+s)
	}
	return strings.Join(parts, ";")
}

// Quotas lists every role's quota: guarantees and limits.
func Quotas(q *mesos.GetQuota) *Table {
	t := &Table{Columns: []Column{{Header: "ROLE"}, {Header: "GUARANTEES"}, {Header: "LIMITS"}}}
	if q == nil || q.Status == nil {
		return t
	}
	configs := slices.Clone(q.Status.Configs)
	slices.SortFunc(configs, func(x, y mesos.QuotaConfig) int { return strings.Compare(x.Role, y.Role) })
	for _, c := range configs {
		if len(c.Guarantees) == 0 && len(c.Limits) == 0 {
			continue // a removed quota: the role has none
		}
		t.Rows = append(t.Rows, []string{c.Role, quantities(c.Guarantees), quantities(c.Limits)})
	}
	return t
}

// Metrics lists metrics by name; prefix (may be empty) keeps only names
// starting with it.
func Metrics(m map[string]float64, prefix string) *Table {
	t := &Table{Columns: []Column{{Header: "METRIC"}, {Header: "VALUE", Right: true}}}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if strings.HasPrefix(name, prefix) {
			t.Rows = append(t.Rows, []string{name, Number(m[name])})
		}
	}
	return t
}

// EventLine is one line of `strata events`: time, type, and what the
// event is about.
func EventLine(ev *mesos.OperatorEvent, at time.Time) string {
	var what string
	switch ev.Type {
	case mesos.OperatorEventSubscribed:
		if s := ev.Subscribed; s != nil && s.GetState != nil {
			var a, f, tk int
			if s.GetState.GetAgents != nil {
				a = len(s.GetState.GetAgents.Agents)
			}
			if s.GetState.GetFrameworks != nil {
				f = len(s.GetState.GetFrameworks.Frameworks)
			}
			if s.GetState.GetTasks != nil {
				tk = len(s.GetState.GetTasks.Tasks)
			}
			what = fmt.Sprintf("%d agents, %d frameworks, %d tasks", a, f, tk)
		}
	case mesos.OperatorEventTaskAdded:
		if e := ev.TaskAdded; e != nil && e.Task != nil {
			what = fmt.Sprintf("task %s (%s) on %s: %s", e.Task.TaskID, e.Task.Name, e.Task.AgentID, shortState(e.Task.State))
		}
	case mesos.OperatorEventTaskUpdated:
		if e := ev.TaskUpdated; e != nil && e.Status != nil {
			what = fmt.Sprintf("task %s: %s", e.Status.TaskID, shortState(e.State))
			if e.Status.Reason != "" {
				what += " " + string(e.Status.Reason)
			}
			if e.Status.Message != "" {
				what += ": " + e.Status.Message
			}
		}
	case mesos.OperatorEventAgentAdded:
		if e := ev.AgentAdded; e != nil && e.Agent != nil && e.Agent.AgentInfo != nil {
			what = fmt.Sprintf("agent %s (%s)", e.Agent.AgentInfo.ID, AgentAddr(e.Agent))
		}
	case mesos.OperatorEventAgentRemoved:
		if e := ev.AgentRemoved; e != nil {
			what = "agent " + string(e.AgentID)
		}
	case mesos.OperatorEventFrameworkAdded, mesos.OperatorEventFrameworkUpdated:
		f := ev.FrameworkAdded
		if f == nil && ev.FrameworkUpdated != nil {
			f = (*mesos.FrameworkAdded)(ev.FrameworkUpdated)
		}
		if f != nil && f.Framework != nil {
			info := fwInfo(f.Framework)
			what = fmt.Sprintf("framework %s (%s) %s", info.ID, info.Name, frameworkState(f.Framework))
		}
	case mesos.OperatorEventFrameworkRemoved:
		if e := ev.FrameworkRemoved; e != nil && e.FrameworkInfo != nil {
			what = fmt.Sprintf("framework %s (%s)", e.FrameworkInfo.ID, e.FrameworkInfo.Name)
		}
	case mesos.OperatorEventOfferSent:
		if e := ev.OfferSent; e != nil && e.Offer != nil {
			what = fmt.Sprintf("offer %s to %s on %s: %s", e.Offer.ID, e.Offer.FrameworkID, e.Offer.AgentID, e.Offer.Resources)
		}
	case mesos.OperatorEventOfferAccepted:
		if e := ev.OfferAccepted; e != nil {
			what = fmt.Sprintf("%s accepted %d offer(s) on %s, %d task(s)", e.FrameworkID, len(e.OfferIDs), e.AgentID, len(e.TaskIDs))
		}
	case mesos.OperatorEventOfferDeclined:
		if e := ev.OfferDeclined; e != nil {
			what = fmt.Sprintf("%s declined %d offer(s) on %s", e.FrameworkID, len(e.OfferIDs), e.AgentID)
		}
	case mesos.OperatorEventOfferRescinded:
		if e := ev.OfferRescinded; e != nil {
			what = fmt.Sprintf("offer %s rescinded from %s", e.OfferID, e.FrameworkID)
		}
	}
	line := at.Format("15:04:05") + "  " + fmt.Sprintf("%-17s", ev.Type)
	if what != "" {
		line += "  " + what
	}
	return strings.TrimRight(line, " ")
}
