package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/strata-dc/strata/agent"
	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/auth"
)

// Chroot is the coord chroot of a local cluster, DESIGN.md's default.
const Chroot = "/strata"

// Config configures a local cluster. Only DataDir is required.
type Config struct {
	// DataDir holds everything: coord/ (its snapshots and log),
	// master.sock, agents/<n>/ (each agent's work dir), token,
	// cluster.json (the ports of the last run) and up.log.
	DataDir string
	// Agents is how many agents to run (default 2); the host's cpus, mem
	// and disk are split evenly between them.
	Agents int
	// IP is the loopback address everything listens on (127.0.0.1).
	IP string
	// Components run beside the master and agents (marathon, chronos),
	// started in order once the master serves.
	Components []Component
	// SupervisorCommand runs the agents' task supervisors (nil: this
	// binary's `agent-supervisor`); tests that are not the strata binary
	// set it.
	SupervisorCommand []string
	// Isolation of tasks (default posix).
	Isolation supervise.Isolation
	// Version is reported by every daemon.
	Version string
	// Logger receives every daemon's logs; nil writes JSON logs to
	// <data-dir>/up.log, so the terminal keeps the summary readable.
	Logger *slog.Logger
}

// Cluster is a coord server, a master and agents in this process, all
// under one data dir, talking over loopback as separate hosts would.
type Cluster struct {
	cfg     Config
	log     *slog.Logger
	logFile *os.File
	lock    *os.File
	state   savedState
	token   string

	coord  *coord.Embedded
	master *master.Master
	agents []*agentNode
	// comps is filled by Run; started is closed once every component has
	// been started (or Run gave up), after which comps no longer changes.
	comps   []*runningComponent
	started chan struct{}
}

type agentNode struct {
	dir string
	a   *agent.Agent
}

type runningComponent struct {
	name   string
	runner Runner
}

// New prepares the data dir (lock, token), starts the coord server, and
// binds the master's and agents' listeners; Run starts them. Ports of the
// previous run on the same data dir are reused when free, so addresses
// stay the same across restarts.
func New(cfg Config) (_ *Cluster, err error) {
	if cfg.DataDir == "" {
		return nil, errors.New("cluster: data dir is required")
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("cluster: data dir: %w", err)
	}
	cfg.DataDir = abs
	if cfg.Agents <= 0 {
		cfg.Agents = 2
	}
	if cfg.IP == "" {
		cfg.IP = "127.0.0.1"
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("cluster: data dir: %w", err)
	}
	c := &Cluster{cfg: cfg, started: make(chan struct{})}
	defer func() {
		if err != nil {
			c.release()
		}
	}()
	if c.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	c.log = cfg.Logger
	if c.log == nil {
		f, err := os.OpenFile(c.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("cluster: log: %w", err)
		}
		c.logFile = f
		c.log = slog.New(slog.NewJSONHandler(f, nil))
	}
	if c.token, err = ensureToken(c.TokenPath()); err != nil {
		return nil, err
	}
	c.state = loadState(c.statePath(), c.log)

	c.coord, err = listenRetry(c.state.CoordPort, func(port int) (*coord.Embedded, error) {
		return coord.Embed(server.Config{
			DataDir:       filepath.Join(cfg.DataDir, "coord"),
			ClientAddress: net.JoinHostPort(cfg.IP, strconv.Itoa(port)),
			TickTime:      500 * time.Millisecond,
			ForceSync:     true,
			Logger:        c.log.With("component", "coord"),
			Version:       cfg.Version,
		}, Chroot)
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c.state.IP = cfg.IP
	c.state.CoordPort = c.coord.Addr().Port

	c.master, err = listenRetry(c.state.MasterPort, func(port int) (*master.Master, error) {
		return master.New(master.Config{
			ZK: c.coord.URL().String(), WorkDir: cfg.DataDir, IP: cfg.IP, Port: port,
			Auth:    auth.Settings{OperatorTokenFile: c.TokenPath()},
			Version: cfg.Version, Logger: c.log.With("component", "master"),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	c.state.MasterPort = tcpPort(c.master.Addr())

	shares, err := splitHost(cfg.Agents, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	for i := range cfg.Agents {
		dir := filepath.Join(cfg.DataDir, "agents", strconv.Itoa(i))
		saved := 0
		if i < len(c.state.AgentPorts) {
			saved = c.state.AgentPorts[i]
		}
		a, err := listenRetry(saved, func(port int) (*agent.Agent, error) {
			return agent.New(agent.Config{
				Master: c.coord.URL().String(), WorkDir: dir, IP: cfg.IP, Port: port, Hostname: cfg.IP,
				Resources: shares[i].String(), Attributes: "agent:" + strconv.Itoa(i),
				Isolation: cfg.Isolation, SwitchUser: false, SupervisorCommand: cfg.SupervisorCommand,
				Auth:    auth.Settings{OperatorTokenFile: c.TokenPath()},
				Version: cfg.Version, Logger: c.log.With("component", "agent", "agent", i),
			})
		})
		if err != nil {
			return nil, fmt.Errorf("cluster: agent %d: %w", i, err)
		}
		c.agents = append(c.agents, &agentNode{dir: dir, a: a})
	}
	c.state.AgentPorts = c.state.AgentPorts[:0]
	for _, n := range c.agents {
		c.state.AgentPorts = append(c.state.AgentPorts, tcpPort(n.a.Addr()))
	}
	if err := saveState(c.statePath(), c.state); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return c, nil
}

// listenRetry builds a component on the port it had last time, or on any
// free port when that one is taken (or there was none).
func listenRetry[T any](saved int, build func(port int) (T, error)) (T, error) {
	if saved > 0 {
		if v, err := build(saved); err == nil {
			return v, nil
		}
	}
	return build(0)
}

func tcpPort(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	return 0
}

// Paths of the data dir.
func (c *Cluster) TokenPath() string  { return filepath.Join(c.cfg.DataDir, "token") }
func (c *Cluster) LogPath() string    { return filepath.Join(c.cfg.DataDir, "up.log") }
func (c *Cluster) SocketPath() string { return filepath.Join(c.cfg.DataDir, "master.sock") }
func (c *Cluster) statePath() string  { return filepath.Join(c.cfg.DataDir, "cluster.json") }

// Token is the operator token (for components that call the master; the
// CLI reads the token file). Never log it.
func (c *Cluster) Token() string { return c.token }

// Info is where everything listens.
type Info struct {
	DataDir    string
	Coord      string // zk://127.0.0.1:port/strata
	Master     string // http://127.0.0.1:port
	Socket     string // the master's control socket
	TokenPath  string
	LogPath    string // "" when the caller gave a Logger
	Agents     []AgentInfo
	Components []Endpoint
}

// AgentInfo is one agent of the cluster.
type AgentInfo struct {
	ID      string // "" until the master admitted it
	Addr    string // http://127.0.0.1:port
	Socket  string
	WorkDir string
}

// Info describes the cluster's addresses; the components' appear once
// WaitReady has returned.
func (c *Cluster) Info() Info {
	in := Info{
		DataDir: c.cfg.DataDir, Coord: c.coord.URL().String(),
		Master: "http://" + c.master.Addr().String(), Socket: c.SocketPath(), TokenPath: c.TokenPath(),
	}
	if c.logFile != nil {
		in.LogPath = c.LogPath()
	}
	for _, n := range c.agents {
		in.Agents = append(in.Agents, AgentInfo{ID: string(n.a.ID()), Addr: "http://" + n.a.Addr().String(),
			Socket: filepath.Join(n.dir, "agent.sock"), WorkDir: n.dir})
	}
	select {
	case <-c.started:
		for _, rc := range c.comps {
			in.Components = append(in.Components, rc.runner.Endpoints()...)
		}
	default:
	}
	return in
}

// WaitReady returns once the master leads, every agent has subscribed
// to it and every component has been started (their APIs listen; they may
// still be electing a leader), or when ctx ends.
func (c *Cluster) WaitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ready := c.master.Leading()
		select {
		case <-c.started:
		default:
			ready = false
		}
		for _, n := range c.agents {
			ready = ready && n.a.Subscriptions() > 0 && n.a.ID() != ""
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Run runs the cluster until ctx ends, then stops it in order:
// components, agents (then their supervisors, which kill every task),
// the master, coord. Sockets are removed and the data dir unlocked.
// A component or daemon that fails stops the whole cluster.
func (c *Cluster) Run(ctx context.Context) error {
	defer c.release()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
	)
	fail := func(what string, err error) {
		if ctx.Err() != nil {
			return // stopping: whatever the daemons say on the way out
		}
		if err == nil {
			err = errors.New("stopped on its own")
		}
		mu.Lock()
		if first == nil {
			first = fmt.Errorf("%s: %w", what, err)
		}
		mu.Unlock()
		cancel()
	}
	// Each tier has its own context, so shutdown goes top-down.
	type tier struct {
		cancel context.CancelFunc
		wg     sync.WaitGroup
	}
	start := func(t *tier, what string, run func(context.Context) error) {
		t.wg.Add(1)
		tctx, tcancel := context.WithCancel(context.Background())
		prev := t.cancel
		t.cancel = func() {
			if prev != nil {
				prev()
			}
			tcancel()
		}
		go func() { // owned by Run through the tier's WaitGroup
			defer t.wg.Done()
			fail(what, run(tctx))
		}()
	}
	var coordT, masterT, agentT, compT tier
	start(&coordT, "coord", c.coord.Run)
	start(&masterT, "master", c.master.Run)
	for i, n := range c.agents {
		start(&agentT, fmt.Sprintf("agent %d", i), n.a.Run)
	}
	env := Env{ZK: c.coord.URL().String(), Master: "http://" + c.master.Addr().String(), IP: c.cfg.IP,
		Token: c.token, Version: c.cfg.Version}
	for _, comp := range c.cfg.Components {
		e := env
		e.DataDir = filepath.Join(c.cfg.DataDir, comp.Name)
		e.Port = c.state.Components[comp.Name]
		e.Logger = c.log.With("component", comp.Name)
		r, err := comp.Start(e)
		if err != nil {
			fail(comp.Name, err)
			break
		}
		c.comps = append(c.comps, &runningComponent{name: comp.Name, runner: r})
		if eps := r.Endpoints(); len(eps) > 0 && eps[0].Port > 0 {
			if c.state.Components == nil {
				c.state.Components = map[string]int{}
			}
			c.state.Components[comp.Name] = eps[0].Port
			_ = saveState(c.statePath(), c.state)
		}
		start(&compT, comp.Name, r.Run)
	}
	close(c.started)
	<-ctx.Done()
	c.log.Info("stopping the cluster")
	stopTier := func(t *tier) {
		if t.cancel != nil {
			t.cancel()
		}
		t.wg.Wait()
	}
	stopTier(&compT)
	stopTier(&agentT)
	c.stopSupervisors()
	stopTier(&masterT)
	stopTier(&coordT)
	c.log.Info("cluster stopped")
	return first
}

// stopSupervisors shuts each agent's task supervisor down, which kills
// its tasks (with their grace periods) and records their exits: `strata
// up` owns the whole host, so nothing may outlive it. The next start
// reports those exits to the master. An agent alone leaves them running
// on purpose (agent restarts keep tasks); here the cluster is ending.
func (c *Cluster) stopSupervisors() {
	var wg sync.WaitGroup
	for i, n := range c.agents {
		wg.Add(1)
		go func() { // owned by stopSupervisors
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// "supervisor" is the agent's supervisor dir in its work dir
			// (agent's supervisorSD).
			sup, err := supervise.Connect(ctx, filepath.Join(n.dir, "supervisor"))
			if err != nil {
				c.log.Info("no supervisor to stop", "agent", i, "err", err)
				return
			}
			if err := sup.Shutdown(ctx); err != nil {
				c.log.Error("stop supervisor", "agent", i, "err", err)
				sup.Close()
			}
		}()
	}
	wg.Wait()
}

// release closes what New took: listeners not yet run, the log, the lock.
func (c *Cluster) release() {
	if c.coord != nil {
		_ = c.coord.Close()
	}
	if c.lock != nil {
		_ = os.Remove(c.lock.Name())
		_ = c.lock.Close()
		c.lock = nil
	}
	if c.logFile != nil {
		_ = c.logFile.Close()
		c.logFile = nil
	}
}
