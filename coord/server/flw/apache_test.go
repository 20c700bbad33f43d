package flw

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// update recaptures testdata/apache-*.txt from the Apache ZooKeeper that
// Debian's zookeeper package installs. The golden files are what the shape
// tests compare our rendering with, so they are regenerated only on purpose:
//
//	go test ./coord/server/flw -run TestCaptureApache -update
var update = flag.Bool("update", false, "recapture testdata/apache-*.txt from the installed Apache ZooKeeper")

const (
	apacheJar     = "/usr/share/java/zookeeper.jar"
	apacheConfDir = "/etc/zookeeper/conf"
)

// capturedWords are sent to Apache ZooKeeper in this order; crst and srst
// come last because they reset the figures the others report.
var capturedWords = []string{
	"ruok", "srvr", "stat", "mntr", "cons", "conf", "envi",
	"wchs", "wchc", "wchp", "dump", "isro", "dirs", "crst", "srst",
}

// TestCaptureApache runs a standalone Apache ZooKeeper 3.8 with the same
// state shapeSnapshot describes (two sessions, two ephemerals, three data
// watches, one child watch), asks it every four-letter word, and saves the
// answers. A second server with the default whitelist supplies the refusal
// text for a word that is not whitelisted.
func TestCaptureApache(t *testing.T) {
	if !*update {
		t.Skip("golden files are recaptured only with -update")
	}
	if _, err := os.Stat(apacheJar); err != nil {
		t.Skipf("Apache ZooKeeper is not installed here (%s missing: apt-get install zookeeper)", apacheJar)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("java is not on PATH here (apt-get install zookeeper pulls it in)")
	}

	addr := startApache(t, "4lw.commands.whitelist=*\n")
	build := func() (*zk.Conn, func()) {
		c, events, err := zk.Connect([]string{addr}, 30*time.Second, zk.WithLogInfo(false), zk.WithLogger(quietLogger{}))
		if err != nil {
			t.Fatalf("connect to Apache ZooKeeper at %s: %v", addr, err)
		}
		waitSession(t, events)
		return c, c.Close
	}
	a, closeA := build()
	defer closeA()
	b, closeB := build()
	defer closeB()

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := a.Create("/app", []byte("x"), 0, zk.WorldACL(zk.PermAll))
	must("create /app", err)
	_, err = a.Create("/app/e1", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	must("create /app/e1", err)
	_, err = b.Create("/app/e2", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	must("create /app/e2", err)
	_, _, _, err = a.ExistsW("/app")
	must("exists /app", err)
	_, _, _, err = a.GetW("/app/e1")
	must("get /app/e1", err)
	_, _, _, err = a.ChildrenW("/app")
	must("children /app", err)
	_, _, _, err = b.ExistsW("/missing")
	must("exists /missing", err)

	for _, w := range capturedWords {
		out, err := askWord(addr, w)
		must("send "+w, err)
		writeGolden(t, "apache-"+w+".txt", out)
	}

	// The default whitelist is "srvr" alone, so stat is refused.
	closedAddr := startApache(t, "")
	out, err := askWord(closedAddr, "stat")
	must("send stat to default whitelist", err)
	writeGolden(t, "apache-notallowed-stat.txt", out)
}

// startApache runs org.apache.zookeeper.server.ZooKeeperServerMain on a free
// loopback port in a fresh directory and returns its client address once it
// answers srvr (the one word every whitelist allows). The process is killed
// by PID when the test ends.
func startApache(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n%s",
		filepath.Join(dir, "data"), port, extra)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command("java", "-cp", apacheConfDir+":"+apacheJar,
		"org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Apache ZooKeeper: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := askWord(addr, "srvr")
		if err == nil && strings.HasPrefix(out, "Zookeeper version: ") {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("Apache ZooKeeper did not answer srvr on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// askWord sends one four-letter word and reads until the server closes the
// connection, as `printf ruok | nc` does.
func askWord(addr, word string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, word); err != nil {
		return "", err
	}
	out, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return string(out), err
	}
	return string(out), nil
}

func waitSession(t *testing.T, events <-chan zk.Event) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return
			}
		case <-timeout:
			t.Fatal("no session from Apache ZooKeeper within 30s")
		}
	}
}

func writeGolden(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join("testdata", name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("golden %s: %v (regenerate with -update)", name, err)
	}
	return string(b)
}

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
