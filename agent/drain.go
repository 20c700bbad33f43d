package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/strata-dc/strata/master/mesos"
)

// Draining, as Mesos' agent does it (1.9+). The master sends DRAIN when an
// operator drains this agent (DRAIN_AGENT), and again each time the agent
// subscribes while the drain lasts. The agent then
//
//   - checkpoints the drain's config (meta/drain.json), so that an agent
//     restarted mid-drain goes on draining;
//   - kills every task, each within the smaller of its own grace period and
//     the drain's max_grace_period (its own when the drain sets none);
//   - reports TASK_KILLING and TASK_KILLED with REASON_AGENT_DRAINING
//     (Mesos' REASON_SLAVE_DRAINING), and with mark_gone TASK_KILLED as
//     TASK_GONE_BY_OPERATOR to PARTITION_AWARE frameworks;
//   - answers RUN_TASK with TASK_DROPPED, REASON_AGENT_DRAINING;
//   - is done once it holds no task (every terminal update acknowledged),
//     when the checkpoint goes and the agent accepts tasks again (the
//     master offers none until the operator reactivates it).
//
// Everything here runs on the loop goroutine with a.mu held.

// drainFile is the checkpointed DrainConfig of a drain in progress,
// under the checkpoint directory (meta/).
const drainFile = "drain.json"

// drainState is the agent's drain, loaded from its checkpoint on first use.
type drainState struct {
	loaded   bool
	config   *mesos.DrainConfig // nil: not draining
	replayed bool               // the kills were issued by this process
}

func (a *Agent) drainPath() string { return filepath.Join(a.ck.dir, drainFile) }

// drainConfig returns the drain in progress, nil if none; the first call
// reads the checkpoint, which survives agent restarts.
func (a *Agent) drainConfig() *mesos.DrainConfig {
	if !a.drain.loaded {
		a.drain.loaded = true
		data, err := os.ReadFile(a.drainPath())
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			a.log.Error("read the drain checkpoint", "path", a.drainPath(), "err", err)
		default:
			var cfg mesos.DrainConfig
			if err := json.Unmarshal(data, &cfg); err != nil {
				a.log.Error("unreadable drain checkpoint: draining anyway, with the tasks' own grace periods",
					"path", a.drainPath(), "err", err)
			}
			a.drain.config = &cfg
		}
	}
	return a.drain.config
}

// onDrain handles DRAIN from the master.
func (a *Agent) onDrain(ctx context.Context, d *mesos.AgentDrain) {
	cfg := &mesos.DrainConfig{}
	if d != nil && d.Config != nil {
		cfg = d.Config
	}
	a.drainConfig() // load first, so a checkpoint read later cannot override cfg
	if len(a.tasks) == 0 {
		a.log.Info("DRAIN received with no task to kill: drained already")
		a.finishDrain()
		return
	}
	if err := writeJSONDurably(a.drainPath(), cfg); err != nil {
		// Draining goes on; only a restart in the middle forgets it, and
		// the master sends DRAIN again when the agent resubscribes.
		a.log.Error("checkpoint the drain", "err", err)
	}
	a.drain.config, a.drain.replayed = cfg, true
	a.log.Info("draining", "tasks", len(a.tasks), "max_grace_period", maxGraceString(cfg))
	a.killForDrain(ctx, cfg)
}

// resumeDrain goes on with a drain checkpointed by an earlier run of the
// agent (on SUBSCRIBED, when tasks have been recovered), or ends it if
// nothing is left.
func (a *Agent) resumeDrain(ctx context.Context) {
	cfg := a.drainConfig()
	if cfg == nil || a.checkDrained() || a.drain.replayed {
		return
	}
	a.drain.replayed = true
	a.log.Info("resuming the drain of an earlier run", "tasks", len(a.tasks), "max_grace_period", maxGraceString(cfg))
	a.killForDrain(ctx, cfg)
}

// killForDrain kills every live task within the drain's grace period.
func (a *Agent) killForDrain(ctx context.Context, cfg *mesos.DrainConfig) {
	for _, c := range slices.Sorted(maps.Keys(a.tasks)) {
		rec := a.tasks[c]
		if rec.State.IsTerminal() {
			continue
		}
		a.killTask(ctx, rec.FrameworkID, rec.Task.TaskID, cfg.KillPolicyFor(rec.Task.KillPolicy))
	}
}

// checkDrained ends the drain once the agent holds no task, and reports
// whether there is no drain left.
func (a *Agent) checkDrained() bool {
	if a.drainConfig() == nil {
		return true
	}
	if len(a.tasks) > 0 {
		return false
	}
	a.log.Info("agent finished draining")
	a.finishDrain()
	return true
}

// finishDrain removes the drain's checkpoint.
func (a *Agent) finishDrain() {
	if err := os.Remove(a.drainPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		a.log.Error("remove the drain checkpoint", "err", err)
	}
	a.drain = drainState{loaded: true}
}

// dropWhileDraining answers RUN_TASK with TASK_DROPPED while the agent
// drains, as Mesos does, and reports whether it did.
func (a *Agent) dropWhileDraining(fi *mesos.FrameworkInfo, ti *mesos.TaskInfo) bool {
	if a.checkDrained() {
		return false
	}
	a.rememberFramework(fi)
	if old := a.lookup(fi.ID, ti.TaskID); old != nil && !old.State.IsTerminal() {
		return true
	}
	a.log.Warn("task dropped: the agent is draining", "framework", fi.ID, "task", ti.TaskID)
	rec := &taskRecord{ContainerID: newContainerID(), FrameworkID: fi.ID, Task: *ti, State: mesos.TaskStaging}
	a.tasks[rec.ContainerID] = rec
	a.byTask[taskKey{fi.ID, ti.TaskID}] = rec.ContainerID
	a.update(rec, mesos.TaskDropped, mesos.SourceAgent, mesos.ReasonAgentDraining,
		"Task was received while agent was already draining")
	return true
}

// drainStatus adjusts an update sent while draining, as Mesos' agent
// does: TASK_KILLING and TASK_KILLED carry REASON_AGENT_DRAINING whatever
// their own reason, and with mark_gone TASK_KILLED is TASK_GONE_BY_OPERATOR
// for PARTITION_AWARE frameworks. (Mesos turns TASK_KILLING into
// TASK_GONE_BY_OPERATOR too, which would end a task that is still being
// killed; Strata keeps it TASK_KILLING.)
func (a *Agent) drainStatus(rec *taskRecord, state mesos.TaskState, reason mesos.TaskStatusReason) (mesos.TaskState, mesos.TaskStatusReason) {
	if state != mesos.TaskKilling && state != mesos.TaskKilled {
		return state, reason
	}
	cfg := a.drainConfig()
	if cfg == nil {
		return state, reason
	}
	if fi, ok := a.frameworks[rec.FrameworkID]; ok && state == mesos.TaskKilled && cfg.MarksGone() &&
		fi.HasCapability(mesos.FrameworkCapabilityPartitionAware) {
		state = mesos.TaskGoneByOperator
	}
	return state, mesos.ReasonAgentDraining
}

// Draining reports whether the agent is draining (it has a drain in
// progress and tasks left), and the drain's config.
func (a *Agent) Draining() (bool, *mesos.DrainConfig) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cfg := a.drainConfig()
	if cfg == nil || len(a.tasks) == 0 {
		return false, nil
	}
	return true, cfg
}

func maxGraceString(cfg *mesos.DrainConfig) string {
	if cfg == nil || cfg.MaxGracePeriod == nil {
		return "none (the tasks' own)"
	}
	return fmt.Sprint(cfg.MaxGracePeriod.Duration())
}
