package agent_test

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Health checks in these tests probe every 0.1 s from 0.1 s after the
// task runs; a probe may take 10 s, a bound for a loaded machine that a
// healthy probe never reaches.
func quickCheck(hc mesos.HealthCheck, failures uint32, grace float64) *mesos.HealthCheck {
	f := func(v float64) *float64 { return &v }
	hc.DelaySeconds, hc.IntervalSeconds, hc.TimeoutSeconds = f(0.1), f(0.1), f(10)
	hc.GracePeriodSeconds = f(grace)
	hc.ConsecutiveFailures = &failures
	return &hc
}

func commandCheck(cmd string, failures uint32, grace float64) *mesos.HealthCheck {
	return quickCheck(mesos.HealthCheck{Type: mesos.CheckCommand, Command: &mesos.CommandInfo{Value: cmd}}, failures, grace)
}

func checkedTask(id mesos.TaskID, cmd string, hc *mesos.HealthCheck) mesos.TaskInfo {
	return mesos.TaskInfo{Name: string(id), TaskID: id, Command: &mesos.CommandInfo{Value: cmd}, HealthCheck: hc}
}

// awaitStatus acknowledges every update of task until one satisfies
// want; a terminal update that does not fails the test.
func (s *testScheduler) awaitStatus(task mesos.TaskID, what string, want func(*mesos.TaskStatus) bool) *mesos.TaskStatus {
	s.t.Helper()
	for {
		ev := s.next(func(ev *mesos.Event) bool { return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID == task })
		st := ev.Update.Status
		if st.UUID != nil {
			s.call(&mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{
				AgentID: st.AgentID, TaskID: st.TaskID, UUID: st.UUID}})
		}
		if want(st) {
			return st
		}
		if st.State.IsTerminal() {
			s.t.Fatalf("task %s: %s (%s) %q while waiting for %s", task, st.State, st.Reason, st.Message, what)
		}
	}
}

// awaitHealth waits for the health update of task saying healthy and
// checks it is one: TASK_RUNNING, from the executor, with Mesos' reason.
func (s *testScheduler) awaitHealth(task mesos.TaskID, healthy bool) *mesos.TaskStatus {
	s.t.Helper()
	st := s.awaitStatus(task, "healthy="+strconv.FormatBool(healthy), func(st *mesos.TaskStatus) bool {
		return st.Healthy != nil && *st.Healthy == healthy
	})
	if st.State != mesos.TaskRunning || st.Reason != mesos.ReasonTaskHealthCheckStatusUpdated || st.Source != mesos.SourceExecutor {
		s.t.Fatalf("task %s: health update %+v", task, st)
	}
	return st
}

func isHealthy(st *mesos.TaskStatus) bool { return st.Healthy != nil && *st.Healthy }

// TestIntegration_HealthCommandKills: a COMMAND check runs in the task's
// sandbox with its environment (and the check's own variables); it
// passes, then fails twice in a row once the test creates a file, and the
// task is killed: TASK_KILLED, healthy=false, a message naming the check.
func TestIntegration_HealthCommandKills(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "health-command"})

	hc := commandCheck(`test "$PWD" = "$MESOS_SANDBOX" && test "$CHECK_VAR" = yes && test ! -e sick`, 2, 0)
	hc.Command.Environment = mesos.Env(map[string]string{"CHECK_VAR": "yes"})
	s.launchTasks(checkedTask("web", "sleep 60", hc))
	s.await("web", mesos.TaskRunning)
	s.awaitHealth("web", true)
	ts, ok := taskOf(a.Agent, "web")
	if !ok || ts.Sandbox == "" {
		t.Fatalf("task on the agent: %+v %v", ts, ok)
	}
	if err := os.WriteFile(filepath.Join(ts.Sandbox, "sick"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := s.awaitHealth("web", false)
	if !strings.Contains(st.Message, "COMMAND health check failed") {
		t.Fatalf("unhealthy update: %+v", st)
	}
	st = s.await("web", mesos.TaskKilled)
	if st.Healthy == nil || *st.Healthy || !strings.Contains(st.Message, "COMMAND health check") ||
		!strings.Contains(st.Message, "2 consecutive failures") {
		t.Fatalf("KILLED update: %+v (healthy %v)", st, st.Healthy)
	}
	if alive(ts.PID) {
		t.Fatalf("the killed task's process %d is alive", ts.PID)
	}
	waitFor(t, "the agent to forget the task", func() bool { return len(a.State().Tasks) == 0 })
}

// TestIntegration_HealthHTTPAndTCP: an HTTP check against a server the
// test runs (its answer toggled) and a TCP check against a listener the
// test closes each report healthy, then unhealthy; the HTTP one healthy
// again when the server recovers.
func TestIntegration_HealthHTTPAndTCP(t *testing.T) {
	var code atomic.Int32
	code.Store(http.StatusOK)
	var mu sync.Mutex
	var paths []string
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.WriteHeader(int(code.Load()))
	})}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(hl) }()
	t.Cleanup(func() { srv.Close(); <-served })

	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepting := make(chan struct{})
	go func() { // ends when the test closes tl
		defer close(accepting)
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { tl.Close(); <-accepting })

	e := startCoord(t)
	m := startMaster(t, e)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "health-net"})

	port := func(l net.Listener) uint32 { return uint32(l.Addr().(*net.TCPAddr).Port) }
	s.launchTasks(
		checkedTask("http", "sleep 60", quickCheck(mesos.HealthCheck{Type: mesos.CheckHTTP,
			HTTP: &mesos.HTTPCheckInfo{Port: port(hl), Path: "/ping"}}, 1000, 0)),
		checkedTask("tcp", "sleep 60", quickCheck(mesos.HealthCheck{Type: mesos.CheckTCP,
			TCP: &mesos.TCPCheckInfo{Port: port(tl)}}, 1000, 0)))
	s.awaitHealth("http", true)
	s.awaitHealth("tcp", true)
	mu.Lock()
	if len(paths) == 0 || paths[0] != "/ping" {
		t.Errorf("the HTTP check asked for %q, want /ping", paths)
	}
	mu.Unlock()

	code.Store(http.StatusServiceUnavailable)
	if st := s.awaitHealth("http", false); !strings.Contains(st.Message, "503") {
		t.Fatalf("unhealthy HTTP update: %+v", st)
	}
	code.Store(http.StatusNoContent)
	s.awaitHealth("http", true)

	tl.Close()
	<-accepting
	if st := s.awaitHealth("tcp", false); !strings.Contains(st.Message, "TCP health check failed") {
		t.Fatalf("unhealthy TCP update: %+v", st)
	}
	for _, id := range []mesos.TaskID{"http", "tcp"} {
		s.call(&mesos.Call{Type: mesos.CallKill, Kill: &mesos.Kill{TaskID: id, AgentID: a.ID()}})
		if st := s.await(id, mesos.TaskKilled); st.Healthy == nil || strings.Contains(st.Message, "health check") {
			t.Fatalf("task %s killed by the scheduler reported as %+v", id, st)
		}
	}
}

// TestIntegration_HealthGracePeriod: failures before the first success
// and inside the grace period count for nothing, however many; after the
// first success the grace period is over and one failure kills the task
// (consecutive_failures 1).
func TestIntegration_HealthGracePeriod(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "health-grace"})

	s.launchTasks(checkedTask("slow", "sleep 60", commandCheck("echo probe >> probes; test -e ok", 1, 600)))
	s.await("slow", mesos.TaskRunning)
	ts, _ := taskOf(a.Agent, "slow")
	waitFor(t, "three failed probes", func() bool {
		b, _ := os.ReadFile(filepath.Join(ts.Sandbox, "probes"))
		return bytes.Count(b, []byte("probe\n")) >= 3
	})
	if err := os.WriteFile(filepath.Join(ts.Sandbox, "ok"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The first health update must be the success: the failures before
	// it were ignored.
	st := s.awaitStatus("slow", "a health update", func(st *mesos.TaskStatus) bool { return st.Healthy != nil })
	if !isHealthy(st) {
		t.Fatalf("a failure inside the grace period was reported: %+v", st)
	}
	if err := os.Remove(filepath.Join(ts.Sandbox, "ok")); err != nil {
		t.Fatal(err)
	}
	s.awaitHealth("slow", false)
	st = s.await("slow", mesos.TaskKilled)
	if !strings.Contains(st.Message, "1 consecutive failures") {
		t.Fatalf("KILLED update: %+v", st)
	}
}

// TestIntegration_HealthAfterRestart: a checked task keeps being checked
// by the next agent on the same work dir: its check starts again for the
// recovered task, and a failure then kills it.
func TestIntegration_HealthAfterRestart(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	cfg := agentConfig(t, e.URL().String(), newWorkDir(t))
	a := startAgent(t, cfg)
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "health-restart"})

	s.launchTasks(checkedTask("kept", "sleep 60", commandCheck("echo probe >> probes; test ! -e sick", 1, 0)))
	s.awaitHealth("kept", true)
	ts, _ := taskOf(a.Agent, "kept")
	a.stop()

	probes := func() int {
		b, _ := os.ReadFile(filepath.Join(ts.Sandbox, "probes"))
		return bytes.Count(b, []byte("probe\n"))
	}
	before := probes()
	b := startAgent(t, cfg)
	waitFor(t, "agent reregistered", func() bool { return b.Subscriptions() > 0 })
	waitFor(t, "the restarted agent to probe the task", func() bool { return probes() > before+1 })
	if err := os.WriteFile(filepath.Join(ts.Sandbox, "sick"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s.awaitHealth("kept", false)
	st := s.await("kept", mesos.TaskKilled)
	if st.Healthy == nil || *st.Healthy || !strings.Contains(st.Message, "COMMAND health check") {
		t.Fatalf("KILLED update after the restart: %+v", st)
	}
	if alive(ts.PID) {
		t.Fatalf("the killed task's process %d is alive", ts.PID)
	}
}

// TestIntegration_HealthCheckInvalid: a task whose health check cannot
// run is refused at launch with TASK_ERROR naming the field.
func TestIntegration_HealthCheckInvalid(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "health-invalid"})
	s.launchTasks(checkedTask("bad", "sleep 60", &mesos.HealthCheck{Type: mesos.CheckHTTP}))
	st := s.awaitStatus("bad", "TASK_ERROR", func(st *mesos.TaskStatus) bool { return st.State == mesos.TaskError })
	if st.Reason != mesos.ReasonTaskInvalid || !strings.Contains(st.Message, "health_check.http") {
		t.Fatalf("invalid health check reported as %+v", st)
	}
}
