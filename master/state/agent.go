package state

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/strata-dc/strata/master/allocator"
	"github.com/strata-dc/strata/master/mesos"
)

// agentState is one admitted agent.
type agentState struct {
	id            mesos.AgentID
	info          mesos.AgentInfo
	total         mesos.Resources
	capabilities  []mesos.AgentCapability
	version       string
	pid           string
	bootID        string
	stream        StreamID // "" while disconnected
	registered    time.Time
	reregistered  time.Time
	lastPong      time.Time
	lastPing      time.Time
	unreachable   bool
	unreachableAt time.Time
	deactivated   bool
	drain         *mesos.DrainInfo // set while draining or drained (maintenance.go)
	drainStart    time.Time        // when the drain began, for estimated_drain_start_time
	markingGone   bool             // a drain with mark_gone is being written to the registry
	tasks         map[taskKey]*task
	offers        map[mesos.OfferID]*offer
}

func (ag *agentState) connected() bool { return ag.stream != "" }

// agentCall dispatches an agent's call.
func (m *Machine) agentCall(ev AgentCall) {
	c := ev.Call
	if c.Type == mesos.AgentCallSubscribe {
		m.agentSubscribe(ev)
		return
	}
	ag := m.agents[c.AgentID]
	if ag == nil || !ag.connected() {
		m.reply(ev.Req, 403, fmt.Sprintf("agent_id: agent %s is not subscribed", c.AgentID))
		return
	}
	if ag.stream != ev.Stream {
		m.reply(ev.Req, 400, "Mesos-Stream-Id: does not match the agent's subscription")
		return
	}
	ag.lastPong = m.now
	switch c.Type {
	case mesos.AgentCallPong:
		m.reply(ev.Req, 202, "")
	case mesos.AgentCallUpdate:
		m.agentUpdate(ev.Req, ag, c.Update.FrameworkID, c.Update.Status)
	case mesos.AgentCallMessage:
		fw := m.frameworks[c.Message.FrameworkID]
		if fw == nil {
			m.reply(ev.Req, 400, fmt.Sprintf("message.framework_id: unknown framework %s", c.Message.FrameworkID))
			return
		}
		m.sendFramework(fw, &mesos.Event{Type: mesos.EventMessage, Message: &mesos.Message{
			AgentID: ag.id, ExecutorID: c.Message.ExecutorID, Data: c.Message.Data}})
		m.reply(ev.Req, 202, "")
	default:
		m.reply(ev.Req, 400, fmt.Sprintf("type: %s is not an agent call this master serves", c.Type))
	}
}

// agentSubscribe registers or reregisters an agent.
func (m *Machine) agentSubscribe(ev AgentCall) {
	sub := ev.Call.Subscribe
	id := sub.AgentID
	total := sub.TotalResources()
	if err := total.Validate(); err != nil {
		m.reply(ev.Req, 400, "subscribe.resources: "+err.Error())
		return
	}
	if id != "" && m.gone[id] {
		m.reply(ev.Req, 403, fmt.Sprintf("subscribe.agent_id: agent %s was marked gone", id))
		return
	}
	if id == "" {
		// A new agent: admit it durably before telling it its ID.
		m.nextAgent++
		id = mesos.AgentID(fmt.Sprintf("%s-S%d", m.cfg.MasterID, m.nextAgent))
		info := *sub.AgentInfo
		info.ID = id
		info.Resources = total
		m.pending[ev.Stream] = true
		m.reply(ev.Req, 200, "")
		stream := ev.Stream
		m.emit(RegistryWrite{Path: agentPath(id), Value: RegistryAgent{Info: info},
			Then: registryApplied{apply: func(m *Machine, now time.Time) {
				if !m.pending[stream] {
					return // the agent went away meanwhile; it is admitted and may come back
				}
				delete(m.pending, stream)
				m.admit(stream, id, sub, total, false)
			}}})
		return
	}
	m.reply(ev.Req, 200, "")
	if ag := m.agents[id]; ag != nil {
		m.readmit(ev.Stream, ag, sub, keepReservations(ag.total, total))
		return
	}
	if ra, ok := m.recovered[id]; ok {
		delete(m.recovered, id)
		m.agentRecovered()
		total = keepReservations(ra.Info.Resources, total)
		m.admit(ev.Stream, id, sub, total, true)
		m.restoreMaintenance(id, ra)
		return
	}
	// An agent this master has not heard of (its registry entry predates
	// the registry, or was lost), or one the registry has as unreachable:
	// admit it under its own ID, durably first (which clears its
	// unreachable mark). Tasks it reports come back RUNNING to their
	// frameworks, who were told they were unreachable (or lost).
	info := *sub.AgentInfo
	info.ID = id
	var prev RegistryAgent
	if ra, ok := m.lostAgents[id]; ok {
		delete(m.lostAgents, id)
		prev = ra
		total = keepReservations(ra.Info.Resources, total)
	}
	info.Resources = total
	m.pending[ev.Stream] = true
	stream := ev.Stream
	m.emit(RegistryWrite{Path: agentPath(id), Value: RegistryAgent{Info: info, Drain: prev.Drain, Deactivated: prev.Deactivated},
		Then: registryApplied{apply: func(m *Machine, now time.Time) {
			if !m.pending[stream] {
				return
			}
			delete(m.pending, stream)
			if ag := m.agents[id]; ag != nil {
				m.readmit(stream, ag, sub, total)
				return
			}
			m.admit(stream, id, sub, total, true)
			m.restoreMaintenance(id, prev)
		}}})
}

// admit adds an agent the master does not track yet, with the tasks it
// reports.
func (m *Machine) admit(stream StreamID, id mesos.AgentID, sub *mesos.AgentSubscribe, total mesos.Resources, re bool) {
	info := *sub.AgentInfo
	info.ID = id
	info.Resources = total
	ag := &agentState{
		id: id, info: info, total: total, capabilities: sub.Capabilities, version: sub.Version, pid: sub.PID,
		bootID: sub.BootID, stream: stream, registered: m.now, lastPong: m.now, lastPing: m.now,
		tasks: make(map[taskKey]*task, len(sub.Tasks)), offers: make(map[mesos.OfferID]*offer),
	}
	if re {
		ag.reregistered = m.now
	}
	for _, fi := range sub.Frameworks {
		if fi.ID != "" && m.frameworks[fi.ID] == nil && !m.removedFws[fi.ID] {
			fw := m.newFramework(fi.ID, fi)
			fw.recovered = true
			fw.failoverAt = m.now.Add(fw.failoverTimeout(m.cfg.FailoverTimeout))
		}
	}
	adopted := make([]*task, 0, len(sub.Tasks))
	for i := range sub.Tasks {
		if t := m.adoptTask(ag, &sub.Tasks[i]); t != nil && !t.state().IsTerminal() {
			adopted = append(adopted, t)
		}
	}
	used := usedByFramework(adopted)
	// Frameworks the allocator does not know yet get their share as
	// orphans; AddFramework adopts them when they subscribe.
	if err := m.alloc.AddAgent(id, allocInfo(&info), total, used); err != nil {
		// The reported tasks don't fit the total: track the agent without them.
		_ = m.alloc.AddAgent(id, allocInfo(&info), total, nil)
	}
	m.agents[id] = ag
	m.agentStream[stream] = ag
	m.allocDue = true
	m.observeAgentAdded(ag)
	m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventSubscribed, Subscribed: &mesos.AgentSubscribed{
		AgentID: id, HeartbeatIntervalSeconds: m.pingInterval().Seconds(), MasterInfo: m.masterInfo()}})
	m.shutdownRemoved(ag, sub)
	for _, t := range ag.tasks {
		if fw := m.frameworks[t.fw]; fw != nil && !fw.recovered && t.state() == mesos.TaskRunning && re {
			m.masterUpdate(fw, t, mesos.TaskRunning, mesos.ReasonAgentReregistered, "agent reregistered")
		}
	}
}

// readmit handles SUBSCRIBE from an agent the master tracks: a new stream
// replaces the old one, an unreachable agent comes back, and the master
// adopts what the agent says it runs.
func (m *Machine) readmit(stream StreamID, ag *agentState, sub *mesos.AgentSubscribe, total mesos.Resources) {
	if ag.stream != "" && ag.stream != stream {
		m.emit(CloseStream{Stream: ag.stream, Reason: "a newer subscription of this agent replaced this one"})
		delete(m.agentStream, ag.stream)
	}
	m.rescindAgentOffers(ag)
	rebooted := sub.BootID != "" && ag.bootID != "" && sub.BootID != ag.bootID
	reported := make(map[taskKey]bool)
	for i := range sub.Tasks {
		reported[taskKey{sub.Tasks[i].FrameworkID, sub.Tasks[i].TaskID}] = true
	}
	// Tasks the master knew but the agent no longer runs are gone.
	for _, key := range sortedTaskKeys(ag.tasks) {
		t := ag.tasks[key]
		if reported[key] {
			continue
		}
		if t.state().IsTerminal() {
			if len(t.pending) == 0 {
				// Adopted finished, and its update never came: the agent
				// no longer holds it, so nothing is left to deliver.
				m.removeTask(t)
			}
			continue
		}
		fw := m.frameworks[t.fw]
		state := mesos.TaskGone
		if fw == nil || !fw.partitionAware() {
			state = mesos.TaskLost
		}
		reason := mesos.ReasonAgentReregistered
		if rebooted {
			reason = mesos.ReasonAgentRestarted
		}
		m.finishTask(t, state, reason, "the agent no longer runs this task")
	}
	wasUnreachable := ag.unreachable
	ag.unreachable = false
	ag.stream = stream
	ag.bootID = sub.BootID
	ag.version = sub.Version
	ag.pid = sub.PID
	ag.capabilities = sub.Capabilities
	ag.info = *sub.AgentInfo
	ag.info.ID = ag.id
	ag.info.Resources = total
	ag.total = total
	ag.reregistered = m.now
	ag.lastPong, ag.lastPing = m.now, m.now
	m.agentStream[stream] = ag
	var adopted []*task
	for i := range sub.Tasks {
		key := taskKey{sub.Tasks[i].FrameworkID, sub.Tasks[i].TaskID}
		if t := ag.tasks[key]; t != nil {
			prev := t.state()
			if prev.IsTerminal() {
				// A task does not come back from a terminal state; an
				// agent may report it live while its terminal update is
				// unacknowledged, which the master delivers already.
				continue
			}
			t.info.State = sub.Tasks[i].State
			t.changed()
			if fw := m.frameworks[t.fw]; fw != nil && prev != t.info.State && !t.info.State.IsTerminal() {
				m.masterUpdate(fw, t, t.info.State, mesos.ReasonAgentReregistered, "agent reregistered")
			}
			continue
		}
		t := m.adoptTask(ag, &sub.Tasks[i])
		if t != nil && !t.state().IsTerminal() {
			adopted = append(adopted, t)
		}
		// Frameworks that are not PARTITION_AWARE were told these tasks
		// were lost; as in Mesos, they do not come back to life.
		if fw := m.frameworks[key.fw]; t != nil && wasUnreachable && fw != nil && !fw.recovered && !fw.partitionAware() {
			t.killing = true
		}
	}
	if wasUnreachable {
		used := make(map[mesos.FrameworkID]mesos.Resources)
		for _, t := range ag.tasks {
			if !t.state().IsTerminal() {
				used[t.fw] = used[t.fw].Add(t.resources...)
			}
		}
		_ = m.alloc.RemoveAgent(ag.id)
		if err := m.alloc.AddAgent(ag.id, allocInfo(&ag.info), total, used); err != nil {
			_ = m.alloc.AddAgent(ag.id, allocInfo(&ag.info), total, nil)
		}
		if wasUnreachable {
			m.emit(RegistryWrite{Path: agentPath(ag.id), Value: m.registryAgent(ag)})
		}
	} else {
		_ = m.alloc.UpdateAgent(ag.id, allocInfo(&ag.info), total)
		_ = m.alloc.ActivateAgent(ag.id)
		// Tasks the master learns of only now (launched while it was not
		// looking) hold resources too.
		for _, t := range adopted {
			_ = m.alloc.Allocated(t.fw, ag.id, t.resources)
		}
	}
	if ag.deactivated {
		_ = m.alloc.DeactivateAgent(ag.id)
	}
	m.allocDue = true
	m.observeAgentAdded(ag)
	m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventSubscribed, Subscribed: &mesos.AgentSubscribed{
		AgentID: ag.id, HeartbeatIntervalSeconds: m.pingInterval().Seconds(), MasterInfo: m.masterInfo()}})
	m.shutdownRemoved(ag, sub)
	// Kills asked for while the agent was away.
	for _, key := range sortedTaskKeys(ag.tasks) {
		if t := ag.tasks[key]; t.killing && !t.state().IsTerminal() {
			m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventKillTask, KillTask: &mesos.KillTask{
				FrameworkID: key.fw, TaskID: key.id}})
		}
	}
	// A draining or drained agent hears of it again: it may have
	// restarted, or missed the first DRAIN.
	m.sendDrain(ag)
	m.checkDrained(ag)
}

// usedByFramework sums what tasks hold per framework, for the allocator.
// When every task holds only plain scalars (nearly always) the lists are
// concatenated, not added: the allocator sums them in thousandths itself,
// and adding resource lists task by task dominated a new leader taking
// back 100,000 tasks.
func usedByFramework(tasks []*task) map[mesos.FrameworkID]mesos.Resources {
	used := make(map[mesos.FrameworkID]mesos.Resources)
	for _, t := range tasks {
		if !plainScalars(t.resources) {
			for _, t := range tasks {
				used[t.fw] = used[t.fw].Add(t.resources...)
			}
			return used
		}
	}
	// A framework's only task on the agent lends its list (the allocator
	// only reads it); others get one list of the right size.
	n := make(map[mesos.FrameworkID]int)
	for _, t := range tasks {
		n[t.fw] += len(t.resources)
	}
	for _, t := range tasks {
		switch l := used[t.fw]; {
		case l == nil && n[t.fw] == len(t.resources):
			used[t.fw] = t.resources
		case l == nil:
			used[t.fw] = append(make(mesos.Resources, 0, n[t.fw]), t.resources...)
		default:
			used[t.fw] = append(l, t.resources...)
		}
	}
	return used
}

// plainScalars reports whether every entry of rs is a valid, positive,
// unreserved scalar with a distinct name: a list the allocator treats
// the same whether or not it was normalized first.
func plainScalars(rs mesos.Resources) bool {
	for i := range rs {
		r := &rs[i]
		if r.Type != mesos.ValueScalar || r.Scalar == nil || r.Name == "" || r.Ranges != nil || r.Set != nil ||
			r.ProviderID != "" || r.Disk != nil || r.Revocable != nil || r.Shared != nil ||
			len(r.Reservations) != 0 || r.Role != "" || r.Reservation != nil {
			return false
		}
		if s := *r.Scalar; s.IsNaN() || s.IsInf(0) || s.Sign() <= 0 {
			return false
		}
		for j := range i {
			if rs[j].Name == r.Name {
				return false
			}
		}
	}
	return true
}

func allocInfo(info *mesos.AgentInfo) allocator.AgentInfo {
	return allocator.AgentInfo{Hostname: info.Hostname, Attributes: info.Attributes, Domain: info.Domain}
}

// disconnectAgent handles an agent's stream ending: no more offers of its
// resources until it comes back; its tasks stay as they are until it is
// declared unreachable.
func (m *Machine) disconnectAgent(ag *agentState) {
	delete(m.agentStream, ag.stream)
	ag.stream = ""
	m.rescindAgentOffers(ag)
	_ = m.alloc.DeactivateAgent(ag.id)
}

// pingInterval is how often a connected agent is pinged: every
// HeartbeatInterval, but at least once per PingTimeout, as Mesos pings
// every agent_ping_timeout. Pinging less often than PingTimeout would
// declare an idle, healthy agent unreachable after MaxPingMisses ×
// PingTimeout of silence it was never asked to break. Agents are told this
// interval as their heartbeat, so they notice a silent master as soon.
func (m *Machine) pingInterval() time.Duration {
	return min(m.cfg.HeartbeatInterval, m.cfg.PingTimeout)
}

// checkAgents pings connected agents and declares unreachable those whose
// PONGs stopped, and those from the registry that did not come back after
// a failover.
func (m *Machine) checkAgents(now time.Time) {
	limit := m.cfg.PingTimeout * time.Duration(m.cfg.MaxPingMisses)
	every := m.pingInterval()
	// Only agents with something due are sorted (for a deterministic
	// order of actions): an idle tick costs one pass, not a sort.
	var due []*agentState
	for _, ag := range m.agents {
		if !ag.unreachable && (now.Sub(ag.lastPong) >= limit || ag.connected() && now.Sub(ag.lastPing) >= every) {
			due = append(due, ag)
		}
	}
	slices.SortFunc(due, func(a, b *agentState) int { return cmp.Compare(a.id, b.id) })
	for _, ag := range due {
		if now.Sub(ag.lastPong) >= limit {
			m.markUnreachable(ag)
			continue
		}
		if ag.connected() && now.Sub(ag.lastPing) >= every {
			ag.lastPing = now
			m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventPing})
		}
	}
	if len(m.recovered) > 0 && !now.Before(m.recoverBy) {
		m.recoveryTimedOut(now)
	}
}

// recoveryTimedOut marks unreachable, in the registry and for
// reconciliation, the agents of the registry that did not reregister
// within ReregisterTimeout of this master's start. Connected frameworks
// get FAILURE for each, as for an agent that stops answering pings; the
// master never knew their tasks, so reconciliation answers for them
// (TASK_UNREACHABLE, or TASK_LOST) when asked by agent.
func (m *Machine) recoveryTimedOut(now time.Time) {
	for _, id := range sortedKeys(m.recovered) {
		ra := m.recovered[id]
		ra.Unreachable = mesos.TimeInfoOf(now)
		m.lostAgents[id] = ra
		m.emit(RegistryWrite{Path: agentPath(id), Value: ra})
		for _, fid := range sortedKeys(m.frameworks) {
			m.sendFramework(m.frameworks[fid], &mesos.Event{Type: mesos.EventFailure, Failure: &mesos.Failure{AgentID: id}})
		}
	}
	clear(m.recovered)
}

// markUnreachable gives up on an agent for now: its offers are rescinded,
// its tasks become TASK_UNREACHABLE (TASK_LOST for frameworks that are not
// PARTITION_AWARE) and its resources leave the allocator.
func (m *Machine) markUnreachable(ag *agentState) {
	if ag.stream != "" {
		m.emit(CloseStream{Stream: ag.stream, Reason: "agent unreachable: no PONG in time"})
		delete(m.agentStream, ag.stream)
		ag.stream = ""
	}
	m.rescindAgentOffers(ag)
	ag.unreachable = true
	ag.unreachableAt = m.now
	for _, key := range sortedTaskKeys(ag.tasks) {
		t := ag.tasks[key]
		if t.state().IsTerminal() {
			continue
		}
		fw := m.frameworks[t.fw]
		if fw != nil && fw.partitionAware() {
			m.dropPending(t)
			t.info.State = mesos.TaskUnreachable
			t.changed()
			m.masterUpdate(fw, t, mesos.TaskUnreachable, mesos.ReasonAgentRemoved, "agent unreachable")
		} else {
			m.finishTask(t, mesos.TaskLost, mesos.ReasonAgentRemoved, "agent unreachable")
		}
	}
	_ = m.alloc.RemoveAgent(ag.id)
	m.observeAgentRemoved(ag.id)
	for _, id := range sortedKeys(m.frameworks) {
		m.sendFramework(m.frameworks[id], &mesos.Event{Type: mesos.EventFailure, Failure: &mesos.Failure{AgentID: ag.id}})
	}
	ra := m.registryAgent(ag)
	ra.Unreachable = mesos.TimeInfoOf(m.now)
	m.emit(RegistryWrite{Path: agentPath(ag.id), Value: ra})
}

func sortedAgentIDs(m map[mesos.AgentID]*agentState) []mesos.AgentID {
	ids := make([]mesos.AgentID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// registryAgent is what the registry keeps of an admitted agent.
func (m *Machine) registryAgent(ag *agentState) RegistryAgent {
	return RegistryAgent{Info: ag.info, Drain: ag.drain, Deactivated: ag.deactivated}
}

// keepReservations returns known, the master's view of an agent's total
// with its dynamic reservations, when the agent reports the same
// quantities (reported); otherwise what the agent reports. Agents know
// only their --resources; the master keeps what RESERVE made of them.
func keepReservations(known, reported mesos.Resources) mesos.Resources {
	if len(known) > 0 && known.Flatten().Equal(reported.Flatten()) {
		return known
	}
	return reported
}

// shutdownRemoved tells an agent to shut down the frameworks it reports
// tasks of that were torn down (perhaps under an earlier leader, which
// the registry remembers): their tasks are not adopted, as in Mesos.
func (m *Machine) shutdownRemoved(ag *agentState, sub *mesos.AgentSubscribe) {
	done := make(map[mesos.FrameworkID]bool)
	for i := range sub.Tasks {
		id := sub.Tasks[i].FrameworkID
		if m.removedFws[id] && !done[id] {
			done[id] = true
			m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventShutdownFramework,
				ShutdownFramework: &mesos.ShutdownFramework{FrameworkID: id}})
		}
	}
}
