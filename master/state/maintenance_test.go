package state

import (
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// addDrainableAgent subscribes a new agent that has the AGENT_DRAINING
// capability, as Strata's agents do.
func (h *harness) addDrainableAgent(stream StreamID, resources string) mesos.AgentID {
	h.t.Helper()
	req := h.nextReq()
	h.step(AgentCall{Req: req, Stream: stream, Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe,
		Subscribe: &mesos.AgentSubscribe{AgentInfo: &mesos.AgentInfo{Hostname: "host-" + string(stream)},
			Resources:    mesos.MustParseResources(resources),
			Capabilities: []mesos.AgentCapability{{Type: mesos.AgentCapabilityAgentDraining}}}}})
	evs := h.agentEvents(stream, mesos.AgentEventSubscribed)
	if r := h.replyOf(req); r.Status != 200 || len(evs) != 1 {
		h.t.Fatalf("agent subscribe: %d %s %s", r.Status, r.Message, describe(h.out))
	}
	return evs[0].Subscribed.AgentID
}

// operator sends an operator call and returns its reply.
func (h *harness) operator(c *mesos.OperatorCall) Reply {
	h.t.Helper()
	req := h.nextReq()
	h.step(OperatorCall{Req: req, Call: c})
	return h.replyOf(req)
}

func drainCall(id mesos.AgentID, maxGrace time.Duration, markGone bool) *mesos.OperatorCall {
	d := &mesos.DrainAgent{AgentID: id, MarkGone: ptr(markGone)}
	if maxGrace >= 0 {
		d.MaxGracePeriod = mesos.ProtoDurationOf(maxGrace)
	}
	return &mesos.OperatorCall{Type: mesos.OperatorDrainAgent, DrainAgent: d}
}

func reactivateCall(id mesos.AgentID) *mesos.OperatorCall {
	return &mesos.OperatorCall{Type: mesos.OperatorReactivateAgent, ReactivateAgent: &mesos.AgentRef{AgentID: id}}
}

func deactivateCall(id mesos.AgentID) *mesos.OperatorCall {
	return &mesos.OperatorCall{Type: mesos.OperatorDeactivateAgent, DeactivateAgent: &mesos.AgentRef{AgentID: id}}
}

func (h *harness) agentView(id mesos.AgentID) mesos.Agent {
	h.t.Helper()
	for _, a := range h.m.Snapshot().State.GetAgents.Agents {
		if a.AgentInfo.ID == id {
			return a
		}
	}
	h.t.Fatalf("agent %s not in GET_AGENTS", id)
	return mesos.Agent{}
}

func (h *harness) ack(stream StreamID, fw mesos.FrameworkID, agent mesos.AgentID, task string, uuid []byte) {
	h.t.Helper()
	if r := h.call(stream, &mesos.Call{Type: mesos.CallAcknowledge, FrameworkID: fw, Acknowledge: &mesos.Acknowledge{
		AgentID: agent, TaskID: mesos.TaskID(task), UUID: uuid}}); r.Status != 202 {
		h.t.Fatalf("acknowledge %s: %d %s", task, r.Status, r.Message)
	}
}

// TestDrainLifecycle follows Mesos' drain: DRAIN_AGENT deactivates the
// agent (its outstanding offer rescinded) and sends it DRAIN with the
// config; it stays DRAINING, and cannot be reactivated, until every task
// has ended and each terminal update is acknowledged; then DRAINED, in
// the registry too; REACTIVATE_AGENT brings offers back.
func TestDrainLifecycle(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addDrainableAgent("a1", "cpus:4;mem:4096")
	fw := h.subscribe("f1", web)
	o := h.offers("f1", time.Second)
	h.call("f1", launchCall(fw, o[0], taskInfo("t1", agent, "cpus:1;mem:64"), taskInfo("t2", agent, "cpus:1;mem:64")))
	if rest := h.offers("f1", 6*time.Second); len(rest) != 1 {
		t.Fatalf("want the rest of the agent offered, got %+v", rest)
	}

	if r := h.operator(drainCall(agent, 5*time.Second, false)); r.Status != 200 {
		t.Fatalf("DRAIN_AGENT: %d %s", r.Status, r.Message)
	}
	if len(h.fwEvents("f1", mesos.EventRescind)) != 1 {
		t.Fatalf("outstanding offer not rescinded: %s", describe(h.out))
	}
	d := h.agentEvents("a1", mesos.AgentEventDrain)
	if len(d) != 1 || d[0].Drain.Config.MaxGracePeriod == nil || d[0].Drain.Config.MaxGracePeriod.Duration() != 5*time.Second {
		t.Fatalf("want DRAIN with max_grace_period 5s: %s", describe(h.out))
	}
	if k := h.agentEvents("a1", mesos.AgentEventKillTask); len(k) != 0 {
		t.Fatalf("a drain-capable agent kills its tasks itself, got KILL_TASK: %s", describe(h.out))
	}
	v := h.agentView(agent)
	if !v.Deactivated || v.Active || v.DrainInfo == nil || v.DrainInfo.State != mesos.DrainDraining || v.EstimatedDrainStartTime == nil {
		t.Fatalf("GET_AGENTS while draining: %+v", v)
	}
	if ra := h.registry[agentPath(agent)].(RegistryAgent); ra.Drain == nil || ra.Drain.State != mesos.DrainDraining || !ra.Deactivated {
		t.Fatalf("registry while draining: %+v", ra)
	}
	if r := h.operator(reactivateCall(agent)); r.Status != 400 || !strings.Contains(r.Message, "DRAINING") {
		t.Fatalf("REACTIVATE_AGENT while draining: %d %s", r.Status, r.Message)
	}

	h.agentCall("a1", statusCall(agent, fw, "t1", mesos.TaskKilled, uuidN(1)))
	h.agentCall("a1", statusCall(agent, fw, "t2", mesos.TaskKilled, uuidN(2)))
	if offers := h.offers("f1", 10*time.Second); len(offers) != 0 {
		t.Fatalf("draining agent offered: %v", offers)
	}
	h.ack("f1", fw, agent, "t1", uuidN(1))
	if s := h.agentView(agent).DrainInfo.State; s != mesos.DrainDraining {
		t.Fatalf("DRAINED with an unacknowledged terminal update: %s", s)
	}
	h.ack("f1", fw, agent, "t2", uuidN(2))
	if s := h.agentView(agent).DrainInfo.State; s != mesos.DrainDrained {
		t.Fatalf("want DRAINED once every update is acknowledged, got %s", s)
	}
	if ra := h.registry[agentPath(agent)].(RegistryAgent); ra.Drain == nil || ra.Drain.State != mesos.DrainDrained {
		t.Fatalf("registry after the drain: %+v", ra)
	}
	if offers := h.offers("f1", 10*time.Second); len(offers) != 0 {
		t.Fatalf("drained agent offered: %v", offers)
	}

	if r := h.operator(reactivateCall(agent)); r.Status != 200 {
		t.Fatalf("REACTIVATE_AGENT when drained: %d %s", r.Status, r.Message)
	}
	if v := h.agentView(agent); v.Deactivated || !v.Active || v.DrainInfo != nil || v.EstimatedDrainStartTime != nil {
		t.Fatalf("GET_AGENTS after reactivation: %+v", v)
	}
	if ra := h.registry[agentPath(agent)].(RegistryAgent); ra.Drain != nil || ra.Deactivated {
		t.Fatalf("registry after reactivation: %+v", ra)
	}
	if offers := h.offers("f1", time.Second); len(offers) != 1 || offers[0].AgentID != agent {
		t.Fatalf("no offer after reactivation: %+v", offers)
	}
}

// TestDrainIdleAgentAndMarkGone: an agent with nothing to kill is DRAINED
// at once; with mark_gone it is marked gone instead (its stream closed,
// the registry says gone, and it may not subscribe again).
func TestDrainIdleAgentAndMarkGone(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	idle := h.addDrainableAgent("a1", "cpus:1;mem:64")
	if r := h.operator(drainCall(idle, -1, false)); r.Status != 200 {
		t.Fatalf("DRAIN_AGENT: %d %s", r.Status, r.Message)
	}
	if d := h.agentEvents("a1", mesos.AgentEventDrain); len(d) != 1 || d[0].Drain.Config.MaxGracePeriod != nil {
		t.Fatalf("want DRAIN without a max grace period: %s", describe(h.out))
	}
	if s := h.agentView(idle).DrainInfo.State; s != mesos.DrainDrained {
		t.Fatalf("idle agent: want DRAINED, got %s", s)
	}

	gone := h.addDrainableAgent("a2", "cpus:1;mem:64")
	if r := h.operator(drainCall(gone, time.Second, true)); r.Status != 200 {
		t.Fatalf("DRAIN_AGENT mark_gone: %d %s", r.Status, r.Message)
	}
	if !h.closed("a2") {
		t.Fatalf("mark_gone: stream not closed: %s", describe(h.out))
	}
	if ra := h.registry[agentPath(gone)].(RegistryAgent); !ra.Gone {
		t.Fatalf("mark_gone: registry %+v", ra)
	}
	req := h.nextReq()
	h.step(AgentCall{Req: req, Stream: "a3", Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: gone,
		Subscribe: &mesos.AgentSubscribe{AgentID: gone, AgentInfo: &mesos.AgentInfo{Hostname: "h"},
			Resources: mesos.MustParseResources("cpus:1")}}})
	if r := h.replyOf(req); r.Status != 403 {
		t.Fatalf("a gone agent subscribed again: %d %s", r.Status, r.Message)
	}
}

// TestDrainFallbackKillPolicy: an agent without AGENT_DRAINING gets a
// KILL_TASK per task with the grace period the agent would have chosen:
// the task's own when within the maximum, else the maximum.
func TestDrainFallbackKillPolicy(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	fw := h.subscribe("f1", web)
	o := h.offers("f1", time.Second)
	short, long, none := taskInfo("short", agent, "cpus:1;mem:64"), taskInfo("long", agent, "cpus:1;mem:64"), taskInfo("none", agent, "cpus:1;mem:64")
	short.KillPolicy = &mesos.KillPolicy{GracePeriod: mesos.DurationInfoOf(time.Second)}
	long.KillPolicy = &mesos.KillPolicy{GracePeriod: mesos.DurationInfoOf(time.Minute)}
	h.call("f1", launchCall(fw, o[0], short, long, none))
	if r := h.operator(drainCall(agent, 10*time.Second, false)); r.Status != 200 {
		t.Fatalf("DRAIN_AGENT: %d %s", r.Status, r.Message)
	}
	got := map[mesos.TaskID]*mesos.KillPolicy{}
	for _, k := range h.agentEvents("a1", mesos.AgentEventKillTask) {
		got[k.KillTask.TaskID] = k.KillTask.KillPolicy
	}
	if len(got) != 3 || got["short"] != nil || got["long"] == nil || got["long"].GracePeriod.Duration() != 10*time.Second ||
		got["none"] == nil || got["none"].GracePeriod.Duration() != 10*time.Second {
		t.Fatalf("kill policies %+v: %s", got, describe(h.out))
	}
}

// TestDeactivateReactivateRules: errors name the field and say why, as
// Mesos' do; deactivation rescinds offers and stops new ones, is written
// to the registry, and survives nothing of a drain it did not start.
func TestDeactivateReactivateRules(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addDrainableAgent("a1", "cpus:4;mem:4096")
	h.subscribe("f1", web)
	if o := h.offers("f1", time.Second); len(o) != 1 {
		t.Fatalf("offers %+v", o)
	}
	for _, tc := range []struct {
		call    *mesos.OperatorCall
		status  int
		mention string
	}{
		{reactivateCall("nope"), 400, "reactivate_agent.agent_id: unknown agent nope"},
		{deactivateCall("nope"), 400, "deactivate_agent.agent_id: unknown agent nope"},
		{drainCall("nope", -1, false), 400, "drain_agent.agent_id: unknown agent nope"},
		{reactivateCall(agent), 400, "is not deactivated"},
		{&mesos.OperatorCall{Type: mesos.OperatorDrainAgent, DrainAgent: &mesos.DrainAgent{AgentID: agent,
			MaxGracePeriod: &mesos.ProtoDuration{Seconds: -1}}}, 400, "drain_agent.max_grace_period"},
	} {
		if r := h.operator(tc.call); r.Status != tc.status || !strings.Contains(r.Message, tc.mention) {
			t.Errorf("%s: got %d %q, want %d mentioning %q", tc.call.Type, r.Status, r.Message, tc.status, tc.mention)
		}
	}
	if r := h.operator(deactivateCall(agent)); r.Status != 200 {
		t.Fatalf("DEACTIVATE_AGENT: %d %s", r.Status, r.Message)
	}
	if len(h.fwEvents("f1", mesos.EventRescind)) != 1 {
		t.Fatalf("offer not rescinded on deactivation: %s", describe(h.out))
	}
	if ra := h.registry[agentPath(agent)].(RegistryAgent); !ra.Deactivated || ra.Drain != nil {
		t.Fatalf("registry after deactivation: %+v", ra)
	}
	if v := h.agentView(agent); !v.Deactivated || v.Active || v.DrainInfo != nil {
		t.Fatalf("GET_AGENTS after deactivation: %+v", v)
	}
	if o := h.offers("f1", 10*time.Second); len(o) != 0 {
		t.Fatalf("deactivated agent offered: %+v", o)
	}
	if r := h.operator(reactivateCall(agent)); r.Status != 200 {
		t.Fatalf("REACTIVATE_AGENT: %d %s", r.Status, r.Message)
	}
	if o := h.offers("f1", time.Second); len(o) != 1 {
		t.Fatalf("no offer after reactivation: %+v", o)
	}
}

// TestDrainSurvivesFailover: a new leader reads the drain from the
// registry; the agent, coming back with its task, is sent DRAIN again,
// stays deactivated, and drains to DRAINED. An agent drained while it was
// still expected back learns of it when it reregisters.
func TestDrainSurvivesFailover(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addDrainableAgent("a1", "cpus:2;mem:256")
	fwInfo := web
	fwID := h.subscribe("f1", fwInfo)
	fwInfo.ID = fwID
	o := h.offers("f1", time.Second)
	h.call("f1", launchCall(fwID, o[0], taskInfo("t1", agent, "cpus:1;mem:64")))
	if r := h.operator(drainCall(agent, 3*time.Second, false)); r.Status != 200 {
		t.Fatalf("DRAIN_AGENT: %d %s", r.Status, r.Message)
	}
	reg := registryOf(h)
	reg.Agents = append(reg.Agents, registryAgents("m0-S9")...)

	h2 := newHarness(t, Config{OfferTimeout: -1, MasterID: "m2", ReregisterTimeout: time.Minute, Registry: reg})
	// Drained while still expected back: the registry changes now.
	if r := h2.operator(drainCall("m0-S9", -1, false)); r.Status != 200 {
		t.Fatalf("DRAIN_AGENT of an agent not back yet: %d %s", r.Status, r.Message)
	}
	if ra := h2.registry[agentPath("m0-S9")].(RegistryAgent); ra.Drain == nil || !ra.Deactivated {
		t.Fatalf("registry of the absent agent: %+v", ra)
	}
	caps := []mesos.AgentCapability{{Type: mesos.AgentCapabilityAgentDraining}}
	resubscribe := func(stream StreamID, id mesos.AgentID, tasks ...mesos.Task) {
		t.Helper()
		req := h2.nextReq()
		h2.step(AgentCall{Req: req, Stream: stream, Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: id,
			Subscribe: &mesos.AgentSubscribe{AgentID: id, AgentInfo: &mesos.AgentInfo{Hostname: "host-" + string(id), ID: id},
				Resources: mesos.MustParseResources("cpus:2;mem:256"), Capabilities: caps,
				Frameworks: []mesos.FrameworkInfo{fwInfo}, Tasks: tasks}}})
		if r := h2.replyOf(req); r.Status != 200 {
			t.Fatalf("reregister %s: %d %s", id, r.Status, r.Message)
		}
	}
	resubscribe("b1", agent, mesos.Task{Name: "t1", TaskID: "t1", FrameworkID: fwID, AgentID: agent, State: mesos.TaskRunning,
		Resources: mesos.MustParseResources("cpus:1;mem:64")})
	if d := h2.agentEvents("b1", mesos.AgentEventDrain); len(d) != 1 || d[0].Drain.Config.MaxGracePeriod.Duration() != 3*time.Second {
		t.Fatalf("DRAIN not resent after failover: %s", describe(h2.out))
	}
	if v := h2.agentView(agent); !v.Deactivated || v.DrainInfo == nil || v.DrainInfo.State != mesos.DrainDraining {
		t.Fatalf("GET_AGENTS after failover: %+v", v)
	}
	resubscribe("b9", "m0-S9")
	if d := h2.agentEvents("b9", mesos.AgentEventDrain); len(d) != 1 {
		t.Fatalf("DRAIN not sent to the agent drained while away: %s", describe(h2.out))
	}
	if v := h2.agentView("m0-S9"); !v.Deactivated || v.DrainInfo == nil || v.DrainInfo.State != mesos.DrainDrained {
		t.Fatalf("idle agent drained while away: %+v", v)
	}
	h2.subscribe("f1", fwInfo)
	if o := h2.offers("f1", 10*time.Second); len(o) != 0 {
		t.Fatalf("draining agents offered after failover: %+v", o)
	}
	h2.agentCall("b1", statusCall(agent, fwID, "t1", mesos.TaskKilled, uuidN(1)))
	h2.ack("f1", fwID, agent, "t1", uuidN(1))
	if v := h2.agentView(agent); v.DrainInfo == nil || v.DrainInfo.State != mesos.DrainDrained {
		t.Fatalf("after the kill: %+v", v)
	}
}
