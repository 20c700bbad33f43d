package agent_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/agent"
	"github.com/strata-dc/strata/coord/hostile"
	"github.com/strata-dc/strata/master/mesos"
)

// TestIntegration_HostileInput is the agent's part of issue 9's hostile
// input catalogue: real requests to a real agent running a real task
// whose sandbox holds symlinks out of it. Every case must be refused with
// a 4xx naming the problem (or the connection closed), the agent must
// keep serving, and its /state must not change; slow clients trickle
// beside the catalogue and must be cut.
func TestIntegration_HostileInput(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	dir := newWorkDir(t)
	cfg := agentConfig(t, e.URL().String(), dir)
	cfg.RequestTimeout = 2 * time.Second
	a := startAgent(t, cfg)
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "hostile"})
	s.launch(map[mesos.TaskID]string{
		"writer": "ln -s /etc/passwd passwd; ln -s / root; ln -s ../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../.. up; mkdir sub; echo hi > sub/f; " +
			"while :; do echo line; sleep 1; done",
	})
	s.await("writer", mesos.TaskRunning)
	w, _ := taskOf(a.Agent, "writer")
	sandbox := w.Sandbox
	waitFor(t, "the writer's links", func() bool {
		_, err := os.Stat(filepath.Join(sandbox, "sub", "f"))
		return err == nil
	})
	base := "http://" + a.Addr().String()

	addr := a.Addr().String()
	slow := []*hostile.SlowClient{
		hostile.Slow(t, "slow headers", addr, []byte("GET /state HTTP/1.1\r\nHost: a\r\n"), []byte("X-Slow: a\r\n")),
		hostile.Slow(t, "slow body", addr, []byte("POST /api/v1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"),
			[]byte(`{"type":"GET_HEALTH"}`)),
		hostile.Slow(t, "silent connection", addr, nil, nil),
	}

	tgt := hostile.Target{Base: base,
		Alive: func() error {
			code, body := post(t, base, `{"type":"GET_HEALTH"}`)
			if code != 200 {
				return fmt.Errorf("GET_HEALTH: %d %s", code, body)
			}
			return nil
		},
		Fingerprint: func() (string, error) { return agentFingerprint(base) },
	}
	n := hostile.Run(t, tgt, agentCases(sandbox, string(s.info.ID), string(a.ID())))
	n += hostile.WaitAllClosed(t, "the agent", patience, slow)
	t.Logf("hostile-input catalogue: %d cases against the agent", n)
}

// agentFingerprint is what no refused request may change: the agent's
// identity, resources, frameworks and tasks with their states.
func agentFingerprint(base string) (string, error) {
	resp, err := http.Get(base + "/state")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var st agent.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s; ", st.ID, st.Master, st.Resources)
	for _, f := range st.Frameworks {
		fmt.Fprintf(&b, "framework %s; ", f.ID)
	}
	for _, task := range st.Tasks {
		fmt.Fprintf(&b, "%s=%s pid=%d; ", task.TaskID, task.State, task.PID)
	}
	return b.String(), nil
}

func agentCases(sandbox, fw, agentID string) []hostile.Case {
	var cs []hostile.Case
	add := func(c hostile.Case) { cs = append(cs, c) }
	hdr := func(k, v string) http.Header { return http.Header{k: {v}} }

	// Operator bodies that are not a call.
	for _, b := range []struct{ name, body string }{
		{"empty body", ""},
		{"truncated", `{"type":"GET_ST`},
		{"null", `null`},
		{"array", `[]`},
		{"string", `"GET_STATE"`},
		{"type null", `{"type":null}`},
		{"type number", `{"type":7}`},
		{"unknown type", `{"type":"NOPE"}`},
		{"master-only type", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[]}}`},
		{"trailing garbage", `{"type":"GET_STATE"} xyz`},
		{"invalid UTF-8 type", "{\"type\":\"GET_\xffSTATE\"}"},
		{"deep array nesting", string(hostile.Nested(`{"type":"GET_STATE","x":`, 100000))},
		{"deep object nesting", `{"type":"GET_STATE","x":` + strings.Repeat(`{"a":`, 50000)},
		{"huge number offset", `{"type":"READ_FILE","read_file":{"path":"` + sandbox + `/stdout","offset":1` + strings.Repeat("0", 100000) + `}}`},
		{"duplicate key, last unknown", `{"type":"GET_STATE","type":"NOPE"}`},
		{"list_files missing", `{"type":"LIST_FILES"}`},
		{"list_files wrong type", `{"type":"LIST_FILES","list_files":"/"}`},
		{"read_file missing", `{"type":"READ_FILE"}`},
		{"read_file negative offset", `{"type":"READ_FILE","read_file":{"path":"` + sandbox + `/stdout","offset":-1}}`},
		{"read_file huge offset", `{"type":"READ_FILE","read_file":{"path":"` + sandbox + `/stdout","offset":18446744073709551615}}`},
		{"read_file offset NaN", `{"type":"READ_FILE","read_file":{"path":"` + sandbox + `/stdout","offset":"NaN"}}`},
		{"read_file offset float", `{"type":"READ_FILE","read_file":{"path":"` + sandbox + `/stdout","offset":1e308}}`},
		{"read_file negative length", `{"type":"READ_FILE","read_file":{"path":"` + sandbox + `/stdout","offset":0,"length":-5}}`},
		{"read_file path number", `{"type":"READ_FILE","read_file":{"path":5,"offset":0}}`},
	} {
		add(hostile.Case{Name: "operator " + b.name, Path: "/api/v1", Body: []byte(b.body)})
	}
	add(hostile.Case{Name: "operator body over 1 MiB", Path: "/api/v1", Body: []byte(`{"type":"GET_STATE","x":"` + strings.Repeat("x", 2<<20) + `"}`), Want: 413})

	// Sandbox paths that leave the sandbox or name nothing, on every
	// files API.
	bad := []struct {
		name, path string
		want       int
	}{
		{"empty path", "", 400},
		{"relative path", "etc/passwd", 400},
		{"NUL byte", sandbox + "/std\x00out", 400},
		{"dot-dot out of the sandbox", sandbox + "/../../../../../../etc/passwd", 403},
		{"dot-dot inside", sandbox + "/sub/../stdout", 403},
		{"encoded dot-dot", sandbox + "/%2e%2e/%2e%2e/etc/passwd", 0},
		{"/etc/passwd", "/etc/passwd", 403},
		{"root", "/", 403},
		{"work dir", filepath.Dir(filepath.Dir(sandbox)), 403},
		{"the agent's checkpoint", filepath.Join(sandbox, "..", "..", "..", "..", "..", "..", "..", "meta"), 403},
		{"symlink to /etc/passwd", sandbox + "/passwd", 403},
		{"symlink to /", sandbox + "/root/etc/shadow", 403},
		{"symlink up", sandbox + "/up/etc/passwd", 403},
		{"symlink up to a missing file", sandbox + "/up/no/such/file", 403},
		{"symlink to / and a missing file", sandbox + "/root/no-such-dir/x", 403},
		{"frameworks form with dot-dot", "/frameworks/" + fw + "/executors/writer/runs/latest/../../../../../../../etc/passwd", 403},
		{"frameworks form, unknown framework", "/frameworks/nope/executors/writer/runs/latest/stdout", 404},
		{"frameworks form, traversal in framework id", "/frameworks/..%2f..%2f/executors/writer/runs/latest/stdout", 0},
		{"frameworks form, too short", "/frameworks/" + fw, 403},
		{"missing file", sandbox + "/nope", 404},
		{"backslashes", sandbox + `\..\..\etc\passwd`, 404},
		{"long path", sandbox + "/" + strings.Repeat("a", 5000), 0},
		{"many slashes", sandbox + strings.Repeat("/", 10000) + "stdout/..", 403},
		{"invalid UTF-8", sandbox + "/\xff\xfe", 404},
		{"slaves of another agent", filepath.Join(sandbox, "..", "..", "..", "..", "..", "..", "..", "other-agent", "frameworks", fw, "executors", "writer", "runs", "latest", "stdout"), 404},
	}
	for _, b := range bad {
		add(hostile.Case{Name: "read " + b.name, Path: "/files/read?" + url.Values{"path": {b.path}}.Encode(), Want: b.want})
		if b.name != "missing file" && b.name != "invalid UTF-8" && b.name != "backslashes" {
			add(hostile.Case{Name: "browse " + b.name, Path: "/files/browse?" + url.Values{"path": {b.path}}.Encode(), Want: b.want})
		}
		add(hostile.Case{Name: "download " + b.name, Path: "/files/download?" + url.Values{"path": {b.path}}.Encode(), Want: b.want})
		js, _ := json.Marshal(b.path)
		add(hostile.Case{Name: "READ_FILE " + b.name, Path: "/api/v1", Body: []byte(`{"type":"READ_FILE","read_file":{"path":` + string(js) + `,"offset":0}}`), Want: b.want})
	}
	add(hostile.Case{Name: "LIST_FILES /etc", Path: "/api/v1", Body: []byte(`{"type":"LIST_FILES","list_files":{"path":"/etc"}}`), Want: 403})
	add(hostile.Case{Name: "LIST_FILES dot-dot", Path: "/api/v1", Body: []byte(`{"type":"LIST_FILES","list_files":{"path":"` + sandbox + `/../.."}}`), Want: 403})
	add(hostile.Case{Name: "download a directory", Path: "/files/download?" + url.Values{"path": {sandbox + "/sub"}}.Encode()})

	// Offsets and lengths.
	stdout := url.Values{"path": {sandbox + "/stdout"}}.Encode()
	for _, q := range []string{"offset=-2", "offset=abc", "offset=1e308", "offset=99999999999999999999", "offset=NaN",
		"length=-2", "length=Infinity", "length=0x10", "offset=%zz", "path=%zz"} {
		add(hostile.Case{Name: "read " + q, Path: "/files/read?" + stdout + "&" + q, Want: 400})
	}

	// Methods, paths, headers, framing.
	for _, p := range []string{"/api/v1", "/files/read", "/files/browse", "/files/download", "/monitor/statistics", "/state", "/health"} {
		method := http.MethodPut
		if p != "/api/v1" {
			method = http.MethodPost
		}
		add(hostile.Case{Name: method + " " + p, Method: method, Path: p, Body: []byte("{}"), Want: 405})
	}
	add(hostile.Case{Name: "DELETE /api/v1", Method: http.MethodDelete, Path: "/api/v1", Want: 405})
	// The mux cleans the path and redirects; the cleaned one is no API.
	add(hostile.Case{Name: "dot-dot URL path", Path: "/files/../../etc/passwd", Want: http.StatusTemporaryRedirect})
	add(hostile.Case{Name: "unknown path", Path: "/etc/passwd", Want: 404})
	for _, ct := range []string{"text/plain", "application/x-protobuf", "application/json;;;", "garbage"} {
		add(hostile.Case{Name: "Content-Type " + ct, Path: "/api/v1", Body: []byte(`{"type":"GET_STATE"}`), Header: hdr("Content-Type", ct), Want: 415})
	}
	for _, acc := range []string{"application/x-protobuf", "text/html", "!!!"} {
		add(hostile.Case{Name: "Accept " + acc, Path: "/api/v1", Body: []byte(`{"type":"GET_STATE"}`), Header: hdr("Accept", acc), Want: 406})
	}
	add(hostile.Case{Name: "2 MiB header", Path: "/state", Header: hdr("X-Flood", strings.Repeat("a", 2<<20)), Want: 431})
	flood := http.Header{}
	for i := 0; i < 60000; i++ {
		flood.Add(fmt.Sprintf("X-F%d", i), "aaaaaaaaaa")
	}
	add(hostile.Case{Name: "60000 headers", Path: "/state", Header: flood, Want: 431})
	add(hostile.Case{Name: "garbage request line", Raw: []byte("\x16\x03\x01\x00\x05hello\r\n\r\n")})
	add(hostile.Case{Name: "HTTP/1.1 without Host", Raw: []byte("GET /health HTTP/1.1\r\n\r\n"), Want: 400})
	add(hostile.Case{Name: "truncated body (half-close)", HalfClose: true,
		Raw: []byte("POST /api/v1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":\"GET_")})
	add(hostile.Case{Name: "two Content-Lengths", Raw: []byte("POST /api/v1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")})
	add(hostile.Case{Name: "bad chunk size", Raw: []byte("POST /api/v1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")})
	add(hostile.Case{Name: "NUL in path", Raw: []byte("GET /sta\x00te HTTP/1.1\r\nHost: a\r\n\r\n")})
	_ = agentID
	return cs
}
