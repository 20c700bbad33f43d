package master_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/mesos/recordio"
	"github.com/strata-dc/strata/master/simagent"
)

// patience bounds waits for what must happen; a liveness bound for a
// loaded 2-core machine, not a performance claim.
const patience = 20 * time.Second

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

// runningMaster is a master serving on loopback, stopped by stop or at
// cleanup.
type runningMaster struct {
	m    *master.Master
	url  string
	dir  string
	stop func()
}

func startMaster(t *testing.T, e *coord.Embedded) *runningMaster {
	t.Helper()
	return startMasterAt(t, e.URL().String())
}

func startMasterAt(t *testing.T, zk string) *runningMaster {
	t.Helper()
	dir := t.TempDir()
	m, err := master.New(master.Config{ZK: zk, WorkDir: dir, IP: "127.0.0.1",
		AllocationInterval: 100 * time.Millisecond, SessionTimeout: 2 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	rm := &runningMaster{m: m, url: "http://" + m.Addr().String(), dir: dir}
	rm.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("master.Run: %v", err)
		}
	}
	t.Cleanup(rm.stop)
	return rm
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

func startAgent(t *testing.T, masters []string, name string, runFor time.Duration) *simagent.Agent {
	a := simagent.Start(simagent.Config{Masters: masters, Hostname: name, Resources: "cpus:4;mem:4096;ports:[31000-32000]", RunFor: runFor})
	t.Cleanup(a.Close)
	return a
}

// operator POSTs an operator call to base (http:// or the control socket
// via client) and decodes the answer.
func operator(t *testing.T, client *http.Client, base string, call string) (int, mesos.OperatorResponse, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1", strings.NewReader(call))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("operator call: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out mesos.OperatorResponse
	if resp.StatusCode == http.StatusOK && len(body) > 0 {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("operator answer %s: %v", body, err)
		}
	}
	return resp.StatusCode, out, string(body)
}

// TestIntegration_SchedulerLaunchesOnSimulatedAgent is the first
// "done when": a scheduler speaking only the JSON API subscribes, gets an
// offer, launches a task on a simulated agent, sees TASK_RUNNING and
// TASK_FINISHED, acknowledges both and reconciles.
func TestIntegration_SchedulerLaunchesOnSimulatedAgent(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	waitFor(t, "leadership", m.m.Leading)
	agent := startAgent(t, []string{m.url}, "sim-1", 1500*time.Millisecond)
	waitFor(t, "agent subscribed", func() bool { return agent.ID() != "" })
	if !strings.HasPrefix(string(agent.ID()), m.m.ID()+"-S") {
		t.Fatalf("agent ID %s", agent.ID())
	}

	s := newTestScheduler(t, []string{m.url}, mesos.FrameworkInfo{User: "test", Name: "json-only"})
	sub := s.subscribe(patience)
	if !strings.HasPrefix(string(sub.FrameworkID), m.m.ID()+"-") || sub.HeartbeatIntervalSeconds != 15 {
		t.Fatalf("SUBSCRIBED %+v", sub)
	}
	agentID := s.launchOne("task-1", "cpus:1;mem:128")
	running := s.update("task-1", patience, mesos.TaskRunning)
	if running.AgentID != agentID || len(running.UUID) != 16 {
		t.Fatalf("RUNNING update %+v", running)
	}
	s.ack(running)

	s.mustCall(&mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{}})
	rec := s.update("task-1", patience, mesos.TaskRunning, mesos.TaskFinished)
	if rec.Reason != mesos.ReasonReconciliation || rec.UUID != nil {
		t.Fatalf("implicit reconciliation answered %s uuid=%v", describeStatus(rec), rec.UUID)
	}

	finished := s.update("task-1", patience, mesos.TaskFinished)
	if finished.UUID == nil || finished.Reason == mesos.ReasonReconciliation {
		// a reconciliation answer may have come first; wait for the real one
		finished = s.update("task-1", patience, mesos.TaskFinished)
	}
	s.ack(finished)
	waitFor(t, "the agent to forget the acknowledged task", func() bool { return len(agent.TaskStates()) == 0 })

	s.mustCall(&mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{
		Tasks: []mesos.ReconcileTask{{TaskID: "task-1", AgentID: agentID}}}})
	gone := s.update("task-1", patience, mesos.TaskLost)
	if gone.Reason != mesos.ReasonReconciliation {
		t.Fatalf("explicit reconciliation of a finished task: %s", describeStatus(gone))
	}

	// The operator API over the control socket (mode 0600) sees it all.
	sock := filepath.Join(m.dir, "master.sock")
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v %v", fi, err)
	}
	unix := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	var body string
	// Reads come from a snapshot published after the loop's batch.
	waitFor(t, "GET_STATE to show the finished task", func() bool {
		var code int
		var resp mesos.OperatorResponse
		code, resp, body = operator(t, unix, "http://master", `{"type":"GET_STATE"}`)
		if code != 200 {
			t.Fatalf("GET_STATE: %d %s", code, body)
		}
		st := resp.GetState
		return len(st.GetAgents.Agents) == 1 && len(st.GetFrameworks.Frameworks) == 1 && len(st.GetTasks.CompletedTasks) == 1 &&
			st.GetTasks.CompletedTasks[0].State == mesos.TaskFinished
	})
}

// TestIntegration_OperatorAPI exercises the operator calls and the plain
// endpoints on a leader, and the answers to bad input.
func TestIntegration_OperatorAPI(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	waitFor(t, "leadership", m.m.Leading)
	agent := startAgent(t, []string{m.url}, "sim-1", 0)
	waitFor(t, "agent subscribed", func() bool { return agent.ID() != "" })
	c := http.DefaultClient
	for _, call := range []string{"GET_HEALTH", "GET_VERSION", "GET_MASTER", "GET_STATE", "GET_AGENTS",
		"GET_FRAMEWORKS", "GET_TASKS", "GET_ROLES", "GET_WEIGHTS", "GET_QUOTA", "GET_METRICS", "GET_FLAGS", "GET_EXECUTORS"} {
		code, resp, body := operator(t, c, m.url, `{"type":"`+call+`"}`)
		if code != 200 || string(resp.Type) != call {
			t.Errorf("%s: %d %s", call, code, body)
		}
	}
	if code, _, body := operator(t, c, m.url, `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":2.5}]}}`); code != 200 {
		t.Fatalf("UPDATE_WEIGHTS: %d %s", code, body)
	}
	if code, _, body := operator(t, c, m.url, `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"eng","limits":{"cpus":{"value":2}}}]}}`); code != 200 {
		t.Fatalf("UPDATE_QUOTA: %d %s", code, body)
	}
	waitFor(t, "weights published", func() bool {
		_, resp, _ := operator(t, c, m.url, `{"type":"GET_WEIGHTS"}`)
		return len(resp.GetWeights.WeightInfos) == 1 && resp.GetWeights.WeightInfos[0].Weight == 2.5
	})
	_, q, _ := operator(t, c, m.url, `{"type":"GET_QUOTA"}`)
	if len(q.GetQuota.Status.Configs) != 1 {
		t.Fatalf("GET_QUOTA %+v", q.GetQuota.Status)
	}
	reserve := `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"` + string(agent.ID()) +
		`"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`
	if code, _, body := operator(t, c, m.url, reserve); code != 200 {
		t.Fatalf("RESERVE_RESOURCES: %d %s", code, body)
	}
	for _, call := range []string{"DEACTIVATE_AGENT", "REACTIVATE_AGENT"} {
		body := `{"type":"` + call + `","` + strings.ToLower(call) + `":{"agent_id":{"value":"` + string(agent.ID()) + `"}}}`
		if code, _, out := operator(t, c, m.url, body); code != 200 {
			t.Fatalf("%s: %d %s", call, code, out)
		}
	}
	_, ag, _ := operator(t, c, m.url, `{"type":"GET_AGENTS"}`)
	if len(ag.GetAgents.Agents) != 1 || !ag.GetAgents.Agents[0].Active {
		t.Fatalf("GET_AGENTS %+v", ag.GetAgents)
	}

	bad := []struct {
		name, body string
		code       int
		mention    string
	}{
		{"malformed", `{"type":`, 400, ""},
		{"unknown type", `{"type":"NOPE"}`, 400, "type"},
		{"negative weight", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":-1}]}}`, 400, "weight"},
	}
	for _, b := range bad {
		code, _, body := operator(t, c, m.url, b.body)
		if code != b.code || !strings.Contains(body, b.mention) || !strings.Contains(body, `"message"`) {
			t.Errorf("%s: %d %s", b.name, code, body)
		}
	}
	// Scheduler calls: not subscribed is 403; a launch beyond the offer
	// is a 400 naming the field.
	resp, err := c.Post(m.url+"/api/v1/scheduler", "application/json", strings.NewReader(
		`{"type":"REVIVE","framework_id":{"value":"nobody"},"revive":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("call before SUBSCRIBE: %d", resp.StatusCode)
	}
	resp, err = c.Post(m.url+"/api/v1/scheduler", "application/json", bytes.NewReader(make([]byte, 5<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}
	s := newTestScheduler(t, []string{m.url}, mesos.FrameworkInfo{User: "test", Name: "bad"})
	s.subscribe(patience)
	ev := s.next(patience, func(ev *mesos.Event) bool { return ev.Type == mesos.EventOffers })
	if ev == nil {
		t.Fatal("no offer")
	}
	o := ev.Offers.Offers[0]
	code, body := s.call(&mesos.Call{Type: mesos.CallAccept, Accept: &mesos.Accept{OfferIDs: []mesos.OfferID{o.ID},
		Operations: []mesos.OfferOperation{{Type: mesos.OperationLaunch, Launch: &mesos.Launch{TaskInfos: []mesos.TaskInfo{{
			Name: "big", TaskID: "big", AgentID: o.AgentID, Resources: mesos.MustParseResources("cpus:64"),
			Command: &mesos.CommandInfo{Value: "true"}}}}}}}})
	if code != 400 || !strings.Contains(body, "accept.operations[0].launch.task_infos[0].resources") {
		t.Fatalf("launch beyond the offer: %d %s", code, body)
	}
	// /metrics/snapshot, /health, /state.
	resp, err = c.Get(m.url + "/metrics/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	var metrics map[string]float64
	_ = json.NewDecoder(resp.Body).Decode(&metrics)
	resp.Body.Close()
	for _, name := range []string{"master/elected", "master/agents_active", "master/frameworks_active", "master/tasks_running", "allocator/mesos/allocation_run_ms"} {
		if _, ok := metrics[name]; !ok {
			t.Errorf("metric %s missing: %v", name, metrics)
		}
	}
	if metrics["master/elected"] != 1 || metrics["master/agents_active"] != 1 {
		t.Errorf("metrics %v", metrics)
	}
	for _, p := range []string{"/health", "/state"} {
		resp, err := c.Get(m.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestIntegration_LeaderFailover runs three masters, stops the leader and
// checks that the standbys redirected to it before, that a new one leads,
// that agents reregister with their tasks and the scheduler resubscribes
// and reconciles, and that no task is lost.
func TestIntegration_LeaderFailover(t *testing.T) {
	e := startCoord(t)
	var ms []*runningMaster
	var urls []string
	for i := 0; i < 3; i++ {
		m := startMaster(t, e)
		ms = append(ms, m)
		urls = append(urls, m.url)
	}
	leader := func() *runningMaster {
		var l *runningMaster
		n := 0
		for _, m := range ms {
			if m.m.Leading() {
				l = m
				n++
			}
		}
		if n != 1 {
			return nil
		}
		return l
	}
	waitFor(t, "a leader", func() bool { return leader() != nil })
	old := leader()

	// Standbys redirect to the leader.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, m := range ms {
		if m == old {
			continue
		}
		waitFor(t, "standby knows the leader", func() bool {
			resp, err := noFollow.Get(m.url + "/redirect")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusTemporaryRedirect && resp.Header.Get("Location") == old.url
		})
		resp, err := noFollow.Post(m.url+"/api/v1/scheduler", "application/json", strings.NewReader(
			`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != old.url+"/api/v1/scheduler" {
			t.Fatalf("standby answered %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	agents := []*simagent.Agent{startAgent(t, urls, "sim-1", 0), startAgent(t, urls, "sim-2", 0)}
	for _, a := range agents {
		waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	}
	failover := 3600.0
	s := newTestScheduler(t, urls, mesos.FrameworkInfo{User: "test", Name: "ha", FailoverTimeout: &failover,
		Capabilities: []mesos.FrameworkCapability{{Type: mesos.FrameworkCapabilityPartitionAware}}})
	s.subscribe(patience)
	agentID := s.launchOne("long-1", "cpus:1;mem:128")
	s.ack(s.update("long-1", patience, mesos.TaskRunning))

	old.stop()
	waitFor(t, "a new leader", func() bool { l := leader(); return l != nil && l != old })
	for _, a := range agents {
		waitFor(t, "agent reregistered", func() bool { return a.Subscriptions() >= 2 })
	}
	s.subscribe(patience)
	s.mustCall(&mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{
		Tasks: []mesos.ReconcileTask{{TaskID: "long-1", AgentID: agentID}}}})
	st := s.update("long-1", patience, mesos.TaskRunning, mesos.TaskLost, mesos.TaskGone, mesos.TaskUnknown, mesos.TaskUnreachable)
	if st.State != mesos.TaskRunning || st.Reason != mesos.ReasonReconciliation {
		t.Fatalf("after failover the task is %s", describeStatus(st))
	}
	for _, a := range agents {
		for id, state := range a.TaskStates() {
			if state != mesos.TaskRunning {
				t.Fatalf("task %s on %s is %s", id, a.ID(), state)
			}
		}
	}
	// The new leader offers what the task leaves free, and can launch.
	s.launchOne("long-2", "cpus:1;mem:128")
	s.ack(s.update("long-2", patience, mesos.TaskRunning))
}

// TestIntegration_AgentAPIRejectsBadCalls: agent calls are validated and
// tied to their stream.
func TestIntegration_AgentAPIRejectsBadCalls(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	waitFor(t, "leadership", m.m.Leading)
	agent := startAgent(t, []string{m.url}, "sim-1", 0)
	waitFor(t, "agent subscribed", func() bool { return agent.ID() != "" })
	cases := []struct {
		name, body, stream string
		code               int
		mention            string
	}{
		{"no agent_id", `{"type":"PONG"}`, "", 400, "agent_id"},
		{"no subscribe body", `{"type":"SUBSCRIBE"}`, "", 400, "subscribe"},
		{"unknown agent", `{"type":"PONG","agent_id":{"value":"nobody"}}`, "", 403, "agent_id"},
		{"wrong stream", `{"type":"PONG","agent_id":{"value":"` + string(agent.ID()) + `"}}`, "bogus", 400, "Mesos-Stream-Id"},
		{"update without uuid agent", `{"type":"UPDATE","agent_id":{"value":"` + string(agent.ID()) + `"},"update":{"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"AAAAAAAAAAAAAAAAAAAAAA=="}}}`, "", 400, "update.status"},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodPost, m.url+"/api/v1/agent", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		if tc.stream != "" {
			req.Header.Set("Mesos-Stream-Id", tc.stream)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.mention) {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, body)
		}
	}
}

// TestIntegration_OperatorSubscribe: an operator stream opens with the
// state and then carries the changes, offer events included when asked.
func TestIntegration_OperatorSubscribe(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	waitFor(t, "leadership", m.m.Leading)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.url+"/api/v1",
		strings.NewReader(`{"type":"SUBSCRIBE","subscribe":{"offer_events":true}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Mesos-Stream-Id") == "" {
		t.Fatalf("operator SUBSCRIBE: %d %v", resp.StatusCode, resp.Header)
	}
	events := make(chan mesos.OperatorEvent, 256)
	go func() { // ends when cancel closes the body
		defer close(events)
		r := recordio.NewReader(resp.Body, 0)
		for {
			var ev mesos.OperatorEvent
			if r.Decode(&ev) != nil {
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	agent := startAgent(t, []string{m.url}, "sim-1", 0)
	waitFor(t, "agent subscribed", func() bool { return agent.ID() != "" })
	s := newTestScheduler(t, []string{m.url}, mesos.FrameworkInfo{User: "test", Name: "watched"})
	s.subscribe(patience)
	s.launchOne("w-1", "cpus:1;mem:32")
	s.ack(s.update("w-1", patience, mesos.TaskRunning))

	want := map[mesos.OperatorEventType]bool{mesos.OperatorEventSubscribed: false, mesos.OperatorEventAgentAdded: false,
		mesos.OperatorEventFrameworkAdded: false, mesos.OperatorEventOfferSent: false, mesos.OperatorEventOfferAccepted: false,
		mesos.OperatorEventTaskAdded: false, mesos.OperatorEventTaskUpdated: false}
	timeout := time.After(patience)
	for missing := len(want); missing > 0; {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("operator stream ended")
			}
			if seen, tracked := want[ev.Type]; tracked && !seen {
				want[ev.Type] = true
				missing--
			}
		case <-timeout:
			t.Fatalf("operator events seen: %v", want)
		}
	}
}
