//go:build linux

package supervise

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// waitOutput waits until the task's stdout contains s: the task says it
// is ready (a trap installed, children started) before the test acts.
func waitOutput(t testing.TB, spec Spec, s string) {
	t.Helper()
	path := filepath.Join(spec.Sandbox, "stdout")
	if !waitFor(30*time.Second, func() bool { return strings.Contains(readFileOr(path), s) }) {
		t.Fatalf("%s: stdout never contained %q: %q", spec.ID, s, readFileOr(path))
	}
}

func readFileOr(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// A loop whose every sleep is killed by the group-wide SIGTERM, while
// the shell itself survives it thanks to the trap.
const stubborn = `trap 'echo got-term' TERM; echo ready; while :; do sleep 0.05; done`

func TestKillGrace(t *testing.T) {
	f := newFixture(t, IsolationPosix)

	// A task that ignores SIGTERM is SIGKILLed once the grace is over.
	trap := f.shell("trap", stubborn)
	f.launch(trap)
	waitOutput(t, trap, "ready")
	const grace = 300 * time.Millisecond
	asked := time.Now()
	f.kill("trap", grace)
	got := waitExit(t, f.client, "trap")
	if got.Exit.Signal != syscall.SIGKILL || !got.Exit.Killed {
		t.Fatalf("exit %+v, want SIGKILL after a kill", got.Exit)
	}
	if s, _ := got.Exit.TaskState(); s != mesos.TaskKilled {
		t.Errorf("state %s, want TASK_KILLED", s)
	}
	if !strings.Contains(readFileOr(filepath.Join(trap.Sandbox, "stdout")), "got-term") {
		t.Errorf("the task never saw SIGTERM before SIGKILL")
	}
	if waited := got.Exit.EndedAt.Sub(asked); waited < grace {
		t.Errorf("SIGKILL came %v after the kill, before the %v grace", waited, grace)
	}

	// A task that exits on SIGTERM is not waited for: with an hour of
	// grace, this test only finishes because SIGTERM suffices.
	polite := f.shell("polite", `trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done`)
	f.launch(polite)
	waitOutput(t, polite, "ready")
	f.kill("polite", time.Hour)
	got = waitExit(t, f.client, "polite")
	if got.Exit.Signal != 0 || got.Exit.Code != 0 || !got.Exit.Killed {
		t.Fatalf("exit %+v, want exit 0 after a kill", got.Exit)
	}
	if s, _ := got.Exit.TaskState(); s != mesos.TaskKilled {
		t.Errorf("state %s, want TASK_KILLED", s)
	}

	// Killing again shortens the grace.
	again := f.shell("again", stubborn)
	f.launch(again)
	waitOutput(t, again, "ready")
	f.kill("again", time.Hour)
	f.kill("again", 0)
	if got = waitExit(t, f.client, "again"); got.Exit.Signal != syscall.SIGKILL {
		t.Fatalf("exit %+v, want SIGKILL", got.Exit)
	}
	// Killing an exited task is a no-op.
	f.kill("again", 0)
}

func TestKillLeavesNoStraysPosix(t *testing.T) {
	f := newFixture(t, IsolationPosix)
	// Children in the task's group, a grandchild in its own session
	// (found as a descendant while its parent lives), one in a new
	// process group, and a daemon that double-forked into a new session
	// and lost its parent (found by its STRATA_CONTAINER_ID).
	tree := f.shell("tree", `
		sleep 1000 &
		sh -c 'setsid sleep 1000 & wait' &
		perl -e 'setpgrp(0,0); sleep 1000' &
		sh -c 'setsid sleep 1000 & exit 0'
		echo ready
		wait`)
	task := f.launch(tree)
	waitOutput(t, tree, "ready")
	if !waitFor(30*time.Second, func() bool { return len(f.strays()) >= 6 }) {
		t.Fatalf("task tree never grew: %v", f.strays())
	}
	f.kill("tree", 5*time.Second)
	got := waitExit(t, f.client, "tree")
	if !got.Exit.Killed {
		t.Errorf("exit %+v", got.Exit)
	}
	if s := f.strays(); len(s) > 0 {
		t.Errorf("processes of task %d survived its kill: %v", task.PID, describeProcs(s))
	}

	// When the leader exits on its own, what it left behind is killed too.
	bg := f.shell("bg", `sleep 1000 & echo ready; read x`)
	f.launch(bg)
	waitOutput(t, bg, "ready")
	// stdin is /dev/null: read returns at once and the leader exits with
	// sleep still running.
	got = waitExit(t, f.client, "bg")
	if got.Exit.Killed {
		t.Errorf("exit %+v: not killed, it exited", got.Exit)
	}
	if !waitFor(10*time.Second, func() bool { return len(f.strays()) == 0 }) {
		t.Errorf("background child of an exited task survived: %v", f.strays())
	}
}
