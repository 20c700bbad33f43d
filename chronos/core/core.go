package core

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Core is the scheduler state machine. It is not safe for concurrent use:
// like the master's state machine, one goroutine of the daemon owns it.
type Core struct {
	cfg      Config
	jobs     map[string]*jobState
	children map[string]map[string]bool // parent → children
	runs     map[string]*Run            // every retained record, by ID
	byTask   map[string]*Run            // active launched/running, by task ID
	seq      uint64
	timers   timerHeap
	order    uint64
	// depCheck holds dependent jobs to evaluate at the next tick; after a
	// restore that is all of them, because the old leader may have
	// recorded a parent's release and died before recording the child.
	depCheck map[string]bool
	// queued holds decisions produced outside a call that returns them
	// (restore), handed out by the next Tick.
	queued []Decision
}

// jobState is the core's view of one job, rebuilt from records on New.
type jobState struct {
	spec   JobSpec
	status *JobStatus
	// gen invalidates queued instant timers when the job changes.
	gen uint64
	// cursor: every instant at or before it has been handled.
	cursor time.Time
	// lastSched is the latest scheduled-kind record; a new skip with the
	// same reason extends it instead of adding a record.
	lastSched *Run
	active    map[string]*Run
	history   []*Run // terminal records, oldest first
	// lastOK is the CompletionSeq of the latest releasing run.
	lastOK    uint64
	lastOKRun *Run
	// lastDep is the latest dependency run; its Parents map is what has
	// been consumed.
	lastDep *Run
	// disableSent avoids repeating ActionDisableJob within one leadership.
	disableSent bool
}

func (j *jobState) epsilon(cfg Config) time.Duration {
	if j.spec.Epsilon > 0 {
		return j.spec.Epsilon
	}
	return cfg.DefaultEpsilon
}

func (j *jobState) disabled() bool { return j.spec.Disabled || j.status.AutoDisabled }

// New builds a core from the job definitions and every record the daemon
// persisted (in any order), as a newly elected leader does. now stands in
// for a zero JobSpec.Since.
func New(cfg Config, jobs []JobSpec, records []Record, now time.Time) (*Core, error) {
	c := &Core{
		cfg:      cfg.withDefaults(),
		jobs:     make(map[string]*jobState, len(jobs)),
		children: make(map[string]map[string]bool),
		runs:     make(map[string]*Run, len(records)),
		byTask:   make(map[string]*Run),
		depCheck: make(map[string]bool),
	}
	for i := range jobs {
		spec := jobs[i]
		if spec.Since.IsZero() {
			spec.Since = now
		}
		if err := validateName(spec); err != nil {
			return nil, err
		}
		if _, dup := c.jobs[spec.Name]; dup {
			return nil, fmt.Errorf("job %q: defined twice", spec.Name)
		}
		c.jobs[spec.Name] = newJobState(spec)
	}
	for _, j := range c.jobs {
		c.link(j.spec)
	}
	for name := range c.jobs {
		if err := c.checkCycle(name); err != nil {
			return nil, err
		}
	}

	var runs []*Run
	for _, rec := range records {
		switch {
		case rec.Status != nil:
			if j := c.jobs[rec.Status.Job]; j != nil {
				j.status = rec.Status.clone()
				if j.status.Skipped == nil {
					j.status.Skipped = map[SkipReason]int64{}
				}
			}
		case rec.Run != nil:
			r := rec.Run.clone()
			c.runs[r.ID] = r
			runs = append(runs, r)
			c.seq = max(c.seq, r.Seq, r.CompletionSeq)
		}
	}
	sort.Slice(runs, func(a, b int) bool { return runs[a].Seq < runs[b].Seq })
	for _, r := range runs {
		j := c.jobs[r.Job]
		if j == nil {
			continue // job deleted; its records are the daemon's to remove
		}
		if r.Kind == KindScheduled && (j.lastSched == nil || schedBound(r).After(schedBound(j.lastSched))) {
			j.lastSched = r
		}
		if r.Kind == KindDependency {
			j.lastDep = r
		}
		if r.Releases && r.CompletionSeq > j.lastOK {
			j.lastOK, j.lastOKRun = r.CompletionSeq, r
		}
		if r.State.Active() {
			j.active[r.ID] = r
		}
	}
	// History in completion order; repair counters the old leader may not
	// have written.
	sort.Slice(runs, func(a, b int) bool { return runs[a].CompletionSeq < runs[b].CompletionSeq })
	for _, r := range runs {
		j := c.jobs[r.Job]
		if j == nil || r.State.Active() {
			continue
		}
		j.history = append(j.history, r)
		if r.CompletionSeq > j.status.Through {
			c.count(j, r)
		}
	}

	for _, name := range c.sortedJobs() {
		j := c.jobs[name]
		c.arm(j)
		for _, r := range sortedRuns(j.active) {
			switch r.State {
			case StatePending:
				c.push(timer{at: r.NotBefore, kind: timerRetry, job: r.Job, run: r.ID})
			default:
				if r.TaskID != "" {
					c.byTask[r.TaskID] = r
				}
				c.pushDeadline(j, r)
				if r.KillReason != "" {
					// The old leader recorded the kill; it may have died
					// before sending it. Kills are idempotent: send again.
					c.queued = append(c.queued, Decision{Action: ActionKill, Job: name, Run: r.clone()})
				}
			}
		}
		if len(j.spec.Parents) > 0 {
			c.depCheck[name] = true
		}
		if j.status.AutoDisabled && !j.spec.Disabled {
			j.disableSent = true
			c.queued = append(c.queued, Decision{Action: ActionDisableJob, Job: name})
		}
	}
	return c, nil
}

func newJobState(spec JobSpec) *jobState {
	spec.Parents = append([]string(nil), spec.Parents...)
	return &jobState{
		spec:   spec,
		status: &JobStatus{Job: spec.Name, Skipped: map[SkipReason]int64{}},
		active: make(map[string]*Run),
	}
}

// schedBound is the last instant a scheduled-kind record accounts for.
func schedBound(r *Run) time.Time {
	if r.LastScheduledAt.After(r.ScheduledAt) {
		return r.LastScheduledAt
	}
	return r.ScheduledAt
}

// arm positions a scheduled job after what it has handled and queues its
// next instant.
func (c *Core) arm(j *jobState) {
	j.gen++
	if j.spec.Schedule == nil {
		return
	}
	j.cursor = j.spec.Since
	if j.lastSched != nil && schedBound(j.lastSched).After(j.cursor) {
		j.cursor = schedBound(j.lastSched)
	}
	if next, ok := j.spec.Schedule.Next(j.cursor); ok {
		c.pushInstant(j, next)
	}
}

func validateName(spec JobSpec) error {
	if spec.Name == "" {
		return fmt.Errorf("job name: required")
	}
	if strings.ContainsAny(spec.Name, "@!#+/ ") {
		return fmt.Errorf("job %q: name: must match [\\w.-]+", spec.Name)
	}
	return nil
}

func (c *Core) link(spec JobSpec) {
	for _, p := range spec.Parents {
		if c.children[p] == nil {
			c.children[p] = make(map[string]bool)
		}
		c.children[p][spec.Name] = true
	}
}

func (c *Core) unlink(spec JobSpec) {
	for _, p := range spec.Parents {
		delete(c.children[p], spec.Name)
		if len(c.children[p]) == 0 {
			delete(c.children, p)
		}
	}
}

// checkCycleWith reports whether saving spec (replacing old) would close
// a cycle; the graph is left as it was.
func (c *Core) checkCycleWith(spec JobSpec, old *jobState) error {
	c.jobs[spec.Name] = &jobState{spec: spec}
	err := c.checkCycle(spec.Name)
	if old != nil {
		c.jobs[spec.Name] = old
	} else {
		delete(c.jobs, spec.Name)
	}
	return err
}

// checkCycle reports a cycle through start's parents.
func (c *Core) checkCycle(start string) error {
	seen := map[string]bool{}
	var walk func(name string, path []string) error
	walk = func(name string, path []string) error {
		j := c.jobs[name]
		if j == nil {
			return nil
		}
		for _, p := range j.spec.Parents {
			if p == start {
				return fmt.Errorf("job %q: parents: cycle %s", start, strings.Join(append(append([]string{start}, path...), p), " <- "))
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			if err := walk(p, append(path, p)); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(start, nil)
}

// Upsert adds or changes a job, as an operator's POST does. Instants
// already due under the old definition are handled first; the new schedule
// then takes effect after max(spec.Since, the last handled instant).
// Saving a job with disabled:false clears an automatic disable, like
// re-enabling a job in Chronos.
func (c *Core) Upsert(spec JobSpec, now time.Time) ([]Decision, error) {
	if err := validateName(spec); err != nil {
		return nil, err
	}
	if spec.Since.IsZero() {
		spec.Since = now
	}
	if spec.Schedule != nil && len(spec.Parents) > 0 {
		return nil, fmt.Errorf("job %q: schedule and parents are mutually exclusive", spec.Name)
	}
	for _, p := range spec.Parents {
		if p == spec.Name {
			return nil, fmt.Errorf("job %q: parents: a job cannot depend on itself", spec.Name)
		}
		if c.jobs[p] == nil {
			return nil, fmt.Errorf("job %q: parents: unknown job %q", spec.Name, p)
		}
	}
	old := c.jobs[spec.Name]
	if err := c.checkCycleWith(spec, old); err != nil {
		return nil, err
	}
	var out []Decision
	if old != nil && old.spec.Schedule != nil {
		// Handle what is already due under the old definition first, so an
		// update saved (with a new Since) just before a tick hides nothing.
		if next, ok := old.spec.Schedule.Next(old.cursor); ok && !next.After(now) {
			out = append(out, c.instant(old, next, now)...)
		}
	}
	j := newJobState(spec)
	if old != nil {
		// Keep everything learned from records; only the definition changes.
		*j = *old
		j.spec = spec
		j.spec.Parents = append([]string(nil), spec.Parents...)
		c.unlink(old.spec)
	}
	c.jobs[spec.Name] = j
	c.link(j.spec)
	if old != nil && !spec.Disabled && (j.status.AutoDisabled || j.status.ErrorsSinceLastSuccess > 0) && old.disabled() {
		st := j.status.clone()
		st.AutoDisabled = false
		st.ErrorsSinceLastSuccess = 0
		j.status = st
		j.disableSent = false
		out = append(out, Decision{Writes: []Record{{Status: st.clone()}}, Job: spec.Name})
	}
	c.arm(j)
	if len(j.spec.Parents) > 0 {
		c.depCheck[spec.Name] = true
	}
	return out, nil
}

// Remove forgets a job and asks for its active tasks to be killed. Its
// run records stay until the daemon deletes them; children that still
// name it as a parent simply never become due.
func (c *Core) Remove(name string, now time.Time) []Decision {
	j := c.jobs[name]
	if j == nil {
		return nil
	}
	out := c.Kill(name, now)
	c.unlink(j.spec)
	delete(c.jobs, name)
	delete(c.depCheck, name)
	return out
}

func (c *Core) next() uint64 {
	c.seq++
	return c.seq
}

func (c *Core) sortedJobs() []string {
	names := make([]string, 0, len(c.jobs))
	for n := range c.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func sortedRuns(m map[string]*Run) []*Run {
	out := make([]*Run, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Seq < out[b].Seq })
	return out
}

func taskID(r *Run) string {
	return "ct:" + strconv.FormatInt(r.ScheduledAt.UnixMilli(), 10) + ":" + strconv.Itoa(r.Attempt) + ":" + r.Job + ":" + strconv.FormatUint(r.Seq, 10)
}

func scheduledID(job string, at time.Time) string {
	return job + "@" + at.UTC().Format(time.RFC3339Nano)
}

// finish moves a run out of the active set into history.
func (c *Core) finish(j *jobState, r *Run, now time.Time) {
	r.CompletionSeq = c.next()
	if r.FinishedAt.IsZero() && r.State != StateSkipped {
		r.FinishedAt = now
	}
	delete(c.byTask, r.TaskID)
	if j == nil {
		return
	}
	delete(j.active, r.ID)
	j.history = append(j.history, r)
}

// prune deletes the oldest history beyond the limit, keeping the records
// the core's own state is derived from after a restore.
func (c *Core) prune(j *jobState) []string {
	if len(j.history) <= c.cfg.HistoryLimit {
		return nil
	}
	var keys []string
	keep := j.history[:0]
	excess := len(j.history) - c.cfg.HistoryLimit
	for _, r := range j.history {
		if excess > 0 && r != j.lastSched && r != j.lastOKRun && r != j.lastDep {
			excess--
			delete(c.runs, r.ID)
			keys = append(keys, Record{Run: r}.Key())
			continue
		}
		keep = append(keep, r)
	}
	for i := len(keep); i < len(j.history); i++ {
		j.history[i] = nil
	}
	j.history = keep
	return keys
}

// NextWake is when the daemon should call Tick next if no event arrives
// first. ok is false when nothing is scheduled at all; a zero time with ok
// means "now".
func (c *Core) NextWake() (time.Time, bool) {
	if len(c.queued) > 0 || len(c.depCheck) > 0 {
		return time.Time{}, true
	}
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return c.timers[0].at, true
}
