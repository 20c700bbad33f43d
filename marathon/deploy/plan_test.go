package deploy

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func app(id string, n int, v time.Time, deps ...string) AppSpec {
	return AppSpec{ID: id, Version: v, Instances: n, Dependencies: deps, UpgradeStrategy: DefaultUpgradeStrategy}
}

// stepsString renders steps compactly: "Stop(/a) | Start(/b,/c) | Scale(/b) Restart(/c)".
func stepsString(p DeploymentPlan) string {
	var steps []string
	for _, s := range p.Steps {
		var acts []string
		for _, a := range s.Actions {
			acts = append(acts, strings.TrimSuffix(string(a.Action), "Application")+"("+a.App+")")
		}
		steps = append(steps, strings.Join(acts, " "))
	}
	return strings.Join(steps, " | ")
}

func TestPlan(t *testing.T) {
	cases := []struct {
		name     string
		from, to RootState
		want     string
	}{
		{name: "new app", to: RootState{Apps: []AppSpec{app("/a", 2, v1)}},
			want: "Start(/a) | Scale(/a)"},
		{name: "unchanged", from: RootState{Apps: []AppSpec{app("/a", 2, v1)}}, to: RootState{Apps: []AppSpec{app("/a", 2, v1)}},
			want: ""},
		{name: "scale only", from: RootState{Apps: []AppSpec{app("/a", 2, v1)}}, to: RootState{Apps: []AppSpec{app("/a", 5, v1)}},
			want: "Scale(/a)"},
		{name: "config change restarts", from: RootState{Apps: []AppSpec{app("/a", 2, v1)}}, to: RootState{Apps: []AppSpec{app("/a", 5, v2)}},
			want: "Restart(/a)"},
		{name: "config change to zero scales", from: RootState{Apps: []AppSpec{app("/a", 2, v1)}}, to: RootState{Apps: []AppSpec{app("/a", 0, v2)}},
			want: "Scale(/a)"},
		{name: "independent apps share a step",
			to:   RootState{Apps: []AppSpec{app("/b", 1, v1), app("/a", 1, v1)}},
			want: "Start(/a) Start(/b) | Scale(/a) Scale(/b)"},
		{name: "chain", to: RootState{Apps: []AppSpec{app("/c", 1, v1, "/b"), app("/b", 1, v1, "/a"), app("/a", 1, v1)}},
			want: "Start(/a) Start(/b) Start(/c) | Scale(/a) | Scale(/b) | Scale(/c)"},
		{name: "diamond", to: RootState{Apps: []AppSpec{app("/d", 1, v1, "/b", "/c"), app("/b", 1, v1, "/a"), app("/c", 1, v1, "/a"), app("/a", 1, v1)}},
			want: "Start(/a) Start(/b) Start(/c) Start(/d) | Scale(/a) | Scale(/b) Scale(/c) | Scale(/d)"},
		{name: "uneven diamond uses the longest path", to: RootState{Apps: []AppSpec{
			app("/d", 1, v1, "/a", "/c"), app("/c", 1, v1, "/b"), app("/b", 1, v1, "/a"), app("/a", 1, v1)}},
			want: "Start(/a) Start(/b) Start(/c) Start(/d) | Scale(/a) | Scale(/b) | Scale(/c) | Scale(/d)"},
		{name: "only changed apps, in dependency order",
			from: RootState{Apps: []AppSpec{app("/db", 1, v1), app("/web", 2, v1, "/db"), app("/cache", 1, v1)}},
			to:   RootState{Apps: []AppSpec{app("/db", 1, v2), app("/web", 2, v2, "/db"), app("/cache", 1, v1)}},
			want: "Restart(/db) | Restart(/web)"},
		{name: "app depends on a group",
			to:   RootState{Apps: []AppSpec{app("/prod/web", 1, v1, "/prod/db"), app("/prod/db/pg", 1, v1), app("/prod/db/redis", 1, v1)}},
			want: "Start(/prod/db/pg) Start(/prod/db/redis) Start(/prod/web) | Scale(/prod/db/pg) Scale(/prod/db/redis) | Scale(/prod/web)"},
		{name: "group depends on a group",
			to: RootState{
				Apps:   []AppSpec{app("/front/ui", 1, v1), app("/front/api", 1, v1), app("/back/db", 1, v1)},
				Groups: []GroupSpec{{ID: "/front", Dependencies: []string{"/back"}}, {ID: "/back"}}},
			want: "Start(/back/db) Start(/front/api) Start(/front/ui) | Scale(/back/db) | Scale(/front/api) Scale(/front/ui)"},
		{name: "relative dependency ids",
			to:   RootState{Apps: []AppSpec{app("/prod/web", 1, v1, "db"), app("/prod/db", 1, v1, "../shared/log"), app("/shared/log", 1, v1)}},
			want: "Start(/prod/db) Start(/prod/web) Start(/shared/log) | Scale(/shared/log) | Scale(/prod/db) | Scale(/prod/web)"},
		{name: "dependency on a missing app orders nothing", to: RootState{Apps: []AppSpec{app("/a", 1, v1, "/ghost")}},
			want: "Start(/a) | Scale(/a)"},
		{name: "removed apps stop dependents first",
			from: RootState{Apps: []AppSpec{app("/c", 1, v1, "/b"), app("/b", 1, v1, "/a"), app("/a", 1, v1), app("/x", 1, v1)}},
			want: "Stop(/c) | Stop(/b) | Stop(/a) Stop(/x)"},
		{name: "stop, start and change together",
			from: RootState{Apps: []AppSpec{app("/old", 1, v1), app("/keep", 2, v1)}},
			to:   RootState{Apps: []AppSpec{app("/new", 1, v2, "/keep"), app("/keep", 3, v1)}},
			want: "Stop(/old) | Start(/new) | Scale(/keep) | Scale(/new)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Plan(c.from, c.to, PlanMeta{ID: "d1", Version: t0})
			if err != nil {
				t.Fatal(err)
			}
			if got := stepsString(p); got != c.want {
				t.Fatalf("steps\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestPlanCycle(t *testing.T) {
	to := RootState{Apps: []AppSpec{app("/a", 1, v1, "/c"), app("/b", 1, v1, "/a"), app("/c", 1, v1, "/b")}}
	_, err := Plan(RootState{}, to, PlanMeta{ID: "d1", Version: t0})
	var ce *CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("want a CycleError, got %v", err)
	}
	if !strings.Contains(err.Error(), "/a -> /c -> /b -> /a") {
		t.Fatalf("error %q should name the cycle", err)
	}
	if err := CheckDependencies(to); err == nil {
		t.Fatal("CheckDependencies missed the cycle")
	}
}

func TestPlanRejectsBadIDs(t *testing.T) {
	_, err := Plan(RootState{}, RootState{Apps: []AppSpec{app("a", 1, v1)}}, PlanMeta{})
	if err == nil || !strings.Contains(err.Error(), `apps[0].id "a"`) {
		t.Fatalf("error %v should name the field", err)
	}
	_, err = Plan(RootState{}, RootState{Apps: []AppSpec{app("/a", 1, v1), app("/a", 2, v1)}}, PlanMeta{})
	if err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("error %v should report the duplicate", err)
	}
}

func TestPlanToKill(t *testing.T) {
	from := RootState{Apps: []AppSpec{app("/a", 3, v1)}}
	to := RootState{Apps: []AppSpec{app("/a", 2, v1)}}
	p, _ := Plan(from, to, PlanMeta{ID: "d", Version: t0, ToKill: map[string][]string{"/a": {"a.1"}}})
	if got := p.Steps[0].Actions[0].Kill; !slices.Equal(got, []string{"a.1"}) {
		t.Fatalf("kill %v", got)
	}
}

func TestDependencies(t *testing.T) {
	r := RootState{
		Apps:   []AppSpec{app("/f/ui", 1, v1, "/f/api"), app("/f/api", 1, v1), app("/b/db", 1, v1)},
		Groups: []GroupSpec{{ID: "/f", Dependencies: []string{"/b"}}},
	}
	if got := Dependencies(r, "/f/ui"); !slices.Equal(got, []string{"/b/db", "/f/api"}) {
		t.Fatalf("deps %v", got)
	}
}

func TestDeploymentInfoJSON(t *testing.T) {
	from := RootState{Apps: []AppSpec{app("/foo", 1, v1)}}
	to := RootState{Apps: []AppSpec{app("/foo", 2, v2), app("/bar", 1, v2, "/foo")}}
	p, err := Plan(from, to, PlanMeta{ID: "97c136bf-5a28-4821-9d94-480d9fbb01c8", Version: time.Date(2015, 9, 30, 9, 9, 17, 614e6, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	info := p.Info(2, map[string][]ReadinessCheckResult{"/foo": {{Name: "ready", TaskID: "foo.instance-c9de6033",
		LastResponse: &HTTPResponse{Status: 500, ContentType: "application/json", Body: "{}"}}}})
	got, _ := json.Marshal(info)
	want := `{"id":"97c136bf-5a28-4821-9d94-480d9fbb01c8","version":"2015-09-30T09:09:17.614Z",` +
		`"affectedApps":["/bar","/foo"],"affectedPods":[],` +
		`"steps":[{"actions":[{"action":"StartApplication","app":"/bar"}]},{"actions":[{"action":"RestartApplication","app":"/foo"}]},{"actions":[{"action":"ScaleApplication","app":"/bar"}]}],` +
		`"currentActions":[{"action":"RestartApplication","app":"/foo","readinessCheckResults":[{"name":"ready","taskId":"foo.instance-c9de6033","ready":false,"lastResponse":{"status":500,"contentType":"application/json","body":"{}"}}]}],` +
		`"currentStep":2,"totalSteps":3}`
	if string(got) != want {
		t.Fatalf("info JSON\n got %s\nwant %s", got, want)
	}
	// Before the first step: nothing current, but never null.
	got, _ = json.Marshal(p.Info(0, nil))
	if !strings.Contains(string(got), `"currentActions":[],"currentStep":0`) {
		t.Fatalf("initial info %s", got)
	}
	got, _ = json.Marshal(p.View())
	if !strings.HasPrefix(string(got), `{"id":"97c136bf-5a28-4821-9d94-480d9fbb01c8","version":"2015-09-30T09:09:17.614Z","steps":[{"actions":[{"action":"StartApplication","app":"/bar"}]}`) {
		t.Fatalf("plan view %s", got)
	}
	// The storage form round-trips.
	raw, _ := json.Marshal(p)
	var back DeploymentPlan
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if stepsString(back) != stepsString(p) || !back.Version.Equal(p.Version) || len(back.Original.Apps) != 1 {
		t.Fatalf("round trip lost data: %s", raw)
	}
}

func TestConflicts(t *testing.T) {
	mk := func(id string, apps ...string) DeploymentPlan {
		var to RootState
		for _, a := range apps {
			to.Apps = append(to.Apps, app(a, 1, v1))
		}
		p, _ := Plan(RootState{}, to, PlanMeta{ID: id, Version: t0})
		return p
	}
	running := []DeploymentPlan{mk("d-2", "/a"), mk("d-1", "/b", "/c"), mk("d-3", "/x")}
	if err := CheckConflicts(mk("new", "/y"), running); err != nil {
		t.Fatalf("no shared app, got %v", err)
	}
	err := CheckConflicts(mk("new", "/a", "/c"), running)
	var le *LockedError
	if !errors.As(err, &le) || !slices.Equal(le.DeploymentIDs, []string{"d-1", "d-2"}) {
		t.Fatalf("conflict = %v", err)
	}
	body, _ := json.Marshal(le.Body())
	want := `{"message":"App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/\u003cDEPLOYMENT_ID\u003e'.","deployments":[{"id":"d-1"},{"id":"d-2"}]}`
	if string(body) != want {
		t.Fatalf("409 body\n got %s\nwant %s", body, want)
	}
	if err := LockedApp("/x", running); err == nil {
		t.Fatal("LockedApp missed d-3")
	}
	if err := LockedApp("/z", running); err != nil {
		t.Fatal(err)
	}
	// A plan never conflicts with itself (the daemon re-checks stored plans).
	if err := CheckConflicts(running[0], running); err != nil {
		t.Fatal(err)
	}
}

func TestRollback(t *testing.T) {
	original := RootState{
		Apps:   []AppSpec{app("/a", 3, v1), app("/gone", 1, v1), app("/s", 2, v1)},
		Groups: []GroupSpec{{ID: "/g", Dependencies: []string{"/x"}}},
	}
	target := RootState{
		Apps:   []AppSpec{app("/a", 3, v2), app("/new/n", 1, v2), app("/s", 5, v1)},
		Groups: []GroupSpec{{ID: "/g", Dependencies: []string{"/y"}}, {ID: "/new"}},
	}
	p, err := Plan(original, target, PlanMeta{ID: "dep", Version: t0})
	if err != nil {
		t.Fatal(err)
	}
	if got := stepsString(p); got != "Stop(/gone) | Start(/new/n) | Restart(/a) Scale(/new/n) Scale(/s)" {
		t.Fatalf("forward plan %s", got)
	}
	// Meanwhile another deployment added /other.
	current := target
	current.Apps = append(slices.Clone(target.Apps), app("/other", 1, v2))
	reverted := Revert(p, current)
	var ids []string
	for _, a := range reverted.Apps {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []string{"/a", "/gone", "/other", "/s"}) {
		t.Fatalf("reverted apps %v", ids)
	}
	if a, _ := reverted.App("/a"); !a.Version.Equal(v1) {
		t.Fatalf("/a not back to v1: %v", a.Version)
	}
	if s, _ := reverted.App("/s"); s.Instances != 2 {
		t.Fatalf("/s not back to 2 instances: %d", s.Instances)
	}
	if g, ok := reverted.Group("/g"); !ok || !slices.Equal(g.Dependencies, []string{"/x"}) {
		t.Fatalf("/g dependencies not restored: %+v", g)
	}
	if _, ok := reverted.Group("/new"); ok {
		t.Fatal("empty group added by the deployment should be gone")
	}
	rp, err := RollbackPlan(p, current, PlanMeta{ID: "rb", Version: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got := stepsString(rp); got != "Stop(/new/n) | Start(/gone) | Restart(/a) Scale(/gone) Scale(/s)" {
		t.Fatalf("rollback plan %s", got)
	}
	// Rolling back the rollback returns to the target.
	again := Revert(rp, Revert(p, current))
	if a, _ := again.App("/a"); !a.Version.Equal(v2) {
		t.Fatalf("double revert: /a at %v", a.Version)
	}
}

func TestRevertKeepsGroupWithOthersApps(t *testing.T) {
	p, _ := Plan(RootState{}, RootState{Apps: []AppSpec{app("/g/a", 1, v1)}, Groups: []GroupSpec{{ID: "/g", Dependencies: []string{"/d"}}}},
		PlanMeta{ID: "x", Version: t0})
	current := RootState{Apps: []AppSpec{app("/g/a", 1, v1), app("/g/b", 1, v1)}, Groups: []GroupSpec{{ID: "/g", Dependencies: []string{"/d", "/e"}}}}
	r := Revert(p, current)
	g, ok := r.Group("/g")
	if !ok || !slices.Equal(g.Dependencies, []string{"/e"}) {
		t.Fatalf("group %+v (present %v): should stay, without the dependency the deployment added", g, ok)
	}
	if len(r.Apps) != 1 || r.Apps[0].ID != "/g/b" {
		t.Fatalf("apps %+v", r.Apps)
	}
}

func TestIDSource(t *testing.T) {
	a, b := NewIDSource(42), NewIDSource(42)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		x, y := a(), b()
		if x != y {
			t.Fatalf("same seed, different ids %s %s", x, y)
		}
		if !uuid.MatchString(x) || seen[x] {
			t.Fatalf("bad or repeated id %s", x)
		}
		seen[x] = true
	}
	if NewIDSource(1)() == NewIDSource(2)() {
		t.Fatal("different seeds gave the same id")
	}
}
