package state

import (
	"github.com/strata-dc/strata/master/mesos"
)

// Broadcast is an operator event for every operator SUBSCRIBE stream
// (TASK_ADDED, AGENT_REMOVED, …, and Strata's OFFER_* events, which the
// daemon sends only to streams that asked for them). The machine emits
// them only while SetWatched(true), so a master nobody watches does not
// pay for them.
type Broadcast struct {
	Event *mesos.OperatorEvent
}

func (Broadcast) isAction() {}

// SetWatched turns operator events on or off; the daemon turns them on
// while an operator stream is open.
func (m *Machine) SetWatched(on bool) { m.watched = on }

// OperatorSnapshot is the state an operator SUBSCRIBE stream opens with;
// the Broadcasts that follow are deltas against it.
func (m *Machine) OperatorSnapshot() *mesos.GetState {
	s := m.Snapshot()
	return &s.State
}

func (m *Machine) broadcast(ev *mesos.OperatorEvent) {
	if m.watched {
		m.emit(Broadcast{Event: ev})
	}
}

func (m *Machine) observeTaskAdded(t *task) {
	if m.watched {
		info := t.info
		m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventTaskAdded, TaskAdded: &mesos.TaskAdded{Task: &info}})
	}
}

func (m *Machine) observeTaskUpdated(t *task, st *mesos.TaskStatus) {
	if m.watched {
		status := *st
		m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventTaskUpdated, TaskUpdated: &mesos.TaskUpdated{
			FrameworkID: t.fw, Status: &status, State: t.state()}})
	}
}

func (m *Machine) observeAgentAdded(ag *agentState) {
	if m.watched {
		a := m.agentView(ag)
		m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventAgentAdded, AgentAdded: &mesos.AgentAdded{Agent: &a}})
	}
}

func (m *Machine) observeAgentRemoved(id mesos.AgentID) {
	m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventAgentRemoved, AgentRemoved: &mesos.AgentRemoved{AgentID: id}})
}

func (m *Machine) observeFramework(fw *frameworkState, added bool) {
	if !m.watched {
		return
	}
	f := m.frameworkView(fw)
	if added {
		m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventFrameworkAdded, FrameworkAdded: &mesos.FrameworkAdded{Framework: &f}})
	} else {
		m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventFrameworkUpdated, FrameworkUpdated: &mesos.FrameworkUpdated{Framework: &f}})
	}
}

func (m *Machine) observeFrameworkRemoved(fw *frameworkState) {
	if m.watched {
		info := fw.info
		m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventFrameworkRemoved, FrameworkRemoved: &mesos.FrameworkRemoved{FrameworkInfo: &info}})
	}
}

func (m *Machine) observeOfferSent(o *offer) {
	if m.watched {
		msg := o.msg
		m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventOfferSent, OfferSent: &mesos.OfferSent{Offer: &msg}})
	}
}

func (m *Machine) observeOfferRescinded(o *offer, reason string) {
	m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventOfferRescinded, OfferRescinded: &mesos.OfferRescinded{
		OfferID: o.id, FrameworkID: o.fw, AgentID: o.agent, Resources: o.resources, Reason: reason}})
}
