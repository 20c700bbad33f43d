package marathon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/marathon"
	"github.com/strata-dc/strata/master"
)

// TestIntegration_HealthGatedRestart restarts an app whose instances the
// agents health-check over HTTP (Marathon's MESOS_HTTP form): with
// minimumHealthCapacity 0.5 and no over-capacity, one of two instances
// stays healthy throughout, and the new ones serve before the old go.
// Events arrive on /v2/events filtered by event_type.
func TestIntegration_HealthGatedRestart(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, "rack:r1", "rack:r2")
	m, _ := c.startMarathon("marathon")
	a := newAPI(t, m)
	waitFor(t, "marathon to lead", m.Leading)

	// Follow deployment_success events only.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/v2/events?event_type=deployment_success", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET /v2/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan string, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events <- line
			}
		}
	}()

	def := fmt.Sprintf(`{
		"id": "/prod/web",
		"args": [%q, "serve-http"],
		"cpus": 0.1, "mem": 32, "instances": 2,
		"portDefinitions": [{"port": 0, "name": "http"}],
		"healthChecks": [{"protocol": "MESOS_HTTP", "path": "/health", "portIndex": 0,
			"gracePeriodSeconds": 10, "intervalSeconds": 1, "timeoutSeconds": 2, "delaySeconds": 0,
			"maxConsecutiveFailures": 3}],
		"upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0}
	}`, exe)
	a.must(http.StatusCreated, http.MethodPost, "/v2/apps", []byte(def), nil)
	healthy := func() int { return a.app("/prod/web").App.TasksHealthy }
	waitFor(t, "2 healthy instances", func() bool { return a.settled("/prod/web", 2) && healthy() == 2 })
	select {
	case ev := <-events:
		if ev != "deployment_success" {
			t.Errorf("filtered event stream delivered %q", ev)
		}
	case <-time.After(patience):
		t.Fatal("no deployment_success event")
	}

	before := a.runningTasks("/prod/web")
	a.must(http.StatusOK, http.MethodPost, "/v2/apps/prod/web/restart", nil, nil)
	minHealthy := 2
	waitFor(t, "the health-gated restart", func() bool {
		s := a.app("/prod/web")
		minHealthy = min(minHealthy, s.App.TasksHealthy)
		if len(s.App.Deployments) > 0 || s.App.TasksHealthy != 2 || len(s.App.Tasks) != 2 {
			return false
		}
		for _, tk := range s.App.Tasks {
			if slices.Contains(before, tk.ID) {
				return false
			}
		}
		return true
	})
	if minHealthy < 1 {
		t.Errorf("healthy instances fell to %d during the restart, floor is 1", minHealthy)
	}

	// The group tree shows the app under /prod with its instances.
	var g struct {
		ID     string `json:"id"`
		Groups []struct {
			ID   string `json:"id"`
			Apps []struct {
				ID          string `json:"id"`
				Instances   int    `json:"instances"`
				Deployments []any  `json:"deployments"`
			} `json:"apps"`
		} `json:"groups"`
	}
	a.must(http.StatusOK, http.MethodGet, "/v2/groups", nil, &g)
	if len(g.Groups) != 1 || g.Groups[0].ID != "/prod" || len(g.Groups[0].Apps) != 1 ||
		g.Groups[0].Apps[0].Instances != 2 || g.Groups[0].Apps[0].Deployments == nil {
		t.Errorf("GET /v2/groups: %+v", g)
	}
	var tasks struct {
		Tasks []struct {
			ID                 string `json:"id"`
			AppID              string `json:"appId"`
			Ports              []int  `json:"ports"`
			ServicePorts       []int  `json:"servicePorts"`
			HealthCheckResults []struct {
				Alive bool `json:"alive"`
			} `json:"healthCheckResults"`
		} `json:"tasks"`
	}
	a.must(http.StatusOK, http.MethodGet, "/v2/tasks?status=running", nil, &tasks)
	if len(tasks.Tasks) != 2 {
		t.Fatalf("GET /v2/tasks: %+v", tasks)
	}
	for _, tk := range tasks.Tasks {
		// The app declared port 0: marathon gave it a service port.
		if tk.AppID != "/prod/web" || len(tk.Ports) != 1 || len(tk.ServicePorts) != 1 || tk.ServicePorts[0] < 10000 || len(tk.HealthCheckResults) != 1 || !tk.HealthCheckResults[0].Alive ||
			!strings.HasPrefix(tk.ID, "prod_web.") {
			t.Errorf("task %+v", tk)
		}
	}

	// Deleting the group stops the app.
	var dep struct {
		DeploymentID string `json:"deploymentId"`
	}
	a.must(http.StatusOK, http.MethodDelete, "/v2/groups/prod", nil, &dep)
	waitFor(t, "the app's tasks to end", func() bool {
		var ts struct{ Tasks []any }
		a.must(http.StatusOK, http.MethodGet, "/v2/tasks", nil, &ts)
		var ds []json.RawMessage
		a.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &ds)
		return len(ts.Tasks) == 0 && len(ds) == 0
	})
	if code, _, _ := a.do(http.MethodGet, "/v2/apps/prod/web", nil); code != http.StatusNotFound {
		t.Errorf("GET of a deleted app: %d, want 404", code)
	}
}

// TestIntegration_AgentLost: when an agent goes away, the master reports
// its tasks unreachable and marathon replaces them (the default
// unreachableStrategy replaces at once) on another agent, keeping the
// app's hostname UNIQUE constraint.
func TestIntegration_AgentLost(t *testing.T) {
	c := startClusterWith(t, func(cfg *master.Config) {
		cfg.HeartbeatInterval = 50 * time.Millisecond
		cfg.AgentPingTimeout = 100 * time.Millisecond
		cfg.MaxAgentPingMisses = 2
	})
	stops := map[string]func(){}
	for _, h := range []string{"host-a", "host-b", "host-c"} {
		stops[h] = c.startAgent(h, "")
	}
	m, _ := c.startMarathon("marathon")
	a := newAPI(t, m)
	waitFor(t, "marathon to lead", m.Leading)
	a.must(http.StatusCreated, http.MethodPost, "/v2/apps", []byte(`{"id": "/spread", "cmd": "sleep 1000",
		"cpus": 0.1, "mem": 16, "instances": 2, "constraints": [["hostname", "UNIQUE"]]}`), nil)
	waitFor(t, "2 running instances", func() bool { return a.settled("/spread", 2) })
	hosts := func() map[string]string {
		out := map[string]string{}
		for _, tk := range a.app("/spread").App.Tasks {
			if tk.State == "TASK_RUNNING" {
				out[tk.ID] = tk.Host
			}
		}
		return out
	}
	before := hosts()
	var lostTask, lostHost string
	for id, h := range before {
		lostTask, lostHost = id, h
		break
	}
	stops[lostHost]()
	waitFor(t, "a replacement on the third agent", func() bool {
		now := hosts()
		if len(now) != 2 || a.app("/spread").App.Tasks == nil {
			return false
		}
		seen := map[string]bool{}
		for id, h := range now {
			if id == lostTask || h == lostHost || seen[h] {
				return false
			}
			seen[h] = true
		}
		return len(a.app("/spread").App.Tasks) == 2
	})
}

// TestIntegration_Readiness: a deployment waits for the app's readiness
// check (probed by marathon, results in /v2/deployments) and finishes once
// the check passes.
func TestIntegration_Readiness(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Marathon probes the agent's host by name (the master's offers carry
	// no agent URL), so the agent is named for the loopback.
	c := startCluster(t)
	c.startAgent("localhost", "")
	m, _ := c.startMarathon("marathon")
	a := newAPI(t, m)
	waitFor(t, "marathon to lead", m.Leading)
	def := func(path string) []byte {
		return []byte(fmt.Sprintf(`{"id": "/ready", "args": [%q, "serve-http"], "cpus": 0.1, "mem": 32, "instances": 1,
			"portDefinitions": [{"port": 0, "name": "http"}],
			"readinessChecks": [{"name": "ready", "protocol": "HTTP", "path": %q, "portName": "http",
				"intervalSeconds": 2, "timeoutSeconds": 1, "httpStatusCodesForReady": [200]}]}`, exe, path))
	}
	a.must(http.StatusCreated, http.MethodPost, "/v2/apps", def("/notready"), nil)
	type deployments []struct {
		ID             string `json:"id"`
		CurrentActions []struct {
			App     string `json:"app"`
			Results []struct {
				TaskID string `json:"taskId"`
				Ready  bool   `json:"ready"`
			} `json:"readinessCheckResults"`
		} `json:"currentActions"`
	}
	waitFor(t, "a failed readiness result in /v2/deployments", func() bool {
		var ds deployments
		a.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &ds)
		return len(ds) == 1 && len(ds[0].CurrentActions) == 1 && len(ds[0].CurrentActions[0].Results) == 1 &&
			!ds[0].CurrentActions[0].Results[0].Ready
	})
	if s := a.app("/ready"); s.App.TasksRunning != 1 || len(s.App.Deployments) != 1 {
		t.Fatalf("the unready instance runs but the deployment must wait: %+v", s.App)
	}
	a.must(http.StatusOK, http.MethodPut, "/v2/apps/ready?force=true", def("/ready"), nil)
	waitFor(t, "the deployment to finish once ready", func() bool { return a.settled("/ready", 1) })
}

// TestIntegration_FailoverMidDeployment: a rolling restart held up by an
// unready new instance survives the leader's death: the new leader resumes
// the same deployment with the same two instances (no restart of the old
// one, no duplicate of the new one) and finishes it once it can.
func TestIntegration_FailoverMidDeployment(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t)
	c.startAgent("localhost", "")
	m1, stop1 := c.startMarathon("marathon-1")
	a1 := newAPI(t, m1)
	waitFor(t, "marathon-1 to lead", m1.Leading)
	m2, _ := c.startMarathon("marathon-2")
	a2 := newAPI(t, m2)
	def := func(path string) []byte {
		return []byte(fmt.Sprintf(`{"id": "/mid", "args": [%q, "serve-http"], "cpus": 0.1, "mem": 32, "instances": 1,
			"portDefinitions": [{"port": 0, "name": "http"}],
			"readinessChecks": [{"name": "ready", "path": %q, "portName": "http", "intervalSeconds": 2, "timeoutSeconds": 1}]}`, exe, path))
	}
	a1.must(http.StatusCreated, http.MethodPost, "/v2/apps", def("/ready"), nil)
	waitFor(t, "the first instance", func() bool { return a1.settled("/mid", 1) })
	var dep struct {
		DeploymentID string `json:"deploymentId"`
	}
	a1.must(http.StatusOK, http.MethodPut, "/v2/apps/mid", def("/notready"), &dep)
	unready := func(a *api) bool {
		var ds []struct {
			ID             string `json:"id"`
			CurrentActions []struct {
				Results []struct {
					Ready bool `json:"ready"`
				} `json:"readinessCheckResults"`
			} `json:"currentActions"`
		}
		a.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &ds)
		return len(ds) == 1 && ds[0].ID == dep.DeploymentID && len(ds[0].CurrentActions) == 1 &&
			len(ds[0].CurrentActions[0].Results) == 1 && !ds[0].CurrentActions[0].Results[0].Ready
	}
	waitFor(t, "the restart to wait for the unready new instance", func() bool {
		return unready(a1) && len(a1.runningTasks("/mid")) == 2
	})
	before := a1.runningTasks("/mid")
	stop1()
	waitFor(t, "marathon-2 to lead", m2.Leading)
	waitFor(t, "marathon-2 to probe the new instance", func() bool { return unready(a2) })
	after := a2.runningTasks("/mid")
	slices.Sort(before)
	slices.Sort(after)
	if !slices.Equal(before, after) {
		t.Fatalf("instances before failover %v, after %v", before, after)
	}
	a2.must(http.StatusOK, http.MethodPut, "/v2/apps/mid?force=true", def("/ready"), nil)
	waitFor(t, "the deployment to finish", func() bool { return a2.settled("/mid", 1) })
	var metrics struct {
		Counters map[string]struct {
			Count int `json:"count"`
		} `json:"counters"`
	}
	a2.must(http.StatusOK, http.MethodGet, "/metrics", nil, &metrics)
	if n := metrics.Counters["marathon.tasks.launched.counter"].Count; n != 1 {
		t.Errorf("marathon-2 launched %d tasks, want 1 (the instance of the final config)", n)
	}
}

// TestIntegration_MasterFailover: when the leading master goes, marathon
// follows the new one through coord, keeps its framework and its running
// instances, and launches again through the new master.
func TestIntegration_MasterFailover(t *testing.T) {
	c := startCluster(t, "", "")
	standby, _ := c.startMaster()
	// Marathon subscribes with a role of its own: offers come for it.
	m, _ := c.startMarathon("marathon", func(cfg *marathon.Config) { cfg.MesosRole = "web" })
	a := newAPI(t, m)
	waitFor(t, "marathon to lead", m.Leading)
	a.must(http.StatusCreated, http.MethodPost, "/v2/apps", []byte(`{"id": "/steady", "cmd": "sleep 1000", "cpus": 0.1, "mem": 16, "instances": 2}`), nil)
	waitFor(t, "2 running instances", func() bool { return a.settled("/steady", 2) })
	before := a.runningTasks("/steady")

	c.stopMaster()
	waitFor(t, "the standby master to lead", standby.Leading)
	a.must(http.StatusOK, http.MethodPut, "/v2/apps/steady", []byte(`{"instances": 3}`), nil)
	waitFor(t, "a third instance launched through the new master", func() bool { return a.settled("/steady", 3) })
	after := a.runningTasks("/steady")
	for _, id := range before {
		if !slices.Contains(after, id) {
			t.Errorf("instance %s is gone after the master failover: %v", id, after)
		}
	}
}
