package agent_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/strata-dc/strata/master/mesos"
)

// TestIntegration_QuickTasksReportRunning: tasks that exit at once still
// go STARTING → RUNNING → FINISHED, in that order, as from Mesos' command
// executor, however the exit races the launch's answer.
func TestIntegration_QuickTasksReportRunning(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "quick"})
	cmds := map[mesos.TaskID]string{}
	for i := range 20 {
		cmds[mesos.TaskID(fmt.Sprintf("q%d", i))] = "true"
	}
	s.launch(cmds)
	for id := range cmds {
		var states []mesos.TaskState
		for !slices.Contains(states, mesos.TaskFinished) {
			ev := s.next(func(ev *mesos.Event) bool { return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID == id })
			st := ev.Update.Status
			s.call(&mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{
				AgentID: st.AgentID, TaskID: st.TaskID, UUID: st.UUID}})
			states = append(states, st.State)
		}
		want := []mesos.TaskState{mesos.TaskStarting, mesos.TaskRunning, mesos.TaskFinished}
		if !slices.Equal(states, want) {
			t.Errorf("task %s: updates %v, want %v", id, states, want)
		}
	}
}
