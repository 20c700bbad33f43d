package agent_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/strata-dc/strata/agent"
	"github.com/strata-dc/strata/master/mesos"
)

// buildStrata builds the strata binary for tests that run the agent as a
// process of its own.
func buildStrata(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: building the strata binary takes a while")
	}
	bin := filepath.Join(t.TempDir(), "strata")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/strata-dc/strata/cmd/strata")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// agentProcess runs `strata agent` as a child process.
func agentProcess(t *testing.T, bin, zk, dir string) *exec.Cmd {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(t.TempDir(), "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	cmd := exec.Command(bin, "agent", "--master", zk, "--work-dir", dir, "--ip", "127.0.0.1", "--port", "0",
		"--hostname", "agent-proc", "--resources", "cpus:2;mem:512;disk:512;ports:[31000-31010]", "--log-level", "debug", "--switch-user=false",
		"--allow-root-tasks") // the test runs as root; `strata agent` refuses root tasks by default
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() // reaps it; owned by the cleanup below
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	})
	return cmd
}

// agentState reads GET /state over the agent's control socket.
func agentState(t *testing.T, dir string) (agent.State, error) {
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(dir, "agent.sock"))
	}}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://agent/state")
	if err != nil {
		return agent.State{}, err
	}
	defer resp.Body.Close()
	var s agent.State
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s, err
}

func procTask(t *testing.T, dir string, id mesos.TaskID) (agent.TaskState, bool) {
	s, err := agentState(t, dir)
	if err != nil {
		return agent.TaskState{}, false
	}
	for _, ts := range s.Tasks {
		if ts.TaskID == id {
			return ts, true
		}
	}
	return agent.TaskState{}, false
}

// TestIntegration_AgentKill9: `strata agent` is killed with SIGKILL while
// a task runs; the task keeps running, a new agent process recovers it,
// reregisters with it, and reports its real exit.
func TestIntegration_AgentKill9(t *testing.T) {
	bin := buildStrata(t)
	e := startCoord(t)
	m := startMaster(t, e)
	dir := newWorkDir(t)
	zk := e.URL().String()
	first := agentProcess(t, bin, zk, dir)

	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "kill9"})
	s.launch(map[mesos.TaskID]string{"outlives": "while [ ! -e go ]; do sleep 0.05; done; exit 9"})
	s.await("outlives", mesos.TaskRunning)
	var before agent.TaskState
	waitFor(t, "the task in the agent's /state", func() bool {
		ts, ok := procTask(t, dir, "outlives")
		before = ts
		return ok && ts.PID != 0
	})
	st0, _ := agentState(t, dir)

	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the agent process to die", func() bool { return !alive(first.Process.Pid) })
	if !alive(before.PID) {
		t.Fatal("kill -9 of the agent killed its task")
	}

	agentProcess(t, bin, zk, dir)
	waitFor(t, "the new agent to reregister", func() bool {
		st, err := agentState(t, dir)
		return err == nil && st.Master != ""
	})
	after, ok := procTask(t, dir, "outlives")
	st1, _ := agentState(t, dir)
	if !ok || after.PID != before.PID || after.State != mesos.TaskRunning || st1.ID != st0.ID {
		t.Fatalf("after kill -9 and restart: agent %s (was %s), task %+v", st1.ID, st0.ID, after)
	}
	if err := os.WriteFile(filepath.Join(before.Sandbox, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := s.await("outlives", mesos.TaskFailed)
	if !strings.Contains(st.Message, "status 9") || st.AgentID != st0.ID {
		t.Fatalf("exit after kill -9 reported as %+v", st)
	}
}
