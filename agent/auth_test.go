package agent_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/auth/authtest"
	"github.com/strata-dc/strata/master/mesos"
)

// logBuffer collects an agent's log lines for conditions to wait on.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestIntegration_AgentCredential: a master with --authenticate-agents
// (on loopback, where frameworks need no credentials) refuses an agent
// without its credential and admits one presenting it.
func TestIntegration_AgentCredential(t *testing.T) {
	e := startCoord(t)
	creds := authtest.WriteCredentials(t, t.TempDir(), map[string]string{"agent": "agent-secret-001"})
	startMaster(t, e, func(c *master.Config) {
		c.Auth.CredentialsFile = creds
		c.AuthenticateAgents = true
	})

	logs := &logBuffer{}
	cfg := agentConfig(t, e.URL().String(), newWorkDir(t))
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	refused := startAgent(t, cfg)
	waitFor(t, "the master to refuse the agent without a credential", func() bool {
		return strings.Contains(logs.String(), "401 Unauthorized")
	})
	if refused.ID() != "" {
		t.Fatal("an agent without its credential was admitted")
	}
	refused.stop()

	cfg = agentConfig(t, e.URL().String(), newWorkDir(t))
	cfg.Credential = &auth.Credential{Principal: "agent", Secret: "agent-secret-001"}
	admitted := startAgent(t, cfg)
	waitFor(t, "the agent with its credential to register", func() bool { return admitted.ID() != "" })
}

// TestIntegration_AgentAPISecured: the agent's API is authenticated
// (--authenticate), its control socket trusts its owner, and sandbox reads
// are authorized by access_sandboxes.
func TestIntegration_AgentAPISecured(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	dir := t.TempDir()
	cfg := agentConfig(t, e.URL().String(), newWorkDir(t))
	cfg.Auth = auth.Settings{Authenticate: "true",
		CredentialsFile: authtest.WriteCredentials(t, dir, map[string]string{"ops": "ops-secret-0001", "dev": "dev-secret-0001"}),
		ACLs: `{"access_sandboxes":[{"principals":{"values":["ops"]},"users":{"type":"ANY"}},
		                            {"principals":{"type":"ANY"},"users":{"type":"NONE"}}]}`}
	a := startAgent(t, cfg)
	waitFor(t, "registration", func() bool { return a.ID() != "" })

	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "", Name: "sandbox-acl"})
	s.launch(map[mesos.TaskID]string{"t1": "echo hello; sleep 30"})
	s.await("t1", mesos.TaskRunning)
	ts, _ := taskOf(a.Agent, "t1")
	if ts.Sandbox == "" {
		t.Fatal("no sandbox")
	}
	read := "http://" + a.Addr().String() + "/files/read?offset=0&path=" + url.QueryEscape(filepath.Join(ts.Sandbox, "stdout"))
	get := func(c *http.Client, u, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(http.DefaultClient, read, ""); code != 401 {
		t.Fatalf("anonymous sandbox read: %d %s", code, body)
	}
	if code, body := get(http.DefaultClient, read, "dev-secret-0001"); code != 403 || !strings.Contains(body, "access_sandboxes[1]") {
		t.Fatalf("dev reading a sandbox: %d %s", code, body)
	}
	waitFor(t, "ops to read the sandbox", func() bool {
		code, body := get(http.DefaultClient, read, "ops-secret-0001")
		return code == 200 && strings.Contains(body, "hello")
	})
	if code, _ := get(http.DefaultClient, "http://"+a.Addr().String()+"/health", ""); code != 200 {
		t.Fatalf("/health: %d", code)
	}
	// The operator API's READ_FILE is authorized the same way.
	call := `{"type":"READ_FILE","read_file":{"path":"` + filepath.Join(ts.Sandbox, "stdout") + `","offset":0}}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.Addr().String()+"/api/v1", strings.NewReader(call))
	req.Header.Set("Authorization", "Bearer dev-secret-0001")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("READ_FILE by dev: %v %v", resp.StatusCode, err)
	}
	// The control socket: its owner (this test) reads without a token.
	sock := filepath.Join(cfg.WorkDir, "agent.sock")
	uc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	defer uc.CloseIdleConnections()
	u, _ := url.Parse(read)
	u.Host = "agent"
	if code, body := get(uc, u.String(), ""); code != 403 || !strings.Contains(body, `principal \"operator\"`) {
		// The operator principal is subject to the ACLs like anyone:
		// here only ops may read sandboxes.
		t.Fatalf("control socket sandbox read: %d %s", code, body)
	}
	if code, _ := get(uc, "http://agent/state", ""); code != 200 {
		t.Fatalf("control socket /state: %d", code)
	}
}

// TestIntegration_RootTasksRefused: an agent that refuses root tasks
// fails a task that would run as root with TASK_ERROR naming the reason.
func TestIntegration_RootTasksRefused(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	cfg := agentConfig(t, e.URL().String(), newWorkDir(t))
	cfg.RefuseRootTasks = true
	cfg.SwitchUser = true
	a := startAgent(t, cfg)
	waitFor(t, "registration", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "root", Name: "root-tasks"})
	s.launch(map[mesos.TaskID]string{"as-root": "true"})
	st := s.await("as-root", mesos.TaskError)
	if st.Reason != mesos.ReasonTaskUnauthorized || !strings.Contains(st.Message, "--allow-root-tasks") {
		t.Fatalf("TASK_ERROR %s %q", st.Reason, st.Message)
	}
}
