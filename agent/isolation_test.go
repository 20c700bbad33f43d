package agent_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/mesos"
)

// sandboxFile finds a file of a task's run in the agent's work dir; the
// run may already be forgotten by the agent, its sandbox is not.
func sandboxFile(t *testing.T, workDir string, task mesos.TaskID, name string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(workDir, "slaves", "*", "frameworks", "*", "executors", string(task), "runs", "*", name))
	if len(matches) != 1 {
		t.Fatalf("sandbox file %s of task %s: found %v", name, task, matches)
	}
	return matches[0]
}

// TestIntegration_SwitchUser: with --switch-user a task runs as its
// framework's user, and a user the host does not know fails the launch
// with a message naming it; the agent keeps serving.
func TestIntegration_SwitchUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root; this test runs as uid", os.Geteuid())
	}
	e := startCoord(t)
	m := startMaster(t, e)
	dir := newWorkDir(t)
	// t.TempDir is 0700; a task running as nobody must reach its
	// sandbox, as under any agent's work dir.
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := agentConfig(t, e.URL().String(), dir)
	cfg.SwitchUser = true
	a := startAgent(t, cfg)
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })

	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "nobody", Name: "switch"})
	s.launch(map[mesos.TaskID]string{"whoami": "id -un"})
	s.await("whoami", mesos.TaskFinished)
	if out, _ := os.ReadFile(sandboxFile(t, dir, "whoami", "stdout")); strings.TrimSpace(string(out)) != "nobody" {
		t.Fatalf("the task ran as %q, want nobody", out)
	}

	s2 := newTestScheduler(t, m, mesos.FrameworkInfo{User: "no-such-user-strata", Name: "ghost"})
	s2.launch(map[mesos.TaskID]string{"ghost": "true"})
	st := s2.await("ghost", mesos.TaskFailed)
	if !strings.Contains(st.Message, "no-such-user-strata") {
		t.Fatalf("an unknown user's launch: %s %s %q; want a message naming the user", st.State, st.Reason, st.Message)
	}
	s.launch(map[mesos.TaskID]string{"after": "exit 0"})
	s.await("after", mesos.TaskFinished)
}

// TestIntegration_MissingCommand: a task without a command never reaches
// the agent: the ACCEPT is refused with 400 naming the field, and the
// next launch works.
func TestIntegration_MissingCommand(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	a := startAgent(t, agentConfig(t, e.URL().String(), newWorkDir(t)))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "nocmd"})
	ev := s.next(func(ev *mesos.Event) bool { return ev.Type == mesos.EventOffers })
	o := ev.Offers.Offers[0]
	call := &mesos.Call{Type: mesos.CallAccept, FrameworkID: s.info.ID, Accept: &mesos.Accept{OfferIDs: []mesos.OfferID{o.ID},
		Operations: []mesos.OfferOperation{{Type: mesos.OperationLaunch, Launch: &mesos.Launch{TaskInfos: []mesos.TaskInfo{{
			Name: "nocmd", TaskID: "nocmd", AgentID: o.AgentID, Resources: mesos.MustParseResources("cpus:0.1;mem:32")}}}}}}}
	body, _ := json.Marshal(call)
	req, _ := http.NewRequest(http.MethodPost, s.base+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mesos-Stream-Id", s.stream)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "command") {
		t.Fatalf("ACCEPT of a task without a command: %s %s", resp.Status, msg)
	}
	// The refused ACCEPT changed nothing: the same offer still launches.
	s.call(&mesos.Call{Type: mesos.CallAccept, Accept: &mesos.Accept{OfferIDs: []mesos.OfferID{o.ID},
		Operations: []mesos.OfferOperation{{Type: mesos.OperationLaunch, Launch: &mesos.Launch{TaskInfos: []mesos.TaskInfo{{
			Name: "ok", TaskID: "ok", AgentID: o.AgentID, Command: &mesos.CommandInfo{Value: "exit 0"},
			Resources: mesos.MustParseResources("cpus:0.1;mem:32")}}}}}}})
	s.await("ok", mesos.TaskFinished)
}

// TestIntegration_CgroupsOOM: under --isolation=cgroups the agent
// enforces the task's mem and reports the OOM kill as Mesos does.
func TestIntegration_CgroupsOOM(t *testing.T) {
	if err := supervise.CgroupsAvailable(); err != nil {
		t.Skipf("cgroups isolation is unavailable here: %v", err)
	}
	e := startCoord(t)
	m := startMaster(t, e)
	cfg := agentConfig(t, e.URL().String(), newWorkDir(t))
	cfg.Isolation = supervise.IsolationCgroups
	a := startAgent(t, cfg)
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "oom"})
	// launch gives each task mem:32; tail buffers an endless line.
	s.launch(map[mesos.TaskID]string{"hog": "tail /dev/zero; echo survived; sleep 1000"})
	st := s.await("hog", mesos.TaskFailed)
	if st.Reason != mesos.ReasonContainerLimitationMemory || !strings.Contains(st.Message, "Memory limit exceeded") {
		t.Fatalf("OOM: %s %s %q", st.State, st.Reason, st.Message)
	}
	if pids := processesWithEnv("MESOS_TASK_ID=hog"); len(pids) > 0 {
		t.Fatalf("processes of the OOM-killed task survive: %v", pids)
	}
}

// TestIntegration_SandboxGC: the sandbox of a finished, acknowledged run
// is removed after --gc-delay; a running task's stays.
func TestIntegration_SandboxGC(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	dir := newWorkDir(t)
	cfg := agentConfig(t, e.URL().String(), dir)
	cfg.GCDelay = 500 * time.Millisecond
	a := startAgent(t, cfg)
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "gc"})
	s.launch(map[mesos.TaskID]string{"done": "echo bye", "runs": "echo hi; sleep 600"})
	s.await("done", mesos.TaskFinished)
	s.await("runs", mesos.TaskRunning)
	runs := filepath.Dir(sandboxFile(t, dir, "runs", "stdout"))
	done := filepath.Dir(sandboxFile(t, dir, "done", "stdout"))
	waitFor(t, "the finished run's sandbox to be collected", func() bool {
		_, err := os.Stat(done)
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(filepath.Join(runs, "stdout")); err != nil {
		t.Fatalf("the running task's sandbox was touched: %v", err)
	}
}
