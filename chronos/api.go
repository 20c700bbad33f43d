package chronos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/strata-dc/strata/chronos/core"
	"github.com/strata-dc/strata/chronos/job"
)

// maxBody bounds a job definition.
const maxBody = 1 << 20

// routes is Chronos' REST API under /v1/scheduler, plus the run history
// extension GET /v1/scheduler/history/{name}.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "pong\n")
	})
	m.HandleFunc("GET /metrics", s.handleMetrics)
	m.HandleFunc("GET /v1/scheduler/leader", s.handleLeader)
	m.HandleFunc("POST /v1/scheduler/iso8601", s.postJob(job.Scheduled))
	m.HandleFunc("PUT /v1/scheduler/iso8601", s.postJob(job.Scheduled))
	m.HandleFunc("POST /v1/scheduler/dependency", s.postJob(job.Dependent))
	m.HandleFunc("PUT /v1/scheduler/dependency", s.postJob(job.Dependent))
	m.HandleFunc("GET /v1/scheduler/jobs", s.leading(s.handleJobs))
	m.HandleFunc("GET /v1/scheduler/jobs/summary", s.leading(s.handleSummary))
	m.HandleFunc("GET /v1/scheduler/jobs/search", s.leading(s.handleSearch))
	m.HandleFunc("PUT /v1/scheduler/job/{name}", s.leading(s.handleRunNow))
	m.HandleFunc("DELETE /v1/scheduler/job/{name}", s.leading(s.handleDelete))
	m.HandleFunc("PUT /v1/scheduler/job/success/{name}", s.leading(s.handleSuccess))
	m.HandleFunc("GET /v1/scheduler/job/stat/{name}", s.leading(s.handleStat))
	m.HandleFunc("GET /v1/scheduler/stats/{percentile}", s.leading(s.handleStats))
	m.HandleFunc("DELETE /v1/scheduler/task/kill/{name}", s.leading(s.handleKill))
	m.HandleFunc("GET /v1/scheduler/graph/dot", s.leading(func(w http.ResponseWriter, _ *http.Request, st *leaderState) {
		writeText(w, st.graph.DOT())
	}))
	m.HandleFunc("GET /v1/scheduler/graph/csv", s.leading(func(w http.ResponseWriter, _ *http.Request, st *leaderState) {
		writeText(w, st.csv())
	}))
	m.HandleFunc("GET /v1/scheduler/history/{name}", s.leading(s.handleHistory))
	return m
}

// leading runs h with the leader's state locked, or answers 503 while
// this process is elected but has not loaded its state yet.
func (s *Server) leading(h func(http.ResponseWriter, *http.Request, *leaderState)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.st == nil || s.st.ctx.Err() != nil {
			writeError(w, http.StatusServiceUnavailable, "chronos is taking over leadership; try again shortly")
			return
		}
		h(w, r, s.st)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // messages quote '<DEPLOYMENT_ID>' and the like verbatim
	_ = enc.Encode(v)
}

func writeText(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, body)
}

// apiError is the error body: a message naming the field, and for job
// validation every field at fault.
type apiError struct {
	Message string           `json:"message"`
	Details []job.FieldError `json:"details,omitempty"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Message: msg})
}

// writeJobError answers a refused job: 400 naming the fields, 404 for an
// unknown job, 503 when the state could not be written.
func writeJobError(w http.ResponseWriter, err error) {
	var fe *job.Errors
	var nj noJobError
	switch {
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, apiError{Message: fe.Error(), Details: fe.List})
	case errors.As(err, &nj):
		writeError(w, http.StatusNotFound, nj.Error())
	default:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	}
}

func (s *Server) handleLeader(w http.ResponseWriter, _ *http.Request) {
	addr := ""
	if li := s.leader.Load(); li != nil {
		addr = li.Address
	}
	if s.elected.Load() {
		addr = strings.TrimPrefix(s.base, "http://")
	}
	writeJSON(w, http.StatusOK, map[string]string{"leader": addr})
}

// postJob creates or replaces a job: POST /iso8601 for scheduled jobs,
// POST /dependency for dependent ones. 204 on success. The body is read
// before the leader's lock is taken, so a slow client never stalls the
// scheduler or the rest of the API.
func (s *Server) postJob(kind job.Kind) http.HandlerFunc {
	save := func(w http.ResponseWriter, r *http.Request, st *leaderState, body []byte) {
		now := s.cfg.Now()
		eps := fmt.Sprintf("PT%gS", s.cfg.DefaultEpsilon.Seconds())
		j, err := job.Parse(body, kind, job.Defaults{CPUs: s.cfg.DefaultCPUs, Mem: s.cfg.DefaultMem,
			Disk: s.cfg.DefaultDisk, Epsilon: eps}, now)
		if err != nil {
			var fe *job.Errors
			if errors.As(err, &fe) {
				writeJobError(w, err)
			} else {
				writeError(w, http.StatusBadRequest, err.Error())
			}
			return
		}
		if ign := j.IgnoredFields(); len(ign) > 0 {
			s.log.Debug("job fields chronos ignores", "job", j.Name, "fields", ign)
		}
		ds, err := s.saveJob(st, j, now)
		if err != nil {
			writeJobError(w, err)
			return
		}
		if !s.apply(st, ds, now) {
			writeError(w, http.StatusServiceUnavailable, "job saved, but its run records could not be written; leadership is changing")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		body, status, msg := readJobBody(w, r)
		if status != 0 {
			writeJSON(w, status, apiError{Message: msg, Details: []job.FieldError{{Field: "body", Message: msg}}})
			return
		}
		s.leading(func(w http.ResponseWriter, r *http.Request, st *leaderState) { save(w, r, st, body) })(w, r)
	}
}

// bodyReadTimeout bounds how long a client may take to send a job once its
// headers are in, so a client trickling a body cannot hold a connection
// (and its goroutine) forever.
const bodyReadTimeout = 10 * time.Second

// readJobBody reads a job definition, answering a non-zero status with a
// message when it is refused: 415 for a Content-Type other than JSON (none
// is read as JSON), 413 over maxBody, 408 for a client too slow, 400 when
// the body cannot be read or is not UTF-8 (encoding/json would quietly
// store U+FFFD for the bytes the client sent).
func readJobBody(w http.ResponseWriter, r *http.Request) (body []byte, status int, msg string) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
			return nil, http.StatusUnsupportedMediaType, "Content-Type " + strconv.Quote(ct) + " is not supported: send application/json"
		}
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, http.StatusRequestTimeout, "job definition not received within " + bodyReadTimeout.String()
	case err != nil:
		return nil, http.StatusBadRequest, "read body: " + err.Error()
	case len(body) > maxBody:
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("job definition over %d bytes", maxBody)
	case !utf8.Valid(body):
		return nil, http.StatusBadRequest, "invalid JSON: the body is not valid UTF-8"
	}
	_ = rc.SetReadDeadline(time.Time{})
	return body, 0, ""
}

func (s *Server) handleJobs(w http.ResponseWriter, _ *http.Request, st *leaderState) {
	out := []*job.Job{}
	for _, n := range st.graph.Names() {
		out = append(out, st.view(n))
	}
	writeJSON(w, http.StatusOK, out)
}

// summary is one entry of /jobs/summary, in Chronos' shape.
type summary struct {
	Name     string   `json:"name"`
	Status   string   `json:"status"`
	State    string   `json:"state"`
	Schedule string   `json:"schedule"`
	Parents  []string `json:"parents"`
	Disabled bool     `json:"disabled"`
}

func (s *Server) handleSummary(w http.ResponseWriter, _ *http.Request, st *leaderState) {
	out := []summary{}
	for _, n := range st.graph.Names() {
		j := st.view(n)
		p := j.Parents
		if p == nil {
			p = []string{}
		}
		out = append(out, summary{Name: n, Status: job.LastState(j), State: st.runState(n),
			Schedule: j.Schedule, Parents: p, Disabled: j.Disabled})
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

// handleSearch is /jobs/search: name, command and any match substrings,
// case-insensitively (any: name, command, description or owner); limit
// and offset page the result.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, st *leaderState) {
	q := r.URL.Query()
	name, command, anyText := strings.ToLower(q.Get("name")), strings.ToLower(q.Get("command")), strings.ToLower(q.Get("any"))
	limit, offset := 10, 0
	for _, p := range []struct {
		key string
		dst *int
	}{{"limit", &limit}, {"offset", &offset}} {
		if v := q.Get(p.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not a non-negative integer", p.key, v))
				return
			}
			*p.dst = n
		}
	}
	out := []*job.Job{}
	for _, n := range st.graph.Names() {
		j := st.view(n)
		has := func(field, sub string) bool { return strings.Contains(strings.ToLower(field), sub) }
		if name != "" && !has(j.Name, name) || command != "" && !has(j.Command, command) {
			continue
		}
		if anyText != "" && !has(j.Name, anyText) && !has(j.Command, anyText) && !has(j.Description, anyText) && !has(j.Owner, anyText) {
			continue
		}
		out = append(out, j)
	}
	out = out[min(offset, len(out)):]
	out = out[:min(limit, len(out))]
	writeJSON(w, http.StatusOK, out)
}

// handleRunNow is PUT /job/{name}[?arguments=a b]: a manual run at once.
func (s *Server) handleRunNow(w http.ResponseWriter, r *http.Request, st *leaderState) {
	name := r.PathValue("name")
	now := s.cfg.Now()
	var args []string
	if a := r.URL.Query().Get("arguments"); a != "" {
		args = strings.Fields(a)
	}
	ds, err := st.core.RunNow(name, args, now)
	if err != nil {
		writeJobError(w, errNoJob(name))
		return
	}
	if !s.apply(st, ds, now) {
		writeError(w, http.StatusServiceUnavailable, "the run could not be recorded; leadership is changing")
		return
	}
	s.poke()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, st *leaderState) {
	if err := s.deleteJob(st, r.PathValue("name"), s.cfg.Now()); err != nil {
		writeJobError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSuccess(w http.ResponseWriter, r *http.Request, st *leaderState) {
	name := r.PathValue("name")
	now := s.cfg.Now()
	ds, err := st.core.MarkSuccess(name, now)
	if err != nil {
		writeJobError(w, errNoJob(name))
		return
	}
	if !s.apply(st, ds, now) {
		writeError(w, http.StatusServiceUnavailable, "the success could not be recorded; leadership is changing")
		return
	}
	s.poke()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleStat(w http.ResponseWriter, r *http.Request, st *leaderState) {
	name := r.PathValue("name")
	stat, ok := st.core.Stat(name)
	if !ok {
		writeJobError(w, errNoJob(name))
		return
	}
	if stat.TaskStatHistory == nil {
		stat.TaskStatHistory = []core.TaskStat{}
	}
	writeJSON(w, http.StatusOK, stat)
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request, st *leaderState) {
	out, err := st.core.StatsByPercentile(r.PathValue("percentile"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "percentile: "+err.Error())
		return
	}
	if out == nil {
		out = []core.PercentileTime{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleKill(w http.ResponseWriter, r *http.Request, st *leaderState) {
	name := r.PathValue("name")
	if _, ok := st.graph.Job(name); !ok {
		writeJobError(w, errNoJob(name))
		return
	}
	now := s.cfg.Now()
	if !s.apply(st, st.core.Kill(name, now), now) {
		writeError(w, http.StatusServiceUnavailable, "the kill could not be recorded; leadership is changing")
		return
	}
	s.poke()
	w.WriteHeader(http.StatusNoContent)
}

// RunView is one run in GET /v1/scheduler/history/{name} (a Strata
// extension): what Chronos kept only in its logs.
type RunView struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Attempt     int       `json:"attempt"`
	ScheduledAt time.Time `json:"scheduledAt"`
	// Count and LastScheduledAt describe a span of skipped instants.
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
	// Sandbox is the run's sandbox in the agent's files API
	// (GET <agent>/files/browse?path=…, /files/read?path=…/stdout).
	Sandbox string `json:"sandbox,omitempty"`
}

// handleHistory answers the job's active runs and then its last runs,
// newest first: ?limit=N (default 20, 0 for all retained).
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request, st *leaderState) {
	name := r.PathValue("name")
	if _, ok := st.graph.Job(name); !ok {
		writeJobError(w, errNoJob(name))
		return
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a non-negative integer", v))
			return
		}
		limit = n
	}
	runs := st.core.Active(name)
	for i, k := 0, len(runs)-1; i < k; i, k = i+1, k-1 {
		runs[i], runs[k] = runs[k], runs[i]
	}
	runs = append(runs, st.core.History(name, limit)...)
	if limit > 0 && len(runs) > limit {
		runs = runs[:limit]
	}
	out := make([]RunView, 0, len(runs))
	for _, r := range runs {
		v := RunView{ID: r.ID, Kind: string(r.Kind), State: string(r.State), Attempt: r.Attempt,
			ScheduledAt: r.ScheduledAt, Count: r.Count, LastScheduledAt: r.LastScheduledAt,
			SkipReason: string(r.SkipReason), LaunchedAt: r.LaunchedAt, StartedAt: r.StartedAt,
			FinishedAt: r.FinishedAt, TaskID: r.TaskID, AgentID: r.Agent, ExitStatus: r.ExitStatus,
			Message: r.Message, Arguments: r.Arguments}
		if r.TaskID != "" && r.Agent != "" && st.frameworkID != "" {
			v.Sandbox = "/frameworks/" + st.frameworkID + "/executors/" + r.TaskID + "/runs/latest"
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"job": name, "runs": out})
}

func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"chronos/requests":      s.metrics.requests.Load(),
		"chronos/runs_queued":   s.metrics.queued.Load(),
		"chronos/runs_launched": s.metrics.launched.Load(),
		"chronos/runs_started":  s.metrics.started.Load(),
		"chronos/elected":       s.elected.Load(),
	})
}

// csv is Chronos' /graph/csv. The graph holds definitions without
// counters (the run history owns them), so the last state comes from the
// job as the API shows it.
func (st *leaderState) csv() string {
	var b strings.Builder
	names := st.graph.Names()
	for _, n := range names {
		fmt.Fprintf(&b, "node,%s,%s,%s\n", n, job.LastState(st.view(n)), st.runState(n))
	}
	for _, n := range names {
		for _, c := range st.graph.Children(n) {
			fmt.Fprintf(&b, "link,%s,%s\n", n, c)
		}
	}
	return b.String()
}
