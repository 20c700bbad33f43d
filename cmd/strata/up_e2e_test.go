package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/client/sshtest"
	"github.com/strata-dc/strata/master/mesos"
)

// buildStrata builds the real binary into a temp dir.
func buildStrata(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "strata")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// upProc is a running `strata up`.
type upProc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string // the summary, then what it prints later (--demo)
	stderr *lockedBuf
}

// output is everything `strata up` printed so far.
func (p *upProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// startUp runs `strata up` (with extra flags) in dir and waits for its
// summary.
func startUp(t *testing.T, bin, dir string, extra ...string) *upProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"up", "--agents", "2"}, extra...)...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &upProc{cmd: cmd, stderr: &lockedBuf{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGINT)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}
	})
	ready := make(chan error, 1)
	go func() { // ends at stdout's EOF
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			if !sent && strings.HasPrefix(sc.Text(), "Ctrl-C stops") {
				ready <- nil
				sent = true
			}
		}
		if !sent {
			ready <- sc.Err()
		}
	}()
	select {
	case <-ready:
	case <-time.After(2 * time.Minute):
		t.Fatalf("strata up printed no summary; stderr:\n%s", p.stderr)
	}
	if p.output() == "" {
		t.Fatalf("strata up ended early; stderr:\n%s", p.stderr)
	}
	return p
}

// field returns the address on the summary line that starts with name.
func (p *upProc) field(t *testing.T, name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == name {
			return f[1]
		}
	}
	t.Fatalf("no %q line in:\n%s", name, strings.Join(p.lines, "\n"))
	return ""
}

// stop sends SIGINT and waits for a clean exit.
func (p *upProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("strata up after SIGINT: %v\n%s", err, p.stderr)
		}
	case <-time.After(90 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatalf("strata up did not stop after SIGINT\n%s", p.stderr)
	}
}

func run(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "STRATA_MASTER=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("strata %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// agentIDs reads `agents ls -o json`, waiting until n agents are there.
func agentIDs(t *testing.T, bin, dir string, n int, extra ...string) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := run(t, bin, dir, append([]string{"agents", "ls", "-o", "json"}, extra...)...)
		var resp struct {
			GetAgents struct {
				Agents []struct {
					AgentInfo struct {
						ID struct{ Value string } `json:"id"`
					} `json:"agent_info"`
					Active bool `json:"active"`
				} `json:"agents"`
			} `json:"get_agents"`
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("agents ls -o json: %v\n%s", err, out)
		}
		var ids []string
		for _, a := range resp.GetAgents.Agents {
			if a.Active {
				ids = append(ids, a.AgentInfo.ID.Value)
			}
		}
		if len(ids) == n {
			slices.Sort(ids)
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d active agents, have %v", n, ids)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// processesUnder lists live processes whose command line or working
// directory is in dir: the agents' supervisors and their tasks (which run
// in sandboxes under the data dir).
func processesUnder(dir string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cl := strings.ReplaceAll(string(b), "\x00", " ")
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if strings.Contains(cl, dir) || strings.HasPrefix(cwd, dir) {
			out = append(out, e.Name()+": "+cl)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// launchTask subscribes a framework "e2e" at master, launches one command
// task on the first offer and returns its ID once it runs. The framework
// disconnects when the test ends (its task keeps running until the
// cluster stops).
func launchTask(t *testing.T, master, command string) string {
	t.Helper()
	return launchTaskAs(t, client.Options{Master: master}, "e2e", "e2e-task-1", command)
}

// launchTaskAs is launchTask for a framework named name reaching the
// master with opts (a token, say), launching task id.
func launchTaskAs(t *testing.T, opts client.Options, name, id, command string) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s, err := client.NewScheduler(client.SchedulerConfig{
		Options:   opts,
		Framework: &mesos.FrameworkInfo{User: u.Username, Name: name},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-runDone; s.Close() })
	deadline := time.After(60 * time.Second)
	launched := false
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				t.Fatal("scheduler events closed")
			}
			switch ev.Type {
			case mesos.EventOffers:
				if launched || len(ev.Offers.Offers) == 0 {
					continue
				}
				o := ev.Offers.Offers[0]
				ti := mesos.TaskInfo{Name: name, TaskID: mesos.TaskID(id), AgentID: o.AgentID,
					Resources: mesos.MustParseResources("cpus:0.1;mem:32"),
					Command:   &mesos.CommandInfo{Value: command}}
				if err := s.Launch(ctx, []mesos.OfferID{o.ID}, []mesos.TaskInfo{ti}, nil); err != nil {
					t.Fatalf("launch: %v", err)
				}
				launched = true
			case mesos.EventUpdate:
				st := ev.Update.Status
				_ = s.Acknowledge(ctx, st)
				if st.State == mesos.TaskRunning {
					return id
				}
				if st.State.IsTerminal() {
					t.Fatalf("task ended: %s %s %s", st.State, st.Reason, st.Message)
				}
			}
		case <-deadline:
			t.Fatal("the task did not start")
		}
	}
}

// firstEvent runs `strata events -o json` and checks the stream starts
// with SUBSCRIBED, then stops it with SIGINT.
func firstEvent(t *testing.T, bin, dir string) {
	t.Helper()
	cmd := exec.Command(bin, "events", "-o", "json")
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan string, 1)
	go func() { // ends when the process's stdout closes
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			select {
			case first <- sc.Text():
			default:
			}
		}
		close(first)
	}()
	select {
	case l := <-first:
		var ev struct{ Type string }
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Type != "SUBSCRIBED" {
			t.Errorf("first event: %v %.200s", err, l)
		}
	case <-time.After(30 * time.Second):
		t.Error("events printed nothing in 30s")
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	for range first {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("events after SIGINT: %v", err)
	}
}

// followLogs runs `strata logs -f` and checks it prints lines written
// after it started, then stops it with SIGINT.
func followLogs(t *testing.T, bin, dir, task string) {
	t.Helper()
	cmd := exec.Command(bin, "logs", "-f", "--tail", "0", task)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() { // ends when the process's stdout closes
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	got := 0
	timeout := time.After(30 * time.Second)
	for got < 3 {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "line ") {
				got++
			}
		case <-timeout:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("logs -f printed %d new lines in 30s", got)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("logs -f after SIGINT: %v", err)
	}
}

func TestIntegration_Up(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a whole cluster")
	}
	bin := buildStrata(t)
	dir, err := os.MkdirTemp("", "strata-up")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	up := startUp(t, bin, dir)
	master, coordURL := up.field(t, "master"), up.field(t, "coord")
	tok, err := os.Stat(filepath.Join(dir, ".strata", "token"))
	if err != nil || tok.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v", err, tok)
	}

	// Default discovery (./.strata/master.sock), then zk:// and http://.
	ids := agentIDs(t, bin, dir, 2)
	if got := agentIDs(t, bin, dir, 2, "--master", coordURL); !slices.Equal(got, ids) {
		t.Errorf("over zk://: agents %v, want %v", got, ids)
	}
	if got := agentIDs(t, bin, dir, 2, "--master", master); !slices.Equal(got, ids) {
		t.Errorf("over http://: agents %v, want %v", got, ids)
	}
	for _, m := range []string{"", coordURL, master} {
		args := []string{"status"}
		if m != "" {
			args = append(args, "--master", m)
		}
		if out := run(t, bin, dir, args...); !strings.Contains(out, "Agents:      2 (2 active)") {
			t.Errorf("strata %v:\n%s", args, out)
		}
		out := run(t, bin, dir, append([]string{"tasks", "ls", "-o", "json"}, args[1:]...)...)
		var resp map[string]any
		if err := json.Unmarshal([]byte(out), &resp); err != nil || resp["type"] != "GET_TASKS" {
			t.Errorf("tasks ls -o json: %v\n%s", err, out)
		}
	}
	if out := run(t, bin, dir, "agents", "ls"); !strings.Contains(out, ids[0]) || !strings.HasPrefix(out, "ID ") {
		t.Errorf("agents ls:\n%s", out)
	}

	// Coord browsing finds the cluster's coord from ./.strata by default.
	if out := run(t, bin, dir, "coord", "ls", "/strata/master"); !strings.Contains(out, "leader") {
		t.Errorf("coord ls /strata/master:\n%s", out)
	}
	// Writes: a quota and a weight, read back.
	run(t, bin, dir, "quota", "set", "dev", "--cpus", "0.5", "--mem", "64MiB")
	run(t, bin, dir, "weights", "set", "dev=2")
	if out := run(t, bin, dir, "roles", "ls", "-o", "wide"); !strings.Contains(out, "cpus:0.5;mem:64MiB") {
		t.Errorf("roles ls -o wide after quota set:\n%s", out)
	}
	run(t, bin, dir, "quota", "rm", "dev")
	if out := run(t, bin, dir, "quota", "ls"); strings.Contains(out, "dev") {
		t.Errorf("quota ls after rm:\n%s", out)
	}
	firstEvent(t, bin, dir)

	// Drain an agent (by an ID suffix, as operators copy it) and bring it back.
	short := ids[1][strings.LastIndex(ids[1], "-")+1:]
	var watched lockedBuf
	watcher := exec.Command(bin, "agents", "ls", "--watch")
	watcher.Dir, watcher.Stdout = dir, &watched
	if err := watcher.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first drawing of agents ls --watch", func() bool { return strings.Contains(watched.String(), ids[1]) })
	run(t, bin, dir, "agents", "drain", short)
	waitFor(t, "agents ls --watch to redraw after the drain", func() bool { return strings.Contains(watched.String(), "drain") })
	_ = watcher.Process.Signal(syscall.SIGINT)
	if err := watcher.Wait(); err != nil {
		t.Errorf("agents ls --watch after SIGINT: %v", err)
	}
	if out := run(t, bin, dir, "agents", "show", ids[1]); !strings.Contains(out, "drain") {
		t.Errorf("agents show after drain:\n%s", out)
	}
	run(t, bin, dir, "agents", "reactivate", short)
	agentIDs(t, bin, dir, 2)

	// The token in ./.strata/token is the master's operator token: a wrong
	// one is refused with the server's message on one line, exit 1.
	bad := exec.Command(bin, "status", "--master", master)
	bad.Dir = dir
	bad.Env = append(os.Environ(), "STRATA_TOKEN=wrong")
	out, err := bad.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "401") {
		t.Errorf("status with a wrong token: %v\n%s", err, out)
	}

	// A framework runs a task; the CLI sees it and reads its output.
	task := launchTask(t, master, "i=0; echo hello-from-task; while true; do echo line $i; i=$((i+1)); sleep 0.1; done")
	// Reads come from the master's published snapshot, which may be a
	// tick behind the update the framework just got.
	waitFor(t, "tasks ls to show the task running", func() bool {
		out := run(t, bin, dir, "tasks", "ls")
		return strings.Contains(out, task) && strings.Contains(out, "running")
	})
	if out := run(t, bin, dir, "frameworks", "ls"); !strings.Contains(out, "e2e") {
		t.Errorf("frameworks ls:\n%s", out)
	}
	waitFor(t, "the task's output", func() bool { return strings.Contains(run(t, bin, dir, "logs", task), "line 2") })
	if out := run(t, bin, dir, "logs", task); !strings.HasPrefix(out, "hello-from-task\nline 0\n") {
		t.Errorf("logs:\n%.200s", out)
	}
	if out := run(t, bin, dir, "logs", task, "--tail", "1"); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "line ") {
		t.Errorf("logs --tail 1: %q", out)
	}
	followLogs(t, bin, dir, task)

	// Over ssh:// through a real sshd, as from another machine.
	t.Run("ssh", func(t *testing.T) {
		sshd := sshtest.Start(t)
		remote := fmt.Sprintf("ssh://%s@127.0.0.1:%d%s", sshd.User, sshd.Port, filepath.Join(dir, ".strata", "master.sock"))
		t.Setenv("STRATA_SSH_OPTS", sshd.Opts)
		t.Setenv("STRATA_SSH_STRATA", bin)
		other := t.TempDir() // no ./.strata here: only ssh can reach the cluster
		if got := agentIDs(t, bin, other, 2, "--master", remote); !slices.Equal(got, ids) {
			t.Errorf("over ssh://: agents %v, want %v", got, ids)
		}
		if out := run(t, bin, other, "logs", task, "--tail", "1", "--master", remote); !strings.HasPrefix(out, "line ") {
			t.Errorf("logs over ssh:// (the agent dialled on the far side): %q", out)
		}
	})

	if len(processesUnder(dir)) < 3 { // two supervisors and the task
		t.Errorf("cannot see the cluster's processes, so the leak check below would be blind: %q", processesUnder(dir))
	}
	up.stop(t)
	for _, sock := range []string{".strata/master.sock", ".strata/agents/0/agent.sock", ".strata/agents/1/agent.sock"} {
		if _, err := os.Stat(filepath.Join(dir, sock)); err == nil {
			t.Errorf("%s left behind", sock)
		}
	}
	if left := processesUnder(dir); len(left) > 0 {
		t.Errorf("processes left running:\n%s", strings.Join(left, "\n"))
	}

	// The same data dir is the same cluster.
	up2 := startUp(t, bin, dir)
	if got := agentIDs(t, bin, dir, 2); !slices.Equal(got, ids) {
		t.Errorf("after a restart: agents %v, want %v", got, ids)
	}
	up2.stop(t)
	if left := processesUnder(dir); len(left) > 0 {
		t.Errorf("processes left running after the second stop:\n%s", strings.Join(left, "\n"))
	}
}

// lockedBuf is a bytes.Buffer a child process writes while the test reads.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
