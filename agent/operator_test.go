package agent_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// TestIntegration_OperatorAndMonitor: every operator call answers on the
// control socket and on TCP; statistics show the running tasks' real
// usage; bad calls are 400s naming the field and the agent keeps serving.
func TestIntegration_OperatorAndMonitor(t *testing.T) {
	sa := startSandboxAgent(t)
	ctx := context.Background()

	t.Run("statistics", func(t *testing.T) {
		var spin mesos.ExecutorStatistics
		waitFor(t, "the spin task's CPU time", func() bool {
			stats, err := sa.tcp.Statistics(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stats {
				if s.ExecutorID == "spin" {
					spin = s
				}
			}
			return spin.Statistics.CPUsUserTimeSecs+spin.Statistics.CPUsSystemTimeSecs > 0
		})
		st := spin.Statistics
		if spin.FrameworkID != string(sa.fw) || spin.Source != "spin" || !strings.Contains(spin.ExecutorName, "Task: spin") ||
			st.MemRSSBytes == 0 || st.Processes < 2 || st.Threads < st.Processes || st.Timestamp == 0 {
			t.Fatalf("statistics of spin: %+v", spin)
		}
		// Mesos' raw shape: a JSON array with string IDs.
		code, b := sa.get(t, "/monitor/statistics", nil)
		var raw []map[string]any
		if code != http.StatusOK || json.Unmarshal(b, &raw) != nil || len(raw) != 2 {
			t.Fatalf("/monitor/statistics: %d %s", code, b)
		}
		if _, ok := raw[0]["executor_id"].(string); !ok {
			t.Fatalf("executor_id is not a string: %s", b)
		}
		if _, ok := raw[0]["statistics"].(map[string]any)["mem_rss_bytes"]; !ok {
			t.Fatalf("no mem_rss_bytes: %s", b)
		}
	})

	t.Run("metrics snapshot", func(t *testing.T) {
		m, err := sa.unix.MetricsSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m["slave/tasks_running"] != 2 || m["slave/registered"] != 1 || m["slave/cpus_total"] != 4 ||
			m["slave/cpus_used"] < 0.19 || m["slave/mem_used"] != 64 || m["slave/uptime_secs"] <= 0 {
			t.Fatalf("metrics: %v", m)
		}
	})

	for name, c := range map[string]*client.Agent{"tcp": sa.tcp, "unix": sa.unix} {
		t.Run("calls over "+name, func(t *testing.T) {
			if h, err := c.GetHealth(ctx); err != nil || !h.Healthy {
				t.Fatalf("GET_HEALTH: %v %v", h, err)
			}
			if v, err := c.GetVersion(ctx); err != nil || v.VersionInfo.Version == "" {
				t.Fatalf("GET_VERSION: %v %v", v, err)
			}
			m, err := c.GetMetrics(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var running float64 = -1
			for _, mt := range m.Metrics {
				if mt.Name == "slave/tasks_running" && mt.Value != nil {
					running = *mt.Value
				}
			}
			if running != 2 {
				t.Fatalf("GET_METRICS slave/tasks_running = %v: %+v", running, m)
			}
			fl, err := c.GetFlags(ctx)
			if err != nil {
				t.Fatal(err)
			}
			flags := map[string]string{}
			for _, f := range fl.Flags {
				flags[f.Name] = f.Value
			}
			if flags["work_dir"] != sa.dir || flags["isolation"] != "posix" || !strings.HasPrefix(flags["master"], "zk://") {
				t.Fatalf("GET_FLAGS: %v", flags)
			}
			st, err := c.GetState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.GetTasks.LaunchedTasks) != 2 || len(st.GetExecutors.Executors) != 2 ||
				len(st.GetFrameworks.Frameworks) != 1 || st.GetFrameworks.Frameworks[0].FrameworkInfo.ID != sa.fw {
				t.Fatalf("GET_STATE: %+v", st)
			}
			for _, task := range st.GetTasks.LaunchedTasks {
				if task.State != mesos.TaskRunning || task.AgentID != sa.agentID || task.FrameworkID != sa.fw {
					t.Fatalf("GET_STATE task: %+v", task)
				}
			}
			info, err := c.GetAgent(ctx)
			if err != nil || info.ID != sa.agentID || info.Hostname != "agent-test" {
				t.Fatalf("GET_AGENT: %+v %v", info, err)
			}
			cs, err := c.GetContainers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 2 {
				t.Fatalf("GET_CONTAINERS: %+v", cs)
			}
			for _, ct := range cs {
				if ct.ResourceStatistics == nil || ct.ResourceStatistics.MemRSSBytes == 0 || ct.ContainerStatus == nil ||
					ct.ContainerStatus.ExecutorPID == 0 || ct.FrameworkID != sa.fw || ct.ContainerID.Value == "" {
					t.Fatalf("GET_CONTAINERS entry: %+v", ct)
				}
			}
			files, err := c.ListFiles(ctx, sa.writer)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, f := range files {
				names[filepath.Base(f.Path)] = true
			}
			if !names["stdout"] || !names["stderr"] || !names["sub"] {
				t.Fatalf("LIST_FILES: %+v", files)
			}
			data, size, err := c.ReadFile(ctx, filepath.Join(sa.writer, "stdout"), 0, 7)
			if err != nil || string(data) != "line-0\n" || size < 7 {
				t.Fatalf("READ_FILE: %q %d %v", data, size, err)
			}
			// Reading on from the size tails the file: more comes.
			waitFor(t, "more output through READ_FILE", func() bool {
				more, _, err := c.ReadFile(ctx, filepath.Join(sa.writer, "stdout"), size, -1)
				return err == nil && bytes.HasPrefix(more, []byte("line-")) || bytes.Contains(more, []byte("\nline-"))
			})
		})
	}

	t.Run("read_file data is base64", func(t *testing.T) {
		body := fmt.Sprintf(`{"type":"READ_FILE","read_file":{"path":%q,"offset":0,"length":3}}`, filepath.Join(sa.writer, "sub", "f"))
		code, b := post(t, sa.base, body)
		var resp struct {
			Type     string `json:"type"`
			ReadFile struct {
				Size int    `json:"size"`
				Data string `json:"data"`
			} `json:"read_file"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &resp) != nil || resp.Type != "READ_FILE" ||
			resp.ReadFile.Size != 3 || resp.ReadFile.Data != base64.StdEncoding.EncodeToString([]byte("hi\n")) {
			t.Fatalf("READ_FILE: %d %s", code, b)
		}
	})

	t.Run("bad calls", func(t *testing.T) {
		cases := []struct{ body, mention string }{
			{`{"type":`, "body"},
			{`not json`, "body"},
			{`{"type":"NO_SUCH_CALL"}`, "type"},
			{`{"type":"LAUNCH_CONTAINER"}`, "type"},
			{`{}`, "type"},
			{`{"type":"READ_FILE"}`, "read_file"},
			{`{"type":"LIST_FILES"}`, "list_files"},
			{`{"type":"READ_FILE","read_file":{"path":"/etc/passwd","offset":0}}`, "read_file.path"},
			{`{"type":"READ_FILE","read_file":{"path":"x","offset":-1}}`, "body"},
			{`{"type":"LIST_FILES","list_files":{"path":""}}`, "list_files.path"},
		}
		for _, c := range cases {
			code, b := post(t, sa.base, c.body)
			var e struct {
				Message string `json:"message"`
			}
			if code/100 != 4 || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Message, c.mention) {
				t.Errorf("%s: %d %s, want a 4xx naming %q", c.body, code, b, c.mention)
			}
		}
		resp, err := http.Post(sa.base+"/api/v1", "text/plain", strings.NewReader(`{"type":"GET_HEALTH"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("a text/plain call: %s, want 415", resp.Status)
		}
		_, err = sa.unix.Call(ctx, &mesos.AgentOperatorCall{Type: "NO_SUCH_CALL"})
		if !errors.Is(err, client.ErrBadRequest) {
			t.Fatalf("unknown call through the client: %v", err)
		}
		// The agent keeps serving, on both listeners.
		for _, c := range []*client.Agent{sa.tcp, sa.unix} {
			if h, err := c.GetHealth(ctx); err != nil || !h.Healthy {
				t.Fatalf("GET_HEALTH after bad calls: %v %v", h, err)
			}
		}
	})

	t.Run("finished tasks are counted", func(t *testing.T) {
		sa.sched.launch(map[mesos.TaskID]string{"quick": "exit 0"})
		sa.sched.await("quick", mesos.TaskFinished)
		waitFor(t, "slave/tasks_finished", func() bool {
			m, err := sa.tcp.MetricsSnapshot(ctx)
			return err == nil && m["slave/tasks_finished"] == 1 && m["slave/tasks_running"] == 2
		})
	})

	t.Run("control socket raw", func(t *testing.T) {
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", filepath.Join(sa.dir, "agent.sock"))
		}}}
		defer hc.CloseIdleConnections()
		resp, err := hc.Post("http://agent/api/v1", "application/json", strings.NewReader(`{"type":"GET_STATE"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"launched_tasks"`)) {
			t.Fatalf("GET_STATE on the socket: %s %s", resp.Status, b)
		}
	})
}

func post(t *testing.T, base, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(base+"/api/v1", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
