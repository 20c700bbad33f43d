package tui

import (
	"slices"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// The Tasks view: every task the master knows, live and completed, with
// its state in colour, health, agent and resources.

func tasksView() *viewSpec {
	return &viewSpec{
		name: "tasks", title: "Tasks", defaultSort: -1,
		cols: []column{
			{Title: "ID", Width: 16, Flex: 3},
			{Title: "NAME", Width: 10, Flex: 2, Drop: 3},
			{Title: "FRAMEWORK", Width: 9, Flex: 1, Drop: 2},
			{Title: "STATE", Width: 11},
			{Title: "HEALTH", Width: 9, Drop: 4},
			{Title: "AGENT", Width: 10, Flex: 2},
			{Title: "CPUS", Width: 5, Right: true},
			{Title: "MEM", Width: 6, Right: true},
			{Title: "DISK", Width: 6, Right: true, Drop: 1},
		},
		build: buildTasks,
	}
}

func buildTasks(c *Cluster, _ time.Time) []row {
	rows := make([]row, 0, len(c.Tasks))
	if c.taskRows == nil || c.taskRowsNames != c.namesVersion {
		c.taskRows, c.taskRowsNames = map[*mesos.Task]cachedRow{}, c.namesVersion
	}
	for _, t := range c.Tasks {
		// A task's row changes only with its state or statuses: reuse
		// it, so an event costs one row, not 10,000.
		cr, ok := c.taskRows[t]
		if !ok || cr.state != t.State || cr.statuses != len(t.Statuses) {
			cr = cachedRow{state: t.State, statuses: len(t.Statuses), row: taskRow(c, t)}
			c.taskRows[t] = cr
		}
		rows = append(rows, cr.row)
	}
	if len(c.taskRows) > 2*len(c.Tasks)+64 { // forget removed tasks
		for t := range c.taskRows {
			if c.Tasks[taskKey{t.FrameworkID, t.TaskID}] != t {
				delete(c.taskRows, t)
			}
		}
	}
	// As built: live before completed, then by ID, so the list is stable.
	slices.SortFunc(rows, func(a, b row) int {
		if a.live != b.live {
			if a.live {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	return rows
}

// cachedRow is a task's row and what it was built from.
type cachedRow struct {
	state    mesos.TaskState
	statuses int
	row      row
}

func taskRow(c *Cluster, t *mesos.Task) row {
	q := quantitiesOf(t.Resources)
	fw := c.FrameworkName(t.FrameworkID)
	if fw == "" {
		fw = string(t.FrameworkID)
	}
	h, ht := taskHealth(t)
	r := row{
		id: string(t.FrameworkID) + "/" + string(t.TaskID),
		cells: []cell{
			txt(string(t.TaskID)), txt(t.Name), txt(fw),
			toned(shortState(t.State), stateTone(t.State)), toned(h, ht),
			txt(c.AgentHost(t.AgentID)),
			number(num(q["cpus"]), q["cpus"]), number(amount("mem", q["mem"]), q["mem"]),
			number(amount("disk", q["disk"]), q["disk"]),
		},
		obj:  t,
		live: !t.State.IsTerminal(),
	}
	r.hay = hayOf(r.cells)
	return r
}

// shortState drops the TASK_ prefix: "RUNNING".
func shortState(s mesos.TaskState) string { return strings.TrimPrefix(string(s), "TASK_") }

// stateTone colours a task state: running green, starting blue, ending
// yellow, failed red, finished grey.
func stateTone(s mesos.TaskState) Tone {
	switch s {
	case mesos.TaskRunning:
		return ToneGood
	case mesos.TaskStaging, mesos.TaskStarting:
		return ToneInfo
	case mesos.TaskKilling, mesos.TaskKilled, mesos.TaskUnreachable, mesos.TaskUnknown:
		return ToneWarn
	case mesos.TaskFinished:
		return ToneDim
	case mesos.TaskFailed, mesos.TaskError, mesos.TaskLost, mesos.TaskDropped, mesos.TaskGone, mesos.TaskGoneByOperator:
		return ToneBad
	}
	return ToneNone
}

// taskHealth is the latest health verdict among a task's statuses.
func taskHealth(t *mesos.Task) (string, Tone) {
	if t.State.IsTerminal() {
		return "-", ToneDim
	}
	for i := len(t.Statuses) - 1; i >= 0; i-- {
		if h := t.Statuses[i].Healthy; h != nil {
			if *h {
				return "healthy", ToneGood
			}
			return "unhealthy", ToneBad
		}
	}
	if t.HealthCheck != nil {
		return "pending", ToneInfo
	}
	return "-", ToneDim
}
