package core

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Observe applies a task status update. Updates for unknown tasks and
// repeated updates for finished ones (Mesos retries status updates until
// acknowledged) return nothing, so they are safe to feed in again.
func (c *Core) Observe(now time.Time, ev Event) []Decision {
	r := c.byTask[ev.TaskID]
	if r == nil || !r.State.Active() {
		return nil
	}
	j := c.jobs[r.Job]
	if ev.Agent != "" {
		r.Agent = ev.Agent
	}
	if ev.ExitStatus != nil {
		e := *ev.ExitStatus
		r.ExitStatus = &e
	}
	switch ev.Kind {
	case EventStarted:
		if r.State != StateLaunched {
			return nil
		}
		r.State, r.StartedAt = StateRunning, now
		return []Decision{{Writes: []Record{{Run: r.clone()}}, Job: r.Job}}
	case EventFinished:
		return c.succeed(j, r, ev.Message, now)
	case EventFailed:
		return c.fail(j, r, orDefault(ev.Message, "failed"), now)
	case EventLost:
		return c.fail(j, r, "lost: "+orDefault(ev.Message, "task unknown to the cluster"), now)
	case EventKilled:
		if r.KillReason == "timeout" {
			return c.fail(j, r, r.Message, now)
		}
		r.State = StateKilled
		r.Message = orDefault(ev.Message, "killed")
		c.finish(j, r, now)
		d := Decision{Writes: []Record{{Run: r.clone()}}, Job: r.Job}
		if j != nil {
			d.Deletes = c.prune(j)
		}
		return []Decision{d}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *Core) succeed(j *jobState, r *Run, msg string, now time.Time) []Decision {
	r.State = StateSucceeded
	r.Message = msg
	r.Releases = true
	c.finish(j, r, now)
	if j == nil {
		return []Decision{{Writes: []Record{{Run: r.clone()}}, Job: r.Job}}
	}
	return c.completed(j, r)
}

// completed persists a terminal run with the counters it changes, then
// releases children if it should.
func (c *Core) completed(j *jobState, r *Run) []Decision {
	c.count(j, r)
	if r.Releases && r.CompletionSeq > j.lastOK {
		j.lastOK, j.lastOKRun = r.CompletionSeq, r
	}
	d := Decision{Writes: []Record{{Run: r.clone()}, {Status: j.status.clone()}}, Job: j.spec.Name}
	d.Deletes = c.prune(j)
	out := []Decision{d}
	if j.status.AutoDisabled && !j.disableSent && !j.spec.Disabled {
		j.disableSent = true
		out = append(out, Decision{Action: ActionDisableJob, Job: j.spec.Name})
	}
	if r.Releases {
		out = append(out, c.releaseChildren(j.spec.Name, r.FinishedAt)...)
	}
	return out
}

// count folds a terminal record into the job's counters. It is used live
// and, on restore, for records newer than JobStatus.Through. Skip counts
// are folded in live only (a span grows in place).
func (c *Core) count(j *jobState, r *Run) {
	st := j.status.clone()
	switch {
	case r.State == StateSucceeded:
		st.SuccessCount++
		st.LastSuccess = r.FinishedAt
		st.ErrorsSinceLastSuccess = 0
	case r.State == StateFailed && r.RetryID == "":
		st.ErrorCount++
		st.LastError = r.FinishedAt
		st.ErrorsSinceLastSuccess++
		if n := c.cfg.DisableAfterFailures; n > 0 && st.ErrorsSinceLastSuccess >= int64(n) && !j.spec.Disabled {
			st.AutoDisabled = true
		}
	}
	if r.CompletionSeq > st.Through {
		st.Through = r.CompletionSeq
	}
	j.status = st
}

// fail ends an attempt failed and, if retries are left, records the next
// attempt as pending for Config.FailureRetry.
func (c *Core) fail(j *jobState, r *Run, msg string, now time.Time) []Decision {
	r.State = StateFailed
	r.Message = msg
	if j != nil && r.Attempt < j.spec.Retries {
		origin := r.Origin
		if origin == "" {
			origin = r.ID
		}
		retry := &Run{
			ID: origin + "#" + strconv.Itoa(r.Attempt+1), Job: r.Job, Kind: KindRetry,
			Seq: c.next(), Origin: origin, Attempt: r.Attempt + 1,
			ScheduledAt: r.ScheduledAt, Arguments: append([]string(nil), r.Arguments...),
			State: StatePending, NotBefore: now.Add(c.cfg.FailureRetry),
		}
		r.RetryID = retry.ID
		c.finish(j, r, now)
		c.runs[retry.ID] = retry
		j.active[retry.ID] = retry
		c.push(timer{at: retry.NotBefore, kind: timerRetry, job: r.Job, run: retry.ID})
		d := Decision{Writes: []Record{{Run: r.clone()}, {Run: retry.clone()}}, Job: r.Job}
		d.Deletes = c.prune(j)
		return []Decision{d}
	}
	c.finish(j, r, now)
	if j == nil {
		return []Decision{{Writes: []Record{{Run: r.clone()}}, Job: r.Job}}
	}
	r.Releases = j.spec.SoftError
	return c.completed(j, r)
}

func (c *Core) releaseChildren(parent string, now time.Time) []Decision {
	kids := make([]string, 0, len(c.children[parent]))
	for k := range c.children[parent] {
		kids = append(kids, k)
	}
	sort.Strings(kids)
	var out []Decision
	for _, k := range kids {
		out = append(out, c.checkChild(k, now)...)
	}
	return out
}

// RunNow starts a manual run (PUT /job/{name}[?arguments=]) immediately,
// whatever the schedule says and without moving it. It also runs a
// disabled job — the operator asked explicitly — but it honours
// concurrent:false: with a run active it is recorded skipped.
func (c *Core) RunNow(name string, args []string, now time.Time) ([]Decision, error) {
	j := c.jobs[name]
	if j == nil {
		return nil, fmt.Errorf("job %q: not found", name)
	}
	r := &Run{Job: name, Kind: KindManual, Seq: c.next(), ScheduledAt: now, Arguments: append([]string(nil), args...)}
	r.ID = fmt.Sprintf("%s!run%d", name, r.Seq)
	c.runs[r.ID] = r
	if !j.spec.Concurrent && len(j.active) > 0 {
		return []Decision{c.skipOne(j, r, SkipConcurrentRunning, now)}, nil
	}
	return []Decision{c.launch(j, r, now)}, nil
}

// MarkSuccess records a success without running anything (PUT
// /job/success/{name}) and releases the job's children.
func (c *Core) MarkSuccess(name string, now time.Time) ([]Decision, error) {
	j := c.jobs[name]
	if j == nil {
		return nil, fmt.Errorf("job %q: not found", name)
	}
	r := &Run{Job: name, Kind: KindMarked, Seq: c.next(), ScheduledAt: now, State: StateSucceeded,
		Releases: true, Message: "marked successful"}
	r.ID = fmt.Sprintf("%s!mark%d", name, r.Seq)
	r.StartedAt, r.FinishedAt = now, now
	c.runs[r.ID] = r
	c.finish(j, r, now)
	return c.completed(j, r), nil
}

// Kill asks for every active run of the job to stop (DELETE
// /task/kill/{name}). A pending retry ends killed at once; a launched or
// running attempt ends killed when TASK_KILLED arrives. Killed runs are
// neither successes nor errors and are not retried.
func (c *Core) Kill(name string, now time.Time) []Decision {
	j := c.jobs[name]
	if j == nil {
		return nil
	}
	var out []Decision
	for _, r := range sortedRuns(j.active) {
		switch {
		case r.State == StatePending:
			r.State, r.Message = StateKilled, "killed by operator before launch"
			c.finish(j, r, now)
			out = append(out, Decision{Writes: []Record{{Run: r.clone()}}, Job: name})
		case r.KillReason == "":
			r.KillReason = "operator"
			out = append(out, Decision{Writes: []Record{{Run: r.clone()}}, Action: ActionKill, Job: name, Run: r.clone()})
		default:
			out = append(out, Decision{Action: ActionKill, Job: name, Run: r.clone()})
		}
	}
	if len(out) > 0 {
		out[len(out)-1].Deletes = c.prune(j)
	}
	return out
}
