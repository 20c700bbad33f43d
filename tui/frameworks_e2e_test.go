package tui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-dc/strata/chronos"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/marathon"
	"github.com/strata-dc/strata/master/client"
)

// runFor runs fn until the test ends.
func runFor(t *testing.T, what string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: %v", what, err)
			}
		})
	})
}

// TestIntegration_AppsAndJobsOnRealFrameworks runs coord, a master, an
// agent, marathon and chronos in process. The dashboard finds marathon
// and chronos through the master (their webui_url), deploys an app from
// the short form through its confirmation and sees its task running,
// scales it, then adds a job and runs it now and sees the run succeed in
// the history strip.
func TestIntegration_AppsAndJobsOnRealFrameworks(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test runs a whole cluster")
	}
	e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0", Logger: quiet}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	zk := e.URL().String()
	m1, _ := startTestMaster(t, zk)
	waitFor(t, "master leadership", m1.Leading)
	startTestAgent(t, zk, "node-1")
	ms, err := marathon.New(marathon.Config{Master: zk, HTTPAddress: "127.0.0.1:0", TickInterval: 100 * time.Millisecond,
		ReconciliationInterval: 5 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	runFor(t, "marathon", ms.Run)
	cs, err := chronos.New(chronos.Config{Master: zk, HTTPAddress: "127.0.0.1:0", FailureRetry: 500 * time.Millisecond,
		DefaultEpsilon: 10 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	runFor(t, "chronos", cs.Run)

	ctx := context.Background()
	ep, err := client.Resolve(ctx, zk, client.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	op, err := client.NewOperator(ep.Options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	through := func(name string) Resolver {
		return func(ctx context.Context) (*client.FrameworkEndpoint, error) {
			return client.ResolveFramework(ctx, op, ep, name, "", "")
		}
	}
	apps := StartMarathon(through("marathon"), 0)
	t.Cleanup(apps.Close)
	jobs := StartChronos(through("chronos"), 200*time.Millisecond)
	t.Cleanup(jobs.Close)

	m := New(Options{Backend: &Live{Op: op, AgentOptions: ep.AgentOptions(), Apps: apps, Jobs: jobs},
		Cluster: ep.Display, Renderer: plainRenderer(), RolesEvery: -1})
	d := drive(t, m)
	d.until("the stream is live", func() bool { return m.conn.status == connLive })
	d.send(keys("8"))
	d.until("marathon found and live", func() bool { return apps.Apps().Status.Live })

	typeIn := func(s string) {
		for _, r := range s {
			d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	d.send(keys("A"))
	typeIn(`/e2e/sleep "sleep 300" 1 0.1 16`)
	d.send(keys("enter"))
	if m.confirm == nil || !strings.Contains(m.confirm.what, "deploy app /e2e/sleep") {
		t.Fatalf("deploy confirmation: %+v (notice %q)", m.confirm, m.notice)
	}
	d.send(keys("y"))
	running := func(n int) func() bool {
		return func() bool {
			a := apps.Apps().Apps
			r, ok := m.selectedObj().(*appRow)
			return len(a) == 1 && a[0].TasksRunning == n && ok && r.App.TasksRunning == n
		}
	}
	d.until("the app running 1/1", running(1))

	d.send(keys("N"))
	typeIn("2")
	d.send(keys("enter"))
	d.send(keys("y"))
	d.until("the app running 2/2", running(2))
	if v := m.View(); !strings.Contains(v, "2/2") {
		t.Errorf("the Apps view does not show 2/2:\n%s", v)
	}

	d.send(keys("9"))
	d.until("chronos found and live", func() bool { return jobs.Jobs().Status.Live })
	d.send(keys("A"))
	typeIn(`e2e-job R/2030-01-01T00:00:00Z/P1D true`)
	d.send(keys("enter"))
	if m.confirm == nil || !strings.Contains(m.confirm.what, "add job e2e-job") {
		t.Fatalf("add job confirmation: %+v (notice %q)", m.confirm, m.notice)
	}
	d.send(keys("y"))
	d.until("the job listed", func() bool {
		r, ok := m.selectedObj().(*jobRow)
		return ok && r.Job.Name == "e2e-job"
	})
	d.send(keys("J"))
	if m.confirm == nil {
		t.Fatalf("run job: no confirmation (notice %q)", m.notice)
	}
	d.send(keys("y"))
	d.until("the run sent", func() bool {
		return strings.HasPrefix(m.notice, "done: run job") || strings.HasPrefix(m.notice, "failed")
	})
	if !strings.HasPrefix(m.notice, "done: ") {
		t.Fatalf("run job: %s", m.notice)
	}
	d.until("a successful run in the strip", func() bool {
		h := jobs.Jobs().History["e2e-job"]
		return len(h) > 0 && h[0].State == "succeeded" && strings.Contains(m.View(), "✓")
	})
}
