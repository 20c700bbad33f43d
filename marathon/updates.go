package marathon

import (
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
	"github.com/strata-dc/strata/master/mesos"
)

// Task status updates are handled in batches: every update the event
// queue holds is applied to memory, the instances they change are written
// to coord in a few multis, and only then are the updates acknowledged
// and the deployments driven, once for the whole batch. One at a time,
// each update cost a coord write and a pass of the planner over the app's
// instances, so a deployment of N instances cost N² and fell behind the
// master's stream at 10,000.

// handleBatch applies a drained run of events in order; consecutive
// updates make one batch, and offers older than a SUBSCRIBED in the run
// are dropped. s.mu is held.
func (s *Server) handleBatch(st *leaderState, evs []*mesos.Event) {
	var batch []*mesos.TaskStatus
	flush := func() {
		if len(batch) > 0 {
			s.statusBatch(st, batch, time.Now())
			batch = nil
		}
	}
	// Offers made before a (re)subscription are void: the master
	// rescinded them when the old stream ended. Launching on them would
	// only fail.
	resubscribed := -1
	for k, ev := range evs {
		if ev.Type == mesos.EventSubscribed {
			resubscribed = k
		}
	}
	for k, ev := range evs {
		if ev.Type == mesos.EventOffers && k < resubscribed {
			continue
		}
		if ev.Type == mesos.EventUpdate {
			if ev.Update != nil && ev.Update.Status != nil {
				batch = append(batch, ev.Update.Status)
			}
			continue
		}
		flush()
		s.handleEvent(st, ev)
	}
	flush()
}

// statusBatch applies task statuses, stores the instances they change,
// acknowledges those stored (an update whose write failed is left
// unacknowledged, so the master sends it again) and drives the
// deployments once. s.mu is held.
func (s *Server) statusBatch(st *leaderState, statuses []*mesos.TaskStatus, now time.Time) {
	s.metrics.updates.Add(int64(len(statuses)))
	stored := s.applyStatuses(st, statuses, now)
	st.acks.add(stored...)
	s.driveSoon(st, now)
}

// driveSoon drives the deployments now, or shortly when the last pass was
// recent and costly: a pass visits every instance of the apps it drives,
// so driving after each of thousands of small batches would make a large
// deployment quadratic again. Passes are spaced by driveSpacing times the
// last one's cost (at most maxDriveDelay), which keeps the planner under a
// tenth of the loop's time; a small cluster, whose passes take
// microseconds, is driven at once as before. s.mu is held.
func (s *Server) driveSoon(st *leaderState, now time.Time) {
	wait := min(driveSpacing*st.driveCost, maxDriveDelay) - now.Sub(st.lastDrive)
	if wait <= 0 {
		s.drive(st, now)
		return
	}
	if !st.driveDue {
		st.driveDue = true
		st.driveTimer.Reset(wait)
	}
}

// drivePending runs a pass driveSoon put off, unless one ran since.
// s.mu is held.
func (s *Server) drivePending(st *leaderState) {
	if st.driveDue {
		s.drive(st, time.Now())
	}
}

const (
	driveSpacing  = 10
	maxDriveDelay = 200 * time.Millisecond
)

// statusChange is what one status did to its instance, kept until the
// instance's write is known to have succeeded.
type statusChange struct {
	status   *mesos.TaskStatus
	inst     *Instance // nil: an unknown task, nothing to store
	terminal bool      // the instance ended and was removed from memory
	events   []event   // published once stored
}

// applyStatuses applies statuses in order to memory, stores the changed
// instances (deleting ended ones) in as few commits as possible, publishes
// the events of what was stored and returns the statuses it stored (or
// had nothing to store for). An ended instance whose deletion fails is
// put back as it was. s.mu is held.
func (s *Server) applyStatuses(st *leaderState, statuses []*mesos.TaskStatus, now time.Time) []*mesos.TaskStatus {
	changes := make([]statusChange, 0, len(statuses))
	var writes []instanceWrite
	written := map[*Instance]int{} // index in writes
	write := func(i *Instance, del bool) {
		if k, ok := written[i]; ok {
			writes[k].del = del
			return
		}
		written[i] = len(writes)
		writes = append(writes, instanceWrite{inst: i, del: del})
	}
	for _, status := range statuses {
		c := statusChange{status: status}
		inst := st.instances[string(status.TaskID)]
		switch {
		case inst == nil:
			if !status.State.IsTerminal() && status.State != mesos.TaskUnreachable {
				s.log.Warn("killing unknown task", "task", status.TaskID, "state", status.State)
				ctx, cancel := st.opCtx()
				_ = st.sched.Kill(ctx, status.TaskID, status.AgentID)
				cancel()
			}
		case stale(inst, status):
			// Nothing to store; acknowledged so it is not sent again.
			s.log.Debug("ignoring a stale task status", "task", status.TaskID, "state", status.State, "current", inst.State)
		case status.State.IsTerminal():
			st.remove(inst)
			c.inst, c.terminal = inst, true
			c.events = []event{s.statusEvent(st, inst, string(status.State)), instanceChanged(inst, status.State)}
			write(inst, true)
		default:
			c.inst = inst
			c.events = s.applyStatus(st, inst, status, now)
			write(inst, false)
		}
		changes = append(changes, c)
	}
	var failed map[string]error
	if len(writes) > 0 {
		ctx, cancel := st.opCtx()
		failed = writeInstances(ctx, st.store, writes, st.known)
		cancel()
	}
	stored := make([]*mesos.TaskStatus, 0, len(statuses))
	failures := map[app.PathID]*taskFailure{}
	for _, c := range changes {
		if c.inst != nil {
			if err, bad := failed[c.inst.TaskID]; bad {
				if c.terminal {
					s.log.Error("forget instance; leaving the update unacknowledged", "task", c.inst.TaskID, "err", err)
					if st.instances[c.inst.TaskID] == nil {
						st.add(c.inst) // as it was: the master resends the update
					}
				} else {
					s.log.Error("store instance; leaving the update unacknowledged", "task", c.inst.TaskID, "err", err)
				}
				continue
			}
			if c.terminal {
				if f := s.ended(st, c.inst, c.status, now); f != nil {
					failures[c.inst.AppID] = f
				}
			}
			for _, e := range c.events {
				s.events.publish(e)
			}
		}
		stored = append(stored, c.status)
	}
	for id, f := range failures {
		ctx, cancel := st.opCtx()
		if _, err := st.store.Put(ctx, failuresDir+"/"+safeName(id), f); err != nil {
			s.log.Warn("store last task failure", "app", id, "err", err)
		}
		cancel()
	}
	return stored
}

// stale reports a status that would move a running task back to STAGING
// or STARTING, which no task does: it is an old update delivered late (an
// agent resending one whose acknowledgement it has not seen yet, after the
// next one went through). Applied, it would make a running instance look
// like it is starting again, and a deployment wait for it for ever.
func stale(inst *Instance, status *mesos.TaskStatus) bool {
	return inst.State == mesos.TaskRunning && (status.State == mesos.TaskStaging || status.State == mesos.TaskStarting)
}

// applyStatus applies a non-terminal status to an instance's record and
// returns the events to publish once it is stored.
func (s *Server) applyStatus(st *leaderState, inst *Instance, status *mesos.TaskStatus, now time.Time) []event {
	wasHealthy := inst.Healthy
	switch status.State {
	case mesos.TaskUnreachable:
		if inst.State != mesos.TaskUnreachable {
			inst.UnreachableSince = now
			if status.UnreachableTime != nil {
				inst.UnreachableSince = status.UnreachableTime.Time()
			}
		}
	case mesos.TaskRunning:
		if inst.StartedAt.IsZero() {
			inst.StartedAt = now
		}
		inst.UnreachableSince = time.Time{}
	}
	if inst.AgentID == "" {
		inst.AgentID = string(status.AgentID)
	}
	inst.State = status.State
	if status.Healthy != nil {
		h := *status.Healthy
		inst.Healthy = &h
	}
	evs := []event{s.statusEvent(st, inst, string(status.State)), instanceChanged(inst, status.State)}
	if (wasHealthy == nil) != (inst.Healthy == nil) || (wasHealthy != nil && *wasHealthy != *inst.Healthy) {
		if inst.Healthy != nil {
			evs = append(evs, event{"eventType": "health_status_changed_event", "appId": inst.AppID,
				"taskId": inst.TaskID, "instanceId": inst.TaskID, "version": inst.AppVersion, "alive": *inst.Healthy})
		}
	}
	return evs
}

// instanceChanged is Marathon's instance_changed_event.
func instanceChanged(inst *Instance, state mesos.TaskState) event {
	return event{"eventType": "instance_changed_event", "instanceId": inst.TaskID, "condition": conditionOf(state),
		"runSpecId": inst.AppID, "agentId": inst.AgentID, "host": inst.Host, "runSpecVersion": inst.AppVersion}
}

// ended does the bookkeeping of an instance whose end is stored: one that
// ended without being killed counts as a failure for the app's backoff,
// and is returned as the app's last task failure to store.
func (s *Server) ended(st *leaderState, inst *Instance, status *mesos.TaskStatus, now time.Time) *taskFailure {
	if inst.Killing {
		s.metrics.killed.Add(1)
		return nil
	}
	s.metrics.failed.Add(1)
	a, ok := st.root.App(inst.AppID)
	b := deploy.DefaultBackoff
	if ok {
		b = specOf(a).Backoff
	}
	st.limiter.Failed(deploy.ConfigRef{AppID: string(inst.AppID), Version: inst.Config}, b, now)
	f := &taskFailure{AppID: string(inst.AppID), Host: inst.Host, Message: status.Message,
		State: string(status.State), TaskID: inst.TaskID, Timestamp: app.FormatVersion(now),
		Version: inst.AppVersion, SlaveID: inst.AgentID}
	st.lastFailure[inst.AppID] = f
	s.log.Info("task failed", "task", inst.TaskID, "state", status.State, "message", status.Message)
	return f
}
