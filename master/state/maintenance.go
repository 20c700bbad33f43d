package state

import (
	"fmt"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Agent maintenance, as in Mesos 1.9+: an operator deactivates an agent
// (DEACTIVATE_AGENT: no more offers of it, outstanding ones rescinded),
// drains it (DRAIN_AGENT: deactivated, and its tasks killed), and
// reactivates it (REACTIVATE_AGENT) once it is drained or was only
// deactivated.
//
//	DRAIN_AGENT → DRAINING ──(no tasks left, every terminal update
//	                          acknowledged)──→ DRAINED ──REACTIVATE_AGENT──→ active
//	                                       └─ mark_gone ─→ gone for good
//
// Both flags live in the agent's registry entry, so a new leader keeps
// them, and a draining (or drained) agent is sent DRAIN again whenever it
// subscribes: it may have restarted, or missed the first one. Agents the
// master knows only from the registry (not yet back after a failover, or
// unreachable) can be deactivated and drained too: the registry entry
// changes now and the agent learns of it when it comes back.

// drainAgent handles DRAIN_AGENT; the reply waits for the registry.
func (m *Machine) drainAgent(req ReqID, d *mesos.DrainAgent) {
	if g := d.MaxGracePeriod; g != nil && (g.Seconds < 0 || g.Nanos < 0) {
		m.reply(req, 400, "drain_agent.max_grace_period: must not be negative")
		return
	}
	cfg := &mesos.DrainConfig{MarkGone: d.MarkGone}
	if g := d.MaxGracePeriod; g != nil {
		cfg.MaxGracePeriod = mesos.DurationInfoOf(g.Duration())
	}
	drain := &mesos.DrainInfo{State: mesos.DrainDraining, Config: cfg}
	id := d.AgentID
	ag := m.agents[id]
	if ag == nil {
		if !m.updateAbsent(req, id, func(ra *RegistryAgent) { ra.Drain, ra.Deactivated = drain, true }) {
			m.reply(req, 400, fmt.Sprintf("drain_agent.agent_id: unknown agent %s", id))
		}
		return
	}
	if ag.markingGone {
		m.reply(req, 409, fmt.Sprintf("drain_agent.agent_id: agent %s is being marked gone", id))
		return
	}
	ra := m.registryAgent(ag)
	ra.Drain, ra.Deactivated = drain, true
	m.emit(RegistryWrite{Path: agentPath(id), Value: ra, Then: registryApplied{apply: func(m *Machine, now time.Time) {
		if ag := m.agents[id]; ag != nil {
			m.startDrain(ag, drain)
		}
		m.reply(req, 200, "")
	}}})
}

// deactivateAgent handles DEACTIVATE_AGENT. A drain in progress, or done,
// stays as it is.
func (m *Machine) deactivateAgent(req ReqID, id mesos.AgentID) {
	ag := m.agents[id]
	if ag == nil {
		if !m.updateAbsent(req, id, func(ra *RegistryAgent) { ra.Deactivated = true }) {
			m.reply(req, 400, fmt.Sprintf("deactivate_agent.agent_id: unknown agent %s", id))
		}
		return
	}
	m.deactivate(ag)
	m.emit(RegistryWrite{Path: agentPath(id), Value: m.registryAgent(ag), Then: registryApplied{apply: func(m *Machine, now time.Time) {
		m.reply(req, 200, "")
	}}})
}

// reactivateAgent handles REACTIVATE_AGENT: allowed for a deactivated
// agent that is not draining (a drained one is reactivated and forgets its
// drain), as in Mesos.
func (m *Machine) reactivateAgent(req ReqID, id mesos.AgentID) {
	var deactivated bool
	var drain *mesos.DrainInfo
	if ag := m.agents[id]; ag != nil {
		deactivated, drain = ag.deactivated, ag.drain
	} else if ra, ok := m.absentAgent(id); ok {
		deactivated, drain = ra.Deactivated, ra.Drain
	} else {
		m.reply(req, 400, fmt.Sprintf("reactivate_agent.agent_id: unknown agent %s", id))
		return
	}
	if !deactivated {
		m.reply(req, 400, fmt.Sprintf("reactivate_agent.agent_id: agent %s is not deactivated", id))
		return
	}
	if drain != nil && drain.State == mesos.DrainDraining {
		m.reply(req, 400, fmt.Sprintf("reactivate_agent.agent_id: agent %s is still in the DRAINING state", id))
		return
	}
	clearFlags := func(ra *RegistryAgent) { ra.Drain, ra.Deactivated = nil, false }
	ag := m.agents[id]
	if ag == nil {
		m.updateAbsent(req, id, clearFlags)
		return
	}
	ra := m.registryAgent(ag)
	clearFlags(&ra)
	m.emit(RegistryWrite{Path: agentPath(id), Value: ra, Then: registryApplied{apply: func(m *Machine, now time.Time) {
		ag := m.agents[id]
		if ag == nil {
			m.reply(req, 409, fmt.Sprintf("reactivate_agent.agent_id: agent %s was removed meanwhile", id))
			return
		}
		ag.deactivated, ag.drain, ag.drainStart = false, nil, time.Time{}
		m.observeAgentAdded(ag)
		if ag.connected() && !ag.unreachable {
			_ = m.alloc.ActivateAgent(id)
			m.allocDue = true
		}
		m.reply(req, 200, "")
	}}})
}

// absentAgent returns the registry entry of an agent the master knows only
// from the registry: one that has not reregistered since a failover, or
// one marked unreachable before it.
func (m *Machine) absentAgent(id mesos.AgentID) (RegistryAgent, bool) {
	if ra, ok := m.recovered[id]; ok {
		return ra, true
	}
	ra, ok := m.lostAgents[id]
	return ra, ok
}

// updateAbsent changes the registry entry of an absent agent (see
// absentAgent) and answers req once it is written; false if there is no
// such agent. The agent learns of the change when it subscribes
// (restoreMaintenance).
func (m *Machine) updateAbsent(req ReqID, id mesos.AgentID, change func(*RegistryAgent)) bool {
	for _, set := range []map[mesos.AgentID]RegistryAgent{m.recovered, m.lostAgents} {
		ra, ok := set[id]
		if !ok {
			continue
		}
		change(&ra)
		set[id] = ra
		m.emit(RegistryWrite{Path: agentPath(id), Value: ra, Then: registryApplied{apply: func(m *Machine, now time.Time) {
			m.reply(req, 200, "")
		}}})
		return true
	}
	return false
}

// deactivate takes an agent out of the offer cycle: its outstanding offers
// are rescinded and the allocator offers it no more. Operator streams hear
// of it as AGENT_ADDED with the agent's new view, as Mesos reports an
// agent that changed on reregistration (there is no AGENT_UPDATED).
func (m *Machine) deactivate(ag *agentState) {
	ag.deactivated = true
	m.rescindAgentOffers(ag)
	_ = m.alloc.DeactivateAgent(ag.id)
	m.observeAgentAdded(ag)
}

// startDrain deactivates an agent and tells it to drain; checkDrained
// finishes the drain.
func (m *Machine) startDrain(ag *agentState, drain *mesos.DrainInfo) {
	ag.drain = drain
	ag.drainStart = m.now
	m.deactivate(ag)
	m.sendDrain(ag)
	m.checkDrained(ag)
}

// sendDrain tells a connected agent to drain. An agent without the
// AGENT_DRAINING capability (Mesos refuses to drain those) is sent a
// KILL_TASK for each live task instead, with the grace period the agent
// would pick: the smaller of the task's own and the drain's maximum.
func (m *Machine) sendDrain(ag *agentState) {
	if ag.drain == nil || !ag.connected() {
		return
	}
	if hasAgentCapability(ag, mesos.AgentCapabilityAgentDraining) {
		m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventDrain, Drain: &mesos.AgentDrain{Config: ag.drain.Config}})
		return
	}
	for _, key := range sortedTaskKeys(ag.tasks) {
		t := ag.tasks[key]
		if t.state().IsTerminal() {
			continue
		}
		m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventKillTask, KillTask: &mesos.KillTask{
			FrameworkID: key.fw, TaskID: key.id, KillPolicy: ag.drain.Config.KillPolicyFor(t.info.KillPolicy)}})
	}
}

func hasAgentCapability(ag *agentState, typ mesos.AgentCapabilityType) bool {
	for _, c := range ag.capabilities {
		if c.Type == typ {
			return true
		}
	}
	return false
}

// checkDrained moves a draining agent to DRAINED once the master tracks no
// task on it, which is once every task has ended and the framework has
// acknowledged its terminal update (as in Mesos, where a task leaves its
// agent only then). With mark_gone the agent is marked gone instead.
func (m *Machine) checkDrained(ag *agentState) {
	if ag.drain == nil || ag.drain.State != mesos.DrainDraining || ag.markingGone || len(ag.tasks) > 0 {
		return
	}
	id := ag.id
	if ag.drain.Config.MarksGone() {
		ag.markingGone = true
		m.emit(RegistryWrite{Path: agentPath(id), Value: RegistryAgent{Info: ag.info, Gone: true},
			Then: registryApplied{apply: func(m *Machine, now time.Time) { m.markGone(id) }}})
		return
	}
	ag.drain = &mesos.DrainInfo{State: mesos.DrainDrained, Config: ag.drain.Config}
	m.observeAgentAdded(ag)
	m.emit(RegistryWrite{Path: agentPath(id), Value: m.registryAgent(ag)})
}

// restoreMaintenance applies what the registry says of an agent's drain
// and deactivation once the agent is back after a failover or from
// unreachable, and resends DRAIN to a draining or drained agent.
func (m *Machine) restoreMaintenance(id mesos.AgentID, ra RegistryAgent) {
	ag := m.agents[id]
	if ag == nil || !ra.Deactivated && ra.Drain == nil {
		return
	}
	ag.drain = ra.Drain
	if ag.drain != nil && ag.drainStart.IsZero() {
		ag.drainStart = m.now
	}
	m.deactivate(ag)
	m.sendDrain(ag)
	m.checkDrained(ag)
}
