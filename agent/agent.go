package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/mesos"
)

// Agent is one agent process: it serves its HTTP API, keeps a
// subscription with the leading master, and runs tasks through its
// supervisor.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	tcp   net.Listener
	unix  net.Listener
	total mesos.Resources
	attrs mesos.Attributes
	ck    *checkpoint
	boot  string
	name  string
	out   *sender
	// sec is the API's security (auth.go); mhttp calls masters with the
	// agent's credential and MasterTLS.
	sec   *auth.Server
	mhttp *http.Client

	// inbox carries work to the loop goroutine, which alone changes the
	// state below (under mu, so the HTTP API can read it).
	inbox chan func()
	// launches are the supervisor launches in flight (runTask).
	launches sync.WaitGroup
	// flushWake wakes the flusher (commit.go).
	flushWake chan struct{}

	mu         sync.Mutex
	id         mesos.AgentID
	frameworks map[mesos.FrameworkID]mesos.FrameworkInfo
	tasks      map[string]*taskRecord // by container ID
	byTask     map[taskKey]string     // (framework, task) → container ID
	retry      map[string]*retryState // by container ID: resends of pending updates
	sup        *supervise.Client
	master     string // the master answering the current subscription, "" if none
	subscribed int    // SUBSCRIBED events received
	masterID   string // the ID of the master of the latest subscription
	// reportLive lists tasks whose terminal update is unacknowledged that
	// the next SUBSCRIBE reports as still live (see onSubscribed).
	reportLive map[string]bool
	// Group commit (commit.go): records written and made durable so far,
	// what waits for durability, and the updates not yet durable (by
	// UUID), which resends skip.
	written, durable uint64
	afterSync        []afterSync
	unsynced         map[string]bool

	// checkers are the running health checkers by container ID
	// (health.go), started under checkCtx (Run's) and counted in checkWG.
	checkers map[string]*healthChecker
	checkCtx context.Context
	checkWG  sync.WaitGroup
	counters taskCounters // states reached, for /metrics/snapshot (monitor.go)
	drain    drainState   // the drain in progress, if any (drain.go)
}

type taskKey struct {
	fw mesos.FrameworkID
	id mesos.TaskID
}

type retryState struct {
	at    time.Time
	delay time.Duration
}

// New checks cfg, detects resources and binds the agent's listeners: TCP
// on IP:Port and the control socket <work-dir>/agent.sock (mode 0600).
// Run does the rest.
func New(cfg Config) (*Agent, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("agent: work dir: %w", err)
	}
	total, err := totalResources(cfg.Resources, cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if err := total.Validate(); err != nil {
		return nil, fmt.Errorf("agent: --resources: %w", err)
	}
	attrs, err := mesos.ParseAttributes(cfg.Attributes)
	if err != nil {
		return nil, fmt.Errorf("agent: --attributes: %w", err)
	}
	ck, err := newCheckpoint(cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	plain, err := net.Listen("tcp", net.JoinHostPort(cfg.IP, fmt.Sprint(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("agent: listen: %w", err)
	}
	a := &Agent{cfg: cfg}
	tcp, err := a.secure(plain)
	if err != nil {
		plain.Close()
		return nil, err
	}
	sock := filepath.Join(cfg.WorkDir, "agent.sock")
	_ = os.Remove(sock) // a stale socket from a previous run
	unix, err := net.Listen("unix", sock)
	if err == nil {
		err = os.Chmod(sock, 0o600)
	}
	if err != nil {
		tcp.Close()
		if unix != nil {
			unix.Close()
		}
		return nil, fmt.Errorf("agent: control socket: %w", err)
	}
	*a = Agent{
		cfg: cfg, log: cfg.Logger, tcp: tcp, unix: unix, total: total, attrs: attrs, ck: ck, sec: a.sec,
		boot: readBootID(), name: supervisorName(cfg.WorkDir),
		inbox:      make(chan func(), 256),
		flushWake:  make(chan struct{}, 1),
		unsynced:   map[string]bool{},
		frameworks: map[mesos.FrameworkID]mesos.FrameworkInfo{},
		tasks:      map[string]*taskRecord{}, byTask: map[taskKey]string{}, retry: map[string]*retryState{},
	}
	a.out = newSender(a.log)
	a.out.client = a.masterClient(15 * time.Second)
	a.mhttp = a.masterClient(0) // subscriptions are long-lived streams
	return a, nil
}

// Run starts an agent with cfg and runs it until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	a, err := New(cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// Addr is the HTTP API's TCP address.
func (a *Agent) Addr() net.Addr { return a.tcp.Addr() }

// ID is the agent's ID, "" until the first master admits it.
func (a *Agent) ID() mesos.AgentID {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id
}

// Subscriptions counts the SUBSCRIBED events received in this run.
func (a *Agent) Subscriptions() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.subscribed
}

// Run recovers the checkpoint and the supervisor's tasks, then serves
// until ctx ends. Stopping leaves the supervisor and every task running:
// the next agent on the same work dir picks them up.
func (a *Agent) Run(ctx context.Context) error {
	defer a.launches.Wait() // they end with ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer a.stopHealthChecks()
	// Headers must arrive within RequestTimeout (operator bodies too:
	// serveOperator); idle keep-alive connections are closed after 2 min.
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: a.cfg.RequestTimeout, IdleTimeout: 2 * time.Minute,
		ConnContext: auth.ConnContext}
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, l := range []net.Listener{a.tcp, a.unix} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("agent API", "addr", l.Addr().String(), "err", err)
			}
		}()
	}
	defer func() {
		shut, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(shut)
		_ = srv.Close()
		_ = os.Remove(filepath.Join(a.cfg.WorkDir, "agent.sock"))
	}()

	if err := a.recoverCheckpoint(); err != nil {
		return err
	}
	sup, err := a.startSupervisor(ctx)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.sup = sup
	a.checkCtx = ctx
	a.reconcile(ctx)
	if last := a.ck.lastAlive(); !last.IsZero() && time.Since(last) > a.cfg.RecoveryTimeout {
		a.expireRecovered(ctx, time.Since(last))
	}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		if a.sup != nil {
			a.sup.Close()
		}
		a.mu.Unlock()
	}()

	wg.Add(4)
	go func() { defer wg.Done(); a.flusher(ctx) }()
	go func() { defer wg.Done(); a.out.run(ctx) }()
	go func() { defer wg.Done(); a.follow(ctx) }()
	go func() { defer wg.Done(); a.collectGarbage(ctx) }()
	a.log.Info("agent started", "addr", a.tcp.Addr().String(), "master", a.cfg.Master,
		"work_dir", a.cfg.WorkDir, "isolation", a.cfg.Isolation, "resources", a.total.String())
	a.loop(ctx, sup)
	return nil
}

// recoverCheckpoint loads the agent's ID, frameworks and tasks; a host
// that rebooted since makes this a new agent.
func (a *Agent) recoverCheckpoint() error {
	rec, err := a.ck.loadAgent()
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if rec.AgentID != "" && rec.BootID != a.boot {
		a.log.Info("the host rebooted since the last run: registering as a new agent", "old_agent_id", rec.AgentID)
		if err := a.ck.wipe(); err != nil {
			return fmt.Errorf("agent: %w", err)
		}
		rec = agentRecord{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.id = rec.AgentID
	a.masterID = rec.MasterID
	for id, fi := range rec.Frameworks {
		a.frameworks[id] = fi
	}
	tasks, errs := a.ck.loadTasks()
	for _, err := range errs {
		a.log.Error("unreadable task checkpoint (skipped)", "err", err)
	}
	for _, t := range tasks {
		a.tasks[t.ContainerID] = t
		a.byTask[taskKey{t.FrameworkID, t.Task.TaskID}] = t.ContainerID
	}
	if a.id != "" {
		a.log.Info("recovered checkpoint", "agent_id", a.id, "tasks", len(tasks))
	}
	return nil
}

func (a *Agent) saveAgentLocked() {
	rec := agentRecord{AgentID: a.id, MasterID: a.masterID, BootID: a.boot, Frameworks: a.frameworks}
	if err := a.ck.saveAgent(rec); err != nil {
		a.log.Error("checkpoint", "err", err)
	}
}

func (a *Agent) startSupervisor(ctx context.Context) (*supervise.Client, error) {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := supervise.Start(sctx, supervise.Options{Dir: filepath.Join(a.cfg.WorkDir, supervisorSD), Name: a.name,
		Isolation: a.cfg.Isolation, Command: a.cfg.SupervisorCommand})
	if err != nil {
		return nil, fmt.Errorf("agent: supervisor: %w", err)
	}
	// The supervisor enforces --recovery-timeout itself, so tasks end
	// even if this agent never comes back.
	if err := c.KillOrphansAfter(sctx, a.cfg.RecoveryTimeout); err != nil {
		c.Close()
		return nil, fmt.Errorf("agent: supervisor: %w", err)
	}
	info := c.Info()
	a.log.Info("supervisor connected", "pid", info.PID, "spawned", info.Spawned, "tasks", len(c.Tasks()))
	return c, nil
}

// loop is the goroutine that owns the agent's state: work from the
// master's stream and the supervisor's events, in order, and the resend
// timer.
func (a *Agent) loop(ctx context.Context, sup *supervise.Client) {
	tick := time.NewTicker(min(max(a.cfg.StatusRetry/4, 10*time.Millisecond), time.Second))
	defer tick.Stop()
	alive := time.NewTicker(min(a.cfg.RecoveryTimeout/3, time.Minute))
	defer alive.Stop()
	a.markAlive()
	events := sup.Events()
	var reconnect <-chan time.Time
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-a.inbox:
			a.mu.Lock()
			f()
			a.mu.Unlock()
		case ev, ok := <-events:
			if !ok {
				a.log.Error("lost the supervisor; reconnecting", "err", sup.Err())
				events = nil
				a.mu.Lock()
				a.sup = nil
				a.mu.Unlock()
				sup.Close()
				reconnect = time.After(backoff)
				continue
			}
			a.mu.Lock()
			a.onSupervisorEvent(ctx, ev)
			a.mu.Unlock()
		case <-reconnect:
			reconnect = nil
			c, err := a.startSupervisor(ctx)
			if err != nil {
				a.log.Error("supervisor", "err", err)
				backoff = min(2*backoff, 10*time.Second)
				reconnect = time.After(backoff)
				continue
			}
			backoff = 100 * time.Millisecond
			sup, events = c, c.Events()
			a.mu.Lock()
			a.sup = c
			a.reconcile(ctx)
			a.mu.Unlock()
		case <-alive.C:
			a.markAlive()
		case now := <-tick.C:
			a.mu.Lock()
			a.resendDue(now)
			a.mu.Unlock()
		}
	}
}

// exec runs f on the loop and waits for it; false if ctx ended first.
func (a *Agent) exec(ctx context.Context, f func()) bool {
	done := make(chan struct{})
	select {
	case a.inbox <- func() { f(); close(done) }:
	case <-ctx.Done():
		return false
	}
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

func newUUID() []byte {
	u := make([]byte, 16)
	_, _ = rand.Read(u)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

func newContainerID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (a *Agent) markAlive() {
	if err := a.ck.markAlive(time.Now()); err != nil {
		a.log.Error("checkpoint", "err", err)
	}
}
