//go:build linux

package supervise

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
	"golang.org/x/sys/unix"
)

// waitForGo is a task that ends when the test creates the file "go" in
// its sandbox: the test decides when, without timing anything.
const waitForGo = `echo ready; while [ ! -e go ]; do sleep 0.02; done; `

// TestAgentRestart kills the agent with SIGKILL while its tasks run: they
// keep running, two of them end while no agent is there, and a new agent
// finds all three through the same supervisor, with the real exit status
// of the ended ones.
func TestAgentRestart(t *testing.T) {
	for _, iso := range []Isolation{IsolationPosix, IsolationCgroups} {
		t.Run(string(iso), func(t *testing.T) {
			if iso == IsolationCgroups {
				needCgroups(t)
			}
			f := newIdleFixture(t, iso)
			specs := []Spec{
				f.shell("long", `echo ready; while :; do sleep 0.05; done`),
				f.shell("later", waitForGo+`exit 7`),
				f.shell("signalled", waitForGo+`kill -USR1 $$`),
			}
			launched := runAgent(t, f, specs)
			for _, s := range specs {
				waitOutput(t, s, "ready")
			}
			var info Info
			if err := readJSON(filepath.Join(f.dir, infoName), &info); err != nil {
				t.Fatal(err)
			}
			for _, task := range launched {
				if !alive(task.PID) {
					t.Fatalf("task %s (pid %d) died with the agent", task.Spec.ID, task.PID)
				}
			}
			// Two tasks end while no agent is connected.
			released := time.Now()
			for _, s := range specs[1:] {
				if err := os.WriteFile(filepath.Join(s.Sandbox, "go"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range specs[1:] {
				status := filepath.Join(f.dir, runsDir, s.ID, statusName)
				if !waitFor(30*time.Second, func() bool { _, err := os.Stat(status); return err == nil }) {
					t.Fatalf("%s: no exit status written while the agent was down", s.ID)
				}
			}

			// The agent comes back.
			f.client = f.connect()
			if got := f.client.Info(); got.Spawned || got.PID != info.PID {
				t.Fatalf("reconnected to %+v, want the surviving supervisor %d", got, info.PID)
			}
			// The status files are on disk; the supervisor marks the
			// tasks exited once they are durable (a sync may still run).
			for _, s := range specs[1:] {
				waitExit(t, f.client, s.ID)
			}
			byID := map[string]Task{}
			for _, task := range f.client.Tasks() {
				byID[task.Spec.ID] = task
			}
			if long := byID["long"]; long.State != StateRunning || long.PID != launched[0].PID || !alive(long.PID) {
				t.Errorf("long: %+v, want still running as pid %d", long, launched[0].PID)
			}
			later := byID["later"]
			if later.State != StateExited || later.Exit.Code != 7 || later.Exit.Lost != "" {
				t.Errorf("later: %+v %+v, want exit 7", later, later.Exit)
			} else {
				if !later.Exit.StartedAt.Equal(launched[1].StartedAt) || later.Exit.EndedAt.Before(released) {
					t.Errorf("later: timestamps %v → %v; launched %v, released %v",
						later.Exit.StartedAt, later.Exit.EndedAt, launched[1].StartedAt, released)
				}
				if s, _ := later.Exit.TaskState(); s != mesos.TaskFailed {
					t.Errorf("later: state %s", s)
				}
			}
			if sig := byID["signalled"]; sig.State != StateExited || sig.Exit.Signal != syscall.SIGUSR1 {
				t.Errorf("signalled: %+v, want SIGUSR1", sig.Exit)
			}

			f.kill("long", time.Second)
			if got := waitExit(t, f.client, "long"); !got.Exit.Killed {
				t.Errorf("long: %+v", got.Exit)
			}
		})
	}
}

// runAgent runs the stand-in agent, which launches specs, and kills it
// with SIGKILL once they run.
func runAgent(t *testing.T, f *fixture, specs []Spec) []Task {
	t.Helper()
	file := filepath.Join(f.root, "specs.json")
	b, _ := json.Marshal(specs)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "agent-helper", f.dir, f.name, string(f.iso), file)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		t.Fatalf("agent: %v", err)
	}
	var tasks []Task
	if err := json.Unmarshal(line, &tasks); err != nil || len(tasks) != len(specs) {
		t.Fatalf("agent printed %q: %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	return tasks
}

// TestSupervisorDied kills the supervisor itself with SIGKILL. Its tasks
// can no longer be reaped by anyone who records their status, so the next
// supervisor kills what is left of them and reports them lost.
func TestSupervisorDied(t *testing.T) {
	for _, iso := range []Isolation{IsolationPosix, IsolationCgroups} {
		t.Run(string(iso), func(t *testing.T) {
			if iso == IsolationCgroups {
				needCgroups(t)
			}
			f := newFixture(t, iso)
			s := f.shell("orphan", `sleep 1000 & echo ready; wait`)
			task := f.launch(s)
			waitOutput(t, s, "ready")
			old := f.client.Info().PID
			unix.Kill(old, unix.SIGKILL)
			reap(t, old)
			<-f.client.Done()
			if err := f.client.Err(); !errors.Is(err, ErrClosed) {
				t.Errorf("Err() = %v after the supervisor died", err)
			}
			for range f.client.Events() {
				// drained: the channel closes once the connection is gone
			}
			if !alive(task.PID) {
				t.Fatalf("task died with its supervisor; the test proves nothing")
			}

			f.client = f.connect()
			if info := f.client.Info(); !info.Spawned || info.PID == old {
				t.Fatalf("connected to %+v, want a new supervisor", info)
			}
			got, _ := f.client.Task("orphan")
			if got.State != StateExited || got.Exit.Lost != LostSupervisor {
				t.Fatalf("orphan: %+v %+v, want lost", got, got.Exit)
			}
			if st, r := got.Exit.TaskState(); st != mesos.TaskLost || r != mesos.ReasonExecutorTerminated {
				t.Errorf("state %s %s", st, r)
			}
			// The orphaned leader was re-parented to the test (a subreaper):
			// reap it, which also proves it was killed.
			reap(t, task.PID)
			if !waitFor(10*time.Second, func() bool { return len(f.strays()) == 0 }) {
				t.Errorf("what was left of the task survived: %v", describeProcs(f.strays()))
			}
			for _, dir := range task.Cgroups {
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("cgroup %s of the lost task not removed", dir)
				}
			}
		})
	}
}

// TestRebootLosesTasks starts a supervisor on the state a previous boot
// left: a run that had ended keeps its real exit status, a run that was
// running is reported lost to the reboot.
func TestRebootLosesTasks(t *testing.T) {
	f := newIdleFixture(t, IsolationPosix)
	started := time.Now().Add(-time.Hour).Round(0)
	for _, r := range []struct {
		id   string
		exit *Exit
	}{{"was-running", nil}, {"had-ended", &Exit{Code: 4, StartedAt: started, EndedAt: started.Add(time.Minute)}}} {
		dir := filepath.Join(f.dir, runsDir, r.id)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		rec := Task{Spec: f.shell(r.id, "true"), State: StateRunning, PID: 1 << 30, BootID: "previous-boot", StartedAt: started}
		if err := writeJSONDurably(filepath.Join(dir, recordName), &rec); err != nil {
			t.Fatal(err)
		}
		if r.exit != nil {
			if err := writeJSONDurably(filepath.Join(dir, statusName), r.exit); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.client = f.connect()
	lost, _ := f.client.Task("was-running")
	if lost.Exit == nil || lost.Exit.Lost != LostReboot || !lost.Exit.StartedAt.Equal(started) {
		t.Fatalf("was-running: %+v", lost.Exit)
	}
	if st, r := lost.Exit.TaskState(); st != mesos.TaskLost || r != mesos.ReasonAgentRestarted {
		t.Errorf("state %s %s", st, r)
	}
	var onDisk Exit
	if err := readJSON(filepath.Join(f.dir, runsDir, "was-running", statusName), &onDisk); err != nil || onDisk.Lost != LostReboot {
		t.Errorf("status on disk: %+v %v", onDisk, err)
	}
	ended, _ := f.client.Task("had-ended")
	if ended.Exit == nil || ended.Exit.Code != 4 || ended.Exit.Lost != "" {
		t.Errorf("had-ended: %+v", ended.Exit)
	}
}

// TestShutdown stops the supervisor through its API: running tasks are
// killed with their grace, their statuses are durable, the process is
// gone, and the next supervisor reports the same statuses.
func TestShutdown(t *testing.T) {
	f := newFixture(t, IsolationPosix)
	s := f.shell("stubborn", stubborn)
	s.KillGrace = 200 * time.Millisecond
	task := f.launch(s)
	waitOutput(t, s, "ready")
	f.launch(f.shell("done", "exit 3"))
	waitExit(t, f.client, "done")
	old := f.client.Info().PID
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.client.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	reap(t, old)
	if alive(old) || alive(task.PID) {
		t.Fatalf("supervisor %d or task %d still alive after Shutdown", old, task.PID)
	}
	if _, err := os.Stat(filepath.Join(f.dir, sockName)); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	if _, err := f.client.Launch(ctx, f.shell("late", "true")); !errors.Is(err, ErrClosed) {
		t.Errorf("launch on a closed client: %v", err)
	}

	f.client = f.connect()
	if !f.client.Info().Spawned {
		t.Errorf("expected a new supervisor")
	}
	got, _ := f.client.Task("stubborn")
	if got.Exit == nil || !got.Exit.Killed || got.Exit.Signal != syscall.SIGKILL || got.Exit.Lost != "" {
		t.Errorf("stubborn: %+v", got.Exit)
	}
	if got, _ := f.client.Task("done"); got.Exit == nil || got.Exit.Code != 3 {
		t.Errorf("done: %+v", got.Exit)
	}
}

// TestStartRefusesAnotherConfiguration: an agent restarted with other
// isolation must not silently adopt tasks isolated differently.
func TestStartRefusesAnotherConfiguration(t *testing.T) {
	f := newFixture(t, IsolationPosix)
	o := f.options()
	o.Isolation = IsolationCgroups
	_, err := Start(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "--isolation=posix") {
		t.Fatalf("Start with other isolation: %v", err)
	}
}
