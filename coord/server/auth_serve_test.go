package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/internal/zkraw"
	"github.com/strata-dc/strata/coord/server/jute"
)

// startProcess runs the strata binary with args and, unless ready is nil,
// waits for a stdout line matching it and returns its first submatch; the
// process is killed by PID and waited for in t.Cleanup, and its stderr is
// logged when the test failed.
func startProcess(t *testing.T, ready *regexp.Regexp, args ...string) string {
	t.Helper()
	cmd := exec.Command(strataBinary(t), args...)
	var stdout io.Reader
	if ready != nil {
		var err error
		if stdout, err = cmd.StdoutPipe(); err != nil {
			t.Fatal(err)
		}
	}
	logPath := filepath.Join(t.TempDir(), "stderr.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	if ready == nil {
		cmd.Stdout = logFile
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("strata %s output:\n%s", args[0], b)
		}
	})
	if ready == nil {
		return ""
	}
	lines := make(chan string, 1)
	go func() { // owned by the process: ends when its stdout closes
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				lines <- m[1]
			}
		}
	}()
	select {
	case m, ok := <-lines:
		if !ok {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("strata %s exited before it was ready:\n%s", args[0], b)
		}
		return m
	case <-time.After(60 * time.Second):
		t.Fatalf("strata %s not ready within 60s", args[0])
	}
	return ""
}

// TestServeEnforcesAuthEndToEnd runs `strata coord serve --authenticate
// --credentials` and `strata master` with zk://master:secret@…: the master
// authenticates, leads and writes its nodes; a session without credentials
// is refused with -124; a wrong secret gets AUTHFAILED; another principal
// sees the leader but cannot touch its node.
func TestServeEnforcesAuthEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the strata binary")
	}
	dir := t.TempDir()
	creds := filepath.Join(dir, "coord-credentials")
	if err := os.WriteFile(creds, []byte("master m-secret\noperator o-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := startProcess(t, regexp.MustCompile(`serving ZooKeeper protocol on (\S+) .*authentication required`),
		"coord", "serve", "--data-dir", filepath.Join(dir, "coord"), "--client-port", strconv.Itoa(port),
		"--tick-time", "100ms", "--authenticate", "--credentials", creds, "--log-level", "warn")

	c, _, err := zkraw.Dial(addr, zkraw.Session{Timeout: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Do(jute.OpGetChildren, &jute.PathWatchRequest{Path: "/"}, nil); err != nil || r.Err != jute.ErrSessionClosedRequireAuth {
		t.Errorf("unauthenticated getChildren: %v %s, want err(-124)", err, zkraw.ErrName(r.Err))
	}
	c.Close()
	c, _, err = zkraw.Dial(addr, zkraw.Session{Timeout: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.AddAuth("digest", []byte("master:guess")); err != nil || r.Err != jute.ErrAuthFailed {
		t.Errorf("wrong secret: %v %s, want AuthFailed", err, zkraw.ErrName(r.Err))
	}
	c.Close()

	startProcess(t, nil, "master", "--zk", "zk://master:m-secret@"+addr+"/strata",
		"--work-dir", filepath.Join(dir, "master"), "--port", strconv.Itoa(freePort(t)), "--log-level", "warn")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	u, err := coord.ParseURL("zk://operator:o-secret@" + addr + "/strata")
	if err != nil {
		t.Fatal(err)
	}
	op, err := coord.Dial(ctx, coord.Config{URL: u, SessionTimeout: 4 * time.Second, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("operator dial: %v", err)
	}
	defer op.Close()
	leaders, err := op.WatchLeader(ctx, "master/leader")
	if err != nil {
		t.Fatal(err)
	}
	var leader coord.Leader
	for leader.Node == "" {
		select {
		case leader = <-leaders:
		case <-ctx.Done():
			t.Fatal("strata master never led against the enforcing coord server")
		}
	}
	node := "/strata/master/leader/" + leader.Node
	if err := op.Conn().Delete(node, -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Errorf("operator deleted the master's leader node: err = %v, want ErrNoAuth", err)
	}
}
