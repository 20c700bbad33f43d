//go:build linux

// Package agenttest lets a package's tests run real agents in process.
// An agent starts its task supervisor by re-executing a command (Start's
// Options.Command); in a test that command is the test binary itself, so
// the binary must know how to be a supervisor. Main does that, and makes
// the test a child subreaper, so the detached supervisors it stops are
// its own to reap.
//
//	func TestMain(m *testing.M) { agenttest.Main(m) }
//
//	cfg := agent.Config{..., SupervisorCommand: agenttest.SupervisorCommand()}
//	dir := agenttest.WorkDir(t) // shut down and reaped at cleanup
package agenttest

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
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-dc/strata/agent/supervise"
)

// supervisorArg is the first argument that makes the test binary a
// supervisor, as the strata binary's hidden command is named.
const supervisorArg = "agent-supervisor"

// Patience bounds the waits for a supervisor to stop: a liveness bound
// on a loaded 2-core machine, not a performance claim.
const Patience = 40 * time.Second

// Main is TestMain for such packages: it runs the supervisor when the
// binary was started as one, and the tests otherwise. It does not return.
func Main(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == supervisorArg {
		os.Exit(supervisorMain(os.Args[2:]))
	}
	// Detached supervisors are re-parented to the nearest subreaper; being
	// it, the test reaps each one it stops, by PID.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// SupervisorCommand is the agent.Config.SupervisorCommand that runs this
// test binary as the supervisor.
func SupervisorCommand() []string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return []string{exe, supervisorArg}
}

// supervisorMain parses the flags supervise.Start passes. A detached
// supervisor's output goes to its log file in its directory.
func supervisorMain(args []string) int {
	fs := flag.NewFlagSet(supervisorArg, flag.ContinueOnError)
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

// WorkDir is an agent work dir whose supervisor (and so every task) is
// shut down and reaped when the test ends.
func WorkDir(tb testing.TB) string {
	dir := tb.TempDir()
	tb.Cleanup(func() { StopSupervisor(tb, filepath.Join(dir, "supervisor")) })
	return dir
}

// StopSupervisor shuts down the supervisor serving dir, if any, which
// kills its tasks, and reaps it.
func StopSupervisor(tb testing.TB, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	defer cancel()
	c, err := supervise.Connect(ctx, dir)
	if err != nil {
		return // none running
	}
	pid := c.Info().PID
	if err := c.Shutdown(ctx); err != nil {
		tb.Errorf("supervisor shutdown: %v", err)
		unix.Kill(pid, unix.SIGKILL)
	}
	c.Close()
	Reap(tb, pid)
}

// Reap waits for pid to be gone, reaping it when it is the test's child.
func Reap(tb testing.TB, pid int) {
	deadline := time.Now().Add(Patience)
	for {
		wpid, err := unix.Wait4(pid, nil, unix.WNOHANG, nil)
		if wpid == pid || (errors.Is(err, unix.ECHILD) && !Alive(pid)) {
			return
		}
		if time.Now().After(deadline) {
			tb.Errorf("process %d did not end", pid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Alive reports whether pid is a live (not zombie) process.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}
