package state

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// BenchOptions sizes the master benchmarks: issue 3 measures a new leader
// taking back 10,000 agents running 100,000 tasks, and GET_STATE on the
// same cluster.
type BenchOptions struct {
	Agents int
	Tasks  int // spread evenly over the agents, of 100 frameworks
	Runs   int // each figure is the median of this many runs
}

// Benchmark sizes of issue 3, and Apache Mesos' published figures for them.
const (
	DefaultBenchAgents = 10000
	DefaultBenchTasks  = 100000
	DefaultBenchRuns   = 5
	mesosFailover      = "≈ 4.5 s (Mesos 1.5)"
	mesosGetState      = "≈ 3.3 s (Mesos /state)"
)

func (o *BenchOptions) defaults() {
	if o.Agents <= 0 {
		o.Agents = DefaultBenchAgents
	}
	if o.Tasks < 0 {
		o.Tasks = 0
	}
	if o.Runs <= 0 {
		o.Runs = DefaultBenchRuns
	}
}

// benchStart is the machines' clock in the benchmarks: time is injected,
// so any instant does.
var benchStart = time.Unix(1700000000, 0)

// failoverCluster builds what a new leader receives after a failover: the
// registry (agents and 100 frameworks) and one reregistration per agent
// carrying its running tasks, spread round-robin over the frameworks.
func failoverCluster(agents, tasks int) (Registry, []AgentCall) {
	var reg Registry
	calls := make([]AgentCall, 0, agents)
	total := mesos.MustParseResources("cpus:32;mem:65536")
	// Every task has resources of its own, as decoding each agent's
	// JSON gives: nothing is shared that a real master would not share.
	per := func() mesos.Resources {
		return mesos.Resources{mesos.ScalarResource("cpus", 0.1), mesos.ScalarResource("mem", 64)}.Allocate("*")
	}
	for i := 0; i < 100; i++ {
		reg.Frameworks = append(reg.Frameworks, RegistryFramework{Info: mesos.FrameworkInfo{
			ID: mesos.FrameworkID(fmt.Sprintf("m0-%04d", i)), User: "u", Name: "f"}})
	}
	n := 0
	for a := 0; a < agents; a++ {
		id := mesos.AgentID(fmt.Sprintf("m0-S%d", a))
		info := mesos.AgentInfo{Hostname: fmt.Sprintf("h%d", a), ID: id}
		reg.Agents = append(reg.Agents, RegistryAgent{Info: info})
		sub := &mesos.AgentSubscribe{AgentID: id, AgentInfo: &info, Resources: total}
		// Agents take tasks/agents each, the first tasks%agents one more.
		k := tasks / agents
		if a < tasks%agents {
			k++
		}
		for j := 0; j < k; j++ {
			fw := mesos.FrameworkID(fmt.Sprintf("m0-%04d", n%100))
			sub.Tasks = append(sub.Tasks, mesos.Task{TaskID: mesos.TaskID(fmt.Sprintf("t-%d-%d", a, j)),
				FrameworkID: fw, AgentID: id, State: mesos.TaskRunning, Resources: per()})
			n++
		}
		calls = append(calls, AgentCall{Req: ReqID(a + 1), Stream: StreamID(fmt.Sprint("s", a)),
			Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: id, Subscribe: sub}})
	}
	return reg, calls
}

// reregisterAll is a failover: a new machine from the registry takes
// every agent's reregistration.
func reregisterAll(reg Registry, calls []AgentCall) *Machine {
	m := New(Config{MasterID: "m1", Registry: reg}, benchStart)
	for _, c := range calls {
		m.Step(benchStart, c)
	}
	return m
}

// FailoverResult is what RunFailoverBench measured.
type FailoverResult struct {
	Agents, Tasks int
	Runs          []time.Duration // every run, in order
	Median        time.Duration
}

// RunFailoverBench measures a new leader taking back o.Agents agents
// running o.Tasks tasks: the state machine's share only (no HTTP, no
// JSON decoding), from a collected heap each run.
func RunFailoverBench(o BenchOptions) FailoverResult {
	o.defaults()
	reg, calls := failoverCluster(o.Agents, o.Tasks)
	r := FailoverResult{Agents: o.Agents, Tasks: o.Tasks}
	for range o.Runs {
		runtime.GC()
		start := time.Now()
		m := reregisterAll(reg, calls)
		r.Runs = append(r.Runs, time.Since(start))
		runtime.KeepAlive(m)
	}
	r.Median = median(r.Runs)
	return r
}

// GetStateResult is what RunGetStateBench measured.
type GetStateResult struct {
	Agents, Tasks int
	// Snapshot is the loop's share: copying the view reads are served
	// from (median).
	Snapshot time.Duration
	// Encode is the reader's share: the GET_STATE response's JSON from a
	// snapshot (median).
	Encode time.Duration
	// First is the first GET_STATE after the tasks came in, when no
	// task's JSON is cached yet.
	First time.Duration
	// Total is snapshot plus encoding, run after run (median): what one
	// GET_STATE costs.
	Total time.Duration
	// Changed is Total after one task's status changed since the last
	// snapshot: the common case on a busy master.
	Changed time.Duration
	Bytes   int
	// HeapPerTask is the machine's live heap (after GC) divided by its
	// tasks: everything it keeps, agents and frameworks included.
	HeapPerTask float64
	// HeapPerTaskCached is HeapPerTask once GET_STATE cached every
	// task's JSON.
	HeapPerTaskCached float64
}

// RunGetStateBench builds a machine holding o.Agents agents and o.Tasks
// tasks and measures GET_STATE on it, and the heap it holds per task.
func RunGetStateBench(o BenchOptions) (GetStateResult, error) {
	o.defaults()
	r := GetStateResult{Agents: o.Agents, Tasks: o.Tasks}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	reg, calls := failoverCluster(o.Agents, o.Tasks)
	m := reregisterAll(reg, calls)
	// What the machine keeps is measured without the calls it was fed:
	// strings it shares with them count, the rest of them does not.
	reg, calls = Registry{}, nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if o.Tasks > 0 {
		r.HeapPerTask = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(o.Tasks)
	}

	// The first GET_STATE encodes every task; later ones reuse what did
	// not change.
	runtime.GC()
	start := time.Now()
	buf, err := m.Snapshot().AppendGetStateJSON(nil)
	if err != nil {
		return r, fmt.Errorf("encode GET_STATE: %w", err)
	}
	r.First = time.Since(start)
	buf = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if o.Tasks > 0 {
		r.HeapPerTaskCached = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(o.Tasks)
	}

	var snaps, encs, totals, changed []time.Duration
	for i := range o.Runs {
		runtime.GC()
		start = time.Now()
		s := m.Snapshot()
		mid := time.Now()
		if buf, err = s.AppendGetStateJSON(buf[:0]); err != nil {
			return r, fmt.Errorf("encode GET_STATE: %w", err)
		}
		end := time.Now()
		snaps, encs, totals = append(snaps, mid.Sub(start)), append(encs, end.Sub(mid)), append(totals, end.Sub(start))
		r.Bytes = len(buf)

		// One task changes; the next GET_STATE sees it.
		if err := benchTouchTask(m, i); err != nil {
			return r, err
		}
		runtime.GC()
		start = time.Now()
		s = m.Snapshot()
		if buf, err = s.AppendGetStateJSON(buf[:0]); err != nil {
			return r, fmt.Errorf("encode GET_STATE: %w", err)
		}
		changed = append(changed, time.Since(start))
	}
	r.Snapshot, r.Encode, r.Total, r.Changed = median(snaps), median(encs), median(totals), median(changed)
	runtime.KeepAlive(m)
	return r, nil
}

// benchTouchTask has an agent report a status update for one of its
// tasks (without a UUID, so nothing waits for an acknowledgement).
func benchTouchTask(m *Machine, i int) error {
	if len(m.agents) == 0 {
		return nil
	}
	ids := sortedAgentIDs(m.agents)
	ag := m.agents[ids[i%len(ids)]]
	for key := range ag.tasks {
		out := m.Step(m.now, AgentCall{Stream: ag.stream, Call: &mesos.AgentCall{Type: mesos.AgentCallUpdate,
			AgentID: ag.id, Update: &mesos.AgentUpdate{FrameworkID: key.fw, Status: &mesos.TaskStatus{
				TaskID: key.id, State: mesos.TaskRunning, Message: fmt.Sprint("touch ", i)}}}})
		for _, a := range out {
			if rep, ok := a.(Reply); ok && rep.Status >= 400 {
				return fmt.Errorf("status update: %d %s", rep.Status, rep.Message)
			}
		}
		return nil
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// WriteFailoverBench prints r beside the target and Mesos' figure.
func WriteFailoverBench(w io.Writer, r FailoverResult) {
	fmt.Fprintf(w, "master failover: %d agents with %d tasks reregister with a new leader (state machine only; median of %d)\n",
		r.Agents, r.Tasks, len(r.Runs))
	fmt.Fprintf(w, "  %-34s %10s   target ≤ 500 ms   %s\n", "reregistration of every agent", benchMS(r.Median), mesosFailover)
}

// WriteGetStateBench prints r beside the targets and Mesos' figure.
func WriteGetStateBench(w io.Writer, r GetStateResult, runs int) {
	fmt.Fprintf(w, "GET_STATE: %d agents, %d tasks (snapshot + JSON of the operator response; median of %d)\n",
		r.Agents, r.Tasks, runs)
	fmt.Fprintf(w, "  %-34s %10s   target ≤ 300 ms   %s\n", "GET_STATE", benchMS(r.Total), mesosGetState)
	fmt.Fprintf(w, "  %-34s %10s\n", "  snapshot (master loop)", benchMS(r.Snapshot))
	fmt.Fprintf(w, "  %-34s %10s   %.1f MB\n", "  JSON encoding (reader)", benchMS(r.Encode), float64(r.Bytes)/1e6)
	fmt.Fprintf(w, "  %-34s %10s\n", "GET_STATE after one task changed", benchMS(r.Changed))
	fmt.Fprintf(w, "  %-34s %10s\n", "first GET_STATE (no JSON cached)", benchMS(r.First))
	fmt.Fprintf(w, "  %-34s %8.2f KB   target ≤ 2 KB\n", "master state heap per task", r.HeapPerTask/1024)
	fmt.Fprintf(w, "  %-34s %8.2f KB\n", "  with tasks' JSON cached", r.HeapPerTaskCached/1024)
}

func benchMS(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// RunBenchmarks runs the failover and GET_STATE benchmarks and prints
// them: what `strata bench master failover` and `… state` show.
func RunBenchmarks(w io.Writer, o BenchOptions, failover, getState bool) error {
	o.defaults()
	if failover {
		WriteFailoverBench(w, RunFailoverBench(o))
	}
	if getState {
		r, err := RunGetStateBench(o)
		if err != nil {
			return err
		}
		WriteGetStateBench(w, r, o.Runs)
	}
	return nil
}
