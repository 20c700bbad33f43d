package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// fakeMarathon answers a few /v2 endpoints the way Marathon does and
// records what it was sent. Deployments end when the test says so, with
// an event on /v2/events.
type fakeMarathon struct {
	mu       sync.Mutex
	calls    []string // "PUT /v2/apps/prod/web?force=true {...}"
	deps     []MarathonDeployment
	events   chan string
	attached chan struct{}
}

func newFakeMarathon() *fakeMarathon {
	return &fakeMarathon{events: make(chan string, 16), attached: make(chan struct{}, 16)}
}

func (f *fakeMarathon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	call := r.Method + " " + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		call += "?" + r.URL.RawQuery
	}
	if len(body) > 0 {
		call += " " + string(body)
	}
	f.calls = append(f.calls, call)
	deps := f.deps
	f.mu.Unlock()
	js := func(code int, v string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, v)
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/v2/events":
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		f.attached <- struct{}{}
		for {
			select {
			case <-r.Context().Done():
				return
			case ev := <-f.events:
				fmt.Fprintf(w, "event: x\ndata: %s\n\n", ev)
				w.(http.Flusher).Flush()
			}
		}
	case r.Method == "GET" && r.URL.Path == "/v2/apps":
		js(200, `{"apps":[{"id":"/prod/web","cmd":"sleep 1","instances":2,"cpus":0.5,"mem":64,"tasksRunning":1,"tasksStaged":1,"tasksHealthy":0,"tasksUnhealthy":0,"deployments":[],"unknownField":{"kept":true}}]}`)
	case r.Method == "GET" && r.URL.Path == "/v2/deployments":
		b, _ := json.Marshal(deps)
		js(200, string(b))
	case r.Method == "GET" && r.URL.Path == "/v2/apps/prod/missing":
		js(404, `{"message":"App '/prod/missing' does not exist"}`)
	case r.Method == "PUT" && r.URL.Path == "/v2/apps/prod/web":
		if strings.Contains(string(body), `"cpus":-1`) {
			js(422, `{"message":"Object is not valid","details":[{"path":"/cpus","errors":["error.min"]}]}`)
			return
		}
		w.Header().Set("Marathon-Deployment-Id", "d1")
		js(200, `{"deploymentId":"d1","version":"2026-01-02T15:04:05.000Z"}`)
	case r.Method == "PUT" && r.URL.Path == "/v2/groups/department-a":
		js(200, `{"deploymentId":"g1","version":"2026-01-02T15:04:05.000Z"}`)
	case r.Method == "DELETE" && strings.HasPrefix(r.URL.Path, "/v2/apps/prod/web/tasks/"):
		js(200, `{"task":{"id":"prod_web.1","appId":"/prod/web"}}`)
	default:
		js(404, `{"message":"not found"}`)
	}
}

func (f *fakeMarathon) setDeployments(d ...MarathonDeployment) {
	f.mu.Lock()
	f.deps = d
	f.mu.Unlock()
}

func (f *fakeMarathon) lastCall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.calls) - 1; i >= 0; i-- {
		if !strings.HasPrefix(f.calls[i], "GET /v2/deployments") && !strings.HasPrefix(f.calls[i], "GET /v2/events") {
			return f.calls[i]
		}
	}
	return ""
}

func serveLoopback(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }() // owned by the test: closed in Cleanup
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestMarathonClient(t *testing.T) {
	f := newFakeMarathon()
	m, err := NewMarathon(serveLoopback(t, f), Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()

	apps, err := m.Apps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps.Value.Apps) != 1 || apps.Value.Apps[0].ID != "/prod/web" || apps.Value.Apps[0].TasksRunning != 1 {
		t.Errorf("apps: %+v", apps.Value)
	}
	if c := f.lastCall(); c != "GET /v2/apps?embed=apps.tasks&embed=apps.lastTaskFailure" {
		t.Errorf("apps asked %q", c)
	}
	// -o json prints the API's document, unknown fields included.
	out, _ := json.Marshal(apps)
	if !strings.Contains(string(out), `"unknownField":{"kept":true}`) {
		t.Errorf("Doc does not marshal as the API's document: %s", out)
	}

	_, err = m.App(ctx, "prod/missing")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "App '/prod/missing' does not exist") {
		t.Errorf("missing app: %v", err)
	}

	res, err := m.Scale(ctx, "/prod/web", 3, true)
	if err != nil || res.DeploymentID != "d1" {
		t.Fatalf("scale: %+v %v", res, err)
	}
	if c := f.lastCall(); c != `PUT /v2/apps/prod/web?force=true {"instances":3}` {
		t.Errorf("scale sent %q", c)
	}
	_, err = m.PutApp(ctx, []byte(`{"id":"/prod/web","cpus":-1}`), false)
	if err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "(/cpus: error.min)") {
		t.Errorf("invalid app: want the field named, got %v", err)
	}
	if _, err := m.PutApp(ctx, []byte(`{"cmd":"x"}`), false); err == nil || !strings.Contains(err.Error(), "id: required") {
		t.Errorf("app without id: %v", err)
	}
	if _, err := m.Rollback(ctx, "prod/web", "2026-01-01T00:00:00.000Z", false); err != nil {
		t.Fatal(err)
	}
	if c := f.lastCall(); c != `PUT /v2/apps/prod/web {"version":"2026-01-01T00:00:00.000Z"}` {
		t.Errorf("rollback sent %q", c)
	}
	group := []byte(`{"id":"/department-a","apps":[{"id":"/department-a/x","cmd":"sleep 1"}]}`)
	if !IsGroup(group) || IsGroup([]byte(`{"id":"/x","cmd":"y"}`)) {
		t.Error("IsGroup tells groups from apps wrongly")
	}
	if res, err := m.PutGroup(ctx, group, false); err != nil || res.DeploymentID != "g1" {
		t.Errorf("put group: %+v %v", res, err)
	}
	if err := m.KillTask(ctx, "/prod/web", "prod_web.1", true); err != nil {
		t.Fatal(err)
	}
	if c := f.lastCall(); c != "DELETE /v2/apps/prod/web/tasks/prod_web.1?scale=true" {
		t.Errorf("kill sent %q", c)
	}
}

func TestMarathonDeploymentWatch(t *testing.T) {
	f := newFakeMarathon()
	m, err := NewMarathon(serveLoopback(t, f), Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, c := range []struct {
		event   string
		wantErr error
	}{
		{"deployment_success", nil},
		{"deployment_failed", ErrDeploymentFailed},
	} {
		w, err := m.WatchDeployments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		<-f.attached
		f.setDeployments(MarathonDeployment{ID: "d1", CurrentStep: 1, TotalSteps: 2,
			CurrentActions: []MarathonAction{{Action: "StartApplication", App: "/prod/web"}}})
		seen := make(chan MarathonDeployment, 100)
		done := make(chan error, 1)
		go func() { done <- w.Wait(ctx, "d1", 20*time.Millisecond, func(d MarathonDeployment) { seen <- d }) }()
		if d := <-seen; d.CurrentStep != 1 || d.TotalSteps != 2 {
			t.Errorf("progress: %+v", d)
		}
		f.events <- `{"eventType":"deployment_info","plan":{"id":"d1"}}`
		f.events <- `{"eventType":"` + c.event + `","id":"d0"}` // another deployment's end
		f.events <- `{"eventType":"` + c.event + `","id":"d1"}`
		if err := <-done; !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
			t.Errorf("%s: Wait = %v, want %v", c.event, err, c.wantErr)
		}
		w.Close()
	}

	// Without an event (a stream that broke), a deployment gone from the
	// list is over.
	w, err := m.WatchDeployments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-f.attached
	f.setDeployments()
	if err := w.Wait(ctx, "d1", 10*time.Millisecond, nil); err != nil {
		t.Errorf("deployment gone from the list: %v", err)
	}
	w.Close()
}

func TestTaskApp(t *testing.T) {
	for id, want := range map[string]string{
		"prod_web.1f0c-aa": "/prod/web", "demo.abc": "/demo", "nodot": "", ".x": "",
	} {
		got, ok := TaskApp(id)
		if got != want || ok != (want != "") {
			t.Errorf("TaskApp(%q) = %q %v, want %q", id, got, ok, want)
		}
	}
}

func TestFrameworkURL(t *testing.T) {
	fw := func(name, url string, active bool) mesos.Framework {
		return mesos.Framework{FrameworkInfo: &mesos.FrameworkInfo{Name: name, WebUIURL: url}, Active: active}
	}
	g := &mesos.GetFrameworks{Frameworks: []mesos.Framework{
		fw("chronos", "http://127.0.0.1:4400/", true),
		fw("marathon", "http://old:8080", false),
		fw("marathon", "http://127.0.0.1:8080", true),
	}}
	if u, err := FrameworkURL(g, "marathon"); err != nil || u != "http://127.0.0.1:8080" {
		t.Errorf("marathon: %q %v", u, err)
	}
	if u, err := FrameworkURL(g, "chronos"); err != nil || u != "http://127.0.0.1:4400" {
		t.Errorf("chronos: %q %v", u, err)
	}
	if _, err := FrameworkURL(g, "aurora"); !errors.Is(err, ErrNoFramework) {
		t.Errorf("aurora: %v", err)
	}
}

func TestResolveFramework(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		addr, wantURL, wantDisplay string
		ssh                        bool
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080", false},
		{"127.0.0.1:8080", "127.0.0.1:8080", "127.0.0.1:8080", false},
		{"unix:///run/marathon.sock", "unix:///run/marathon.sock", "unix:///run/marathon.sock", false},
		{"ssh://me@host:2222", "http://" + MarathonDefaultAddr, "ssh://me@host:2222/" + MarathonDefaultAddr, true},
		{"ssh://host/127.0.0.1:9090", "http://127.0.0.1:9090", "ssh://host/127.0.0.1:9090", true},
	} {
		ep, err := ResolveFramework(ctx, nil, nil, "marathon", c.addr, MarathonDefaultAddr)
		if err != nil {
			t.Errorf("%s: %v", c.addr, err)
			continue
		}
		if ep.URL != c.wantURL || ep.Display != c.wantDisplay || (ep.Options.DialContext != nil) != c.ssh {
			t.Errorf("%s: %+v", c.addr, ep)
		}
	}
	for _, bad := range []string{"ftp://x", "ssh://host/nonsense", "http://"} {
		if _, err := ResolveFramework(ctx, nil, nil, "marathon", bad, MarathonDefaultAddr); !errors.Is(err, ErrBadAddress) {
			t.Errorf("%s: want ErrBadAddress, got %v", bad, err)
		}
	}
}

// TestFrameworkThroughMaster: without an address, the API is the one the
// master lists, and the API is reached over a Unix socket too.
func TestFrameworkThroughMaster(t *testing.T) {
	f := newFakeMarathon()
	sock := filepath.Join(t.TempDir(), "m.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go func() { _ = srv.Serve(ln) }() // owned by the test
	t.Cleanup(func() { _ = srv.Close() })

	master := serveLoopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(mesos.OperatorResponse{Type: mesos.OperatorGetFrameworks,
			GetFrameworks: &mesos.GetFrameworks{Frameworks: []mesos.Framework{{Active: true,
				FrameworkInfo: &mesos.FrameworkInfo{Name: "marathon", WebUIURL: "unix://" + sock}}}}})
	}))
	op, err := NewOperator(Options{Master: master, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	ep, err := ResolveFramework(context.Background(), op, &Endpoint{Options: Options{Token: "secret"}}, "marathon", "", MarathonDefaultAddr)
	if err != nil {
		t.Fatal(err)
	}
	if ep.Options.Token != "" {
		t.Error("the master's operator token would be sent to the framework")
	}
	m, err := NewMarathon(ep.URL, ep.Options)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if apps, err := m.Apps(context.Background()); err != nil || len(apps.Value.Apps) != 1 {
		t.Fatalf("apps over the socket the master named: %v %+v", err, apps.Value)
	}
}
