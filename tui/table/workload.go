package table

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// frameworkState is one word for a framework's condition.
func frameworkState(f *mesos.Framework) string {
	switch {
	case f.Connected && f.Active:
		return "active"
	case f.Connected:
		return "inactive"
	case f.Recovered:
		return "recovered"
	}
	return "disconnected"
}

func fwInfo(f *mesos.Framework) *mesos.FrameworkInfo {
	if f.FrameworkInfo == nil {
		return &mesos.FrameworkInfo{}
	}
	return f.FrameworkInfo
}

// Frameworks lists frameworks with what they hold (allocated) and are
// offered.
func Frameworks(g *mesos.GetFrameworks, tasks []mesos.Task, now time.Time) *Table {
	t := &Table{Columns: []Column{
		{Header: "ID"}, {Header: "NAME"}, {Header: "ROLES"}, {Header: "STATE"},
		{Header: "TASKS", Right: true}, {Header: "CPUS", Right: true}, {Header: "MEM", Right: true},
		{Header: "OFFERS", Right: true}, {Header: "USER", Wide: true}, {Header: "WEBUI", Wide: true},
		{Header: "AGE", Right: true},
	}, Tones: map[int]Tone{}}
	if g == nil {
		return t
	}
	live := map[mesos.FrameworkID]int{}
	for _, tk := range tasks {
		if !tk.State.IsTerminal() {
			live[tk.FrameworkID]++
		}
	}
	fws := slices.Clone(g.Frameworks)
	slices.SortFunc(fws, func(x, y mesos.Framework) int { return strings.Compare(string(fwInfo(&x).ID), string(fwInfo(&y).ID)) })
	for i := range fws {
		f := &fws[i]
		info := fwInfo(f)
		t.Rows = append(t.Rows, []string{
			string(info.ID), info.Name, strings.Join(info.GetRoles(), ","), frameworkState(f),
			fmt.Sprint(live[info.ID]),
			Number(round3(f.AllocatedResources.Cpus().Float64())),
			SizeMB(f.AllocatedResources.Mem().Float64()),
			fmt.Sprint(len(f.Offers)), info.User, info.WebUIURL,
			Age(timeOf(f.RegisteredTime), now),
		})
		if st := frameworkState(f); st != "active" {
			t.Tones[len(t.Rows)-1] = ToneWarn
		}
	}
	return t
}

// FindFramework returns the framework with id (or, failing that, the one
// named id), or nil.
func FindFramework(g *mesos.GetFrameworks, id string) *mesos.Framework {
	if g == nil {
		return nil
	}
	for i := range g.Frameworks {
		if string(fwInfo(&g.Frameworks[i]).ID) == id {
			return &g.Frameworks[i]
		}
	}
	var match *mesos.Framework
	for i := range g.Frameworks {
		if fwInfo(&g.Frameworks[i]).Name == id {
			if match != nil {
				return nil // ambiguous name
			}
			match = &g.Frameworks[i]
		}
	}
	return match
}

// FrameworkShow describes one framework.
func FrameworkShow(f *mesos.Framework, now time.Time) *KV {
	info := fwInfo(f)
	kv := &KV{}
	kv.Add("ID", string(info.ID))
	kv.Add("Name", info.Name)
	kv.Add("User", info.User)
	kv.Add("Principal", info.Principal)
	kv.Add("Roles", strings.Join(info.GetRoles(), ","))
	kv.Add("State", frameworkState(f))
	kv.Add("Hostname", info.Hostname)
	kv.Add("Web UI", info.WebUIURL)
	if info.FailoverTimeout != nil {
		kv.Add("Failover timeout", Duration(time.Duration(*info.FailoverTimeout*float64(time.Second))))
	}
	kv.Add("Registered", Age(timeOf(f.RegisteredTime), now)+" ago")
	kv.Add("Allocated", f.AllocatedResources.String())
	kv.Add("Offered", f.OfferedResources.String())
	kv.Add("Offers", fmt.Sprint(len(f.Offers)))
	return kv
}

// Offers lists the offers outstanding with frameworks.
func Offers(g *mesos.GetFrameworks) *Table {
	t := &Table{Columns: []Column{
		{Header: "ID"}, {Header: "FRAMEWORK"}, {Header: "AGENT"}, {Header: "HOSTNAME", Wide: true},
		{Header: "CPUS", Right: true}, {Header: "MEM", Right: true}, {Header: "DISK", Right: true},
		{Header: "PORTS", Wide: true}, {Header: "ROLE", Wide: true},
	}}
	if g == nil {
		return t
	}
	type row struct {
		o    mesos.Offer
		name string
	}
	var offers []row
	for i := range g.Frameworks {
		for _, o := range g.Frameworks[i].Offers {
			offers = append(offers, row{o, fwInfo(&g.Frameworks[i]).Name})
		}
	}
	slices.SortFunc(offers, func(x, y row) int { return strings.Compare(string(x.o.ID), string(y.o.ID)) })
	for _, r := range offers {
		role := ""
		if r.o.AllocationInfo != nil {
			role = r.o.AllocationInfo.Role
		}
		t.Rows = append(t.Rows, []string{
			string(r.o.ID), r.name, string(r.o.AgentID), r.o.Hostname,
			Number(round3(r.o.Resources.Cpus().Float64())), SizeMB(r.o.Resources.Mem().Float64()),
			SizeMB(r.o.Resources.Scalar("disk").Float64()), ports(r.o.Resources), role,
		})
	}
	return t
}

// taskStarted is when a task first reported a status (its age).
func taskStarted(t *mesos.Task) time.Time {
	var first time.Time
	for _, s := range t.Statuses {
		ts := secondsTime(s.Timestamp)
		if !ts.IsZero() && (first.IsZero() || ts.Before(first)) {
			first = ts
		}
	}
	return first
}

func taskTone(s mesos.TaskState) Tone {
	switch s {
	case mesos.TaskRunning:
		return ToneGood
	case mesos.TaskFinished:
		return ToneDim
	case mesos.TaskFailed, mesos.TaskError, mesos.TaskLost, mesos.TaskDropped, mesos.TaskGone, mesos.TaskGoneByOperator:
		return ToneBad
	case mesos.TaskKilled, mesos.TaskUnreachable, mesos.TaskUnknown:
		return ToneWarn
	}
	return ToneNone
}

func health(t *mesos.Task) string {
	for i := len(t.Statuses) - 1; i >= 0; i-- {
		if h := t.Statuses[i].Healthy; h != nil {
			if *h {
				return "healthy"
			}
			return "unhealthy"
		}
	}
	return "-"
}

// AllTasks joins a GET_TASKS answer's lists: live, unreachable, then
// completed (when completed is set).
func AllTasks(g *mesos.GetTasks, completed bool) []mesos.Task {
	if g == nil {
		return nil
	}
	out := slices.Concat(g.Tasks, g.UnreachableTasks)
	if completed {
		out = append(out, g.CompletedTasks...)
	}
	return out
}

// Tasks lists tasks; names maps framework IDs to names (nil: IDs shown).
func Tasks(tasks []mesos.Task, names map[mesos.FrameworkID]string, now time.Time) *Table {
	t := &Table{Columns: []Column{
		{Header: "ID"}, {Header: "NAME"}, {Header: "STATE"}, {Header: "FRAMEWORK"}, {Header: "AGENT"},
		{Header: "CPUS", Right: true}, {Header: "MEM", Right: true}, {Header: "HEALTH", Wide: true},
		{Header: "PORTS", Wide: true}, {Header: "AGE", Right: true},
	}, Tones: map[int]Tone{}}
	tasks = slices.Clone(tasks)
	slices.SortFunc(tasks, func(x, y mesos.Task) int {
		if c := strings.Compare(string(x.FrameworkID), string(y.FrameworkID)); c != 0 {
			return c
		}
		return strings.Compare(string(x.TaskID), string(y.TaskID))
	})
	for i := range tasks {
		tk := &tasks[i]
		fw := string(tk.FrameworkID)
		if n, ok := names[tk.FrameworkID]; ok && n != "" {
			fw = n
		}
		t.Rows = append(t.Rows, []string{
			string(tk.TaskID), tk.Name, shortState(tk.State), fw, string(tk.AgentID),
			Number(round3(tk.Resources.Cpus().Float64())), SizeMB(tk.Resources.Mem().Float64()),
			health(tk), ports(tk.Resources), Age(taskStarted(tk), now),
		})
		if tone := taskTone(tk.State); tone != ToneNone {
			t.Tones[len(t.Rows)-1] = tone
		}
	}
	return t
}

// FrameworkNames maps framework IDs to names for task lists.
func FrameworkNames(g *mesos.GetFrameworks) map[mesos.FrameworkID]string {
	out := map[mesos.FrameworkID]string{}
	if g == nil {
		return out
	}
	for _, list := range [][]mesos.Framework{g.Frameworks, g.CompletedFrameworks} {
		for i := range list {
			info := fwInfo(&list[i])
			out[info.ID] = info.Name
		}
	}
	return out
}

// FindTask returns the task with id among tasks (live ones first), or one
// whose ID ends with id when that is unambiguous; nil when none.
func FindTask(tasks []mesos.Task, id string) *mesos.Task {
	var match *mesos.Task
	for i := range tasks {
		if string(tasks[i].TaskID) == id {
			return &tasks[i]
		}
	}
	for i := range tasks {
		if id != "" && strings.HasSuffix(string(tasks[i].TaskID), id) {
			if match != nil && match.TaskID != tasks[i].TaskID {
				return nil
			}
			if match == nil {
				match = &tasks[i]
			}
		}
	}
	return match
}

// TaskShow describes one task with its status history.
func TaskShow(tk *mesos.Task, fwName string, now time.Time) *KV {
	kv := &KV{}
	kv.Add("ID", string(tk.TaskID))
	kv.Add("Name", tk.Name)
	kv.Add("State", string(tk.State))
	fw := string(tk.FrameworkID)
	if fwName != "" {
		fw += " (" + fwName + ")"
	}
	kv.Add("Framework", fw)
	kv.Add("Agent", string(tk.AgentID))
	kv.Add("Executor", string(tk.ExecutorID))
	kv.Add("User", tk.User)
	kv.Add("Resources", tk.Resources.String())
	kv.Add("Health", health(tk))
	kv.Add("Started", Age(taskStarted(tk), now)+" ago")
	for i, s := range tk.Statuses {
		line := string(s.State)
		if ts := secondsTime(s.Timestamp); !ts.IsZero() {
			line += " " + Age(ts, now) + " ago"
		}
		if s.Reason != "" {
			line += " " + string(s.Reason)
		}
		if s.Message != "" {
			line += ": " + s.Message
		}
		kv.Add(fmt.Sprintf("Status %d", i+1), line)
	}
	return kv
}
