package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/strata-dc/strata/agent"
	"github.com/strata-dc/strata/agent/agenttest"
	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/mesos/recordio"
)

// patience bounds waits for what must happen; a liveness bound for a
// loaded 2-core machine, not a performance claim.
const patience = 30 * time.Second

func TestMain(m *testing.M) { agenttest.Main(m) }

var (
	newWorkDir     = agenttest.WorkDir
	stopSupervisor = agenttest.StopSupervisor
	reap           = agenttest.Reap
	alive          = agenttest.Alive
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func startCoord(t *testing.T) *coord.Embedded {
	t.Helper()
	e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0", Logger: quiet}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func startMaster(t *testing.T, e *coord.Embedded, opts ...func(*master.Config)) *master.Master {
	t.Helper()
	m, _ := startStoppableMaster(t, e, opts...)
	waitFor(t, "leadership", m.Leading)
	return m
}

// startStoppableMaster starts a master (leading or not) and returns a
// function that stops it, also called at cleanup.
func startStoppableMaster(t *testing.T, e *coord.Embedded, opts ...func(*master.Config)) (*master.Master, func()) {
	t.Helper()
	cfg := master.Config{ZK: e.URL().String(), WorkDir: t.TempDir(), IP: "127.0.0.1",
		AllocationInterval: 100 * time.Millisecond, SessionTimeout: 10 * time.Second, Logger: quiet}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := master.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("master.Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return m, stop
}

// runningAgent is an agent.Agent run by the test; stop ends it without
// touching its supervisor or tasks, as an agent restart does.
type runningAgent struct {
	*agent.Agent
	stop func()
}

func agentConfig(t *testing.T, zk, dir string) agent.Config {
	return agent.Config{Master: zk, WorkDir: dir, IP: "127.0.0.1", Hostname: "agent-test",
		Resources: "cpus:4;mem:1024;disk:1024;ports:[31000-31100]", Isolation: supervise.IsolationPosix,
		StatusRetry: 200 * time.Millisecond, StatusRetryMax: 2 * time.Second,
		SupervisorCommand: agenttest.SupervisorCommand(), SessionTimeout: 10 * time.Second, Logger: testLogger()}
}

func startAgent(t *testing.T, cfg agent.Config) *runningAgent {
	t.Helper()
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	ra := &runningAgent{Agent: a, stop: func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent.Run: %v", err)
			}
		})
	}}
	t.Cleanup(ra.stop)
	return ra
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testScheduler is a framework speaking the raw JSON scheduler API (as
// master's tests do): subscribe, launch on an offer, wait for updates and
// acknowledge every one of them.
type testScheduler struct {
	t      *testing.T
	master string
	info   mesos.FrameworkInfo
	base   string
	stream string
	events chan *mesos.Event
	// backlog keeps the updates next skipped, so waiting for one task
	// does not lose another's.
	backlog []*mesos.Event
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newTestScheduler(t *testing.T, m *master.Master, info mesos.FrameworkInfo) *testScheduler {
	t.Helper()
	s := &testScheduler{t: t, master: "http://" + m.Addr().String(), info: info}
	call := &mesos.Call{Type: mesos.CallSubscribe, FrameworkID: info.ID, Subscribe: &mesos.Subscribe{FrameworkInfo: &s.info}}
	t.Cleanup(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
	})
	body, _ := json.Marshal(call)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.master+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("SUBSCRIBE: %s %s", resp.Status, b)
	}
	s.base = resp.Request.URL.Scheme + "://" + resp.Request.URL.Host
	s.stream = resp.Header.Get("Mesos-Stream-Id")
	s.events = make(chan *mesos.Event, 1024)
	s.wg.Add(1)
	go func() { // owned by s: cleanup cancels and waits
		defer s.wg.Done()
		defer close(s.events)
		defer resp.Body.Close()
		r := recordio.NewReader(resp.Body, 0)
		for {
			var ev mesos.Event
			if err := r.Decode(&ev); err != nil {
				return
			}
			select {
			case s.events <- &ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	ev := s.next(func(ev *mesos.Event) bool { return ev.Type == mesos.EventSubscribed })
	s.info.ID = ev.Subscribed.FrameworkID
	return s
}

func (s *testScheduler) next(want func(*mesos.Event) bool) *mesos.Event {
	s.t.Helper()
	for i, ev := range s.backlog {
		if want(ev) {
			s.backlog = append(s.backlog[:i:i], s.backlog[i+1:]...)
			return ev
		}
	}
	timer := time.NewTimer(patience)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatal("scheduler stream ended")
			}
			if want(ev) {
				return ev
			}
			if ev.Type == mesos.EventUpdate {
				s.backlog = append(s.backlog, ev)
			}
		case <-timer.C:
			s.t.Fatal("timed out waiting for a scheduler event")
		}
	}
}

func (s *testScheduler) call(c *mesos.Call) {
	s.t.Helper()
	c.FrameworkID = s.info.ID
	body, _ := json.Marshal(c)
	req, _ := http.NewRequest(http.MethodPost, s.base+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mesos-Stream-Id", s.stream)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s: %v", c.Type, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		s.t.Fatalf("%s: %s %s", c.Type, resp.Status, b)
	}
}

// launch waits for an offer and launches shell commands on it, one task
// per command (by task ID), each with cpus:0.1;mem:32.
func (s *testScheduler) launch(cmds map[mesos.TaskID]string) mesos.AgentID {
	s.t.Helper()
	var tis []mesos.TaskInfo
	for id, cmd := range cmds {
		tis = append(tis, mesos.TaskInfo{Name: string(id), TaskID: id, Command: &mesos.CommandInfo{Value: cmd}})
	}
	return s.launchTasks(tis...)
}

// launchTasks waits for an offer and launches tis on it, each with
// cpus:0.1;mem:32.
func (s *testScheduler) launchTasks(tis ...mesos.TaskInfo) mesos.AgentID {
	s.t.Helper()
	ev := s.next(func(ev *mesos.Event) bool { return ev.Type == mesos.EventOffers })
	o := ev.Offers.Offers[0]
	for i := range tis {
		tis[i].AgentID = o.AgentID
		tis[i].Resources = mesos.MustParseResources("cpus:0.1;mem:32")
	}
	s.call(&mesos.Call{Type: mesos.CallAccept, Accept: &mesos.Accept{OfferIDs: []mesos.OfferID{o.ID},
		Operations: []mesos.OfferOperation{{Type: mesos.OperationLaunch, Launch: &mesos.Launch{TaskInfos: tis}}}}})
	return o.AgentID
}

// await acknowledges every update of task until one in state arrives;
// another terminal state fails the test.
func (s *testScheduler) await(task mesos.TaskID, state mesos.TaskState) *mesos.TaskStatus {
	s.t.Helper()
	for {
		ev := s.next(func(ev *mesos.Event) bool { return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID == task })
		st := ev.Update.Status
		if st.UUID != nil {
			s.call(&mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{
				AgentID: st.AgentID, TaskID: st.TaskID, UUID: st.UUID}})
		}
		if st.State == state {
			return st
		}
		if st.State.IsTerminal() {
			s.t.Fatalf("task %s: %s (%s) %q while waiting for %s", task, st.State, st.Reason, st.Message, state)
		}
	}
}

// taskOf returns the agent's view of a task.
func taskOf(a *agent.Agent, id mesos.TaskID) (agent.TaskState, bool) {
	for _, ts := range a.State().Tasks {
		if ts.TaskID == id {
			return ts, true
		}
	}
	return agent.TaskState{}, false
}

// testLogger is quiet unless STRATA_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("STRATA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return quiet
}

// processesWithEnv lists live processes whose environment holds kv.
func processesWithEnv(kv string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || !alive(pid) {
			continue
		}
		for _, v := range bytes.Split(env, []byte{0}) {
			if string(v) == kv {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}
