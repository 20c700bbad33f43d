package state

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/strata-dc/strata/master/allocator"
	"github.com/strata-dc/strata/master/mesos"
)

// frameworkState is one framework the master knows: subscribed, or
// disconnected within its failover timeout, or recovered (known from the
// registry or agents' reports but not subscribed since this master leads).
type frameworkState struct {
	id           mesos.FrameworkID
	info         mesos.FrameworkInfo
	suppressed   []string
	stream       StreamID // "" while disconnected
	registered   time.Time
	reregistered time.Time
	unregistered time.Time
	recovered    bool
	inAlloc      bool
	failoverAt   time.Time // set while disconnected
	tasks        map[mesos.TaskID]*task
	offers       map[mesos.OfferID]*offer
}

func (fw *frameworkState) connected() bool { return fw.stream != "" }

func (fw *frameworkState) partitionAware() bool {
	return fw.info.HasCapability(mesos.FrameworkCapabilityPartitionAware)
}

// failoverTimeout is the framework's own failover_timeout, or def when it
// sets none.
func (fw *frameworkState) failoverTimeout(def time.Duration) time.Duration {
	if s, ok := fw.info.GetFailoverTimeout(); ok && s >= 0 && s < 1e9 {
		return time.Duration(s * float64(time.Second))
	}
	return def
}

func (m *Machine) newFramework(id mesos.FrameworkID, info mesos.FrameworkInfo) *frameworkState {
	info.ID = id
	fw := &frameworkState{id: id, info: info, registered: m.now,
		tasks: make(map[mesos.TaskID]*task), offers: make(map[mesos.OfferID]*offer)}
	m.frameworks[id] = fw
	return fw
}

// schedulerCall dispatches a scheduler call: SUBSCRIBE opens a stream;
// every other call needs the framework subscribed on the stream named by
// the request's Mesos-Stream-Id.
func (m *Machine) schedulerCall(ev SchedulerCall) {
	c := ev.Call
	if c.Type == mesos.CallSubscribe {
		m.subscribe(ev)
		return
	}
	fw := m.frameworks[c.FrameworkID]
	if fw == nil || !fw.connected() {
		m.reply(ev.Req, 403, fmt.Sprintf("framework_id: framework %s is not subscribed", c.FrameworkID))
		return
	}
	if ev.Stream != fw.stream {
		m.reply(ev.Req, 400, "Mesos-Stream-Id: does not match the framework's subscription")
		return
	}
	// REVIVE and SUPPRESS may come without a body: all roles.
	if c.Type == mesos.CallRevive && c.Revive == nil {
		c.Revive = &mesos.Revive{}
	}
	if c.Type == mesos.CallSuppress && c.Suppress == nil {
		c.Suppress = &mesos.Suppress{}
	}
	switch c.Type {
	case mesos.CallAccept:
		m.accept(ev.Req, fw, c.Accept)
	case mesos.CallDecline:
		m.decline(ev.Req, fw, c.Decline)
	case mesos.CallRevive:
		if !m.checkRoles(ev.Req, fw, "revive.roles", c.Revive.Roles) {
			return
		}
		_ = m.alloc.Revive(fw.id, c.Revive.Roles...)
		fw.suppressed = removeRoles(fw.suppressed, c.Revive.Roles, fw.info.GetRoles())
		m.allocDue = true
		m.reply(ev.Req, 202, "")
	case mesos.CallSuppress:
		if !m.checkRoles(ev.Req, fw, "suppress.roles", c.Suppress.Roles) {
			return
		}
		_ = m.alloc.Suppress(fw.id, c.Suppress.Roles...)
		roles := c.Suppress.Roles
		if len(roles) == 0 {
			roles = fw.info.GetRoles()
		}
		for _, r := range roles {
			if !slices.Contains(fw.suppressed, r) {
				fw.suppressed = append(fw.suppressed, r)
			}
		}
		m.reply(ev.Req, 202, "")
	case mesos.CallKill:
		m.kill(ev.Req, fw, c.Kill)
	case mesos.CallShutdown:
		m.shutdownExecutor(ev.Req, fw, c.Shutdown)
	case mesos.CallAcknowledge:
		m.acknowledge(ev.Req, fw, c.Acknowledge)
	case mesos.CallReconcile:
		m.reconcile(ev.Req, fw, c.Reconcile)
	case mesos.CallMessage:
		ag := m.agents[c.Message.AgentID]
		if ag == nil || !ag.connected() {
			m.reply(ev.Req, 400, fmt.Sprintf("message.agent_id: agent %s is not connected", c.Message.AgentID))
			return
		}
		m.reply(ev.Req, 202, "")
		m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventMessage, Message: &mesos.AgentFrameworkMessage{
			FrameworkID: fw.id, ExecutorID: c.Message.ExecutorID, Data: c.Message.Data}})
	case mesos.CallUpdateFramework:
		m.updateFramework(ev.Req, fw, c.UpdateFramework)
	case mesos.CallTeardown:
		m.reply(ev.Req, 202, "")
		m.removeFramework(fw, "the framework tore itself down")
	case mesos.CallRequest, mesos.CallAcceptInverseOffers, mesos.CallDeclineInverseOffers,
		mesos.CallAcknowledgeOperationStatus, mesos.CallReconcileOperations:
		m.reply(ev.Req, 202, "") // nothing to do: no inverse offers or operation feedback yet
	default:
		m.reply(ev.Req, 400, fmt.Sprintf("type: %s is not served by this master yet", c.Type))
	}
}

// checkRoles requires roles to be among the framework's.
func (m *Machine) checkRoles(req ReqID, fw *frameworkState, field string, roles []string) bool {
	mine := fw.info.GetRoles()
	for i, r := range roles {
		if !slices.Contains(mine, r) {
			m.reply(req, 400, fmt.Sprintf("%s[%d]: role %q is not one of the framework's roles", field, i, r))
			return false
		}
	}
	return true
}

func removeRoles(list, roles, all []string) []string {
	if len(roles) == 0 {
		roles = all
	}
	return slices.DeleteFunc(slices.Clone(list), func(r string) bool { return slices.Contains(roles, r) })
}

// subscribe handles SUBSCRIBE: a new framework gets an ID; one with an ID
// fails over to this stream (the older stream is told and closed).
func (m *Machine) subscribe(ev SchedulerCall) {
	sub := ev.Call.Subscribe
	info := *sub.FrameworkInfo
	roles := info.GetRoles()
	for i, r := range sub.SuppressedRoles {
		if !slices.Contains(roles, r) {
			m.reply(ev.Req, 400, fmt.Sprintf("subscribe.suppressed_roles[%d]: role %q is not one of the framework's roles", i, r))
			return
		}
	}
	if info.ID != "" && m.removedFws[info.ID] {
		m.reply(ev.Req, 200, "")
		// Mesos' exact text: clients (ours too) recognise it and stop
		// resubscribing.
		m.emit(SendFramework{Stream: ev.Stream, Event: mesos.NewErrorEvent("Framework has been removed")})
		m.emit(CloseStream{Stream: ev.Stream, Reason: "framework removed"})
		return
	}
	var fw *frameworkState
	added := info.ID == "" || m.frameworks[info.ID] == nil
	if info.ID == "" {
		m.nextFramework++
		fw = m.newFramework(mesos.FrameworkID(fmt.Sprintf("%s-%04d", m.cfg.MasterID, m.nextFramework)), info)
	} else if fw = m.frameworks[info.ID]; fw == nil {
		// Known before this master led (or before a registry write landed).
		fw = m.newFramework(info.ID, info)
	} else {
		if fw.stream != "" {
			m.emit(SendFramework{Stream: fw.stream, Event: mesos.NewErrorEvent("Framework failed over")})
			m.emit(CloseStream{Stream: fw.stream, Reason: "framework failed over"})
			delete(m.fwStream, fw.stream)
			fw.stream = ""
		}
		m.rescindFrameworkOffers(fw, false, "framework failed over")
		fw.reregistered = m.now
	}
	info.ID = fw.id
	fw.info = info
	fw.suppressed = slices.Clone(sub.SuppressedRoles)
	fw.recovered = false
	fw.failoverAt = time.Time{}
	fw.unregistered = time.Time{}
	ai := allocator.FrameworkInfoOf(&fw.info, fw.suppressed)
	if fw.inAlloc {
		_ = m.alloc.UpdateFramework(fw.id, ai)
		_ = m.alloc.ActivateFramework(fw.id)
	} else {
		used := make(map[mesos.AgentID]mesos.Resources)
		for _, t := range fw.tasks {
			if !t.recovered && !t.state().IsTerminal() {
				used[t.agent] = used[t.agent].Add(t.resources...)
			}
		}
		// Resources the agents reported are already held as orphans and
		// adopted; an error only says some were not tracked twice.
		_ = m.alloc.AddFramework(fw.id, ai, used, true)
		fw.inAlloc = true
	}
	fw.stream = ev.Stream
	m.fwStream[ev.Stream] = fw
	m.allocDue = true
	m.reply(ev.Req, 200, "")
	m.sendFramework(fw, &mesos.Event{Type: mesos.EventSubscribed, Subscribed: &mesos.Subscribed{
		FrameworkID: fw.id, HeartbeatIntervalSeconds: m.cfg.HeartbeatInterval.Seconds(), MasterInfo: m.masterInfo()}})
	for _, id := range sortedKeys(fw.tasks) {
		m.forwardHead(fw, fw.tasks[id])
	}
	m.observeFramework(fw, added)
	m.emit(RegistryWrite{Path: frameworkPath(fw.id), Value: RegistryFramework{Info: fw.info}})
}

// disconnectFramework handles a scheduler's stream ending: its offers are
// rescinded, it gets no more, and it has its failover timeout to return.
func (m *Machine) disconnectFramework(fw *frameworkState) {
	delete(m.fwStream, fw.stream)
	fw.stream = ""
	fw.unregistered = m.now
	m.rescindFrameworkOffers(fw, false, "framework disconnected")
	_ = m.alloc.DeactivateFramework(fw.id)
	fw.failoverAt = m.now.Add(fw.failoverTimeout(m.cfg.FailoverTimeout))
	m.observeFramework(fw, false)
	m.emit(RegistryWrite{Path: frameworkPath(fw.id), Value: RegistryFramework{Info: fw.info, FailoverDeadline: mesos.TimeInfoOf(fw.failoverAt)}})
}

// checkFrameworks tears down frameworks whose failover timeout passed.
func (m *Machine) checkFrameworks(now time.Time) {
	var due []mesos.FrameworkID
	for id, fw := range m.frameworks {
		if !fw.connected() && !fw.failoverAt.IsZero() && !now.Before(fw.failoverAt) {
			due = append(due, id)
		}
	}
	slices.Sort(due)
	for _, id := range due {
		m.removeFramework(m.frameworks[id], "failover timeout elapsed")
	}
}

// heartbeat sends HEARTBEAT on every scheduler stream.
func (m *Machine) heartbeat() {
	for _, id := range sortedKeys(m.frameworks) {
		m.sendFramework(m.frameworks[id], mesos.NewHeartbeatEvent())
	}
}

// removeFramework tears a framework down: its stream is closed, its
// offers withdrawn, its tasks killed on their agents.
func (m *Machine) removeFramework(fw *frameworkState, why string) {
	if fw.stream != "" {
		m.emit(SendFramework{Stream: fw.stream, Event: mesos.NewErrorEvent("framework removed: " + why)})
		m.emit(CloseStream{Stream: fw.stream, Reason: why})
		delete(m.fwStream, fw.stream)
		fw.stream = ""
	}
	m.rescindFrameworkOffers(fw, false, "framework removed")
	agents := make(map[mesos.AgentID]bool)
	for _, id := range sortedKeys(fw.tasks) {
		t := fw.tasks[id]
		agents[t.agent] = true
		m.dropPending(t)
		t.info.State = mesos.TaskKilled
		t.changed()
		m.removeTask(t)
	}
	for _, id := range slices.Sorted(maps.Keys(agents)) {
		if ag := m.agents[id]; ag != nil {
			m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventShutdownFramework,
				ShutdownFramework: &mesos.ShutdownFramework{FrameworkID: fw.id}})
		}
	}
	if fw.inAlloc {
		_ = m.alloc.RemoveFramework(fw.id)
	}
	delete(m.frameworks, fw.id)
	m.removedFws[fw.id] = true
	fw.unregistered = m.now
	m.completedFw = append(m.completedFw, fw)
	if len(m.completedFw) > maxCompletedFrameworks {
		m.completedFw = slices.Delete(m.completedFw, 0, len(m.completedFw)-maxCompletedFrameworks)
	}
	m.allocDue = true
	m.observeFrameworkRemoved(fw)
	// The entry stays, marked removed, so that the next leader too
	// refuses the ID (see subscribe).
	m.emit(RegistryWrite{Path: frameworkPath(fw.id), Value: RegistryFramework{Info: fw.info, Removed: mesos.TimeInfoOf(m.now)}})
}

// shutdownExecutor handles SHUTDOWN: every task of the executor on the
// agent is killed.
func (m *Machine) shutdownExecutor(req ReqID, fw *frameworkState, s *mesos.Shutdown) {
	ag := m.agents[s.AgentID]
	if ag == nil {
		m.reply(req, 400, fmt.Sprintf("shutdown.agent_id: unknown agent %s", s.AgentID))
		return
	}
	m.reply(req, 202, "")
	for _, id := range sortedKeys(fw.tasks) {
		t := fw.tasks[id]
		if t.agent == s.AgentID && t.info.ExecutorID == s.ExecutorID {
			t.killing = true
			m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventKillTask, KillTask: &mesos.KillTask{FrameworkID: fw.id, TaskID: id}})
		}
	}
}

func sortedKeys[K ~string, V any](m map[K]V) []K { return slices.Sorted(maps.Keys(m)) }

// updateFramework handles UPDATE_FRAMEWORK: new info (name, roles,
// capabilities, failover timeout…) and suppressed roles, without
// resubscribing. Outstanding offers are rescinded, since they may be for
// roles the framework left.
func (m *Machine) updateFramework(req ReqID, fw *frameworkState, u *mesos.UpdateFramework) {
	info := *u.FrameworkInfo
	roles := info.GetRoles()
	for i, r := range u.SuppressedRoles {
		if !slices.Contains(roles, r) {
			m.reply(req, 400, fmt.Sprintf("update_framework.suppressed_roles[%d]: role %q is not one of the framework's roles", i, r))
			return
		}
	}
	if info.User != fw.info.User {
		m.reply(req, 400, "update_framework.framework_info.user: cannot change")
		return
	}
	if err := m.alloc.UpdateFramework(fw.id, allocator.FrameworkInfoOf(&info, u.SuppressedRoles)); err != nil {
		m.reply(req, 400, "update_framework.framework_info: "+err.Error())
		return
	}
	m.reply(req, 202, "")
	m.rescindFrameworkOffers(fw, true, "framework updated")
	info.ID = fw.id
	fw.info = info
	fw.suppressed = slices.Clone(u.SuppressedRoles)
	m.allocDue = true
	m.observeFramework(fw, false)
	m.emit(RegistryWrite{Path: frameworkPath(fw.id), Value: RegistryFramework{Info: fw.info}})
}
