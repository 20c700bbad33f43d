package state

import (
	"bytes"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// TestFinishedTaskReportedAfterFailover: a task ends while the master
// fails over, so the new leader learns of it from the agent's
// reregistration, reported TASK_FINISHED with its terminal update still
// unacknowledged. The agent's UPDATE must reach the framework and be
// acknowledged by it, not by the master on nobody's behalf; the task's
// resources are free once, not twice.
func TestFinishedTaskReportedAfterFailover(t *testing.T) {
	info := mesos.AgentInfo{Hostname: "h", ID: "m0-S1"}
	fwInfo := web
	fwInfo.ID = "m0-0001"
	h := newHarness(t, Config{Registry: Registry{Agents: []RegistryAgent{{Info: info}},
		Frameworks: []RegistryFramework{{Info: fwInfo}}}})
	resubscribe := func(stream StreamID, state mesos.TaskState) {
		t.Helper()
		req := h.nextReq()
		h.step(AgentCall{Req: req, Stream: stream, Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: "m0-S1",
			Subscribe: &mesos.AgentSubscribe{AgentID: "m0-S1", AgentInfo: &info, Resources: mesos.MustParseResources("cpus:2;mem:256"),
				Frameworks: []mesos.FrameworkInfo{fwInfo},
				Tasks: []mesos.Task{{TaskID: "t1", FrameworkID: "m0-0001", AgentID: "m0-S1", State: state,
					Resources: mesos.MustParseResources("cpus:1;mem:128")}}}}})
		if s := h.agentEvents(stream, mesos.AgentEventSubscribed); len(s) != 1 {
			t.Fatalf("reregistration: %s", describe(h.out))
		}
	}
	resubscribe("a1", mesos.TaskFinished)
	// The agent resends its unacknowledged update to the new leader
	// before the framework is back.
	u := uuidN(7)
	if r := h.agentCall("a1", statusCall("m0-S1", "m0-0001", "t1", mesos.TaskFinished, u)); r.Status != 202 {
		t.Fatalf("agent UPDATE: %d %s", r.Status, r.Message)
	}
	if acks := h.agentEvents("a1", mesos.AgentEventAcknowledge); len(acks) != 0 {
		t.Fatalf("the master acknowledged the terminal update itself: %s", describe(h.out))
	}
	// An agent may also report the task live again (resubscribing while
	// its terminal update is pending): the master keeps it finished.
	resubscribe("a2", mesos.TaskRunning)
	if ups := h.fwEvents("f1", mesos.EventUpdate); len(ups) != 0 {
		t.Fatalf("updates before the framework subscribed: %s", describe(h.out))
	}

	fw := h.subscribe("f1", fwInfo)
	ups := h.fwEvents("f1", mesos.EventUpdate)
	if len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskFinished || !bytes.Equal(ups[0].Update.Status.UUID, u) {
		t.Fatalf("the framework was not sent the terminal update: %s", describe(h.out))
	}
	h.call("f1", &mesos.Call{Type: mesos.CallReconcile, FrameworkID: fw, Reconcile: &mesos.Reconcile{
		Tasks: []mesos.ReconcileTask{{TaskID: "t1", AgentID: "m0-S1"}}}})
	if ups := h.fwEvents("f1", mesos.EventUpdate); len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskFinished {
		t.Fatalf("reconciliation of the finished task: %s", describe(h.out))
	}
	if r := h.call("f1", &mesos.Call{Type: mesos.CallAcknowledge, FrameworkID: fw, Acknowledge: &mesos.Acknowledge{
		AgentID: "m0-S1", TaskID: "t1", UUID: u}}); r.Status != 202 {
		t.Fatalf("ACKNOWLEDGE: %d %s", r.Status, r.Message)
	}
	acks := h.agentEvents("a2", mesos.AgentEventAcknowledge)
	if len(acks) != 1 || acks[0].Acknowledge.TaskID != "t1" || !bytes.Equal(acks[0].Acknowledge.UUID, u) {
		t.Fatalf("the acknowledgement did not reach the agent: %s", describe(h.out))
	}
	if st := h.m.Snapshot().State; len(st.GetTasks.Tasks) != 0 || len(st.GetTasks.CompletedTasks) != 1 {
		t.Fatalf("tasks after the acknowledgement: %+v", st.GetTasks)
	}
	// The finished task held nothing: the whole agent is offered, once.
	o := h.offers("f1", time.Second)
	if len(o) != 1 || o[0].Resources.Cpus().Float64() != 2 {
		t.Fatalf("offers: %+v", o)
	}
}
