package chronos_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestIntegration_Jobs runs chronos against a real coord, master and
// agent: a job every 2 s runs on time with its output in its sandbox, a
// failing job is retried, a child runs after its parent, run-now runs at
// once with its arguments, and bad definitions are refused naming the
// field.
func TestIntegration_Jobs(t *testing.T) {
	c := startCluster(t)
	s, _ := startChronos(t, c)
	waitFor(t, "chronos leadership", s.Leading)
	a := api{t: t, base: s.URL()}

	t.Run("leader", func(t *testing.T) {
		var got map[string]string
		if err := json.Unmarshal(a.must(200, "GET", "/v1/scheduler/leader", nil), &got); err != nil {
			t.Fatal(err)
		}
		if got["leader"] != strings.TrimPrefix(s.URL(), "http://") {
			t.Errorf("leader %q, want %s", got["leader"], s.URL())
		}
	})

	t.Run("bad definitions", func(t *testing.T) {
		for _, tc := range []struct {
			path, body, field string
		}{
			{"/v1/scheduler/iso8601", `{"name": "bad", "command": "true", "schedule": "R/2024-01-01T00:00:00Z/PXS"}`, "schedule"},
			{"/v1/scheduler/iso8601", `{"name": "bad", "command": "true", "schedule": "nonsense"}`, "schedule"},
			{"/v1/scheduler/iso8601", `{"name": "bad job", "command": "true", "schedule": "R//PT1H"}`, "name"},
			{"/v1/scheduler/iso8601", `{"name": "bad", "command": "true", "schedule": "R//PT1H"`, ""},
			{"/v1/scheduler/dependency", `{"name": "bad", "command": "true", "parents": ["nobody"]}`, "parents"},
			{"/v1/scheduler/dependency", `{"name": "selfish", "command": "true", "parents": ["selfish"]}`, "parents"},
			{"/v1/scheduler/iso8601", `{"name": "bad", "command": "true", "schedule": "R//PT1H", "cpus": "lots"}`, "cpus"},
		} {
			code, body, _ := a.do("POST", tc.path, tc.body)
			if code != 400 || !strings.Contains(string(body), tc.field) {
				t.Errorf("POST %s %s: %d %s, want 400 naming %q", tc.path, tc.body, code, body, tc.field)
			}
		}
		code, _, _ := a.do("GET", "/v1/scheduler/job/stat/bad", nil)
		if code != 404 {
			t.Errorf("stat of an unknown job: %d, want 404", code)
		}
	})

	t.Run("every 2s on time with output in the sandbox", func(t *testing.T) {
		a.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "tick", "command": "echo tick-$CHRONOS_JOB_NAME; sleep 0.2",
			"schedule": "R/" + isoStart(time.Second) + "/PT2S", "epsilon": "PT10S"})
		waitFor(t, "two successful runs", func() bool { return a.count("tick", "succeeded") >= 2 })
		a.must(204, "PUT", "/v1/scheduler/iso8601", map[string]any{"name": "tick", "command": "echo tick-$CHRONOS_JOB_NAME; sleep 0.2",
			"schedule": "R/" + isoStart(time.Second) + "/PT2S", "epsilon": "PT10S", "disabled": true})
		var instants []time.Time
		for _, r := range a.history("tick") {
			if r.Kind != "scheduled" {
				continue
			}
			if r.State == "skipped" && r.SkipReason != "disabled" {
				t.Errorf("run %s skipped: %s %s", r.ID, r.SkipReason, r.Message)
			}
			if r.State != "succeeded" {
				continue
			}
			instants = append(instants, r.ScheduledAt)
			if r.StartedAt.Before(r.ScheduledAt) {
				t.Errorf("run %s started at %s, before its instant %s", r.ID, r.StartedAt, r.ScheduledAt)
			}
			if *r.ExitStatus != 0 || r.AgentID == "" || r.Sandbox == "" {
				t.Errorf("run %s: exit %v agent %q sandbox %q", r.ID, r.ExitStatus, r.AgentID, r.Sandbox)
			}
			if out := sandboxFile(t, c.agentDir, r.TaskID, "stdout"); !strings.Contains(out, "tick-tick") {
				t.Errorf("stdout of %s: %q", r.TaskID, out)
			}
		}
		slices.SortFunc(instants, func(x, y time.Time) int { return x.Compare(y) })
		for i := 1; i < len(instants); i++ {
			if d := instants[i].Sub(instants[i-1]); d != 2*time.Second {
				t.Errorf("instants %s and %s are %s apart, want 2s", instants[i-1], instants[i], d)
			}
		}
		var jobs []map[string]any
		if err := json.Unmarshal(a.must(200, "GET", "/v1/scheduler/jobs", nil), &jobs); err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 1 || jobs[0]["successCount"].(float64) < 2 || jobs[0]["lastSuccess"] == "" || jobs[0]["lastError"] != "" {
			t.Errorf("jobs: %v", jobs)
		}
		var stat struct {
			Histogram       map[string]float64 `json:"histogram"`
			TaskStatHistory []map[string]any   `json:"taskStatHistory"`
		}
		if err := json.Unmarshal(a.must(200, "GET", "/v1/scheduler/job/stat/tick", nil), &stat); err != nil {
			t.Fatal(err)
		}
		if stat.Histogram["count"] < 2 || len(stat.TaskStatHistory) < 2 {
			t.Errorf("stat: %+v", stat)
		}
	})

	t.Run("a failing job is retried", func(t *testing.T) {
		a.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "fails", "command": "echo no; exit 3",
			"schedule": "R1/" + isoStart(500*time.Millisecond) + "/PT1H", "retries": 1})
		waitFor(t, "two failed attempts", func() bool { return a.count("fails", "failed") >= 2 })
		runs := a.history("fails")
		var attempts []int
		for _, r := range runs {
			if r.State == "failed" {
				attempts = append(attempts, r.Attempt)
				if r.ExitStatus == nil || *r.ExitStatus != 3 {
					t.Errorf("run %s: exit status %v, want 3", r.ID, r.ExitStatus)
				}
			}
		}
		slices.Sort(attempts)
		if !slices.Equal(attempts, []int{0, 1}) {
			t.Errorf("failed attempts %v, want [0 1] (retries: 1)", attempts)
		}
		var jobs []map[string]any
		if err := json.Unmarshal(a.must(200, "GET", "/v1/scheduler/jobs/search?name=fails", nil), &jobs); err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 1 || jobs[0]["errorCount"].(float64) != 1 || jobs[0]["lastError"] == "" {
			t.Errorf("search: %v", jobs)
		}
	})

	t.Run("a child runs after its parent", func(t *testing.T) {
		a.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "parent", "command": "sleep 0.3",
			"schedule": "R1/" + isoStart(500*time.Millisecond) + "/PT1H"})
		a.must(204, "POST", "/v1/scheduler/dependency", map[string]any{"name": "child", "command": "true", "parents": []string{"parent"}})
		waitFor(t, "the child's run", func() bool { return a.count("child", "succeeded") >= 1 })
		p, ch := a.history("parent"), a.history("child")
		if len(p) == 0 || p[0].State != "succeeded" {
			t.Fatalf("parent history %+v", p)
		}
		if ch[0].LaunchedAt.Before(p[0].FinishedAt) {
			t.Errorf("child launched at %s, before its parent finished at %s", ch[0].LaunchedAt, p[0].FinishedAt)
		}
		dot := string(a.must(200, "GET", "/v1/scheduler/graph/dot", nil))
		if !strings.Contains(dot, `label="child"`) || !strings.Contains(dot, "->") {
			t.Errorf("dot: %s", dot)
		}
		csv := string(a.must(200, "GET", "/v1/scheduler/graph/csv", nil))
		if !strings.Contains(csv, "link,parent,child") || !strings.Contains(csv, "node,child,success,idle") {
			t.Errorf("csv: %s", csv)
		}
	})

	t.Run("run now with arguments", func(t *testing.T) {
		a.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "manual", "command": "echo manual",
			"schedule": "R/2099-01-01T00:00:00Z/P1D"})
		a.must(204, "PUT", "/v1/scheduler/job/manual?arguments=hello", nil)
		waitFor(t, "the manual run", func() bool { return a.count("manual", "succeeded") >= 1 })
		r := a.history("manual")[0]
		if r.Kind != "manual" {
			t.Errorf("run kind %q, want manual", r.Kind)
		}
		if out := sandboxFile(t, c.agentDir, r.TaskID, "stdout"); !strings.Contains(out, "manual hello") {
			t.Errorf("stdout %q, want the argument appended", out)
		}
		a.must(204, "PUT", "/v1/scheduler/job/success/manual", nil)
		a.must(204, "DELETE", "/v1/scheduler/job/manual", nil)
		code, _, _ := a.do("GET", "/v1/scheduler/history/manual", nil)
		if code != 404 {
			t.Errorf("history of a deleted job: %d, want 404", code)
		}
	})

	t.Run("kill and maxCompletionTime", func(t *testing.T) {
		a.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "long", "command": "sleep 60",
			"schedule": "R/2099-01-01T00:00:00Z/P1D"})
		a.must(204, "PUT", "/v1/scheduler/job/long", nil)
		waitFor(t, "the long run to start", func() bool {
			h := a.history("long")
			return len(h) > 0 && h[0].State == "running"
		})
		csv := string(a.must(200, "GET", "/v1/scheduler/graph/csv", nil))
		if !strings.Contains(csv, "node,long,fresh,running") {
			t.Errorf("csv while running: %s", csv)
		}
		a.must(204, "DELETE", "/v1/scheduler/task/kill/long", nil)
		waitFor(t, "the long run to be killed", func() bool { return a.count("long", "killed") == 1 })

		a.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "overrun", "command": "sleep 60",
			"schedule": "R/2099-01-01T00:00:00Z/P1D", "maxCompletionTime": 1, "retries": 0})
		a.must(204, "PUT", "/v1/scheduler/job/overrun", nil)
		waitFor(t, "the overrunning run to fail", func() bool { return a.count("overrun", "failed") == 1 })
		if r := a.history("overrun")[0]; !strings.Contains(r.Message, "timeout") {
			t.Errorf("overrun: %+v, want a timeout", r)
		}
		var stats []map[string]any
		if err := json.Unmarshal(a.must(200, "GET", "/v1/scheduler/stats/99thPercentile", nil), &stats); err != nil {
			t.Fatal(err)
		}
		if len(stats) == 0 {
			t.Error("stats/99thPercentile: empty")
		}
		a.must(400, "GET", "/v1/scheduler/stats/42ndPercentile", nil)
		var sum struct {
			Jobs []map[string]any `json:"jobs"`
		}
		if err := json.Unmarshal(a.must(200, "GET", "/v1/scheduler/jobs/summary", nil), &sum); err != nil {
			t.Fatal(err)
		}
		for _, j := range sum.Jobs {
			if j["name"] == "overrun" && (j["status"] != "failure" || j["state"] != "idle") {
				t.Errorf("summary of overrun: %v", j)
			}
		}
	})

	t.Run("constraints", func(t *testing.T) {
		a.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "on-r1", "command": "true",
			"schedule": "R/2099-01-01T00:00:00Z/P1D", "constraints": [][]string{{"rack", "EQUALS", "r1"}, {"hostname", "LIKE", "chronos-.*"}}})
		a.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "on-r9", "command": "true", "epsilon": "PT2S",
			"retries": 0, "schedule": "R/2099-01-01T00:00:00Z/P1D", "constraints": [][]string{{"rack", "EQUALS", "r9"}}})
		a.must(204, "PUT", "/v1/scheduler/job/on-r1", nil)
		a.must(204, "PUT", "/v1/scheduler/job/on-r9", nil)
		waitFor(t, "the run on r1", func() bool { return a.count("on-r1", "succeeded") == 1 })
		// No agent is in rack r9: after its epsilon the run is recorded
		// failed, saying why, rather than waiting forever.
		waitFor(t, "the run on r9 to give up", func() bool { return a.count("on-r9", "failed") == 1 })
		if r := a.history("on-r9")[0]; !strings.Contains(r.Message, "no offer") {
			t.Errorf("on-r9: %+v", r)
		}
	})

	t.Run("compat jobs from Chronos' docs", func(t *testing.T) { compat(t, a) })
}

// compat posts the job definitions of ../../shared/compat/chronos
// unchanged to the endpoint their .source names and expects Chronos'
// answer.
func compat(t *testing.T, a api) {
	dir := filepath.Join("..", "..", "shared", "compat", "chronos")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Skipf("no Chronos compat definitions at %s (the shared compat directory is not on this machine)", dir)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src, _ := os.ReadFile(strings.TrimSuffix(f, ".json") + ".source")
		endpoint, expect := "/v1/scheduler/iso8601", "accept"
		for _, line := range strings.Split(string(src), "\n") {
			if v, ok := strings.CutPrefix(line, "endpoint: POST "); ok {
				endpoint = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "expect: "); ok {
				expect = strings.TrimSpace(v)
			}
		}
		var def struct {
			Name    string   `json:"name"`
			Parents []string `json:"parents"`
		}
		_ = json.Unmarshal(body, &def)
		for _, p := range def.Parents { // placeholders, a day ahead
			a.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": p, "command": "true",
				"schedule": "R/" + isoStart(24*time.Hour) + "/P1D"})
		}
		code, answer, _ := a.do("POST", endpoint, body)
		switch {
		case expect == "accept" && code != 204:
			t.Errorf("%s: %d %s, want 204", filepath.Base(f), code, answer)
		case expect == "reject" && code != 400:
			t.Errorf("%s: %d %s, want 400", filepath.Base(f), code, answer)
		case expect == "reject":
			var e struct{ Message string }
			if json.Unmarshal(answer, &e) != nil || e.Message == "" {
				t.Errorf("%s: 400 without a message: %s", filepath.Base(f), answer)
			}
		}
		// Nothing of theirs may run here: remove what was accepted.
		if code == 204 {
			a.must(204, "DELETE", "/v1/scheduler/job/"+def.Name, nil)
		}
		for _, p := range def.Parents {
			a.must(204, "DELETE", "/v1/scheduler/job/"+p, nil)
		}
	}
}

// TestIntegration_Failover: the leading chronos stops mid-schedule; a
// second one takes over. Every instant of a 2 s job runs exactly once —
// no duplicate, and nothing missed within epsilon — and a follower
// redirects API calls to the leader.
func TestIntegration_Failover(t *testing.T) {
	c := startCluster(t)
	first, stopFirst := startChronos(t, c)
	waitFor(t, "first chronos leadership", first.Leading)
	second, _ := startChronos(t, c)
	a1 := api{t: t, base: first.URL()}
	a2 := api{t: t, base: second.URL()}

	waitFor(t, "the follower to know the leader", func() bool {
		code, _, h := a2.do("GET", "/v1/scheduler/jobs", nil)
		return code == 307 && strings.HasPrefix(h.Get("Location"), first.URL())
	})
	a1.must(204, "POST", "/v1/scheduler/iso8601", map[string]any{"name": "beat", "command": "echo beat; sleep 1",
		"schedule": "R/" + isoStart(time.Second) + "/PT2S", "epsilon": "PT20S"})
	waitFor(t, "two runs under the first leader", func() bool { return a1.count("beat", "succeeded") >= 2 })
	// Stop the leader while a run is in flight: the next leader must
	// follow that task, not launch its instant again.
	waitFor(t, "a run in flight", func() bool {
		h := a1.history("beat")
		return len(h) > 0 && h[0].State == "running"
	})
	stopFirst()
	waitFor(t, "the second chronos to lead", second.Leading)
	before := len(a2.history("beat"))
	waitFor(t, "three more runs under the second leader", func() bool { return a2.count("beat", "succeeded") >= before+3 })
	a2.must(204, "PUT", "/v1/scheduler/iso8601", map[string]any{"name": "beat", "command": "echo beat; sleep 1",
		"schedule": "R/" + isoStart(time.Second) + "/PT2S", "epsilon": "PT20S", "disabled": true})

	seen := map[time.Time]string{}
	var instants []time.Time
	for _, r := range a2.history("beat") {
		if r.Kind == "skipped" || r.State == "skipped" {
			if r.SkipReason != "disabled" {
				t.Errorf("run %s skipped (%s): a missed instant", r.ID, r.SkipReason)
			}
			continue
		}
		if r.Kind != "scheduled" {
			if r.Kind == "retry" {
				t.Errorf("run %s is a retry (%s): an attempt failed across the failover", r.ID, r.Message)
			}
			continue
		}
		if prev, dup := seen[r.ScheduledAt]; dup {
			t.Errorf("instant %s ran twice: %s and %s", r.ScheduledAt, prev, r.ID)
		}
		seen[r.ScheduledAt] = r.ID
		instants = append(instants, r.ScheduledAt)
	}
	slices.SortFunc(instants, func(x, y time.Time) int { return x.Compare(y) })
	for i := 1; i < len(instants); i++ {
		if d := instants[i].Sub(instants[i-1]); d != 2*time.Second {
			t.Errorf("instants %s and %s are %s apart: %s missed", instants[i-1], instants[i], d,
				fmt.Sprint(instants[i-1].Add(2*time.Second)))
		}
	}
	if len(instants) < 5 {
		t.Errorf("%d runs, want at least 5", len(instants))
	}
}
