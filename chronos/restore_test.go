package chronos_test

import (
	"context"
	"testing"
	"time"

	"github.com/strata-dc/strata/chronos/core"
	"github.com/strata-dc/strata/coord"
)

// TestIntegration_RestoredLaunchNeverSent: a leader recorded a run as
// launched and died before its task reached the master. The next leader
// learns from reconciliation that the master does not know the task and
// sends it under the same task ID: the run happens once, as its first
// attempt, not as a retry.
func TestIntegration_RestoredLaunchNeverSent(t *testing.T) {
	c := startCluster(t)
	first, stopFirst := startChronos(t, c)
	waitFor(t, "first chronos leadership", first.Leading)
	a1 := api{t: t, base: first.URL()}
	a1.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "orphan", "command": "echo orphan",
		"schedule": "R/2099-01-01T00:00:00Z/P1D"})
	stopFirst()

	// What the dead leader left behind: the record, no task.
	u := c.coord.URL()
	u.Chroot += "/chronos"
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	sess, err := coord.Dial(ctx, coord.Config{URL: u, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	now := time.Now().UTC()
	run := &core.Run{ID: "orphan!run1000", Job: "orphan", Kind: core.KindManual, Seq: 1000, ScheduledAt: now,
		State: core.StateLaunched, LaunchedAt: now, TaskID: "ct:test-orphan"}
	if _, err := sess.Store().Put(ctx, "records/"+core.Record{Run: run}.Key(), core.Record{Run: run}); err != nil {
		t.Fatal(err)
	}

	second, _ := startChronos(t, c)
	waitFor(t, "second chronos leadership", second.Leading)
	a2 := api{t: t, base: second.URL()}
	waitFor(t, "the restored run to finish", func() bool { return a2.count("orphan", "succeeded") == 1 })
	runs := a2.history("orphan")
	if len(runs) != 1 || runs[0].ID != run.ID || runs[0].TaskID != run.TaskID || runs[0].Attempt != 0 {
		t.Fatalf("history %+v, want only %s as task %s", runs, run.ID, run.TaskID)
	}
	if out := sandboxFile(t, c.agentDir, run.TaskID, "stdout"); out != "orphan\n" {
		t.Errorf("stdout %q", out)
	}
}
