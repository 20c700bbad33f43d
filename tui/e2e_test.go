package tui

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// patience bounds waits for what must happen on a loaded machine; it is a
// liveness bound, not a performance claim.
const patience = 30 * time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// driver is bubbletea's runtime in miniature: it runs the model's
// commands in goroutines and feeds their messages back to Update on the
// test's goroutine, so the test can look at the model between messages.
type driver struct {
	t    *testing.T
	m    *Model
	msgs chan tea.Msg
	wg   sync.WaitGroup
	stop chan struct{}
}

func drive(t *testing.T, m *Model) *driver {
	d := &driver{t: t, m: m, msgs: make(chan tea.Msg, 64), stop: make(chan struct{})}
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	d.spawn(m.Init())
	t.Cleanup(func() {
		close(d.stop)
		m.Close()
		d.wg.Wait() // ticks end within a second; stream waits end with Close
	})
	return d
}

func (d *driver) spawn(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				d.spawn(c)
			}
			return
		}
		if msg == nil {
			return
		}
		select {
		case d.msgs <- msg:
		case <-d.stop:
		}
	}()
}

func (d *driver) send(msg tea.Msg) {
	_, cmd := d.m.Update(msg)
	d.spawn(cmd)
}

// until processes messages until cond holds.
func (d *driver) until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.After(patience)
	for !cond() {
		select {
		case msg := <-d.msgs:
			if _, ok := msg.(tea.QuitMsg); ok {
				continue
			}
			d.send(msg)
		case <-deadline:
			d.t.Fatalf("timed out waiting for %s; screen:\n%s", what, d.m.View())
		}
	}
}

func startTestMaster(t *testing.T, zk string) (*master.Master, func()) {
	m, err := master.New(master.Config{ZK: zk, WorkDir: t.TempDir(), IP: "127.0.0.1",
		AllocationInterval: 100 * time.Millisecond, SessionTimeout: 2 * time.Second, Logger: quiet})
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

// TestIntegration_DashboardAgainstRealMaster drives the model against a
// real master (embedded coord, leader election) found through zk://, as
// `strata top --master zk://…` does: the snapshot arrives, a framework
// subscribing shows up live, a weight set through the confirmation
// reaches the master, and when the leader dies and another takes over the
// header says the stream is reconnecting, then that it reconnected.
func TestIntegration_DashboardAgainstRealMaster(t *testing.T) {
	e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0", Logger: quiet}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	m1, stop1 := startTestMaster(t, e.URL().String())
	deadline := time.Now().Add(patience)
	for !m1.Leading() {
		if time.Now().After(deadline) {
			t.Fatal("no leadership")
		}
		time.Sleep(20 * time.Millisecond)
	}

	ctx := context.Background()
	ep, err := client.Resolve(ctx, e.URL().String(), client.Options{Timeout: 5 * time.Second,
		Backoff: client.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	op, err := client.NewOperator(ep.Options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })

	m := New(Options{Backend: &Live{Op: op, AgentOptions: ep.AgentOptions()}, Cluster: ep.Display,
		Renderer: plainRenderer(), RolesEvery: -1})
	d := drive(t, m)
	d.until("the stream is live", func() bool { return m.conn.status == connLive && m.cluster.MasterURL != "" })

	// A framework subscribes; the Frameworks view shows it live.
	sched, err := client.NewScheduler(client.SchedulerConfig{Options: client.Options{Master: "http://" + m1.Addr().String()},
		Framework: &mesos.FrameworkInfo{User: "test", Name: "e2e-fw", Role: "e2e"}})
	if err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithCancel(ctx)
	sdone := make(chan struct{})
	go func() {
		defer close(sdone)
		go func() {
			for range sched.Events() {
			}
		}()
		sched.Run(sctx)
	}()
	t.Cleanup(func() { scancel(); <-sdone; sched.Close() })
	d.send(keys("3"))
	d.until("the framework in the Frameworks view", func() bool { return strings.Contains(m.View(), "e2e-fw") })

	// Set the weight of role e2e through the Roles view and its
	// confirmation; GET_ROLES afterwards shows it.
	d.send(keys("5"))
	d.until("role e2e listed", func() bool {
		for _, r := range m.cluster.RoleRows() {
			if r.Name == "e2e" {
				return true
			}
		}
		return false
	})
	d.send(keys("/"))
	for _, r := range "e2e" {
		d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	d.send(keys("enter"))
	d.send(keys("W"))
	for _, r := range "3" {
		d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	d.send(keys("enter"))
	if m.confirm == nil || !strings.Contains(m.confirm.what, "role e2e from 1 to 3") {
		t.Fatalf("confirmation: %+v\n%s", m.confirm, m.View())
	}
	d.send(keys("y"))
	d.until("the new weight", func() bool {
		for _, r := range m.cluster.RoleRows() {
			if r.Name == "e2e" && r.Weight == 3 {
				return true
			}
		}
		return false
	})

	// The leader dies; a second master takes over. The header says the
	// stream is lost, then that it came back.
	startTestMaster(t, e.URL().String())
	stop1()
	d.until("the reconnecting notice", func() bool { return strings.Contains(m.View(), "reconnecting") })
	d.until("a reconnection", func() bool { return m.conn.status == connLive && m.conn.reconnects >= 1 })
	d.until("the notice", func() bool {
		return strings.Contains(m.notice, "reconnected") || strings.Contains(m.notice, "leader changed")
	})
}

// TestIntegration_TaskLogsAndDrainOnRealAgent runs a real agent and a
// framework that launches one shell task. The dashboard sees the agent,
// the offer accepted on the tape and the task running; `l` follows the
// task's stdout from its sandbox and `o` switches to stderr; draining the
// agent through its confirmation kills the task and shows the agent
// draining.
func TestIntegration_TaskLogsAndDrainOnRealAgent(t *testing.T) {
	e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0", Logger: quiet}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	m1, _ := startTestMaster(t, e.URL().String())
	startTestAgent(t, e.URL().String(), "localhost") // the agent is dialled by its hostname

	ctx := context.Background()
	ep, err := client.Resolve(ctx, "http://"+m1.Addr().String(), client.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	op, err := client.NewOperator(ep.Options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	m := New(Options{Backend: &Live{Op: op, AgentOptions: ep.AgentOptions()}, Cluster: ep.Display,
		Renderer: plainRenderer(), RolesEvery: -1})
	d := drive(t, m)
	d.send(keys("2"))
	d.until("the agent, active", func() bool {
		return m.conn.status == connLive && m.cluster.Totals().agentsUp == 1 && strings.Contains(m.View(), "localhost")
	})

	// The framework launches one task on its first offer and declines
	// the rest for a minute.
	sched, err := client.NewScheduler(client.SchedulerConfig{Options: client.Options{Master: "http://" + m1.Addr().String()},
		Framework: &mesos.FrameworkInfo{User: "test", Name: "e2e-shell"}})
	if err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); sched.Run(sctx) }()
	go func() {
		defer wg.Done()
		launched := false
		for ev := range sched.Events() {
			switch ev.Type {
			case mesos.EventOffers:
				for _, o := range ev.Offers.Offers {
					if launched {
						sched.Decline(sctx, []mesos.OfferID{o.ID}, mesos.RefuseFor(60))
						continue
					}
					launched = true
					task := mesos.TaskInfo{Name: "e2e-task", TaskID: "e2e-task-1", AgentID: o.AgentID,
						Resources: scalars("cpus", 0.1, "mem", 32.0),
						Command:   &mesos.CommandInfo{Value: "echo hello-from-task; echo oops-on-stderr >&2; exec sleep 60"}}
					sched.Launch(sctx, []mesos.OfferID{o.ID}, []mesos.TaskInfo{task}, mesos.RefuseFor(60))
				}
			case mesos.EventUpdate:
				sched.Acknowledge(sctx, ev.Update.Status)
			}
		}
	}()
	t.Cleanup(func() { scancel(); sched.Close(); wg.Wait() })

	d.send(keys("7"))
	d.until("the task running", func() bool { return strings.Contains(m.View(), "RUNNING") })
	accepted := false
	for _, e := range m.cluster.Tape {
		accepted = accepted || (e.Kind == "accepted" && strings.Contains(e.Detail, "e2e-task-1"))
	}
	if !accepted {
		t.Errorf("the tape has no accepted offer for the task: %+v", m.cluster.Tape)
	}

	d.send(keys("l"))
	d.until("stdout in the log viewer", func() bool { return strings.Contains(m.View(), "hello-from-task") })
	d.send(keys("o"))
	d.until("stderr in the log viewer", func() bool { return strings.Contains(m.View(), "oops-on-stderr") })
	d.send(keys("esc"))

	d.send(keys("2"))
	d.send(keys("D"))
	if m.confirm == nil || !strings.Contains(m.confirm.what, "drain agent localhost") {
		t.Fatalf("drain confirmation: %+v", m.confirm)
	}
	d.send(keys("y"))
	d.until("the agent draining and the task killed", func() bool {
		v := m.View()
		return (strings.Contains(v, "draining") || strings.Contains(v, "drained")) && m.cluster.Totals().liveTasks == 0
	})
}
