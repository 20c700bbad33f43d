package tui

import (
	"strings"
	"testing"
)

// TestActionCommands: `:deploy`, `:scale` and `:run` act without a
// selected row, each after a confirmation; bad ones say why; none works
// read-only.
func TestActionCommands(t *testing.T) {
	cases := []struct {
		command, what, sent string
	}{
		{`deploy /svc/echo "sleep 100" 2`, `deploy app /svc/echo: 2 ×`,
			`deploy {"cmd":"sleep 100","cpus":0.1,"id":"/svc/echo","instances":2,"mem":32}`},
		{"scale prod/web 4", "scale app /prod/web to 4 instances", "scale /prod/web 4"},
		{"run backup", "run job backup now", "run backup"},
	}
	for _, tc := range cases {
		t.Run(tc.command, func(t *testing.T) {
			m, apps, jobs := newFrameworkModel(160, 48, false)
			defer m.Close()
			run(m, keys(":"))
			typeText(m, tc.command)
			run(m, keys("enter"))
			if m.confirm == nil || !strings.Contains(m.confirm.what, tc.what) {
				t.Fatalf("confirmation %v (notice %q), want one saying %q", m.confirm, m.notice, tc.what)
			}
			if len(apps.Actions())+len(jobs.Actions()) != 0 {
				t.Fatal("sent before confirmation")
			}
			run(m, keys("y"))
			if got := append(apps.Actions(), jobs.Actions()...); len(got) != 1 || got[0] != tc.sent {
				t.Errorf("sent %q, want %q", got, tc.sent)
			}
		})
	}
	for _, bad := range []struct{ command, notice string }{
		{"scale /prod/web", "want :scale APP N"},
		{"scale /prod/web -2", "want :scale APP N"},
		{"run", "want :run JOB"},
		{"deploy", "deploy"},
	} {
		m, apps, jobs := newFrameworkModel(80, 24, false)
		run(m, keys(":"))
		typeText(m, bad.command)
		run(m, keys("enter"))
		if m.confirm != nil || !strings.Contains(m.notice, bad.notice) || len(apps.Actions())+len(jobs.Actions()) != 0 {
			t.Errorf(":%s: confirm %v, notice %q", bad.command, m.confirm, m.notice)
		}
		m.Close()
	}
	m, apps, _ := newFrameworkModel(80, 24, true)
	defer m.Close()
	run(m, keys(":"))
	typeText(m, "scale /prod/web 9")
	run(m, keys("enter"))
	if m.confirm != nil || !strings.Contains(m.notice, "read-only") || len(apps.Actions()) != 0 {
		t.Errorf("read-only :scale: confirm %v, notice %q", m.confirm, m.notice)
	}
}
