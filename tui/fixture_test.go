package tui

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// t0 is the fixtures' clock.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedClock(t *time.Time) func() time.Time { return func() time.Time { return *t } }

func scalars(kv ...any) mesos.Resources {
	var rs mesos.Resources
	for i := 0; i < len(kv); i += 2 {
		rs = append(rs, mesos.ScalarResource(kv[i].(string), kv[i+1].(float64)))
	}
	return rs
}

func allocated(role string, rs mesos.Resources) mesos.Resources {
	out := rs.Clone()
	for i := range out {
		out[i].AllocationInfo = &mesos.AllocationInfo{Role: role}
	}
	return out
}

func fixtureAgent(i int, active bool) mesos.Agent {
	port := int32(5051)
	id := mesos.AgentID(fmt.Sprintf("M1-S%d", i))
	a := mesos.Agent{
		AgentInfo: &mesos.AgentInfo{Hostname: fmt.Sprintf("node-%02d", i), Port: &port, ID: id,
			Attributes: mesos.Attributes{{Name: "rack", Type: mesos.ValueText, Text: &mesos.Text{Value: fmt.Sprintf("r%d", i%3)}}}},
		Active: active, Version: "dev", PID: fmt.Sprintf("slave(1)@10.0.0.%d:5051", i),
		TotalResources: scalars("cpus", 8.0, "mem", 16384.0, "disk", 102400.0),
	}
	return a
}

func fixtureFramework(id, name, role, webui string) mesos.Framework {
	return mesos.Framework{FrameworkInfo: &mesos.FrameworkInfo{ID: mesos.FrameworkID(id), Name: name, User: "root",
		Role: role, WebUIURL: webui}, Active: true, Connected: true,
		RegisteredTime: mesos.TimeInfoOf(t0.Add(-3 * time.Hour))}
}

var fixtureStates = []mesos.TaskState{mesos.TaskRunning, mesos.TaskRunning, mesos.TaskStaging, mesos.TaskRunning,
	mesos.TaskFailed, mesos.TaskKilling, mesos.TaskFinished, mesos.TaskRunning}

// fixtureState is a small cluster: 4 agents (one inactive, one
// draining), 2 frameworks, 12 tasks in assorted states, 2 offers.
func fixtureState() *mesos.GetState {
	var agents []mesos.Agent
	for i := 1; i <= 4; i++ {
		agents = append(agents, fixtureAgent(i, i != 4))
	}
	agents[2].DrainInfo = &mesos.DrainInfo{State: mesos.DrainDraining, Config: &mesos.DrainConfig{}}
	web := fixtureFramework("M1-0001", "web", "eng/web", "")
	batch := fixtureFramework("M1-0002", "batch", "analytics", "")
	web.Offers = []mesos.Offer{{ID: "M1-O1", FrameworkID: "M1-0001", AgentID: "M1-S1", Hostname: "node-01",
		Resources: allocated("eng/web", scalars("cpus", 2.0, "mem", 4096.0)), AllocationInfo: &mesos.AllocationInfo{Role: "eng/web"}}}
	batch.Offers = []mesos.Offer{{ID: "M1-O2", FrameworkID: "M1-0002", AgentID: "M1-S2", Hostname: "node-02",
		Resources: allocated("analytics", scalars("cpus", 1.0, "mem", 1024.0, "disk", 2048.0)), AllocationInfo: &mesos.AllocationInfo{Role: "analytics"}}}
	healthy, sick := true, false
	var tasks []mesos.Task
	for i := 0; i < 12; i++ {
		fw, role := mesos.FrameworkID("M1-0001"), "eng/web"
		if i%3 == 2 {
			fw, role = "M1-0002", "analytics"
		}
		st := fixtureStates[i%len(fixtureStates)]
		t := mesos.Task{Name: fmt.Sprintf("svc-%d", i), TaskID: mesos.TaskID(fmt.Sprintf("svc-%d.%04x", i, i*977)),
			FrameworkID: fw, AgentID: mesos.AgentID(fmt.Sprintf("M1-S%d", i%3+1)), State: st,
			Resources: allocated(role, scalars("cpus", 0.5, "mem", 512.0, "disk", 100.0))}
		switch i % 4 {
		case 0:
			t.Statuses = []mesos.TaskStatus{{TaskID: t.TaskID, State: st, Healthy: &healthy}}
		case 1:
			t.Statuses = []mesos.TaskStatus{{TaskID: t.TaskID, State: st, Healthy: &sick}}
		}
		tasks = append(tasks, t)
	}
	gt := &mesos.GetTasks{}
	for _, t := range tasks {
		if t.State.IsTerminal() {
			gt.CompletedTasks = append(gt.CompletedTasks, t)
		} else {
			gt.Tasks = append(gt.Tasks, t)
		}
	}
	return &mesos.GetState{GetAgents: &mesos.GetAgents{Agents: agents},
		GetFrameworks: &mesos.GetFrameworks{Frameworks: []mesos.Framework{web, batch}}, GetTasks: gt}
}

func subscribed(s *mesos.GetState) *mesos.OperatorEvent {
	return &mesos.OperatorEvent{Type: mesos.OperatorEventSubscribed,
		Subscribed: &mesos.OperatorSubscribed{GetState: s, HeartbeatIntervalSeconds: 15}}
}

// fixtureCluster applies the snapshot, some offer decisions, roles and
// quota, and a minute of history, all at fixed times.
func fixtureCluster(c *Cluster) {
	c.Apply(subscribed(fixtureState()), t0.Add(-2*time.Minute))
	ev := []*mesos.OperatorEvent{
		{Type: mesos.OperatorEventOfferSent, OfferSent: &mesos.OfferSent{Offer: &mesos.Offer{ID: "M1-O3", FrameworkID: "M1-0001",
			AgentID: "M1-S3", Resources: allocated("eng/web", scalars("cpus", 1.0, "mem", 256.0)), AllocationInfo: &mesos.AllocationInfo{Role: "eng/web"}}}},
		{Type: mesos.OperatorEventOfferAccepted, OfferAccepted: &mesos.OfferAccepted{FrameworkID: "M1-0001", AgentID: "M1-S3",
			OfferIDs: []mesos.OfferID{"M1-O3"}, TaskIDs: []mesos.TaskID{"svc-0.0000"}, Resources: scalars("cpus", 0.5, "mem", 128.0)}},
		{Type: mesos.OperatorEventOfferDeclined, OfferDeclined: &mesos.OfferDeclined{FrameworkID: "M1-0002", AgentID: "M1-S1",
			OfferIDs: []mesos.OfferID{"M1-O9"}, Resources: scalars("cpus", 4.0), RefuseSeconds: 5}},
		{Type: mesos.OperatorEventOfferRescinded, OfferRescinded: &mesos.OfferRescinded{OfferID: "M1-O8", FrameworkID: "M1-0002",
			AgentID: "M1-S4", Resources: scalars("cpus", 2.0), Reason: "agent removed"}},
		{Type: mesos.OperatorEventTaskUpdated, TaskUpdated: &mesos.TaskUpdated{FrameworkID: "M1-0001",
			Status: &mesos.TaskStatus{TaskID: "svc-3.0b73", State: mesos.TaskRunning, Message: "started"}, State: mesos.TaskRunning}},
	}
	for i, e := range ev {
		c.Apply(e, t0.Add(-time.Minute+time.Duration(i)*time.Second))
	}
	c.SetRoles(&mesos.GetRoles{Roles: []mesos.Role{
		{Name: "eng/web", Weight: 2, Frameworks: []mesos.FrameworkID{"M1-0001"}},
		{Name: "analytics", Weight: 1, Frameworks: []mesos.FrameworkID{"M1-0002"}},
		{Name: "eng", Weight: 1},
	}}, &mesos.GetQuota{Status: &mesos.QuotaStatus{Configs: []mesos.QuotaConfig{
		{Role: "eng", Guarantees: map[string]mesos.Scalar{"cpus": mesos.ScalarOf(4), "mem": mesos.ScalarOf(8192)},
			Limits: map[string]mesos.Scalar{"cpus": mesos.ScalarOf(8)}},
		{Role: "analytics", Limits: map[string]mesos.Scalar{"cpus": mesos.ScalarOf(2)}},
	}}})
	for i := 12; i >= 0; i-- {
		c.Sample(t0.Add(-time.Duration(i) * sampleStep))
	}
}

// plainRenderer renders without colour, so golden files read as text.
func plainRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return r
}

// stubBackend records actions and serves a stream the test feeds.
type stubBackend struct {
	mu      sync.Mutex
	ch      chan client.OperatorUpdate
	actions []string
	logData string
	master  string
}

func newStub() *stubBackend {
	return &stubBackend{ch: make(chan client.OperatorUpdate, 16), master: "http://10.0.0.1:5050"}
}

func (s *stubBackend) record(a string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions = append(s.actions, a)
	return nil
}

func (s *stubBackend) Actions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.actions...)
}

func (s *stubBackend) Subscribe(context.Context) (<-chan client.OperatorUpdate, error) {
	return s.ch, nil
}
func (s *stubBackend) Master(context.Context) (*mesos.MasterInfo, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return nil, s.master, nil
}
func (s *stubBackend) Roles(context.Context) (*mesos.GetRoles, *mesos.GetQuota, error) {
	return nil, nil, nil
}
func (s *stubBackend) Agents(context.Context) (*mesos.GetAgents, error) { return nil, nil }
func (s *stubBackend) UpdateWeight(_ context.Context, role string, w float64) error {
	return s.record(fmt.Sprintf("weight %s %v", role, w))
}
func (s *stubBackend) UpdateQuota(_ context.Context, q mesos.QuotaConfig) error {
	return s.record("quota " + q.Role + " g{" + quotaLine(q.Guarantees) + "} l{" + quotaLine(q.Limits) + "}")
}
func (s *stubBackend) DrainAgent(_ context.Context, a mesos.AgentID) error {
	return s.record("drain " + string(a))
}
func (s *stubBackend) ReactivateAgent(_ context.Context, a mesos.AgentID) error {
	return s.record("reactivate " + string(a))
}
func (s *stubBackend) KillTask(_ context.Context, t *mesos.Task, fw string) error {
	return s.record("kill " + string(t.TaskID) + " of " + fw)
}
func (s *stubBackend) TailTask(ctx context.Context, _ *mesos.Agent, t *mesos.Task, file string, emit func([]byte) error) error {
	if err := emit([]byte(file + " of " + string(t.TaskID) + "\nline two\nneedle here\n")); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// newFixtureModel is a model over the fixture at w×h with a fixed clock.
func newFixtureModel(w, h int, readonly bool, b Backend) *Model {
	now := t0
	m := New(Options{Backend: b, Cluster: "zk://10.0.0.1:2181/strata", ReadOnly: readonly,
		Renderer: plainRenderer(), Now: fixedClock(&now)})
	fixtureCluster(m.cluster)
	m.cluster.MasterURL = "http://10.0.0.1:5050"
	m.conn.leaderURL = m.cluster.MasterURL
	m.conn.status = connLive
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// run applies msg and then any commands it returns that finish at once
// (not ticks or stream waits), the way the program would.
func run(m *Model, msg tea.Msg) {
	_, cmd := m.Update(msg)
	drain(m, cmd, 0)
}

func drain(m *Model, cmd tea.Cmd, depth int) {
	if cmd == nil || depth > 4 {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		switch msg := msg.(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				drain(m, c, depth+1)
			}
		case nil:
		default:
			_, next := m.Update(msg)
			drain(m, next, depth+1)
		}
	case <-time.After(2 * time.Second):
		// a tick or a wait on a stream: not part of this step
	}
}

func keys(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// typeText sends each rune as a key.
func typeText(m *Model, s string) {
	for _, r := range s {
		run(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}
