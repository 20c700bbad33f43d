//go:build linux

package supervise

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// init pins the main goroutine to the main thread, so that the
// fork-on-main-thread helper below runs there, as the supervisor may.
func init() { runtime.LockOSThread() }

// The test binary doubles as the supervisor command and as a tiny agent,
// chosen by its first argument, so tests run the real process tree:
// test → (agent) → detached supervisor → tasks.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "supervise-helper":
			os.Exit(supervisorMain(os.Args[2:]))
		case "agent-helper":
			os.Exit(agentMain(os.Args[2:]))
		case "fork-on-main-thread":
			os.Exit(forkOnMainThreadMain(os.Args[2:]))
		}
	}
	// Detached supervisors are re-parented to the nearest subreaper. PID 1
	// of a container may never reap them; being the subreaper, the test
	// reaps each one it stops, by PID.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// supervisorMain is what cmd/strata's agent-supervisor command does.
func supervisorMain(args []string) int {
	fs := flag.NewFlagSet("supervisor", flag.ContinueOnError)
	var cfg Config
	var iso string
	fs.StringVar(&cfg.Dir, "dir", "", "")
	fs.StringVar(&cfg.Name, "name", "", "")
	fs.StringVar(&iso, "isolation", "posix", "")
	fs.BoolVar(&cfg.Detach, "detach", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.Isolation = Isolation(iso)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := Run(ctx, cfg); err != nil && !errors.Is(err, ErrAlreadyRunning) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// agentMain is a stand-in agent: it starts (or reconnects to) the
// supervisor, launches the specs in the JSON file it is given, prints the
// launched tasks as one JSON line, and then waits to be killed.
func agentMain(args []string) int {
	if len(args) != 4 {
		fmt.Fprintln(os.Stderr, "agent-helper DIR NAME ISOLATION SPECS.json")
		return 2
	}
	var specs []Spec
	b, err := os.ReadFile(args[3])
	if err == nil {
		err = json.Unmarshal(b, &specs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	exe, _ := os.Executable()
	ctx := context.Background()
	c, err := Start(ctx, Options{Dir: args[0], Name: args[1], Isolation: Isolation(args[2]), Command: []string{exe, "supervise-helper"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var out []Task
	for _, s := range specs {
		t, err := c.Launch(ctx, s)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		out = append(out, t)
	}
	json.NewEncoder(os.Stdout).Encode(out)
	select {}
}

// fixture is one supervisor for one test, stopped and cleaned up after.
type fixture struct {
	t      testing.TB
	root   string // sandboxes live under root/work
	dir    string // the supervisor's directory
	name   string
	iso    Isolation
	mark   string // STRATA_TEST_MARK of every task: finds strays
	client *Client
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// newFixture starts a supervisor for the test and connects to it.
func newFixture(t testing.TB, iso Isolation) *fixture {
	t.Helper()
	f := newIdleFixture(t, iso)
	f.client = f.connect()
	return f
}

// newIdleFixture prepares the directories and the cleanup but starts
// nothing, for tests that start the supervisor some other way.
func newIdleFixture(t testing.TB, iso Isolation) *fixture {
	t.Helper()
	root := t.TempDir()
	name := nonName.ReplaceAllString(t.Name(), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("test-%s-%d", strings.Trim(name, "-"), os.Getpid())
	// t.TempDir is 0700; tasks running as another user must reach their
	// sandboxes, as they must under an agent's work dir.
	for d := root; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	f := &fixture{t: t, root: root, dir: filepath.Join(root, "sv"), name: name, iso: iso, mark: name}
	t.Cleanup(f.cleanup)
	return f
}

func (f *fixture) options() Options {
	exe, err := os.Executable()
	if err != nil {
		f.t.Fatal(err)
	}
	return Options{Dir: f.dir, Name: f.name, Isolation: f.iso, Command: []string{exe, "supervise-helper"}}
}

// connect starts the supervisor or reconnects to it.
func (f *fixture) connect() *Client {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Start(ctx, f.options())
	if err != nil {
		f.t.Fatalf("Start: %v", err)
	}
	f.t.Cleanup(func() { c.Close() })
	return c
}

// cleanup stops the supervisor (by asking, then by PID), reaps it, kills
// and reports strays, and removes the test's cgroups.
func (f *fixture) cleanup() {
	t := f.t
	pid := 0
	var info Info
	if readJSON(filepath.Join(f.dir, infoName), &info) == nil {
		pid = info.PID
	}
	if c, err := Connect(context.Background(), f.dir); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := c.Shutdown(ctx); err != nil {
			t.Errorf("cleanup: shutdown: %v", err)
		}
		cancel()
		c.Close()
	}
	if pid > 0 {
		unix.Kill(pid, unix.SIGKILL)
		reap(t, pid)
	}
	if strays := f.strays(); len(strays) > 0 {
		t.Errorf("cleanup: stray processes of this test: %v", describeProcs(strays))
		for _, p := range strays {
			unix.Kill(p, unix.SIGKILL)
			reap(t, p)
		}
	}
	removeTestCgroups(t, "strata-"+f.name)
	reapZombieChildren()
}

// reapZombieChildren reaps the test's own dead children: a task whose
// supervisor was killed is re-parented to the test, a subreaper. Only
// zombies are reaped, so no live child's exec.Cmd loses its status.
func reapZombieChildren() {
	procs, _ := listProcs()
	for _, p := range procs {
		if p.ppid == os.Getpid() && p.state == 'Z' {
			unix.Wait4(p.pid, nil, unix.WNOHANG, nil)
		}
	}
}

// reap waits for pid to be gone: by wait4 when it is our child (we are a
// subreaper), by polling /proc otherwise.
func reap(t testing.TB, pid int) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		wpid, err := unix.Wait4(pid, nil, unix.WNOHANG, nil)
		if wpid == pid {
			return
		}
		if errors.Is(err, unix.ECHILD) {
			st, err := readStat(pid)
			if err != nil || st.state == 'Z' {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("process %d did not die", pid)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// strays lists live processes that carry this test's mark.
func (f *fixture) strays() []int {
	return processesWithEnv("STRATA_TEST_MARK=" + f.mark)
}

func processesWithEnv(kv string) []int {
	procs, _ := listProcs()
	var out []int
	for _, p := range procs {
		if p.state == 'Z' || p.pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/environ")
		if err != nil {
			continue
		}
		if slices.ContainsFunc(bytes.Split(env, []byte{0}), func(b []byte) bool { return string(b) == kv }) {
			out = append(out, p.pid)
		}
	}
	return out
}

// removeTestCgroups removes strata-<name> and its children in every
// hierarchy, killing anything left in them.
func removeTestCgroups(t testing.TB, root string) {
	mounts, err := cgroupMounts("/proc/self/mountinfo")
	if err != nil {
		return
	}
	cg := &cgroups{self: os.Getpid()}
	for _, mnt := range mounts {
		dir := filepath.Join(mnt, root)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() {
				t.Errorf("cleanup: cgroup %s/%s left behind", dir, e.Name())
				p := map[string]string{"": filepath.Join(dir, e.Name())}
				cg.killAll(p, 5*time.Second)
				cg.remove(p)
			}
		}
		if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
			t.Errorf("cleanup: remove cgroup %s: %v", dir, err)
		}
	}
}

// shell is a spec that runs script with /bin/sh -c.
func (f *fixture) shell(id, script string) Spec {
	return f.argv(id, "/bin/sh", "sh", "-c", script)
}

func (f *fixture) argv(id, path string, args ...string) Spec {
	return Spec{
		ID:        id,
		Sandbox:   filepath.Join(f.root, "work", "runs", id),
		Path:      path,
		Args:      args,
		Env:       []string{"PATH=" + DefaultPath, "STRATA_TEST_MARK=" + f.mark},
		KillGrace: time.Second,
	}
}

func (f *fixture) launch(s Spec) Task {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t, err := f.client.Launch(ctx, s)
	if err != nil {
		f.t.Fatalf("Launch %s: %v", s.ID, err)
	}
	return t
}

func (f *fixture) kill(id string, grace time.Duration) {
	f.t.Helper()
	if err := f.client.Kill(context.Background(), id, grace); err != nil {
		f.t.Fatalf("Kill %s: %v", id, err)
	}
}

// waitExit polls the client's mirror until the task has exited.
func waitExit(t testing.TB, c *Client, id string) Task {
	t.Helper()
	var last Task
	ok := waitFor(30*time.Second, func() bool {
		last, _ = c.Task(id)
		return last.State == StateExited
	})
	if !ok {
		t.Fatalf("task %s did not exit: %+v", id, last)
	}
	return last
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 20*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	st, err := readStat(pid)
	return err == nil && st.state != 'Z'
}

// needRoot skips tests that need to switch users.
func needRoot(t testing.TB) {
	if os.Geteuid() != 0 {
		t.Skipf("needs root (running as uid %d)", os.Geteuid())
	}
}

// needCgroups skips tests that need writable cgroup v1 controllers.
func needCgroups(t testing.TB) {
	t.Helper()
	needRoot(t)
	mounts, err := cgroupMounts("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("cannot read mounts: %v", err)
	}
	for _, c := range requiredControllers {
		mnt, ok := mounts[c]
		if !ok {
			t.Skipf("no cgroup v1 %q controller is mounted read-write on this machine", c)
		}
		if unix.Access(mnt, unix.W_OK) != nil {
			t.Skipf("cgroup v1 %q hierarchy at %s is not writable", c, mnt)
		}
	}
}

// describeProcs names processes for failure messages.
func describeProcs(pids []int) []string {
	var out []string
	for _, pid := range pids {
		cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		st, _ := readStat(pid)
		out = append(out, fmt.Sprintf("%d(ppid %d pgrp %d sid %d %q)", pid, st.ppid, st.pgrp, st.session,
			strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " ")))
	}
	return out
}
