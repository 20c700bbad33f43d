package table

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-dc/strata/master/client"
)

// doc reads a fixture as the clients return it: decoded, with the
// document as sent.
func doc[T any](t *testing.T, name string) client.Doc[T] {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var d client.Doc[T]
	if err := json.Unmarshal(b, &d.Value); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	d.Raw = b
	return d
}

func TestGoldenFrameworks(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	apps := doc[client.MarathonApps](t, "marathon_apps.json")
	deps := doc[[]client.MarathonDeployment](t, "marathon_deployments.json")
	queue := doc[client.MarathonQueue](t, "marathon_queue.json")
	jobs := doc[[]client.ChronosJob](t, "chronos_jobs.json")
	hist := doc[client.ChronosHistory](t, "chronos_history.json")
	states := map[string]string{"backup": "running", "report": "queued", "demo-job": "idle"}
	cases := []struct {
		name string
		run  func(*bytes.Buffer) error
	}{
		{"apps.txt", func(b *bytes.Buffer) error { return Apps(apps.Value.Apps, now).Render(b, false, Style{}) }},
		{"apps_wide.txt", func(b *bytes.Buffer) error { return Apps(apps.Value.Apps, now).Render(b, true, Style{}) }},
		{"app_show.txt", func(b *bytes.Buffer) error {
			a := FindApp(apps.Value.Apps, "web")
			if err := AppShow(a, now).Render(b, Style{}); err != nil {
				return err
			}
			return AppTasks(a.Tasks, now).Render(b, true, Style{})
		}},
		{"deployments.txt", func(b *bytes.Buffer) error { return Deployments(deps.Value, now).Render(b, false, Style{}) }},
		{"deployment_progress.txt", func(b *bytes.Buffer) error {
			for _, d := range deps.Value {
				b.WriteString(DeploymentProgress(d, 20) + "\n")
			}
			return nil
		}},
		{"queue_wide.txt", func(b *bytes.Buffer) error { return Queue(queue.Value.Queue, now).Render(b, true, Style{}) }},
		{"versions.txt", func(b *bytes.Buffer) error {
			return Versions([]string{"2026-01-02T14:00:00.000Z", "2026-01-02T13:00:00.000Z"}, "2026-01-02T14:00:00.000Z", now).Render(b, false, Style{})
		}},
		{"jobs.txt", func(b *bytes.Buffer) error { return Jobs(jobs.Value, states, now).Render(b, false, Style{}) }},
		{"jobs_wide.txt", func(b *bytes.Buffer) error { return Jobs(jobs.Value, nil, now).Render(b, true, Style{}) }},
		{"job_show.txt", func(b *bytes.Buffer) error { return JobShow(&jobs.Value[0], "running", now).Render(b, Style{}) }},
		{"job_history_wide.txt", func(b *bytes.Buffer) error { return JobHistory(hist.Value.Runs, now).Render(b, true, Style{}) }},
		{"apps.json", func(b *bytes.Buffer) error { return WriteJSON(b, apps) }},
		{"jobs.yaml", func(b *bytes.Buffer) error { return WriteYAML(b, jobs) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.run(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, b.Bytes())
		})
	}
}

// TestFrameworkJSONIsTheAPIDocument: -o json of apps and jobs is the
// document marathon and chronos sent, not a re-encoding of the fields the
// CLI knows.
func TestFrameworkJSONIsTheAPIDocument(t *testing.T) {
	for _, name := range []string{"marathon_apps.json", "chronos_jobs.json", "marathon_queue.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteJSON(&b, client.Doc[any]{Raw: raw}); err != nil {
			t.Fatal(err)
		}
		var want, got any
		_ = json.Unmarshal(raw, &want)
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if !bytes.Equal(wb, gb) {
			t.Errorf("%s: -o json differs from the API's document", name)
		}
	}
}

func TestAppStatus(t *testing.T) {
	for _, c := range []struct {
		app  client.MarathonApp
		want string
	}{
		{client.MarathonApp{Instances: 2, TasksRunning: 2}, "running"},
		{client.MarathonApp{Instances: 2, TasksRunning: 2, TasksHealthy: 1, HealthChecks: []json.RawMessage{[]byte(`{}`)}}, "waiting"},
		{client.MarathonApp{Instances: 0}, "suspended"},
		{client.MarathonApp{Instances: 2, TasksRunning: 2, Deployments: []struct{ ID string }{{ID: "d"}}}, "deploying"},
		{client.MarathonApp{Instances: 3, TasksRunning: 1}, "waiting"},
	} {
		if got := AppStatus(&c.app); got != c.want {
			t.Errorf("%+v: %s, want %s", c.app, got, c.want)
		}
	}
}
