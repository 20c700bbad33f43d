package core

import (
	"time"
)

// Schedule yields a job's instants. Next returns the first instant strictly
// after `after`, and false once the schedule is exhausted (R5/... after its
// fifth repetition). chronos/schedule's Schedule satisfies it; the core
// declares its own interface so it stays free of parsing concerns.
type Schedule interface {
	Next(after time.Time) (time.Time, bool)
}

// JobSpec is what scheduling needs from a job definition. The daemon maps
// its job model onto it; everything else (command, resources, constraints)
// stays with the daemon, which builds the task when it acts on a launch.
type JobSpec struct {
	Name string
	// Schedule is nil for a dependent job.
	Schedule Schedule
	// Parents names the jobs a dependent job waits for.
	Parents []string
	// Epsilon is how late an instant may still start; 0 means
	// Config.DefaultEpsilon.
	Epsilon time.Duration
	// Retries is how many times a failed attempt is retried (Chronos'
	// default is 2; the job model applies it, the core takes the value).
	Retries           int
	Concurrent        bool
	SoftError         bool
	Disabled          bool
	MaxCompletionTime time.Duration // 0 means no limit
	// Since is when the job (or its schedule or parents) was last saved.
	// Instants at or before it are never considered, so a new job whose
	// ISO start lies in the past does not report years of misses, and
	// parents' runs that finished before it do not trigger a dependent
	// job. It must be persisted by the daemon: a zero Since makes the core
	// use the `now` it is given, which after a failover could hide
	// instants of a job that had never recorded a run.
	Since time.Time
}

// RunKind says why a run exists.
type RunKind string

// Run kinds.
const (
	KindScheduled  RunKind = "scheduled"
	KindDependency RunKind = "dependency"
	KindManual     RunKind = "manual"
	KindRetry      RunKind = "retry"
	// KindMarked is a run that never executed: the operator marked the job
	// successful (PUT /job/success/{name}), which releases its children.
	KindMarked RunKind = "marked"
)

// RunState is a run record's lifecycle state.
type RunState string

// Run states. pending, launched and running are active; the rest are
// terminal.
const (
	StatePending   RunState = "pending" // a retry waiting for NotBefore
	StateLaunched  RunState = "launched"
	StateRunning   RunState = "running"
	StateSucceeded RunState = "succeeded"
	StateFailed    RunState = "failed"
	StateKilled    RunState = "killed"
	StateSkipped   RunState = "skipped"
)

// Active reports whether a run in this state still occupies its job.
func (s RunState) Active() bool {
	return s == StatePending || s == StateLaunched || s == StateRunning
}

// SkipReason says why a run was recorded skipped instead of launched.
type SkipReason string

// Skip reasons.
const (
	SkipMissedEpsilon     SkipReason = "missed-epsilon"
	SkipConcurrentRunning SkipReason = "concurrent-running"
	SkipDisabled          SkipReason = "disabled"
)

// Run is one persisted run record. Every field the core needs after a
// failover lives here; the daemon stores it as JSON (one node per run).
type Run struct {
	ID   string  `json:"id"`
	Job  string  `json:"job"`
	Kind RunKind `json:"kind"`
	// Seq is a global, monotonically increasing creation number.
	Seq uint64 `json:"seq"`
	// Origin is the ID of the first attempt, for retries.
	Origin  string `json:"origin,omitempty"`
	Attempt int    `json:"attempt"`
	// ScheduledAt is the instant for scheduled runs (the first instant of
	// a skip span) and the creation time for the other kinds.
	ScheduledAt time.Time `json:"scheduledAt"`
	// LastScheduledAt and Count describe a skip span: instants from
	// ScheduledAt through LastScheduledAt, Count of them. CountCapped means
	// counting stopped at Config.BacklogScanLimit; LastScheduledAt is then
	// the bound below which every instant was skipped.
	LastScheduledAt time.Time  `json:"lastScheduledAt,omitzero"`
	Count           int64      `json:"count,omitempty"`
	CountCapped     bool       `json:"countCapped,omitempty"`
	State           RunState   `json:"state"`
	SkipReason      SkipReason `json:"skipReason,omitempty"`
	Arguments       []string   `json:"arguments,omitempty"`
	TaskID          string     `json:"taskId,omitempty"`
	Agent           string     `json:"agent,omitempty"`
	LaunchedAt      time.Time  `json:"launchedAt,omitzero"`
	NotBefore       time.Time  `json:"notBefore,omitzero"`
	StartedAt       time.Time  `json:"startedAt,omitzero"`
	FinishedAt      time.Time  `json:"finishedAt,omitzero"`
	ExitStatus      *int       `json:"exitStatus,omitempty"`
	Message         string     `json:"message,omitempty"`
	// KillReason is set when the core asked for a kill: "timeout" or
	// "operator". It decides what a TASK_KILLED means.
	KillReason string `json:"killReason,omitempty"`
	// CompletionSeq is assigned from the same counter as Seq when the run
	// becomes terminal; it orders completions for dependency release and
	// for repairing JobStatus after a crash.
	CompletionSeq uint64 `json:"completionSeq,omitempty"`
	// RetryID names the attempt created after this one failed; a failed
	// run without it is the run's final outcome.
	RetryID string `json:"retryId,omitempty"`
	// Releases marks a completion that lets dependent jobs run.
	Releases bool `json:"releases,omitempty"`
	// Parents is, for dependency runs, each parent's release sequence
	// consumed by this run.
	Parents map[string]uint64 `json:"parents,omitempty"`
}

// Duration is how long the attempt ran, or 0 if unknown.
func (r *Run) Duration() time.Duration {
	start := r.StartedAt
	if start.IsZero() {
		start = r.LaunchedAt
	}
	if start.IsZero() || r.FinishedAt.IsZero() || r.FinishedAt.Before(start) {
		return 0
	}
	return r.FinishedAt.Sub(start)
}

func (r *Run) clone() *Run {
	c := *r
	if r.Arguments != nil {
		c.Arguments = append([]string(nil), r.Arguments...)
	}
	if r.Parents != nil {
		c.Parents = make(map[string]uint64, len(r.Parents))
		for k, v := range r.Parents {
			c.Parents[k] = v
		}
	}
	if r.ExitStatus != nil {
		e := *r.ExitStatus
		c.ExitStatus = &e
	}
	return &c
}

// JobStatus is the per-job persisted counters record: Chronos' read-only
// job fields plus what disable-after-failures needs.
type JobStatus struct {
	Job                    string               `json:"job"`
	SuccessCount           int64                `json:"successCount"`
	ErrorCount             int64                `json:"errorCount"`
	LastSuccess            time.Time            `json:"lastSuccess,omitzero"`
	LastError              time.Time            `json:"lastError,omitzero"`
	ErrorsSinceLastSuccess int64                `json:"errorsSinceLastSuccess"`
	Skipped                map[SkipReason]int64 `json:"skipped,omitempty"`
	// AutoDisabled is set when disable-after-failures fired; it keeps the
	// job disabled even if the daemon crashed before saving disabled:true.
	AutoDisabled bool `json:"autoDisabled,omitempty"`
	// Through is the highest CompletionSeq already counted here; on
	// restore, terminal runs above it are counted (a crash between writing
	// a run and its status loses nothing).
	Through uint64 `json:"through"`
}

func (s *JobStatus) clone() *JobStatus {
	c := *s
	c.Skipped = make(map[SkipReason]int64, len(s.Skipped))
	for k, v := range s.Skipped {
		c.Skipped[k] = v
	}
	return &c
}

// Record is one persisted node: exactly one of Run or Status is set.
type Record struct {
	Run    *Run       `json:"run,omitempty"`
	Status *JobStatus `json:"status,omitempty"`
}

// Key is the record's storage key, unique across both kinds.
func (r Record) Key() string {
	if r.Run != nil {
		return "run/" + r.Run.ID
	}
	if r.Status != nil {
		return "status/" + r.Status.Job
	}
	return ""
}

// Action is what the daemon does after persisting a decision's writes.
type Action int

// Actions.
const (
	ActionNone Action = iota
	// ActionLaunch: launch Decision.Run (its TaskID, Arguments) when an
	// offer fits.
	ActionLaunch
	// ActionKill: kill Decision.Run's task.
	ActionKill
	// ActionDisableJob: save Decision.Job with disabled:true.
	ActionDisableJob
)

func (a Action) String() string {
	switch a {
	case ActionLaunch:
		return "launch"
	case ActionKill:
		return "kill"
	case ActionDisableJob:
		return "disable"
	}
	return "none"
}

// Decision is one unit of work for the daemon: persist Writes in order
// (durably, fenced), then delete Deletes (record keys), then perform
// Action. Persisting must complete before the action starts: that is what
// makes a run launch at most once across failover.
type Decision struct {
	Writes  []Record
	Deletes []string
	Action  Action
	Job     string
	// Run is a copy of the run to launch or kill.
	Run *Run
}

// EventKind is a task status update, as the daemon maps Mesos states.
type EventKind int

// Event kinds. TASK_RUNNING → Started; TASK_FINISHED → Finished;
// TASK_FAILED/TASK_ERROR → Failed; TASK_KILLED → Killed; TASK_LOST,
// TASK_DROPPED, TASK_GONE, unknown on reconciliation → Lost.
const (
	EventStarted EventKind = iota
	EventFinished
	EventFailed
	EventKilled
	EventLost
)

// Event is a task status update for a task the core launched.
type Event struct {
	Kind       EventKind
	TaskID     string
	Agent      string
	ExitStatus *int
	Message    string
}

// Config holds the daemon-wide settings the core needs.
type Config struct {
	// FailureRetry is the delay before a failed attempt is retried
	// (--failure-retry, 60 s).
	FailureRetry time.Duration
	// DisableAfterFailures disables a job after this many consecutive
	// failed runs (--disable-after-failures, 0 = never).
	DisableAfterFailures int
	// DefaultEpsilon applies to jobs whose Epsilon is 0 (60 s).
	DefaultEpsilon time.Duration
	// HistoryLimit is how many terminal run records are kept per job; older
	// ones are deleted (100).
	HistoryLimit int
	// BacklogScanLimit bounds how many missed instants are counted one by
	// one before a backlog is collapsed with CountCapped (10,000).
	BacklogScanLimit int
}

func (c Config) withDefaults() Config {
	if c.FailureRetry <= 0 {
		c.FailureRetry = 60 * time.Second
	}
	if c.DefaultEpsilon <= 0 {
		c.DefaultEpsilon = 60 * time.Second
	}
	if c.HistoryLimit <= 0 {
		c.HistoryLimit = 100
	}
	if c.BacklogScanLimit <= 0 {
		c.BacklogScanLimit = 10000
	}
	return c
}
