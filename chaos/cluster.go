package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/mesos"
)

// Where Debian's zookeeper package puts the server; the jar's manifest
// names its dependencies, so it is a complete classpath.
const (
	zookeeperJar = "/usr/share/java/zookeeper.jar"
	slf4jSimple  = "/usr/share/java/slf4j-simple.jar"
)

// zkTick is the ensemble's tickTime: half ZooKeeper's default, so a lost
// member is noticed within seconds (syncLimit 10 ticks), while a member
// stalled by a loaded machine is not dropped at once.
const zkTick = time.Second

// Cluster is the HA cluster under test: a coord (a 3-node Apache
// ZooKeeper ensemble or one embedded coord server), masters, agents,
// marathons and chronos, each a real process of the strata binary (or a
// JVM) on loopback.
type Cluster struct {
	cfg       Config
	coord     []*proc // ensemble members, or the one embedded server
	masters   []*proc
	agents    []*proc
	marathons []*proc
	chronoses []*proc
	zkAddrs   []string
	zkURL     string // zk://a,b,c/strata
	http      *http.Client
}

// all lists every component, coord first.
func (c *Cluster) all() []*proc {
	var out []*proc
	for _, g := range [][]*proc{c.coord, c.masters, c.agents, c.marathons, c.chronoses} {
		out = append(out, g...)
	}
	return out
}

// JavaAvailable reports why the ensemble cannot run here ("" when it
// can): Debian's zookeeper package and a java on PATH.
func JavaAvailable() string {
	if _, err := os.Stat(zookeeperJar); err != nil {
		return "Apache ZooKeeper is not installed: " + zookeeperJar + " is missing (apt-get install zookeeper)"
	}
	if _, err := exec.LookPath("java"); err != nil {
		return "Apache ZooKeeper needs java, and no java is on PATH (apt-get install default-jre-headless)"
	}
	return ""
}

// newCluster lays out the processes (ports, dirs, arguments) without
// starting them.
func newCluster(cfg Config) (*Cluster, error) {
	c := &Cluster{cfg: cfg, http: &http.Client{Timeout: 3 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	nCoord := 1
	if cfg.Coord == CoordEnsemble {
		nCoord = 3
	}
	n := 3*nCoord + cfg.Masters + cfg.Agents + cfg.Marathons + cfg.Chronos
	ports, err := freePorts(n)
	if err != nil {
		return nil, err
	}
	next := func() int { p := ports[0]; ports = ports[1:]; return p }
	mk := func(kind Kind, i int, port int) (*proc, error) {
		name := fmt.Sprintf("%s-%d", kind, i+1)
		dir := filepath.Join(cfg.Dir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		return &proc{kind: kind, name: name, port: port, dir: dir}, nil
	}
	timeout := cfg.SessionTimeout.String()

	if cfg.Coord == CoordEnsemble {
		java, err := exec.LookPath("java")
		if err != nil {
			return nil, errors.New(JavaAvailable())
		}
		type peer struct{ client, quorum, election int }
		peers := make([]peer, 3)
		var servers strings.Builder
		for i := range peers {
			peers[i] = peer{next(), next(), next()}
			fmt.Fprintf(&servers, "server.%d=127.0.0.1:%d:%d\n", i+1, peers[i].quorum, peers[i].election)
		}
		classpath := zookeeperJar
		if _, err := os.Stat(slf4jSimple); err == nil {
			classpath += ":" + slf4jSimple
		}
		for i, pe := range peers {
			p, err := mk(KindZK, i, pe.client)
			if err != nil {
				return nil, err
			}
			data := filepath.Join(p.dir, "data")
			if err := os.MkdirAll(data, 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(i+1)+"\n"), 0o644); err != nil {
				return nil, err
			}
			conf := fmt.Sprintf("tickTime=%d\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
				"initLimit=20\nsyncLimit=10\nmaxSessionTimeout=60000\nmaxClientCnxns=0\n"+
				"admin.enableServer=false\n4lw.commands.whitelist=*\nstandaloneEnabled=false\nreconfigEnabled=false\n%s",
				zkTick.Milliseconds(), data, pe.client, servers.String())
			cfgPath := filepath.Join(p.dir, "zoo.cfg")
			if err := os.WriteFile(cfgPath, []byte(conf), 0o644); err != nil {
				return nil, err
			}
			p.argv = []string{java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
				"-Djava.net.preferIPv4Stack=true", "-Dzookeeper.admin.enableServer=false",
				"-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.cnxTimeout=1000",
				"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
				"-cp", classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgPath}
			c.coord = append(c.coord, p)
		}
	} else {
		p, err := mk(KindCoord, 0, next())
		if err != nil {
			return nil, err
		}
		next() // keep the port arithmetic of the ensemble layout simple
		next()
		p.argv = []string{cfg.Binary, "coord", "serve", "--data-dir", filepath.Join(p.dir, "data"),
			"--client-port", strconv.Itoa(p.port), "--tick-time", zkTick.String(),
			"--max-session-timeout", "60s", "--max-client-cnxns", "0", "--4lw-whitelist", "*", "--log-level", "warn"}
		c.coord = append(c.coord, p)
	}
	for _, p := range c.coord {
		c.zkAddrs = append(c.zkAddrs, p.addr())
	}
	c.zkURL = "zk://" + strings.Join(c.zkAddrs, ",") + "/strata"

	for i := 0; i < cfg.Masters; i++ {
		p, err := mk(KindMaster, i, next())
		if err != nil {
			return nil, err
		}
		p.argv = []string{cfg.Binary, "master", "--zk", c.zkURL, "--work-dir", p.dir,
			"--port", strconv.Itoa(p.port), "--zk-session-timeout", timeout, "--log-level", "warn"}
		c.masters = append(c.masters, p)
	}
	for i := 0; i < cfg.Agents; i++ {
		p, err := mk(KindAgent, i, next())
		if err != nil {
			return nil, err
		}
		// Disjoint port ranges: the agents share one host.
		lo := 31000 + 1000*i
		res := fmt.Sprintf("cpus:4;mem:4096;disk:8192;ports:[%d-%d]", lo, lo+999)
		p.argv = []string{cfg.Binary, "agent", "--master", c.zkURL, "--work-dir", p.dir,
			"--port", strconv.Itoa(p.port), "--hostname", fmt.Sprintf("chaos-agent-%d", i+1),
			"--attributes", fmt.Sprintf("rack:r%d", i+1), "--resources", res,
			"--zk-session-timeout", timeout, "--allow-root-tasks", "--log-level", "warn"}
		c.agents = append(c.agents, p)
	}
	for i := 0; i < cfg.Marathons; i++ {
		p, err := mk(KindMarathon, i, next())
		if err != nil {
			return nil, err
		}
		p.argv = []string{cfg.Binary, "marathon", "--master", c.zkURL, "--http-address", p.addr(),
			"--zk-session-timeout", timeout, "--reconciliation-interval", "30s", "--log-level", "warn"}
		c.marathons = append(c.marathons, p)
	}
	for i := 0; i < cfg.Chronos; i++ {
		p, err := mk(KindChronos, i, next())
		if err != nil {
			return nil, err
		}
		p.argv = []string{cfg.Binary, "chronos", "--master", c.zkURL, "--http-address", p.addr(),
			"--zk-session-timeout", timeout, "--reconciliation-interval", "30s", "--log-level", "warn"}
		c.chronoses = append(c.chronoses, p)
	}
	return c, nil
}

// Start starts the coord, waits for it to serve, then everything else,
// and waits until the cluster is whole.
func (c *Cluster) Start(ctx context.Context) error {
	for _, p := range c.coord {
		if err := p.start(); err != nil {
			return err
		}
	}
	if err := waitFor(ctx, 90*time.Second, func() error {
		for _, p := range c.coord {
			if err := c.healthy(p); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("coord did not come up: %w%s", err, c.logTails(c.coord))
	}
	for _, g := range [][]*proc{c.masters, c.agents, c.marathons, c.chronoses} {
		for _, p := range g {
			if err := p.start(); err != nil {
				return err
			}
		}
	}
	if err := waitFor(ctx, 120*time.Second, func() error { return c.whole(nil) }); err != nil {
		return fmt.Errorf("cluster did not come up: %w%s", err, c.logTails(c.all()))
	}
	return nil
}

// Stop stops every process, then the agents' supervisors (which kill
// their tasks).
func (c *Cluster) Stop() {
	for _, g := range [][]*proc{c.chronoses, c.marathons, c.agents, c.masters, c.coord} {
		for _, p := range g {
			p.stop(5 * time.Second)
		}
	}
	for _, p := range c.agents {
		stopSupervisor(filepath.Join(p.dir, "supervisor"))
	}
}

// stopSupervisor shuts down the supervisor serving dir, if any.
func stopSupervisor(dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	sc, err := supervise.Connect(ctx, dir)
	if err != nil {
		return
	}
	defer sc.Close()
	pid := sc.Info().PID
	if err := sc.Shutdown(ctx); err != nil && pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// healthy probes one component.
func (c *Cluster) healthy(p *proc) error {
	if !p.running() {
		return fmt.Errorf("%s is not running", p.name)
	}
	switch p.kind {
	case KindZK, KindCoord:
		out, err := fourLetter(p.addr(), "srvr")
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		if mode := zkMode(out); mode == "" {
			return fmt.Errorf("%s: not serving (no Mode in srvr)", p.name)
		}
		return nil
	case KindMaster:
		return c.get(p, "/health", nil)
	case KindMarathon, KindChronos:
		return c.get(p, "/ping", nil)
	case KindAgent:
		// Serving, and registered with a master (whole() also wants the
		// leading master to count it active).
		var st struct {
			ID     mesos.AgentID `json:"id"`
			Master string        `json:"master"`
		}
		if err := c.get(p, "/state", &st); err != nil {
			return err
		}
		if st.ID == "" || st.Master == "" {
			return fmt.Errorf("%s is not registered with a master", p.name)
		}
		return nil
	}
	return nil
}

// get GETs path from p and decodes a 200's JSON body into v (when not
// nil).
func (c *Cluster) get(p *proc, path string, v any) error {
	resp, err := c.http.Get("http://" + p.addr() + path)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("%s: GET %s: %s", p.name, path, resp.Status)
	}
	if v == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: GET %s: %w", p.name, path, err)
	}
	return nil
}

// masterState is the part of /master/state chaos reads.
type masterState struct {
	Leader     string            `json:"leader"`
	Slaves     []mesos.Agent     `json:"slaves"`
	Frameworks []mesos.Framework `json:"frameworks"`
	Tasks      []mesos.Task      `json:"tasks"`
	Unreach    []mesos.Task      `json:"unreachable_tasks"`
}

// leadingMaster finds the master that answers /master/state itself (the
// others redirect), and its state.
func (c *Cluster) leadingMaster() (*proc, *masterState, error) {
	var errs []string
	for _, p := range c.masters {
		if !p.running() {
			continue
		}
		var st masterState
		if err := c.get(p, "/master/state", &st); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		return p, &st, nil
	}
	return nil, nil, fmt.Errorf("no leading master: %s", strings.Join(errs, "; "))
}

// frameworkLeader asks any running marathon (or chronos) who leads.
func (c *Cluster) frameworkLeader(ps []*proc, path string) (*proc, error) {
	var errs []string
	for _, p := range ps {
		if !p.running() {
			continue
		}
		var l struct {
			Leader string `json:"leader"`
		}
		if err := c.get(p, path, &l); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, q := range ps {
			if strings.HasSuffix(l.Leader, fmt.Sprintf(":%d", q.port)) {
				// The election node may outlive a killed leader by its
				// session timeout, while a restarted process on the same
				// address is a mere follower: ask q itself.
				if err := c.leads(q); err != nil {
					return nil, err
				}
				return q, nil
			}
		}
		errs = append(errs, fmt.Sprintf("%s names leader %q, which is none of ours", p.name, l.Leader))
	}
	return nil, fmt.Errorf("no leader at %s: %s", path, strings.Join(errs, "; "))
}

// leads checks that a marathon or chronos actually leads: marathon's
// /v2/info says elected, chronos serves a leader-only endpoint itself.
func (c *Cluster) leads(q *proc) error {
	switch q.kind {
	case KindMarathon:
		var info struct {
			Elected bool `json:"elected"`
		}
		if err := c.get(q, "/v2/info", &info); err != nil {
			return err
		}
		if !info.Elected {
			return fmt.Errorf("%s is named leader but is not elected", q.name)
		}
	case KindChronos:
		if err := c.get(q, "/v1/scheduler/jobs/summary", nil); err != nil {
			return fmt.Errorf("%s is named leader but does not lead: %w", q.name, err)
		}
	}
	return nil
}

// whole reports why the cluster is not whole: a component down or
// unhealthy, a missing leader, an inactive agent, or (when w is not nil)
// an app short of healthy instances.
func (c *Cluster) whole(w *workload) error {
	for _, p := range c.all() {
		if err := c.healthy(p); err != nil {
			return err
		}
	}
	_, st, err := c.leadingMaster()
	if err != nil {
		return err
	}
	active := 0
	for _, a := range st.Slaves {
		if a.Active {
			active++
		}
	}
	if active != len(c.agents) {
		return fmt.Errorf("%d of %d agents active", active, len(c.agents))
	}
	if _, err := c.frameworkLeader(c.marathons, "/v2/leader"); err != nil {
		return err
	}
	if _, err := c.frameworkLeader(c.chronoses, "/v1/scheduler/leader"); err != nil {
		return err
	}
	if w != nil {
		return w.appsWhole(c)
	}
	return nil
}

// role says what a component is doing right now (leader, standby,
// follower), for the report.
func (c *Cluster) role(p *proc) string {
	switch p.kind {
	case KindMaster:
		if l, _, err := c.leadingMaster(); err == nil && l == p {
			return "leader"
		}
		return "standby"
	case KindMarathon:
		if l, err := c.frameworkLeader(c.marathons, "/v2/leader"); err == nil && l == p {
			return "leader"
		}
		return "standby"
	case KindChronos:
		if l, err := c.frameworkLeader(c.chronoses, "/v1/scheduler/leader"); err == nil && l == p {
			return "leader"
		}
		return "standby"
	case KindZK:
		if out, err := fourLetter(p.addr(), "srvr"); err == nil {
			return zkMode(out)
		}
	}
	return ""
}

// fourLetter sends a ZooKeeper four-letter word and returns the answer.
func fourLetter(addr, cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	if err != nil && len(b) == 0 {
		return "", err
	}
	return string(b), nil
}

// zkMode is the Mode line of a srvr answer ("" when it has none: the
// member is not serving, e.g. without a quorum).
func zkMode(srvr string) string {
	sc := bufio.NewScanner(strings.NewReader(srvr))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// waitFor polls cond until it holds, the timeout passes or ctx ends.
func waitFor(ctx context.Context, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// logTails is the end of each process' log, for failures to start.
func (c *Cluster) logTails(ps []*proc) string {
	var b strings.Builder
	for _, p := range ps {
		data, err := os.ReadFile(filepath.Join(p.dir, p.name+".log"))
		if err != nil {
			continue
		}
		s := string(data)
		if len(s) > 1500 {
			s = s[len(s)-1500:]
		}
		fmt.Fprintf(&b, "\n--- %s (running=%v):\n%s", p.name, p.running(), s)
	}
	return b.String()
}
