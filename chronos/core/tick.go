package core

import (
	"container/heap"
	"fmt"
	"sort"
	"time"
)

// Tick handles everything due at or before now: scheduled instants (run,
// run late within epsilon, or record skipped), retries whose delay has
// passed, attempts past maxCompletionTime, and dependent jobs whose
// parents released them. Its cost grows with what is due, not with the
// number of jobs.
func (c *Core) Tick(now time.Time) []Decision {
	out := c.queued
	c.queued = nil
	if len(c.depCheck) > 0 {
		names := make([]string, 0, len(c.depCheck))
		for n := range c.depCheck {
			names = append(names, n)
		}
		sort.Strings(names)
		c.depCheck = make(map[string]bool)
		for _, n := range names {
			out = append(out, c.checkChild(n, now)...)
		}
	}
	for len(c.timers) > 0 && !c.timers[0].at.After(now) {
		t := heap.Pop(&c.timers).(timer)
		switch t.kind {
		case timerInstant:
			j := c.jobs[t.job]
			if j == nil || j.gen != t.gen || j.spec.Schedule == nil {
				continue
			}
			out = append(out, c.instant(j, t.at, now)...)
		case timerRetry:
			out = append(out, c.retryDue(t.run, now)...)
		case timerDeadline:
			out = append(out, c.deadline(t.run, now)...)
		}
	}
	return out
}

// instant decides what happens to scheduled instant at (≤ now) and queues
// the job's next instant.
func (c *Core) instant(j *jobState, at, now time.Time) []Decision {
	var out []Decision
	for {
		eps := j.epsilon(c.cfg)
		var next time.Time
		var more bool
		if now.Sub(at) > eps {
			// Missed: collapse every instant before now-eps into one span.
			limit := now.Add(-eps)
			last, count, capped := at, int64(1), false
			for {
				next, more = j.spec.Schedule.Next(last)
				if !more || !next.Before(limit) {
					break
				}
				last, count = next, count+1
				if count >= int64(c.cfg.BacklogScanLimit) {
					capped = true
					last = limit.Add(-time.Nanosecond)
					next, more = j.spec.Schedule.Next(last)
					break
				}
			}
			reason := SkipMissedEpsilon
			if j.disabled() {
				reason = SkipDisabled
			}
			out = append(out, c.skipSpan(j, at, last, count, capped, reason, now))
			j.cursor = last
		} else {
			switch {
			case j.disabled():
				out = append(out, c.skipSpan(j, at, at, 1, false, SkipDisabled, now))
			case !j.spec.Concurrent && len(j.active) > 0:
				out = append(out, c.skipSpan(j, at, at, 1, false, SkipConcurrentRunning, now))
			default:
				r := &Run{
					ID: scheduledID(j.spec.Name, at), Job: j.spec.Name, Kind: KindScheduled,
					Seq: c.next(), ScheduledAt: at,
				}
				c.runs[r.ID] = r
				j.lastSched = r
				out = append(out, c.launch(j, r, now))
			}
			j.cursor = at
			next, more = j.spec.Schedule.Next(at)
		}
		if !more {
			return out
		}
		if next.After(now) {
			c.pushInstant(j, next)
			return out
		}
		at = next
	}
}

// skipSpan records instants first..last as skipped, extending the job's
// latest scheduled record when it is a skip for the same reason, so a long
// outage or a long-disabled job costs one record, not one per instant.
func (c *Core) skipSpan(j *jobState, first, last time.Time, count int64, capped bool, reason SkipReason, now time.Time) Decision {
	st := j.status.clone()
	st.Skipped[reason] += count
	j.status = st
	if p := j.lastSched; p != nil && p.State == StateSkipped && p.SkipReason == reason && c.runs[p.ID] == p {
		p.LastScheduledAt = last
		p.Count += count
		p.CountCapped = p.CountCapped || capped
		return Decision{Writes: []Record{{Run: p.clone()}, {Status: st.clone()}}, Job: j.spec.Name}
	}
	r := &Run{
		ID: scheduledID(j.spec.Name, first), Job: j.spec.Name, Kind: KindScheduled,
		Seq: c.next(), ScheduledAt: first, LastScheduledAt: last, Count: count, CountCapped: capped,
		State: StateSkipped, SkipReason: reason, FinishedAt: now,
	}
	c.runs[r.ID] = r
	j.lastSched = r
	c.finish(j, r, now)
	d := Decision{Writes: []Record{{Run: r.clone()}, {Status: st.clone()}}, Job: j.spec.Name}
	d.Deletes = c.prune(j)
	return d
}

// skipOne records a non-scheduled run (dependency, manual, retry) as
// skipped.
func (c *Core) skipOne(j *jobState, r *Run, reason SkipReason, now time.Time) Decision {
	r.State, r.SkipReason, r.Count, r.FinishedAt = StateSkipped, reason, 1, now
	c.runs[r.ID] = r
	c.finish(j, r, now)
	st := j.status.clone()
	st.Skipped[reason]++
	j.status = st
	d := Decision{Writes: []Record{{Run: r.clone()}, {Status: st.clone()}}, Job: j.spec.Name}
	d.Deletes = c.prune(j)
	return d
}

// launch marks r launched and returns the decision to persist and launch
// it.
func (c *Core) launch(j *jobState, r *Run, now time.Time) Decision {
	r.State = StateLaunched
	r.LaunchedAt = now
	r.TaskID = taskID(r)
	j.active[r.ID] = r
	c.byTask[r.TaskID] = r
	c.pushDeadline(j, r)
	return Decision{Writes: []Record{{Run: r.clone()}}, Action: ActionLaunch, Job: j.spec.Name, Run: r.clone()}
}

func (c *Core) pushDeadline(j *jobState, r *Run) {
	if j.spec.MaxCompletionTime > 0 && r.KillReason == "" && !r.LaunchedAt.IsZero() {
		c.push(timer{at: r.LaunchedAt.Add(j.spec.MaxCompletionTime), kind: timerDeadline, job: r.Job, run: r.ID})
	}
}

// retryDue launches a pending retry whose delay has passed.
func (c *Core) retryDue(id string, now time.Time) []Decision {
	r := c.runs[id]
	if r == nil || r.State != StatePending {
		return nil
	}
	j := c.jobs[r.Job]
	if j == nil {
		return nil
	}
	if j.disabled() {
		return []Decision{c.skipOne(j, r, SkipDisabled, now)}
	}
	return []Decision{c.launch(j, r, now)}
}

// deadline asks for an overrunning attempt to be killed; the TASK_KILLED
// that follows ends it failed("timeout").
func (c *Core) deadline(id string, now time.Time) []Decision {
	r := c.runs[id]
	if r == nil || (r.State != StateLaunched && r.State != StateRunning) || r.KillReason != "" {
		return nil
	}
	j := c.jobs[r.Job]
	if j == nil || j.spec.MaxCompletionTime <= 0 || now.Sub(r.LaunchedAt) < j.spec.MaxCompletionTime {
		return nil
	}
	r.KillReason = "timeout"
	r.Message = fmt.Sprintf("timeout: still running after maxCompletionTime %s", j.spec.MaxCompletionTime)
	return []Decision{{Writes: []Record{{Run: r.clone()}}, Action: ActionKill, Job: r.Job, Run: r.clone()}}
}

// checkChild starts a dependent job if every parent released it since its
// last dependency run.
func (c *Core) checkChild(name string, now time.Time) []Decision {
	j := c.jobs[name]
	if j == nil || len(j.spec.Parents) == 0 {
		return nil
	}
	consumed := map[string]uint64{}
	if j.lastDep != nil {
		consumed = j.lastDep.Parents
	}
	take := make(map[string]uint64, len(j.spec.Parents))
	for _, p := range j.spec.Parents {
		pj := c.jobs[p]
		if pj == nil || pj.lastOK <= consumed[p] {
			return nil
		}
		// A parent this child has never consumed counts only if it
		// released after the child was saved: a new child waits for its
		// parents' next runs instead of firing on old history.
		if consumed[p] == 0 && (pj.lastOKRun == nil || !pj.lastOKRun.FinishedAt.After(j.spec.Since)) {
			return nil
		}
		take[p] = pj.lastOK
	}
	r := &Run{
		Job: name, Kind: KindDependency, Seq: c.next(), ScheduledAt: now, Parents: take,
	}
	r.ID = fmt.Sprintf("%s+dep%d", name, r.Seq)
	c.runs[r.ID] = r
	j.lastDep = r
	switch {
	case j.disabled():
		return []Decision{c.skipOne(j, r, SkipDisabled, now)}
	case !j.spec.Concurrent && len(j.active) > 0:
		return []Decision{c.skipOne(j, r, SkipConcurrentRunning, now)}
	}
	return []Decision{c.launch(j, r, now)}
}
