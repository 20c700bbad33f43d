package zktest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Where Debian's zookeeper package puts the server. The jar's manifest names
// its dependencies (netty, jackson, jetty, …) by absolute path, so the jar
// alone is a complete classpath, as zkEnv.sh assumes.
const (
	zookeeperJar = "/usr/share/java/zookeeper.jar"
	// slf4jSimple, when present, gives the server a log on stderr; without it
	// slf4j falls back to its no-op logger and a failed start says nothing.
	slf4jSimple = "/usr/share/java/slf4j-simple.jar"
)

// TickTime is the tickTime of every Apache server started here. It is short
// so session tests are fast: sessions may be as short as 2 ticks (400 ms).
const TickTime = 200 * time.Millisecond

// startTimeout bounds how long a JVM may take to answer ruok (or, in an
// ensemble, to elect a leader) on a loaded 2-core machine.
const startTimeout = 60 * time.Second

// process is one server JVM this package started; only its Cleanup or Kill
// stops it.
type process struct {
	addr    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed when the process has been waited for
	once    sync.Once
}

// running maps a client address to the Apache process serving it, so Kill
// can stop one member of an ensemble.
var (
	runningMu sync.Mutex
	running   = map[string]*process{}
)

// Apache starts a standalone Apache ZooKeeper 3.8 (Debian's package) for
// this test and returns its client address. The server is killed by PID
// and waited for in t.Cleanup. It skips the test, saying what is missing,
// when the jar or java is not installed.
func Apache(t testing.TB) string {
	t.Helper()
	return ApacheWith(t)
}

// ApacheWith is Apache with extra JVM system properties, each
// "name=value" and passed as -Dname=value (e.g.
// "zookeeper.enforce.auth.enabled=true"), for settings ZooKeeper reads
// only as properties.
func ApacheWith(t testing.TB, props ...string) string {
	t.Helper()
	java := requireApache(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		ports := FreePorts(t, 1)
		dir := t.TempDir()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
		cfg := baseConfig(filepath.Join(dir, "data"), ports[0])
		p, err := startJava(t, java, dir, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg, addr, props...)
		if err != nil {
			t.Fatalf("zktest: start Apache ZooKeeper: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		err = waitMode(ctx, p, "standalone")
		cancel()
		if err == nil {
			return addr
		}
		p.kill()
		lastErr = fmt.Errorf("%w\n%s", err, p.logTail())
		if !p.portClash() {
			break
		}
		// Another process took the port between freePorts and the bind: retry.
	}
	t.Fatalf("zktest: Apache ZooKeeper did not start: %v", lastErr)
	return ""
}

// ApacheEnsemble starts an n-node Apache ZooKeeper ensemble on loopback
// (distinct client, quorum and election ports per node) and returns the
// members' client addresses once every one answers srvr with Mode leader or
// follower. All members are killed and waited for in t.Cleanup.
func ApacheEnsemble(t testing.TB, n int) []string {
	t.Helper()
	if n < 1 {
		t.Fatalf("zktest: ensemble of %d nodes", n)
	}
	java := requireApache(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addrs, procs, err := startEnsemble(t, java, n)
		if err == nil {
			return addrs
		}
		clash := false
		for _, p := range procs {
			p.kill()
			clash = clash || p.portClash()
		}
		lastErr = err
		if !clash {
			break
		}
	}
	t.Fatalf("zktest: Apache ZooKeeper ensemble did not form: %v", lastErr)
	return nil
}

func startEnsemble(t testing.TB, java string, n int) ([]string, []*process, error) {
	ports := FreePorts(t, 3*n)
	var peers strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&peers, "server.%d=127.0.0.1:%d:%d\n", i+1, ports[3*i+1], ports[3*i+2])
	}
	addrs := make([]string, n)
	procs := make([]*process, 0, n)
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, procs, err
		}
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(i+1)+"\n"), 0o644); err != nil {
			return nil, procs, err
		}
		cfg := baseConfig(data, ports[3*i]) +
			"initLimit=50\nsyncLimit=25\nstandaloneEnabled=false\nreconfigEnabled=false\n" +
			peers.String()
		addrs[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[3*i]))
		p, err := startJava(t, java, dir, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg, addrs[i])
		if err != nil {
			return nil, procs, err
		}
		procs = append(procs, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for _, p := range procs {
		if err := waitMode(ctx, p, "leader", "follower"); err != nil {
			return nil, procs, fmt.Errorf("member %s: %w\n%s", p.addr, err, p.logTail())
		}
	}
	return addrs, procs, nil
}

// Kill stops, by PID, the Apache server (standalone or ensemble member)
// serving addr, and waits for it to exit. It fails the test when this
// package did not start a server at addr.
func Kill(t testing.TB, addr string) {
	t.Helper()
	runningMu.Lock()
	p := running[addr]
	runningMu.Unlock()
	if p == nil {
		t.Fatalf("zktest: no Apache server of this test serves %s", addr)
	}
	p.kill()
}

func requireApache(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(zookeeperJar); err != nil {
		t.Skipf("Apache ZooKeeper is not installed: %s is missing (apt-get install zookeeper)", zookeeperJar)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("Apache ZooKeeper needs java, and no java is on PATH (apt-get install zookeeper pulls in a JRE)")
	}
	return java
}

// baseConfig is the zoo.cfg every server here shares. Keys ZooKeeper does
// not know become zookeeper.* system properties, which is how
// admin.enableServer and 4lw.commands.whitelist take effect; they are also
// passed as -D flags in case a release stops doing that.
func baseConfig(dataDir string, clientPort int) string {
	return fmt.Sprintf(`tickTime=%d
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
minSessionTimeout=%d
maxSessionTimeout=60000
admin.enableServer=false
4lw.commands.whitelist=*
`, TickTime.Milliseconds(), dataDir, clientPort, 2*TickTime.Milliseconds())
}

func startJava(t testing.TB, java, dir, mainClass, cfg, addr string, props ...string) (*process, error) {
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor

	classpath := zookeeperJar
	if _, err := os.Stat(slf4jSimple); err == nil {
		classpath += ":" + slf4jSimple
	}
	args := []string{
		// Small, fast-starting JVM: these servers hold a few znodes.
		"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
		"-Djava.net.preferIPv4Stack=true",
		"-Dzookeeper.extendedTypesEnabled=true", // TTL nodes
		"-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.4lw.commands.whitelist=*",
		fmt.Sprintf("-Dznode.container.checkIntervalMs=%d", ContainerCheckInterval.Milliseconds()),
		"-Dzookeeper.DigestAuthenticationProvider.superDigest=" + SuperDigest,
		"-Dzookeeper.cnxTimeout=1000", // ensemble members find each other sooner
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
	}
	for _, p := range props {
		args = append(args, "-D"+p)
	}
	args = append(args, "-cp", classpath, mainClass, cfgPath)
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	dieWithParent(cmd)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", java, err)
	}
	p := &process{addr: addr, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() { // owned by p: ends when the JVM exits, which kill forces
		_ = cmd.Wait()
		close(p.exited)
	}()
	runningMu.Lock()
	running[addr] = p
	runningMu.Unlock()
	t.Cleanup(p.kill)
	return p, nil
}

// kill stops the JVM by PID and waits for it; safe to call more than once.
func (p *process) kill() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		runningMu.Lock()
		if running[p.addr] == p {
			delete(running, p.addr)
		}
		runningMu.Unlock()
	})
}

func (p *process) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "server log tail:\n" + string(b)
}

func (p *process) portClash() bool {
	b, _ := os.ReadFile(p.logPath)
	return strings.Contains(string(b), "Address already in use")
}

// waitMode polls the four-letter word srvr until the server reports one of
// modes, the process dies or ctx ends.
func waitMode(ctx context.Context, p *process, modes ...string) error {
	var last string
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("server at %s exited during start", p.addr)
		default:
		}
		if out, err := FourLetterWord(p.addr, "srvr"); err == nil {
			mode := parseMode(out)
			for _, m := range modes {
				if mode == m {
					return nil
				}
			}
			last = "mode " + mode
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server at %s not ready (%s): %w", p.addr, last, ctx.Err())
		case <-p.exited:
			return fmt.Errorf("server at %s exited during start", p.addr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func parseMode(srvr string) string {
	sc := bufio.NewScanner(strings.NewReader(srvr))
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// FourLetterWord sends a four-letter command (ruok, srvr, stat, mntr, …) to
// addr and returns the whole answer; the server closes the connection after
// answering.
func FourLetterWord(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, io.EOF) {
		return string(b), err
	}
	return string(b), nil
}

// FreePorts returns n distinct loopback ports that were free a moment ago.
// Holding all listeners open until every port is chosen keeps them distinct;
// a port can still be taken before the server binds it, which callers retry.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("zktest: find a free port: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
