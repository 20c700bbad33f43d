package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/mesos"
)

// TestHealthStateObserve walks Mesos' rules: failures inside the grace
// period before any success are ignored; after a success, or after the
// grace period, they count; a success resets the count.
func TestHealthStateObserve(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type step struct {
		at            time.Duration
		ok            bool
		counted, kill bool
	}
	for _, tc := range []struct {
		name  string
		grace time.Duration
		max   uint32
		steps []step
	}{
		{"grace ignores early failures", 10 * time.Second, 2, []step{
			{1 * time.Second, false, false, false},
			{5 * time.Second, false, false, false},
			{10 * time.Second, false, false, false}, // still inside: <= grace
			{11 * time.Second, false, true, false},
			{12 * time.Second, false, true, true},
		}},
		{"a success ends the grace period", 10 * time.Second, 1, []step{
			{1 * time.Second, false, false, false},
			{2 * time.Second, true, true, false},
			{3 * time.Second, false, true, true},
		}},
		{"a success resets the count", 0, 3, []step{
			{1 * time.Second, false, true, false},
			{2 * time.Second, false, true, false},
			{3 * time.Second, true, true, false},
			{4 * time.Second, false, true, false},
			{5 * time.Second, false, true, false},
			{6 * time.Second, false, true, true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := healthState{start: t0, grace: tc.grace, maxFailures: tc.max, initializing: true}
			for i, s := range tc.steps {
				counted, kill := h.observe(t0.Add(s.at), s.ok)
				if counted != s.counted || kill != s.kill {
					t.Fatalf("step %d (%+v): counted %v kill %v", i, s, counted, kill)
				}
			}
		})
	}
}

func TestValidateHealthCheck(t *testing.T) {
	neg := -1.0
	no := false
	for _, tc := range []struct {
		hc    *mesos.HealthCheck
		field string // "" valid
	}{
		{nil, ""},
		{&mesos.HealthCheck{Type: mesos.CheckCommand, Command: &mesos.CommandInfo{Value: "true"}}, ""},
		{&mesos.HealthCheck{Type: mesos.CheckCommand}, "health_check.command"},
		{&mesos.HealthCheck{Type: mesos.CheckCommand, Command: &mesos.CommandInfo{Shell: &no}}, "health_check.command.value"},
		{&mesos.HealthCheck{Type: mesos.CheckHTTP, HTTP: &mesos.HTTPCheckInfo{Port: 80}}, ""},
		{&mesos.HealthCheck{Type: mesos.CheckHTTP, HTTP: &mesos.HTTPCheckInfo{}}, "health_check.http.port"},
		{&mesos.HealthCheck{Type: mesos.CheckHTTP, HTTP: &mesos.HTTPCheckInfo{Port: 80, Scheme: "ftp"}}, "health_check.http.scheme"},
		{&mesos.HealthCheck{Type: mesos.CheckHTTP, HTTP: &mesos.HTTPCheckInfo{Port: 80, Statuses: []uint32{200, 42}}}, "health_check.http.statuses[1]"},
		{&mesos.HealthCheck{Type: mesos.CheckTCP, TCP: &mesos.TCPCheckInfo{Port: 70000}}, "health_check.tcp.port"},
		{&mesos.HealthCheck{Type: mesos.CheckTCP}, "health_check.tcp"},
		{&mesos.HealthCheck{}, "health_check.type"},
		{&mesos.HealthCheck{Type: mesos.CheckTCP, TCP: &mesos.TCPCheckInfo{Port: 1}, IntervalSeconds: &neg}, "health_check.interval_seconds"},
	} {
		err := validateHealthCheck(tc.hc)
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.hc, err)
		case tc.field != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.field+":")):
			t.Errorf("%+v: error %v, want one about %s", tc.hc, err, tc.field)
		}
	}
}

func TestHTTPProbe(t *testing.T) {
	var code int
	var gotPath string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		w.WriteHeader(code)
	})
	for _, tls := range []bool{false, true} {
		var srv *httptest.Server
		if tls {
			srv = httptest.NewTLSServer(h) // a certificate no one trusts: not verified, as Mesos
		} else {
			srv = httptest.NewServer(h)
		}
		port, _ := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
		scheme := "http"
		if tls {
			scheme = "https"
		}
		for _, tc := range []struct {
			code     int
			statuses []uint32
			healthy  bool
		}{
			{200, nil, true}, {302, nil, true}, {399, nil, true}, {404, nil, false}, {500, nil, false},
			{204, []uint32{204}, true}, {200, []uint32{204}, false},
		} {
			code = tc.code
			err := httpProbe(&mesos.HTTPCheckInfo{Scheme: scheme, Port: uint32(port), Path: "health", Statuses: tc.statuses})(context.Background())
			if (err == nil) != tc.healthy {
				t.Errorf("%s status %d statuses %v: %v", scheme, tc.code, tc.statuses, err)
			}
			if gotPath != "/health" {
				t.Errorf("%s: path %q, want /health", scheme, gotPath)
			}
		}
		srv.Close()
		if err := httpProbe(&mesos.HTTPCheckInfo{Scheme: scheme, Port: uint32(port)})(context.Background()); err == nil {
			t.Errorf("%s: a closed server is healthy", scheme)
		}
	}
}

func TestTCPProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	probe := tcpProbe(&mesos.TCPCheckInfo{Port: uint32(l.Addr().(*net.TCPAddr).Port)})
	if err := probe(context.Background()); err != nil {
		t.Fatalf("listening port: %v", err)
	}
	l.Close()
	if err := probe(context.Background()); err == nil {
		t.Fatal("closed port is healthy")
	}
}

// TestCommandProbe runs real commands: in the sandbox, with the task's
// environment and the check's variables on top, exit status deciding.
func TestCommandProbe(t *testing.T) {
	sandbox := t.TempDir()
	spec := supervise.Spec{Sandbox: sandbox, Env: []string{"PATH=" + supervise.DefaultPath, "TASK_VAR=task", "OVER=task"}}
	env := mesos.Env(map[string]string{"OVER": "check"})
	no := false
	for _, tc := range []struct {
		cmd     mesos.CommandInfo
		healthy bool
		msg     string
	}{
		{mesos.CommandInfo{Value: `test "$PWD" = "` + sandbox + `" && test "$TASK_VAR" = task && test "$OVER" = check`, Environment: env}, true, ""},
		{mesos.CommandInfo{Value: "echo broken >&2; exit 3"}, false, "exit status 3: broken"},
		{mesos.CommandInfo{Shell: &no, Value: "test", Arguments: []string{"test", "-d", sandbox}}, true, ""},
		{mesos.CommandInfo{Shell: &no, Value: "no-such-program-here"}, false, "not found in the task's PATH"},
	} {
		err := commandProbe(context.Background(), &tc.cmd, spec)
		if (err == nil) != tc.healthy || (err != nil && !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%q: %v", tc.cmd.Value, err)
		}
	}
}

// TestCommandProbeTimeout: a probe that outlives its timeout is killed
// with everything it started.
func TestCommandProbeTimeout(t *testing.T) {
	sandbox := t.TempDir()
	spec := supervise.Spec{Sandbox: sandbox, Env: []string{"PATH=" + supervise.DefaultPath}}
	cmd := &mesos.CommandInfo{Value: "sleep 60 & echo $! > bg; echo $$ > fg; sleep 60"}
	err := runProbe(context.Background(), func(ctx context.Context) error { return commandProbe(ctx, cmd, spec) }, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("a hanging probe: %v", err)
	}
	for _, f := range []string{"fg", "bg"} {
		b, err := os.ReadFile(filepath.Join(sandbox, f))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
		if err != nil {
			t.Fatal(err)
		}
		waitGone(t, pid)
	}
}

// waitGone waits for pid to die, reaping it if it became the test's
// (the test binary is a subreaper).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		wpid, err := unix.Wait4(pid, nil, unix.WNOHANG, nil)
		if wpid == pid || (errors.Is(err, unix.ECHILD) && !processLive(pid)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d of a timed-out probe survives", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func processLive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// TestCommandProbeUser: the probe runs as the task's user.
func TestCommandProbeUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root; this test runs as uid", os.Geteuid())
	}
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("this host has no user nobody:", err)
	}
	sandbox := t.TempDir()
	// t.TempDir is 0700; nobody must be able to enter the sandbox.
	for d := sandbox; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spec := supervise.Spec{Sandbox: sandbox, User: "nobody", Env: []string{"PATH=" + supervise.DefaultPath}}
	if err := commandProbe(context.Background(), &mesos.CommandInfo{Value: `test "$(id -un)" = nobody`}, spec); err != nil {
		t.Fatalf("the probe did not run as nobody: %v", err)
	}
}
