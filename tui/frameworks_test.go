package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// TestGoldenFrameworkViews renders Apps and Jobs from the fixed marathon
// and chronos fixtures at 80×24 and 160×48, and describe of an app and a
// job (the dependency tree).
func TestGoldenFrameworkViews(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, view := range []string{"apps", "jobs"} {
			name := fmt.Sprintf("%s_live_%dx%d", view, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				m, _, _ := newFrameworkModel(size[0], size[1], false)
				defer m.Close()
				m.switchTo(m.viewIndex(view))
				m.Update(nil)
				checkFrame(t, m, size[0], size[1])
				golden(t, name, m.View())
			})
		}
	}
	t.Run("describe", func(t *testing.T) {
		m, _, _ := newFrameworkModel(80, 24, false)
		defer m.Close()
		run(m, keys("8")) // apps sorted by id: /batch/etl first
		run(m, keys("enter"))
		checkFrame(t, m, 80, 24)
		golden(t, "describe_app_80x24", m.View())
		run(m, keys("esc"))
		run(m, keys("9")) // jobs by name: backup first
		run(m, keys("enter"))
		checkFrame(t, m, 80, 24)
		golden(t, "describe_job_80x24", m.View())
	})
}

func TestFrameworkRows(t *testing.T) {
	rows := buildJobs(fixtureJobs(), t0)
	byName := map[string]*row{}
	for i := range rows {
		byName[rows[i].id] = &rows[i]
	}
	// t0 is 03:04:05; hourly from midnight: next at 04:00.
	if got := byName["backup"].cells[2].text; got != "in "+shortDuration(55*time.Minute+55*time.Second) {
		t.Errorf("backup next = %q", got)
	}
	if got := byName["backup"].cells[5].text; got != "✓·✗✓✓" {
		t.Errorf("backup history = %q, want oldest left ✓·✗✓✓", got)
	}
	if got := byName["cleanup"].cells[3].text; got != "disabled" {
		t.Errorf("cleanup state = %q", got)
	}
	r := byName["backup"].obj.(*jobRow)
	if strings.Join(r.Children, ",") != "report" {
		t.Errorf("backup children = %v", r.Children)
	}
	tree := strings.Join(r.descendants("backup", "", map[string]bool{"backup": true}), "\n")
	if tree != "└─ report\n   └─ notify" {
		t.Errorf("tree:\n%s", tree)
	}
	apps := buildApps(fixtureApps(), t0)
	for _, a := range apps {
		if a.id == "/batch/etl" && !strings.Contains(a.cells[7].text, "InsufficientCpus") {
			t.Errorf("etl waiting = %q, want the top rejection", a.cells[7].text)
		}
		if a.id == "/prod/web" && a.cells[6].text != "scale 1/2" {
			t.Errorf("web deployment = %q", a.cells[6].text)
		}
	}
}

// TestFrameworkActions: each action names what will happen, sends nothing
// until confirmed, and reaches the source once confirmed.
func TestFrameworkActions(t *testing.T) {
	dir := t.TempDir()
	appFile := filepath.Join(dir, "app.json")
	if err := os.WriteFile(appFile, []byte(`{"id":"/x/y","cmd":"sleep 1","instances":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	jobFile := filepath.Join(dir, "job.json")
	if err := os.WriteFile(jobFile, []byte(`{"name":"after","command":"true","parents":["backup"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, view string
		moves      int // rows down from the first
		key, input string
		what, sent string
	}{
		{"scale", "8", 2, "N", "5", "scale app /prod/web from 3 to 5 instances", "scale /prod/web 5"},
		{"restart", "8", 2, "U", "", "restart app /prod/web: replace its 2 running task(s)", "restart /prod/web"},
		{"suspend", "8", 3, "Z", "", "suspend app /prod/worker: scale from 2 to 0 instances", "scale /prod/worker 0"},
		{"destroy", "8", 0, "X", "", "destroy app /batch/etl: kill its 0 task(s) and delete the app", "destroy /batch/etl"},
		{"deploy short", "8", 0, "A", `/svc/echo "sleep 100" 2 0.5 64`,
			`deploy app /svc/echo: 2 × (cpus 0.5, mem 64 MB) running "sleep 100"`,
			`deploy {"cmd":"sleep 100","cpus":0.5,"id":"/svc/echo","instances":2,"mem":64}`},
		{"deploy file", "8", 0, "A", appFile, "deploy app /x/y from " + appFile, `deploy {"id":"/x/y","cmd":"sleep 1","instances":1}`},
		{"run job", "9", 0, "J", "", "run job backup now (a manual run; on success report follow)", "run backup"},
		{"disable", "9", 0, "E", "", "disable job backup: no more scheduled runs", "disabled backup true"},
		{"enable", "9", 1, "E", "", "enable job cleanup", "disabled cleanup false"},
		{"delete", "9", 0, "X", "", "delete job backup and kill its running tasks; 1 job(s) depend on it: report", "delete backup"},
		{"add short", "9", 0, "A", `nightly "0 3 * * *" ./nightly.sh --all`,
			`add job nightly on 0 3 * * * running "./nightly.sh --all" (first run 2026-01-03 03:00:00Z)`,
			`put {"command":"./nightly.sh --all","cpus":0.1,"epsilon":"PT60S","mem":32,"name":"nightly","owner":"","schedule":"0 3 * * *","shell":true}`},
		{"add file", "9", 0, "A", jobFile, "add job after from " + jobFile + " (runs after backup)", `put {"name":"after","command":"true","parents":["backup"]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, apps, jobs := newFrameworkModel(160, 48, false)
			defer m.Close()
			run(m, keys(tc.view))
			for range tc.moves {
				run(m, keys("down"))
			}
			run(m, keys(tc.key))
			if tc.input != "" {
				if m.mode != modePrompt {
					t.Fatalf("%s: no prompt (notice %q)", tc.key, m.notice)
				}
				typeText(m, tc.input)
				run(m, keys("enter"))
			}
			if m.confirm == nil {
				t.Fatalf("no confirmation (notice %q)", m.notice)
			}
			if !strings.Contains(m.confirm.what, tc.what) {
				t.Errorf("confirmation %q does not say %q", m.confirm.what, tc.what)
			}
			if len(apps.Actions())+len(jobs.Actions()) != 0 {
				t.Fatal("sent before confirmation")
			}
			run(m, keys("y"))
			got := append(apps.Actions(), jobs.Actions()...)
			if len(got) != 1 || got[0] != tc.sent {
				t.Errorf("sent %q, want %q", got, tc.sent)
			}
			if !strings.HasPrefix(m.notice, "done: ") {
				t.Errorf("notice %q", m.notice)
			}
		})
	}
}

func TestFrameworkActionsDeniedAndBadInput(t *testing.T) {
	m, apps, _ := newFrameworkModel(80, 24, false)
	defer m.Close()
	run(m, keys("8"))
	run(m, keys("X"))
	run(m, keys("n"))
	if m.confirm != nil || len(apps.Actions()) != 0 || !strings.HasPrefix(m.notice, "cancelled: destroy app") {
		t.Errorf("after n: confirm %v, sent %v, notice %q", m.confirm, apps.Actions(), m.notice)
	}
	run(m, keys("N"))
	typeText(m, "-1")
	run(m, keys("enter"))
	if m.confirm != nil || !strings.Contains(m.notice, "want a whole number") {
		t.Errorf("scale -1: confirm %v, notice %q", m.confirm, m.notice)
	}
	run(m, keys("9"))
	run(m, keys("A"))
	typeText(m, "x R/bad/PT1H true")
	run(m, keys("enter"))
	if m.confirm != nil || !strings.Contains(m.notice, "schedule") {
		t.Errorf("bad schedule: confirm %v, notice %q", m.confirm, m.notice)
	}
	run(m, keys("2")) // agents: app keys say where they work
	run(m, keys("U"))
	if m.confirm != nil || !strings.Contains(m.notice, "select an app") {
		t.Errorf("restart on agents: %q", m.notice)
	}
}

func TestFrameworkReadonly(t *testing.T) {
	m, apps, jobs := newFrameworkModel(80, 24, true)
	defer m.Close()
	for _, v := range []string{"8", "9"} {
		run(m, keys(v))
		for _, k := range []string{"N", "U", "Z", "X", "A", "J", "E"} {
			run(m, keys(k))
			if m.confirm != nil || m.mode != modeList {
				t.Fatalf("readonly: %s in view %s opened an action", k, v)
			}
		}
	}
	if len(apps.Actions())+len(jobs.Actions()) != 0 {
		t.Fatal("readonly sent actions")
	}
	run(m, keys("?"))
	if strings.Contains(m.View(), "scale app") && !strings.Contains(m.View(), "disabled") {
		t.Log(m.View())
	}
}

// TestKillThroughFramework: Live.Killers routes a task kill to the
// framework that owns it.
func TestKillThroughFramework(t *testing.T) {
	apps := &fakeApps{snap: fixtureApps()}
	l := &Live{Killers: map[string]func(context.Context, *mesos.Task) error{"marathon": apps.KillTask}}
	task := &mesos.Task{TaskID: "prod_web.a1"}
	if err := l.KillTask(t.Context(), task, "marathon"); err != nil {
		t.Fatal(err)
	}
	if got := apps.Actions(); len(got) != 1 || got[0] != "kill prod_web.a1" {
		t.Errorf("killed %v", got)
	}
	if err := l.KillTask(t.Context(), task, "other"); err == nil {
		t.Error("a framework without a killer: no error")
	}
}
