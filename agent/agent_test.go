package agent_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master"

	"github.com/strata-dc/strata/master/mesos"
)

// TestIntegration_TaskFails: a real master and agent run a shell command
// that exits 3; the scheduler sees STARTING, RUNNING and FAILED with the
// exit code, and once it acknowledges, the agent forgets the task.
func TestIntegration_TaskFails(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	dir := newWorkDir(t)
	a := startAgent(t, agentConfig(t, e.URL().String(), dir))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	resp, err := http.Get("http://" + a.Addr().String() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/health: %s", resp.Status)
	}
	if fi, err := os.Stat(filepath.Join(dir, "agent.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v %v", fi, err)
	}

	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "fails"})
	agentID := s.launch(map[mesos.TaskID]string{"fail-1": "sleep 0.2; exit 3"})
	if agentID != a.ID() {
		t.Fatalf("offer from agent %s, want %s", agentID, a.ID())
	}
	s.await("fail-1", mesos.TaskRunning)
	st := s.await("fail-1", mesos.TaskFailed)
	if !strings.Contains(st.Message, "status 3") || st.Source != mesos.SourceExecutor || st.AgentID != a.ID() {
		t.Fatalf("FAILED update: %+v", st)
	}
	waitFor(t, "the agent to forget the acknowledged task", func() bool { return len(a.State().Tasks) == 0 })
	if ents, err := os.ReadDir(filepath.Join(dir, "meta", "tasks")); err != nil || len(ents) != 0 {
		t.Fatalf("task checkpoints left: %v %v", ents, err)
	}
}

// TestIntegration_KillTask: a long task is killed through the scheduler
// API; a framework with TASK_KILLING_STATE sees TASK_KILLING then
// TASK_KILLED, and the task's process is gone.
func TestIntegration_KillTask(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })

	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "kills",
		Capabilities: []mesos.FrameworkCapability{{Type: mesos.FrameworkCapabilityTaskKillingState}}})
	// A child in the background, too: nothing of the task may survive.
	agentID := s.launch(map[mesos.TaskID]string{"long-1": "sleep 60 & sleep 60"})
	s.await("long-1", mesos.TaskRunning)
	ts, ok := taskOf(a.Agent, "long-1")
	if !ok || ts.PID == 0 || !alive(ts.PID) {
		t.Fatalf("running task on the agent: %+v %v", ts, ok)
	}
	waitFor(t, "the task's processes", func() bool { return len(processesWithEnv("STRATA_CONTAINER_ID="+ts.ContainerID)) >= 2 })
	s.call(&mesos.Call{Type: mesos.CallKill, Kill: &mesos.Kill{TaskID: "long-1", AgentID: agentID}})
	s.await("long-1", mesos.TaskKilling)
	st := s.await("long-1", mesos.TaskKilled)
	if st.AgentID != a.ID() {
		t.Fatalf("KILLED update: %+v", st)
	}
	if alive(ts.PID) {
		t.Fatalf("the killed task's process %d is still alive", ts.PID)
	}
	if strays := processesWithEnv("STRATA_CONTAINER_ID=" + ts.ContainerID); len(strays) > 0 {
		t.Fatalf("processes of the killed task survive: %v", strays)
	}
	waitFor(t, "the agent to forget the killed task", func() bool { return len(a.State().Tasks) == 0 })
}

// TestIntegration_AgentRestart: the agent stops (its supervisor and tasks
// carry on) and a new agent on the same work dir reregisters with the
// same ID. A task that ended while no agent ran is reported with its real
// exit status; a task still running is still running, and later reports
// its own exit.
func TestIntegration_AgentRestart(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	dir := newWorkDir(t)
	cfg := agentConfig(t, e.URL().String(), dir)
	a := startAgent(t, cfg)
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	id := a.ID()

	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "restarts"})
	// Each task waits for its "go" file in its sandbox (its working
	// directory), then exits with a code of its own.
	s.launch(map[mesos.TaskID]string{
		"ends-while-down": "while [ ! -e go ]; do sleep 0.05; done; exit 5",
		"survives":        "while [ ! -e go ]; do sleep 0.05; done; exit 7",
	})
	s.await("ends-while-down", mesos.TaskRunning)
	s.await("survives", mesos.TaskRunning)
	down, _ := taskOf(a.Agent, "ends-while-down")
	survivor, _ := taskOf(a.Agent, "survives")
	if down.PID == 0 || survivor.PID == 0 || down.Sandbox == "" || survivor.Sandbox == "" {
		t.Fatalf("agent state: %+v %+v", down, survivor)
	}

	a.stop()
	if !alive(down.PID) || !alive(survivor.PID) {
		t.Fatal("stopping the agent stopped its tasks")
	}
	if err := os.WriteFile(filepath.Join(down.Sandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first task to exit while no agent runs", func() bool { return !alive(down.PID) })

	b := startAgent(t, cfg)
	waitFor(t, "agent reregistered", func() bool { return b.Subscriptions() > 0 })
	if b.ID() != id {
		t.Fatalf("restarted agent has ID %s, want %s", b.ID(), id)
	}
	st := s.await("ends-while-down", mesos.TaskFailed)
	if !strings.Contains(st.Message, "status 5") {
		t.Fatalf("exit while the agent was down reported as %+v", st)
	}
	ts, ok := taskOf(b.Agent, "survives")
	if !ok || ts.State != mesos.TaskRunning || ts.PID != survivor.PID || !alive(ts.PID) {
		t.Fatalf("surviving task after the restart: %+v %v (pid before %d)", ts, ok, survivor.PID)
	}
	if err := os.WriteFile(filepath.Join(survivor.Sandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st = s.await("survives", mesos.TaskFailed)
	if !strings.Contains(st.Message, "status 7") {
		t.Fatalf("exit after the restart reported as %+v", st)
	}
	waitFor(t, "the agent to forget both tasks", func() bool { return len(b.State().Tasks) == 0 })
}

// TestIntegration_LaunchFails: a program that does not exist is a
// TASK_FAILED saying why, and the agent keeps serving.
func TestIntegration_LaunchFails(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })

	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "bad"})
	shell := false
	s.launchTasks(mesos.TaskInfo{Name: "nope", TaskID: "nope",
		Command: &mesos.CommandInfo{Shell: &shell, Value: "/nonexistent/program", Arguments: []string{"program"}}})
	st := s.await("nope", mesos.TaskFailed)
	if st.Reason != mesos.ReasonContainerLaunchFailed || !strings.Contains(st.Message, "/nonexistent/program") {
		t.Fatalf("launch of a missing program: %+v", st)
	}
	s.launch(map[mesos.TaskID]string{"ok": "exit 0"})
	s.await("ok", mesos.TaskFinished)
}

// TestIntegration_Pings: the agent answers the master's PINGs, so with
// pings every 50 ms and a 200 ms tolerance it stays reachable (its task is
// never reported unreachable) over dozens of pings, on one subscription.
func TestIntegration_Pings(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e, func(c *master.Config) {
		c.HeartbeatInterval = 50 * time.Millisecond
		c.AgentPingTimeout = 100 * time.Millisecond
		c.MaxAgentPingMisses = 2
	})
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "pings"})
	s.launch(map[mesos.TaskID]string{"idle": "sleep 60"})
	s.await("idle", mesos.TaskRunning)
	// Not a timing claim: 2 s is 40 pings, far beyond the 200 ms after
	// which an agent that does not answer is unreachable.
	time.Sleep(2 * time.Second)
	if n := a.Subscriptions(); n != 1 {
		t.Fatalf("the agent subscribed %d times", n)
	}
	for _, ev := range s.backlog {
		if ev.Update.Status.TaskID == "idle" {
			t.Fatalf("unexpected update %+v", ev.Update.Status)
		}
	}
	for {
		select {
		case ev := <-s.events:
			if ev.Type == mesos.EventUpdate {
				t.Fatalf("unexpected update %+v", ev.Update.Status)
			}
			continue
		default:
		}
		break
	}
}

// TestIntegration_RecoveryTimeout: tasks whose agent stays away for
// longer than --recovery-timeout are killed (by the supervisor, even with
// no agent at all), and an agent that comes back later reports them
// failed for that reason.
func TestIntegration_RecoveryTimeout(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	cfg := agentConfig(t, e.URL().String(), newWorkDir(t))
	cfg.RecoveryTimeout = 300 * time.Millisecond
	a := startAgent(t, cfg)
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "expires"})
	s.launch(map[mesos.TaskID]string{"waits": "sleep 60"})
	s.await("waits", mesos.TaskRunning)
	ts, _ := taskOf(a.Agent, "waits")
	a.stop()
	if !alive(ts.PID) {
		t.Fatal("the task died with its agent")
	}
	waitFor(t, "the orphaned task to be killed", func() bool { return !alive(ts.PID) })
	startAgent(t, cfg)
	st := s.await("waits", mesos.TaskFailed)
	if st.Reason != mesos.ReasonExecutorReregistrationTimeout || !strings.Contains(st.Message, "recovery timeout") {
		t.Fatalf("expired task reported as %+v", st)
	}
	if alive(ts.PID) {
		t.Fatalf("the expired task's process %d is alive", ts.PID)
	}
}
