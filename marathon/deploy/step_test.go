package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	v1 = t0.Add(-time.Hour)
	v2 = t0
)

func webApp(n int, s UpgradeStrategy) AppSpec {
	return AppSpec{ID: "/web", Version: v2, Instances: n, UpgradeStrategy: s, KillSelection: YoungestFirst,
		HasHealthChecks: true, Unreachable: UnreachableStrategy{InactiveAfterSeconds: 300, ExpungeAfterSeconds: 600}}
}

var strategies = []UpgradeStrategy{
	{1, 1}, {1, 0}, {0.5, 0.5}, {0, 0}, {0, 1}, {0.5, 0}, {0.5, 1}, {1, 0.5}, {0, 0.5},
	{0.7, 0}, {0.7, 0.3}, {0.25, 0.1}, {0.9, 0.1}, {0.1, 0.9},
}

// TestRestartStrategies replaces every instance under each upgradeStrategy
// and instance count, one lifecycle event at a time (in list order and in
// random orders), checking the healthy floor and the capacity ceiling after
// every decision.
func TestRestartStrategies(t *testing.T) {
	for _, s := range strategies {
		for _, n := range []int{1, 2, 3, 4, 5, 10} {
			for _, checks := range []string{"health", "none", "readiness"} {
				for seed := uint64(0); seed < 4; seed++ {
					name := fmt.Sprintf("mhc=%v/moc=%v/n=%d/%s/seed=%d", s.MinimumHealthCapacity, s.MaximumOverCapacity, n, checks, seed)
					t.Run(name, func(t *testing.T) {
						app := webApp(n, s)
						app.HasHealthChecks = checks == "health"
						app.HasReadinessChecks = checks == "readiness"
						sm := newSim(t, app, RestartApplication)
						sm.addRunning(n, v1)
						var pick func(int) int
						if seed > 0 {
							pick = randPick(seed)
						}
						sm.run(2000, pick)
						sm.assertFinal()
						minH, ceil := RestartBounds(n, s)
						if sm.minAvail < minH {
							t.Fatalf("available dropped to %d, floor %d", sm.minAvail, minH)
						}
						if sm.maxTotal > ceil {
							t.Fatalf("total reached %d, ceiling %d", sm.maxTotal, ceil)
						}
					})
				}
			}
		}
	}
}

// TestRestartFirstDecision pins the ignition decisions that Marathon's
// TaskReplaceActor.computeRestartStrategy makes for the special cases.
func TestRestartFirstDecision(t *testing.T) {
	cases := []struct {
		s          UpgradeStrategy
		n          int
		kill, lnch int
		maxTotal   int
	}{
		{UpgradeStrategy{1, 1}, 3, 0, 3, 6},     // side by side
		{UpgradeStrategy{1, 0}, 3, 0, 1, 4},     // one at a time with one extra
		{UpgradeStrategy{0, 0}, 3, 3, 0, 3},     // kill all old first
		{UpgradeStrategy{0, 1}, 3, 3, 3, 6},     // kill all and start all at once
		{UpgradeStrategy{0.5, 0.5}, 4, 2, 2, 6}, // half down, fill to capacity
		{UpgradeStrategy{0.5, 0}, 4, 2, 0, 4},   // half down, no room yet
		{UpgradeStrategy{0.7, 0}, 3, 0, 1, 4},   // ⌈2.1⌉ = 3 = capacity: like 1/0
		{UpgradeStrategy{0.7, 0}, 10, 3, 0, 10}, // ⌈7⌉, not 8: no float error
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/%d", c.s, c.n), func(t *testing.T) {
			sm := newSim(t, webApp(c.n, c.s), RestartApplication)
			sm.addRunning(c.n, v1)
			d := sm.decide()
			if len(d.Kill) != c.kill || d.Launch != c.lnch {
				t.Fatalf("first decision kills %d launches %d, want %d and %d", len(d.Kill), d.Launch, c.kill, c.lnch)
			}
			sm.run(1000, nil)
			sm.assertFinal()
			if sm.maxTotal != c.maxTotal {
				t.Fatalf("peak instances %d, want %d", sm.maxTotal, c.maxTotal)
			}
		})
	}
}

// TestRestartOneAtATime checks the 1/0 strategy never has more than one
// new instance that is not yet healthy.
func TestRestartOneAtATime(t *testing.T) {
	sm := newSim(t, webApp(5, UpgradeStrategy{1, 0}), RestartApplication)
	sm.addRunning(5, v1)
	for range 500 {
		d := sm.decide()
		if d.Done {
			sm.assertFinal()
			return
		}
		pending := 0
		for _, i := range sm.insts {
			if i.Version.Equal(v2) && !Available(i, sm.app) {
				pending++
			}
		}
		if pending > 1 {
			t.Fatalf("%d new instances pending at once", pending)
		}
		sm.step(0)
	}
	t.Fatal("not done")
}

// TestRestartUnhealthyNewKeepsOld: new instances that never pass their
// health check never cost an old healthy one, and the step says why it waits.
func TestRestartUnhealthyNewKeepsOld(t *testing.T) {
	sm := newSim(t, webApp(3, UpgradeStrategy{1, 1}), RestartApplication)
	sm.addRunning(3, v1)
	for range 20 {
		sm.decide()
		for k := range sm.insts {
			i := &sm.insts[k]
			if i.Version.Equal(v2) && i.State != Running {
				i.State, i.Healthy = Running, false
			}
		}
	}
	old := 0
	for _, i := range sm.insts {
		if i.Version.Equal(v1) && !i.Killing {
			old++
		}
	}
	if old != 3 {
		t.Fatalf("%d old instances left, want all 3", old)
	}
	if !strings.Contains(sm.lastWaiting, "0 of 3 new instances healthy") {
		t.Fatalf("waiting = %q", sm.lastWaiting)
	}
}

// TestRestartUnhealthyOldGoFirst: old instances that are not serving are
// killed before healthy ones and do not use up the floor budget.
func TestRestartUnhealthyOldGoFirst(t *testing.T) {
	sm := newSim(t, webApp(4, UpgradeStrategy{0.5, 0}), RestartApplication)
	sm.addRunning(4, v1)
	sm.insts[2].Healthy = false
	d := sm.decide()
	if len(d.Kill) != 2 || d.Kill[0] != "i003" {
		t.Fatalf("kills %v, want i003 first and one healthy one", d.Kill)
	}
	if sm.avail() != 2 {
		t.Fatalf("available %d after kills, want floor 2", sm.avail())
	}
}

// TestRestartExtraInstances: a forced redeploy can leave more instances
// than wanted; the extras go, then the replacement proceeds.
func TestRestartExtraInstances(t *testing.T) {
	sm := newSim(t, webApp(2, UpgradeStrategy{1, 0}), RestartApplication)
	sm.addRunning(3, v1)
	sm.addRunning(3, v2)
	sm.checkCeil = false // starts above the ceiling
	sm.run(200, nil)
	sm.assertFinal()
}

func TestRestartToZeroStopsAll(t *testing.T) {
	sm := newSim(t, webApp(0, DefaultUpgradeStrategy), RestartApplication)
	sm.addRunning(3, v1)
	d := sm.decide()
	if len(d.Kill) != 3 || d.Done {
		t.Fatalf("decision %+v", d)
	}
	sm.run(50, nil)
	if len(sm.insts) != 0 {
		t.Fatalf("left %+v", sm.insts)
	}
}

// TestRestartResumes: a new leader resumes a half-done replacement from
// the observed instances alone, without launching duplicates.
func TestRestartResumes(t *testing.T) {
	sm := newSim(t, webApp(3, UpgradeStrategy{1, 0}), RestartApplication)
	sm.addRunning(2, v1)
	sm.addRunning(1, v2) // one already replaced
	sm.insts = append(sm.insts, Instance{ID: "pending", Version: v2, State: Staged})
	d := sm.decide()
	if d.Launch != 0 {
		t.Fatalf("launched %d while one new instance is staging", d.Launch)
	}
	sm.run(100, nil)
	sm.assertFinal()
}

func TestScale(t *testing.T) {
	mk := func(id string, st InstanceState, healthy bool, started int) Instance {
		return Instance{ID: id, Version: v2, State: st, Healthy: healthy, StartedAt: t0.Add(time.Duration(started) * time.Minute)}
	}
	base := []Instance{
		mk("a", Running, true, 1),
		mk("b", Running, true, 2),
		mk("c", Running, true, 3),
		mk("d", Running, false, 4),
		mk("e", Staged, false, 5),
	}
	cases := []struct {
		name      string
		n         int
		sel       KillSelection
		sentenced []string
		insts     []Instance
		kill      []string
		launch    int
		done      bool
	}{
		{name: "up", n: 7, insts: base, launch: 2},
		{name: "down youngest first", n: 2, sel: YoungestFirst, insts: base, kill: []string{"e", "d", "c"}},
		{name: "down oldest first", n: 2, sel: OldestFirst, insts: base, kill: []string{"e", "d", "a"}},
		{name: "down default is youngest", n: 1, insts: base[:3], kill: []string{"c", "b"}},
		{name: "down unreachable first", n: 2, sel: OldestFirst, insts: append(slices.Clone(base[:3]),
			Instance{ID: "u", Version: v2, State: Unreachable, UnreachableSince: t0}), kill: []string{"u", "a"}},
		{name: "scheduled before launched", n: 3, insts: append(slices.Clone(base[:3]),
			Instance{ID: "q", Version: v2, State: Scheduled}), kill: []string{"q"}},
		{name: "sentenced with scale", n: 2, sentenced: []string{"a"}, insts: base[:3], kill: []string{"a"}},
		{name: "sentenced below target relaunches", n: 3, sentenced: []string{"a"}, insts: base[:3], kill: []string{"a"}, launch: 1},
		{name: "steady", n: 3, insts: base[:3], done: true},
		{name: "to zero", n: 0, insts: base[:2], kill: []string{"b", "a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := webApp(c.n, DefaultUpgradeStrategy)
			app.KillSelection = c.sel
			d := Drive(StepInput{Action: Action{Action: ScaleApplication, App: app.ID, Kill: c.sentenced}, App: app, Instances: c.insts, Now: t0})
			if !slices.Equal(d.Kill, c.kill) || d.Launch != c.launch || d.Done != c.done {
				t.Fatalf("got kill %v launch %d done %v (%s), want kill %v launch %d done %v", d.Kill, d.Launch, d.Done, d.Waiting, c.kill, c.launch, c.done)
			}
		})
	}
}

func TestScaleSimulated(t *testing.T) {
	for _, tc := range []struct{ from, to int }{{0, 5}, {3, 10}, {10, 2}, {4, 0}} {
		for _, sel := range []KillSelection{YoungestFirst, OldestFirst} {
			t.Run(fmt.Sprintf("%d-%d-%s", tc.from, tc.to, sel), func(t *testing.T) {
				app := webApp(tc.to, DefaultUpgradeStrategy)
				app.KillSelection = sel
				sm := newSim(t, app, ScaleApplication)
				sm.addRunning(tc.from, v2)
				var survivors []string
				if tc.to < tc.from {
					for _, i := range sm.insts {
						survivors = append(survivors, i.ID)
					}
					if sel == YoungestFirst {
						survivors = survivors[:tc.to]
					} else {
						survivors = survivors[tc.from-tc.to:]
					}
				}
				sm.run(500, randPick(uint64(tc.from*100+tc.to)))
				sm.assertFinal()
				if survivors != nil {
					var got []string
					for _, i := range sm.insts {
						got = append(got, i.ID)
					}
					if !slices.Equal(got, survivors) {
						t.Fatalf("survivors %v, want %v", got, survivors)
					}
				}
			})
		}
	}
}

func TestScaleWaitsForKills(t *testing.T) {
	app := webApp(1, DefaultUpgradeStrategy)
	insts := []Instance{{ID: "a", Version: v2, State: Running, Healthy: true}, {ID: "b", Version: v2, State: Running, Killing: true}}
	d := Drive(StepInput{Action: Action{Action: ScaleApplication}, App: app, Instances: insts, Now: t0})
	if d.Done || !strings.Contains(d.Waiting, "1 instances being killed") {
		t.Fatalf("decision %+v", d)
	}
}

func TestStopAndStart(t *testing.T) {
	app := webApp(3, DefaultUpgradeStrategy)
	d := Drive(StepInput{Action: Action{Action: StartApplication}, App: app, Now: t0})
	if !d.Done {
		t.Fatal("StartApplication should complete at once")
	}
	insts := []Instance{
		{ID: "a", Version: v1, State: Running},
		{ID: "b", Version: v2, State: Scheduled},
		{ID: "c", Version: v2, State: Running, Killing: true},
		{ID: "u", Version: v2, State: Unreachable, UnreachableSince: t0},
	}
	d = Drive(StepInput{Action: Action{Action: StopApplication}, App: app, Instances: insts, Now: t0})
	if !slices.Equal(d.Kill, []string{"a", "b", "u"}) || d.Done {
		t.Fatalf("stop decision %+v", d)
	}
	d = Drive(StepInput{Action: Action{Action: StopApplication}, App: app, Instances: insts[3:], Now: t0})
	if !d.Done {
		t.Fatalf("only an unreachable instance left, stop should be done: %+v", d)
	}
}

// TestInactiveUnreachableIgnored: an old instance unreachable past
// inactiveAfterSeconds no longer holds a restart back.
func TestInactiveUnreachableIgnored(t *testing.T) {
	app := webApp(2, UpgradeStrategy{1, 0})
	insts := []Instance{
		{ID: "n1", Version: v2, State: Running, Healthy: true},
		{ID: "n2", Version: v2, State: Running, Healthy: true},
		{ID: "old", Version: v1, State: Unreachable, UnreachableSince: t0, Killing: true},
	}
	d := Drive(StepInput{Action: Action{Action: RestartApplication}, App: app, Instances: insts, Now: t0.Add(time.Minute)})
	if d.Done {
		t.Fatal("done while the old instance still counts")
	}
	d = Drive(StepInput{Action: Action{Action: RestartApplication}, App: app, Instances: insts, Now: t0.Add(5 * time.Minute)})
	if !d.Done {
		t.Fatalf("not done after the old instance became inactive: %s", d.Waiting)
	}
}

func TestBoundsFloat(t *testing.T) {
	for _, c := range []struct {
		n          int
		s          UpgradeStrategy
		minH, maxT int
	}{
		{10, UpgradeStrategy{0.7, 0.1}, 7, 11},
		{3, UpgradeStrategy{0.7, 0}, 3, 4},
		{3, UpgradeStrategy{0.5, 0.5}, 2, 4},
		{5, UpgradeStrategy{0.6, 0.2}, 3, 6},
		{1, UpgradeStrategy{1, 0}, 1, 2},
	} {
		minH, maxT := RestartBounds(c.n, c.s)
		if minH != c.minH || maxT != c.maxT {
			t.Errorf("RestartBounds(%d, %v) = %d, %d, want %d, %d", c.n, c.s, minH, maxT, c.minH, c.maxT)
		}
	}
}
