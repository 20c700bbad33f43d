//go:build linux

package supervise

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

func TestLaunchShellAndArgv(t *testing.T) {
	f := newFixture(t, IsolationPosix)

	sh := f.shell("shell", `echo "out $MESOS_TEST_VAR"; echo err >&2; pwd; exit 3`)
	sh.Env = append(sh.Env, "MESOS_TEST_VAR=hello world")
	task := f.launch(sh)
	if task.State != StateRunning || task.PID <= 1 {
		t.Fatalf("launched task: %+v", task)
	}
	got := waitExit(t, f.client, "shell")
	if got.Exit.Code != 3 || got.Exit.Signal != 0 {
		t.Fatalf("exit = %+v, want code 3", got.Exit)
	}
	if s, r := got.Exit.TaskState(); s != mesos.TaskFailed || r != "" {
		t.Errorf("TaskState = %s %s, want TASK_FAILED", s, r)
	}
	if got.Exit.Message != "Command exited with status 3" {
		t.Errorf("message %q", got.Exit.Message)
	}
	if out := readFile(t, filepath.Join(sh.Sandbox, "stdout")); out != "out hello world\n"+sh.Sandbox+"\n" {
		t.Errorf("stdout %q", out)
	}
	if errOut := readFile(t, filepath.Join(sh.Sandbox, "stderr")); errOut != "err\n" {
		t.Errorf("stderr %q", errOut)
	}

	// argv: no shell, so the argument with spaces and $ arrives intact,
	// and the program is found in the task's PATH.
	av := f.argv("argv", "printf", "printf", "%s|%s\n", "a $b  c", "d")
	f.launch(av)
	got = waitExit(t, f.client, "argv")
	if !got.Exit.Success() {
		t.Fatalf("exit = %+v", got.Exit)
	}
	if s, _ := got.Exit.TaskState(); s != mesos.TaskFinished {
		t.Errorf("TaskState = %s, want TASK_FINISHED", s)
	}
	if out := readFile(t, filepath.Join(av.Sandbox, "stdout")); out != "a $b  c|d\n" {
		t.Errorf("stdout %q", out)
	}
	if got.Exit.StartedAt.IsZero() || got.Exit.EndedAt.Before(got.Exit.StartedAt) {
		t.Errorf("timestamps %v → %v", got.Exit.StartedAt, got.Exit.EndedAt)
	}

	// The exit status is on disk, in the run's state directory.
	var onDisk Exit
	if err := readJSON(filepath.Join(f.dir, runsDir, "argv", statusName), &onDisk); err != nil || onDisk.Code != 0 {
		t.Errorf("status.json: %+v %v", onDisk, err)
	}
}

func TestExitStatuses(t *testing.T) {
	f := newFixture(t, IsolationPosix)
	cases := []struct {
		id, script string
		code       int
		sig        syscall.Signal
		state      mesos.TaskState
		msg        string
	}{
		{"zero", "exit 0", 0, 0, mesos.TaskFinished, "Command exited with status 0"},
		{"code", "exit 42", 42, 0, mesos.TaskFailed, "Command exited with status 42"},
		{"term", "kill -TERM $$", 0, syscall.SIGTERM, mesos.TaskFailed, "Command terminated with signal Terminated"},
		{"kill", "kill -KILL $$", 0, syscall.SIGKILL, mesos.TaskFailed, "Command terminated with signal Killed"},
		{"missing", "no-such-command-xyz", 127, 0, mesos.TaskFailed, "Command exited with status 127"},
	}
	for _, c := range cases {
		f.launch(f.shell(c.id, c.script))
	}
	for _, c := range cases {
		got := waitExit(t, f.client, c.id).Exit
		if got.Code != c.code || got.Signal != c.sig || got.Killed {
			t.Errorf("%s: exit %+v, want code %d signal %d", c.id, got, c.code, c.sig)
		}
		if s, _ := got.TaskState(); s != c.state {
			t.Errorf("%s: state %s, want %s", c.id, s, c.state)
		}
		if got.Message != c.msg {
			t.Errorf("%s: message %q, want %q", c.id, got.Message, c.msg)
		}
	}
}

func TestLaunchErrors(t *testing.T) {
	f := newFixture(t, IsolationPosix)
	ctx := context.Background()

	_, err := f.client.Launch(ctx, f.argv("nope", "/no/such/program", "x"))
	if !errors.Is(err, ErrLaunch) || !strings.Contains(err.Error(), "/no/such/program") {
		t.Errorf("missing program: %v", err)
	}
	_, err = f.client.Launch(ctx, f.argv("nope2", "no-such-program-xyz", "x"))
	if !errors.Is(err, ErrLaunch) || !strings.Contains(err.Error(), "not found in PATH") {
		t.Errorf("program not in PATH: %v", err)
	}
	bad := f.shell("bad/id", "true")
	if _, err = f.client.Launch(ctx, bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "id") {
		t.Errorf("bad id: %v", err)
	}
	u := f.shell("user", "true")
	u.User = "no-such-user-xyz"
	if _, err = f.client.Launch(ctx, u); !errors.Is(err, ErrLaunch) || !strings.Contains(err.Error(), "no-such-user-xyz") {
		t.Errorf("unknown user: %v", err)
	}

	f.launch(f.shell("dup", "sleep 100"))
	if _, err = f.client.Launch(ctx, f.shell("dup", "true")); !errors.Is(err, ErrTaskExists) {
		t.Errorf("duplicate: %v", err)
	}
	if err = f.client.Forget(ctx, "dup"); !errors.Is(err, ErrTaskRunning) {
		t.Errorf("forget running: %v", err)
	}
	if err = f.client.Kill(ctx, "ghost", 0); !errors.Is(err, ErrUnknownTask) {
		t.Errorf("kill unknown: %v", err)
	}
	f.kill("dup", 0)
	waitExit(t, f.client, "dup")
	if err = f.client.Forget(ctx, "dup"); err != nil {
		t.Fatalf("forget: %v", err)
	}
	if _, ok := f.client.Task("dup"); ok {
		t.Errorf("forgotten task still in the mirror")
	}
	if _, err := os.Stat(filepath.Join(f.dir, runsDir, "dup")); !os.IsNotExist(err) {
		t.Errorf("forgotten run's state dir: %v", err)
	}
	// A forgotten ID can be used again.
	f.launch(f.shell("dup", "exit 5"))
	if got := waitExit(t, f.client, "dup"); got.Exit.Code != 5 {
		t.Errorf("relaunch: %+v", got.Exit)
	}
	// Failed launches leave nothing behind.
	for _, id := range []string{"nope", "nope2", "user"} {
		if _, ok := f.client.Task(id); ok {
			t.Errorf("failed launch %s is remembered", id)
		}
		if _, err := os.Stat(filepath.Join(f.dir, runsDir, id)); !os.IsNotExist(err) {
			t.Errorf("failed launch %s left its state dir: %v", id, err)
		}
	}
}

func TestSwitchUser(t *testing.T) {
	needRoot(t)
	f := newFixture(t, IsolationPosix)
	s := f.shell("as-nobody", "id -u; id -g; id -G")
	s.User = "nobody"
	f.launch(s)
	if got := waitExit(t, f.client, "as-nobody"); !got.Exit.Success() {
		t.Fatalf("exit %+v", got.Exit)
	}
	out := strings.Fields(readFile(t, filepath.Join(s.Sandbox, "stdout")))
	if len(out) < 3 || out[0] != "65534" {
		t.Fatalf("id output %q, want uid 65534", out)
	}
	for _, g := range out[2:] {
		if g == "0" {
			t.Errorf("task kept root's group: %q", out)
		}
	}
	st, err := os.Stat(filepath.Join(s.Sandbox, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	if uid := st.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
		t.Errorf("stdout owned by uid %d, want 65534", uid)
	}
}

func TestEventsAndTasks(t *testing.T) {
	f := newFixture(t, IsolationPosix)
	f.launch(f.shell("ev", "exit 7"))
	var seen []State
	timeout := time.After(30 * time.Second)
	for len(seen) == 0 || seen[len(seen)-1] != StateExited {
		select {
		case ev := <-f.client.Events():
			if ev.Task.Spec.ID == "ev" {
				seen = append(seen, ev.Task.State)
			}
		case <-timeout:
			t.Fatalf("events so far %v", seen)
		}
	}
	if len(seen) != 2 || seen[0] != StateRunning {
		t.Errorf("events %v, want [running exited]", seen)
	}
	tasks := f.client.Tasks()
	if len(tasks) != 1 || tasks[0].Exit == nil || tasks[0].Exit.Code != 7 {
		t.Errorf("Tasks() = %+v", tasks)
	}
}
