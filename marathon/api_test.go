package marathon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/strata-dc/strata/marathon"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// TestIntegration_API exercises the REST API against a marathon whose
// master has no agents, so deployments that launch anything stay in
// progress: versions and their retention, rollback and forced stop of a
// deployment, the queue and its delay reset, and the informational
// endpoints.
func TestIntegration_API(t *testing.T) {
	c := startCluster(t)
	m, _ := c.startMarathon("marathon", func(cfg *marathon.Config) { cfg.ZKMaxVersions = 3 })
	a := newAPI(t, m)
	waitFor(t, "marathon to lead", m.Leading)

	// Informational endpoints.
	if code, _, body := a.do(http.MethodGet, "/ping", nil); code != http.StatusOK || string(body) != "pong\n" {
		t.Errorf("/ping: %d %q", code, body)
	}
	var leader struct{ Leader string }
	a.must(http.StatusOK, http.MethodGet, "/v2/leader", nil, &leader)
	if leader.Leader != m.Addr().String() {
		t.Errorf("/v2/leader = %q, want %s", leader.Leader, m.Addr())
	}
	var info struct {
		Name        string `json:"name"`
		Elected     bool   `json:"elected"`
		FrameworkID string `json:"frameworkId"`
	}
	waitFor(t, "the framework id in /v2/info", func() bool {
		a.must(http.StatusOK, http.MethodGet, "/v2/info", nil, &info)
		return info.FrameworkID != ""
	})
	if info.Name != "marathon" || !info.Elected {
		t.Errorf("/v2/info: %+v", info)
	}

	// An app with no instances deploys at once, even without agents.
	a.must(http.StatusCreated, http.MethodPost, "/v2/apps", []byte(`{"id": "/api/app", "cmd": "sleep 100", "instances": 0, "cpus": 0.1, "mem": 16}`), nil)
	waitFor(t, "the empty app's deployment", func() bool { return a.settled("/api/app", 0) })

	// Each change is a version; only the last three are kept.
	for _, cmd := range []string{"sleep 101", "sleep 102", "sleep 103", "sleep 104"} {
		body, _ := json.Marshal(map[string]string{"cmd": cmd})
		a.must(http.StatusOK, http.MethodPut, "/v2/apps/api/app", body, nil)
	}
	var versions struct{ Versions []string }
	a.must(http.StatusOK, http.MethodGet, "/v2/apps/api/app/versions", nil, &versions)
	if len(versions.Versions) != 3 {
		t.Fatalf("versions %v, want the last 3", versions.Versions)
	}
	var old struct {
		ID  string `json:"id"`
		Cmd string `json:"cmd"`
	}
	a.must(http.StatusOK, http.MethodGet, "/v2/apps/api/app/versions/"+url.PathEscape(versions.Versions[2]), nil, &old)
	if old.ID != "/api/app" || old.Cmd != "sleep 102" {
		t.Errorf("oldest kept version: %+v", old)
	}

	// A scale-up can't finish without agents; the app waits in the queue.
	var dep struct {
		DeploymentID string `json:"deploymentId"`
	}
	h := a.must(http.StatusOK, http.MethodPut, "/v2/apps/api/app", []byte(`{"instances": 2, "cmd": "sleep 200"}`), &dep)
	if h.Get("Marathon-Deployment-Id") != dep.DeploymentID || dep.DeploymentID == "" {
		t.Fatalf("deployment id %q, header %q", dep.DeploymentID, h.Get("Marathon-Deployment-Id"))
	}
	var deps []struct {
		ID             string   `json:"id"`
		AffectedApps   []string `json:"affectedApps"`
		CurrentStep    int      `json:"currentStep"`
		TotalSteps     int      `json:"totalSteps"`
		CurrentActions []struct {
			Action string `json:"action"`
			App    string `json:"app"`
		} `json:"currentActions"`
	}
	a.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &deps)
	if len(deps) != 1 || deps[0].ID != dep.DeploymentID || len(deps[0].AffectedApps) != 1 || deps[0].TotalSteps != 1 ||
		len(deps[0].CurrentActions) != 1 || deps[0].CurrentActions[0].Action != "RestartApplication" {
		t.Fatalf("GET /v2/deployments: %+v", deps)
	}
	var queue struct {
		Queue []struct {
			Count int `json:"count"`
			Delay struct {
				Overdue bool `json:"overdue"`
			} `json:"delay"`
		} `json:"queue"`
	}
	a.must(http.StatusOK, http.MethodGet, "/v2/queue", nil, &queue)
	if len(queue.Queue) != 1 || queue.Queue[0].Count != 2 {
		t.Errorf("GET /v2/queue: %+v", queue)
	}
	a.must(http.StatusNoContent, http.MethodDelete, "/v2/queue/api/app/delay", nil, nil)

	// Rolling the deployment back restores the definition it replaced.
	var rb struct {
		DeploymentID string `json:"deploymentId"`
	}
	a.must(http.StatusOK, http.MethodDelete, "/v2/deployments/"+dep.DeploymentID, nil, &rb)
	if rb.DeploymentID == "" || rb.DeploymentID == dep.DeploymentID {
		t.Fatalf("rollback answered %+v", rb)
	}
	waitFor(t, "the rollback to finish", func() bool { return a.settled("/api/app", 0) })
	var cur struct {
		App struct {
			Cmd       string `json:"cmd"`
			Instances int    `json:"instances"`
		} `json:"app"`
	}
	a.must(http.StatusOK, http.MethodGet, "/v2/apps/api/app", nil, &cur)
	if cur.App.Cmd != "sleep 104" || cur.App.Instances != 0 {
		t.Errorf("after rollback: %+v", cur.App)
	}

	// A forced DELETE just stops a deployment.
	a.must(http.StatusOK, http.MethodPatch, "/v2/apps/api/app", []byte(`{"instances": 1}`), &dep)
	a.must(http.StatusAccepted, http.MethodDelete, "/v2/deployments/"+dep.DeploymentID+"?force=true", nil, nil)
	a.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &deps)
	if len(deps) != 0 {
		t.Errorf("deployments after a forced stop: %+v", deps)
	}

	// Unknown things answer 404; a PATCH never creates.
	for _, p := range []struct{ method, path string }{
		{http.MethodGet, "/v2/apps/nope"},
		{http.MethodPatch, "/v2/apps/nope"},
		{http.MethodDelete, "/v2/apps/nope"},
		{http.MethodGet, "/v2/groups/nope"},
		{http.MethodDelete, "/v2/deployments/nope"},
		{http.MethodGet, "/v2/pods/nope"},
	} {
		if code, _, body := a.do(p.method, p.path, []byte(`{"instances": 1}`)); code != http.StatusNotFound {
			t.Errorf("%s %s: %d %s, want 404", p.method, p.path, code, body)
		}
	}

	var pods []any
	a.must(http.StatusOK, http.MethodGet, "/v2/pods", nil, &pods)

	// Listing with embeds.
	var list struct {
		Apps []struct {
			ID    string `json:"id"`
			Tasks []any  `json:"tasks"`
		} `json:"apps"`
	}
	a.must(http.StatusOK, http.MethodGet, "/v2/apps?embed=apps.tasks&embed=apps.counts", nil, &list)
	if len(list.Apps) != 1 || list.Apps[0].ID != "/api/app" || list.Apps[0].Tasks == nil {
		t.Errorf("GET /v2/apps: %+v", list)
	}
	a.must(http.StatusOK, http.MethodDelete, "/v2/apps/api/app?force=true", nil, nil)

	// A group from Marathon's docs: its apps start in dependency order.
	if group := readCompatIfPresent(t, "group-department-a.json"); group != nil {
		a.must(http.StatusCreated, http.MethodPost, "/v2/groups", group, &dep)
		var deps []struct {
			ID    string `json:"id"`
			Steps []struct {
				Actions []struct {
					Action string `json:"action"`
					App    string `json:"app"`
				} `json:"actions"`
			} `json:"steps"`
		}
		a.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &deps)
		var order []string
		if len(deps) == 1 {
			for _, st := range deps[0].Steps[1:] {
				for _, act := range st.Actions {
					order = append(order, act.App)
				}
			}
		}
		want := []string{"/department-a/service-common", "/department-a/product-a/service-a", "/department-a/product-a/service-b"}
		if len(deps) != 1 || !slices.Equal(order, want) {
			t.Errorf("group deployment %+v, want apps started in order %v", deps, want)
		}
		var g struct {
			ID     string                `json:"id"`
			Apps   []struct{ ID string } `json:"apps"`
			Groups []struct {
				ID   string                `json:"id"`
				Apps []struct{ ID string } `json:"apps"`
			} `json:"groups"`
		}
		a.must(http.StatusOK, http.MethodGet, "/v2/groups/department-a", nil, &g)
		if g.ID != "/department-a" || len(g.Apps) != 1 || len(g.Groups) != 1 || len(g.Groups[0].Apps) != 2 {
			t.Errorf("GET /v2/groups/department-a: %+v", g)
		}
		a.must(http.StatusOK, http.MethodDelete, "/v2/groups/department-a?force=true", nil, &dep)
		waitFor(t, "the group to be gone", func() bool {
			var ds []any
			a.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &ds)
			return len(ds) == 0
		})
	}

	// Abdication: the only marathon steps down and is elected again.
	a.must(http.StatusOK, http.MethodDelete, "/v2/leader", nil, nil)
	waitFor(t, "marathon to step down", func() bool { return !m.Leading() })
	waitFor(t, "marathon to lead again", m.Leading)
	waitFor(t, "the API to answer again", func() bool {
		code, _, _ := a.do(http.MethodGet, "/v2/apps", nil)
		return code == http.StatusOK
	})
}

// TestIntegration_AuthenticatedMaster: against a master that requires
// authentication, marathon subscribes with its credential (the principal
// in FrameworkInfo, the secret as a bearer token).
func TestIntegration_AuthenticatedMaster(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(creds, []byte("marathon s3cret-long-enough\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startClusterWith(t, func(cfg *master.Config) {
		cfg.Auth = auth.Settings{Authenticate: "true", CredentialsFile: creds}
	})
	m, _ := c.startMarathon("marathon", func(cfg *marathon.Config) {
		cfg.Credential = &auth.Credential{Principal: "marathon", Secret: "s3cret-long-enough"}
	})
	a := newAPI(t, m)
	waitFor(t, "marathon to subscribe", func() bool {
		var info struct {
			FrameworkID string `json:"frameworkId"`
		}
		code, _, body := a.do(http.MethodGet, "/v2/info", nil)
		return code == http.StatusOK && json.Unmarshal(body, &info) == nil && info.FrameworkID != ""
	})
}

// TestIntegration_TornDown: when an operator tears the framework down,
// marathon stops with an error and forgets the framework ID, so the next
// start registers a new framework instead of being refused for good.
func TestIntegration_TornDown(t *testing.T) {
	c := startCluster(t)
	newMarathon := func() (*marathon.Server, chan error, context.CancelFunc) {
		s, err := marathon.New(marathon.Config{Master: c.coord.URL().String(), HTTPAddress: "127.0.0.1:0",
			TickInterval: 100 * time.Millisecond, Logger: testLogger("marathon")})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return s, done, cancel
	}
	frameworkID := func(s *marathon.Server) string {
		var info struct {
			FrameworkID string `json:"frameworkId"`
		}
		code, _, body := newAPI(t, s).do(http.MethodGet, "/v2/info", nil)
		if code != http.StatusOK || json.Unmarshal(body, &info) != nil {
			return ""
		}
		return info.FrameworkID
	}
	m1, done, _ := newMarathon()
	var first string
	waitFor(t, "marathon to subscribe", func() bool { first = frameworkID(m1); return first != "" })
	op, err := client.NewOperator(client.Options{Master: "http://" + c.mstr.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Teardown(context.Background(), mesos.FrameworkID(first)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("marathon.Run returned nil after its framework was torn down")
		}
		done <- err // for the cleanup
	case <-time.After(patience):
		t.Fatal("marathon kept running after its framework was torn down")
	}
	m2, _, _ := newMarathon()
	var second string
	waitFor(t, "a new framework", func() bool { second = frameworkID(m2); return second != "" })
	if second == first {
		t.Errorf("marathon resubscribed as the torn-down framework %s", first)
	}
}
