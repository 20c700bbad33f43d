package deploy

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// sim is a tiny cluster for one app: it applies Drive's decisions and moves
// instances through their lifecycle one event at a time, checking the
// rolling-restart invariants after every decision.
type sim struct {
	t      testing.TB
	app    AppSpec
	action Action
	now    time.Time
	insts  []Instance
	seq    int

	maxTotal    int // highest total instances seen
	minAvail    int // lowest available count seen
	checkFloor  bool
	checkCeil   bool
	decisions   int
	lastWaiting string
}

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func newSim(t testing.TB, app AppSpec, action ActionName) *sim {
	return &sim{t: t, app: app, action: Action{Action: action, App: app.ID}, now: t0, minAvail: 1 << 30, checkFloor: true, checkCeil: true}
}

// addRunning adds n running, healthy, ready instances of version v.
func (s *sim) addRunning(n int, v time.Time) {
	for range n {
		s.seq++
		s.insts = append(s.insts, Instance{ID: fmt.Sprintf("i%03d", s.seq), Version: v, State: Running,
			Healthy: true, Ready: true, StartedAt: s.now.Add(time.Duration(s.seq) * time.Second), Agent: "a1"})
	}
}

func (s *sim) avail() int {
	n := 0
	for _, i := range s.insts {
		if Available(i, s.app) {
			n++
		}
	}
	return n
}

func (s *sim) total() int {
	n := 0
	for _, i := range s.insts {
		if !IsInactive(i, s.app, s.now) {
			n++
		}
	}
	return n
}

func (s *sim) find(id string) int {
	for k, i := range s.insts {
		if i.ID == id {
			return k
		}
	}
	return -1
}

// decide asks Drive, checks the decision against the invariants and
// applies it. It returns the decision.
func (s *sim) decide() Decision {
	s.t.Helper()
	s.decisions++
	d := Drive(StepInput{Action: s.action, App: s.app, Instances: append([]Instance(nil), s.insts...), Now: s.now})
	s.lastWaiting = d.Waiting
	if d.Launch < 0 {
		s.t.Fatalf("negative launch %d", d.Launch)
	}
	minH, ceil := RestartBounds(s.app.Instances, s.app.UpgradeStrategy)
	before := s.avail()
	seen := map[string]bool{}
	for _, id := range d.Kill {
		k := s.find(id)
		if k < 0 {
			s.t.Fatalf("kill of unknown instance %s", id)
		}
		if s.insts[k].Killing || seen[id] {
			s.t.Fatalf("kill of %s which is already being killed", id)
		}
		seen[id] = true
		s.insts[k].Killing = true
	}
	after := s.avail()
	if s.action.Action == RestartApplication && s.checkFloor && after < min(minH, before) {
		s.t.Fatalf("healthy floor broken: %d available before kills, %d after, floor %d (kills %v)", before, after, minH, d.Kill)
	}
	totalBefore := s.total()
	for range d.Launch {
		s.seq++
		s.insts = append(s.insts, Instance{ID: fmt.Sprintf("i%03d", s.seq), Version: s.app.Version, State: Scheduled})
	}
	if s.action.Action == RestartApplication && s.checkCeil && d.Launch > 0 && s.total() > ceil {
		s.t.Fatalf("capacity ceiling broken: %d instances before launching %d, ceiling %d", totalBefore, d.Launch, ceil)
	}
	s.maxTotal = max(s.maxTotal, s.total())
	s.minAvail = min(s.minAvail, s.avail())
	return d
}

// step moves the first instance (in list order from start) that can move
// one stage along; it reports whether anything moved.
func (s *sim) step(start int) bool {
	n := len(s.insts)
	for j := range n {
		k := (start + j) % n
		i := &s.insts[k]
		if i.Killing {
			s.insts = append(s.insts[:k], s.insts[k+1:]...)
			return true
		}
		switch i.State {
		case Scheduled:
			i.State = Staged
			i.StartedAt = s.now
			return true
		case Staged:
			i.State = Starting
			return true
		case Starting:
			i.State = Running
			i.StartedAt = s.now
			i.Healthy = !s.app.HasHealthChecks
			i.Ready = !s.app.HasReadinessChecks
			return true
		case Running:
			if !i.Healthy {
				i.Healthy = true
				return true
			}
			if !i.Ready {
				i.Ready = true
				return true
			}
		}
	}
	return false
}

// run alternates decisions and single lifecycle events until Drive says
// done, failing after limit rounds. pick chooses which instance moves next.
func (s *sim) run(limit int, pick func(n int) int) {
	s.t.Helper()
	for round := 0; round < limit; round++ {
		s.now = s.now.Add(time.Second)
		d := s.decide()
		if d.Done {
			return
		}
		start := 0
		if len(s.insts) > 0 && pick != nil {
			start = pick(len(s.insts))
		}
		if !s.step(start) && d.Launch == 0 && len(d.Kill) == 0 {
			s.t.Fatalf("stuck after %d rounds: %s; instances %+v", round, d.Waiting, s.insts)
		}
	}
	s.t.Fatalf("not done after %d rounds: %s", limit, s.lastWaiting)
}

// assertFinal checks the end state of a restart or scale: exactly the
// target count of available instances of the target version.
func (s *sim) assertFinal() {
	s.t.Helper()
	if len(s.insts) != s.app.Instances {
		s.t.Fatalf("done with %d instances, want %d: %+v", len(s.insts), s.app.Instances, s.insts)
	}
	for _, i := range s.insts {
		if !i.Version.Equal(s.app.Version) || !Available(i, s.app) {
			s.t.Fatalf("done but instance %+v is not an available instance of the target version", i)
		}
	}
}

func randPick(seed uint64) func(int) int {
	r := rand.New(rand.NewPCG(seed, 7))
	return func(n int) int { return r.IntN(n) }
}
