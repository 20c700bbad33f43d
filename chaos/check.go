package chaos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/master/mesos"
)

// The invariants, as named in the report.
const (
	InvAppsRecover    = "apps return to their instance count within the bound"
	InvRunOnce        = "no job run (job, instant, attempt) starts twice"
	InvNoSilentMiss   = "no scheduled instant is silently missed"
	InvDependents     = "each parent success triggers its dependent once"
	InvUpdates        = "every status update reaches its framework"
	InvNoOrphans      = "no task process outlives its task"
	InvAckedWrites    = "every write coord acknowledged is still there"
	InvClusterRecover = "the cluster becomes whole again within the bound"
)

// invariants lists them in report order.
var invariants = []string{InvAppsRecover, InvClusterRecover, InvRunOnce, InvNoSilentMiss, InvDependents,
	InvUpdates, InvNoOrphans, InvAckedWrites}

// Violation is one broken invariant.
type Violation struct {
	Invariant string    `json:"invariant"`
	At        time.Time `json:"at"`
	Detail    string    `json:"detail"`
}

// runView is the part of chronos' /history run record the checks read.
type runView struct {
	ID              string    `json:"id"`
	Kind            string    `json:"kind"`
	State           string    `json:"state"`
	Attempt         int       `json:"attempt"`
	ScheduledAt     time.Time `json:"scheduledAt"`
	LastScheduledAt time.Time `json:"lastScheduledAt"`
	Count           int64     `json:"count"`
	TaskID          string    `json:"taskId"`
	FinishedAt      time.Time `json:"finishedAt"`
}

func (r runView) terminal() bool {
	switch r.State {
	case "succeeded", "failed", "killed", "skipped":
		return true
	}
	return false
}

// checker holds what the invariants are checked against: the runs
// chronos reported (accumulated, since its history is bounded), the
// coord writes acknowledged, and suspected orphan processes.
type checker struct {
	w *workload
	c *Cluster

	mu         sync.Mutex
	runs       map[string]runView // run ID → latest record
	checks     map[string]int     // invariant → times checked
	violations []Violation
	seen       map[string]bool // violation keys already reported

	acked   map[string]string // znode → data, acknowledged by coord
	suspect map[int]string    // pid → task ID not running at the last scan
}

func newChecker(w *workload, c *Cluster) *checker {
	return &checker{w: w, c: c, runs: map[string]runView{}, checks: map[string]int{},
		seen: map[string]bool{}, acked: map[string]string{}, suspect: map[int]string{}}
}

// violate records a violation once per key.
func (k *checker) violate(inv, key, detail string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.seen[inv+"\x00"+key] {
		return
	}
	k.seen[inv+"\x00"+key] = true
	k.violations = append(k.violations, Violation{Invariant: inv, At: time.Now(), Detail: detail})
}

func (k *checker) checked(inv string, n int) {
	k.mu.Lock()
	k.checks[inv] += n
	k.mu.Unlock()
}

// pollHistory adds chronos' latest run records to what is known.
func (k *checker) pollHistory() error {
	p, err := k.c.frameworkLeader(k.c.chronoses, "/v1/scheduler/leader")
	if err != nil {
		return err
	}
	for _, j := range k.w.jobs {
		var h struct {
			Runs []runView `json:"runs"`
		}
		if err := k.c.get(p, "/v1/scheduler/history/"+j.name+"?limit=100", &h); err != nil {
			return err
		}
		k.mu.Lock()
		for _, r := range h.Runs {
			if old, ok := k.runs[r.ID]; !ok || !old.terminal() || r.terminal() {
				k.runs[r.ID] = r
			}
		}
		k.mu.Unlock()
	}
	return nil
}

// checkRuns checks run-once and, for instants old enough, no silent
// miss, dependents and delivery of final updates. until bounds the
// instants that must be accounted for by now.
func (k *checker) checkRuns(until time.Time, final bool) (started int, err error) {
	starts, err := k.w.readStarts()
	if err != nil {
		return 0, err
	}
	type key struct {
		job     string
		at      int64
		attempt int
	}
	count := map[key]int{}
	startedAt := map[string]map[int64]bool{} // job → instants with a start
	for _, s := range starts {
		kk := key{s.job, s.at, s.attempt}
		count[kk]++
		if count[kk] == 2 {
			k.violate(InvRunOnce, s.taskID, fmt.Sprintf("%s started twice (job %s, instant %s, attempt %d)",
				s.taskID, s.job, time.UnixMilli(s.at).UTC().Format(time.RFC3339Nano), s.attempt))
		}
		if startedAt[s.job] == nil {
			startedAt[s.job] = map[int64]bool{}
		}
		startedAt[s.job][s.at] = true
	}
	k.checked(InvRunOnce, len(starts))

	k.mu.Lock()
	runs := make([]runView, 0, len(k.runs))
	for _, r := range k.runs {
		runs = append(runs, r)
	}
	k.mu.Unlock()
	byJob := map[string][]runView{}
	byTask := map[string]runView{}
	for _, r := range runs {
		job := jobOfRun(r)
		byJob[job] = append(byJob[job], r)
		if r.TaskID != "" {
			byTask[r.TaskID] = r
		}
	}

	// No silent miss: each instant of each scheduled job, from the first
	// to until-epsilon, either started or has a run record (late,
	// failed, or a recorded skip span).
	horizon := until.Add(-k.w.epsilon - 10*time.Second)
	for _, j := range k.w.jobs {
		if j.period == 0 {
			continue
		}
		n := 0
		for t := k.w.first; !t.After(horizon); t = t.Add(j.period) {
			n++
			if startedAt[j.name][t.UnixMilli()] || covered(byJob[j.name], t) {
				continue
			}
			k.violate(InvNoSilentMiss, j.name+"@"+t.String(), fmt.Sprintf("job %s: instant %s neither ran nor was recorded (late, failed or skipped)",
				j.name, t.UTC().Format(time.RFC3339)))
		}
		k.checked(InvNoSilentMiss, n)
	}

	// Dependents: every success of a parent before the horizon caused a
	// dependent run; no more dependent runs than parent successes.
	for _, j := range k.w.jobs {
		if len(j.parents) != 1 {
			continue
		}
		parentOK, parentOKBefore := 0, 0
		for _, r := range byJob[j.parents[0]] {
			if r.State == "succeeded" {
				parentOK++
				if r.FinishedAt.Before(horizon) {
					parentOKBefore++
				}
			}
		}
		children, childrenBefore := len(byJob[j.name]), 0
		for _, r := range byJob[j.name] {
			if r.ScheduledAt.Before(horizon) {
				childrenBefore++
			}
		}
		if !final {
			continue // the parent's newest success may not be polled yet
		}
		k.checked(InvDependents, 1)
		if childrenBefore > parentOK {
			k.violate(InvDependents, j.name+"-extra", fmt.Sprintf("job %s ran %d times for %d successes of %s",
				j.name, childrenBefore, parentOK, j.parents[0]))
		}
		if children < parentOKBefore {
			k.violate(InvDependents, j.name+"-missing", fmt.Sprintf("job %s ran %d times for %d successes of %s",
				j.name, children, parentOKBefore, j.parents[0]))
		}
	}

	// Delivery: a run that started long enough ago has reached a terminal
	// state in chronos (its TASK_FINISHED got through).
	if final {
		for _, s := range starts {
			if s.at > until.UnixMilli() {
				continue // started after the faults; may still be running
			}
			r, ok := byTask[s.taskID]
			if !ok || !r.terminal() {
				k.violate(InvUpdates, s.taskID, fmt.Sprintf("chronos never learned that %s ended (record: %+v)", s.taskID, r))
			}
		}
		k.checked(InvUpdates, len(starts))
	}
	return len(starts), nil
}

// covered reports whether a run record accounts for instant t.
func covered(runs []runView, t time.Time) bool {
	for _, r := range runs {
		if r.ScheduledAt.Equal(t) {
			return true
		}
		if r.State == "skipped" && !r.ScheduledAt.After(t) && !r.LastScheduledAt.Before(t) {
			return true
		}
	}
	return false
}

// jobOfRun is the job a run record belongs to: the task ID names it, and
// run IDs start with it (job@instant, job@instant#2, job!run7, job+dep3).
func jobOfRun(r runView) string {
	if parts := strings.Split(r.TaskID, ":"); len(parts) == 5 {
		return parts[3]
	}
	if i := strings.IndexAny(r.ID, "@#!+"); i > 0 {
		return r.ID[:i]
	}
	return r.ID
}

// scanTasks lists live processes carrying this run's CHAOS_RUN, by PID,
// with their MESOS_TASK_ID.
func (k *checker) scanTasks() map[int]string {
	out := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	want := []byte("CHAOS_RUN=" + k.w.runID + "\x00")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append(env, 0), want) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil || zombie(stat) {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("MESOS_TASK_ID=")); ok {
				out[pid] = string(v)
			}
		}
	}
	return out
}

// zombie reports whether a /proc/<pid>/stat line is of a zombie.
func zombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// checkOrphans compares live task processes with the leading master's
// tasks. A process whose task is not live in the master at two scans in
// a row (the first only makes it a suspect: the task may just have ended
// and the process be on its way out) outlived its task.
func (k *checker) checkOrphans() error {
	_, st, err := k.c.leadingMaster()
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, t := range st.Tasks {
		if !terminalState(t.State) {
			live[string(t.TaskID)] = true
		}
	}
	for _, t := range st.Unreach {
		live[string(t.TaskID)] = true
	}
	procs := k.scanTasks()
	next := map[int]string{}
	for pid, task := range procs {
		if live[task] {
			continue
		}
		if k.suspect[pid] == task {
			k.violate(InvNoOrphans, strconv.Itoa(pid)+task, fmt.Sprintf("process %d of task %s runs, but the master has no live task %s", pid, task, task))
		}
		next[pid] = task
	}
	k.suspect = next
	k.checked(InvNoOrphans, len(procs))
	return nil
}

func terminalState(s mesos.TaskState) bool {
	switch s {
	case "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR":
		return true
	}
	return false
}

// checkMarathonAgrees compares marathon's tasks with the master's: each
// side's view of the framework's live tasks must be the same.
func (k *checker) checkMarathonAgrees() error {
	p, err := k.c.frameworkLeader(k.c.marathons, "/v2/leader")
	if err != nil {
		return err
	}
	var mt struct {
		Tasks []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"tasks"`
	}
	if err := k.c.get(p, "/v2/tasks", &mt); err != nil {
		return err
	}
	_, st, err := k.c.leadingMaster()
	if err != nil {
		return err
	}
	inMaster := map[string]bool{}
	for _, t := range st.Tasks {
		if !terminalState(t.State) && !strings.HasPrefix(string(t.TaskID), "ct:") {
			inMaster[string(t.TaskID)] = true
		}
	}
	inMarathon := map[string]bool{}
	for _, t := range mt.Tasks {
		inMarathon[t.ID] = true
	}
	var diff []string
	for id := range inMaster {
		if !inMarathon[id] {
			diff = append(diff, "master only: "+id)
		}
	}
	for id := range inMarathon {
		if !inMaster[id] {
			diff = append(diff, "marathon only: "+id)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		return fmt.Errorf("marathon and the master disagree on %d tasks: %s", len(diff), strings.Join(diff, ", "))
	}
	return nil
}

// ackWriter writes sequential znodes to coord until ctx ends and keeps
// the ones coord acknowledged.
func (k *checker) ackWriter(ctx context.Context) {
	conn, _, err := zk.Connect(k.c.zkAddrs, 10*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		k.violate(InvAckedWrites, "connect", "cannot connect to coord: "+err.Error())
		return
	}
	defer conn.Close()
	const root = "/chaos-acks"
	_ = retry(30*time.Second, func() error {
		_, err := conn.Create(root, nil, 0, zk.WorldACL(zk.PermAll))
		if err == zk.ErrNodeExists {
			return nil
		}
		return err
	})
	for i := 0; ctx.Err() == nil; i++ {
		data := strconv.Itoa(i)
		path, err := conn.Create(root+"/w-", []byte(data), zk.FlagSequence, zk.WorldACL(zk.PermAll))
		if err == nil {
			k.mu.Lock()
			k.acked[path] = data
			k.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// checkAcks verifies every acknowledged write is still in coord: its
// name (cheap, each round) or also its data (final).
func (k *checker) checkAcks(full bool) (int, error) {
	conn, _, err := zk.Connect(k.c.zkAddrs, 10*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	const root = "/chaos-acks"
	// Only writes acknowledged before the read can be expected in it; and
	// a server may lag the leader (ZooKeeper's reads are not
	// linearizable), so sync first, as a client that must see every
	// acknowledged write does.
	k.mu.Lock()
	acked := make(map[string]string, len(k.acked))
	for p, d := range k.acked {
		acked[p] = d
	}
	k.mu.Unlock()
	var names []string
	if err := retry(20*time.Second, func() error {
		if _, err := conn.Sync(root); err != nil {
			return err
		}
		var err error
		names, _, err = conn.Children(root)
		return err
	}); err != nil {
		return 0, err
	}
	have := map[string]bool{}
	for _, n := range names {
		have[root+"/"+n] = true
	}
	for p, d := range acked {
		if !have[p] {
			k.violate(InvAckedWrites, p, fmt.Sprintf("acknowledged write %s (data %q) is gone", p, d))
			continue
		}
		if full {
			var got []byte
			if err := retry(20*time.Second, func() error {
				var err error
				got, _, err = conn.Get(p)
				return err
			}); err != nil {
				return 0, err
			}
			if string(got) != d {
				k.violate(InvAckedWrites, p, fmt.Sprintf("acknowledged write %s holds %q, not %q", p, got, d))
			}
		}
	}
	k.checked(InvAckedWrites, len(acked))
	return len(acked), nil
}

// quietLogger keeps go-zookeeper's reconnect chatter out of the report.
type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
