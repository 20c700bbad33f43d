package client

import (
	"context"
	"encoding/json"
	"errors"
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

// fakeAgentAPI serves a small agent API: a few operator calls, one growing
// file "/f" and the monitor, on TCP and a Unix socket. (The real agent is
// exercised with this client in package agent's tests.)
type fakeAgentAPI struct {
	mu   sync.Mutex
	file []byte
	// sizeAsked, when set, is closed at the first read of length 0.
	sizeAsked chan struct{}
}

func (f *fakeAgentAPI) append(s string) {
	f.mu.Lock()
	f.file = append(f.file, s...)
	f.mu.Unlock()
}

func (f *fakeAgentAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
	}
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	switch r.URL.Path {
	case "/monitor/statistics":
		reply([]mesos.ExecutorStatistics{{ExecutorID: "t1", FrameworkID: "F1", Source: "t1",
			Statistics: mesos.ResourceStatistics{MemRSSBytes: 4096, CPUsUserTimeSecs: 0.5}}})
		return
	case "/files/download":
		if r.URL.Query().Get("path") != "/f" {
			fail(http.StatusNotFound, "path: no such file")
			return
		}
		f.mu.Lock()
		_, _ = w.Write(f.file)
		f.mu.Unlock()
		return
	case "/api/v1":
	default:
		fail(http.StatusNotFound, "no such endpoint")
		return
	}
	var call mesos.AgentOperatorCall
	if err := json.NewDecoder(r.Body).Decode(&call); err != nil {
		fail(http.StatusBadRequest, "body: "+err.Error())
		return
	}
	resp := mesos.AgentOperatorResponse{Type: call.Type}
	switch call.Type {
	case mesos.OperatorGetHealth:
		resp.GetHealth = &mesos.GetHealth{Healthy: true}
	case mesos.OperatorGetVersion:
		resp.GetVersion = &mesos.GetVersion{VersionInfo: &mesos.VersionInfo{Version: "1.2.3"}}
	case mesos.OperatorGetState:
		resp.GetState = &mesos.AgentGetState{GetTasks: &mesos.AgentGetTasks{LaunchedTasks: []mesos.Task{{TaskID: "t1"}}}}
	case mesos.OperatorGetContainers:
		resp.GetContainers = &mesos.AgentGetContainers{Containers: []mesos.AgentContainer{{ContainerID: mesos.ContainerID{Value: "c1"},
			ResourceStatistics: &mesos.ResourceStatistics{MemRSSBytes: 1}}}}
	case mesos.OperatorListFiles:
		resp.ListFiles = &mesos.ListFiles{FileInfos: []mesos.FileInfo{{Path: call.ListFiles.Path + "/f"}}}
	case mesos.OperatorReadFile:
		rf := call.ReadFile
		if rf.Path != "/f" {
			fail(http.StatusForbidden, "read_file.path: outside the sandboxes")
			return
		}
		f.mu.Lock()
		if rf.Length != nil && *rf.Length == 0 && f.sizeAsked != nil {
			close(f.sizeAsked)
			f.sizeAsked = nil
		}
		size := uint64(len(f.file))
		data := []byte{}
		if rf.Offset < size {
			end := size
			if rf.Length != nil {
				end = min(size, rf.Offset+*rf.Length)
			}
			end = min(end, rf.Offset+4) // a small cap, so Tail must read on
			data = append(data, f.file[rf.Offset:end]...)
		}
		f.mu.Unlock()
		resp.ReadFile = &mesos.ReadFile{Size: size, Data: data}
	case mesos.OperatorGetMetrics:
		// Answered with the wrong body: the client must notice.
		resp.GetHealth = &mesos.GetHealth{}
	default:
		fail(http.StatusBadRequest, "type: unknown call "+string(call.Type))
		return
	}
	reply(resp)
}

func startFakeAgentAPI(t *testing.T) (*fakeAgentAPI, []string) {
	t.Helper()
	fa := &fakeAgentAPI{}
	srv := &http.Server{Handler: fa}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	unix, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, l := range []net.Listener{tcp, unix} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.Serve(l) }()
	}
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	return fa, []string{"http://" + tcp.Addr().String(), tcp.Addr().String(), "unix://" + sock}
}

func TestAgent_Calls(t *testing.T) {
	checkLeaks(t)
	fa, addrs := startFakeAgentAPI(t)
	fa.append("hello world")
	ctx := context.Background()
	for _, addr := range addrs {
		a, err := NewAgent(addr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if h, err := a.GetHealth(ctx); err != nil || !h.Healthy {
			t.Errorf("%s GetHealth: %+v %v", addr, h, err)
		}
		if v, err := a.GetVersion(ctx); err != nil || v.VersionInfo.Version != "1.2.3" {
			t.Errorf("%s GetVersion: %+v %v", addr, v, err)
		}
		if s, err := a.GetState(ctx); err != nil || s.GetTasks.LaunchedTasks[0].TaskID != "t1" {
			t.Errorf("%s GetState: %+v %v", addr, s, err)
		}
		if cs, err := a.GetContainers(ctx); err != nil || len(cs) != 1 || cs[0].ResourceStatistics.MemRSSBytes != 1 {
			t.Errorf("%s GetContainers: %+v %v", addr, cs, err)
		}
		if fs, err := a.ListFiles(ctx, "/d"); err != nil || len(fs) != 1 || fs[0].Path != "/d/f" {
			t.Errorf("%s ListFiles: %+v %v", addr, fs, err)
		}
		if d, size, err := a.ReadFile(ctx, "/f", 6, 3); err != nil || string(d) != "wor" || size != 11 {
			t.Errorf("%s ReadFile: %q %d %v", addr, d, size, err)
		}
		if st, err := a.Statistics(ctx); err != nil || len(st) != 1 || st[0].Statistics.MemRSSBytes != 4096 {
			t.Errorf("%s Statistics: %+v %v", addr, st, err)
		}
		rc, err := a.Download(ctx, "/f")
		if err != nil {
			t.Fatalf("%s Download: %v", addr, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "hello world" {
			t.Errorf("%s Download: %q", addr, b)
		}
		a.Close()
	}
}

func TestAgent_Errors(t *testing.T) {
	checkLeaks(t)
	_, addrs := startFakeAgentAPI(t)
	a, err := NewAgent(addrs[2], Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	_, _, err = a.ReadFile(ctx, "/etc/passwd", 0, -1)
	var ae *APIError
	if !errors.Is(err, ErrForbidden) || !errors.As(err, &ae) || !strings.Contains(ae.Message, "read_file.path") ||
		!strings.HasPrefix(ae.URL, "unix://") {
		t.Errorf("ReadFile outside: %v", err)
	}
	if _, err := a.Call(ctx, &mesos.AgentOperatorCall{Type: "NOPE"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("unknown call: %v", err)
	}
	if _, err := a.GetMetrics(ctx); err == nil || !strings.Contains(err.Error(), "no GET_METRICS") {
		t.Errorf("answer without its body: %v", err)
	}
	if _, err := a.Download(ctx, "/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Download of a missing file: %v", err)
	}
	if _, err := NewAgent("zk://h:2181/strata", Options{}); err == nil {
		t.Error("NewAgent accepted a zk:// address")
	}
}

// TestAgent_Tail: Tail starts at the file's end, then hands over what
// is appended, in order, across reads the agent caps.
func TestAgent_Tail(t *testing.T) {
	checkLeaks(t)
	fa, addrs := startFakeAgentAPI(t)
	fa.append("old\n")
	asked := make(chan struct{})
	fa.sizeAsked = asked
	a, err := NewAgent(addrs[0], Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	type result struct {
		got string
		off int64
		err error
	}
	done := make(chan result, 1)
	go func() { // owned by the test: it ends when emit sees "done"
		var got strings.Builder
		off, err := a.Tail(context.Background(), "/f", -1, time.Millisecond, func(b []byte) error {
			got.Write(b)
			if strings.HasSuffix(got.String(), "done\n") {
				return io.EOF
			}
			return nil
		})
		done <- result{got.String(), off, err}
	}()
	<-asked
	fa.append("a longer line\n")
	fa.append("done\n")
	r := <-done
	if r.got != "a longer line\ndone\n" || r.off != 23 || !errors.Is(r.err, io.EOF) {
		t.Fatalf("Tail: %q up to %d, %v", r.got, r.off, r.err)
	}
}
