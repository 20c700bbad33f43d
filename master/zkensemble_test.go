package master_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The master's HA test runs against a real Apache ZooKeeper ensemble.
// coord/internal/zktest starts one for coord's own tests, but Go's
// internal rule keeps it out of reach of package master, so this file
// starts one the same way: Debian's zookeeper package, one JVM per
// member, killed by PID at cleanup.

const (
	zkJar       = "/usr/share/java/zookeeper.jar"
	slf4jSimple = "/usr/share/java/slf4j-simple.jar"
	// zkTick is short so sessions of a couple of seconds are allowed
	// (ZooKeeper bounds them to 2..20 ticks unless told otherwise).
	zkTick = 200 * time.Millisecond
)

// apacheEnsemble starts an n-member Apache ZooKeeper ensemble on loopback
// and returns its client addresses once every member reports leader or
// follower. It skips when the package or java is missing.
func apacheEnsemble(t *testing.T, n int) []string {
	t.Helper()
	if _, err := os.Stat(zkJar); err != nil {
		t.Skipf("Apache ZooKeeper is not installed: %s is missing (apt-get install zookeeper)", zkJar)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("Apache ZooKeeper needs java, and no java is on PATH")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addrs, logs, err := startEnsemble(t, java, n)
		if err == nil {
			return addrs
		}
		lastErr = err
		clash := false
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			clash = clash || strings.Contains(string(b), "Address already in use")
		}
		if !clash {
			break
		}
	}
	t.Fatalf("Apache ZooKeeper ensemble did not form: %v", lastErr)
	return nil
}

func startEnsemble(t *testing.T, java string, n int) (addrs, logs []string, err error) {
	ports := freePorts(t, 3*n)
	var peers strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&peers, "server.%d=127.0.0.1:%d:%d\n", i+1, ports[3*i+1], ports[3*i+2])
	}
	var kills []func()
	defer func() {
		if err != nil {
			for _, k := range kills {
				k()
			}
		}
	}()
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, logs, err
		}
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(i+1)+"\n"), 0o644); err != nil {
			return nil, logs, err
		}
		cfg := fmt.Sprintf("tickTime=%d\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
			"maxSessionTimeout=60000\nadmin.enableServer=false\n4lw.commands.whitelist=srvr\n"+
			"initLimit=50\nsyncLimit=25\nstandaloneEnabled=false\nreconfigEnabled=false\n%s",
			zkTick.Milliseconds(), data, ports[3*i], peers.String())
		cfgPath := filepath.Join(dir, "zoo.cfg")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			return nil, logs, err
		}
		logPath := filepath.Join(dir, "server.log")
		logs = append(logs, logPath)
		logFile, err := os.Create(logPath)
		if err != nil {
			return nil, logs, err
		}
		classpath := zkJar
		if _, err := os.Stat(slf4jSimple); err == nil {
			classpath += ":" + slf4jSimple
		}
		cmd := exec.Command(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
			"-Djava.net.preferIPv4Stack=true", "-Dzookeeper.admin.enableServer=false",
			"-Dzookeeper.4lw.commands.whitelist=srvr", "-Dzookeeper.cnxTimeout=1000",
			"-cp", classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgPath)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = logFile, logFile
		// The kernel kills the JVM if the test binary dies before cleanup.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		err = cmd.Start()
		logFile.Close() // the child holds its own descriptor
		if err != nil {
			return nil, logs, fmt.Errorf("start %s: %w", java, err)
		}
		kill := killOnce(cmd)
		kills = append(kills, kill)
		t.Cleanup(kill)
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[3*i])))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for i, addr := range addrs {
		if err := waitZKMode(ctx, addr); err != nil {
			tail, _ := os.ReadFile(logs[i])
			if len(tail) > 3000 {
				tail = tail[len(tail)-3000:]
			}
			return nil, logs, fmt.Errorf("member %s: %w\n%s", addr, err, tail)
		}
	}
	return addrs, logs, nil
}

// killOnce returns a function that kills cmd by PID and reaps it, once.
func killOnce(cmd *exec.Cmd) func() {
	done := false
	return func() {
		if done {
			return
		}
		done = true
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// waitZKMode polls srvr until the member is a leader or follower.
func waitZKMode(ctx context.Context, addr string) error {
	last := ""
	for {
		if out, err := fourLetterWord(addr, "srvr"); err == nil {
			sc := bufio.NewScanner(strings.NewReader(out))
			for sc.Scan() {
				if m, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
					if m = strings.TrimSpace(m); m == "leader" || m == "follower" {
						return nil
					}
					last = "mode " + m
				}
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready (%s): %w", last, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func fourLetterWord(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
