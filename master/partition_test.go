package master_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/zktest"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/state"
)

// proxy forwards TCP to target. partition cuts it for good: every
// connection is dropped and new ones refused, as when a host dies.
// darken and heal model a network partition instead: while dark, nothing
// crosses in either direction, but connections stay open and bytes wait
// in the kernel's buffers, as TCP retransmissions would, to arrive when
// the network heals: requests a deposed leader sent during the partition
// reach the server late.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	light  *sync.Cond // signalled when dark turns false or cut turns true
	conns  []net.Conn
	cut    bool
	dark   bool
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.light = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.partition)
	return p
}

// waitLight blocks while the proxy is dark; false once it is cut.
func (p *proxy) waitLight() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.dark && !p.cut {
		p.light.Wait()
	}
	return !p.cut
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		p.wg.Add(1)
		go func() { // owned by the proxy: ends when c or u closes, which partition forces
			defer p.wg.Done()
			if !p.waitLight() { // a connection made in the dark waits for light
				c.Close()
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				u.Close()
				return
			}
			p.conns = append(p.conns, u)
			p.mu.Unlock()
			var pipes sync.WaitGroup
			pipes.Add(2)
			go func() { defer pipes.Done(); p.pipe(u, c) }()
			go func() { defer pipes.Done(); p.pipe(c, u) }()
			pipes.Wait()
		}()
	}
}

// pipe copies src to dst, holding bytes back while the proxy is dark.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		if !p.waitLight() {
			return
		}
		n, err := src.Read(buf)
		if n > 0 {
			// Bytes read just as the lights went out wait too.
			if !p.waitLight() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// darken stops all traffic without closing anything.
func (p *proxy) darken() {
	p.mu.Lock()
	p.dark = true
	p.mu.Unlock()
}

// heal lets the held traffic through again.
func (p *proxy) heal() {
	p.mu.Lock()
	p.dark = false
	p.light.Broadcast()
	p.mu.Unlock()
}

// partition cuts every connection and stops forwarding; idempotent.
func (p *proxy) partition() {
	p.mu.Lock()
	p.cut = true
	p.light.Broadcast()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

// TestIntegration_LeaderLosesCoord: the leader is cut off from coord (as
// if its host died or was partitioned: its session is not closed, it
// expires). It stops leading at once and closes its streams; another
// master is elected once the session expires; agents and the scheduler
// follow it, and the task survives.
func TestIntegration_LeaderLosesCoord(t *testing.T) {
	e := startCoord(t)
	px := startProxy(t, e.Addr().String())
	a := startMasterAt(t, "zk://"+px.ln.Addr().String()+"/strata")
	waitFor(t, "the first master to lead", a.m.Leading)
	b, c := startMaster(t, e), startMaster(t, e)
	urls := []string{a.url, b.url, c.url}

	agent := startAgent(t, urls, "sim-1", 0)
	waitFor(t, "agent subscribed", func() bool { return agent.ID() != "" })
	failover := 3600.0
	s := newTestScheduler(t, urls, mesos.FrameworkInfo{User: "test", Name: "partition", FailoverTimeout: &failover})
	s.subscribe(patience)
	agentID := s.launchOne("p-1", "cpus:1;mem:64")
	s.ack(s.update("p-1", patience, mesos.TaskRunning))

	px.partition()
	waitFor(t, "the cut-off leader to stop leading", func() bool { return !a.m.Leading() })
	waitFor(t, "a new leader", func() bool { return b.m.Leading() || c.m.Leading() })
	waitFor(t, "the agent to reregister", func() bool { return agent.Subscriptions() >= 2 })
	s.subscribe(patience)
	s.mustCall(&mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{
		Tasks: []mesos.ReconcileTask{{TaskID: "p-1", AgentID: agentID}}}})
	st := s.update("p-1", patience, mesos.TaskRunning, mesos.TaskLost)
	if st.State != mesos.TaskRunning {
		t.Fatalf("after the partition the task is %s", describeStatus(st))
	}
	// The cut-off master serves no API any more.
	resp, err := http.Post(a.url+"/api/v1/scheduler", "application/json", strings.NewReader(
		`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}`))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("the cut-off master still accepts subscriptions")
		}
	}
}

// leadSpan is one stretch in which a master reported Leading, as sampled.
type leadSpan struct {
	master     int
	start, end time.Time
}

// leadership samples masters' Leading() continuously and records, per
// master, the spans it reported leading.
type leadership struct {
	ms    []*master.Master
	mu    sync.Mutex
	spans []leadSpan
	open  []time.Time // per master: start of the current span, zero if none
	stop  chan struct{}
	done  chan struct{}
}

func watchLeadership(ms ...*master.Master) *leadership {
	w := &leadership{ms: ms, open: make([]time.Time, len(ms)), stop: make(chan struct{}), done: make(chan struct{})}
	go func() { // owned by w: ends at w.close
		defer close(w.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			w.sample()
			select {
			case <-w.stop:
				w.sample()
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *leadership) sample() {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, m := range w.ms {
		switch leading := m.Leading(); {
		case leading && w.open[i].IsZero():
			w.open[i] = now
		case !leading && !w.open[i].IsZero():
			w.spans = append(w.spans, leadSpan{master: i, start: w.open[i], end: now})
			w.open[i] = time.Time{}
		}
	}
}

// close stops sampling and returns every span, open ones ending now.
func (w *leadership) close() []leadSpan {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	spans := slices.Clone(w.spans)
	for i, s := range w.open {
		if !s.IsZero() {
			spans = append(spans, leadSpan{master: i, start: s, end: time.Now()})
		}
	}
	return spans
}

// probeWrite is one fenced write a master's term made to the probe node;
// Version is the node's version after it, the server's order of writes.
type probeWrite struct {
	master     int
	version    coord.Version
	start, end time.Time
}

// fencedProbe makes every master that leads write, through its term's
// fenced store, to one shared node, as fast as it can; the node's
// version orders the writes as the server applied them.
type fencedProbe struct {
	mu     sync.Mutex
	writes []probeWrite
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

const probePath = "master/fencing-probe"

func startFencedProbe(ms ...*master.Master) *fencedProbe {
	ctx, cancel := context.WithCancel(context.Background())
	p := &fencedProbe{cancel: cancel}
	for i, m := range ms {
		p.wg.Add(1)
		go func() { // owned by p: ends at p.close
			defer p.wg.Done()
			for ctx.Err() == nil {
				st := master.TermStore(m)
				if st == nil {
					time.Sleep(2 * time.Millisecond) // nothing to write with until m leads
					continue
				}
				start := time.Now()
				wctx, c := context.WithTimeout(ctx, time.Second)
				v, err := st.Put(wctx, probePath, map[string]any{"master": i, "at": start.UnixNano()})
				c()
				if err == nil {
					p.mu.Lock()
					p.writes = append(p.writes, probeWrite{master: i, version: v, start: start, end: time.Now()})
					p.mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	return p
}

func (p *fencedProbe) close() []probeWrite {
	p.cancel()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	w := slices.Clone(p.writes)
	slices.SortFunc(w, func(a, b probeWrite) int { return int(a.version) - int(b.version) })
	return w
}

// TestIntegration_DeposedLeaderIsFenced: the leader is partitioned from
// coord without its connection closing (packets held, as a real
// partition does), while every master's Leading() is sampled every
// millisecond and every leading master writes continuously through its
// term's fenced store. The deposed leader must stop leading within the
// session timeout of the cut and before a successor starts; once the
// network heals and the held requests arrive, a registry write through
// the deposed leader's store must be refused (ErrFenced) and leave the
// new leader's registry as it was; no two masters may ever be seen
// leading at once, and in the server's order of the probe writes the
// deposed leader's all come before the successor's first.
func TestIntegration_DeposedLeaderIsFenced(t *testing.T) {
	for _, srv := range zktest.Servers() {
		t.Run(srv.Name, func(t *testing.T) { testDeposedLeaderIsFenced(t, srv.Start(t)) })
	}
}

func testDeposedLeaderIsFenced(t *testing.T, coordAddr string) {
	url, err := coord.ParseURL("zk://" + coordAddr + "/strata")
	if err != nil {
		t.Fatal(err)
	}
	px := startProxy(t, coordAddr)
	a := startMasterAt(t, "zk://"+px.ln.Addr().String()+"/strata")
	waitFor(t, "the first master to lead", a.m.Leading)
	b, c := startMasterAt(t, url.String()), startMasterAt(t, url.String())
	ms := []*master.Master{a.m, b.m, c.m}

	// A registry entry of the first term, to see that nobody overwrites it.
	client := &http.Client{Timeout: patience}
	if code, _, body := operator(t, client, a.url, `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":2}]}}`); code != http.StatusOK && code != http.StatusAccepted {
		t.Fatalf("UPDATE_WEIGHTS: %d %s", code, body)
	}
	// The test's own session asks for the masters' timeout (startMasterAt's
	// 2 s), so it learns the one the server grants them all.
	sess, err := coord.Dial(context.Background(), coord.Config{URL: url, SessionTimeout: 2 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	sessionTimeout := sess.Timeout()
	weights := func() map[string]float64 {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		w, _, err := coord.Get[map[string]float64](ctx, sess.Store(), master.RegistryRoot+"/"+state.RegistryWeights)
		if err != nil {
			t.Fatalf("read the registry's weights: %v", err)
		}
		return w
	}
	waitFor(t, "the weights in the registry", func() bool { return weights()["web"] == 2 })

	stale := master.TermStore(a.m)
	if stale == nil {
		t.Fatal("the leader has no term store")
	}
	watch := watchLeadership(ms...)
	probe := startFencedProbe(ms...)
	waitFor(t, "a probe write by the first leader", func() bool {
		probe.mu.Lock()
		defer probe.mu.Unlock()
		return len(probe.writes) > 0
	})

	cut := time.Now()
	px.darken()
	waitFor(t, "the cut-off leader to stop leading", func() bool { return !a.m.Leading() })
	stepDown := time.Now()
	waitFor(t, "a new leader", func() bool { return b.m.Leading() || c.m.Leading() })
	elected := time.Now()
	t.Logf("cut-off leader stepped down after %v; a successor led after %v (session timeout %v)",
		stepDown.Sub(cut).Round(time.Millisecond), elected.Sub(cut).Round(time.Millisecond), sessionTimeout)
	if d := stepDown.Sub(cut); d > sessionTimeout {
		t.Errorf("the cut-off leader kept leading %v after the cut, past the session timeout %v", d, sessionTimeout)
	}
	next := b
	if c.m.Leading() {
		next = c
	}
	// The new leader writes the registry too.
	if code, _, body := operator(t, client, next.url, `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":3}]}}`); code != http.StatusOK && code != http.StatusAccepted {
		t.Fatalf("UPDATE_WEIGHTS on the new leader: %d %s", code, body)
	}
	waitFor(t, "the new leader's weights in the registry", func() bool { return weights()["web"] == 3 })

	// Heal: what the deposed master sent during the partition arrives now;
	// it finds its session expired and joins again as a follower.
	px.heal()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	_, err = stale.Put(ctx, master.RegistryRoot+"/"+state.RegistryWeights, map[string]float64{"web": 99})
	if !errors.Is(err, coord.ErrFenced) {
		t.Fatalf("registry write through the deposed leader's store = %v, want coord.ErrFenced", err)
	}
	// Followers do not write: give the healed master a moment in which it
	// would, were it to act as a leader still, then look at everything.
	waitFor(t, "the healed master to follow the new leader", func() bool {
		resp, err := http.Get(a.url + "/redirect")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return strings.Contains(resp.Request.URL.String(), next.m.Addr().String())
	})
	if w := weights(); w["web"] != 3 {
		t.Fatalf("the new leader's registry was overwritten: weights %v", w)
	}

	writes := probe.close()
	spans := watch.close()
	for i, x := range spans {
		for _, y := range spans[i+1:] {
			if x.master != y.master && x.start.Before(y.end) && y.start.Before(x.end) {
				t.Errorf("masters %d and %d were both seen leading: %v–%v and %v–%v", x.master, y.master,
					x.start.Sub(cut), x.end.Sub(cut), y.start.Sub(cut), y.end.Sub(cut))
			}
		}
	}
	if a.m.Leading() {
		t.Error("the deposed master leads again while the new leader lives")
	}
	var successorFrom coord.Version = -1
	for _, w := range writes {
		if w.master != 0 && successorFrom < 0 {
			successorFrom = w.version
		}
		if w.master == 0 && successorFrom >= 0 {
			t.Errorf("a write of the deposed leader (probe version %d, sent %v after the cut) landed after the successor's first (version %d)",
				w.version, w.start.Sub(cut), successorFrom)
		}
	}
	if successorFrom < 0 {
		t.Errorf("the successor made no probe write: %d writes", len(writes))
	}
	t.Logf("%d leadership spans, %d fenced probe writes", len(spans), len(writes))
}
