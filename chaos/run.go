package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"
)

// CoordMode is what the cluster coordinates through.
type CoordMode string

// Coord modes.
const (
	CoordEnsemble CoordMode = "ensemble" // 3 Apache ZooKeeper 3.8 nodes (Debian's package)
	CoordEmbedded CoordMode = "embedded" // one `strata coord` server
)

// Config is one chaos run.
type Config struct {
	// Binary is the strata binary every daemon runs from.
	Binary string
	// Dir holds every process' work dir and log; kept after the run.
	Dir string
	// Coord is ensemble (default) or embedded.
	Coord CoordMode
	// The cluster's size: 3 masters, 3 agents, 2 marathons, 2 chronos by
	// default.
	Masters, Agents, Marathons, Chronos int
	// Duration is how long faults are injected; one fault every Interval.
	Duration, Interval time.Duration
	// RestartDelay is how long a killed process stays down.
	RestartDelay time.Duration
	// Bound is how long the cluster (and every app) may take to recover
	// from a fault; longer is a violation.
	Bound time.Duration
	// SessionTimeout is every daemon's coord session timeout.
	SessionTimeout time.Duration
	// Kinds are the kinds of components that may be killed (all by
	// default).
	Kinds []Kind
	// Seed drives the choice of victims.
	Seed uint64
	// Log receives progress lines (nil: none).
	Log io.Writer
}

func (c *Config) defaults() error {
	if c.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		c.Binary = exe
	}
	if c.Dir == "" {
		return errors.New("chaos: Dir is required")
	}
	if c.Coord == "" {
		c.Coord = CoordEnsemble
	}
	if c.Coord != CoordEnsemble && c.Coord != CoordEmbedded {
		return fmt.Errorf("chaos: coord %q: want ensemble or embedded", c.Coord)
	}
	for _, v := range []*int{&c.Masters, &c.Agents} {
		if *v == 0 {
			*v = 3
		}
	}
	for _, v := range []*int{&c.Marathons, &c.Chronos} {
		if *v == 0 {
			*v = 2
		}
	}
	if c.Duration <= 0 {
		c.Duration = 2 * time.Minute
	}
	if c.Interval <= 0 {
		c.Interval = 20 * time.Second
	}
	if c.RestartDelay <= 0 {
		c.RestartDelay = time.Second
	}
	if c.Bound <= 0 {
		c.Bound = 2 * time.Minute
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if len(c.Kinds) == 0 {
		c.Kinds = []Kind{KindZK, KindCoord, KindMaster, KindAgent, KindMarathon, KindChronos}
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return nil
}

// Fault is one kill -9 and how long the cluster took to recover.
type Fault struct {
	At     time.Time `json:"at"`
	Kind   Kind      `json:"kind"`
	Name   string    `json:"name"`
	Role   string    `json:"role,omitempty"` // leader, standby, follower…
	PID    int       `json:"pid"`
	Whole  bool      `json:"recovered"`
	Took   Duration  `json:"recovery"`            // until components, leaders and apps are whole
	Daemon Duration  `json:"components_recovery"` // until components and leaders are whole
	Detail string    `json:"detail,omitempty"`    // why it did not recover
	// Waited lists, in order, the distinct reasons the cluster was not
	// whole while it recovered (what recovery waited on).
	Waited []string `json:"waited_on,omitempty"`
}

// Run starts the cluster, runs the workload, injects faults for
// cfg.Duration while checking the invariants, checks them once more at
// the end, stops everything and reports.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	cl, err := newCluster(cfg)
	if err != nil {
		return nil, err
	}
	defer cl.Stop()
	logf := func(format string, a ...any) {
		fmt.Fprintf(cfg.Log, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	logf("starting %d coord, %d masters, %d agents, %d marathons, %d chronos in %s", len(cl.coord),
		cfg.Masters, cfg.Agents, cfg.Marathons, cfg.Chronos, cfg.Dir)
	if err := cl.Start(ctx); err != nil {
		return nil, err
	}
	w, err := newWorkload(cfg.Dir, fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()), time.Now())
	if err != nil {
		return nil, err
	}
	if err := w.submit(cl); err != nil {
		return nil, fmt.Errorf("%w%s", err, cl.logTails(cl.all()))
	}
	if err := waitFor(ctx, 3*time.Minute, func() error { return cl.whole(w) }); err != nil {
		return nil, fmt.Errorf("the workload did not come up: %w%s", err, cl.logTails(cl.all()))
	}
	logf("workload up: %d apps, %d jobs; injecting a fault every %s for %s", len(w.apps), len(w.jobs), cfg.Interval, cfg.Duration)

	k := newChecker(w, cl)
	rep := &Report{Coord: cfg.Coord, Duration: Duration(cfg.Duration), Interval: Duration(cfg.Interval),
		Bound: Duration(cfg.Bound), Seed: cfg.Seed, Dir: cfg.Dir}
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); k.ackWriter(bg) }()
	go func() { defer wg.Done(); k.monitor(bg) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopBG()
			wg.Wait()
		}
	}
	defer stop()

	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed))
	pick, err := victimPicker(cl, cfg.Kinds, rng)
	if err != nil {
		return nil, err
	}
	end := time.Now().Add(cfg.Duration)
	next := time.Now().Add(cfg.Interval / 2)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Until(next)):
		}
		next = time.Now().Add(cfg.Interval)
		f := inject(ctx, cl, w, pick(), cfg)
		rep.Faults = append(rep.Faults, f)
		if f.Whole {
			logf("kill -9 %s (%s, pid %d): recovered in %s (components %s)", f.Name, f.Role, f.PID, f.Took, f.Daemon)
		} else {
			logf("kill -9 %s (%s, pid %d): NOT recovered within %s: %s", f.Name, f.Role, f.PID, cfg.Bound, f.Detail)
			inv := InvClusterRecover
			if f.Daemon > 0 {
				inv = InvAppsRecover
			}
			k.violate(inv, f.Name+f.At.String(), fmt.Sprintf("after kill -9 of %s (%s) at %s: %s",
				f.Name, f.Role, f.At.Format(time.RFC3339), f.Detail))
		}
		k.checked(InvClusterRecover, 1)
		k.checked(InvAppsRecover, len(w.apps))
	}
	faultsEnd := time.Now()
	logf("faults over; final checks")
	stop()
	k.final(ctx, faultsEnd, rep)
	k.fill(rep)
	return rep, nil
}

// victimPicker draws the next component to kill: a kind from a shuffled
// bag of the kinds present (so a short run hits every kind), then the
// leader of that kind or one of the others, with even odds.
func victimPicker(cl *Cluster, kinds []Kind, rng *rand.Rand) (func() *proc, error) {
	byKind := map[Kind][]*proc{}
	var present []Kind
	for _, p := range cl.all() {
		if !slices.Contains(kinds, p.kind) {
			continue
		}
		if byKind[p.kind] == nil {
			present = append(present, p.kind)
		}
		byKind[p.kind] = append(byKind[p.kind], p)
	}
	if len(present) == 0 {
		return nil, fmt.Errorf("chaos: none of the kinds %v is in the cluster", kinds)
	}
	var bag []Kind
	return func() *proc {
		if len(bag) == 0 {
			bag = slices.Clone(present)
			rng.Shuffle(len(bag), func(a, b int) { bag[a], bag[b] = bag[b], bag[a] })
		}
		k := bag[0]
		bag = bag[1:]
		ps := byKind[k]
		// Leaders are hit as often as standbys (a leader is only one
		// of its kind): a coin says which, then one at random.
		wantLeader := rng.IntN(2) == 0
		var match []*proc
		for _, p := range ps {
			if (cl.role(p) == "leader") == wantLeader {
				match = append(match, p)
			}
		}
		if len(match) == 0 {
			match = ps
		}
		return match[rng.IntN(len(match))]
	}, nil
}

// inject kills p, starts it again after the restart delay and waits for
// the cluster to be whole.
func inject(ctx context.Context, cl *Cluster, w *workload, p *proc, cfg Config) Fault {
	f := Fault{Kind: p.kind, Name: p.name, Role: cl.role(p), PID: p.pid()}
	f.At = time.Now()
	p.kill()
	select {
	case <-ctx.Done():
	case <-time.After(cfg.RestartDelay):
	}
	if err := p.start(); err != nil {
		f.Detail = err.Error()
		return f
	}
	deadline := f.At.Add(cfg.Bound)
	seen := map[string]bool{}
	track := func(cond func() error) func() error {
		return func() error {
			err := cond()
			if err != nil && len(f.Waited) < 8 {
				msg := err.Error()
				if len(msg) > 160 {
					msg = msg[:160] + "…"
				}
				if !seen[msg] {
					seen[msg] = true
					f.Waited = append(f.Waited, fmt.Sprintf("+%s %s", time.Since(f.At).Round(100*time.Millisecond), msg))
				}
			}
			return err
		}
	}
	if err := waitFor(ctx, time.Until(deadline), track(func() error { return cl.whole(nil) })); err != nil {
		f.Detail = err.Error()
		return f
	}
	f.Daemon = Duration(time.Since(f.At))
	if err := waitFor(ctx, time.Until(deadline), track(func() error { return cl.whole(w) })); err != nil {
		f.Detail = err.Error()
		return f
	}
	f.Took = Duration(time.Since(f.At))
	f.Whole = true
	return f
}

// monitor checks continuously while faults are injected: it gathers
// chronos' history, looks for orphaned task processes while the cluster
// is whole, and verifies acknowledged coord writes.
func (k *checker) monitor(ctx context.Context) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_ = k.pollHistory() // a missing leader just means: next time
		if i%3 == 2 && k.c.whole(nil) == nil {
			_ = k.checkOrphans()
		} else {
			k.mu.Lock()
			k.suspect = map[int]string{} // suspicion needs consecutive whole scans
			k.mu.Unlock()
		}
		if i%12 == 11 {
			_, _ = k.checkAcks(false)
			_, _ = k.checkRuns(time.Now(), false)
		}
	}
}

// final runs the checks that need a quiet cluster: every run started
// before the faults ended has ended in chronos, marathon agrees with the
// master, no process outlived its task, and every acknowledged write is
// there with its data.
func (k *checker) final(ctx context.Context, faultsEnd time.Time, rep *Report) {
	if err := waitFor(ctx, k.c.cfg.Bound, func() error { return k.c.whole(k.w) }); err != nil {
		k.violate(InvClusterRecover, "final", "the cluster is not whole after the faults: "+err.Error())
	}
	// Runs started before the faults ended finish within seconds; give
	// their last updates time to arrive.
	_ = waitFor(ctx, 90*time.Second, func() error {
		if err := k.pollHistory(); err != nil {
			return err
		}
		return k.unfinished(faultsEnd)
	})
	n, err := k.checkRuns(faultsEnd, true)
	if err != nil {
		k.violate(InvUpdates, "read-starts", err.Error())
	}
	rep.RunsStarted = n
	if err := waitFor(ctx, 60*time.Second, k.checkMarathonAgrees); err != nil {
		k.violate(InvUpdates, "marathon-master", err.Error())
	}
	k.checked(InvUpdates, 1)
	for i := 0; i < 2; i++ { // two scans: the first only makes suspects
		if err := waitFor(ctx, 30*time.Second, k.checkOrphans); err != nil {
			k.violate(InvNoOrphans, "scan", "cannot compare processes with the master: "+err.Error())
		}
		time.Sleep(3 * time.Second)
	}
	acked, err := k.checkAcks(true)
	if err != nil {
		k.violate(InvAckedWrites, "final", "cannot read coord: "+err.Error())
	}
	rep.AckedWrites = acked
}

// unfinished says which started runs (scheduled before cutoff) chronos
// has not seen end yet.
func (k *checker) unfinished(cutoff time.Time) error {
	starts, err := k.w.readStarts()
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	ended := map[string]bool{}
	for _, r := range k.runs {
		if r.TaskID != "" && r.terminal() {
			ended[r.TaskID] = true
		}
	}
	for _, s := range starts {
		if s.at <= cutoff.UnixMilli() && !ended[s.taskID] {
			return fmt.Errorf("%s has not ended in chronos", s.taskID)
		}
	}
	return nil
}
