package core

import (
	"sort"
	"testing"
	"time"
)

// every is a test schedule: start, start+period, ... (count of them, 0 =
// forever). It has the same contract as chronos/schedule's Schedule.
type every struct {
	start  time.Time
	period time.Duration
	count  int64
}

func (e every) Next(after time.Time) (time.Time, bool) {
	var k int64
	if !after.Before(e.start) {
		k = int64(after.Sub(e.start)/e.period) + 1
	}
	if e.count > 0 && k >= e.count {
		return time.Time{}, false
	}
	return e.start.Add(time.Duration(k) * e.period), true
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func hourly() Schedule { return every{start: t0, period: time.Hour} }

func exit(n int) *int { return &n }

// store is the daemon's persistence as the core sees it: records by key.
type store struct {
	recs    map[string]Record
	journal []Record // every write ever persisted, for coverage checks
}

func newStore() *store { return &store{recs: map[string]Record{}} }

func (s *store) apply(d Decision) {
	for _, w := range d.Writes {
		s.put(w)
	}
	for _, k := range d.Deletes {
		delete(s.recs, k)
	}
}

func (s *store) put(w Record) {
	if w.Run != nil {
		w = Record{Run: w.Run.clone()}
	} else {
		w = Record{Status: w.Status.clone()}
	}
	s.recs[w.Key()] = w
	s.journal = append(s.journal, w)
}

func (s *store) records() []Record {
	keys := make([]string, 0, len(s.recs))
	for k := range s.recs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Record, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.recs[k])
	}
	return out
}

// h drives one core and persists everything it asks for.
type h struct {
	t    *testing.T
	c    *Core
	s    *store
	cfg  Config
	jobs []JobSpec
}

func newH(t *testing.T, cfg Config, jobs ...JobSpec) *h {
	t.Helper()
	for i := range jobs {
		if jobs[i].Since.IsZero() {
			jobs[i].Since = t0.Add(-time.Second)
		}
	}
	c, err := New(cfg, jobs, nil, t0.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return &h{t: t, c: c, s: newStore(), cfg: cfg, jobs: jobs}
}

// do persists decisions and returns the ones with an action.
func (x *h) do(ds []Decision) []Decision {
	var acts []Decision
	for _, d := range ds {
		x.s.apply(d)
		if d.Action != ActionNone {
			acts = append(acts, d)
		}
	}
	return acts
}

func (x *h) tick(at time.Time) []Decision { return x.do(x.c.Tick(at)) }

func (x *h) observe(at time.Time, kind EventKind, task string) []Decision {
	return x.do(x.c.Observe(at, Event{Kind: kind, TaskID: task, Agent: "agent-1", ExitStatus: exit(0)}))
}

// failover replaces the core with one rebuilt from the store.
func (x *h) failover(now time.Time) {
	x.t.Helper()
	c, err := New(x.cfg, x.jobs, x.s.records(), now)
	if err != nil {
		x.t.Fatal(err)
	}
	x.c = c
}

func launches(ds []Decision) []*Run {
	var out []*Run
	for _, d := range ds {
		if d.Action == ActionLaunch {
			out = append(out, d.Run)
		}
	}
	return out
}

func one(t *testing.T, ds []Decision, want Action) *Run {
	t.Helper()
	if len(ds) != 1 || ds[0].Action != want {
		t.Fatalf("want one %v decision, got %+v", want, ds)
	}
	return ds[0].Run
}

func none(t *testing.T, ds []Decision) {
	t.Helper()
	if len(ds) != 0 {
		for _, d := range ds {
			t.Errorf("unexpected %v of %+v", d.Action, d.Run)
		}
		t.FailNow()
	}
}

func (x *h) run(id string) *Run {
	rec, ok := x.s.recs["run/"+id]
	if !ok {
		x.t.Fatalf("no record %q; have %v", id, keys(x.s.recs))
	}
	return rec.Run
}

func keys(m map[string]Record) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
