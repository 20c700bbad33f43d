package chaos

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// appSpec is one marathon app of the workload.
type appSpec struct {
	id          string
	instances   int
	constraints [][]string
}

// jobSpec is one chronos job: scheduled every period, or dependent on
// parents.
type jobSpec struct {
	name    string
	period  time.Duration
	parents []string
}

// workload is what runs on the cluster while faults are injected: apps
// with several instances and health checks, jobs every few seconds and a
// dependency chain. Every task carries CHAOS_RUN=<run id> in its
// environment, so its processes can be found, and every job run appends
// its task ID to starts.log when it starts, which is the ground truth of
// what ran.
type workload struct {
	runID   string
	starts  string // the file job runs append to
	apps    []appSpec
	jobs    []jobSpec
	first   time.Time // the first scheduled instant of every scheduled job
	epsilon time.Duration
}

func newWorkload(dir, runID string, now time.Time) (*workload, error) {
	shared := filepath.Join(dir, "tasks")
	if err := os.MkdirAll(shared, 0o777); err != nil {
		return nil, err
	}
	w := &workload{
		runID:  runID,
		starts: filepath.Join(shared, "starts.log"),
		apps: []appSpec{
			{id: "/chaos/web", instances: 3},
			{id: "/chaos/api", instances: 2, constraints: [][]string{{"hostname", "UNIQUE"}}},
			{id: "/chaos/worker", instances: 2},
		},
		jobs: []jobSpec{
			{name: "chaos-tick-5s", period: 5 * time.Second},
			{name: "chaos-tick-7s", period: 7 * time.Second},
			{name: "chaos-chain-a", period: 15 * time.Second},
			{name: "chaos-chain-b", parents: []string{"chaos-chain-a"}},
			{name: "chaos-chain-c", parents: []string{"chaos-chain-b"}},
		},
		// Long enough that a chronos failover (session timeout, settle
		// period) launches late runs rather than skipping them; a longer
		// outage records skips, which the checks accept.
		epsilon: 30 * time.Second,
		first:   now.Add(15 * time.Second).Truncate(time.Second),
	}
	return w, os.WriteFile(w.starts, nil, 0o666)
}

// appJSON is Marathon's app definition for a.
func (w *workload) appJSON(a appSpec) map[string]any {
	app := map[string]any{
		"id": a.id, "cmd": "sleep 1000000", "instances": a.instances,
		"cpus": 0.05, "mem": 16, "disk": 0,
		"env":            map[string]string{"CHAOS_RUN": w.runID},
		"backoffSeconds": 1, "maxLaunchDelaySeconds": 10,
		"healthChecks": []map[string]any{{
			"protocol": "COMMAND", "command": map[string]string{"value": "test -n \"$CHAOS_RUN\""},
			"gracePeriodSeconds": 15, "intervalSeconds": 2, "timeoutSeconds": 5, "maxConsecutiveFailures": 3,
		}},
	}
	if len(a.constraints) > 0 {
		app["constraints"] = a.constraints
	}
	return app
}

// jobJSON is Chronos' job definition for j. The command records the task
// ID (ct:<scheduled ms>:<attempt>:<job>:<seq>) before doing its work.
func (w *workload) jobJSON(j jobSpec) map[string]any {
	job := map[string]any{
		"name":    j.name,
		"command": fmt.Sprintf("echo \"$mesos_task_id\" >> %s; sleep 1", shellQuote(w.starts)),
		"owner":   "chaos@strata.invalid", "cpus": 0.05, "mem": 16, "disk": 0,
		"retries": 2, "epsilon": isoDuration(w.epsilon),
		"environmentVariables": []map[string]string{{"name": "CHAOS_RUN", "value": w.runID}},
	}
	if j.period > 0 {
		job["schedule"] = "R/" + w.first.UTC().Format("2006-01-02T15:04:05Z") + "/" + isoDuration(j.period)
	} else {
		job["parents"] = j.parents
	}
	return job
}

// submit creates the apps through a marathon and the jobs through the
// chronos leader, retrying while leaders settle.
func (w *workload) submit(c *Cluster) error {
	for _, a := range w.apps {
		body, _ := json.Marshal(w.appJSON(a))
		if err := retry(60*time.Second, func() error {
			p, err := c.frameworkLeader(c.marathons, "/v2/leader")
			if err != nil {
				return err
			}
			return c.send(p, http.MethodPut, "/v2/apps"+a.id, body)
		}); err != nil {
			return fmt.Errorf("create app %s: %w", a.id, err)
		}
	}
	for _, j := range w.jobs {
		path := "/v1/scheduler/iso8601"
		if j.period == 0 {
			path = "/v1/scheduler/dependency"
		}
		body, _ := json.Marshal(w.jobJSON(j))
		if err := retry(60*time.Second, func() error {
			p, err := c.frameworkLeader(c.chronoses, "/v1/scheduler/leader")
			if err != nil {
				return err
			}
			return c.send(p, http.MethodPost, path, body)
		}); err != nil {
			return fmt.Errorf("create job %s: %w", j.name, err)
		}
	}
	return nil
}

// send makes a JSON request and wants a 2xx.
func (c *Cluster) send(p *proc, method, path string, body []byte) error {
	req, err := http.NewRequest(method, "http://"+p.addr()+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s %s: %s: %s", p.name, method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// appView is the part of marathon's app JSON the checks read.
type appView struct {
	ID           string `json:"id"`
	Instances    int    `json:"instances"`
	TasksRunning int    `json:"tasksRunning"`
	TasksHealthy int    `json:"tasksHealthy"`
	TasksStaged  int    `json:"tasksStaged"`
}

// appsWhole reports the first app not at its instance count, all running
// and healthy.
func (w *workload) appsWhole(c *Cluster) error {
	p, err := c.frameworkLeader(c.marathons, "/v2/leader")
	if err != nil {
		return err
	}
	var got struct {
		Apps []appView `json:"apps"`
	}
	if err := c.get(p, "/v2/apps", &got); err != nil {
		return err
	}
	by := map[string]appView{}
	for _, a := range got.Apps {
		by[a.ID] = a
	}
	for _, a := range w.apps {
		v, ok := by[a.id]
		switch {
		case !ok:
			return fmt.Errorf("app %s is missing from marathon", a.id)
		case v.TasksRunning != a.instances || v.TasksHealthy != a.instances:
			return fmt.Errorf("app %s: %d running, %d healthy, %d staged of %d", a.id, v.TasksRunning, v.TasksHealthy, v.TasksStaged, a.instances)
		}
	}
	return nil
}

// start is one line of starts.log: a job run's task began.
type start struct {
	taskID  string
	job     string
	at      int64 // the scheduled instant (ms) or, for dependent runs, creation
	attempt int
}

// readStarts parses starts.log.
func (w *workload) readStarts() ([]start, error) {
	f, err := os.Open(w.starts)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []start
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		// ct:<ms>:<attempt>:<job>:<seq>
		parts := strings.Split(line, ":")
		if len(parts) != 5 || parts[0] != "ct" {
			return nil, fmt.Errorf("starts.log: unexpected line %q", line)
		}
		ms, err1 := strconv.ParseInt(parts[1], 10, 64)
		att, err2 := strconv.Atoi(parts[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("starts.log: unexpected line %q", line)
		}
		out = append(out, start{taskID: line, job: parts[3], at: ms, attempt: att})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].taskID < out[b].taskID })
	return out, sc.Err()
}

// isoDuration renders d as an ISO 8601 duration of seconds.
func isoDuration(d time.Duration) string {
	return "PT" + strconv.FormatInt(int64(d/time.Second), 10) + "S"
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// retry calls f until it succeeds or timeout passes.
func retry(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
