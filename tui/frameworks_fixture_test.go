package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// Fixed marathon and chronos data for the Apps and Jobs views, and fake
// sources that record the actions sent to them.

type fakeApps struct {
	mu      sync.Mutex
	snap    *AppsSnapshot
	actions []string
}

func (f *fakeApps) record(a string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, a)
	return nil
}

func (f *fakeApps) Actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.actions...)
}

func (f *fakeApps) Apps() *AppsSnapshot { return f.snap }
func (f *fakeApps) Scale(_ context.Context, id string, n int) error {
	return f.record(fmt.Sprintf("scale %s %d", id, n))
}
func (f *fakeApps) Restart(_ context.Context, id string) error { return f.record("restart " + id) }
func (f *fakeApps) Destroy(_ context.Context, id string) error { return f.record("destroy " + id) }
func (f *fakeApps) Deploy(_ context.Context, def []byte) error {
	return f.record("deploy " + string(def))
}
func (f *fakeApps) KillTask(_ context.Context, t *mesos.Task) error {
	return f.record("kill " + string(t.TaskID))
}

type fakeJobs struct {
	fakeApps // for record/Actions
	jsnap    *JobsSnapshot
}

func (f *fakeJobs) Jobs() *JobsSnapshot { return f.jsnap }
func (f *fakeJobs) RunJob(_ context.Context, name string) error {
	return f.record("run " + name)
}
func (f *fakeJobs) SetDisabled(_ context.Context, name string, d bool) error {
	return f.record(fmt.Sprintf("disabled %s %v", name, d))
}
func (f *fakeJobs) DeleteJob(_ context.Context, name string) error { return f.record("delete " + name) }
func (f *fakeJobs) PutJob(_ context.Context, def []byte) error     { return f.record("put " + string(def)) }

func fixtureApps() *AppsSnapshot {
	hc := []json.RawMessage{json.RawMessage(`{"protocol":"COMMAND","command":{"value":"true"}}`)}
	web := client.MarathonApp{ID: "/prod/web", Cmd: "./web --port $PORT0", Instances: 3, Cpus: 0.5, Mem: 256,
		HealthChecks: hc, Version: "2026-01-02T02:00:00Z", TasksRunning: 2, TasksStaged: 1, TasksHealthy: 2,
		Tasks: []client.MarathonTask{
			{ID: "prod_web.a1", AppID: "/prod/web", Host: "node-01", State: "TASK_RUNNING", StartedAt: "2026-01-02T02:00:05Z"},
			{ID: "prod_web.a2", AppID: "/prod/web", Host: "node-02", State: "TASK_RUNNING", StartedAt: "2026-01-02T02:00:06Z"},
			{ID: "prod_web.a3", AppID: "/prod/web", Host: "node-03", State: "TASK_STAGING"},
		}}
	worker := client.MarathonApp{ID: "/prod/worker", Cmd: "./worker", Instances: 2, Cpus: 1, Mem: 512, TasksRunning: 2}
	etl := client.MarathonApp{ID: "/batch/etl", Cmd: "./etl", Instances: 1, Cpus: 16, Mem: 4096}
	old := client.MarathonApp{ID: "/old/api", Cmd: "./api", Instances: 0, Cpus: 0.1, Mem: 32}
	s := &AppsSnapshot{Version: 1, At: t0.Add(-3 * time.Second),
		Status: FrameworkStatus{Where: "http://10.0.0.2:8080", Live: true, Note: "events"},
		Apps:   []client.MarathonApp{web, worker, etl, old}, Raw: map[string]json.RawMessage{},
		Deployments: []client.MarathonDeployment{{ID: "5ed4c0c5-9ff8-4a6f-a0cd-f57f59a34b43", AffectedApps: []string{"/prod/web"},
			CurrentActions: []client.MarathonAction{{Action: "ScaleApplication", App: "/prod/web"}}, CurrentStep: 1, TotalSteps: 2}},
	}
	q := client.MarathonQueueItem{App: etl, Count: 1, Since: "2026-01-02T03:00:00Z"}
	q.ProcessedOffersSummary.ProcessedOffersCount = 12
	q.ProcessedOffersSummary.RejectSummaryLastOffers = []client.MarathonRejection{
		{Reason: "UnfulfilledRole", Declined: 0, Processed: 12},
		{Reason: "InsufficientCpus", Declined: 9, Processed: 12},
		{Reason: "InsufficientMemory", Declined: 3, Processed: 3},
	}
	s.Queue = []client.MarathonQueueItem{q}
	for _, a := range s.Apps {
		b, _ := json.Marshal(map[string]any{"id": a.ID, "cmd": a.Cmd, "instances": a.Instances})
		s.Raw[a.ID] = b
	}
	return s
}

func fixtureJobs() *JobsSnapshot {
	run := func(state string, ago time.Duration) client.ChronosRun {
		at := t0.Add(-ago)
		return client.ChronosRun{ID: "r" + fmt.Sprint(int(ago.Minutes())), Kind: "scheduled", State: state,
			ScheduledAt: at, StartedAt: at.Add(time.Second), FinishedAt: at.Add(31 * time.Second)}
	}
	s := &JobsSnapshot{Version: 1, At: t0.Add(-time.Second),
		Status: FrameworkStatus{Where: "http://10.0.0.2:4400", Live: true, Note: "polling every 2s"},
		Jobs: []client.ChronosJob{
			{Name: "backup", Command: "./backup.sh", Schedule: "R/2026-01-01T00:00:00Z/PT1H", Owner: "ops",
				SuccessCount: 40, ErrorCount: 2, LastSuccess: "2026-01-02T03:00:31Z", LastError: "2026-01-02T01:00:31Z"},
			{Name: "report", Command: "./report", Parents: []string{"backup"}, Owner: "bi",
				SuccessCount: 39, ErrorCount: 0, LastSuccess: "2026-01-02T03:01:10Z"},
			{Name: "notify", Command: "./notify", Parents: []string{"report"}, SuccessCount: 0, ErrorCount: 3,
				LastError: "2026-01-02T03:01:40Z"},
			{Name: "cleanup", Command: "./cleanup", Schedule: "*/15 * * * *", Disabled: true},
		},
		Raw:    map[string]json.RawMessage{},
		States: map[string]string{"backup": "idle", "report": "idle", "notify": "queued", "cleanup": "idle"},
		History: map[string][]client.ChronosRun{
			"backup": {run("succeeded", 4*time.Minute), run("succeeded", 64*time.Minute), run("failed", 124*time.Minute),
				run("skipped", 184*time.Minute), run("succeeded", 244*time.Minute)},
			"notify": {run("failed", 3*time.Minute), run("failed", 63*time.Minute), run("killed", 123*time.Minute)},
		},
	}
	for _, j := range s.Jobs {
		b, _ := json.Marshal(map[string]any{"name": j.Name, "command": j.Command, "parents": j.Parents})
		s.Raw[j.Name] = b
	}
	return s
}

// newFrameworkModel is the fixture model with the fake sources.
func newFrameworkModel(w, h int, readonly bool) (*Model, *fakeApps, *fakeJobs) {
	m := newFixtureModel(w, h, readonly, newStub())
	apps := &fakeApps{snap: fixtureApps()}
	jobs := &fakeJobs{jsnap: fixtureJobs()}
	m.apps, m.jobs = apps, jobs
	return m, apps, jobs
}
