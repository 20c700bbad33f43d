package deploy

import (
	"slices"
	"testing"
	"time"
)

func TestDecideUnreachable(t *testing.T) {
	strat := UnreachableStrategy{InactiveAfterSeconds: 60, ExpungeAfterSeconds: 600}
	run := func(id string, started int) Instance {
		return Instance{ID: id, Version: v1, State: Running, Healthy: true, StartedAt: t0.Add(time.Duration(started) * time.Minute)}
	}
	lost := func(id string, started int, since time.Duration) Instance {
		i := run(id, started)
		i.State, i.UnreachableSince = Unreachable, t0.Add(-since)
		return i
	}
	cases := []struct {
		name   string
		strat  UnreachableStrategy
		sel    KillSelection
		n      int
		insts  []Instance
		want   UnreachableDecision
		active int
	}{
		{name: "recently unreachable still counts", strat: strat, n: 2,
			insts: []Instance{run("a", 1), lost("b", 2, 30*time.Second)}},
		{name: "inactive gets a replacement", strat: strat, n: 2,
			insts: []Instance{run("a", 1), lost("b", 2, 60*time.Second)},
			want:  UnreachableDecision{Inactive: []string{"b"}, Launch: 1}},
		{name: "expunged after expungeAfter", strat: strat, n: 2,
			insts: []Instance{run("a", 1), run("c", 3), lost("b", 2, 10*time.Minute)},
			want:  UnreachableDecision{Inactive: []string{"b"}, Expunge: []string{"b"}}},
		{name: "disabled waits forever", strat: UnreachableStrategy{Disabled: true}, n: 2,
			insts: []Instance{run("a", 1), lost("b", 2, 1000*time.Hour)}},
		{name: "zero timeouts act at once", strat: UnreachableStrategy{}, n: 1,
			insts: []Instance{lost("b", 2, 0)},
			want:  UnreachableDecision{Inactive: []string{"b"}, Expunge: []string{"b"}, Launch: 1}},
		{name: "returned instance: youngest (the replacement) goes", strat: strat, n: 2, sel: YoungestFirst,
			insts: []Instance{run("a", 1), run("returned", 2), run("replacement", 9)},
			want:  UnreachableDecision{Kill: []string{"replacement"}}},
		{name: "returned instance: oldest goes", strat: strat, n: 2, sel: OldestFirst,
			insts: []Instance{run("a", 1), run("returned", 2), run("replacement", 9)},
			want:  UnreachableDecision{Kill: []string{"a"}}},
		{name: "being killed does not count", strat: strat, n: 2,
			insts: []Instance{run("a", 1), {ID: "k", State: Running, Killing: true}, run("c", 3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := AppSpec{ID: "/web", Version: v1, Instances: c.n, KillSelection: c.sel, Unreachable: c.strat}
			got := DecideUnreachable(app, c.insts, t0)
			if !slices.Equal(got.Inactive, c.want.Inactive) || !slices.Equal(got.Expunge, c.want.Expunge) ||
				!slices.Equal(got.Kill, c.want.Kill) || got.Launch != c.want.Launch {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestUnreachableReplacedThroughDrive: during a scale step, an inactive
// unreachable instance stops counting, so the driver launches its
// replacement; when it returns, the surplus is killed by killSelection.
func TestUnreachableReplacedThroughDrive(t *testing.T) {
	app := AppSpec{ID: "/web", Version: v1, Instances: 2, Unreachable: UnreachableStrategy{InactiveAfterSeconds: 60, ExpungeAfterSeconds: 600}}
	insts := []Instance{
		{ID: "a", Version: v1, State: Running, StartedAt: t0},
		{ID: "b", Version: v1, State: Unreachable, StartedAt: t0, UnreachableSince: t0},
	}
	in := StepInput{Action: Action{Action: ScaleApplication}, App: app, Instances: insts}
	in.Now = t0.Add(59 * time.Second)
	if d := Drive(in); d.Launch != 0 {
		t.Fatalf("replaced before inactiveAfterSeconds: %+v", d)
	}
	in.Now = t0.Add(60 * time.Second)
	if d := Drive(in); d.Launch != 1 {
		t.Fatalf("no replacement once inactive: %+v", d)
	}
	// The replacement runs, then b comes back.
	insts[1].State, insts[1].UnreachableSince = Running, time.Time{}
	insts = append(insts, Instance{ID: "r", Version: v1, State: Running, StartedAt: t0.Add(2 * time.Minute)})
	d := DecideUnreachable(app, insts, t0.Add(3*time.Minute))
	if !slices.Equal(d.Kill, []string{"r"}) {
		t.Fatalf("surplus kill %v, want the younger replacement", d.Kill)
	}
}
