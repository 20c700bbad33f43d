package chronos

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/strata-dc/strata/chronos/core"
	"github.com/strata-dc/strata/chronos/job"
	"github.com/strata-dc/strata/coord"
)

// saveJob persists j (fenced) and hands it to the core, in that order, so
// the core never schedules a job coord does not hold. Since moves to now
// when the job is new or its schedule or parents changed; otherwise it is
// kept, so an edit never hides or replays instants. The read-only
// counters a client sent are dropped: the run history owns them. s.mu is
// held; the caller applies the returned decisions.
func (s *Server) saveJob(st *leaderState, j *job.Job, now time.Time) ([]core.Decision, error) {
	j.SuccessCount, j.ErrorCount, j.LastSuccess, j.LastError, j.ErrorsSinceLastSuccess = 0, 0, "", "", 0
	since := now
	if old, ok := st.graph.Job(j.Name); ok && old.Schedule == j.Schedule &&
		old.ScheduleTimeZone == j.ScheduleTimeZone && slices.Equal(old.Parents, j.Parents) {
		since = st.since[j.Name]
	}
	if since.IsZero() {
		since = now
	}
	sj := storedJob{Job: j, Since: since}
	// A job coord cannot hold is refused here, before anything changes: a
	// failed write would end the term. Its JSON can be several times the
	// body (escapes), so the encoded size is what counts.
	b, err := json.Marshal(sj)
	if err != nil {
		return nil, &job.Errors{List: []job.FieldError{{Field: "body", Message: "the job cannot be stored: " + err.Error()}}}
	}
	if len(b) > coord.MaxValueSize {
		return nil, &job.Errors{List: []job.FieldError{{Field: "body",
			Message: fmt.Sprintf("the job encodes to %d bytes, over the %d a job may take", len(b), coord.MaxValueSize)}}}
	}
	sp, err := spec(sj, now)
	if err != nil {
		return nil, &job.Errors{List: []job.FieldError{{Field: "schedule", Message: err.Error()}}}
	}
	// The graph and then the core refuse missing parents and cycles
	// without changing. The core changes before the job is written, but
	// its decisions are applied only after; if the write fails the term
	// ends and the core is rebuilt from coord, so nothing unwritten acts.
	old, had := st.graph.Job(j.Name)
	if err := st.graph.Put(j); err != nil {
		return nil, err
	}
	ds, err := st.core.Upsert(sp, now)
	if err != nil {
		s.restoreGraph(st, j.Name, old, had)
		return nil, &job.Errors{List: []job.FieldError{{Field: "parents", Message: err.Error()}}}
	}
	ctx, cancel := st.opCtx()
	_, err = st.store.Put(ctx, jobsDir+"/"+j.Name, sj)
	cancel()
	if err != nil {
		st.cancel(fmt.Errorf("persist job %s: %w", j.Name, err))
		return nil, fmt.Errorf("persist job %s: %w", j.Name, err)
	}
	st.since[j.Name] = since
	s.poke()
	return ds, nil
}

func (s *Server) restoreGraph(st *leaderState, name string, old *job.Job, had bool) {
	if had {
		_ = st.graph.Put(old)
	} else {
		_, _ = st.graph.Remove(name)
	}
}

// deleteJob removes a job: its children are rewired as Chronos does
// (graph.Remove), its active runs killed, its node and its records
// deleted.
func (s *Server) deleteJob(st *leaderState, name string, now time.Time) error {
	if _, ok := st.graph.Job(name); !ok {
		return errNoJob(name)
	}
	children, err := st.graph.Remove(name)
	if err != nil {
		return err
	}
	for _, c := range children {
		st.since[c.Name] = time.Time{} // its parents changed: it starts afresh
		ds, err := s.saveJob(st, c.Clone(), now)
		if err != nil {
			return fmt.Errorf("rewire child %s: %w", c.Name, err)
		}
		if !s.apply(st, ds, now) {
			return fmt.Errorf("rewire child %s: not persisted", c.Name)
		}
	}
	ds := st.core.Remove(name, now)
	keys := jobRecordKeys(st.known, name)
	sort.Strings(keys)
	ctx, cancel := st.opCtx()
	err = st.store.Delete(ctx, jobsDir+"/"+name, coord.Any)
	cancel()
	if err != nil {
		st.cancel(fmt.Errorf("delete job %s: %w", name, err))
		return fmt.Errorf("delete job %s: %w", name, err)
	}
	delete(st.since, name)
	if !s.apply(st, ds, now) {
		return fmt.Errorf("delete job %s: kills not persisted", name)
	}
	ctx, cancel = st.opCtx()
	err = persist(ctx, st.store, st.known, nil, keys)
	cancel()
	if err != nil {
		st.cancel(fmt.Errorf("delete records of %s: %w", name, err))
		return fmt.Errorf("delete records of %s: %w", name, err)
	}
	for id, w := range st.queue {
		if w.run.Job == name {
			delete(st.queue, id)
		}
	}
	for id, r := range st.unresolved {
		if r.Job == name {
			delete(st.unresolved, id)
		}
	}
	s.poke()
	return nil
}

type noJobError string

func (e noJobError) Error() string { return fmt.Sprintf("job %q not found", string(e)) }

func errNoJob(name string) error { return noJobError(name) }

// view is a job as the API shows it: the definition with the counters
// from the run history.
func (st *leaderState) view(name string) *job.Job {
	j, ok := st.graph.Job(name)
	if !ok {
		return nil
	}
	c := j.Clone()
	if status, ok := st.core.Status(name); ok {
		c.SuccessCount, c.ErrorCount = status.SuccessCount, status.ErrorCount
		c.ErrorsSinceLastSuccess = status.ErrorsSinceLastSuccess
		c.LastSuccess, c.LastError = stamp(status.LastSuccess), stamp(status.LastError)
		if status.AutoDisabled {
			c.Disabled = true
		}
	}
	return c
}

// stamp is Chronos' time format for lastSuccess/lastError: ISO 8601 with
// milliseconds, "" before the first.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// runState is the CSV/summary state: idle, queued, running or "N running".
func (st *leaderState) runState(name string) string {
	running, queued := 0, 0
	for _, r := range st.core.Active(name) {
		if r.State == core.StateRunning {
			running++
		} else {
			queued++
		}
	}
	switch {
	case running > 1:
		return fmt.Sprintf("%d running", running)
	case running == 1:
		return "running"
	case queued > 0:
		return "queued"
	}
	return "idle"
}
