//go:build linux

package supervise

import (
	"context"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// TestOrphansKilledAfterRecoveryTimeout: the agent set a recovery
// timeout and went away for good; the supervisor kills its tasks once
// nobody has watched them for that long, and a client that comes back
// finds them failed with the reason.
func TestOrphansKilledAfterRecoveryTimeout(t *testing.T) {
	f := newFixture(t, IsolationPosix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.client.KillOrphansAfter(ctx, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	task := f.launch(f.shell("orphan", "exec sleep 600"))
	f.client.Close() // the agent is gone

	// Nobody watches; the task must die by itself within the timeout
	// plus the supervisor's check interval (waited for, not timed).
	if !waitFor(30*time.Second, func() bool { return !alive(task.PID) }) {
		t.Fatalf("task pid %d still alive long after the recovery timeout", task.PID)
	}
	c := f.connect()
	got := waitExit(t, c, "orphan")
	if !got.Exit.Expired || !got.Exit.Killed {
		t.Fatalf("exit = %+v, want expired and killed", got.Exit)
	}
	if st, reason := got.Exit.TaskState(); st != mesos.TaskFailed || reason != mesos.ReasonExecutorReregistrationTimeout {
		t.Fatalf("TaskState = %s %s, want TASK_FAILED REASON_EXECUTOR_REREGISTRATION_TIMEOUT", st, reason)
	}
}

// TestWatchedTasksOutliveRecoveryTimeout: while a client watches, and
// when it comes back in time, nothing is killed.
func TestWatchedTasksOutliveRecoveryTimeout(t *testing.T) {
	f := newFixture(t, IsolationPosix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.client.KillOrphansAfter(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	task := f.launch(f.shell("kept", "exec sleep 600"))
	// Watched for longer than the timeout: nothing happens.
	time.Sleep(2500 * time.Millisecond)
	if !alive(task.PID) {
		t.Fatal("a watched task was killed")
	}
	// Away briefly, back in time: still nothing.
	f.client.Close()
	time.Sleep(500 * time.Millisecond)
	c := f.connect()
	time.Sleep(2500 * time.Millisecond)
	if got, _ := c.Task("kept"); got.State != StateRunning || !alive(task.PID) {
		t.Fatalf("task after a short absence: %+v", got)
	}
}
