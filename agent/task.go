package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/mesos"
)

// Everything in this file runs on the loop goroutine with a.mu held.

// supervisorTimeout bounds one call to the supervisor.
const supervisorTimeout = 30 * time.Second

// executorID is the command executor's ID: the task's, as in Mesos.
func executorID(t *taskRecord) mesos.ExecutorID { return mesos.ExecutorID(t.Task.TaskID) }

func (a *Agent) lookup(fw mesos.FrameworkID, id mesos.TaskID) *taskRecord {
	c, ok := a.byTask[taskKey{fw, id}]
	if !ok {
		return nil
	}
	return a.tasks[c]
}

func (a *Agent) rememberFramework(fi *mesos.FrameworkInfo) {
	if fi == nil || fi.ID == "" {
		return
	}
	if old, ok := a.frameworks[fi.ID]; ok && equalJSON(old, *fi) {
		return
	}
	a.frameworks[fi.ID] = *fi
	a.saveAgentLocked()
}

// runTask launches a task: TASK_STARTING once its record is durable,
// TASK_RUNNING once the supervisor runs it, a terminal state when it
// ends (onSupervisorEvent). The supervisor's part runs off the loop, so
// the launches of a burst of RUN_TASKs overlap (launched finishes it).
func (a *Agent) runTask(ctx context.Context, fi *mesos.FrameworkInfo, ti *mesos.TaskInfo) {
	a.rememberFramework(fi)
	fw := fi.ID
	if old := a.lookup(fw, ti.TaskID); old != nil {
		if !old.State.IsTerminal() {
			a.log.Warn("RUN_TASK for a task that is already running ignored", "framework", fw, "task", ti.TaskID)
			return
		}
		// A task ID reused after its end: the old record goes.
		a.dropTask(ctx, old)
	}
	rec := &taskRecord{ContainerID: newContainerID(), FrameworkID: fw, Task: *ti, State: mesos.TaskStaging}
	a.tasks[rec.ContainerID] = rec
	a.byTask[taskKey{fw, ti.TaskID}] = rec.ContainerID
	spec, err := supervise.NewSpec(supervise.Launch{WorkDir: a.cfg.WorkDir, AgentID: a.id, FrameworkID: fw,
		ContainerID: rec.ContainerID, Task: *ti, Hostname: a.cfg.Hostname, FrameworkUser: fi.User,
		SwitchUser: a.cfg.SwitchUser})
	if err == nil {
		err = validateHealthCheck(ti.HealthCheck)
	}
	if err != nil {
		a.update(rec, mesos.TaskError, mesos.SourceAgent, mesos.ReasonTaskInvalid, err.Error())
		return
	}
	if err := a.refuseRoot(spec); err != nil { // auth.go
		a.update(rec, mesos.TaskError, mesos.SourceAgent, mesos.ReasonTaskUnauthorized, err.Error())
		return
	}
	a.update(rec, mesos.TaskStarting, mesos.SourceExecutor, "", "")
	if a.sup == nil {
		a.update(rec, mesos.TaskFailed, mesos.SourceAgent, mesos.ReasonContainerLaunchFailed,
			"the agent has no connection to its task supervisor")
		return
	}
	// The supervisor hears of the task once its record is durable: a
	// crash never leaves a running task without one.
	sup := a.sup
	a.whenDurable(func() { a.launch(ctx, sup, rec, spec) })
}

// launch hands a task to the supervisor off the loop, unless it was
// killed while its record was being synced. Called with a.mu held.
func (a *Agent) launch(ctx context.Context, sup *supervise.Client, rec *taskRecord, spec supervise.Spec) {
	if rec.State.IsTerminal() || a.tasks[rec.ContainerID] != rec {
		return
	}
	a.launches.Go(func() {
		lctx, cancel := context.WithTimeout(ctx, supervisorTimeout)
		_, err := sup.Launch(lctx, spec)
		cancel()
		select {
		case a.inbox <- func() { a.launched(ctx, rec, err) }:
		case <-ctx.Done():
			// The agent is stopping; the next one reconciles the task
			// with what the supervisor knows.
		}
	})
}

// launched finishes runTask on the loop once the supervisor answered.
func (a *Agent) launched(ctx context.Context, rec *taskRecord, err error) {
	if err == nil && rec.Launched {
		return // its exit arrived first and was reported (exited)
	}
	if err != nil {
		if a.tasks[rec.ContainerID] != rec || rec.State.IsTerminal() {
			return // killed or dropped meanwhile; nothing runs
		}
		reason := mesos.ReasonContainerLaunchFailed
		if errors.Is(err, supervise.ErrInvalid) {
			reason = mesos.ReasonTaskInvalid
		}
		a.update(rec, mesos.TaskFailed, mesos.SourceAgent, reason, "launch failed: "+err.Error())
		return
	}
	rec.Launched = true
	if a.tasks[rec.ContainerID] != rec || rec.State.IsTerminal() {
		// Killed while it was being launched: its end was reported; now
		// make it true. (A record already dropped leaves the task to the
		// orphan handling, which kills and forgets it.)
		if a.tasks[rec.ContainerID] == rec && a.sup != nil {
			kctx, cancel := context.WithTimeout(ctx, supervisorTimeout)
			if err := a.sup.Kill(kctx, rec.ContainerID, 0); err != nil {
				a.log.Warn("kill a task killed during its launch", "task", rec.Task.TaskID, "err", err)
			}
			cancel()
		}
		return
	}
	a.update(rec, mesos.TaskRunning, mesos.SourceExecutor, "", "")
}

// rejectTask answers a task the agent will not run with TASK_ERROR.
func (a *Agent) rejectTask(fi *mesos.FrameworkInfo, ti *mesos.TaskInfo, reason mesos.TaskStatusReason, msg string) {
	a.rememberFramework(fi)
	if old := a.lookup(fi.ID, ti.TaskID); old != nil && !old.State.IsTerminal() {
		return
	}
	rec := &taskRecord{ContainerID: newContainerID(), FrameworkID: fi.ID, Task: *ti, State: mesos.TaskStaging}
	a.tasks[rec.ContainerID] = rec
	a.byTask[taskKey{fi.ID, ti.TaskID}] = rec.ContainerID
	a.update(rec, mesos.TaskError, mesos.SourceAgent, reason, msg)
}

// killTask kills a task with its grace period (the kill policy's when
// given): TASK_KILLING first for frameworks that understand it, and
// TASK_KILLED when the supervisor reports the task gone.
func (a *Agent) killTask(ctx context.Context, fw mesos.FrameworkID, id mesos.TaskID, policy *mesos.KillPolicy) {
	rec := a.lookup(fw, id)
	if rec == nil || rec.State.IsTerminal() {
		a.log.Debug("KILL_TASK for a task that is not running", "framework", fw, "task", id)
		return
	}
	if !rec.Launched {
		a.update(rec, mesos.TaskKilled, mesos.SourceAgent, mesos.ReasonTaskKilledDuringLaunch, "killed before it was launched")
		return
	}
	if fi, ok := a.frameworks[fw]; ok && fi.HasCapability(mesos.FrameworkCapabilityTaskKillingState) && rec.State != mesos.TaskKilling {
		a.update(rec, mesos.TaskKilling, mesos.SourceExecutor, "", "")
	}
	grace := time.Duration(-1) // the task's own kill policy
	if policy != nil && policy.GracePeriod != nil && policy.GracePeriod.Duration() >= 0 {
		grace = policy.GracePeriod.Duration()
	}
	if a.sup == nil {
		a.log.Error("cannot kill: no connection to the supervisor", "task", id)
		return
	}
	kctx, cancel := context.WithTimeout(ctx, supervisorTimeout)
	defer cancel()
	if err := a.sup.Kill(kctx, rec.ContainerID, grace); err != nil {
		a.log.Error("kill", "task", id, "container", rec.ContainerID, "err", err)
	}
}

func (a *Agent) shutdownFramework(ctx context.Context, fw mesos.FrameworkID) {
	for _, c := range slices.Sorted(maps.Keys(a.tasks)) {
		if t := a.tasks[c]; t.FrameworkID == fw && !t.State.IsTerminal() {
			a.killTask(ctx, fw, t.Task.TaskID, nil)
		}
	}
}

// acknowledge drops an acknowledged update; once a finished task has no
// update left, the agent and the supervisor forget it.
func (a *Agent) acknowledge(ctx context.Context, fw mesos.FrameworkID, id mesos.TaskID, uuid []byte) {
	rec := a.lookup(fw, id)
	if rec == nil {
		return
	}
	i := slices.IndexFunc(rec.Pending, func(s mesos.TaskStatus) bool { return string(s.UUID) == string(uuid) })
	if i < 0 {
		return // a duplicate acknowledgement
	}
	rec.Pending = slices.Delete(rec.Pending, i, i+1)
	if r := a.retry[rec.ContainerID]; r != nil {
		r.delay = a.cfg.StatusRetry
		r.at = time.Now().Add(r.delay)
	}
	if rec.State.IsTerminal() && len(rec.Pending) == 0 {
		a.dropTask(ctx, rec)
		return
	}
	// The acknowledgement is not written down: the record reaches disk
	// with the task's next update. An agent that crashes before then
	// resends an update the framework already has, which Mesos' at-least-
	// once delivery allows (the UUID is the same); sparing the fsyncs
	// halves the disk work of a launch.
}

// dropTask forgets a finished task: the supervisor's record first, then
// the checkpoint, so a crash in between leaves a record to retry with.
func (a *Agent) dropTask(ctx context.Context, rec *taskRecord) {
	a.stopHealthCheck(rec.ContainerID)
	if rec.Launched && a.sup != nil {
		fctx, cancel := context.WithTimeout(ctx, supervisorTimeout)
		err := a.sup.Forget(fctx, rec.ContainerID)
		cancel()
		if err != nil && !errors.Is(err, supervise.ErrUnknownTask) {
			a.log.Warn("supervisor forget", "container", rec.ContainerID, "err", err)
		}
	}
	if err := a.ck.removeTask(rec.ContainerID); err != nil {
		a.log.Error("checkpoint", "err", err)
	}
	delete(a.tasks, rec.ContainerID)
	delete(a.retry, rec.ContainerID)
	k := taskKey{rec.FrameworkID, rec.Task.TaskID}
	if a.byTask[k] == rec.ContainerID {
		delete(a.byTask, k)
	}
}

// update moves a task to state and sends the update, checkpointed first
// so that it survives a crash and is resent until acknowledged.
func (a *Agent) update(rec *taskRecord, state mesos.TaskState, source mesos.TaskStatusSource, reason mesos.TaskStatusReason, msg string) {
	state, reason = a.drainStatus(rec, state, reason)
	st := mesos.TaskStatus{TaskID: rec.Task.TaskID, State: state, Message: msg, Source: source, Reason: reason,
		ExecutorID: executorID(rec), Timestamp: float64(time.Now().UnixNano()) / 1e9, UUID: newUUID(),
		Healthy: statusHealth(rec)}
	rec.State = state
	a.healthOnUpdate(rec)
	a.counters.count(state)
	rec.Pending = append(rec.Pending, st)
	a.persist(rec)
	a.log.Info("task status", "task", rec.Task.TaskID, "framework", rec.FrameworkID, "state", state, "reason", reason, "message", msg)
	a.retry[rec.ContainerID] = &retryState{delay: a.cfg.StatusRetry, at: time.Now().Add(a.cfg.StatusRetry)}
	// Sent once the record holding it is durable; resends skip it until
	// then.
	a.unsynced[string(st.UUID)] = true
	a.whenDurable(func() {
		delete(a.unsynced, string(st.UUID))
		a.sendUpdate(rec, st)
	})
}

func (a *Agent) sendUpdate(rec *taskRecord, st mesos.TaskStatus) {
	if a.id == "" || a.master == "" || a.unsynced[string(st.UUID)] {
		return
	}
	st.AgentID = a.id
	a.out.send(&mesos.AgentCall{Type: mesos.AgentCallUpdate, AgentID: a.id,
		Update: &mesos.AgentUpdate{FrameworkID: rec.FrameworkID, Status: &st}})
}

// resendAll sends every unacknowledged update again, each task's in
// order: after (re)subscribing.
func (a *Agent) resendAll() {
	now := time.Now()
	for _, c := range slices.Sorted(maps.Keys(a.tasks)) {
		rec := a.tasks[c]
		for _, st := range rec.Pending {
			a.sendUpdate(rec, st)
		}
		if len(rec.Pending) > 0 {
			a.retry[c] = &retryState{delay: a.cfg.StatusRetry, at: now.Add(a.cfg.StatusRetry)}
		}
	}
}

// resendDue resends the updates of tasks whose acknowledgement is
// overdue, doubling each task's interval up to StatusRetryMax.
func (a *Agent) resendDue(now time.Time) {
	for _, c := range slices.Sorted(maps.Keys(a.retry)) {
		r := a.retry[c]
		rec := a.tasks[c]
		if rec == nil || len(rec.Pending) == 0 {
			delete(a.retry, c)
			continue
		}
		if now.Before(r.at) {
			continue
		}
		for _, st := range rec.Pending {
			a.sendUpdate(rec, st)
		}
		r.delay = min(2*r.delay, a.cfg.StatusRetryMax)
		r.at = now.Add(r.delay)
	}
}

// onSupervisorEvent turns a task's exit into its terminal update.
func (a *Agent) onSupervisorEvent(ctx context.Context, ev supervise.Event) {
	if ev.Forgotten {
		return
	}
	t := ev.Task
	rec := a.tasks[t.Spec.ID]
	if rec == nil {
		a.orphan(ctx, t)
		return
	}
	if t.State == supervise.StateExited && t.Exit != nil && !rec.State.IsTerminal() {
		a.exited(rec, t.Exit)
	}
}

func (a *Agent) exited(rec *taskRecord, e *supervise.Exit) {
	state, reason := e.TaskState()
	source := mesos.SourceExecutor
	msg := e.Message
	if e.Lost != "" {
		source = mesos.SourceAgent
	}
	if rec.Expired && e.Killed {
		state, reason, source = mesos.TaskFailed, mesos.ReasonExecutorReregistrationTimeout, mesos.SourceAgent
		msg = fmt.Sprintf("the agent was away longer than its recovery timeout (%s), so the task was killed; %s", a.cfg.RecoveryTimeout, msg)
	}
	msg = healthKillMessage(rec, state, msg)
	if rec.State == mesos.TaskStarting && e.Lost == "" {
		// It ran, and ended before the supervisor's answer to the launch
		// came back: frameworks still see RUNNING first, as from Mesos'
		// command executor.
		a.update(rec, mesos.TaskRunning, mesos.SourceExecutor, "", "")
	}
	rec.Launched = true
	a.update(rec, state, source, reason, msg)
}

// expireRecovered kills every recovered task that is still running: the
// agent was gone for longer than the recovery timeout, after which Mesos'
// executors give up on their agent and end their tasks.
func (a *Agent) expireRecovered(ctx context.Context, away time.Duration) {
	a.log.Warn("the agent was away longer than --recovery-timeout: killing its recovered tasks",
		"away", away.Round(time.Millisecond), "recovery_timeout", a.cfg.RecoveryTimeout)
	for _, c := range slices.Sorted(maps.Keys(a.tasks)) {
		rec := a.tasks[c]
		if rec.State.IsTerminal() || !rec.Launched || a.sup == nil {
			continue
		}
		rec.Expired = true
		a.persist(rec)
		kctx, cancel := context.WithTimeout(ctx, supervisorTimeout)
		if err := a.sup.Kill(kctx, c, -1); err != nil {
			a.log.Error("kill", "task", rec.Task.TaskID, "container", c, "err", err)
		}
		cancel()
	}
}

// orphan handles a supervised task the agent has no record of (its
// record was lost): it is killed, and forgotten once it has exited.
func (a *Agent) orphan(ctx context.Context, t supervise.Task) {
	if a.sup == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, supervisorTimeout)
	defer cancel()
	if t.State == supervise.StateExited {
		if err := a.sup.Forget(cctx, t.Spec.ID); err != nil && !errors.Is(err, supervise.ErrUnknownTask) {
			a.log.Warn("forget an unknown task", "container", t.Spec.ID, "err", err)
		}
		return
	}
	if t.State == supervise.StateRunning {
		a.log.Warn("killing a task this agent has no record of", "container", t.Spec.ID, "task", t.Spec.TaskID, "pid", t.PID)
		if err := a.sup.Kill(cctx, t.Spec.ID, -1); err != nil {
			a.log.Warn("kill an unknown task", "container", t.Spec.ID, "err", err)
		}
	}
}

// reconcile brings the checkpoint and the supervisor's tasks together
// after (re)connecting to the supervisor: a task that ended while nobody
// listened gets its terminal update with its real exit status.
func (a *Agent) reconcile(ctx context.Context) {
	known := map[string]supervise.Task{}
	for _, t := range a.sup.Tasks() {
		known[t.Spec.ID] = t
	}
	for _, c := range slices.Sorted(maps.Keys(a.tasks)) {
		rec := a.tasks[c]
		t, ok := known[c]
		switch {
		case rec.State.IsTerminal():
			if ok && t.State == supervise.StateExited && len(rec.Pending) == 0 {
				a.dropTask(ctx, rec)
			}
		case !ok && !rec.Launched:
			a.update(rec, mesos.TaskFailed, mesos.SourceAgent, mesos.ReasonContainerLaunchFailed,
				"the agent stopped before the task was launched")
		case !ok:
			a.update(rec, mesos.TaskLost, mesos.SourceAgent, mesos.ReasonExecutorTerminated,
				"the task supervisor has no record of this task")
		case t.State == supervise.StateExited && t.Exit != nil:
			a.exited(rec, t.Exit)
		default: // running or being killed
			if !rec.Launched || rec.State == mesos.TaskStarting || rec.State == mesos.TaskStaging {
				rec.Launched = true
				a.update(rec, mesos.TaskRunning, mesos.SourceExecutor, "", "")
			}
			if rec.State == mesos.TaskRunning {
				a.startHealthCheck(rec) // a recovered task's checker
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(known)) {
		if _, ok := a.tasks[id]; !ok {
			a.orphan(ctx, known[id])
		}
	}
}
