package tui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/client"
)

// The live sources against httptest servers speaking marathon's and
// chronos' JSON: marathon's Apps move on an event from /v2/events (the
// safety read is an hour away), the stream reconnects and says so, and
// actions reach the API.

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func endpointAt(url string) Resolver {
	return func(context.Context) (*client.FrameworkEndpoint, error) {
		return &client.FrameworkEndpoint{URL: url, Display: url}, nil
	}
}

type fakeMarathon struct {
	instances atomic.Int64
	events    chan string
	drop      chan struct{} // ends the current event stream
	mu        sync.Mutex
	puts      []string
}

func (f *fakeMarathon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v2/apps":
		n := f.instances.Load()
		fmt.Fprintf(w, `{"apps":[{"id":"/a","cmd":"sleep 1","instances":%d,"cpus":0.1,"mem":32,"disk":0,"tasksStaged":0,"tasksRunning":%d,"tasksHealthy":0,"tasksUnhealthy":0,"deployments":[],"unknownField":true}]}`, n, n)
	case r.Method == http.MethodGet && r.URL.Path == "/v2/deployments":
		io.WriteString(w, `[]`)
	case r.Method == http.MethodGet && r.URL.Path == "/v2/queue":
		io.WriteString(w, `{"queue":[]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/v2/events":
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		io.WriteString(w, "event: event_stream_attached\ndata: {\"eventType\":\"event_stream_attached\"}\n\n")
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-f.drop:
				return
			case ev := <-f.events:
				fmt.Fprintf(w, "event: %s\ndata: {\"eventType\":%q,\"appId\":\"/a\"}\n\n", ev, ev)
				w.(http.Flusher).Flush()
			}
		}
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v2/apps/"):
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.puts = append(f.puts, r.URL.Path+" "+string(b))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"deploymentId":"d1","version":"2026-01-02T03:04:05Z"}`)
	default:
		http.NotFound(w, r)
	}
}

func TestMarathonSourceFollowsEvents(t *testing.T) {
	f := &fakeMarathon{events: make(chan string), drop: make(chan struct{})}
	f.instances.Store(1)
	srv := httptest.NewServer(f)
	defer srv.Close()
	s := StartMarathon(endpointAt(srv.URL), time.Hour)
	defer s.Close()

	instances := func() int {
		a := s.Apps()
		if len(a.Apps) != 1 {
			return -1
		}
		return a.Apps[0].Instances
	}
	waitFor(t, "the first read", func() bool { return instances() == 1 && s.Apps().Status.Live })
	if !strings.Contains(string(s.Apps().Raw["/a"]), "unknownField") {
		t.Errorf("raw app JSON lost the API's own fields: %s", s.Apps().Raw["/a"])
	}

	// A change without an event is not seen (no polling); the event
	// brings it.
	f.instances.Store(2)
	f.events <- "status_update_event"
	waitFor(t, "the read after status_update_event", func() bool { return instances() == 2 })

	// The stream drops: the source says so, reconnects, and says that.
	f.drop <- struct{}{}
	waitFor(t, "the reconnection note", func() bool {
		return strings.Contains(s.Apps().Status.Note, "event stream reconnected after") && s.Apps().Status.Live
	})
	f.instances.Store(3)
	f.events <- "deployment_step_success"
	waitFor(t, "the read after reconnecting", func() bool { return instances() == 3 })

	if err := s.Scale(t.Context(), "/a", 4); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	puts := strings.Join(f.puts, "\n")
	f.mu.Unlock()
	if !strings.Contains(puts, "/v2/apps/a") || !strings.Contains(puts, `"instances":4`) {
		t.Errorf("scale sent %q", puts)
	}
}

type fakeChronos struct {
	failing atomic.Bool
	mu      sync.Mutex
	posts   []string
	runs    []string
}

func (f *fakeChronos) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.failing.Load() {
		http.Error(w, "leader lost", http.StatusServiceUnavailable)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/scheduler/jobs":
		io.WriteString(w, `[{"name":"backup","command":"true","shell":true,"schedule":"R/2026-01-01T00:00:00Z/PT1H","epsilon":"PT60S","retries":2,"owner":"ops","description":"","cpus":0.1,"mem":32,"disk":0,"disabled":false,"concurrent":false,"successCount":1,"errorCount":0,"lastSuccess":"2026-01-02T03:00:31Z","lastError":"","errorsSinceLastSuccess":0,"highPriority":true}]`)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/scheduler/jobs/summary":
		io.WriteString(w, `{"jobs":[{"name":"backup","status":"success","state":"idle","schedule":"R/2026-01-01T00:00:00Z/PT1H","parents":[],"disabled":false}]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/scheduler/history/backup":
		io.WriteString(w, `{"job":"backup","runs":[{"id":"r1","kind":"scheduled","state":"succeeded","attempt":1,"scheduledAt":"2026-01-02T03:00:00Z"}]}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/scheduler/iso8601":
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.posts = append(f.posts, string(b))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v1/scheduler/job/"):
		f.mu.Lock()
		f.runs = append(f.runs, strings.TrimPrefix(r.URL.Path, "/v1/scheduler/job/"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func TestChronosSourcePollsAndActs(t *testing.T) {
	f := &fakeChronos{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	s := StartChronos(endpointAt(srv.URL), 20*time.Millisecond)
	defer s.Close()
	waitFor(t, "the first poll", func() bool {
		j := s.Jobs()
		return len(j.Jobs) == 1 && j.States["backup"] == "idle" && len(j.History["backup"]) == 1 && j.Status.Live
	})

	f.failing.Store(true)
	waitFor(t, "the failure to show", func() bool { return !s.Jobs().Status.Live && s.Jobs().Status.Err != nil })
	f.failing.Store(false)
	waitFor(t, "the reconnection note", func() bool {
		return s.Jobs().Status.Live && strings.Contains(s.Jobs().Status.Note, "reconnected after")
	})

	if err := s.SetDisabled(t.Context(), "backup", true); err != nil {
		t.Fatal(err)
	}
	if err := s.RunJob(t.Context(), "backup"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.posts) != 1 || !strings.Contains(f.posts[0], `"disabled":true`) || !strings.Contains(f.posts[0], `"highPriority":true`) {
		t.Errorf("disable sent %q: want the job's own JSON with disabled set", f.posts)
	}
	if strings.Join(f.runs, ",") != "backup" {
		t.Errorf("run sent %q", f.runs)
	}
}

// TestSourceWithoutFramework: while the master does not know the
// framework, the source says so and actions fail with that reason.
func TestSourceWithoutFramework(t *testing.T) {
	s := StartMarathon(func(context.Context) (*client.FrameworkEndpoint, error) {
		return nil, client.ErrNoFramework
	}, 0)
	defer s.Close()
	waitFor(t, "the lookup error", func() bool { return s.Apps().Status.Err != nil })
	if err := s.Restart(t.Context(), "/a"); err == nil || !strings.Contains(err.Error(), "not found yet") {
		t.Errorf("restart before marathon is found: %v", err)
	}
}
