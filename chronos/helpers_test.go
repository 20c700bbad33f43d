package chronos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/strata-dc/strata/agent"
	"github.com/strata-dc/strata/agent/agenttest"
	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/chronos"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master"
)

func TestMain(m *testing.M) { agenttest.Main(m) }

// patience bounds waits for what must happen; a liveness bound for a
// loaded 2-core machine, not a performance claim.
const patience = 40 * time.Second

func quiet() *slog.Logger {
	if os.Getenv("CHRONOS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// cluster is a real coord, master and agent in this process, the agent's
// supervisor a child process.
type cluster struct {
	coord    *coord.Embedded
	master   *master.Master
	agentDir string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0", Logger: quiet()}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })

	m, err := master.New(master.Config{ZK: e.URL().String(), WorkDir: t.TempDir(), IP: "127.0.0.1",
		AllocationInterval: 50 * time.Millisecond, SessionTimeout: 10 * time.Second, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, "master", m.Run)
	waitFor(t, "master leadership", m.Leading)

	dir := agenttest.WorkDir(t)
	a, err := agent.New(agent.Config{Master: e.URL().String(), WorkDir: dir, IP: "127.0.0.1", Hostname: "chronos-test",
		Resources: "cpus:4;mem:2048;disk:4096;ports:[31000-31100]", Attributes: "rack:r1",
		Isolation: supervise.IsolationPosix, StatusRetry: 200 * time.Millisecond, StatusRetryMax: 2 * time.Second,
		SupervisorCommand: agenttest.SupervisorCommand(), SessionTimeout: 10 * time.Second, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, "agent", a.Run)
	waitFor(t, "agent registration", func() bool { return a.ID() != "" })
	return &cluster{coord: e, master: m, agentDir: dir}
}

// runUntilCleanup runs fn in a goroutine the test owns: cleanup cancels
// it and waits for it to return.
func runUntilCleanup(t *testing.T, what string, fn func(context.Context) error) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: %v", what, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// startChronos starts a chronos against the cluster; stop ends it as a
// killed leader would end (its Run returns), and is also called at cleanup.
func startChronos(t *testing.T, c *cluster, opts ...func(*chronos.Config)) (*chronos.Server, func()) {
	t.Helper()
	cfg := chronos.Config{Master: c.coord.URL().String(), HTTPAddress: "127.0.0.1:0",
		FailureRetry: 500 * time.Millisecond, DefaultEpsilon: 10 * time.Second, Logger: quiet()}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := chronos.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, runUntilCleanup(t, "chronos", s.Run)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// api is a small Chronos REST client for tests; it does not follow
// redirects, so tests see the 307 a follower answers.
type api struct {
	t    *testing.T
	base string
}

var noRedirect = &http.Client{Timeout: 15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (a api) do(method, path string, body any) (int, []byte, http.Header) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := noRedirect.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header
}

// must sends a request and fails the test unless the status is want.
func (a api) must(want int, method, path string, body any) []byte {
	a.t.Helper()
	code, data, _ := a.do(method, path, body)
	if code != want {
		a.t.Fatalf("%s %s: %d %s, want %d", method, path, code, data, want)
	}
	return data
}

func (a api) history(name string) []chronos.RunView {
	a.t.Helper()
	var out struct {
		Runs []chronos.RunView `json:"runs"`
	}
	if err := json.Unmarshal(a.must(200, "GET", "/v1/scheduler/history/"+name+"?limit=0", nil), &out); err != nil {
		a.t.Fatal(err)
	}
	return out.Runs
}

// finished counts the job's runs in state.
func (a api) count(name, state string) int {
	n := 0
	for _, r := range a.history(name) {
		if r.State == state {
			n++
		}
	}
	return n
}

// sandboxFile reads a file of a task's run sandbox in the agent's work dir.
func sandboxFile(t *testing.T, workDir, task, name string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(workDir, "slaves", "*", "frameworks", "*", "executors", task, "runs", "*", name))
	if len(matches) != 1 {
		t.Fatalf("sandbox file %s of task %s: found %v", name, task, matches)
	}
	data, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// isoStart is an ISO 8601 start d from now, in UTC with milliseconds.
func isoStart(d time.Duration) string {
	return time.Now().Add(d).UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}
