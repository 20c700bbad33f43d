package core

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"
)

// The simulation walks three months of schedules against a fake cluster,
// with random task durations and failures, random scheduler downtime, and
// crashes that persist only a random prefix of the last decisions' writes.
// Every core after a crash is built from the store alone.

type simTask struct {
	run      *Run
	endAt    time.Time
	fail     bool
	killed   bool
	started  bool
	finished bool // terminal in the cluster
}

type sim struct {
	t     *testing.T
	rng   *rand.Rand
	cfg   Config
	specs []JobSpec
	idx   map[string]int
	st    *store
	c     *Core // nil while the scheduler is down
	now   time.Time
	// crashAfter > 0: the core dies after that many more persisted writes.
	crashAfter int
	live       []*simTask          // tasks not yet terminal in the cluster
	byTask     map[string]*simTask // every task ever launched
	outbox     []Event             // status updates not yet acknowledged
	launched   map[string]int      // run ID → launches
	disabledAt map[string]time.Time
	crashes    int
	manual     int
	ticks      []time.Time // every completed tick
	downtime   time.Duration
	lastTick   time.Time
}

func simJobs(start time.Time) []JobSpec {
	hourlyAt := func(off time.Duration) Schedule { return every{start: start.Add(off), period: time.Hour} }
	dailyAt := func(off time.Duration) Schedule { return every{start: start.Add(off), period: 24 * time.Hour} }
	return []JobSpec{
		{Name: "h1", Schedule: hourlyAt(0), Epsilon: 5 * time.Minute, Retries: 2},
		{Name: "h2", Schedule: hourlyAt(17 * time.Minute), Epsilon: 10 * time.Minute, Concurrent: true, Retries: 1},
		{Name: "h3", Schedule: hourlyAt(30 * time.Minute), Epsilon: 3 * time.Minute, MaxCompletionTime: 40 * time.Minute, Retries: 1},
		{Name: "h4", Schedule: every{start: start.Add(5 * time.Minute), period: 15 * time.Minute}, Epsilon: 4 * time.Minute},
		{Name: "d1", Schedule: dailyAt(2 * time.Hour), Epsilon: 30 * time.Minute, Retries: 3, SoftError: true},
		{Name: "d2", Schedule: dailyAt(5*time.Hour + 30*time.Minute), Epsilon: 15 * time.Minute, Retries: 1},
		// chain h1 → c1 → c2
		{Name: "c1", Parents: []string{"h1"}, Retries: 1},
		{Name: "c2", Parents: []string{"c1"}},
		// diamond d1 → e, f → g
		{Name: "e", Parents: []string{"d1"}},
		{Name: "f", Parents: []string{"d1"}, SoftError: true},
		{Name: "g", Parents: []string{"e", "f"}, MaxCompletionTime: 2 * time.Hour},
	}
}

func newSim(t *testing.T, seed int64) *sim {
	start := t0
	s := &sim{
		t: t, rng: rand.New(rand.NewSource(seed)),
		cfg:   Config{FailureRetry: time.Minute, DisableAfterFailures: 3, HistoryLimit: 20},
		specs: simJobs(start), idx: map[string]int{}, st: newStore(), now: start,
		byTask: map[string]*simTask{}, launched: map[string]int{}, disabledAt: map[string]time.Time{},
	}
	for i := range s.specs {
		s.specs[i].Since = start.Add(-time.Second)
		s.idx[s.specs[i].Name] = i
	}
	s.boot()
	return s
}

func (s *sim) boot() {
	c, err := New(s.cfg, append([]JobSpec(nil), s.specs...), s.st.records(), s.now)
	if err != nil {
		s.t.Fatal(err)
	}
	s.c = c
	// Reconcile: a launched record whose task the cluster never saw is lost.
	for _, rec := range s.st.records() {
		if r := rec.Run; r != nil && (r.State == StateLaunched || r.State == StateRunning) && s.byTask[r.TaskID] == nil {
			s.outbox = append(s.outbox, Event{Kind: EventLost, TaskID: r.TaskID})
		}
	}
}

// apply persists decisions in order and acts on each fully persisted one;
// it returns false if the core crashed part way.
func (s *sim) apply(ds []Decision) bool {
	for _, d := range ds {
		for _, w := range d.Writes {
			if s.crashAfter > 0 {
				s.crashAfter--
				if s.crashAfter == 0 {
					s.c = nil
					s.crashes++
					return false
				}
			}
			s.st.put(w)
		}
		for _, k := range d.Deletes {
			delete(s.st.recs, k)
		}
		s.act(d)
	}
	return true
}

func (s *sim) act(d Decision) {
	switch d.Action {
	case ActionLaunch:
		r := d.Run
		s.launched[r.ID]++
		if s.launched[r.ID] > 1 {
			s.t.Fatalf("run %s launched twice", r.ID)
		}
		spec := s.specs[s.idx[r.Job]]
		if r.Attempt > spec.Retries {
			s.t.Fatalf("run %s: attempt %d beyond retries %d", r.ID, r.Attempt, spec.Retries)
		}
		if !spec.Concurrent {
			for _, o := range s.live {
				if o.run.Job == r.Job {
					s.t.Fatalf("%s launched while %s of the same non-concurrent job runs", r.ID, o.run.ID)
				}
			}
		}
		dur := time.Duration(10+s.rng.Intn(80*60)) * time.Second
		if s.rng.Intn(10) == 0 {
			dur = time.Duration(1+s.rng.Intn(4)) * time.Hour
		}
		task := &simTask{run: r, endAt: s.now.Add(dur), fail: s.rng.Intn(5) == 0}
		s.live = append(s.live, task)
		s.byTask[r.TaskID] = task
	case ActionKill:
		if task := s.byTask[d.Run.TaskID]; task != nil && !task.finished {
			task.killed = true
		}
	case ActionDisableJob:
		s.specs[s.idx[d.Job]].Disabled = true
		s.disabledAt[d.Job] = s.now
	}
}

// cluster advances tasks to now and queues their status updates.
func (s *sim) cluster() {
	keep := s.live[:0]
	for _, task := range s.live {
		if !task.started {
			task.started = true
			s.outbox = append(s.outbox, Event{Kind: EventStarted, TaskID: task.run.TaskID, Agent: "agent-1"})
		}
		switch {
		case task.killed:
			task.finished = true
			s.outbox = append(s.outbox, Event{Kind: EventKilled, TaskID: task.run.TaskID})
		case !s.now.Before(task.endAt):
			task.finished = true
			kind, code := EventFinished, 0
			if task.fail {
				kind, code = EventFailed, 1
			}
			s.outbox = append(s.outbox, Event{Kind: kind, TaskID: task.run.TaskID, ExitStatus: exit(code)})
		default:
			keep = append(keep, task)
			continue
		}
	}
	for i := len(keep); i < len(s.live); i++ {
		s.live[i] = nil
	}
	s.live = keep
}

func (s *sim) step() {
	s.cluster()
	if s.c == nil {
		return
	}
	// Deliver status updates; each is acknowledged only once what it
	// caused is persisted, so a crash means redelivery to the next leader.
	for len(s.outbox) > 0 {
		if !s.apply(s.c.Observe(s.now, s.outbox[0])) {
			return
		}
		s.outbox = s.outbox[1:]
	}
	if !s.apply(s.c.Tick(s.now)) {
		return
	}
	s.lastTick = s.now
	s.ticks = append(s.ticks, s.now)
	// Operators: now and then a run-now (with arguments) or a kill.
	if s.rng.Intn(300) == 0 {
		name := s.specs[s.rng.Intn(len(s.specs))].Name
		ds, err := s.c.RunNow(name, []string{"--n", fmt.Sprint(s.rng.Intn(9))}, s.now)
		if err != nil {
			s.t.Fatal(err)
		}
		s.manual++
		if !s.apply(ds) {
			return
		}
	}
	if s.rng.Intn(1000) == 0 {
		if !s.apply(s.c.Kill(s.specs[s.rng.Intn(len(s.specs))].Name, s.now)) {
			return
		}
	}
	// An operator re-enables auto-disabled jobs after a day.
	for _, name := range sortedKeys(s.disabledAt) {
		if s.now.Sub(s.disabledAt[name]) < 24*time.Hour {
			continue
		}
		delete(s.disabledAt, name)
		i := s.idx[name]
		s.specs[i].Disabled = false
		s.specs[i].Since = s.now
		ds, err := s.c.Upsert(s.specs[i], s.now)
		if err != nil {
			s.t.Fatal(err)
		}
		if !s.apply(ds) {
			return
		}
	}
}

func sortedKeys(m map[string]time.Time) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *sim) runFor(d time.Duration) {
	end := s.now.Add(d)
	for s.now.Before(end) {
		s.now = s.now.Add(time.Duration(20+s.rng.Intn(100)) * time.Second)
		if s.c != nil && s.rng.Intn(2000) == 0 {
			// Crash: maybe in the middle of persisting the next batch.
			if s.rng.Intn(2) == 0 {
				s.crashAfter = 1 + s.rng.Intn(4)
			} else {
				s.c = nil
				s.crashes++
			}
		}
		if s.c == nil && s.crashAfter == 0 {
			// Down for a random while, then a new leader starts from the store.
			var down time.Duration
			switch s.rng.Intn(3) {
			case 0:
				down = time.Duration(s.rng.Intn(120)) * time.Second // quick failover
			case 1:
				down = time.Duration(s.rng.Intn(180)) * time.Minute
			default:
				down = time.Duration(s.rng.Intn(60)) * time.Hour
			}
			s.downtime += down
			s.now = s.now.Add(down)
			s.cluster()
			s.boot()
		}
		s.step()
		if s.c == nil {
			s.crashAfter = 0
		}
	}
	// Settle: a last leader ticks once more so everything due is handled.
	if s.c == nil {
		s.boot()
	}
	s.crashAfter = 0
	s.step()
}

// check asserts the invariants over everything ever persisted.
func (s *sim) check(start time.Time) {
	t := s.t
	final := map[string]*Run{}
	for _, w := range s.st.journal {
		if w.Run != nil {
			final[w.Run.ID] = w.Run
		}
	}
	byJob := map[string][]*Run{}
	for _, r := range final {
		byJob[r.Job] = append(byJob[r.Job], r)
		if r.State == StateSkipped && r.SkipReason == "" {
			t.Errorf("%s skipped without a reason", r.ID)
		}
		if r.State == StateLaunched || r.State == StateRunning || r.State == StatePending {
			continue
		}
	}
	instants := 0
	reasons := map[SkipReason]int64{}
	for _, spec := range simJobs(start) {
		if spec.Schedule == nil {
			continue
		}
		// Every instant up to the last tick is launched or inside a skip span.
		type span struct{ from, to time.Time }
		var spans []span
		for _, r := range byJob[spec.Name] {
			if r.Kind == KindScheduled {
				spans = append(spans, span{r.ScheduledAt, schedBound(r)})
			}
		}
		sort.Slice(spans, func(a, b int) bool { return spans[a].from.Before(spans[b].from) })
		for i := 1; i < len(spans); i++ {
			if !spans[i].from.After(spans[i-1].to) {
				t.Fatalf("%s: records overlap: %v and %v", spec.Name, spans[i-1], spans[i])
			}
		}
		k := 0
		for at, ok := spec.Schedule.Next(start.Add(-time.Second)); ok && !at.After(s.lastTick); at, ok = spec.Schedule.Next(at) {
			for k < len(spans) && spans[k].to.Before(at) {
				k++
			}
			if k == len(spans) || spans[k].from.After(at) {
				t.Fatalf("%s: instant %s neither launched nor recorded skipped", spec.Name, at)
			}
			instants++
		}
		for _, r := range byJob[spec.Name] {
			if r.State == StateSkipped {
				reasons[r.SkipReason] += r.Count
			}
			// Missed means no leader ticked between the instant and its
			// epsilon; a leader that did tick ran it, late if need be.
			if r.SkipReason == SkipMissedEpsilon {
				ends := []time.Time{r.ScheduledAt}
				if !r.CountCapped {
					ends = append(ends, r.LastScheduledAt)
				}
				for _, at := range ends {
					i := sort.Search(len(s.ticks), func(i int) bool { return !s.ticks[i].Before(at) })
					if i < len(s.ticks) && !s.ticks[i].After(at.Add(spec.Epsilon)) {
						t.Fatalf("%s: instant %s recorded missed though a leader ticked at %s", spec.Name, at, s.ticks[i])
					}
				}
			}
		}
	}
	// A child never runs more often than each parent released it.
	releases := func(job string) int {
		n := 0
		for _, r := range byJob[job] {
			if r.Releases {
				n++
			}
		}
		return n
	}
	for _, spec := range simJobs(start) {
		if len(spec.Parents) == 0 {
			continue
		}
		deps := 0
		for _, r := range byJob[spec.Name] {
			if r.Kind == KindDependency {
				deps++
			}
		}
		for _, p := range spec.Parents {
			if deps > releases(p) {
				t.Errorf("%s ran %d times, parent %s released it %d times", spec.Name, deps, p, releases(p))
			}
		}
		if len(spec.Parents) == 1 && deps != releases(spec.Parents[0]) {
			t.Errorf("%s: %d dependency runs for %d releases of %s", spec.Name, deps, releases(spec.Parents[0]), spec.Parents[0])
		}
	}
	// Counters agree with the records (repaired after crashes).
	for _, spec := range s.specs {
		st, _ := s.c.Status(spec.Name)
		var succ, errs int64
		for _, r := range byJob[spec.Name] {
			if r.State == StateSucceeded {
				succ++
			}
			if r.State == StateFailed && r.RetryID == "" {
				errs++
			}
		}
		if st.SuccessCount != succ || st.ErrorCount != errs {
			t.Errorf("%s: status %d/%d, records %d/%d", spec.Name, st.SuccessCount, st.ErrorCount, succ, errs)
		}
	}
	if instants < 1000 || s.crashes < 3 {
		t.Fatalf("simulation too tame: %d instants, %d crashes", instants, s.crashes)
	}
	t.Logf("%d instants, skipped %v, %d launches (%d run-now), %d crashes, %s down", instants, reasons, len(s.launched), s.manual, s.crashes, s.downtime)
}

func TestSimulateThreeMonthsWithCrashes(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s := newSim(t, seed)
			s.runFor(91 * 24 * time.Hour)
			s.check(t0)
		})
	}
}

func TestSimulationIsDeterministic(t *testing.T) {
	journal := func() string {
		s := newSim(t, 42)
		s.runFor(7 * 24 * time.Hour)
		raw, err := json.Marshal(s.st.journal)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	if a, b := journal(), journal(); a != b {
		t.Fatal("same seed, same inputs, different decisions")
	}
}
