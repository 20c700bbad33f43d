package state

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// taskKey names a task: task IDs are unique per framework.
type taskKey struct {
	fw mesos.FrameworkID
	id mesos.TaskID
}

// maxStatuses bounds the statuses kept per task for the operator API.
const maxStatuses = 8

// task is one task the master knows of.
type task struct {
	fw        mesos.FrameworkID
	agent     mesos.AgentID
	info      mesos.Task      // State is the latest state the agent reported
	resources mesos.Resources // with allocation_info
	// pending are the agent's updates not yet acknowledged by the
	// framework, oldest first; the head is what the framework is sent.
	pending   []mesos.TaskStatus
	sentAt    time.Time
	recovered bool // its resources went back to the allocator
	killing   bool // a KILL was asked for; resent when the agent comes back
	// enc caches info's JSON for GET_STATE; changed() drops it.
	enc *taskJSON
}

func (t *task) state() mesos.TaskState { return t.info.State }

// dropPending forgets a task's undelivered updates (the master decided
// its fate itself).
func (m *Machine) dropPending(t *task) {
	t.pending = nil
	delete(m.unacked, t)
}

func sortedTaskKeys(m map[taskKey]*task) []taskKey {
	keys := make([]taskKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b taskKey) int {
		return cmp.Or(cmp.Compare(a.fw, b.fw), cmp.Compare(a.id, b.id))
	})
	return keys
}

// adoptTask records a task an agent reports when it (re)subscribes.
//
// A task reported terminal is adopted too: an agent keeps reporting a
// finished task only while the framework has not acknowledged its
// terminal update (the task ended while the master was failing over, or
// while the agent was cut off). Adopting it, holding no resources, lets
// the agent's resent UPDATE reach the framework and the framework's
// ACKNOWLEDGE reach the agent; ignoring it made agentUpdate acknowledge
// the update on nobody's behalf, so the framework never heard of the end.
func (m *Machine) adoptTask(ag *agentState, rt *mesos.Task) *task {
	if m.removedFws[rt.FrameworkID] {
		return nil
	}
	fw := m.frameworks[rt.FrameworkID]
	if fw == nil {
		fw = m.newFramework(rt.FrameworkID, mesos.FrameworkInfo{ID: rt.FrameworkID})
		fw.recovered = true
		fw.failoverAt = m.now.Add(m.cfg.FailoverTimeout)
	}
	t := &task{fw: rt.FrameworkID, agent: ag.id, info: *rt}
	t.info.AgentID = ag.id
	t.info.Statuses = nil
	t.resources = m.fillAllocation(rt.Resources, fw.info.GetRoles())
	t.info.Resources = t.resources
	// A finished task's resources are free already: they never reach
	// the allocator, and its terminal update must not return them.
	t.recovered = rt.State.IsTerminal()
	ag.tasks[taskKey{t.fw, t.info.TaskID}] = t
	fw.tasks[t.info.TaskID] = t
	m.observeTaskAdded(t)
	return t
}

// fillAllocation gives resources without allocation_info the framework's
// first role, as Mesos does for frameworks that are not MULTI_ROLE. The
// AllocationInfo is shared by every task of the role (nothing writes
// through it): one allocation fewer per resource of 100,000 tasks.
func (m *Machine) fillAllocation(rs mesos.Resources, roles []string) mesos.Resources {
	return fillAllocationWith(rs, roles, m.allocationInfo)
}

// fillAllocation is Machine.fillAllocation with an AllocationInfo of its own.
func fillAllocation(rs mesos.Resources, roles []string) mesos.Resources {
	return fillAllocationWith(rs, roles, func(role string) *mesos.AllocationInfo { return &mesos.AllocationInfo{Role: role} })
}

func fillAllocationWith(rs mesos.Resources, roles []string, info func(string) *mesos.AllocationInfo) mesos.Resources {
	role := mesos.DefaultRole
	if len(roles) > 0 {
		role = roles[0]
	}
	out := make(mesos.Resources, 0, len(rs))
	for _, r := range rs {
		if r.AllocationInfo == nil {
			r.AllocationInfo = info(role)
		}
		out = append(out, r)
	}
	return out
}

// allocationInfo returns the machine's one AllocationInfo for role.
func (m *Machine) allocationInfo(role string) *mesos.AllocationInfo {
	ai := m.allocInfos[role]
	if ai == nil {
		if m.allocInfos == nil {
			m.allocInfos = make(map[string]*mesos.AllocationInfo)
		}
		ai = &mesos.AllocationInfo{Role: role}
		m.allocInfos[role] = ai
	}
	return ai
}

// agentUpdate takes a status update from an agent: it becomes the task's
// latest state at once and is delivered to the framework in order, each
// resent until acknowledged.
func (m *Machine) agentUpdate(req ReqID, ag *agentState, fwID mesos.FrameworkID, st *mesos.TaskStatus) {
	t := ag.tasks[taskKey{fwID, st.TaskID}]
	if t == nil {
		// A task the master has forgotten (its framework was removed, or
		// it was acknowledged already): nobody will acknowledge it, so the
		// master does, and the agent stops resending it.
		m.reply(req, 202, "")
		if st.UUID != nil {
			m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventAcknowledge, Acknowledge: &mesos.AgentAcknowledge{
				FrameworkID: fwID, TaskID: st.TaskID, UUID: st.UUID}})
		}
		return
	}
	m.reply(req, 202, "")
	status := *st
	status.AgentID = ag.id
	if status.Source == "" {
		status.Source = mesos.SourceExecutor
	}
	if status.Timestamp == 0 {
		status.Timestamp = seconds(m.now)
	}
	if status.UUID != nil {
		for i := range t.pending {
			if bytes.Equal(t.pending[i].UUID, status.UUID) {
				return // a resend of what is queued already
			}
		}
	}
	t.info.State = status.State
	t.changed()
	// A new slice each time: published snapshots share the old one.
	keep := t.info.Statuses
	if len(keep) >= maxStatuses {
		keep = keep[len(keep)-maxStatuses+1:]
	}
	t.info.Statuses = append(slices.Clip(slices.Clone(keep)), status)
	t.changed()
	if status.State.IsTerminal() {
		m.recoverTask(t)
	}
	m.observeTaskUpdated(t, &status)
	fw := m.frameworks[t.fw]
	if status.UUID == nil {
		if fw != nil {
			m.sendFramework(fw, &mesos.Event{Type: mesos.EventUpdate, Update: &mesos.Update{Status: &status}})
		}
		if status.State.IsTerminal() && len(t.pending) == 0 {
			m.removeTask(t)
		}
		return
	}
	t.pending = append(t.pending, status)
	m.unacked[t] = struct{}{}
	if len(t.pending) == 1 && fw != nil {
		m.forwardHead(fw, t)
	}
}

// forwardHead sends the oldest unacknowledged update to the framework.
func (m *Machine) forwardHead(fw *frameworkState, t *task) {
	if len(t.pending) == 0 || !fw.connected() {
		return
	}
	st := t.pending[0]
	t.info.StatusUpdateState = st.State
	t.info.StatusUpdateUUID = st.UUID
	t.changed()
	t.sentAt = m.now
	m.sendFramework(fw, &mesos.Event{Type: mesos.EventUpdate, Update: &mesos.Update{Status: &st}})
}

// retryUpdates resends updates whose acknowledgement is overdue.
func (m *Machine) retryUpdates(now time.Time) {
	var due []*task
	for t := range m.unacked {
		if fw := m.frameworks[t.fw]; fw != nil && fw.connected() && now.Sub(t.sentAt) >= m.cfg.StatusRetry {
			due = append(due, t)
		}
	}
	slices.SortFunc(due, func(a, b *task) int {
		return cmp.Or(cmp.Compare(a.fw, b.fw), cmp.Compare(a.info.TaskID, b.info.TaskID))
	})
	for _, t := range due {
		m.forwardHead(m.frameworks[t.fw], t)
	}
}

// acknowledge handles a framework's ACKNOWLEDGE: the head update is done,
// the agent is told, and the next update (if any) goes out.
func (m *Machine) acknowledge(req ReqID, fw *frameworkState, ack *mesos.Acknowledge) {
	m.reply(req, 202, "")
	t := fw.tasks[ack.TaskID]
	if t == nil || t.agent != ack.AgentID || len(t.pending) == 0 || !bytes.Equal(t.pending[0].UUID, ack.UUID) {
		return // stale or duplicate: Mesos ignores these too
	}
	t.pending = t.pending[1:]
	if len(t.pending) == 0 {
		delete(m.unacked, t)
	}
	t.info.StatusUpdateState, t.info.StatusUpdateUUID = "", nil
	t.changed()
	if ag := m.agents[t.agent]; ag != nil {
		m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventAcknowledge, Acknowledge: &mesos.AgentAcknowledge{
			FrameworkID: fw.id, TaskID: ack.TaskID, UUID: ack.UUID}})
	}
	if len(t.pending) > 0 {
		m.forwardHead(fw, t)
		return
	}
	if t.state().IsTerminal() {
		m.removeTask(t)
	}
}

// recoverTask returns a task's resources to the allocator, once.
func (m *Machine) recoverTask(t *task) {
	if t.recovered {
		return
	}
	t.recovered = true
	_ = m.alloc.Recover(t.fw, t.agent, t.resources)
	m.allocDue = true
}

// removeTask forgets a finished task, keeping it among the completed.
func (m *Machine) removeTask(t *task) {
	m.recoverTask(t)
	delete(m.unacked, t)
	ag := m.agents[t.agent]
	if ag != nil {
		delete(ag.tasks, taskKey{t.fw, t.info.TaskID})
	}
	if fw := m.frameworks[t.fw]; fw != nil {
		delete(fw.tasks, t.info.TaskID)
	}
	m.completedTasks = append(m.completedTasks, t.info)
	if len(m.completedTasks) > maxCompletedTasks {
		m.completedTasks = slices.Delete(m.completedTasks, 0, len(m.completedTasks)-maxCompletedTasks)
	}
	if ag != nil {
		m.checkDrained(ag) // the last task of a draining agent may have gone
	}
}

// finishTask ends a task by the master's decision (agent lost, framework
// removed): the framework is told, the task forgotten.
func (m *Machine) finishTask(t *task, state mesos.TaskState, reason mesos.TaskStatusReason, msg string) {
	m.dropPending(t)
	t.info.State = state
	t.changed()
	if fw := m.frameworks[t.fw]; fw != nil {
		m.masterUpdate(fw, t, state, reason, msg)
	}
	m.removeTask(t)
}

// masterUpdate sends a status the master generated; it carries no UUID,
// so the framework does not acknowledge it.
func (m *Machine) masterUpdate(fw *frameworkState, t *task, state mesos.TaskState, reason mesos.TaskStatusReason, msg string) {
	st := &mesos.TaskStatus{TaskID: t.info.TaskID, State: state, Source: mesos.SourceMaster, Reason: reason,
		Message: msg, AgentID: t.agent, Timestamp: seconds(m.now)}
	if state == mesos.TaskUnreachable {
		st.UnreachableTime = mesos.TimeInfoOf(m.now)
	}
	m.observeTaskUpdated(t, st)
	m.sendFramework(fw, &mesos.Event{Type: mesos.EventUpdate, Update: &mesos.Update{Status: st}})
}

func (m *Machine) statusEvent(id mesos.TaskID, agent mesos.AgentID, state mesos.TaskState, reason mesos.TaskStatusReason, msg string) *mesos.Event {
	return &mesos.Event{Type: mesos.EventUpdate, Update: &mesos.Update{Status: &mesos.TaskStatus{
		TaskID: id, State: state, Source: mesos.SourceMaster, Reason: reason, Message: msg,
		AgentID: agent, Timestamp: seconds(m.now)}}}
}

// reconcile answers RECONCILE with Mesos' table. Implicit (no tasks): the
// latest state of every task the master knows for the framework. Explicit,
// per task: known → its latest state; unknown on an agent that is
// registered → TASK_GONE, unreachable (by missed pings, or in the
// registry, or not back within ReregisterTimeout) → TASK_UNREACHABLE, gone →
// TASK_GONE_BY_OPERATOR, still expected back after a failover → no answer
// yet, unknown → TASK_UNKNOWN; frameworks that are not PARTITION_AWARE get
// TASK_LOST instead of the four. All with reason REASON_RECONCILIATION.
func (m *Machine) reconcile(req ReqID, fw *frameworkState, rc *mesos.Reconcile) {
	m.reply(req, 202, "")
	pa := fw.partitionAware()
	orLost := func(s mesos.TaskState) mesos.TaskState {
		if pa {
			return s
		}
		return mesos.TaskLost
	}
	send := func(id mesos.TaskID, agent mesos.AgentID, state mesos.TaskState) {
		m.sendFramework(fw, m.statusEvent(id, agent, state, mesos.ReasonReconciliation, "reconciliation"))
	}
	// As in Mesos, the answer for an unreachable agent says since when.
	sendUnreachable := func(id mesos.TaskID, agent mesos.AgentID, since time.Time) {
		ev := m.statusEvent(id, agent, orLost(mesos.TaskUnreachable), mesos.ReasonReconciliation, "reconciliation")
		ev.Update.Status.UnreachableTime = timeInfo(since)
		m.sendFramework(fw, ev)
	}
	sendKnown := func(t *task) {
		st := mesos.TaskStatus{TaskID: t.info.TaskID, State: t.state(), Source: mesos.SourceMaster,
			Reason: mesos.ReasonReconciliation, Message: "reconciliation", AgentID: t.agent, Timestamp: seconds(m.now)}
		if n := len(t.info.Statuses); n > 0 {
			last := t.info.Statuses[n-1]
			st.Healthy, st.Labels, st.ContainerStatus, st.ExecutorID = last.Healthy, last.Labels, last.ContainerStatus, last.ExecutorID
		}
		if t.state() == mesos.TaskUnreachable && !pa {
			st.State = mesos.TaskLost
		}
		m.sendFramework(fw, &mesos.Event{Type: mesos.EventUpdate, Update: &mesos.Update{Status: &st}})
	}
	if len(rc.Tasks) == 0 {
		for _, id := range sortedKeys(fw.tasks) {
			sendKnown(fw.tasks[id])
		}
		return
	}
	for _, rt := range rc.Tasks {
		if t := fw.tasks[rt.TaskID]; t != nil && (rt.AgentID == "" || rt.AgentID == t.agent) {
			sendKnown(t)
			continue
		}
		if rt.AgentID == "" {
			if len(m.recovered) == 0 {
				send(rt.TaskID, "", orLost(mesos.TaskUnknown))
			}
			continue
		}
		ag := m.agents[rt.AgentID]
		_, recovering := m.recovered[rt.AgentID]
		switch {
		case ag != nil && ag.unreachable:
			sendUnreachable(rt.TaskID, rt.AgentID, ag.unreachableAt)
		case ag != nil:
			send(rt.TaskID, rt.AgentID, orLost(mesos.TaskGone))
		case m.gone[rt.AgentID]:
			send(rt.TaskID, rt.AgentID, orLost(mesos.TaskGoneByOperator))
		case m.isLost(rt.AgentID):
			sendUnreachable(rt.TaskID, rt.AgentID, m.lostAgents[rt.AgentID].Unreachable.Time())
		case recovering:
			// The agent may still come back with it: no answer yet.
		default:
			send(rt.TaskID, rt.AgentID, orLost(mesos.TaskUnknown))
		}
	}
}

// kill handles KILL: the agent is asked to kill the task; an unknown task
// is answered as reconciliation would.
func (m *Machine) kill(req ReqID, fw *frameworkState, k *mesos.Kill) {
	t := fw.tasks[k.TaskID]
	if t == nil {
		m.reconcile(req, fw, &mesos.Reconcile{Tasks: []mesos.ReconcileTask{{TaskID: k.TaskID, AgentID: k.AgentID}}})
		return
	}
	if k.AgentID != "" && k.AgentID != t.agent {
		m.reply(req, 400, fmt.Sprintf("kill.agent_id: task %s runs on %s, not %s", k.TaskID, t.agent, k.AgentID))
		return
	}
	m.reply(req, 202, "")
	t.killing = true
	if ag := m.agents[t.agent]; ag != nil {
		m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventKillTask, KillTask: &mesos.KillTask{
			FrameworkID: fw.id, TaskID: k.TaskID, KillPolicy: k.KillPolicy}})
	}
}

// isLost reports whether the registry has the agent as unreachable while
// this master does not track it.
func (m *Machine) isLost(id mesos.AgentID) bool {
	_, ok := m.lostAgents[id]
	return ok
}
