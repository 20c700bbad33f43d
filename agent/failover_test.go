package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/mesos"
)

// TestIntegration_MasterFailover: the agent follows the leader through
// coord. When the leading master stops, it reregisters with the new
// leader with its running task, and the task's exit reaches the framework
// through the new leader.
func TestIntegration_MasterFailover(t *testing.T) {
	e := startCoord(t)
	m1, stop1 := startStoppableMaster(t, e)
	m2, stop2 := startStoppableMaster(t, e)
	var leader, standby *master.Master
	var stopLeader func()
	waitFor(t, "a leader", func() bool {
		switch {
		case m1.Leading():
			leader, standby, stopLeader = m1, m2, stop1
		case m2.Leading():
			leader, standby, stopLeader = m2, m1, stop2
		}
		return leader != nil
	})
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })

	failover := 3600.0
	info := mesos.FrameworkInfo{User: "test", Name: "failover", FailoverTimeout: &failover}
	s := newTestScheduler(t, leader, info)
	agentID := s.launch(map[mesos.TaskID]string{"through": "while [ ! -e go ]; do sleep 0.05; done; exit 4"})
	s.await("through", mesos.TaskRunning)
	ts, _ := taskOf(a.Agent, "through")
	stopLeader()
	waitFor(t, "the standby to lead", standby.Leading)
	waitFor(t, "the agent to reregister with the new leader", func() bool {
		return a.Subscriptions() >= 2 && a.State().Master == "http://"+standby.Addr().String()
	})

	info.ID = s.info.ID
	s2 := newTestScheduler(t, standby, info)
	s2.call(&mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{
		Tasks: []mesos.ReconcileTask{{TaskID: "through", AgentID: agentID}}}})
	// The RUNNING update may come again first: its acknowledgement may not
	// have reached the agent before the leader stopped (at least once).
	for s2.await("through", mesos.TaskRunning).Reason != mesos.ReasonReconciliation {
	}
	if err := os.WriteFile(filepath.Join(ts.Sandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := s2.await("through", mesos.TaskFailed)
	if !strings.Contains(st.Message, "status 4") {
		t.Fatalf("exit through the new leader: %+v", st)
	}
}

// TestIntegration_TaskEndsWhileMasterRestarts: the only master stops, a
// task exits while the agent has no master to tell, and a new master
// starts. The new master knew nothing of the task; the agent still gets
// its real exit to the framework.
func TestIntegration_TaskEndsWhileMasterRestarts(t *testing.T) {
	e := startCoord(t)
	m1, stop1 := startStoppableMaster(t, e)
	waitFor(t, "leadership", m1.Leading)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	failover := 3600.0
	info := mesos.FrameworkInfo{User: "test", Name: "restart", FailoverTimeout: &failover}
	s := newTestScheduler(t, m1, info)
	s.launch(map[mesos.TaskID]string{"orphaned": "while [ ! -e go ]; do sleep 0.05; done; exit 6"})
	s.await("orphaned", mesos.TaskRunning)
	ts, _ := taskOf(a.Agent, "orphaned")
	waitFor(t, "the agent to hear every acknowledgement", func() bool {
		ts, _ := taskOf(a.Agent, "orphaned")
		return ts.Unacknowledged == 0
	})

	stop1()
	waitFor(t, "the agent to notice", func() bool { return a.State().Master == "" })
	if err := os.WriteFile(filepath.Join(ts.Sandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the task's exit to be recorded", func() bool {
		ts, _ := taskOf(a.Agent, "orphaned")
		return ts.State == mesos.TaskFailed
	})

	m2, _ := startStoppableMaster(t, e)
	waitFor(t, "the new master to lead", m2.Leading)
	info.ID = s.info.ID
	s2 := newTestScheduler(t, m2, info)
	st := s2.await("orphaned", mesos.TaskFailed)
	if !strings.Contains(st.Message, "status 6") {
		t.Fatalf("exit reported through the new master as %+v", st)
	}
	waitFor(t, "the agent to forget the task", func() bool { return len(a.State().Tasks) == 0 })
}
