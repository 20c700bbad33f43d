package agent_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/mesos"
)

// operatorCall posts a master operator API call and returns the status
// code and body.
func operatorCall(t *testing.T, m *master.Master, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post("http://"+m.Addr().String()+"/api/v1", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("operator call %s: %v", body, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// agentOf returns the master's GET_AGENTS view of agent id, if it lists it
// (as a registered agent, not a recovered one).
func agentOf(t *testing.T, m *master.Master, id mesos.AgentID) (mesos.Agent, bool) {
	t.Helper()
	code, body := operatorCall(t, m, `{"type":"GET_AGENTS"}`)
	if code != http.StatusOK {
		t.Fatalf("GET_AGENTS: %d %s", code, body)
	}
	var r mesos.OperatorResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("GET_AGENTS: %v: %s", err, body)
	}
	for _, a := range r.GetAgents.Agents {
		if a.AgentInfo.ID == id {
			return a, true
		}
	}
	return mesos.Agent{}, false
}

func drainState(t *testing.T, m *master.Master, id mesos.AgentID) mesos.DrainState {
	a, ok := agentOf(t, m, id)
	if !ok || a.DrainInfo == nil {
		return ""
	}
	return a.DrainInfo.State
}

func agentCallBody(call string, id mesos.AgentID, extra string) string {
	body := strings.ToLower(call)
	return fmt.Sprintf(`{"type":%q,%q:{"agent_id":{"value":%q}%s}}`, call, body, id, extra)
}

// TestIntegration_DrainAgent: DRAIN_AGENT with a max grace period kills a
// task that ignores SIGTERM and has a long grace period of its own
// (longer than the test's patience: only the max grace period ends it),
// reported TASK_KILLED with REASON_AGENT_DRAINING; the agent goes DRAINED
// and is offered to nobody; the drain survives a master restart;
// REACTIVATE_AGENT brings its offers back and it runs tasks again.
func TestIntegration_DrainAgent(t *testing.T) {
	e := startCoord(t)
	m1, stop1 := startStoppableMaster(t, e)
	waitFor(t, "leadership", m1.Leading)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	failover := 3600.0
	info := mesos.FrameworkInfo{User: "test", Name: "drain", FailoverTimeout: &failover,
		Capabilities: []mesos.FrameworkCapability{{Type: mesos.FrameworkCapabilityTaskKillingState}}}
	s := newTestScheduler(t, m1, info)
	ti := mesos.TaskInfo{Name: "stubborn", TaskID: "stubborn",
		Command:    &mesos.CommandInfo{Value: "trap '' TERM; while :; do sleep 0.1; done"},
		KillPolicy: &mesos.KillPolicy{GracePeriod: mesos.DurationInfoOf(10 * patience)}}
	id := s.launchTasks(ti)
	s.await("stubborn", mesos.TaskRunning)

	if code, body := operatorCall(t, m1, agentCallBody("REACTIVATE_AGENT", id, "")); code != http.StatusBadRequest {
		t.Fatalf("REACTIVATE_AGENT of an active agent: %d %s", code, body)
	}
	if code, body := operatorCall(t, m1, agentCallBody("DRAIN_AGENT", id, `,"max_grace_period":{"seconds":1}`)); code != http.StatusOK {
		t.Fatalf("DRAIN_AGENT: %d %s", code, body)
	}
	offered := false // an offer of the agent while it is deactivated
	sawOffer := func(ev *mesos.Event) {
		if ev.Type == mesos.EventOffers {
			for _, o := range ev.Offers.Offers {
				offered = offered || o.AgentID == id
			}
		}
	}
	var killing, killed *mesos.TaskStatus
	for killed == nil {
		ev := s.next(func(ev *mesos.Event) bool {
			sawOffer(ev)
			return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID == "stubborn"
		})
		st := ev.Update.Status
		s.call(&mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{AgentID: st.AgentID, TaskID: st.TaskID, UUID: st.UUID}})
		switch st.State {
		case mesos.TaskKilling:
			killing = st
		case mesos.TaskKilled:
			killed = st
		default:
			if st.State.IsTerminal() {
				t.Fatalf("stubborn: %s (%s) %q, want TASK_KILLED", st.State, st.Reason, st.Message)
			}
		}
	}
	if killing == nil || killing.Reason != mesos.ReasonAgentDraining || killed.Reason != mesos.ReasonAgentDraining {
		t.Fatalf("want TASK_KILLING and TASK_KILLED with REASON_AGENT_DRAINING, got %+v and %+v", killing, killed)
	}
	waitFor(t, "the agent to be DRAINED", func() bool { return drainState(t, m1, id) == mesos.DrainDrained })
	waitFor(t, "the agent to finish draining", func() bool { draining, _ := a.Draining(); return !draining })
	if v, _ := agentOf(t, m1, id); v.Active || !v.Deactivated || len(v.OfferedResources) != 0 {
		t.Fatalf("drained agent: active %v, deactivated %v, offered %v", v.Active, v.Deactivated, v.OfferedResources)
	}
	if offered {
		t.Fatal("the draining agent was offered")
	}

	// A new master reads the drain from the registry.
	stop1()
	m2, _ := startStoppableMaster(t, e)
	waitFor(t, "the new master to lead", m2.Leading)
	waitFor(t, "the agent back, DRAINED, on the new master", func() bool { return drainState(t, m2, id) == mesos.DrainDrained })
	info.ID = s.info.ID
	s2 := newTestScheduler(t, m2, info)
	if code, body := operatorCall(t, m2, agentCallBody("REACTIVATE_AGENT", id, "")); code != http.StatusOK {
		t.Fatalf("REACTIVATE_AGENT: %d %s", code, body)
	}
	if v, _ := agentOf(t, m2, id); !v.Active || v.Deactivated || v.DrainInfo != nil {
		t.Fatalf("reactivated agent: %+v", v)
	}
	if offered {
		t.Fatal("the drained agent was offered before it was reactivated")
	}
	// Offers are back, and the agent runs tasks again.
	s2.launch(map[mesos.TaskID]string{"after": "exit 0"})
	s2.await("after", mesos.TaskFinished)
}

// TestIntegration_DrainSurvivesAgentRestart: an agent restarted while it
// drains (a killed task's update still unacknowledged) is still draining,
// from its checkpoint; once the update is acknowledged the drain ends on
// both sides.
func TestIntegration_DrainSurvivesAgentRestart(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	cfg := agentConfig(t, e.URL().String(), newWorkDir(t))
	a := startAgent(t, cfg)
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "drain-restart"})
	id := s.launch(map[mesos.TaskID]string{"sleeper": "sleep 600"})
	s.await("sleeper", mesos.TaskRunning)
	if code, body := operatorCall(t, m, agentCallBody("DRAIN_AGENT", id, `,"max_grace_period":{"seconds":0}`)); code != http.StatusOK {
		t.Fatalf("DRAIN_AGENT: %d %s", code, body)
	}
	// Not acknowledged: the agent keeps the task, and so its drain.
	ev := s.next(func(ev *mesos.Event) bool {
		return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID == "sleeper" && ev.Update.Status.State.IsTerminal()
	})
	if st := ev.Update.Status; st.State != mesos.TaskKilled || st.Reason != mesos.ReasonAgentDraining {
		t.Fatalf("sleeper: %s (%s), want TASK_KILLED with REASON_AGENT_DRAINING", st.State, st.Reason)
	}
	a.stop()
	a = startAgent(t, cfg)
	waitFor(t, "the restarted agent to subscribe", func() bool { return a.State().Master != "" })
	if draining, c := a.Draining(); !draining || c == nil || c.MaxGracePeriod == nil || c.MaxGracePeriod.Nanoseconds != 0 {
		t.Fatalf("restarted agent: draining %v with %+v, want the checkpointed drain", draining, c)
	}
	if s := drainState(t, m, id); s != mesos.DrainDraining {
		t.Fatalf("master: %s, want DRAINING until the kill is acknowledged", s)
	}
	st := ev.Update.Status
	s.call(&mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{AgentID: st.AgentID, TaskID: st.TaskID, UUID: st.UUID}})
	waitFor(t, "the agent to finish draining", func() bool { draining, _ := a.Draining(); return !draining })
	waitFor(t, "the master to mark the agent DRAINED", func() bool { return drainState(t, m, id) == mesos.DrainDrained })
}
