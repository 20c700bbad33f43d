package marathon_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/strata-dc/strata/coord/hostile"
)

// TestIntegration_HostileInput is marathon's part of issue 9's hostile
// input catalogue: every case is a real request to a leading marathon
// holding a group of two apps and an app whose deployment cannot finish
// (its master has no agents). Each must be refused with a 4xx naming the
// field (Marathon's {"message","details":[{"path","errors"}]} body), or
// the connection closed; marathon must keep serving; and its apps, groups
// and deployments must not change. Slow clients trickle beside the
// catalogue and must be cut by marathon.
func TestIntegration_HostileInput(t *testing.T) {
	c := startCluster(t)
	m, _ := c.startMarathon("marathon")
	a := newAPI(t, m)
	waitFor(t, "marathon to lead", m.Leading)

	a.must(http.StatusCreated, http.MethodPost, "/v2/groups", []byte(`{"id":"/hostile","apps":[
		{"id":"web","cmd":"sleep 100","instances":0,"cpus":0.1,"mem":16,"dependencies":["/hostile/db"]},
		{"id":"db","cmd":"sleep 100","instances":0,"cpus":0.1,"mem":16}]}`), nil)
	waitFor(t, "the group's deployment", func() bool { return a.settled("/hostile/web", 0) && a.settled("/hostile/db", 0) })
	// An app that needs an offer: its deployment stays, locking the app.
	a.must(http.StatusCreated, http.MethodPost, "/v2/apps", []byte(`{"id":"/locked","cmd":"sleep 100","instances":1,"cpus":0.1,"mem":16}`), nil)
	var deps []struct {
		ID string `json:"id"`
	}
	a.must(http.StatusOK, http.MethodGet, "/v2/deployments", nil, &deps)
	if len(deps) != 1 {
		t.Fatalf("want the locked app's deployment, got %+v", deps)
	}

	addr := m.Addr().String()
	slow := []*hostile.SlowClient{
		hostile.Slow(t, "slow headers", addr, []byte("POST /v2/apps HTTP/1.1\r\nHost: m\r\n"), []byte("X-Slow: a\r\n")),
		hostile.Slow(t, "slow app body", addr, []byte("POST /v2/apps HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"), []byte(" ")),
		hostile.Slow(t, "slow group body", addr, []byte("PUT /v2/groups/hostile HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"),
			[]byte(`{"scaleBy":2}`)),
		hostile.Slow(t, "slow chunked body", addr, []byte("POST /v2/apps HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"),
			[]byte("1\r\n \r\n")),
		hostile.Slow(t, "silent connection", addr, nil, nil),
		hostile.Slow(t, "slow request line", addr, []byte("G"), []byte("ET /v2/apps HTTP/1.1")),
	}

	tgt := hostile.Target{Base: a.base,
		// /ping is answered without the leader's lock, /v2/apps with it.
		Alive:       hostile.AliveGET(a.base, "/ping", "/v2/apps"),
		Fingerprint: func() (string, error) { return marathonFingerprint(a.base) },
	}
	n := hostile.Run(t, tgt, marathonCases(deps[0].ID))
	n += hostile.WaitAllClosed(t, "marathon", patience, slow)
	t.Logf("hostile-input catalogue: %d cases against marathon", n)
}

// marathonFingerprint is what no refused request may change: every group
// with its dependencies, every app with its version, instances and
// definition, and the running deployments.
func marathonFingerprint(base string) (string, error) {
	get := func(path string, out any) error {
		resp, err := http.Get(base + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(out)
	}
	type group struct {
		ID           string            `json:"id"`
		Dependencies []string          `json:"dependencies"`
		Apps         []json.RawMessage `json:"apps"`
		Groups       []json.RawMessage `json:"groups"`
	}
	var b strings.Builder
	var walk func(raw json.RawMessage) error
	walk = func(raw json.RawMessage) error {
		var g group
		if err := json.Unmarshal(raw, &g); err != nil {
			return err
		}
		fmt.Fprintf(&b, "group %s deps=%v; ", g.ID, g.Dependencies)
		for _, ar := range g.Apps {
			// The definition, without the counters a task may move.
			var def map[string]any
			if err := json.Unmarshal(ar, &def); err != nil {
				return err
			}
			for _, k := range []string{"tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments"} {
				delete(def, k)
			}
			j, _ := json.Marshal(def)
			fmt.Fprintf(&b, "app %s; ", j)
		}
		for _, sub := range g.Groups {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	var root json.RawMessage
	if err := get("/v2/groups", &root); err != nil {
		return "", err
	}
	if err := walk(root); err != nil {
		return "", err
	}
	var deps []struct {
		ID            string   `json:"id"`
		AffectedApps  []string `json:"affectedApps"`
		CurrentStep   int      `json:"currentStep"`
		TotalSteps    int      `json:"totalSteps"`
		CurrentAction []any    `json:"currentActions"`
	}
	if err := get("/v2/deployments", &deps); err != nil {
		return "", err
	}
	ids := []string{}
	for _, d := range deps {
		ids = append(ids, fmt.Sprintf("%s%v", d.ID, d.AffectedApps))
	}
	slices.Sort(ids)
	fmt.Fprintf(&b, "deployments %v", ids)
	return b.String(), nil
}

// appDef is a valid app definition with some keys replaced (a value of ""
// removes the key); values are raw JSON so that a case can send what no
// Go value marshals to (1e999, a bare NaN, invalid UTF-8).
func appDef(kv ...string) []byte {
	fields := map[string]string{"id": `"/hostile/new"`, "cmd": `"sleep 100"`, "instances": `0`, "cpus": `0.1`, "mem": `16`}
	order := []string{"id", "cmd", "instances", "cpus", "mem"}
	for i := 0; i+1 < len(kv); i += 2 {
		if _, ok := fields[kv[i]]; !ok {
			order = append(order, kv[i])
		}
		fields[kv[i]] = kv[i+1]
	}
	var parts []string
	for _, k := range order {
		if v := fields[k]; v != "" {
			parts = append(parts, fmt.Sprintf("%q:%s", k, v))
		}
	}
	return []byte("{" + strings.Join(parts, ",") + "}")
}

// marathonCases is the catalogue; deployment is the running deployment
// of the locked app.
func marathonCases(deployment string) []hostile.Case {
	var cs []hostile.Case
	add := func(c hostile.Case) { cs = append(cs, c) }
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}

	// Bodies that are not an app, group or update at all, on every
	// endpoint that reads one. Each endpoint gives the opening of a valid
	// body up to a number (pre) and its closing (post), so that a case
	// breaks the body in one place only.
	bodyEndpoints := []struct{ method, path, pre, post string }{
		{http.MethodPost, "/v2/apps", `{"id":"/hostile/new","cmd":"sleep 1","instances":`, `}`},
		{http.MethodPut, "/v2/apps/hostile/web", `{"cmd":"sleep 1","instances":`, `}`},
		{http.MethodPost, "/v2/groups", `{"id":"/other","apps":[{"id":"a","cmd":"sleep 1","instances":`, `}]}`},
		{http.MethodPut, "/v2/groups/hostile", `{"apps":[{"id":"web","cmd":"sleep 1","instances":`, `}]}`},
	}
	for _, e := range bodyEndpoints {
		valid := e.pre + "0" + e.post
		for _, nj := range []struct{ name, body string }{
			{"empty body", ""},
			{"truncated", valid[:len(valid)-8]},
			{"lone brace", `{`},
			{"null", `null`},
			{"string", `"app"`},
			{"number", `42`},
			{"array", `[]`},
			{"trailing garbage", valid + ` xyz`},
			{"two documents", valid + valid},
			{"invalid UTF-8 in a value", strings.Replace(valid, "sleep 1", "sleep \xff\xfe", 1)},
			{"invalid UTF-8 in a key", e.pre + "0,\"\xc3\x28\":1" + e.post},
			{"overlong UTF-8 slash", strings.Replace(valid, "sleep 1", "sleep \xc0\xaf", 1)},
			{"deep array nesting", string(hostile.Nested(e.pre+`0,"labels":`, 100000))},
			{"deep object nesting", e.pre + `0,"x":` + strings.Repeat(`{"a":`, 50000) + "1" + strings.Repeat("}", 50000) + e.post},
			{"huge number", e.pre + "1" + strings.Repeat("0", 100000) + e.post},
			{"bare NaN", e.pre + "NaN" + e.post},
			{"bare Infinity", e.pre + "Infinity" + e.post},
			{"hex number", e.pre + "0x10" + e.post},
			{"single quotes", strings.ReplaceAll(valid, `"`, `'`)},
		} {
			add(hostile.Case{Name: e.method + " " + e.path + " " + nj.name, Method: e.method, Path: e.path, Body: []byte(nj.body)})
		}
	}
	add(hostile.Case{Name: "PUT /v2/apps not an array", Method: http.MethodPut, Path: "/v2/apps", Body: []byte(`{"id":"/hostile/web"}`), Want: 400})
	add(hostile.Case{Name: "PATCH /v2/apps truncated", Method: http.MethodPatch, Path: "/v2/apps", Body: []byte(`[{"id":"/hostile/web","cpus":`), Want: 400})
	add(hostile.Case{Name: "POST /v2/tasks/delete not an object", Path: "/v2/tasks/delete", Body: []byte(`["x"]`), Want: 400, Mention: "/ids"})
	add(hostile.Case{Name: "POST /v2/tasks/delete ids wrong type", Path: "/v2/tasks/delete", Body: []byte(`{"ids":"x"}`), Want: 400, Mention: "/ids"})

	// Sizes and framing.
	add(hostile.Case{Name: "app body over 8 MiB", Path: "/v2/apps", Body: appDef("cmd", `"`+strings.Repeat("x", 9<<20)+`"`), Want: 413})
	add(hostile.Case{Name: "group body over 8 MiB", Method: http.MethodPut, Path: "/v2/groups/hostile", Body: []byte(`{"apps":[],"x":"` + strings.Repeat("x", 9<<20) + `"}`), Want: 413})
	add(hostile.Case{Name: "truncated body (half-close)", HalfClose: true,
		Raw: []byte("POST /v2/apps HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":\"/hostile/new\",")})
	add(hostile.Case{Name: "absurd Content-Length", HalfClose: true,
		Raw: []byte("POST /v2/apps HTTP/1.1\r\nHost: m\r\nContent-Length: 99999999999999999999\r\n\r\n{}")})
	add(hostile.Case{Name: "negative Content-Length", Raw: []byte("POST /v2/apps HTTP/1.1\r\nHost: m\r\nContent-Length: -5\r\n\r\n{}")})
	add(hostile.Case{Name: "two Content-Lengths", Raw: []byte("POST /v2/apps HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")})
	add(hostile.Case{Name: "bad chunk size", Raw: []byte("POST /v2/apps HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")})
	add(hostile.Case{Name: "chunked body over 8 MiB", Raw: append([]byte("POST /v2/apps HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n900000\r\n"),
		make([]byte, 9<<20)...), Want: 413})
	add(hostile.Case{Name: "TLS handshake on the HTTP port", Raw: []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")})
	add(hostile.Case{Name: "HTTP/1.1 without Host", Raw: []byte("GET /v2/apps HTTP/1.1\r\n\r\n"), Want: 400})
	add(hostile.Case{Name: "NUL in path", Raw: []byte("GET /v2/apps/he\x00llo HTTP/1.1\r\nHost: m\r\n\r\n")})
	add(hostile.Case{Name: "header without colon", Raw: []byte("GET /v2/apps HTTP/1.1\r\nHost: m\r\nnocolon\r\n\r\n"), Want: 400})
	add(hostile.Case{Name: "unknown HTTP version", Raw: []byte("GET /v2/apps HTTP/9.9\r\nHost: m\r\n\r\n"), Want: 505})

	// Headers and content types.
	add(hostile.Case{Name: "2 MiB header", Path: "/v2/apps", Body: appDef(), Header: hdr("X-Flood", strings.Repeat("a", 2<<20)), Want: 431})
	flood := http.Header{}
	for i := 0; i < 60000; i++ {
		flood.Add(fmt.Sprintf("X-F%d", i), "aaaaaaaaaa")
	}
	add(hostile.Case{Name: "60000 headers", Path: "/v2/apps", Body: appDef(), Header: flood, Want: 431})
	add(hostile.Case{Name: "2 MiB query", Path: "/v2/apps?embed=" + strings.Repeat("a", 2<<20), Want: 431})
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x", "garbage", "application/jsonx"} {
		add(hostile.Case{Name: "POST /v2/apps Content-Type " + ct, Path: "/v2/apps", Body: appDef(), Header: hdr("Content-Type", ct), Want: 415})
		add(hostile.Case{Name: "PUT /v2/groups Content-Type " + ct, Method: http.MethodPut, Path: "/v2/groups/hostile", Body: []byte(`{"scaleBy":2}`),
			Header: hdr("Content-Type", ct), Want: 415})
	}
	add(hostile.Case{Name: "PUT /v2/apps/{id} Content-Type text/html", Method: http.MethodPut, Path: "/v2/apps/hostile/web", Body: []byte(`{"instances":0}`),
		Header: hdr("Content-Type", "text/html"), Want: 415})
	add(hostile.Case{Name: "Content-Type without a subtype", Path: "/v2/apps", Body: appDef(), Header: hdr("Content-Type", "application/"), Want: 415})

	// Methods and paths.
	for _, mp := range []struct{ method, path string }{
		{http.MethodPut, "/v2/tasks/delete"}, {http.MethodPost, "/v2/deployments"}, {http.MethodPut, "/v2/deployments/" + deployment},
		{http.MethodPost, "/v2/tasks"}, {http.MethodPut, "/v2/info"}, {http.MethodPost, "/v2/leader"},
		{http.MethodPost, "/ping"}, {http.MethodPost, "/v2/queue"}, {http.MethodPost, "/v2/queue/locked/delay"},
		{http.MethodPost, "/v2/apps/hostile/web"}, {http.MethodPost, "/v2/apps/hostile/web/tasks"},
		{http.MethodPut, "/v2/apps/hostile/web/restart"}, {http.MethodDelete, "/v2/apps/hostile/web/versions"},
	} {
		add(hostile.Case{Name: mp.method + " " + mp.path, Method: mp.method, Path: mp.path, Body: []byte(`{}`), Want: 405})
	}
	add(hostile.Case{Name: "unknown API version", Path: "/v3/apps", Want: 404})
	add(hostile.Case{Name: "long unknown path", Path: "/" + strings.Repeat("a/", 20000), Want: 404})
	add(hostile.Case{Name: "DELETE an unknown deployment", Method: http.MethodDelete, Path: "/v2/deployments/not-a-deployment", Want: 404, Mention: "not-a-deployment"})
	add(hostile.Case{Name: "DELETE a deployment by traversal", Method: http.MethodDelete, Path: "/v2/deployments/..%2F" + deployment, Want: 404})
	add(hostile.Case{Name: "DELETE an unknown app's delay", Method: http.MethodDelete, Path: "/v2/queue/nope/delay", Want: 404, Mention: "/nope"})
	add(hostile.Case{Name: "DELETE a delay by traversal", Method: http.MethodDelete, Path: "/v2/queue/hostile%2F%2e%2e%2Flocked/delay", Want: 400, Mention: "/id"})
	add(hostile.Case{Name: "DELETE a queue path without delay", Method: http.MethodDelete, Path: "/v2/queue/locked", Want: 404})

	// Ids in paths: traversal, dot segments, case and characters
	// Marathon's id pattern refuses. Refused paths name no app, so
	// nothing is created, changed or deleted.
	for _, p := range []string{
		"/v2/apps/%2e%2e", "/v2/apps/hostile/%2e%2e", "/v2/apps/hostile/%2e%2e%2fdb", "/v2/apps/hostile%2f..%2f..%2flocked",
		"/v2/apps/%2e", "/v2/apps/hostile/%2e/web", "/v2/apps/HOSTILE/WEB", "/v2/apps/hostile/we_b", "/v2/apps/hostile/-web",
		"/v2/apps/hostile/web%00", "/v2/apps/hostile/" + strings.Repeat("a", 300) + "%20",
	} {
		add(hostile.Case{Name: "DELETE " + p, Method: http.MethodDelete, Path: p})
		add(hostile.Case{Name: "PUT " + p, Method: http.MethodPut, Path: p, Body: []byte(`{"cmd":"sleep 1","instances":0}`)})
	}
	for _, p := range []string{"/v2/groups/%2e%2e", "/v2/groups/hostile/%2e%2e", "/v2/groups/hostile%2f%2e%2e", "/v2/groups/%2e", "/v2/groups/HOSTILE", "/v2/groups/host*ile"} {
		add(hostile.Case{Name: "DELETE " + p, Method: http.MethodDelete, Path: p})
		add(hostile.Case{Name: "PUT " + p, Method: http.MethodPut, Path: p, Body: []byte(`{"apps":[]}`)})
		add(hostile.Case{Name: "POST " + p, Path: p, Body: []byte(`{"id":"x","apps":[]}`)})
	}
	add(hostile.Case{Name: "POST /v2/apps/{id}/restart unknown", Path: "/v2/apps/nope/restart", Body: []byte(`{}`), Want: 404, Mention: "/nope"})
	add(hostile.Case{Name: "DELETE an unknown task", Method: http.MethodDelete, Path: "/v2/apps/hostile/web/tasks/hostile_web.nope", Want: 404, Mention: "hostile_web.nope"})
	add(hostile.Case{Name: "GET a version that does not exist", Path: "/v2/apps/hostile/web/versions/2001-01-01T00:00:00.000Z", Want: 404})
	add(hostile.Case{Name: "GET a version that is not a time", Path: "/v2/apps/hostile/web/versions/..%2F..%2Fetc"})
	add(hostile.Case{Name: "GET an unknown pod", Path: "/v2/pods/%2e%2e%2fetc", Want: 404})

	// Query parameters.
	for _, q := range []string{"force=notabool", "force=", "force=yes", "force=1%00", "force=true&force=false"} {
		add(hostile.Case{Name: "PUT the locked app with " + q, Method: http.MethodPut, Path: "/v2/apps/locked?" + q, Body: []byte(`{"instances":0}`), Mention: "force"})
	}
	add(hostile.Case{Name: "DELETE tasks with scale=maybe", Method: http.MethodDelete, Path: "/v2/apps/hostile/web/tasks?scale=maybe", Mention: "scale"})
	add(hostile.Case{Name: "POST /v2/tasks/delete with scale=2", Path: "/v2/tasks/delete?scale=2", Body: []byte(`{"ids":[]}`), Mention: "scale"})
	add(hostile.Case{Name: "DELETE a deployment with force=nope", Method: http.MethodDelete, Path: "/v2/deployments/" + deployment + "?force=nope", Mention: "force"})
	add(hostile.Case{Name: "DELETE a group with force=%FF", Method: http.MethodDelete, Path: "/v2/groups/hostile?force=%FF", Mention: "force"})
	add(hostile.Case{Name: "invalid percent-encoding in the query", Path: "/v2/apps?embed=%zz", Want: 400})

	// App definitions: bad resources, each naming its field.
	appBad := []struct {
		name    string
		body    []byte
		mention string
	}{
		{"cpus -1", appDef("cpus", "-1"), "/cpus"},
		{"cpus 0", appDef("cpus", "0"), "/cpus"},
		{"cpus 1e999", appDef("cpus", "1e999"), "/cpus"},
		{"cpus -1e999", appDef("cpus", "-1e999"), "/cpus"},
		{"cpus NaN string", appDef("cpus", `"NaN"`), "/cpus"},
		{"cpus Infinity string", appDef("cpus", `"Infinity"`), "/cpus"},
		{"cpus boolean", appDef("cpus", "true"), "/cpus"},
		{"cpus object", appDef("cpus", `{"value":1}`), "/cpus"},
		{"mem -1", appDef("mem", "-1"), "/mem"},
		{"mem 1e999", appDef("mem", "1e999"), "/mem"},
		{"mem string", appDef("mem", `"lots"`), "/mem"},
		{"disk -5", appDef("disk", "-5"), "/disk"},
		{"disk -1e308", appDef("disk", "-1e308"), "/disk"},
		{"gpus -1", appDef("gpus", "-1"), "/gpus"},
		{"gpus 1.5", appDef("gpus", "1.5"), "/gpus"},
		{"gpus without the feature", appDef("gpus", "1"), "gpu_resources"},
		{"instances -1", appDef("instances", "-1"), "/instances"},
		{"instances 1.5", appDef("instances", "1.5"), "/instances"},
		{"instances above int32", appDef("instances", "2147483648"), "/instances"},
		{"instances int32 max (above --max-instances-per-app)", appDef("instances", "2147483647"), "/instances"},
		{"instances 1e10", appDef("instances", "1e10"), "/instances"},
		{"instances 1e30", appDef("instances", "1e30"), "/instances"},
		{"instances string", appDef("instances", `"3"`), "/instances"},
		{"ports negative", appDef("ports", "[-1]"), "/portDefinitions(0)/port"},
		{"ports above 65535", appDef("ports", "[70000]"), "/portDefinitions(0)/port"},
		{"ports strings", appDef("ports", `["http"]`), "/ports"},
		{"ports duplicated", appDef("ports", "[8080,8080]"), "ports must be unique"},
		{"portDefinitions port above 65535", appDef("portDefinitions", `[{"port":65536}]`), "/portDefinitions(0)/port"},
		{"portDefinitions protocol sctp", appDef("portDefinitions", `[{"port":0,"protocol":"sctp"}]`), "/portDefinitions(0)/protocol"},
		{"portDefinitions bad name", appDef("portDefinitions", `[{"port":0,"name":"Web_Port"}]`), "/portDefinitions(0)/name"},
		{"portDefinitions names twice", appDef("portDefinitions", `[{"port":0,"name":"a"},{"port":0,"name":"a"}]`), "/portDefinitions"},
		{"backoffFactor 0.5", appDef("backoffFactor", "0.5"), "/backoffFactor"},
		{"backoffSeconds -1", appDef("backoffSeconds", "-1"), "/backoffSeconds"},
		{"maxLaunchDelaySeconds -1", appDef("maxLaunchDelaySeconds", "-1"), "/maxLaunchDelaySeconds"},
		{"taskKillGracePeriodSeconds -1", appDef("taskKillGracePeriodSeconds", "-1"), "/taskKillGracePeriodSeconds"},
		{"upgradeStrategy minimumHealthCapacity 1.5", appDef("upgradeStrategy", `{"minimumHealthCapacity":1.5}`), "/upgradeStrategy/minimumHealthCapacity"},
		{"upgradeStrategy minimumHealthCapacity -0.1", appDef("upgradeStrategy", `{"minimumHealthCapacity":-0.1}`), "/upgradeStrategy/minimumHealthCapacity"},
		{"upgradeStrategy maximumOverCapacity 2", appDef("upgradeStrategy", `{"maximumOverCapacity":2}`), "/upgradeStrategy/maximumOverCapacity"},
		{"upgradeStrategy maximumOverCapacity string", appDef("upgradeStrategy", `{"maximumOverCapacity":"all"}`), "/upgradeStrategy/maximumOverCapacity"},
		{"upgradeStrategy a string", appDef("upgradeStrategy", `"rolling"`), "/upgradeStrategy"},
		{"single-instance app with two instances", appDef("instances", "2", "labels", `{"MARATHON_SINGLE_INSTANCE_APP":"true"}`,
			"upgradeStrategy", `{"minimumHealthCapacity":0,"maximumOverCapacity":0}`), "Single instance"},
		{"killSelection RANDOM", appDef("killSelection", `"RANDOM"`), "/killSelection"},
		{"killSelection lower case", appDef("killSelection", `"youngest_first"`), "/killSelection"},
		{"unreachableStrategy enabled string", appDef("unreachableStrategy", `"enabled"`), "/unreachableStrategy"},
		{"unreachableStrategy negative inactive", appDef("unreachableStrategy", `{"inactiveAfterSeconds":-1,"expungeAfterSeconds":10}`), "/unreachableStrategy/inactiveAfterSeconds"},
		{"unreachableStrategy inactive after expunge", appDef("unreachableStrategy", `{"inactiveAfterSeconds":100,"expungeAfterSeconds":10}`), "/unreachableStrategy/inactiveAfterSeconds"},
		{"constraint with one element", appDef("constraints", `[["hostname"]]`), "/constraints(0)"},
		{"constraint with four elements", appDef("constraints", `[["hostname","LIKE","a","b"]]`), "/constraints(0)"},
		{"constraint operator unknown", appDef("constraints", `[["hostname","NEAR","a"]]`), "/constraints(0)"},
		{"constraint LIKE bad regex", appDef("constraints", `[["hostname","LIKE","("]]`), "/constraints(0)"},
		{"constraint LIKE without value", appDef("constraints", `[["hostname","LIKE"]]`), "/constraints(0)"},
		{"constraint GROUP_BY not a number", appDef("constraints", `[["rack","GROUP_BY","many"]]`), "/constraints(0)"},
		{"constraint MAX_PER not an integer", appDef("constraints", `[["rack","MAX_PER","1.5"]]`), "/constraints(0)"},
		{"constraint UNIQUE with a value", appDef("constraints", `[["hostname","UNIQUE","x"]]`), "/constraints(0)"},
		{"constraint numbers", appDef("constraints", `[[1,2]]`), "/constraints"},
		{"constraints an object", appDef("constraints", `{"hostname":"UNIQUE"}`), "/constraints"},
		{"networks mode unknown", appDef("networks", `[{"mode":"overlay"}]`), "/networks(0)/mode"},
		{"networks mode upper case", appDef("networks", `[{"mode":"HOST"}]`), "/networks(0)/mode"},
		{"container type unknown", appDef("container", `{"type":"LXC"}`), "/container/type"},
		{"docker container without image", appDef("container", `{"type":"DOCKER","docker":{}}`), "/container/docker/image"},
		{"healthCheck protocol unknown", appDef("healthChecks", `[{"protocol":"SMTP"}]`), "/healthChecks(0)/protocol"},
		{"healthCheck protocol lower case", appDef("healthChecks", `[{"protocol":"http"}]`), "/healthChecks(0)/protocol"},
		{"healthCheck portIndex out of range", appDef("healthChecks", `[{"protocol":"HTTP","portIndex":5}]`), "/healthChecks(0)"},
		{"healthCheck negative interval", appDef("healthChecks", `[{"protocol":"TCP","intervalSeconds":-1,"port":80}]`), "/healthChecks(0)/intervalSeconds"},
		{"healthCheck ipProtocol IPv5", appDef("healthChecks", `[{"protocol":"TCP","port":80,"ipProtocol":"IPv5"}]`), "/healthChecks(0)/ipProtocol"},
		{"healthCheck COMMAND without command", appDef("healthChecks", `[{"protocol":"COMMAND"}]`), "/healthChecks(0)/command"},
		{"healthCheck portIndex -1", appDef("healthChecks", `[{"protocol":"HTTP","portIndex":-1}]`), "/healthChecks(0)"},
		{"two readiness checks", appDef("portDefinitions", `[{"port":0,"name":"http"}]`, "readinessChecks", `[{"portName":"http"},{"portName":"http"}]`), "/readinessChecks"},
		{"residency with unreachableStrategy enabled", appDef("residency", `{}`, "unreachableStrategy", `{"inactiveAfterSeconds":1,"expungeAfterSeconds":2}`), "unreachableStrategy"},
		{"args a string", appDef("cmd", "", "args", `"sleep 1"`), "/args"},
		{"user a number", appDef("user", `0`), "/user"},
		{"readinessCheck unknown port name", appDef("readinessChecks", `[{"portName":"nope"}]`), "/readinessChecks(0)/portName"},
		{"cmd and args", appDef("args", `["a"]`), "cmd"},
		{"neither cmd nor args nor container", appDef("cmd", ""), "cmd"},
		{"fetch without uri", appDef("fetch", `[{"executable":true}]`), "/fetch(0)/uri"},
		{"uris and fetch", appDef("uris", `["http://a/b"]`, "fetch", `[{"uri":"http://a/c"}]`), "/uris"},
		{"env value a number", appDef("env", `{"A":5}`), "/env"},
		{"secret without the feature", appDef("secrets", `{"s":{"source":"a"}}`), "/secrets"},
		{"secret env without the feature", appDef("env", `{"A":{"secret":"s"}}`), "/env/A"},
		{"labels value a number", appDef("labels", `{"a":1}`), "/labels"},
		{"labels over the store's node size", appDef("labels", `{"a":"`+strings.Repeat("x", 2<<20)+`"}`), ""},
		{"escapes that grow past the store's node size", appDef("labels", `{"a":"`+strings.Repeat("<", 900<<10)+`"}`), ""},
		{"acceptedResourceRoles empty", appDef("acceptedResourceRoles", `[]`), "/acceptedResourceRoles"},
		{"acceptedResourceRoles traversal", appDef("acceptedResourceRoles", `["../x"]`), "/acceptedResourceRoles(0)"},
		{"acceptedResourceRoles twice", appDef("acceptedResourceRoles", `["*","*"]`), "/acceptedResourceRoles"},
		{"executor with empty segments", appDef("executor", `"a//b"`), "/executor"},
		{"dependency upper case", appDef("dependencies", `["/Hostile/DB"]`), "/dependencies(0)"},
	}
	for _, b := range appBad {
		add(hostile.Case{Name: "POST /v2/apps " + b.name, Path: "/v2/apps", Body: b.body, Mention: b.mention})
	}

	// App ids in bodies.
	idBad := []struct{ name, id, mention string }{
		{"missing", "", "/id"},
		{"empty", `""`, "/id"},
		{"root", `"/"`, "/id"},
		{"double slash", `"//"`, "/id"},
		{"upper case", `"/Hostile/New"`, "/id"},
		{"underscore", `"/hostile/new_app"`, "/id"},
		{"leading dash", `"/hostile/-new"`, "/id"},
		{"trailing dash", `"/hostile/new-"`, "/id"},
		{"space", `"/hostile/new app"`, "/id"},
		{"percent-encoded dots", `"/hostile/%2e%2e/locked"`, "/id"},
		{"traversal above the root", `"/../../etc/passwd"`, "/id"},
		{"traversal onto an existing app", `"/hostile/x/../web"`, "already exists"},
		{"traversal above the base group", `"../web"`, "/id"},
		{"ends with restart", `"/hostile/restart"`, "/id"},
		{"ends with tasks", `"/hostile/tasks"`, "/id"},
		{"ends with versions", `"/hostile/versions"`, "/id"},
		{"backslash", `"/hostile\\new"`, "/id"},
		{"NUL", `"/hostile/new\u0000"`, "/id"},
		{"unicode letter", `"/hostile/ñew"`, "/id"},
		{"a number", `5`, "/id"},
		{"an array", `["/hostile/new"]`, "/id"},
		{"existing app", `"/hostile/web"`, "already exists"},
		{"existing group", `"/hostile"`, "already exists"},
		{"an app inside an app", `"/hostile/web/sub"`, "/hostile/web"},
		{"a segment of 1000 characters", `"/hostile/` + strings.Repeat("a", 1000) + `"`, "/id"},
		{"one character too long for a task id", `"/hostile/` + strings.Repeat("a", 211) + `"`, "at most 218"},
		{"4096 segments", `"` + strings.Repeat("/a", 4096) + `"`, "/id"},
	}
	for _, b := range idBad {
		add(hostile.Case{Name: "POST /v2/apps id " + b.name, Path: "/v2/apps", Body: appDef("id", b.id), Mention: b.mention})
	}

	// Updates of existing apps (PUT/PATCH merge into the definition).
	updBad := []struct {
		name, method, path, body, mention string
		want                              int
	}{
		{"cpus -1", http.MethodPut, "/v2/apps/hostile/web", `{"cpus":-1}`, "/cpus", 0},
		{"instances -1", http.MethodPatch, "/v2/apps/hostile/web", `{"instances":-1}`, "/instances", 0},
		{"instances above int32", http.MethodPatch, "/v2/apps/hostile/web", `{"instances":4294967296}`, "/instances", 0},
		{"instances above --max-instances-per-app", http.MethodPatch, "/v2/apps/hostile/web", `{"instances":2000000000}`, "max-instances-per-app", 0},
		{"mem NaN string", http.MethodPut, "/v2/apps/hostile/web", `{"mem":"NaN"}`, "/mem", 0},
		{"killSelection unknown", http.MethodPut, "/v2/apps/hostile/web", `{"killSelection":"ANY"}`, "/killSelection", 0},
		{"rollback to a version that is not a time", http.MethodPut, "/v2/apps/hostile/web", `{"version":"../../etc"}`, "", 0},
		{"rollback to a version that does not exist", http.MethodPut, "/v2/apps/hostile/web", `{"version":"2001-01-01T00:00:00.000Z"}`, "", 404},
		{"PATCH an unknown app", http.MethodPatch, "/v2/apps/nope", `{"cpus":1}`, "/nope", 404},
		{"PUT a new app with an invalid id", http.MethodPut, "/v2/apps/Bad_Id", `{"cmd":"sleep 1"}`, "/id", 0},
		{"PUT the locked app without force", http.MethodPut, "/v2/apps/locked", `{"instances":0}`, "locked", 409},
		{"bulk update without id", http.MethodPut, "/v2/apps", `[{"cpus":1}]`, "id", 0},
		{"bulk update with one bad entry", http.MethodPut, "/v2/apps", `[{"id":"/hostile/web","cpus":0.2},{"id":"/hostile/db","cpus":-1}]`, "/cpus", 0},
		{"bulk update with an id traversal", http.MethodPatch, "/v2/apps", `[{"id":"/hostile/../locked","instances":0}]`, "", 0},
	}
	for _, b := range updBad {
		add(hostile.Case{Name: b.method + " " + b.name, Method: b.method, Path: b.path, Body: []byte(b.body), Mention: b.mention, Want: b.want})
	}

	// Groups.
	grpBad := []struct{ name, method, path, body, mention string }{
		{"group id upper case", http.MethodPost, "/v2/groups", `{"id":"/Other","apps":[]}`, "/id"},
		{"group id traversal above the root", http.MethodPost, "/v2/groups", `{"id":"../../x","apps":[]}`, "id"},
		{"group id existing", http.MethodPost, "/v2/groups", `{"id":"/hostile","apps":[]}`, "already"},
		{"group id a number", http.MethodPost, "/v2/groups", `{"id":7}`, "/id"},
		{"group with a bad app", http.MethodPost, "/v2/groups", `{"id":"/other","apps":[{"id":"a","cmd":"x","cpus":-1}]}`, "cpus"},
		{"group app outside the group", http.MethodPost, "/v2/groups", `{"id":"/other","apps":[{"id":"/elsewhere/a","cmd":"x","instances":0}]}`, "child"},
		{"group apps an object", http.MethodPost, "/v2/groups", `{"id":"/other","apps":{"a":1}}`, "/apps"},
		{"group dependency cycle", http.MethodPost, "/v2/groups", `{"id":"/other","apps":[{"id":"a","cmd":"x","instances":0,"dependencies":["/other/b"]},{"id":"b","cmd":"x","instances":0,"dependencies":["/other/a"]}]}`, ""},
		{"group self dependency", http.MethodPost, "/v2/groups", `{"id":"/other","apps":[{"id":"a","cmd":"x","instances":0,"dependencies":["/other/a"]}]}`, ""},
		{"group inside an app", http.MethodPost, "/v2/groups", `{"id":"/hostile/web/g","apps":[{"id":"a","cmd":"x","instances":0}]}`, "is an app"},
		{"group with the id of an app", http.MethodPost, "/v2/groups", `{"id":"/locked","apps":[]}`, "is an app"},
		{"app with the id of a group", http.MethodPut, "/v2/groups/hostile", `{"apps":[{"id":"/hostile","cmd":"x","instances":0}]}`, "/hostile"},
		{"group dependency upper case", http.MethodPost, "/v2/groups", `{"id":"/other","dependencies":["/Hostile"],"apps":[]}`, "dependencies"},
		{"group app climbing above the root", http.MethodPatch, "/v2/groups/hostile", `{"apps":[{"id":"../../../x","cmd":"x","instances":0}]}`, "/id"},
		{"group app escaping its group", http.MethodPost, "/v2/groups/hostile", `{"id":"sub","apps":[{"id":"../../escape","cmd":"x","instances":0}]}`, "/id"},
		{"sub-group outside its parent", http.MethodPost, "/v2/groups", `{"id":"/other","groups":[{"id":"/elsewhere","apps":[]}]}`, "/groups(0)/id"},
		{"scaleBy negative", http.MethodPut, "/v2/groups/hostile", `{"scaleBy":-1}`, "/scaleBy"},
		{"scaleBy string", http.MethodPut, "/v2/groups/hostile", `{"scaleBy":"2"}`, "/scaleBy"},
		{"scaleBy 1e999", http.MethodPut, "/v2/groups/hostile", `{"scaleBy":1e999}`, ""},
		{"scaleBy an unknown group", http.MethodPut, "/v2/groups/nope", `{"scaleBy":2}`, "/nope"},
		{"PUT a group with a bad app", http.MethodPatch, "/v2/groups/hostile", `{"apps":[{"id":"web","cmd":"x","mem":-1}]}`, "mem"},
		{"PUT a group with another id", http.MethodPut, "/v2/groups/hostile", `{"id":"/Elsewhere"}`, "/id"},
		{"DELETE an unknown group", http.MethodDelete, "/v2/groups/nope", ``, "/nope"},
	}
	for _, b := range grpBad {
		var body []byte
		if b.body != "" {
			body = []byte(b.body)
		}
		add(hostile.Case{Name: b.method + " " + b.name, Method: b.method, Path: b.path, Body: body, Mention: b.mention})
	}
	return cs
}
