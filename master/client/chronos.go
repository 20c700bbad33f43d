package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ChronosDefaultAddr is where `strata chronos` listens by default (the
// far side's address of an ssh:// --chronos without one).
const ChronosDefaultAddr = "127.0.0.1:4400"

// Chronos is a small typed client of Chronos' REST API (/v1/scheduler),
// with Strata's run history extension. A follower's 307 is followed to
// the leader. Reads return a Doc, whose Raw is the API's own document. It
// is safe for concurrent use.
type Chronos struct{ c *restClient }

// NewChronos returns a client of the API at addr (see ResolveFramework);
// of opts, Token, TLSConfig, DialContext and Timeout apply.
func NewChronos(addr string, opts Options) (*Chronos, error) {
	c, err := newRESTClient("chronos", addr, opts)
	if err != nil {
		return nil, err
	}
	return &Chronos{c: c}, nil
}

// Close drops idle connections.
func (c *Chronos) Close() error { c.c.close(); return nil }

// Addr is the API's address as given.
func (c *Chronos) Addr() string { return c.c.addr() }

// ChronosJob is the part of a Chronos job (GET /v1/scheduler/jobs) that
// the CLI and TUI show.
type ChronosJob struct {
	Name                   string   `json:"name"`
	Command                string   `json:"command"`
	Shell                  bool     `json:"shell"`
	Arguments              []string `json:"arguments,omitempty"`
	Schedule               string   `json:"schedule,omitempty"`
	ScheduleTimeZone       string   `json:"scheduleTimeZone,omitempty"`
	Parents                []string `json:"parents,omitempty"`
	Epsilon                string   `json:"epsilon"`
	Retries                int      `json:"retries"`
	Owner                  string   `json:"owner"`
	Description            string   `json:"description"`
	CPUs                   float64  `json:"cpus"`
	Mem                    float64  `json:"mem"`
	Disk                   float64  `json:"disk"`
	Disabled               bool     `json:"disabled"`
	Concurrent             bool     `json:"concurrent"`
	SuccessCount           int64    `json:"successCount"`
	ErrorCount             int64    `json:"errorCount"`
	LastSuccess            string   `json:"lastSuccess"`
	LastError              string   `json:"lastError"`
	ErrorsSinceLastSuccess int64    `json:"errorsSinceLastSuccess"`
	RunAsUser              string   `json:"runAsUser,omitempty"`
}

// ChronosSummary is one entry of GET /v1/scheduler/jobs/summary: the
// job's last outcome (status) and what it does now (state: idle, queued,
// running).
type ChronosSummary struct {
	Name     string   `json:"name"`
	Status   string   `json:"status"`
	State    string   `json:"state"`
	Schedule string   `json:"schedule"`
	Parents  []string `json:"parents"`
	Disabled bool     `json:"disabled"`
}

// ChronosSummaries is GET /v1/scheduler/jobs/summary.
type ChronosSummaries struct {
	Jobs []ChronosSummary `json:"jobs"`
}

// ChronosRun is one run of a job in GET /v1/scheduler/history/{name}.
type ChronosRun struct {
	ID              string    `json:"id"`
	Kind            string    `json:"kind"`
	State           string    `json:"state"`
	Attempt         int       `json:"attempt"`
	ScheduledAt     time.Time `json:"scheduledAt"`
	Count           int64     `json:"count,omitempty"`
	LastScheduledAt time.Time `json:"lastScheduledAt,omitzero"`
	SkipReason      string    `json:"skipReason,omitempty"`
	LaunchedAt      time.Time `json:"launchedAt,omitzero"`
	StartedAt       time.Time `json:"startedAt,omitzero"`
	FinishedAt      time.Time `json:"finishedAt,omitzero"`
	TaskID          string    `json:"taskId,omitempty"`
	AgentID         string    `json:"agentId,omitempty"`
	ExitStatus      *int      `json:"exitStatus,omitempty"`
	Message         string    `json:"message,omitempty"`
	Arguments       []string  `json:"arguments,omitempty"`
	Sandbox         string    `json:"sandbox,omitempty"`
}

// ChronosHistory is GET /v1/scheduler/history/{name}: active runs, then
// finished ones, newest first.
type ChronosHistory struct {
	Job  string       `json:"job"`
	Runs []ChronosRun `json:"runs"`
}

const chronosBase = "/v1/scheduler"

// Jobs lists every job.
func (c *Chronos) Jobs(ctx context.Context) (Doc[[]ChronosJob], error) {
	return getDoc[[]ChronosJob](ctx, c.c, chronosBase+"/jobs", nil)
}

// Summaries lists every job's last outcome and current state.
func (c *Chronos) Summaries(ctx context.Context) (Doc[ChronosSummaries], error) {
	return getDoc[ChronosSummaries](ctx, c.c, chronosBase+"/jobs/summary", nil)
}

// ErrNoJob: no job has that name.
var ErrNoJob = errors.New("no such job")

// Job returns the job called name (Chronos has no single-job GET; this
// searches and keeps the exact match). Raw is the job's own object.
func (c *Chronos) Job(ctx context.Context, name string) (Doc[ChronosJob], error) {
	jobs, err := c.Jobs(ctx)
	if err != nil {
		return Doc[ChronosJob]{}, err
	}
	var raws []json.RawMessage
	_ = json.Unmarshal(jobs.Raw, &raws)
	for i, j := range jobs.Value {
		if j.Name == name {
			d := Doc[ChronosJob]{Value: j}
			if i < len(raws) {
				d.Raw = raws[i]
			}
			return d, nil
		}
	}
	return Doc[ChronosJob]{}, fmt.Errorf("job %q: %w", name, ErrNoJob)
}

// PutJob creates or replaces a job from its Chronos JSON: a job with
// parents goes to /dependency, any other to /iso8601.
func (c *Chronos) PutJob(ctx context.Context, definition []byte) error {
	var head struct {
		Name    string   `json:"name"`
		Parents []string `json:"parents"`
	}
	if err := json.Unmarshal(definition, &head); err != nil {
		return fmt.Errorf("job definition: %w", err)
	}
	path := chronosBase + "/iso8601"
	if len(head.Parents) > 0 {
		path = chronosBase + "/dependency"
	}
	_, _, _, err := c.c.do(ctx, http.MethodPost, path, nil, definition)
	return err
}

// RunJob starts a manual run of a job now, with extra arguments if given.
func (c *Chronos) RunJob(ctx context.Context, name string, args []string) error {
	var q url.Values
	if len(args) > 0 {
		q = url.Values{"arguments": {strings.Join(args, " ")}}
	}
	_, _, _, err := c.c.do(ctx, http.MethodPut, chronosBase+"/job/"+url.PathEscape(name), q, nil)
	return err
}

// DeleteJob removes a job (its running tasks are killed).
func (c *Chronos) DeleteJob(ctx context.Context, name string) error {
	_, _, _, err := c.c.do(ctx, http.MethodDelete, chronosBase+"/job/"+url.PathEscape(name), nil, nil)
	return err
}

// KillJobTasks kills a job's running tasks.
func (c *Chronos) KillJobTasks(ctx context.Context, name string) error {
	_, _, _, err := c.c.do(ctx, http.MethodDelete, chronosBase+"/task/kill/"+url.PathEscape(name), nil, nil)
	return err
}

// History returns a job's runs, newest first; limit 0 asks for every run
// retained.
func (c *Chronos) History(ctx context.Context, name string, limit int) (Doc[ChronosHistory], error) {
	q := url.Values{"limit": {strconv.Itoa(max(limit, 0))}}
	return getDoc[ChronosHistory](ctx, c.c, chronosBase+"/history/"+url.PathEscape(name), q)
}

// Graph returns the dependency graph as DOT ("dot") or Chronos' CSV
// ("csv").
func (c *Chronos) Graph(ctx context.Context, format string) (string, error) {
	if format != "dot" && format != "csv" {
		return "", fmt.Errorf("graph format %q: want dot or csv", format)
	}
	b, _, _, err := c.c.do(ctx, http.MethodGet, chronosBase+"/graph/"+format, nil, nil)
	return string(b), err
}

// Ping checks the API answers (GET /ping).
func (c *Chronos) Ping(ctx context.Context) error {
	_, _, _, err := c.c.do(ctx, http.MethodGet, "/ping", nil, nil)
	return err
}

// ChronosTaskJob is the job a chronos task id belongs to
// ("ct:<instant ms>:<attempt>:<job>:<seq>" → job); ok is false for ids
// not of that shape.
func ChronosTaskJob(taskID string) (job string, ok bool) {
	rest, ok := strings.CutPrefix(taskID, "ct:")
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, ":")
	if len(parts) < 4 {
		return "", false
	}
	job = strings.Join(parts[2:len(parts)-1], ":")
	return job, job != ""
}
