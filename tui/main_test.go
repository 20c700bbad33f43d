package tui

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-dc/strata/agent"
	"github.com/strata-dc/strata/agent/supervise"
)

// TestMain lets the test binary be the agent's task supervisor (the
// agent starts `<test binary> agent-supervisor ...`, as it would start
// `strata agent-supervisor`), and makes the test the subreaper of the
// detached supervisors it stops.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "agent-supervisor" {
		os.Exit(supervisorMain(os.Args[2:]))
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(2)
	}
	// Views that name the keys file (help) must not depend on whose
	// home the tests run in.
	os.Setenv("XDG_CONFIG_HOME", "/home/operator/.config")
	os.Exit(m.Run())
}

func supervisorMain(args []string) int {
	fs := flag.NewFlagSet("agent-supervisor", flag.ContinueOnError)
	var cfg supervise.Config
	var iso string
	fs.StringVar(&cfg.Dir, "dir", "", "")
	fs.StringVar(&cfg.Name, "name", "", "")
	fs.StringVar(&iso, "isolation", "posix", "")
	fs.BoolVar(&cfg.Detach, "detach", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.Isolation = supervise.Isolation(iso)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := supervise.Run(ctx, cfg); err != nil && !errors.Is(err, supervise.ErrAlreadyRunning) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startTestAgent runs a real agent (POSIX isolation) until the test ends;
// its supervisor, and so every task, is shut down and reaped afterwards.
func startTestAgent(t *testing.T, zk, hostname string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "tui-agent-") // short: the supervisor's socket path is limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Cleanup(func() { stopSupervisor(t, filepath.Join(dir, "supervisor")) })
	a, err := agent.New(agent.Config{Master: zk, WorkDir: dir, IP: "127.0.0.1", Hostname: hostname,
		Resources: "cpus:4;mem:1024;disk:1024;ports:[31000-31100]", Attributes: "rack:r1", Isolation: supervise.IsolationPosix,
		StatusRetry: 200 * time.Millisecond, StatusRetryMax: 2 * time.Second,
		SupervisorCommand: []string{exe, "agent-supervisor"}, SessionTimeout: 10 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent.Run: %v", err)
			}
		})
	})
}

func stopSupervisor(t *testing.T, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := supervise.Connect(ctx, dir)
	if err != nil {
		return // none running
	}
	pid := c.Info().PID
	if err := c.Shutdown(ctx); err != nil {
		t.Errorf("supervisor shutdown: %v", err)
		unix.Kill(pid, unix.SIGKILL)
	}
	c.Close()
	deadline := time.Now().Add(patience)
	for {
		wpid, err := unix.Wait4(pid, nil, unix.WNOHANG, nil)
		if wpid == pid || (errors.Is(err, unix.ECHILD) && !alive(pid)) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("supervisor %d did not end", pid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}
