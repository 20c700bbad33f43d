package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// cleanupTimeout bounds the removal of the root after a run, including one
// that was interrupted with up to Znodes nodes still below it.
const cleanupTimeout = 10 * time.Minute

// watchTimeout is how long a watch round waits for its event before the
// server is declared broken; far above any sane latency.
const watchTimeout = 30 * time.Second

var openACL = zk.WorldACL(zk.PermAll)

// Run measures one target: it creates cfg.Root (a unique one when empty),
// runs every phase the config asks for, and deletes the root again, also
// when a phase fails or ctx is cancelled. A failed cleanup is reported in
// the error alongside a complete result.
func Run(ctx context.Context, cfg Config, t Target) (res *Result, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(t.Servers) == 0 {
		return nil, fmt.Errorf("target %q: no servers", t.Label)
	}
	if t.PID == 0 && len(t.Servers) == 1 {
		// A local server's CPU and memory come for free; a failure only
		// matters when the memory phase needs them.
		pid, perr := ListenerPID(t.Servers[0])
		if perr == nil {
			t.PID = pid
			fmt.Fprintf(cfg.Progress, "%s: server pid %d (the process listening on %s)\n", t.Label, pid, t.Servers[0])
		} else if cfg.Znodes > 0 {
			return nil, fmt.Errorf("target %q: the memory phase (%d znodes) needs the server's pid: %w", t.Label, cfg.Znodes, perr)
		}
	}
	if cfg.Znodes > 0 && t.PID <= 0 {
		return nil, fmt.Errorf("target %q: the memory phase (%d znodes) needs the server's pid", t.Label, cfg.Znodes)
	}
	if cfg.Root == "" {
		cfg.Root = UniqueRoot()
	}
	r := &runner{cfg: cfg, target: t, value: make([]byte, cfg.ValueSize)}
	_, _ = rand.Read(r.value) // never fails on Linux; zeros would do anyway
	r.res = &Result{Target: t, Root: cfg.Root, Start: time.Now()}

	r.main, err = dial(ctx, t.Servers, cfg.SessionTimeout, cfg.Progress)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Label, err)
	}
	defer r.main.Close()
	if _, err := r.main.Create(cfg.Root, nil, 0, openACL); err != nil {
		if errors.Is(err, zk.ErrNodeExists) {
			return nil, fmt.Errorf("%s: root %s already exists: pick a root that does not (the run deletes it afterwards)", t.Label, cfg.Root)
		}
		return nil, fmt.Errorf("%s: create root %s: %w", t.Label, cfg.Root, err)
	}
	defer func() {
		if err != nil {
			fmt.Fprintf(cfg.Progress, "%s: deleting %s after the failure\n", t.Label, cfg.Root)
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if cerr := deleteTree(cctx, r.main, cfg.Root, cfg.InFlight); cerr != nil {
			err = errors.Join(err, fmt.Errorf("%s: clean up %s: %w", t.Label, cfg.Root, cerr))
		}
	}()

	if err := r.all(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Label, err)
	}
	return r.res, nil
}

// RunAll runs the targets one after the other with the same config, so their
// results line up in one compare table, Config.Rounds times over (the order
// reversed every other round), and reports medians. It stops at the first
// failure.
func RunAll(ctx context.Context, cfg Config, targets []Target) ([]*Result, error) {
	rounds := max(cfg.Rounds, 1)
	per := make([][]*Result, len(targets))
	for round := 0; round < rounds; round++ {
		rc := cfg
		if round > 0 {
			rc.Znodes = 0 // memory is measured once, on the fresh server
		}
		order := make([]int, len(targets))
		for i := range order {
			order[i] = i
		}
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, i := range order {
			res, err := Run(ctx, rc, targets[i])
			if err != nil {
				return nil, err
			}
			per[i] = append(per[i], res)
		}
	}
	out := make([]*Result, len(targets))
	for i := range targets {
		out[i] = medianResult(per[i])
	}
	return out, nil
}

// medianResult folds one target's rounds into one result: every figure of
// every phase is the median of that figure over the rounds.
func medianResult(rs []*Result) *Result {
	m := *rs[0]
	m.Rounds = len(rs)
	if len(rs) == 1 {
		return &m
	}
	m.Phases = make([]Phase, len(rs[0].Phases))
	for j, ph := range rs[0].Phases {
		pick := func(f func(Phase) float64) float64 {
			v := make([]float64, 0, len(rs))
			for _, r := range rs {
				if j < len(r.Phases) && r.Phases[j].Key() == ph.Key() {
					v = append(v, f(r.Phases[j]))
				}
			}
			slices.Sort(v)
			if len(v)%2 == 1 {
				return v[len(v)/2]
			}
			return (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		dur := func(f func(Phase) time.Duration) time.Duration {
			return time.Duration(pick(func(p Phase) float64 { return float64(f(p)) }))
		}
		ph.Seconds = pick(func(p Phase) float64 { return p.Seconds })
		ph.OpsPerSec = pick(func(p Phase) float64 { return p.OpsPerSec })
		ph.ClientCPU = pick(func(p Phase) float64 { return p.ClientCPU })
		if ph.ServerCPU != nil {
			s := pick(func(p Phase) float64 {
				if p.ServerCPU == nil {
					return 0
				}
				return *p.ServerCPU
			})
			ph.ServerCPU = &s
		}
		ph.Latency = Latency{
			P50:  dur(func(p Phase) time.Duration { return p.Latency.P50 }),
			P99:  dur(func(p Phase) time.Duration { return p.Latency.P99 }),
			P999: dur(func(p Phase) time.Duration { return p.Latency.P999 }),
			Max:  dur(func(p Phase) time.Duration { return p.Latency.Max }),
		}
		m.Phases[j] = ph
	}
	return &m
}

// runner holds one target's run: its config, its main session and the
// result being filled in.
type runner struct {
	cfg    Config
	target Target
	value  []byte
	main   *zk.Conn
	res    *Result
}

func (r *runner) all(ctx context.Context) error {
	if r.cfg.Znodes > 0 {
		// First, so the figure is the server with N znodes and not with
		// whatever earlier phases left in its heap.
		if err := r.memory(ctx); err != nil {
			return fmt.Errorf("memory phase: %w", err)
		}
	}
	if r.cfg.Warmup > 0 && (r.cfg.SeqOps > 0 || r.cfg.Ops > 0) {
		if err := r.warmup(ctx); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	if r.cfg.SeqOps > 0 {
		if err := r.sequential(ctx); err != nil {
			return fmt.Errorf("sequential phase: %w", err)
		}
	}
	if r.cfg.Ops > 0 {
		if err := r.async(ctx, []*zk.Conn{r.main}, r.cfg.InFlight, "a1"); err != nil {
			return fmt.Errorf("async phase, %d in flight on 1 session: %w", r.cfg.InFlight, err)
		}
		conns, err := dialN(ctx, r.cfg.Sessions, r.target.Servers, r.cfg.SessionTimeout, r.cfg.Progress)
		if err != nil {
			return err
		}
		err = r.async(ctx, conns, r.cfg.SessionsInFlight, "a"+fmt.Sprint(r.cfg.Sessions))
		closeAll(conns)
		if err != nil {
			return fmt.Errorf("async phase, %d in flight on %d sessions: %w", r.cfg.SessionsInFlight, r.cfg.Sessions, err)
		}
	}
	if r.cfg.SeqOps > 0 {
		if err := r.watch(ctx); err != nil {
			return fmt.Errorf("watch phase: %w", err)
		}
	}
	return nil
}

// child is the path of the i-th benchmark znode under dir.
func child(dir string, i int) string { return fmt.Sprintf("%s/n%08d", dir, i) }

// mkdir creates a persistent parent for one phase's znodes.
func (r *runner) mkdir(name string) (string, error) {
	p := r.cfg.Root + "/" + name
	if _, err := r.main.Create(p, nil, 0, openACL); err != nil {
		return "", fmt.Errorf("create %s: %w", p, err)
	}
	return p, nil
}

// removeChildren deletes dir's n numbered children and dir itself, pipelined
// and untimed.
func (r *runner) removeChildren(ctx context.Context, conns []*zk.Conn, dir string, n int) error {
	if err := drive(ctx, conns, r.cfg.InFlight, n, nil, deleteOp(dir)); err != nil {
		return err
	}
	if err := r.main.Delete(dir, -1); err != nil {
		return fmt.Errorf("delete %s: %w", dir, err)
	}
	return nil
}

// timed runs n operations through drive and records them as a phase.
func (r *runner) timed(ctx context.Context, ph Phase, conns []*zk.Conn, workers int, op opFunc) error {
	lat := make([]time.Duration, ph.Ops)
	meter := startCPU(r.target.PID)
	t0 := time.Now()
	err := drive(ctx, conns, workers, ph.Ops, lat, op)
	wall := time.Since(t0)
	ph.ClientCPU, ph.ServerCPU = meter.stop()
	if err != nil {
		return fmt.Errorf("%s: %w", ph.Op, err)
	}
	ph.Seconds = wall.Seconds()
	ph.OpsPerSec = float64(ph.Ops) / wall.Seconds()
	ph.Latency = summarize(lat)
	r.record(ph)
	return nil
}

func (r *runner) record(ph Phase) {
	r.res.Phases = append(r.res.Phases, ph)
	cpu := fmt.Sprintf("client %.2f cores", ph.ClientCPU)
	if ph.ServerCPU != nil {
		cpu += fmt.Sprintf(", server %.2f cores", *ph.ServerCPU)
	}
	name := fmt.Sprintf("%s %s (%d in flight, %d session%s)", ph.Mode, ph.Op, ph.InFlight, ph.Sessions, plural(ph.Sessions))
	if ph.Mode == ModeWatch {
		name = "data watch (A sets, B watches)"
	}
	fmt.Fprintf(r.cfg.Progress, "%s: %s: %d ops in %.2fs, %.0f ops/s, p50 %s, p99 %s; %s\n",
		r.target.Label, name, ph.Ops, ph.Seconds, ph.OpsPerSec,
		fmtDuration(ph.Latency.P50), fmtDuration(ph.Latency.P99), cpu)
}

// warmup exercises every timed request type, untimed.
func (r *runner) warmup(ctx context.Context) error {
	dir, err := r.mkdir("warm")
	if err != nil {
		return err
	}
	conns := []*zk.Conn{r.main}
	t0 := time.Now()
	for _, op := range []opFunc{r.create(dir), r.set(dir), r.get(dir)} {
		if err := drive(ctx, conns, r.cfg.InFlight, r.cfg.Warmup, nil, op); err != nil {
			return err
		}
	}
	if err := r.removeChildren(ctx, conns, dir, r.cfg.Warmup); err != nil {
		return err
	}
	fmt.Fprintf(r.cfg.Progress, "%s: warm-up: %d znodes created, set, read and deleted in %.2fs\n",
		r.target.Label, r.cfg.Warmup, time.Since(t0).Seconds())
	return nil
}

// sequential creates SeqOps znodes one at a time on one session.
func (r *runner) sequential(ctx context.Context) error {
	dir, err := r.mkdir("seq")
	if err != nil {
		return err
	}
	conns := []*zk.Conn{r.main}
	ph := Phase{Op: "create", Mode: ModeSequential, Sessions: 1, InFlight: 1, Ops: r.cfg.SeqOps}
	if err := r.timed(ctx, ph, conns, 1, r.create(dir)); err != nil {
		return err
	}
	return r.removeChildren(ctx, conns, dir, r.cfg.SeqOps)
}

// async runs create, set, get and delete of Ops znodes, each as one phase
// with workers requests in flight spread over conns.
func (r *runner) async(ctx context.Context, conns []*zk.Conn, workers int, dirName string) error {
	dir, err := r.mkdir(dirName)
	if err != nil {
		return err
	}
	base := Phase{Mode: ModeAsync, Sessions: len(conns), InFlight: workers, Ops: r.cfg.Ops}
	steps := []struct {
		op string
		fn opFunc
	}{
		{"create", r.create(dir)},
		{"set", r.set(dir)},
		{"get", r.get(dir)},
		{"delete", deleteOp(dir)},
	}
	for _, s := range steps {
		ph := base
		ph.Op = s.op
		if err := r.timed(ctx, ph, conns, workers, s.fn); err != nil {
			return err
		}
	}
	if err := r.main.Delete(dir, -1); err != nil {
		return fmt.Errorf("delete %s: %w", dir, err)
	}
	return nil
}

// create returns the op that creates dir's i-th child with the run's value.
func (r *runner) create(dir string) opFunc {
	return func(c *zk.Conn, i int) error {
		if _, err := c.Create(child(dir, i), r.value, 0, openACL); err != nil {
			return fmt.Errorf("create %s: %w", child(dir, i), err)
		}
		return nil
	}
}

func (r *runner) set(dir string) opFunc {
	return func(c *zk.Conn, i int) error {
		if _, err := c.Set(child(dir, i), r.value, -1); err != nil {
			return fmt.Errorf("set %s: %w", child(dir, i), err)
		}
		return nil
	}
}

// get reads dir's i-th child and checks it holds a value of the run's size,
// so a server that answers fast but wrong does not score.
func (r *runner) get(dir string) opFunc {
	return func(c *zk.Conn, i int) error {
		data, _, err := c.Get(child(dir, i))
		if err != nil {
			return fmt.Errorf("get %s: %w", child(dir, i), err)
		}
		if len(data) != len(r.value) {
			return fmt.Errorf("get %s: %d bytes, want %d", child(dir, i), len(data), len(r.value))
		}
		return nil
	}
}

func deleteOp(dir string) opFunc {
	return func(c *zk.Conn, i int) error {
		if err := c.Delete(child(dir, i), -1); err != nil {
			return fmt.Errorf("delete %s: %w", child(dir, i), err)
		}
		return nil
	}
}

// watch measures data-watch notification latency: session B reads the node
// with a watch, session A sets it, and the round's latency runs from just
// before A's set is issued to B's event arriving. Rounds run one at a time,
// so each latency is unloaded.
func (r *runner) watch(ctx context.Context) error {
	node := r.cfg.Root + "/watch"
	if _, err := r.main.Create(node, r.value, 0, openACL); err != nil {
		return fmt.Errorf("create %s: %w", node, err)
	}
	b, err := dial(ctx, r.target.Servers, r.cfg.SessionTimeout, r.cfg.Progress)
	if err != nil {
		return fmt.Errorf("watcher session: %w", err)
	}
	defer b.Close()

	n := r.cfg.SeqOps
	lat := make([]time.Duration, n)
	meter := startCPU(r.target.PID)
	t0 := time.Now()
	for i := range n {
		if err := r.watchRound(ctx, b, node, &lat[i]); err != nil {
			return fmt.Errorf("round %d: %w", i, err)
		}
	}
	wall := time.Since(t0)
	ph := Phase{Op: "watch", Mode: ModeWatch, Sessions: 2, InFlight: 1, Ops: n,
		Seconds: wall.Seconds(), OpsPerSec: float64(n) / wall.Seconds()}
	ph.ClientCPU, ph.ServerCPU = meter.stop()
	ph.Latency = summarize(lat)
	r.record(ph)
	if err := r.main.Delete(node, -1); err != nil {
		return fmt.Errorf("delete %s: %w", node, err)
	}
	return nil
}

func (r *runner) watchRound(ctx context.Context, b *zk.Conn, node string, lat *time.Duration) error {
	_, _, events, err := b.GetW(node)
	if err != nil {
		return fmt.Errorf("watcher: get %s: %w", node, err)
	}
	setDone := make(chan error, 1)
	t0 := time.Now()
	// The set runs beside the wait, so the event is timestamped when it
	// arrives rather than after the setter's reply; the round waits for
	// the set too, so the goroutine never outlives it.
	go func() {
		_, err := r.main.Set(node, r.value, -1)
		setDone <- err
	}()
	var evErr error
	timeout := time.NewTimer(watchTimeout)
	defer timeout.Stop()
	select {
	case ev := <-events:
		*lat = time.Since(t0)
		if ev.Type != zk.EventNodeDataChanged {
			evErr = fmt.Errorf("watcher: event %v (err %v) on %s, want data changed", ev.Type, ev.Err, ev.Path)
		}
	case <-timeout.C:
		evErr = fmt.Errorf("watcher: no event for %s within %s", node, watchTimeout)
	case <-ctx.Done():
		evErr = ctx.Err()
	}
	if err := <-setDone; err != nil {
		return errors.Join(evErr, fmt.Errorf("setter: set %s: %w", node, err))
	}
	return evErr
}

// memory creates Znodes small znodes with InFlight requests in flight and
// reads the server's resident set before and after, then removes them.
func (r *runner) memory(ctx context.Context) error {
	dir, err := r.mkdir("mem")
	if err != nil {
		return err
	}
	m := &Memory{Znodes: r.cfg.Znodes, ValueSize: memValueSize, PID: r.target.PID}
	if m.RSSBefore, _, err = procMemory(r.target.PID); err != nil {
		return err
	}
	small := make([]byte, memValueSize)
	copy(small, r.value)
	conns := []*zk.Conn{r.main}
	t0 := time.Now()
	err = drive(ctx, conns, r.cfg.InFlight, r.cfg.Znodes, nil, func(c *zk.Conn, i int) error {
		if _, err := c.Create(child(dir, i), small, 0, openACL); err != nil {
			return fmt.Errorf("create %s: %w", child(dir, i), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	m.Seconds = time.Since(t0).Seconds()
	if m.RSS, m.HWM, err = procMemory(r.target.PID); err != nil {
		return err
	}
	r.res.Memory = m
	fmt.Fprintf(r.cfg.Progress, "%s: memory: %d znodes in %.2fs, RSS %s → %s (peak %s)\n",
		r.target.Label, m.Znodes, m.Seconds, fmtBytes(m.RSSBefore), fmtBytes(m.RSS), fmtBytes(m.HWM))
	return r.removeChildren(ctx, conns, dir, r.cfg.Znodes)
}

// deleteTree removes path and everything below it, children in parallel.
// It is the cleanup of last resort, so a node that is already gone counts
// as deleted.
func deleteTree(ctx context.Context, conn *zk.Conn, path string, workers int) error {
	kids, _, err := conn.Children(path)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", path, err)
	}
	err = drive(ctx, []*zk.Conn{conn}, workers, len(kids), nil, func(c *zk.Conn, i int) error {
		return deleteTree(ctx, c, strings.TrimSuffix(path, "/")+"/"+kids[i], 1)
	})
	if err != nil {
		return err
	}
	if err := conn.Delete(path, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("delete %s: %w", path, err)
	}
	return nil
}
