package master_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/hostile"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/mesos"
)

// hostileRequestTimeout is the master's RequestTimeout in the catalogue,
// short so that the slow clients are cut within the test.
const hostileRequestTimeout = 2 * time.Second

// TestIntegration_HostileInput is the master's part of issue 9's hostile
// input catalogue: every case is a real request to a leading master with
// an agent, a subscribed framework and a running task. Each must be
// refused with a 4xx naming the problem (or the connection closed), the
// master must keep serving, and GET_STATE, weights and quota must not
// change. Slow clients trickle beside the catalogue and must be cut.
func TestIntegration_HostileInput(t *testing.T) {
	e := startCoord(t)
	dir := t.TempDir()
	m, err := master.New(master.Config{ZK: e.URL().String(), WorkDir: dir, IP: "127.0.0.1",
		AllocationInterval: 100 * time.Millisecond, SessionTimeout: 2 * time.Second, Logger: quiet,
		RequestTimeout: hostileRequestTimeout})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("master.Run: %v", err)
		}
	})
	base := "http://" + m.Addr().String()
	waitFor(t, "leadership", m.Leading)
	agent := startAgent(t, []string{base}, "sim-1", 0)
	waitFor(t, "agent subscribed", func() bool { return agent.ID() != "" })
	s := newTestScheduler(t, []string{base}, mesos.FrameworkInfo{User: "test", Name: "hostile"})
	s.subscribe(patience)
	s.launchOne("victim", "cpus:1;mem:128")
	s.ack(s.update("victim", patience, mesos.TaskRunning))
	waitFor(t, "the running task in GET_STATE", func() bool {
		fp, _ := masterFingerprint(base)
		return strings.Contains(fp, "victim=TASK_RUNNING")
	})

	// Slow clients start first and trickle through the whole catalogue.
	addr := m.Addr().String()
	slow := []*hostile.SlowClient{
		hostile.Slow(t, "slow headers", addr, []byte("POST /api/v1 HTTP/1.1\r\nHost: m\r\n"), []byte("X-Slow: a\r\n")),
		hostile.Slow(t, "slow body", addr, []byte("POST /api/v1 HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"),
			[]byte(`{"type":"GET_HEALTH"}`)),
		hostile.Slow(t, "slow scheduler body", addr, []byte("POST /api/v1/scheduler HTTP/1.1\r\nHost: m\r\nContent-Length: 1000\r\n\r\n{"), []byte(" ")),
		hostile.Slow(t, "silent connection", addr, nil, nil),
		hostile.Slow(t, "slow request line", addr, []byte("G"), []byte("ET /health HTTP/1.1")),
	}

	tgt := hostile.Target{Base: base,
		Alive: func() error {
			code, _, body := operator(t, http.DefaultClient, base, `{"type":"GET_HEALTH"}`)
			if code != 200 {
				return fmt.Errorf("GET_HEALTH: %d %s", code, body)
			}
			// GET_HEALTH is answered by the HTTP layer; a call that only
			// the leader loop can answer (and refuses, changing nothing)
			// shows the loop is still turning.
			code, _, body = operator(t, http.DefaultClient, base, `{"type":"TEARDOWN","teardown":{"framework_id":{"value":"alive-check"}}}`)
			if code != 400 || !strings.Contains(body, "unknown framework") {
				return fmt.Errorf("the leader loop did not answer: %d %s", code, body)
			}
			return nil
		},
		Fingerprint: func() (string, error) { return masterFingerprint(base) },
	}
	cases := masterCases(string(s.info.ID), s.stream, string(agent.ID()))
	n := hostile.Run(t, tgt, cases)
	n += hostile.WaitAllClosed(t, "the master", patience, slow)
	t.Logf("hostile-input catalogue: %d cases against the master", n)
}

// masterFingerprint is what no refused request may change: agents and
// their activation and drain, frameworks, tasks and their states, weights
// and quota.
func masterFingerprint(base string) (string, error) {
	get := func(call string) (mesos.OperatorResponse, error) {
		var out mesos.OperatorResponse
		resp, err := http.Post(base+"/api/v1", "application/json", strings.NewReader(`{"type":"`+call+`"}`))
		if err != nil {
			return out, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return out, fmt.Errorf("%s: %d", call, resp.StatusCode)
		}
		return out, json.NewDecoder(resp.Body).Decode(&out)
	}
	st, err := get("GET_STATE")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, a := range st.GetState.GetAgents.Agents {
		fmt.Fprintf(&b, "agent %s active=%v deactivated=%v drain=%v; ", a.AgentInfo.ID, a.Active, a.Deactivated, a.DrainInfo != nil)
	}
	fmt.Fprintf(&b, "recovered=%d; ", len(st.GetState.GetAgents.RecoveredAgents))
	for _, f := range st.GetState.GetFrameworks.Frameworks {
		fmt.Fprintf(&b, "framework %s active=%v roles=%v; ", f.FrameworkInfo.ID, f.Active, f.FrameworkInfo.Roles)
	}
	fmt.Fprintf(&b, "completed frameworks=%d; ", len(st.GetState.GetFrameworks.CompletedFrameworks))
	tasks := st.GetState.GetTasks
	for _, list := range [][]mesos.Task{tasks.Tasks, tasks.UnreachableTasks, tasks.CompletedTasks} {
		for _, task := range list {
			fmt.Fprintf(&b, "%s=%s; ", task.TaskID, task.State)
		}
		b.WriteString("| ")
	}
	for _, call := range []string{"GET_WEIGHTS", "GET_QUOTA"} {
		r, err := get(call)
		if err != nil {
			return "", err
		}
		j, _ := json.Marshal(r)
		b.Write(j)
	}
	return b.String(), nil
}

// masterCases is the catalogue; fw, stream and agent name the live
// framework, its stream and the agent, so that calls get past the
// checks that only a stranger would fail.
func masterCases(fw, stream, agent string) []hostile.Case {
	var cs []hostile.Case
	add := func(c hostile.Case) { cs = append(cs, c) }
	jsonHdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	withStream := jsonHdr("Mesos-Stream-Id", stream)

	// Bodies that are not a call at all, on each call API.
	notCalls := []struct{ name, body string }{
		{"empty body", ""},
		{"truncated object", `{"type":"GET_ST`},
		{"lone brace", `{`},
		{"null", `null`},
		{"array", `[]`},
		{"string", `"GET_STATE"`},
		{"number", `42`},
		{"type null", `{"type":null}`},
		{"type number", `{"type":5}`},
		{"type object", `{"type":{"value":"GET_STATE"}}`},
		{"unknown type", `{"type":"NOPE"}`},
		{"lower-case type", `{"type":"get_state"}`},
		{"trailing garbage", `{"type":"GET_STATE"} xyz`},
		{"two documents", `{"type":"GET_STATE"}{"type":"GET_STATE"}`},
		{"invalid UTF-8 type", "{\"type\":\"GET_\xff\xfeSTATE\"}"},
		{"NUL in type", "{\"type\":\"GET_STATE\x00\"}"},
		{"deep array nesting", string(hostile.Nested(`{"type":"GET_STATE","x":`, 100000))},
		{"deep object nesting", `{"type":"GET_STATE","x":` + strings.Repeat(`{"a":`, 50000)},
		{"huge number", `{"type":"GET_STATE","x":1` + strings.Repeat("0", 100000) + `}`},
		{"huge string type", `{"type":"` + strings.Repeat("A", 1<<20) + `"}`},
		{"duplicate key, last unknown", `{"type":"GET_STATE","type":"NOPE"}`},
		{"BOM prefix", "\xef\xbb\xbf{\"type\":\"GET_STATE\"}"},
	}
	for _, api := range []string{"/api/v1", "/api/v1/scheduler", "/api/v1/agent"} {
		for _, nc := range notCalls {
			if api == "/api/v1" && (nc.name == "deep object nesting" || nc.name == "huge number") {
				continue // the operator API is covered once below with its own type
			}
			add(hostile.Case{Name: api + " " + nc.name, Path: api, Body: []byte(nc.body)})
		}
	}

	// Sizes and framing.
	add(hostile.Case{Name: "operator body over 4 MiB", Path: "/api/v1", Body: append([]byte(`{"type":"GET_STATE","x":"`), make([]byte, 5<<20)...), Want: 413})
	add(hostile.Case{Name: "scheduler body over 4 MiB", Path: "/api/v1/scheduler", Body: []byte(`{"type":"SUBSCRIBE","x":"` + strings.Repeat("x", 5<<20) + `"}`), Want: 413})
	add(hostile.Case{Name: "agent body over 4 MiB", Path: "/api/v1/agent", Body: []byte(strings.Repeat(" ", 5<<20)), Want: 413})
	add(hostile.Case{Name: "truncated body (half-close)", HalfClose: true,
		Raw: []byte("POST /api/v1 HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":\"GET_")})
	add(hostile.Case{Name: "absurd Content-Length", HalfClose: true,
		Raw: []byte("POST /api/v1 HTTP/1.1\r\nHost: m\r\nContent-Length: 99999999999999999999\r\n\r\n{}")})
	add(hostile.Case{Name: "negative Content-Length", Raw: []byte("POST /api/v1 HTTP/1.1\r\nHost: m\r\nContent-Length: -5\r\n\r\n{}")})
	add(hostile.Case{Name: "two Content-Lengths", Raw: []byte("POST /api/v1 HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")})
	add(hostile.Case{Name: "bad chunk size", Raw: []byte("POST /api/v1 HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")})
	add(hostile.Case{Name: "chunked body over 4 MiB", Raw: append([]byte("POST /api/v1 HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\n\r\n600000\r\n"),
		make([]byte, 6<<20)...), Want: 413})
	add(hostile.Case{Name: "garbage request line", Raw: []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")})
	add(hostile.Case{Name: "HTTP/1.1 without Host", Raw: []byte("GET /health HTTP/1.1\r\n\r\n"), Want: 400})
	add(hostile.Case{Name: "NUL in path", Raw: []byte("GET /he\x00alth HTTP/1.1\r\nHost: m\r\n\r\n")})
	add(hostile.Case{Name: "header without colon", Raw: []byte("GET /health HTTP/1.1\r\nHost: m\r\nnocolon\r\n\r\n"), Want: 400})
	add(hostile.Case{Name: "header name with space", Raw: []byte("GET /health HTTP/1.1\r\nHost: m\r\nBad Name: x\r\n\r\n"), Want: 400})
	// 505 is HTTP's own answer to a version it does not speak.
	add(hostile.Case{Name: "unknown HTTP version", Raw: []byte("GET /health HTTP/9.9\r\nHost: m\r\n\r\n"), Want: 505})

	// Headers.
	add(hostile.Case{Name: "2 MiB header", Path: "/api/v1", Body: []byte(`{"type":"GET_HEALTH"}`),
		Header: jsonHdr("X-Flood", strings.Repeat("a", 2<<20)), Want: 431})
	flood := http.Header{}
	for i := 0; i < 60000; i++ {
		flood.Add(fmt.Sprintf("X-F%d", i), "aaaaaaaaaa")
	}
	add(hostile.Case{Name: "60000 headers", Path: "/api/v1", Body: []byte(`{"type":"GET_HEALTH"}`), Header: flood, Want: 431})
	add(hostile.Case{Name: "huge Mesos-Stream-Id", Path: "/api/v1/scheduler",
		Body: []byte(`{"type":"REVIVE","framework_id":{"value":"` + fw + `"}}`), Header: jsonHdr("Mesos-Stream-Id", strings.Repeat("z", 64<<10))})
	for _, ct := range []string{"text/plain", "application/x-protobuf", "application/json;;;", "garbage", "application/jsonx", "multipart/form-data; boundary=x"} {
		add(hostile.Case{Name: "Content-Type " + ct, Path: "/api/v1", Body: []byte(`{"type":"GET_STATE"}`), Header: jsonHdr("Content-Type", ct), Want: 415})
		add(hostile.Case{Name: "scheduler Content-Type " + ct, Path: "/api/v1/scheduler",
			Body: []byte(`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}`), Header: jsonHdr("Content-Type", ct), Want: 415})
	}
	for _, acc := range []string{"application/x-protobuf", "text/html", "image/png, text/plain", "!!!"} {
		add(hostile.Case{Name: "Accept " + acc, Path: "/api/v1", Body: []byte(`{"type":"GET_STATE"}`), Header: jsonHdr("Accept", acc), Want: 406})
	}
	add(hostile.Case{Name: "scheduler Accept protobuf", Path: "/api/v1/scheduler", Want: 406,
		Body: []byte(`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}`), Header: jsonHdr("Accept", "application/x-protobuf")})

	// Methods and paths.
	for _, p := range []string{"/api/v1", "/api/v1/scheduler", "/api/v1/agent"} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			add(hostile.Case{Name: method + " " + p, Method: method, Path: p, Want: 405})
		}
	}
	add(hostile.Case{Name: "POST /state", Method: http.MethodPost, Path: "/state", Body: []byte(`{}`), Want: 405})
	add(hostile.Case{Name: "unknown path", Path: "/api/v2/scheduler", Want: 404})
	for _, p := range []string{"/metrics", "/metrics/snapshot", "/health", "/state.json"} {
		add(hostile.Case{Name: "POST " + p, Method: http.MethodPost, Path: p, Body: []byte(`{}`), Want: 405})
	}
	add(hostile.Case{Name: "2 MiB query on /state", Path: "/state?x=" + strings.Repeat("a", 2<<20), Want: 431})
	add(hostile.Case{Name: "2 MiB query on /redirect", Path: "/redirect?x=" + strings.Repeat("a", 2<<20), Want: 431})
	add(hostile.Case{Name: "long unknown path", Path: "/" + strings.Repeat("a/", 20000), Want: 404})

	// Operator calls with bad values; each names its field.
	agentRef := `{"value":"` + agent + `"}`
	operatorBad := []struct{ name, body, mention string }{
		{"weight -1", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":-1}]}}`, "weight"},
		{"weight 0", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":0}]}}`, "weight"},
		{"weight NaN string", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":"NaN"}]}}`, "weight"},
		{"weight Infinity string", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":"Infinity"}]}}`, "weight"},
		{"weight bare NaN", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":NaN}]}}`, ""},
		{"weight 1e999", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":1e999}]}}`, "weight"},
		{"weight string", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":"2"}]}}`, "weight"},
		{"duplicate weight roles", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":2},{"role":"eng","weight":3}]}}`, "eng"},
		{"duplicate quota roles", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"eng","limits":{"cpus":{"value":1}}},{"role":"eng","limits":{"cpus":{"value":2}}}]}}`, "eng"},
		{"quota: one good config, one guarantee above its limit", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"ok","limits":{"cpus":{"value":1}}},{"role":"bad","guarantees":{"cpus":{"value":5}},"limits":{"cpus":{"value":1}}}]}}`, "guarantee"},
		{"weights missing", `{"type":"UPDATE_WEIGHTS"}`, "update_weights"},
		{"weights wrong type", `{"type":"UPDATE_WEIGHTS","update_weights":"all"}`, "update_weights"},
		{"weight_infos object", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":{"role":"eng"}}}`, "weight_infos"},
		{"weight role empty", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"","weight":2}]}}`, "role"},
		{"weight role traversal", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"../etc","weight":2}]}}`, "role"},
		{"weight role dot", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":".","weight":2}]}}`, "role"},
		{"weight role space", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"a b","weight":2}]}}`, "role"},
		{"weight role dash", `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"-x","weight":2}]}}`, "role"},
		{"weight role invalid UTF-8", "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":[{\"role\":\"\xff\",\"weight\":2}]}}", "UTF-8"},
		{"quota limit -1", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"eng","limits":{"cpus":{"value":-1}}}]}}`, "cpus"},
		{"quota limit NaN", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"eng","limits":{"cpus":{"value":"NaN"}}}]}}`, "cpus"},
		{"quota limit Infinity", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"eng","limits":{"mem":{"value":"Infinity"}}}]}}`, "mem"},
		{"quota limit string", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"eng","limits":{"mem":{"value":"lots"}}}]}}`, "limits"},
		{"quota role missing", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"limits":{"cpus":{"value":1}}}]}}`, "role"},
		{"quota role invalid", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"a/../b","limits":{"cpus":{"value":1}}}]}}`, "role"},
		{"quota missing", `{"type":"UPDATE_QUOTA"}`, "update_quota"},
		{"quota configs wrong type", `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":"x"}}`, "quota_configs"},
		{"reserve unknown agent", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"nope"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, "nope"},
		{"reserve missing agent", `{"type":"RESERVE_RESOURCES","reserve_resources":{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, "agent_id"},
		{"reserve negative cpus", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, "scalar"},
		{"reserve NaN cpus", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":"NaN"},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, "scalar"},
		{"reserve 1e308 cpus", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1e308},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, ""},
		{"reserve more than the agent has", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":100},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, ""},
		{"reserve unknown resource type", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"cpus","type":"BOGUS","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, "type"},
		{"reserve unknown reservation type", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"SOMETIMES","role":"ops"}]}]}}`, "type"},
		{"reserve without reservation", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}}`, ""},
		{"reserve scalar without value", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"cpus","type":"SCALAR","reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, "scalar"},
		{"reserve inverted range", `{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":32000,"end":31000}]},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, "range"},
		{"unreserve what is not reserved", `{"type":"UNRESERVE_RESOURCES","unreserve_resources":{"agent_id":` + agentRef + `,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"ops"}]}]}}`, ""},
		{"deactivate unknown agent", `{"type":"DEACTIVATE_AGENT","deactivate_agent":{"agent_id":{"value":"nope"}}}`, "nope"},
		{"deactivate traversal agent id", `{"type":"DEACTIVATE_AGENT","deactivate_agent":{"agent_id":{"value":"../../registry"}}}`, "agent_id"},
		{"deactivate empty agent id", `{"type":"DEACTIVATE_AGENT","deactivate_agent":{"agent_id":{"value":""}}}`, "agent_id"},
		{"deactivate missing body", `{"type":"DEACTIVATE_AGENT"}`, "deactivate_agent"},
		{"deactivate agent id number", `{"type":"DEACTIVATE_AGENT","deactivate_agent":{"agent_id":{"value":7}}}`, "agent_id"},
		{"drain unknown agent", `{"type":"DRAIN_AGENT","drain_agent":{"agent_id":{"value":"nope"}}}`, "nope"},
		{"drain negative grace", `{"type":"DRAIN_AGENT","drain_agent":{"agent_id":` + agentRef + `,"max_grace_period":{"seconds":-5}}}`, "max_grace_period"},
		{"drain grace wrong type", `{"type":"DRAIN_AGENT","drain_agent":{"agent_id":` + agentRef + `,"max_grace_period":"forever"}}`, "max_grace_period"},
		{"mark unknown agent gone", `{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"nope"}}}`, "nope"},
		{"teardown unknown framework", `{"type":"TEARDOWN","teardown":{"framework_id":{"value":"nope"}}}`, "nope"},
		{"teardown missing framework", `{"type":"TEARDOWN","teardown":{}}`, "framework_id"},
		{"reactivate an active agent twice is fine, unknown is not", `{"type":"REACTIVATE_AGENT","reactivate_agent":{"agent_id":{"value":"nope"}}}`, "nope"},
	}
	for _, b := range operatorBad {
		add(hostile.Case{Name: "operator " + b.name, Path: "/api/v1", Body: []byte(b.body), Mention: b.mention})
	}

	// Scheduler calls. SUBSCRIBE opens nothing when it is refused; the
	// others come with the live stream and framework.
	fwRef := `"framework_id":{"value":"` + fw + `"}`
	launch := func(res string) string {
		return `{"type":"ACCEPT",` + fwRef + `,"accept":{"offer_ids":[{"value":"o1"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"` + agent + `"},"resources":` + res + `,"command":{"value":"true"}}]}}]}}`
	}
	schedBad := []struct {
		name, body string
		hdr        http.Header
		mention    string
	}{
		{"subscribe without body", `{"type":"SUBSCRIBE"}`, nil, "subscribe"},
		{"subscribe without framework_info", `{"type":"SUBSCRIBE","subscribe":{}}`, nil, "framework_info"},
		{"subscribe role traversal", `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","roles":["../x"],"capabilities":[{"type":"MULTI_ROLE"}]}}}`, nil, "role"},
		{"subscribe duplicate roles", `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","roles":["a","a"],"capabilities":[{"type":"MULTI_ROLE"}]}}}`, nil, "duplicate"},
		{"subscribe unknown capability", `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","capabilities":[{"type":"TELEPORT"}]}}}`, nil, "capabilit"},
		{"subscribe failover NaN", `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":"NaN"}}}`, nil, "failover_timeout"},
		{"subscribe failover 1e308", `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":1e308}}}`, nil, "failover_timeout"},
		{"subscribe failover negative", `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":-1}}}`, nil, "failover_timeout"},
		{"subscribe id mismatch", `{"type":"SUBSCRIBE","framework_id":{"value":"a"},"subscribe":{"framework_info":{"user":"u","name":"n","id":{"value":"b"}}}}`, nil, "framework_id"},
		{"subscribe invalid UTF-8 name", "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"u\",\"name\":\"\xff\xfe\"}}}", nil, ""},
		{"revive without stream", `{"type":"REVIVE",` + fwRef + `}`, nil, "Mesos-Stream-Id"},
		{"revive with a wrong stream", `{"type":"REVIVE",` + fwRef + `}`, jsonHdr("Mesos-Stream-Id", "not-a-stream"), ""},
		{"revive with an invalid UTF-8 stream", `{"type":"REVIVE",` + fwRef + `}`, jsonHdr("Mesos-Stream-Id", "\xff\xfe"), ""},
		{"revive with two streams", `{"type":"REVIVE",` + fwRef + `}`, jsonHdr("Mesos-Stream-Id", "x", "Mesos-Stream-Id", stream), ""},
		{"revive for an unknown framework", `{"type":"REVIVE","framework_id":{"value":"nope"}}`, withStream, ""},
		{"revive without framework", `{"type":"REVIVE"}`, withStream, "framework_id"},
		{"teardown without framework", `{"type":"TEARDOWN"}`, withStream, "framework_id"},
		{"kill without body", `{"type":"KILL",` + fwRef + `}`, withStream, "kill"},
		{"kill without task_id", `{"type":"KILL",` + fwRef + `,"kill":{}}`, withStream, "task_id"},
		{"kill task id with slash", `{"type":"KILL",` + fwRef + `,"kill":{"task_id":{"value":"../victim"}}}`, withStream, "task_id"},
		{"acknowledge short uuid", `{"type":"ACKNOWLEDGE",` + fwRef + `,"acknowledge":{"agent_id":{"value":"` + agent + `"},"task_id":{"value":"victim"},"uuid":"AAEC"}}`, withStream, "uuid"},
		{"acknowledge uuid not base64", `{"type":"ACKNOWLEDGE",` + fwRef + `,"acknowledge":{"agent_id":{"value":"` + agent + `"},"task_id":{"value":"victim"},"uuid":"!!!!"}}`, withStream, "base64"},
		{"acknowledge without task", `{"type":"ACKNOWLEDGE",` + fwRef + `,"acknowledge":{"agent_id":{"value":"` + agent + `"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}}`, withStream, "task_id"},
		{"accept without body", `{"type":"ACCEPT",` + fwRef + `}`, withStream, "accept"},
		{"launch cpus 1e308", launch(`[{"name":"cpus","type":"SCALAR","scalar":{"value":1e308}}]`), withStream, ""},
		{"launch mem -1", launch(`[{"name":"mem","type":"SCALAR","scalar":{"value":-1}}]`), withStream, "scalar"},
		{"launch cpus NaN string", launch(`[{"name":"cpus","type":"SCALAR","scalar":{"value":"NaN"}}]`), withStream, "scalar"},
		{"launch cpus Infinity string", launch(`[{"name":"cpus","type":"SCALAR","scalar":{"value":"Infinity"}}]`), withStream, "scalar"},
		{"launch cpus -Infinity string", launch(`[{"name":"cpus","type":"SCALAR","scalar":{"value":"-Infinity"}}]`), withStream, "scalar"},
		{"launch unknown resource type", launch(`[{"name":"cpus","type":"QUANTUM","scalar":{"value":1}}]`), withStream, "type"},
		{"launch resource without name", launch(`[{"type":"SCALAR","scalar":{"value":1}}]`), withStream, "name"},
		{"launch ranges wrong type", launch(`[{"name":"ports","type":"RANGES","ranges":"31000-32000"}]`), withStream, "ranges"},
		{"launch resources object", launch(`{"cpus":1}`), withStream, "resources"},
		{"unknown operation type", `{"type":"ACCEPT",` + fwRef + `,"accept":{"offer_ids":[{"value":"o1"}],"operations":[{"type":"DETONATE"}]}}`, withStream, "type"},
		{"decline offer ids wrong type", `{"type":"DECLINE",` + fwRef + `,"decline":{"offer_ids":"o1"}}`, withStream, "offer_ids"},
		{"decline refuse_seconds NaN", `{"type":"DECLINE",` + fwRef + `,"decline":{"offer_ids":[{"value":"o1"}],"filters":{"refuse_seconds":"NaN"}}}`, withStream, "refuse_seconds"},
		{"reconcile wrong type", `{"type":"RECONCILE",` + fwRef + `,"reconcile":{"tasks":{"task_id":"x"}}}`, withStream, "tasks"},
	}
	for _, b := range schedBad {
		add(hostile.Case{Name: "scheduler " + b.name, Path: "/api/v1/scheduler", Body: []byte(b.body), Header: b.hdr, Mention: b.mention})
	}

	// Agent calls from a stranger: none may register or update anything.
	agentBad := []struct{ name, body, mention string }{
		{"subscribe without agent_info", `{"type":"SUBSCRIBE","subscribe":{}}`, "agent_info"},
		{"subscribe without hostname", `{"type":"SUBSCRIBE","subscribe":{"agent_info":{"resources":[]}}}`, "hostname"},
		{"subscribe cpus -4", `{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-4}}]}}}`, "scalar"},
		{"subscribe cpus NaN", `{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":"NaN"}}]}}}`, "scalar"},
		{"subscribe unknown resource type", `{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[{"name":"cpus","type":"FLUX"}]}}}`, "type"},
		{"subscribe unknown capability", `{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h"},"capabilities":[{"type":"WARP"}]}}`, "type"},
		{"update without stream", `{"type":"UPDATE","update":{"status":{"task_id":{"value":"victim"},"state":"TASK_FAILED","agent_id":{"value":"` + agent + `"},"source":"SOURCE_EXECUTOR","uuid":"AAECAwQFBgcICQoLDA0ODw=="}}}`, ""},
		{"update unknown task state", `{"type":"UPDATE","update":{"status":{"task_id":{"value":"victim"},"state":"TASK_EXPLODED"}}}`, "state"},
		{"update state number", `{"type":"UPDATE","update":{"status":{"task_id":{"value":"victim"},"state":3}}}`, "state"},
		{"update without status", `{"type":"UPDATE","update":{}}`, "status"},
		{"update unknown source", `{"type":"UPDATE","update":{"status":{"task_id":{"value":"victim"},"state":"TASK_FAILED","source":"SOURCE_GOD"}}}`, "source"},
		{"update unknown reason", `{"type":"UPDATE","update":{"status":{"task_id":{"value":"victim"},"state":"TASK_FAILED","reason":"REASON_BECAUSE"}}}`, "reason"},
	}
	for _, b := range agentBad {
		add(hostile.Case{Name: "agent " + b.name, Path: "/api/v1/agent", Body: []byte(b.body), Mention: b.mention})
	}
	// The same UPDATE from a stranger naming a made-up stream.
	add(hostile.Case{Name: "agent update with a forged stream", Path: "/api/v1/agent", Header: jsonHdr("Mesos-Stream-Id", "forged"),
		Body: []byte(`{"type":"UPDATE","update":{"status":{"task_id":{"value":"victim"},"state":"TASK_FAILED","agent_id":{"value":"` + agent + `"},"source":"SOURCE_EXECUTOR","uuid":"AAECAwQFBgcICQoLDA0ODw=="}}}`)})
	add(hostile.Case{Name: "agent update with the framework's stream", Path: "/api/v1/agent", Header: withStream,
		Body: []byte(`{"type":"UPDATE","update":{"status":{"task_id":{"value":"victim"},"state":"TASK_FAILED","agent_id":{"value":"` + agent + `"},"source":"SOURCE_EXECUTOR","uuid":"AAECAwQFBgcICQoLDA0ODw=="}}}`)})
	return cs
}
