package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeChronos is a follower that redirects to a leader answering a few
// /v1/scheduler endpoints as Chronos does.
type fakeChronos struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeChronos) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call := r.Method + " " + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		call += "?" + r.URL.RawQuery
	}
	if len(body) > 0 {
		call += " " + string(body)
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	js := func(code int, v string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, v)
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/v1/scheduler/jobs":
		js(200, `[{"name":"a","command":"true","schedule":"R/2026-01-01T00:00:00Z/PT1M","epsilon":"PT1M","successCount":3,"lastSuccess":"2026-01-02T15:00:00.000Z","lastError":""},
		          {"name":"b","command":"echo b","parents":["a"],"epsilon":"PT1M","lastSuccess":"","lastError":""}]`)
	case r.Method == "POST" && r.URL.Path == "/v1/scheduler/iso8601":
		if strings.Contains(string(body), `"schedule":"bad"`) {
			js(400, `{"message":"schedule: \"bad\" is not an ISO 8601 repeating interval","details":[{"Field":"schedule","Message":"not an ISO 8601 repeating interval"}]}`)
			return
		}
		w.WriteHeader(204)
	case r.Method == "POST" && r.URL.Path == "/v1/scheduler/dependency",
		r.Method == "PUT" && r.URL.Path == "/v1/scheduler/job/a",
		r.Method == "DELETE" && r.URL.Path == "/v1/scheduler/job/a":
		w.WriteHeader(204)
	case r.Method == "GET" && r.URL.Path == "/v1/scheduler/history/a":
		js(200, `{"job":"a","runs":[{"id":"a@2026-01-02T15:00:00Z","kind":"scheduled","state":"succeeded","attempt":0,"scheduledAt":"2026-01-02T15:00:00Z","exitStatus":0}]}`)
	case r.Method == "GET" && r.URL.Path == "/v1/scheduler/graph/dot":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "digraph G {\n  a -> b;\n}\n")
	default:
		js(404, `{"message":"Job 'x' not found"}`)
	}
}

func (f *fakeChronos) lastCall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[len(f.calls)-1]
}

func TestChronosClient(t *testing.T) {
	f := &fakeChronos{}
	leader := serveLoopback(t, f)
	// A follower answers 307 to the leader, as Chronos does.
	follower := serveLoopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, leader+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	c, err := NewChronos(follower, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	jobs, err := c.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Value) != 2 || jobs.Value[0].SuccessCount != 3 || jobs.Value[1].Parents[0] != "a" {
		t.Errorf("jobs: %+v", jobs.Value)
	}
	j, err := c.Job(ctx, "b")
	if err != nil || j.Value.Command != "echo b" || !strings.Contains(string(j.Raw), `"parents":["a"]`) {
		t.Errorf("job b: %+v %s %v", j.Value, j.Raw, err)
	}
	if _, err := c.Job(ctx, "zz"); !errors.Is(err, ErrNoJob) {
		t.Errorf("job zz: %v", err)
	}

	if err := c.PutJob(ctx, []byte(`{"name":"a","command":"true","schedule":"R//PT1M"}`)); err != nil {
		t.Fatal(err)
	}
	if got := f.lastCall(); !strings.HasPrefix(got, "POST /v1/scheduler/iso8601 ") {
		t.Errorf("scheduled job went to %q", got)
	}
	if err := c.PutJob(ctx, []byte(`{"name":"b","command":"x","parents":["a"]}`)); err != nil {
		t.Fatal(err)
	}
	if got := f.lastCall(); !strings.HasPrefix(got, "POST /v1/scheduler/dependency ") {
		t.Errorf("dependent job went to %q", got)
	}
	err = c.PutJob(ctx, []byte(`{"name":"a","command":"true","schedule":"bad"}`))
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "(schedule: not an ISO 8601 repeating interval)") {
		t.Errorf("bad schedule: want the field named, got %v", err)
	}

	if err := c.RunJob(ctx, "a", []string{"x", "y"}); err != nil {
		t.Fatal(err)
	}
	if got := f.lastCall(); got != "PUT /v1/scheduler/job/a?arguments=x+y" {
		t.Errorf("run sent %q", got)
	}
	if err := c.DeleteJob(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	h, err := c.History(ctx, "a", 5)
	if err != nil || len(h.Value.Runs) != 1 || h.Value.Runs[0].ExitStatus == nil || h.Value.Runs[0].State != "succeeded" {
		t.Errorf("history: %+v %v", h.Value, err)
	}
	if got := f.lastCall(); got != "GET /v1/scheduler/history/a?limit=5" {
		t.Errorf("history asked %q", got)
	}
	raw, _ := json.Marshal(h)
	if !strings.HasPrefix(string(raw), `{"job":"a"`) {
		t.Errorf("history document: %s", raw)
	}
	dot, err := c.Graph(ctx, "dot")
	if err != nil || !strings.Contains(dot, "a -> b") {
		t.Errorf("graph: %q %v", dot, err)
	}
	if _, err := c.Graph(ctx, "svg"); err == nil {
		t.Error("graph svg: want an error")
	}
}

func TestChronosTaskJob(t *testing.T) {
	for id, want := range map[string]string{
		"ct:1767366240000:0:backup:3": "backup", "ct:1:2:a:b:7": "a:b", "ct:1:2:3": "", "web.1": "",
	} {
		got, ok := ChronosTaskJob(id)
		if got != want || ok != (want != "") {
			t.Errorf("ChronosTaskJob(%q) = %q %v, want %q", id, got, ok, want)
		}
	}
}
