package core

import (
	"strings"
	"testing"
	"time"
)

// finishAll reports every launched run as finished (or failed, when the
// job is in failing) and returns the runs the completions launched.
func (x *h) finishAll(at time.Time, acts []Decision, failing map[string]bool) []Decision {
	var next []Decision
	for _, r := range launches(acts) {
		kind := EventFinished
		if failing[r.Job] {
			kind = EventFailed
		}
		next = append(next, x.observe(at, kind, r.TaskID)...)
	}
	return next
}

func jobsOf(ds []Decision) string {
	var names []string
	for _, r := range launches(ds) {
		names = append(names, r.Job)
	}
	return strings.Join(names, ",")
}

func TestDependencyChain(t *testing.T) {
	x := newH(t, Config{},
		JobSpec{Name: "a", Schedule: hourly()},
		JobSpec{Name: "b", Parents: []string{"a"}},
		JobSpec{Name: "c", Parents: []string{"b"}},
	)
	none(t, x.tick(t0.Add(-time.Minute))) // restore-time dependency check finds nothing
	acts := x.tick(t0)
	if got := jobsOf(acts); got != "a" {
		t.Fatalf("t0 launched %q", got)
	}
	acts = x.finishAll(t0.Add(time.Minute), acts, nil)
	if got := jobsOf(acts); got != "b" {
		t.Fatalf("after a: %q", got)
	}
	if r := launches(acts)[0]; r.Kind != KindDependency || r.Parents["a"] == 0 {
		t.Fatalf("dependency run %+v", r)
	}
	acts = x.finishAll(t0.Add(2*time.Minute), acts, nil)
	if got := jobsOf(acts); got != "c" {
		t.Fatalf("after b: %q", got)
	}
	none(t, x.finishAll(t0.Add(3*time.Minute), acts, nil))
}

func TestDependencyDiamondRunsChildOncePerRound(t *testing.T) {
	x := newH(t, Config{},
		JobSpec{Name: "a", Schedule: hourly()},
		JobSpec{Name: "b", Parents: []string{"a"}},
		JobSpec{Name: "c", Parents: []string{"a"}},
		JobSpec{Name: "d", Parents: []string{"b", "c"}},
	)
	for round := 0; round < 3; round++ {
		at := t0.Add(time.Duration(round) * time.Hour)
		acts := x.tick(at)
		if jobsOf(acts) != "a" {
			t.Fatalf("round %d: %q", round, jobsOf(acts))
		}
		acts = x.finishAll(at.Add(time.Minute), acts, nil)
		if got := jobsOf(acts); got != "b,c" {
			t.Fatalf("round %d after a: %q", round, got)
		}
		bc := launches(acts)
		// b finishes: d still waits for c.
		none(t, x.observe(at.Add(2*time.Minute), EventFinished, bc[0].TaskID))
		acts = x.observe(at.Add(3*time.Minute), EventFinished, bc[1].TaskID)
		if got := jobsOf(acts); got != "d" {
			t.Fatalf("round %d after b and c: %q", round, got)
		}
		none(t, x.finishAll(at.Add(4*time.Minute), acts, nil))
	}
}

func TestParentRunningTwiceReleasesChildOnce(t *testing.T) {
	x := newH(t, Config{},
		JobSpec{Name: "p", Schedule: hourly()},
		JobSpec{Name: "q", Schedule: every{start: t0.Add(3 * time.Hour), period: 24 * time.Hour}},
		JobSpec{Name: "c", Parents: []string{"p", "q"}},
	)
	for i := 0; i < 3; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		none(t, x.finishAll(at.Add(time.Minute), x.tick(at), nil))
	}
	acts := x.finishAll(t0.Add(3*time.Hour+time.Minute), x.tick(t0.Add(3*time.Hour)), nil)
	// p at 3h finished first, then q: c launched exactly once.
	if got := jobsOf(acts); got != "c" {
		t.Fatalf("%q", got)
	}
}

func TestSoftErrorReleasesChildren(t *testing.T) {
	for _, soft := range []bool{false, true} {
		x := newH(t, Config{},
			JobSpec{Name: "a", Schedule: hourly(), SoftError: soft, Retries: 1},
			JobSpec{Name: "b", Parents: []string{"a"}},
		)
		acts := x.tick(t0)
		none(t, x.finishAll(t0.Add(time.Minute), acts, map[string]bool{"a": true})) // attempt 0: retry pending
		acts = x.tick(t0.Add(2 * time.Minute))
		acts = x.finishAll(t0.Add(3*time.Minute), acts, map[string]bool{"a": true}) // final failure
		got := jobsOf(acts)
		if soft && got != "b" || !soft && got != "" {
			t.Fatalf("softError=%v: children launched %q", soft, got)
		}
	}
}

func TestDependencyStateSurvivesFailover(t *testing.T) {
	// Chronos issue #811: C depends on A and B hours apart; a leader change
	// between them must not forget that A already ran.
	jobs := []JobSpec{
		{Name: "a", Schedule: every{start: t0, period: 24 * time.Hour}},
		{Name: "b", Schedule: every{start: t0.Add(6 * time.Hour), period: 24 * time.Hour}},
		{Name: "c", Parents: []string{"a", "b"}},
	}
	x := newH(t, Config{}, jobs...)
	none(t, x.finishAll(t0.Add(time.Minute), x.tick(t0), nil))
	x.failover(t0.Add(3 * time.Hour))
	none(t, x.tick(t0.Add(3*time.Hour)))
	acts := x.finishAll(t0.Add(6*time.Hour+time.Minute), x.tick(t0.Add(6*time.Hour)), nil)
	if got := jobsOf(acts); got != "c" {
		t.Fatalf("after failover: %q", got)
	}
}

func TestChildRecordedBeforeCrashIsNotLostOrDuplicated(t *testing.T) {
	x := newH(t, Config{},
		JobSpec{Name: "a", Schedule: hourly()},
		JobSpec{Name: "b", Parents: []string{"a"}},
	)
	r := one(t, x.tick(t0), ActionLaunch)
	ds := x.c.Observe(t0.Add(time.Minute), Event{Kind: EventFinished, TaskID: r.TaskID})
	// Crash after persisting a's completion but before b's run record.
	x.s.apply(ds[0])
	x.failover(t0.Add(2 * time.Minute))
	if got := jobsOf(x.tick(t0.Add(2 * time.Minute))); got != "b" {
		t.Fatalf("new leader must start the child the old one decided on: %q", got)
	}
	x.failover(t0.Add(3 * time.Minute))
	none(t, x.tick(t0.Add(3*time.Minute)))
}

func TestDisabledChildConsumesRelease(t *testing.T) {
	child := JobSpec{Name: "b", Parents: []string{"a"}, Disabled: true}
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly()}, child)
	none(t, x.finishAll(t0.Add(time.Minute), x.tick(t0), nil))
	child.Disabled = false
	x.do(mustUpsert(t, x.c, child))
	// Enabling the child does not replay the release it skipped.
	none(t, x.tick(t0.Add(2*time.Minute)))
	if got := jobsOf(x.finishAll(t0.Add(time.Hour+time.Minute), x.tick(t0.Add(time.Hour)), nil)); got != "b" {
		t.Fatalf("%q", got)
	}
}

func TestMarkSuccessReleasesChildren(t *testing.T) {
	x := newH(t, Config{},
		JobSpec{Name: "a", Schedule: hourly()},
		JobSpec{Name: "b", Parents: []string{"a"}},
	)
	ds, err := x.c.MarkSuccess("a", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got := jobsOf(x.do(ds)); got != "b" {
		t.Fatalf("%q", got)
	}
	st, _ := x.c.Status("a")
	if st.SuccessCount != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestGraphValidation(t *testing.T) {
	c, err := New(Config{}, []JobSpec{
		{Name: "a", Schedule: hourly()},
		{Name: "b", Parents: []string{"a"}},
		{Name: "c", Parents: []string{"b"}},
	}, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec JobSpec
		want string
	}{
		{JobSpec{Name: "a", Parents: []string{"c"}}, "cycle"},
		{JobSpec{Name: "d", Parents: []string{"zz"}}, `unknown job "zz"`},
		{JobSpec{Name: "d", Parents: []string{"d"}}, "itself"},
		{JobSpec{Name: "d", Schedule: hourly(), Parents: []string{"a"}}, "mutually exclusive"},
		{JobSpec{Name: "bad name"}, "name"},
	} {
		_, err := c.Upsert(tc.spec, t0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.spec, err, tc.want)
		}
	}
	// The rejected cycle left the graph as it was.
	if _, err := c.Upsert(JobSpec{Name: "d", Parents: []string{"c"}}, t0); err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{}, []JobSpec{{Name: "x", Parents: []string{"y"}}, {Name: "y", Parents: []string{"x"}}}, nil, t0)
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("New with a cycle: %v", err)
	}
}

func TestNewChildWaitsForParentsNextRun(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly()})
	none(t, x.finishAll(t0.Add(time.Minute), x.tick(t0), nil))
	child := JobSpec{Name: "b", Parents: []string{"a"}, Since: t0.Add(10 * time.Minute)}
	x.do(mustUpsert(t, x.c, child))
	x.jobs = append(x.jobs, child)
	none(t, x.tick(t0.Add(11*time.Minute)))
	x.failover(t0.Add(12 * time.Minute))
	none(t, x.tick(t0.Add(12*time.Minute)))
	if got := jobsOf(x.finishAll(t0.Add(time.Hour+time.Minute), x.tick(t0.Add(time.Hour)), nil)); got != "b" {
		t.Fatalf("%q", got)
	}
}
