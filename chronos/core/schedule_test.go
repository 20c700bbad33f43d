package core

import (
	"testing"
	"time"
)

func TestInstantLaunchedOnceWhenDue(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly()})
	none(t, x.tick(t0.Add(-time.Millisecond)))
	r := one(t, x.tick(t0), ActionLaunch)
	if r.ID != "a@2026-01-01T00:00:00Z" || r.Kind != KindScheduled || !r.ScheduledAt.Equal(t0) || r.TaskID == "" {
		t.Fatalf("launched %+v", r)
	}
	if got := x.run(r.ID); got.State != StateLaunched {
		t.Fatalf("record written before the launch must say launched, got %s", got.State)
	}
	none(t, x.tick(t0.Add(time.Second)))
	none(t, x.tick(t0.Add(59*time.Minute)))
	if w, ok := x.c.NextWake(); !ok || !w.Equal(t0.Add(time.Hour)) {
		t.Fatalf("NextWake = %v %v, want next hour", w, ok)
	}
}

func TestLateWithinEpsilonRunsLate(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Epsilon: 5 * time.Minute})
	r := one(t, x.tick(t0.Add(4*time.Minute)), ActionLaunch)
	if !r.ScheduledAt.Equal(t0) || !r.LaunchedAt.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("late run %+v", r)
	}
}

func TestMissedBeyondEpsilonRecordedSkipped(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Epsilon: time.Minute})
	none(t, x.tick(t0.Add(2*time.Minute)))
	r := x.run("a@2026-01-01T00:00:00Z")
	if r.State != StateSkipped || r.SkipReason != SkipMissedEpsilon || r.Count != 1 {
		t.Fatalf("missed record %+v", r)
	}
	st, _ := x.c.Status("a")
	if st.Skipped[SkipMissedEpsilon] != 1 {
		t.Fatalf("skipped count %v", st.Skipped)
	}
	// The next instant runs normally.
	one(t, x.tick(t0.Add(time.Hour)), ActionLaunch)
}

func TestEpsilonBoundaryIsInclusive(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Epsilon: time.Minute})
	one(t, x.tick(t0.Add(time.Minute)), ActionLaunch)
}

func TestBacklogAfterDowntimeCollapsesIntoOneRecord(t *testing.T) {
	minutely := every{start: t0, period: time.Minute}
	x := newH(t, Config{BacklogScanLimit: 100000}, JobSpec{Name: "m", Schedule: minutely, Epsilon: 90 * time.Second, Concurrent: true})
	// Down for 30 days; the first tick is 30 s after an instant.
	now := t0.Add(30*24*time.Hour + 30*time.Second)
	acts := x.tick(now)
	// The two instants within 90 s (now-30s and now-90s... only those ≥ now-90s) run late.
	ls := launches(acts)
	if len(ls) != 2 {
		t.Fatalf("want the 2 instants within epsilon launched, got %d", len(ls))
	}
	span := x.run("m@2026-01-01T00:00:00Z")
	want := int64(30*24*60 - 1)
	if span.State != StateSkipped || span.SkipReason != SkipMissedEpsilon || span.Count != want || span.CountCapped {
		t.Fatalf("span %+v, want count %d", span, want)
	}
	if len(x.s.recs) != 4 { // span, 2 runs, status
		t.Fatalf("a month's backlog should cost one record, store has %v", keys(x.s.recs))
	}
	// A new leader given these records records nothing again.
	x.failover(now)
	none(t, x.tick(now))
}

func TestHugeBacklogIsCappedAndMarked(t *testing.T) {
	secondly := every{start: t0, period: time.Second}
	x := newH(t, Config{BacklogScanLimit: 1000}, JobSpec{Name: "s", Schedule: secondly, Epsilon: time.Second / 2})
	now := t0.Add(365 * 24 * time.Hour)
	acts := x.tick(now)
	if len(launches(acts)) != 1 { // the instant exactly at now
		t.Fatalf("launches %d", len(launches(acts)))
	}
	span := x.run("s@2026-01-01T00:00:00Z")
	if !span.CountCapped || span.Count != 1000 || !span.LastScheduledAt.Before(now) || span.LastScheduledAt.Before(now.Add(-time.Second)) {
		t.Fatalf("capped span %+v", span)
	}
}

func TestSkipSpansGrowInPlace(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Epsilon: time.Minute})
	none(t, x.tick(t0.Add(2*time.Minute)))
	none(t, x.tick(t0.Add(time.Hour+2*time.Minute)))
	none(t, x.tick(t0.Add(2*time.Hour+2*time.Minute)))
	span := x.run("a@2026-01-01T00:00:00Z")
	if span.Count != 3 || !span.LastScheduledAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("span %+v", span)
	}
}

func TestConcurrentFalseRecordsSkip(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly()})
	r := one(t, x.tick(t0), ActionLaunch)
	x.observe(t0.Add(time.Second), EventStarted, r.TaskID)
	none(t, x.tick(t0.Add(time.Hour)))
	skip := x.run("a@2026-01-01T01:00:00Z")
	if skip.State != StateSkipped || skip.SkipReason != SkipConcurrentRunning {
		t.Fatalf("overlapping instant %+v", skip)
	}
	x.observe(t0.Add(90*time.Minute), EventFinished, r.TaskID)
	one(t, x.tick(t0.Add(2*time.Hour)), ActionLaunch)
}

func TestConcurrentTrueOverlaps(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Concurrent: true})
	one(t, x.tick(t0), ActionLaunch)
	one(t, x.tick(t0.Add(time.Hour)), ActionLaunch)
	if n := len(x.c.Active("a")); n != 2 {
		t.Fatalf("active %d", n)
	}
}

func TestDisabledInstantsRecordedAsSkippedDisabled(t *testing.T) {
	spec := JobSpec{Name: "a", Schedule: hourly(), Disabled: true, Since: t0.Add(-time.Second)}
	x := newH(t, Config{}, spec)
	for i := 0; i < 5; i++ {
		none(t, x.tick(t0.Add(time.Duration(i)*time.Hour)))
	}
	span := x.run("a@2026-01-01T00:00:00Z")
	if span.SkipReason != SkipDisabled || span.Count != 5 {
		t.Fatalf("disabled span %+v", span)
	}
	// Re-enabled: the next instant runs, and the disabled period is not
	// reported as missed.
	spec.Disabled = false
	spec.Since = t0.Add(4*time.Hour + time.Minute)
	if _, err := x.c.Upsert(spec, spec.Since); err != nil {
		t.Fatal(err)
	}
	r := one(t, x.tick(t0.Add(5*time.Hour)), ActionLaunch)
	if !r.ScheduledAt.Equal(t0.Add(5 * time.Hour)) {
		t.Fatalf("launched %v", r.ScheduledAt)
	}
	st, _ := x.c.Status("a")
	if st.Skipped[SkipMissedEpsilon] != 0 || st.Skipped[SkipDisabled] != 5 {
		t.Fatalf("skipped %v", st.Skipped)
	}
}

func TestExhaustedScheduleStops(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "r3", Schedule: every{start: t0, period: time.Hour, count: 3}, Concurrent: true})
	n := 0
	for i := 0; i < 10; i++ {
		n += len(launches(x.tick(t0.Add(time.Duration(i) * time.Hour))))
	}
	if n != 3 {
		t.Fatalf("R3 launched %d times", n)
	}
	if _, ok := x.c.NextWake(); ok {
		t.Fatal("an exhausted schedule should leave nothing to wake for")
	}
}

func TestNewJobDoesNotReportPastInstants(t *testing.T) {
	// ISO start years in the past; the job was saved at t0+30m.
	old := every{start: t0.AddDate(-3, 0, 0), period: time.Hour}
	c, err := New(Config{}, []JobSpec{{Name: "a", Schedule: old, Since: t0.Add(30 * time.Minute)}}, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if ds := c.Tick(t0.Add(30 * time.Minute)); len(ds) != 0 {
		t.Fatalf("decisions before the first instant after Since: %+v", ds)
	}
	ds := c.Tick(t0.Add(time.Hour))
	if len(ds) != 1 || ds[0].Action != ActionLaunch {
		t.Fatalf("%+v", ds)
	}
}

func TestRunNowDoesNotShiftSchedule(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Concurrent: true})
	ds, err := x.c.RunNow("a", []string{"--full"}, t0.Add(-30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	m := one(t, x.do(ds), ActionLaunch)
	if m.Kind != KindManual || len(m.Arguments) != 1 || m.Arguments[0] != "--full" {
		t.Fatalf("manual run %+v", m)
	}
	s := one(t, x.tick(t0), ActionLaunch)
	if !s.ScheduledAt.Equal(t0) || m.ID == s.ID || m.TaskID == s.TaskID {
		t.Fatalf("scheduled run %+v after manual %+v", s, m)
	}
	if _, err := x.c.RunNow("nope", nil, t0); err == nil {
		t.Fatal("run-now of an unknown job must fail")
	}
}

func TestRunNowHonoursConcurrentFalse(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly()})
	one(t, x.tick(t0), ActionLaunch)
	ds, _ := x.c.RunNow("a", nil, t0.Add(time.Minute))
	none(t, x.do(ds))
	if ds[0].Writes[0].Run.SkipReason != SkipConcurrentRunning {
		t.Fatalf("%+v", ds[0].Writes[0].Run)
	}
}

func TestUpdateHandlesInstantsAlreadyDue(t *testing.T) {
	spec := JobSpec{Name: "a", Schedule: hourly(), Concurrent: true}
	x := newH(t, Config{}, spec)
	// Saved 3 s after the instant, before any tick handled it.
	spec.Since = t0.Add(3 * time.Second)
	spec.Schedule = every{start: t0, period: 2 * time.Hour}
	ds, err := x.c.Upsert(spec, spec.Since)
	if err != nil {
		t.Fatal(err)
	}
	if r := one(t, x.do(ds), ActionLaunch); !r.ScheduledAt.Equal(t0) {
		t.Fatalf("%+v", r)
	}
	none(t, x.tick(t0.Add(time.Hour)))
	one(t, x.tick(t0.Add(2*time.Hour)), ActionLaunch)
}
