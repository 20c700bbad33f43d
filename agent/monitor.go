package agent

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/mesos"
)

// taskCounters counts the states tasks reached since the agent started,
// for the slave/tasks_* metrics: terminal tasks are forgotten once
// acknowledged, so they cannot be counted from the agent's records.
type taskCounters struct {
	mu     sync.Mutex
	start  time.Time
	states map[mesos.TaskState]int
}

// count notes a task that reached state.
func (c *taskCounters) count(state mesos.TaskState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.states == nil {
		c.states = map[mesos.TaskState]int{}
	}
	c.states[state]++
}

func (c *taskCounters) started() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.start.IsZero() {
		c.start = time.Now()
	}
}

func (c *taskCounters) snapshot() (map[mesos.TaskState]int, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.states), c.start
}

// liveTask is a running task as the monitor sees it.
type liveTask struct {
	container string
	framework mesos.FrameworkID
	task      mesos.TaskInfo
	pid       int
	cgroups   map[string]string
}

// liveTasks lists the tasks the supervisor runs for live records, and
// the supervisor to ask about them (nil when it is not connected).
func (a *Agent) liveTasks() ([]liveTask, *supervise.Client) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sup == nil {
		return nil, nil
	}
	var out []liveTask
	for _, c := range slices.Sorted(maps.Keys(a.tasks)) {
		rec := a.tasks[c]
		if rec.State.IsTerminal() || !rec.Launched {
			continue
		}
		st, ok := a.sup.Task(c)
		if !ok || st.State == supervise.StateExited {
			continue
		}
		out = append(out, liveTask{container: c, framework: rec.FrameworkID, task: rec.Task, pid: st.PID, cgroups: st.Cgroups})
	}
	return out, a.sup
}

// usage reads what each live task consumes, by container ID.
func (a *Agent) usage() ([]liveTask, map[string]supervise.Usage, error) {
	live, sup := a.liveTasks()
	if sup == nil {
		return nil, nil, fmt.Errorf("usage: the agent has no connection to its task supervisor")
	}
	u, err := sup.Usage()
	if err != nil {
		return nil, nil, err
	}
	return live, u, nil
}

// executorName is how Mesos names a command executor.
func executorName(t *mesos.TaskInfo) string {
	name := "Command Executor (Task: " + string(t.TaskID) + ")"
	switch c := t.Command; {
	case c == nil || c.Value == "":
	case c.GetShell():
		name += " (Command: sh -c '" + truncate(c.Value, 64) + "')"
	default:
		name += " (Command: [" + truncate(strings.Join(append([]string{c.Value}, c.Arguments...), " "), 64) + "])"
	}
	return name
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

// Statistics returns /monitor/statistics: one entry per running task.
func (a *Agent) Statistics() ([]mesos.ExecutorStatistics, error) {
	live, usage, err := a.usage()
	if err != nil {
		return nil, err
	}
	out := []mesos.ExecutorStatistics{}
	for _, t := range live {
		u, ok := usage[t.container]
		if !ok {
			continue // exited between the two looks
		}
		out = append(out, mesos.ExecutorStatistics{ExecutorID: string(t.task.TaskID), ExecutorName: executorName(&t.task),
			FrameworkID: string(t.framework), Source: string(t.task.TaskID), Statistics: mesos.ResourceStatistics(u)})
	}
	return out, nil
}

func (a *Agent) serveStatistics(w http.ResponseWriter, r *http.Request) {
	stats, err := a.Statistics()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, stats)
}

// Metrics returns /metrics/snapshot: gauges and counters with Mesos'
// agent names.
func (a *Agent) Metrics() map[string]float64 {
	counts, start := a.counters.snapshot()
	out := map[string]float64{}
	if !start.IsZero() {
		out["slave/uptime_secs"] = time.Since(start).Seconds()
	}
	for name, st := range map[string]mesos.TaskState{
		"slave/tasks_finished": mesos.TaskFinished, "slave/tasks_failed": mesos.TaskFailed,
		"slave/tasks_killed": mesos.TaskKilled, "slave/tasks_lost": mesos.TaskLost,
		"slave/tasks_error": mesos.TaskError, "slave/tasks_gone": mesos.TaskGone,
	} {
		out[name] = float64(counts[st])
	}
	a.mu.Lock()
	current := map[mesos.TaskState]int{}
	var used mesos.Resources
	frameworks := map[mesos.FrameworkID]bool{}
	for _, rec := range a.tasks {
		current[rec.State]++
		if !rec.State.IsTerminal() {
			used = append(used, rec.Task.Resources...)
			frameworks[rec.FrameworkID] = true
		}
	}
	registered := a.id != "" && a.master != ""
	total := a.total
	a.mu.Unlock()
	out["slave/tasks_staging"] = float64(current[mesos.TaskStaging])
	out["slave/tasks_starting"] = float64(current[mesos.TaskStarting])
	out["slave/tasks_running"] = float64(current[mesos.TaskRunning])
	out["slave/tasks_killing"] = float64(current[mesos.TaskKilling])
	out["slave/executors_running"] = float64(current[mesos.TaskRunning] + current[mesos.TaskKilling])
	out["slave/frameworks_active"] = float64(len(frameworks))
	out["slave/registered"] = 0
	if registered {
		out["slave/registered"] = 1
	}
	for _, r := range []string{"cpus", "mem", "disk", "gpus"} {
		t, u := scalarOf(total, r), scalarOf(used, r)
		out["slave/"+r+"_total"] = t
		out["slave/"+r+"_used"] = u
		if t > 0 {
			out["slave/"+r+"_percent"] = u / t
		} else {
			out["slave/"+r+"_percent"] = 0
		}
	}
	return out
}

// scalarOf sums the scalar resources named name.
func scalarOf(rs mesos.Resources, name string) float64 {
	var v float64
	for _, r := range rs {
		if r.Name == name && r.Scalar != nil {
			v += r.Scalar.Float64()
		}
	}
	return v
}
