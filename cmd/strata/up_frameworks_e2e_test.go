package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/strata-dc/strata/master/client/sshtest"
)

// demoApp reads the demo app from `strata apps ls -o json`: its instances
// and running tasks (-1, -1 when it is not there).
func demoState(t *testing.T, bin, dir string, extra ...string) (instances, running int, taskIDs []string) {
	t.Helper()
	out := run(t, bin, dir, append([]string{"apps", "ls", "-o", "json"}, extra...)...)
	var doc struct {
		Apps []struct {
			ID           string `json:"id"`
			Instances    int    `json:"instances"`
			TasksRunning int    `json:"tasksRunning"`
			Tasks        []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"tasks"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("apps ls -o json: %v\n%s", err, out)
	}
	for _, a := range doc.Apps {
		if a.ID == "/demo" {
			for _, tk := range a.Tasks {
				if tk.State == "TASK_RUNNING" {
					taskIDs = append(taskIDs, tk.ID)
				}
			}
			return a.Instances, a.TasksRunning, taskIDs
		}
	}
	return -1, -1, nil
}

// countJobs counts the jobs called name in `strata jobs ls -o json`.
func countJobs(t *testing.T, bin, dir, name string) int {
	t.Helper()
	var jobs []struct{ Name string }
	out := run(t, bin, dir, "jobs", "ls", "-o", "json")
	if err := json.Unmarshal([]byte(out), &jobs); err != nil {
		t.Fatalf("jobs ls -o json: %v\n%s", err, out)
	}
	n := 0
	for _, j := range jobs {
		if j.Name == name {
			n++
		}
	}
	return n
}

// TestIntegration_UpDemo runs `strata up --demo` and drives marathon and
// chronos through the CLI, found through the master: the demo app and
// job, a manual run and its history, scaling, a followed deployment, a
// marathon task's logs and kill; then a restart keeps the app and job.
func TestIntegration_UpDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a whole cluster")
	}
	bin := buildStrata(t)
	dir, err := os.MkdirTemp("", "strata-demo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	up := startUp(t, bin, dir, "--demo")
	marathonURL, chronosURL := up.field(t, "marathon"), up.field(t, "chronos")
	if !strings.HasPrefix(marathonURL, "http://127.0.0.1:") || !strings.HasPrefix(chronosURL, "http://127.0.0.1:") {
		t.Fatalf("summary: marathon %q chronos %q", marathonURL, chronosURL)
	}
	waitFor(t, "the demo to be deployed", func() bool {
		return strings.Contains(up.output(), "demo: added job demo-job")
	})
	waitFor(t, "the demo app's 2 instances to run", func() bool {
		_, running, _ := demoState(t, bin, dir)
		return running == 2
	})
	if out := run(t, bin, dir, "apps", "ls"); !strings.Contains(out, "/demo") || !strings.Contains(out, "2/2") {
		t.Errorf("apps ls:\n%s", out)
	}
	// --marathon and STRATA_CHRONOS instead of the master's word.
	if out := run(t, bin, dir, "apps", "show", "demo", "--marathon", marathonURL); !strings.Contains(out, "strata.demo=true") {
		t.Errorf("apps show demo --marathon:\n%s", out)
	}
	t.Setenv("STRATA_CHRONOS", chronosURL)
	if out := run(t, bin, dir, "jobs", "ls"); !strings.Contains(out, "demo-job") || !strings.Contains(out, "PT30S") {
		t.Errorf("jobs ls:\n%s", out)
	}
	os.Unsetenv("STRATA_CHRONOS")

	// A manual run shows up in the history.
	run(t, bin, dir, "jobs", "run", "demo-job")
	waitFor(t, "the manual run to succeed", func() bool {
		var h struct {
			Runs []struct{ Kind, State string }
		}
		out := run(t, bin, dir, "jobs", "history", "demo-job", "-o", "json")
		if err := json.Unmarshal([]byte(out), &h); err != nil {
			t.Fatalf("jobs history -o json: %v\n%s", err, out)
		}
		for _, r := range h.Runs {
			if r.Kind == "manual" && r.State == "succeeded" {
				return true
			}
		}
		return false
	})
	if out := run(t, bin, dir, "jobs", "history", "demo-job"); !strings.Contains(out, "manual") {
		t.Errorf("jobs history:\n%s", out)
	}

	// A chronos task killed by its task ID: chronos kills the job's runs.
	run(t, bin, dir, "jobs", "add", "--name", "sleeper", "--schedule", "R/2030-01-01T00:00:00Z/P1D", "--command", "sleep 1000")
	run(t, bin, dir, "jobs", "run", "sleeper")
	sleeperTask := regexp.MustCompile(`ct:\d+:\d+:sleeper:\d+`)
	var sleeper string
	waitFor(t, "the sleeper job's task to run", func() bool {
		for _, l := range strings.Split(run(t, bin, dir, "tasks", "ls"), "\n") {
			if strings.Contains(l, "running") {
				if id := sleeperTask.FindString(l); id != "" {
					sleeper = id
					return true
				}
			}
		}
		return false
	})
	if out := run(t, bin, dir, "tasks", "kill", sleeper); !strings.Contains(out, "job sleeper") {
		t.Errorf("tasks kill (chronos):\n%s", out)
	}
	waitFor(t, "the sleeper run to be killed", func() bool {
		return strings.Contains(run(t, bin, dir, "jobs", "history", "sleeper"), "killed")
	})
	run(t, bin, dir, "jobs", "rm", "sleeper")

	// Scale (detached) once the demo's own deployment is over (its
	// instances healthy), then a deployment followed to its end.
	waitFor(t, "the demo's deployment to end", func() bool {
		return strings.TrimSpace(run(t, bin, dir, "deployments", "ls", "-o", "json")) == "[]"
	})
	run(t, bin, dir, "apps", "scale", "demo", "3", "--detach")
	waitFor(t, "3 demo instances", func() bool {
		n, running, _ := demoState(t, bin, dir)
		return n == 3 && running == 3
	})
	def := filepath.Join(dir, "e2e.json")
	if err := os.WriteFile(def, []byte(`{"id":"/e2e","cmd":"sleep 1000","instances":1,"cpus":0.1,"mem":16,"portDefinitions":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(t, bin, dir, "apps", "deploy", "-f", def); !strings.Contains(out, "finished") {
		t.Errorf("apps deploy -f:\n%s", out)
	}
	if out := run(t, bin, dir, "apps", "rm", "/e2e"); !strings.Contains(out, "finished") {
		t.Errorf("apps rm:\n%s", out)
	}
	group := filepath.Join(dir, "group.json")
	if err := os.WriteFile(group, []byte(`{"id":"/grp","apps":[{"id":"/grp/a","cmd":"sleep 1000","instances":1,"cpus":0.1,"mem":16,"portDefinitions":[]}],
		"groups":[{"id":"/grp/sub","apps":[{"id":"/grp/sub/b","cmd":"sleep 1000","instances":1,"cpus":0.1,"mem":16,"portDefinitions":[],"dependencies":["/grp/a"]}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(t, bin, dir, "apps", "deploy", "-f", group); !strings.Contains(out, "finished") {
		t.Errorf("apps deploy -f (a group):\n%s", out)
	}
	if out := run(t, bin, dir, "apps", "ls"); !strings.Contains(out, "/grp/a") || !strings.Contains(out, "/grp/sub/b") {
		t.Errorf("apps ls after deploying a group:\n%s", out)
	}
	run(t, bin, dir, "apps", "rm", "/grp/sub/b")
	run(t, bin, dir, "apps", "rm", "/grp/a")

	// A deployment no agent can satisfy: the queue says why it waits, and
	// when another deployment replaces it (--force) its follower exits 1.
	huge := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(huge, []byte(`{"id":"/huge","cmd":"sleep 1000","instances":1,"cpus":0.1,"mem":100000000,"portDefinitions":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var followed lockedBuf
	follower := exec.Command(bin, "apps", "deploy", "-f", huge)
	follower.Dir, follower.Stdout, follower.Stderr = dir, &followed, &followed
	if err := follower.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the queue to say why /huge waits", func() bool {
		out := run(t, bin, dir, "queue")
		return strings.Contains(out, "/huge") && strings.Contains(out, "InsufficientMemory")
	})
	if out := run(t, bin, dir, "deployments", "ls"); !strings.Contains(out, "/huge") {
		t.Errorf("deployments ls:\n%s", out)
	}
	run(t, bin, dir, "apps", "scale", "huge", "0", "--force", "--detach")
	err = follower.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(followed.String(), "deployment failed") {
		t.Errorf("following a replaced deployment: %v\n%s", err, followed.String())
	}
	run(t, bin, dir, "apps", "rm", "huge", "--force")

	// A bad definition: exit 1, the field named on one line.
	bad := exec.Command(bin, "apps", "deploy", "-f", "-")
	bad.Dir, bad.Stdin = dir, strings.NewReader(`{"id":"/bad","cmd":"x","cpus":-1}`)
	if out, err := bad.CombinedOutput(); err == nil || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "cpus") {
		t.Errorf("deploying an invalid app: %v\n%s", err, out)
	}

	// A marathon task's output through the agent's sandbox, then a kill
	// through marathon.
	_, _, tasks := demoState(t, bin, dir)
	if len(tasks) == 0 {
		t.Fatal("no running demo task")
	}
	waitFor(t, "the demo task's output", func() bool {
		return strings.Contains(run(t, bin, dir, "logs", tasks[0]), "hello from marathon")
	})
	if out := run(t, bin, dir, "tasks", "kill", tasks[0]); !strings.Contains(out, "killed") {
		t.Errorf("tasks kill:\n%s", out)
	}

	t.Run("ssh", func(t *testing.T) {
		sshd := sshtest.Start(t)
		remote := fmt.Sprintf("ssh://%s@127.0.0.1:%d%s", sshd.User, sshd.Port, filepath.Join(dir, ".strata", "master.sock"))
		t.Setenv("STRATA_SSH_OPTS", sshd.Opts)
		t.Setenv("STRATA_SSH_STRATA", bin)
		other := t.TempDir()
		// marathon is found through the master and dialled on the far side.
		if n, _, _ := demoState(t, bin, other, "--master", remote); n != 3 {
			t.Errorf("apps ls over ssh://: demo has %d instances, want 3", n)
		}
	})

	up.stop(t)
	if left := processesUnder(dir); len(left) > 0 {
		t.Errorf("processes left running:\n%s", strings.Join(left, "\n"))
	}

	// The same data dir: the app (at its scale) and the job come back, and
	// a second --demo adds nothing.
	up2 := startUp(t, bin, dir, "--demo")
	waitFor(t, "the demo to be checked", func() bool { return strings.Contains(up2.output(), "demo: job demo-job already exists") })
	if !strings.Contains(up2.output(), "demo: app /demo is already deployed") {
		t.Errorf("second up --demo:\n%s", up2.output())
	}
	waitFor(t, "the demo app's 3 instances after the restart", func() bool {
		n, running, _ := demoState(t, bin, dir)
		return n == 3 && running == 3
	})
	if n := countJobs(t, bin, dir, "demo-job"); n != 1 {
		t.Errorf("%d demo jobs after the restart", n)
	}
	up2.stop(t)
	if left := processesUnder(dir); len(left) > 0 {
		t.Errorf("processes left running after the second stop:\n%s", strings.Join(left, "\n"))
	}
}
