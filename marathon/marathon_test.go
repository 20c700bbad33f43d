package marathon_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestIntegration_Marathon drives one cluster (embedded coord, a master,
// two agents whose rack_id is rack-9) through marathon's life: deploy a
// definition from Marathon's docs unchanged, refuse bad ones, scale,
// replace a killed instance with backoff, restart, explain an unplaceable
// app in /v2/queue, refuse a second deployment of a locked app, and fail
// over to a second marathon without restarting or duplicating instances.
func TestIntegration_Marathon(t *testing.T) {
	simple := readCompat(t, "app-simple.json")
	sleepLike := readCompat(t, "sleep-like.json")
	invalid := readCompat(t, "min-health-capacity-invalid.json")

	c := startCluster(t, "rack_id:rack-9", "rack_id:rack-9")
	m1, stop1 := c.startMarathon("marathon-1")
	a1 := newAPI(t, m1)
	waitFor(t, "marathon-1 to lead", m1.Leading)

	// Deploy app-simple.json (2 × sleep 1000) as Marathon's docs have it.
	var created struct {
		ID          string              `json:"id"`
		Instances   int                 `json:"instances"`
		Deployments []map[string]string `json:"deployments"`
	}
	h := a1.must(http.StatusCreated, http.MethodPost, "/v2/apps", simple, &created)
	if created.ID != "/simple" || created.Instances != 2 || len(created.Deployments) != 1 ||
		h.Get("Marathon-Deployment-Id") != created.Deployments[0]["id"] {
		t.Fatalf("POST /v2/apps answered %+v, header %q", created, h.Get("Marathon-Deployment-Id"))
	}
	waitFor(t, "2 running instances of /simple", func() bool { return a1.settled("/simple", 2) })

	// Refusals: an existing app (409), unreadable JSON (400), an invalid
	// definition from Marathon's docs (422 with details).
	if code, _, body := a1.do(http.MethodPost, "/v2/apps", simple); code != http.StatusConflict {
		t.Errorf("second POST of /simple: %d %s, want 409", code, body)
	}
	if code, _, body := a1.do(http.MethodPost, "/v2/apps", []byte(`{"id": "/broken",`)); code != http.StatusBadRequest {
		t.Errorf("bad JSON: %d %s, want 400", code, body)
	}
	code, _, body := a1.do(http.MethodPost, "/v2/apps", invalid)
	var verr struct {
		Message string `json:"message"`
		Details []struct {
			Path   string   `json:"path"`
			Errors []string `json:"errors"`
		} `json:"details"`
	}
	if err := json.Unmarshal(body, &verr); code != http.StatusUnprocessableEntity || err != nil || len(verr.Details) == 0 {
		t.Errorf("min-health-capacity-invalid.json: %d %s, want 422 with details", code, body)
	}

	// Scale up, then down.
	var dep struct {
		DeploymentID string `json:"deploymentId"`
		Version      string `json:"version"`
	}
	a1.must(http.StatusOK, http.MethodPut, "/v2/apps/simple", []byte(`{"instances": 3}`), &dep)
	if dep.DeploymentID == "" || dep.Version == "" {
		t.Fatalf("scale answered %+v", dep)
	}
	waitFor(t, "3 running instances", func() bool { return a1.settled("/simple", 3) })
	a1.must(http.StatusOK, http.MethodPatch, "/v2/apps/simple", []byte(`{"instances": 1}`), &dep)
	waitFor(t, "1 running instance", func() bool { return a1.settled("/simple", 1) })

	// A killed instance is replaced (after the app's backoff) and reported
	// as the last task failure.
	victim := a1.runningTasks("/simple")[0]
	pids := processesWithEnv("MESOS_TASK_ID=" + victim)
	if len(pids) == 0 {
		t.Fatalf("no process found for task %s", victim)
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	waitFor(t, "a replacement of the killed instance", func() bool {
		s := a1.app("/simple")
		run := a1.runningTasks("/simple")
		return len(run) == 1 && run[0] != victim && s.App.LastTaskFailure != nil && s.App.LastTaskFailure.TaskID == victim
	})
	// The replacement waited out the app's backoff (backoffSeconds 1).
	s := a1.app("/simple")
	failed, err1 := time.Parse(time.RFC3339, s.App.LastTaskFailure.Timestamp)
	staged, err2 := time.Parse(time.RFC3339, s.App.Tasks[0].StagedAt)
	if err1 != nil || err2 != nil || staged.Sub(failed) < time.Second {
		t.Errorf("replacement staged at %s, %v after the failure at %s; backoff is 1s (%v %v)",
			s.App.Tasks[0].StagedAt, staged.Sub(failed), s.App.LastTaskFailure.Timestamp, err1, err2)
	}

	// Rolling restart replaces every instance.
	a1.must(http.StatusOK, http.MethodPut, "/v2/apps/simple", []byte(`{"instances": 2}`), &dep)
	waitFor(t, "2 running instances", func() bool { return a1.settled("/simple", 2) })
	before := a1.runningTasks("/simple")
	a1.must(http.StatusOK, http.MethodPost, "/v2/apps/simple/restart", nil, &dep)
	waitFor(t, "the restart to replace both instances", func() bool {
		if !a1.settled("/simple", 2) {
			return false
		}
		for _, id := range a1.runningTasks("/simple") {
			if slices.Contains(before, id) {
				return false
			}
		}
		return true
	})

	// sleep-like.json asks for rack_id LIKE rack-[1-3]; no agent is in one.
	a1.must(http.StatusCreated, http.MethodPost, "/v2/apps", sleepLike, nil)
	waitFor(t, "/v2/queue to count offers refused for the constraint", func() bool {
		var q struct {
			Queue []struct {
				App   struct{ ID string } `json:"app"`
				Count int                 `json:"count"`
				Sum   struct {
					Reject []struct {
						Reason   string `json:"reason"`
						Declined int    `json:"declined"`
					} `json:"rejectSummaryLaunchAttempt"`
				} `json:"processedOffersSummary"`
			} `json:"queue"`
		}
		a1.must(http.StatusOK, http.MethodGet, "/v2/queue", nil, &q)
		for _, e := range q.Queue {
			if e.App.ID != "/sleep-group-by" || e.Count != 3 {
				continue
			}
			for _, r := range e.Sum.Reject {
				if r.Reason == "UnfulfilledConstraint" && r.Declined > 0 {
					return true
				}
			}
		}
		return false
	})

	// The app is locked by its stuck deployment: 409 unless forced.
	code, _, body = a1.do(http.MethodPut, "/v2/apps/sleep-group-by", []byte(`{"instances": 1}`))
	var locked struct {
		Message     string              `json:"message"`
		Deployments []map[string]string `json:"deployments"`
	}
	if err := json.Unmarshal(body, &locked); code != http.StatusConflict || err != nil || len(locked.Deployments) != 1 {
		t.Fatalf("update of a locked app: %d %s, want 409 naming the deployment", code, body)
	}

	// A second marathon follows and proxies to the leader.
	m2, _ := c.startMarathon("marathon-2")
	a2 := newAPI(t, m2)
	waitFor(t, "marathon-2 to proxy to the leader", func() bool {
		code, _, _ := a2.do(http.MethodGet, "/v2/apps/simple", nil)
		return code == http.StatusOK
	})
	if m2.Leading() {
		t.Fatal("marathon-2 leads while marathon-1 runs")
	}
	var leader struct{ Leader string }
	a2.must(http.StatusOK, http.MethodGet, "/v2/leader", nil, &leader)
	if leader.Leader != m1.Addr().String() {
		t.Errorf("marathon-2 names %q as leader, want %s", leader.Leader, m1.Addr())
	}
	// Writes go through the follower too.
	h = a2.must(http.StatusOK, http.MethodPut, "/v2/apps/simple", []byte(`{"instances": 2, "labels": {"via": "follower"}}`), &dep)
	if h.Get("Marathon-Deployment-Id") == "" {
		t.Errorf("proxied PUT has no Marathon-Deployment-Id header")
	}
	waitFor(t, "the proxied change to settle", func() bool { return a1.settled("/simple", 2) })

	// The leader goes; the follower takes over the same framework and
	// finds the same instances running: none restarted, none added.
	running := a1.runningTasks("/simple")
	var info1, info2 struct {
		FrameworkID string `json:"frameworkId"`
	}
	a1.must(http.StatusOK, http.MethodGet, "/v2/info", nil, &info1)
	stop1()
	waitFor(t, "marathon-2 to lead", m2.Leading)
	waitFor(t, "marathon-2 to see /simple settled", func() bool { return a2.settled("/simple", 2) })
	if f := a2.app("/simple").App.LastTaskFailure; f == nil || f.TaskID != victim {
		t.Errorf("last task failure after failover: %+v, want task %s", f, victim)
	}
	a2.must(http.StatusOK, http.MethodGet, "/v2/info", nil, &info2)
	if info1.FrameworkID == "" || info2.FrameworkID != info1.FrameworkID {
		t.Errorf("framework %q before failover, %q after", info1.FrameworkID, info2.FrameworkID)
	}
	after := a2.runningTasks("/simple")
	slices.Sort(running)
	slices.Sort(after)
	if !slices.Equal(running, after) {
		t.Fatalf("tasks before failover %v, after %v", running, after)
	}
	for _, id := range after {
		if len(processesWithEnv("MESOS_TASK_ID="+id)) == 0 {
			t.Errorf("task %s has no process after failover", id)
		}
	}
	// The stuck deployment survived the failover; forcing and deleting
	// through the new leader ends it.
	var ds []struct {
		ID string `json:"id"`
	}
	a2.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &ds)
	if len(ds) != 1 || ds[0].ID != locked.Deployments[0]["id"] {
		t.Errorf("deployments after failover %+v, want %s", ds, locked.Deployments[0]["id"])
	}
	a2.must(http.StatusOK, http.MethodPut, "/v2/apps/sleep-group-by?force=true", []byte(`{"instances": 1}`), nil)
	a2.must(http.StatusOK, http.MethodDelete, "/v2/apps/sleep-group-by?force=true", nil, nil)
	waitFor(t, "no deployment left", func() bool {
		var ds []any
		a2.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &ds)
		return len(ds) == 0
	})
	var metrics struct {
		Counters map[string]struct {
			Count int `json:"count"`
		} `json:"counters"`
	}
	a2.must(http.StatusOK, http.MethodGet, "/metrics", nil, &metrics)
	if n := metrics.Counters["marathon.tasks.launched.counter"].Count; n != 0 {
		t.Errorf("marathon-2 launched %d tasks after failover, want 0", n)
	}

	// Killing a task with scale=true shrinks the app instead of replacing it.
	body, _ = json.Marshal(map[string][]string{"ids": {after[0]}})
	a2.must(http.StatusOK, http.MethodPost, "/v2/tasks/delete?scale=true", body, &dep)
	waitFor(t, "the app to shrink to 1", func() bool { return a2.settled("/simple", 1) })
	if left := a2.runningTasks("/simple"); left[0] != after[1] || a2.app("/simple").App.Instances != 1 {
		t.Errorf("after killing %s with scale: running %v, instances %d", after[0], left, a2.app("/simple").App.Instances)
	}
}
