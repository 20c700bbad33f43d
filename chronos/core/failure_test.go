package core

import (
	"strings"
	"testing"
	"time"
)

func TestFailedRunRetriedAfterDelayEachAttemptRecorded(t *testing.T) {
	x := newH(t, Config{FailureRetry: time.Minute}, JobSpec{Name: "a", Schedule: hourly(), Retries: 2})
	r := one(t, x.tick(t0), ActionLaunch)
	now := t0.Add(10 * time.Second)
	none(t, x.observe(now, EventFailed, r.TaskID))
	if got := x.run("a@2026-01-01T00:00:00Z"); got.State != StateFailed || got.RetryID != "a@2026-01-01T00:00:00Z#1" {
		t.Fatalf("first attempt %+v", got)
	}
	pend := x.run("a@2026-01-01T00:00:00Z#1")
	if pend.State != StatePending || !pend.NotBefore.Equal(now.Add(time.Minute)) || pend.Kind != KindRetry || pend.Attempt != 1 {
		t.Fatalf("retry record %+v", pend)
	}
	none(t, x.tick(now.Add(59*time.Second)))
	r1 := one(t, x.tick(now.Add(time.Minute)), ActionLaunch)
	if r1.ID != pend.ID || r1.TaskID == r.TaskID {
		t.Fatalf("retry launch %+v", r1)
	}
	now = now.Add(2 * time.Minute)
	x.observe(now, EventLost, r1.TaskID) // lost counts as a failure
	r2 := one(t, x.tick(now.Add(time.Minute)), ActionLaunch)
	if r2.Attempt != 2 {
		t.Fatalf("attempt %d", r2.Attempt)
	}
	none(t, x.observe(now.Add(2*time.Minute), EventFailed, r2.TaskID))
	none(t, x.tick(now.Add(10*time.Minute)))
	st, _ := x.c.Status("a")
	if st.ErrorCount != 1 || st.ErrorsSinceLastSuccess != 1 || st.SuccessCount != 0 {
		t.Fatalf("a run that failed 3 attempts is one error: %+v", st)
	}
	if h := x.c.History("a", 0); len(h) != 3 {
		t.Fatalf("history %d attempts", len(h))
	}
}

func TestRetrySucceeds(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Retries: 2})
	r := one(t, x.tick(t0), ActionLaunch)
	x.observe(t0.Add(time.Second), EventFailed, r.TaskID)
	r1 := one(t, x.tick(t0.Add(61*time.Second)), ActionLaunch) // default 60 s
	x.observe(t0.Add(2*time.Minute), EventFinished, r1.TaskID)
	st, _ := x.c.Status("a")
	if st.SuccessCount != 1 || st.ErrorCount != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestDisableAfterFailures(t *testing.T) {
	spec := JobSpec{Name: "a", Schedule: hourly(), Retries: 0}
	x := newH(t, Config{DisableAfterFailures: 2}, spec)
	r := one(t, x.tick(t0), ActionLaunch)
	none(t, x.observe(t0.Add(time.Minute), EventFailed, r.TaskID))
	r = one(t, x.tick(t0.Add(time.Hour)), ActionLaunch)
	d := one(t, x.observe(t0.Add(time.Hour+time.Minute), EventFailed, r.TaskID), ActionDisableJob)
	_ = d
	none(t, x.tick(t0.Add(2*time.Hour)))
	if got := x.run("a@2026-01-01T02:00:00Z"); got.SkipReason != SkipDisabled {
		t.Fatalf("after auto-disable %+v", got)
	}
	// The disable survives a failover even if the daemon never saved
	// disabled:true; the new leader repeats the action.
	x.failover(t0.Add(2*time.Hour + time.Minute))
	one(t, x.tick(t0.Add(2*time.Hour+time.Minute)), ActionDisableJob)
	none(t, x.tick(t0.Add(3*time.Hour)))
	// Saving the job enabled again clears it.
	spec.Disabled = true
	x.c.Upsert(spec, t0.Add(3*time.Hour))
	spec.Disabled = false
	spec.Since = t0.Add(3*time.Hour + time.Minute)
	x.do(mustUpsert(t, x.c, spec))
	one(t, x.tick(t0.Add(4*time.Hour)), ActionLaunch)
	st, _ := x.c.Status("a")
	if st.AutoDisabled || st.ErrorsSinceLastSuccess != 0 || st.ErrorCount != 2 {
		t.Fatalf("%+v", st)
	}
}

func mustUpsert(t *testing.T, c *Core, spec JobSpec) []Decision {
	t.Helper()
	ds, err := c.Upsert(spec, spec.Since)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestDisableAfterFailuresZeroMeansNever(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly()})
	for i := 0; i < 20; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		r := one(t, x.tick(at), ActionLaunch)
		none(t, x.observe(at.Add(time.Minute), EventFailed, r.TaskID))
	}
}

func TestMaxCompletionTimeKillsAndFails(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), MaxCompletionTime: 10 * time.Minute})
	r := one(t, x.tick(t0), ActionLaunch)
	x.observe(t0.Add(time.Second), EventStarted, r.TaskID)
	none(t, x.tick(t0.Add(9*time.Minute)))
	k := one(t, x.tick(t0.Add(10*time.Minute)), ActionKill)
	if k.TaskID != r.TaskID || k.KillReason != "timeout" {
		t.Fatalf("kill %+v", k)
	}
	// Kill is recorded before it is sent; a new leader sends it again (the
	// old one may have died in between) and still maps the KILLED update.
	x.failover(t0.Add(10*time.Minute + time.Second))
	if k2 := one(t, x.tick(t0.Add(11*time.Minute)), ActionKill); k2.TaskID != r.TaskID {
		t.Fatalf("resent kill %+v", k2)
	}
	none(t, x.tick(t0.Add(12*time.Minute)))
	x.observe(t0.Add(11*time.Minute), EventKilled, r.TaskID)
	got := x.run(r.ID)
	if got.State != StateFailed || !strings.HasPrefix(got.Message, "timeout") {
		t.Fatalf("timed-out run %+v", got)
	}
	st, _ := x.c.Status("a")
	if st.ErrorCount != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestMaxCompletionTimeAfterFailoverStillEnforced(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), MaxCompletionTime: 10 * time.Minute})
	r := one(t, x.tick(t0), ActionLaunch)
	x.failover(t0.Add(time.Minute))
	one(t, x.tick(t0.Add(20*time.Minute)), ActionKill)
	_ = r
}

func TestOperatorKill(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Retries: 2})
	r := one(t, x.tick(t0), ActionLaunch)
	k := one(t, x.do(x.c.Kill("a", t0.Add(time.Minute))), ActionKill)
	if k.KillReason != "operator" {
		t.Fatalf("%+v", k)
	}
	none(t, x.observe(t0.Add(2*time.Minute), EventKilled, r.TaskID))
	none(t, x.tick(t0.Add(10*time.Minute)))
	if got := x.run(r.ID); got.State != StateKilled {
		t.Fatalf("%+v", got)
	}
	st, _ := x.c.Status("a")
	if st.ErrorCount != 0 || st.SuccessCount != 0 {
		t.Fatalf("a killed run is neither: %+v", st)
	}
}

func TestDuplicateAndUnknownEventsIgnored(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly()})
	r := one(t, x.tick(t0), ActionLaunch)
	x.observe(t0.Add(time.Minute), EventFinished, r.TaskID)
	if ds := x.c.Observe(t0.Add(2*time.Minute), Event{Kind: EventFinished, TaskID: r.TaskID}); len(ds) != 0 {
		t.Fatalf("repeated update produced %+v", ds)
	}
	if ds := x.c.Observe(t0, Event{Kind: EventFailed, TaskID: "ct:nope"}); len(ds) != 0 {
		t.Fatalf("unknown task produced %+v", ds)
	}
	st, _ := x.c.Status("a")
	if st.SuccessCount != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestFailoverNeverRelaunchesLaunchedRun(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Retries: 1})
	r := one(t, x.tick(t0), ActionLaunch)
	x.failover(t0.Add(time.Second))
	none(t, x.tick(t0.Add(time.Second)))
	// The task never reached the cluster: reconciliation says lost, and the
	// run is retried as a new attempt, not relaunched under the same ID.
	x.observe(t0.Add(2*time.Second), EventLost, r.TaskID)
	r1 := one(t, x.tick(t0.Add(2*time.Minute)), ActionLaunch)
	if r1.ID == r.ID || r1.Origin != r.ID {
		t.Fatalf("%+v", r1)
	}
}

func TestHistoryPrunedToLimit(t *testing.T) {
	x := newH(t, Config{HistoryLimit: 5}, JobSpec{Name: "a", Schedule: hourly()})
	for i := 0; i < 30; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		r := one(t, x.tick(at), ActionLaunch)
		x.observe(at.Add(time.Minute), EventFinished, r.TaskID)
	}
	if n := len(x.s.recs); n > 5+1 {
		t.Fatalf("store holds %d records for a 5-run history", n)
	}
	if h := x.c.History("a", 0); len(h) != 5 || !h[0].ScheduledAt.Equal(t0.Add(29*time.Hour)) {
		t.Fatalf("history %d, newest %v", len(h), h[0].ScheduledAt)
	}
	st, _ := x.c.Status("a")
	if st.SuccessCount != 30 {
		t.Fatalf("counters outlive pruned records: %+v", st)
	}
}

func TestStatusRepairedFromRunsAfterCrash(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly()})
	r := one(t, x.tick(t0), ActionLaunch)
	ds := x.c.Observe(t0.Add(time.Minute), Event{Kind: EventFinished, TaskID: r.TaskID})
	// Crash after the run record was persisted but before the status.
	x.s.put(ds[0].Writes[0])
	x.failover(t0.Add(2 * time.Minute))
	st, _ := x.c.Status("a")
	if st.SuccessCount != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestRemoveKillsActiveRunsAndStopsSchedule(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Retries: 2})
	r := one(t, x.tick(t0), ActionLaunch)
	k := one(t, x.do(x.c.Remove("a", t0.Add(time.Minute))), ActionKill)
	if k.TaskID != r.TaskID {
		t.Fatalf("%+v", k)
	}
	// The KILLED update still finds its record; nothing is retried or
	// scheduled for the removed job.
	x.observe(t0.Add(2*time.Minute), EventKilled, r.TaskID)
	if got := x.run(r.ID); got.State != StateKilled {
		t.Fatalf("%+v", got)
	}
	none(t, x.tick(t0.Add(5*time.Hour)))
	if _, ok := x.c.Status("a"); ok {
		t.Fatal("removed job still has a status")
	}
}
