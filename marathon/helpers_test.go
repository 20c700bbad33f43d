package marathon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-dc/strata/agent"
	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/marathon"
	"github.com/strata-dc/strata/master"
)

// patience bounds waits for what must happen; a liveness bound for a
// loaded 2-core machine, not a performance claim.
const patience = 45 * time.Second

// compatDir holds real Marathon definitions (outside the repository).
const compatDir = "../../shared/compat/marathon"

// The test binary doubles as the agents' supervisor command, as the strata
// binary's hidden agent-supervisor command does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "agent-supervisor" {
		os.Exit(supervisorMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "serve-http" {
		os.Exit(serveHTTPMain())
	}
	// Detached supervisors are re-parented to the nearest subreaper; being
	// it, the test reaps each one it stops, by PID.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func supervisorMain(args []string) int {
	fs := flag.NewFlagSet("agent-supervisor", flag.ContinueOnError)
	var cfg supervise.Config
	var iso string
	fs.StringVar(&cfg.Dir, "dir", "", "")
	fs.StringVar(&cfg.Name, "name", "", "")
	fs.StringVar(&iso, "isolation", "posix", "")
	fs.BoolVar(&cfg.Detach, "detach", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.Isolation = supervise.Isolation(iso)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := supervise.Run(ctx, cfg); err != nil && !errors.Is(err, supervise.ErrAlreadyRunning) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// serveHTTPMain is a task for health- and readiness-checked apps: it
// answers 200 on every path of $PORT0 but /notready (503) until killed.
func serveHTTPMain() int {
	addr := "127.0.0.1:" + os.Getenv("PORT0")
	err := http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/notready" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = io.WriteString(w, "ok\n")
	}))
	fmt.Fprintln(os.Stderr, err)
	return 1
}

func testLogger(name string) *slog.Logger {
	if os.Getenv("STRATA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("who", name)
	}
	return slog.New(slog.DiscardHandler)
}

// cluster is an embedded coord, a master and agents, all in this process
// (tasks run under real supervisor processes).
type cluster struct {
	t          *testing.T
	coord      *coord.Embedded
	mcfg       master.Config
	mstr       *master.Master // the first master
	stopMaster func()
}

func startCluster(t *testing.T, agentAttrs ...string) *cluster {
	t.Helper()
	return startClusterWith(t, nil, agentAttrs...)
}

// startClusterWith is startCluster with the master's config adjusted by opt.
func startClusterWith(t *testing.T, opt func(*master.Config), agentAttrs ...string) *cluster {
	t.Helper()
	e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0", Logger: testLogger("coord")}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	c := &cluster{t: t, coord: e}
	mcfg := master.Config{ZK: e.URL().String(), WorkDir: t.TempDir(), IP: "127.0.0.1",
		AllocationInterval: 100 * time.Millisecond, SessionTimeout: 10 * time.Second, Logger: testLogger("master")}
	if opt != nil {
		opt(&mcfg)
	}
	c.mcfg = mcfg
	c.mstr, c.stopMaster = c.startMaster()
	waitFor(t, "master leadership", c.mstr.Leading)
	for i, attrs := range agentAttrs {
		c.startAgent(fmt.Sprintf("agent-%d", i), attrs)
	}
	return c
}

// startMaster starts a master (leading or standing by) with the
// cluster's master config and a work dir of its own.
func (c *cluster) startMaster() (*master.Master, func()) {
	cfg := c.mcfg
	cfg.WorkDir = c.t.TempDir()
	m, err := master.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	return m, runUntilCleanup(c.t, "master", m.Run)
}

// startAgent starts an agent and returns a function that stops it (its
// tasks keep running under their supervisor, as when an agent crashes).
func (c *cluster) startAgent(hostname, attrs string) func() {
	t := c.t
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Cleanup(func() { stopSupervisor(t, filepath.Join(dir, "supervisor")) })
	cfg := agent.Config{Master: c.coord.URL().String(), WorkDir: dir, IP: "127.0.0.1", Hostname: hostname,
		Resources: "cpus:4;mem:1024;disk:1024;ports:[31000-31100]", Attributes: attrs, Isolation: supervise.IsolationPosix,
		StatusRetry: 200 * time.Millisecond, StatusRetryMax: 2 * time.Second,
		SupervisorCommand: []string{exe, "agent-supervisor"}, SessionTimeout: 10 * time.Second, Logger: testLogger(hostname)}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return runUntilCleanup(t, hostname, a.Run)
}

// runUntilCleanup runs fn in a goroutine until the test ends.
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

// startMarathon starts a marathon against the cluster and returns it with
// a function that stops it (as killing its process would, minus the
// abruptness: it resigns).
func (c *cluster) startMarathon(name string, opts ...func(*marathon.Config)) (*marathon.Server, func()) {
	t := c.t
	t.Helper()
	cfg := marathon.Config{Master: c.coord.URL().String(), HTTPAddress: "127.0.0.1:0",
		TickInterval: 100 * time.Millisecond, ReconciliationInterval: 5 * time.Second, Logger: testLogger(name)}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := marathon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, runUntilCleanup(t, name, s.Run)
}

func stopSupervisor(t *testing.T, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := supervise.Connect(ctx, dir)
	if err != nil {
		return // none running
	}
	pid := c.Info().PID
	if err := c.Shutdown(ctx); err != nil {
		t.Errorf("supervisor shutdown: %v", err)
		unix.Kill(pid, unix.SIGKILL)
	}
	c.Close()
	reap(t, pid)
}

// reap waits for pid to be gone, reaping it when it is the test's child.
func reap(t *testing.T, pid int) {
	deadline := time.Now().Add(patience)
	for {
		wpid, err := unix.Wait4(pid, nil, unix.WNOHANG, nil)
		if wpid == pid || (errors.Is(err, unix.ECHILD) && !alive(pid)) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("process %d did not end", pid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// processesWithEnv lists live processes whose environment holds kv.
func processesWithEnv(kv string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || !alive(pid) {
			continue
		}
		for _, v := range bytes.Split(env, []byte{0}) {
			if string(v) == kv {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// api is a small client of one marathon's REST API.
type api struct {
	t    *testing.T
	base string
}

func newAPI(t *testing.T, s *marathon.Server) *api {
	return &api{t: t, base: "http://" + s.Addr().String()}
}

// do sends a request and returns the status, headers and body.
func (a *api) do(method, path string, body []byte) (int, http.Header, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// must sends a request that must answer want, and decodes the body into out.
func (a *api) must(want int, method, path string, body []byte, out any) http.Header {
	a.t.Helper()
	code, h, b := a.do(method, path, body)
	if code != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return h
}

// appState is what the tests read of GET /v2/apps/{id}.
type appState struct {
	App struct {
		ID           string `json:"id"`
		Instances    int    `json:"instances"`
		TasksRunning int    `json:"tasksRunning"`
		TasksStaged  int    `json:"tasksStaged"`
		TasksHealthy int    `json:"tasksHealthy"`
		Version      string `json:"version"`
		Deployments  []struct {
			ID string `json:"id"`
		} `json:"deployments"`
		Tasks []struct {
			ID       string `json:"id"`
			State    string `json:"state"`
			Host     string `json:"host"`
			StagedAt string `json:"stagedAt"`
		} `json:"tasks"`
		LastTaskFailure *struct {
			TaskID    string `json:"taskId"`
			State     string `json:"state"`
			Timestamp string `json:"timestamp"`
		} `json:"lastTaskFailure"`
	} `json:"app"`
}

func (a *api) app(id string) appState {
	a.t.Helper()
	var s appState
	a.must(http.StatusOK, http.MethodGet, "/v2/apps"+id, nil, &s)
	return s
}

// runningTasks returns the ids of the app's RUNNING tasks.
func (a *api) runningTasks(id string) []string {
	a.t.Helper()
	var out []string
	for _, t := range a.app(id).App.Tasks {
		if t.State == "TASK_RUNNING" {
			out = append(out, t.ID)
		}
	}
	return out
}

// settled reports whether the app has exactly n running tasks, no other
// tasks and no deployment.
func (a *api) settled(id string, n int) bool {
	s := a.app(id)
	return len(s.App.Deployments) == 0 && s.App.TasksRunning == n && len(s.App.Tasks) == n
}

func readCompat(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(compatDir, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("Marathon compat definitions not found at %s (the shared/compat directory is not on this machine)", compatDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readCompatIfPresent is readCompat for optional parts of a test: nil
// (logged) when the compat definitions are missing.
func readCompatIfPresent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(compatDir, name))
	if err != nil {
		t.Logf("skipping the part with %s: %v", name, err)
		return nil
	}
	return b
}
