package chronos_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/strata-dc/strata/coord/hostile"
)

// TestIntegration_HostileInput is chronos' part of issue 9's hostile
// input catalogue: every case is a real request to a leading chronos
// holding a scheduled job (due in 2099) and a chain of two dependent jobs.
// Each must be refused with a 400 naming the field (or another 4xx, or
// the connection closed); chronos must keep serving; and its jobs, their
// counters and the dependency graph must not change. Slow clients trickle
// beside the catalogue and must be cut by chronos.
func TestIntegration_HostileInput(t *testing.T) {
	c := startCluster(t)
	s, _ := startChronos(t, c)
	waitFor(t, "chronos to lead", s.Leading)
	a := api{t: t, base: "http://" + s.Addr().String()}
	a.must(http.StatusNoContent, "POST", "/v1/scheduler/iso8601", `{"name":"base","command":"true","schedule":"R/2099-01-01T00:00:00Z/P1D"}`)
	a.must(http.StatusNoContent, "POST", "/v1/scheduler/dependency", `{"name":"child","command":"true","parents":["base"]}`)
	a.must(http.StatusNoContent, "POST", "/v1/scheduler/dependency", `{"name":"grandchild","command":"true","parents":["child"]}`)

	addr := s.Addr().String()
	slow := []*hostile.SlowClient{
		hostile.Slow(t, "slow headers", addr, []byte("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: c\r\n"), []byte("X-Slow: a\r\n")),
		hostile.Slow(t, "slow job body", addr, []byte("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"), []byte(" ")),
		hostile.Slow(t, "slow dependent job body", addr, []byte("PUT /v1/scheduler/dependency HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"),
			[]byte(`{"name":"x","command":"true","parents":["base"]}`)),
		hostile.Slow(t, "slow chunked body", addr, []byte("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n"), []byte("1\r\n \r\n")),
		hostile.Slow(t, "silent connection", addr, nil, nil),
		hostile.Slow(t, "slow request line", addr, []byte("G"), []byte("ET /v1/scheduler/jobs HTTP/1.1")),
	}

	tgt := hostile.Target{Base: a.base,
		// /ping is answered without the leader's lock, /v1/scheduler/jobs with it.
		Alive:       hostile.AliveGET(a.base, "/ping", "/v1/scheduler/jobs"),
		Fingerprint: func() (string, error) { return chronosFingerprint(a.base) },
	}
	n := hostile.Run(t, tgt, chronosCases())
	n += hostile.WaitAllClosed(t, "chronos", patience, slow)
	t.Logf("hostile-input catalogue: %d cases against chronos", n)
}

// chronosFingerprint is what no refused request may change: every job as
// GET /jobs prints it (definition and counters) and the dependency graph.
func chronosFingerprint(base string) (string, error) {
	var b strings.Builder
	for _, p := range []string{"/v1/scheduler/jobs", "/v1/scheduler/graph/csv"} {
		resp, err := http.Get(base + p)
		if err != nil {
			return "", err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
		b.Write(body)
		b.WriteString(" | ")
	}
	return b.String(), nil
}

// jobDef is a valid scheduled job with some keys replaced (a value of ""
// removes the key); values are raw JSON.
func jobDef(kv ...string) string {
	fields := map[string]string{"name": `"new"`, "command": `"true"`, "schedule": `"R/2099-01-01T00:00:00Z/PT1H"`}
	order := []string{"name", "command", "schedule"}
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
	return "{" + strings.Join(parts, ",") + "}"
}

// depDef is jobDef for a dependent job (parents instead of a schedule).
func depDef(kv ...string) string {
	return jobDef(append([]string{"schedule", "", "parents", `["base"]`}, kv...)...)
}

func chronosCases() []hostile.Case {
	var cs []hostile.Case
	add := func(c hostile.Case) { cs = append(cs, c) }
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}

	// Bodies that are not a job, on both job endpoints (POST and PUT).
	endpoints := []struct{ method, path, pre, post string }{
		{http.MethodPost, "/v1/scheduler/iso8601", `{"name":"new","command":"true","schedule":"R/2099-01-01T00:00:00Z/PT1H","retries":`, `}`},
		{http.MethodPut, "/v1/scheduler/dependency", `{"name":"new","command":"true","parents":["base"],"retries":`, `}`},
	}
	for _, e := range endpoints {
		valid := e.pre + "1" + e.post
		for _, nj := range []struct{ name, body string }{
			{"empty body", ""},
			{"truncated", valid[:len(valid)-6]},
			{"lone brace", `{`},
			{"null", `null`},
			{"string", `"job"`},
			{"number", `42`},
			{"array", `[` + valid + `]`},
			{"trailing garbage", valid + ` xyz`},
			{"two documents", valid + valid},
			{"invalid UTF-8 in the command", strings.Replace(valid, `"true"`, "\"tr\xffue\"", 1)},
			{"invalid UTF-8 in the name", strings.Replace(valid, `"new"`, "\"n\xc3\x28w\"", 1)},
			{"overlong UTF-8 slash in the name", strings.Replace(valid, `"new"`, "\"n\xc0\xafw\"", 1)},
			{"deep array nesting", string(hostile.Nested(e.pre+`1,"arguments":`, 100000))},
			{"deep object nesting", e.pre + `1,"container":` + strings.Repeat(`{"a":`, 50000) + "1" + strings.Repeat("}", 50000) + e.post},
			{"huge number", e.pre + "1" + strings.Repeat("0", 100000) + e.post},
			{"bare NaN", e.pre + "NaN" + e.post},
			{"bare Infinity", e.pre + "Infinity" + e.post},
			{"hex number", e.pre + "0x10" + e.post},
			{"single quotes", strings.ReplaceAll(valid, `"`, `'`)},
			{"BOM prefix", "\xef\xbb\xbf" + valid},
		} {
			add(hostile.Case{Name: e.method + " " + e.path + " " + nj.name, Method: e.method, Path: e.path, Body: []byte(nj.body)})
		}
	}

	// Sizes and framing.
	add(hostile.Case{Name: "job over 1 MiB", Path: "/v1/scheduler/iso8601", Body: []byte(jobDef("description", `"`+strings.Repeat("x", 2<<20)+`"`)), Want: 413})
	add(hostile.Case{Name: "job whose escapes grow past coord's node size", Path: "/v1/scheduler/iso8601",
		Body: []byte(jobDef("description", `"`+strings.Repeat("<", 900<<10)+`"`)), Mention: "bytes"})
	add(hostile.Case{Name: "chunked job over 1 MiB", Raw: append([]byte("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n"),
		make([]byte, 2<<20)...), Want: 413})
	add(hostile.Case{Name: "truncated body (half-close)", HalfClose: true,
		Raw: []byte("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":\"new\",")})
	add(hostile.Case{Name: "absurd Content-Length", HalfClose: true,
		Raw: []byte("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: c\r\nContent-Length: 99999999999999999999\r\n\r\n{}")})
	add(hostile.Case{Name: "negative Content-Length", Raw: []byte("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: c\r\nContent-Length: -5\r\n\r\n{}")})
	add(hostile.Case{Name: "two Content-Lengths", Raw: []byte("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: c\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")})
	add(hostile.Case{Name: "bad chunk size", Raw: []byte("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")})
	add(hostile.Case{Name: "TLS handshake on the HTTP port", Raw: []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")})
	add(hostile.Case{Name: "HTTP/1.1 without Host", Raw: []byte("GET /v1/scheduler/jobs HTTP/1.1\r\n\r\n"), Want: 400})
	add(hostile.Case{Name: "header without colon", Raw: []byte("GET /v1/scheduler/jobs HTTP/1.1\r\nHost: c\r\nnocolon\r\n\r\n"), Want: 400})
	add(hostile.Case{Name: "unknown HTTP version", Raw: []byte("GET /v1/scheduler/jobs HTTP/9.9\r\nHost: c\r\n\r\n"), Want: 505})

	// Headers and content types.
	add(hostile.Case{Name: "2 MiB header", Path: "/v1/scheduler/iso8601", Body: []byte(jobDef()), Header: hdr("X-Flood", strings.Repeat("a", 2<<20)), Want: 431})
	flood := http.Header{}
	for i := 0; i < 60000; i++ {
		flood.Add(fmt.Sprintf("X-F%d", i), "aaaaaaaaaa")
	}
	add(hostile.Case{Name: "60000 headers", Path: "/v1/scheduler/iso8601", Body: []byte(jobDef()), Header: flood, Want: 431})
	add(hostile.Case{Name: "2 MiB query", Path: "/v1/scheduler/jobs/search?name=" + strings.Repeat("a", 2<<20), Want: 431})
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x", "garbage", "application/"} {
		add(hostile.Case{Name: "iso8601 Content-Type " + ct, Path: "/v1/scheduler/iso8601", Body: []byte(jobDef()), Header: hdr("Content-Type", ct), Want: 415})
		add(hostile.Case{Name: "dependency Content-Type " + ct, Method: http.MethodPut, Path: "/v1/scheduler/dependency", Body: []byte(depDef()),
			Header: hdr("Content-Type", ct), Want: 415})
	}

	// Methods and paths.
	for _, mp := range []struct{ method, path string }{
		{http.MethodGet, "/v1/scheduler/iso8601"}, {http.MethodDelete, "/v1/scheduler/iso8601"}, {http.MethodGet, "/v1/scheduler/dependency"},
		{http.MethodPost, "/v1/scheduler/jobs"}, {http.MethodDelete, "/v1/scheduler/jobs"}, {http.MethodPost, "/v1/scheduler/job/base"},
		{http.MethodGet, "/v1/scheduler/job/base"}, {http.MethodPost, "/v1/scheduler/job/success/base"}, {http.MethodPut, "/v1/scheduler/task/kill/base"},
		{http.MethodPost, "/v1/scheduler/graph/dot"}, {http.MethodPost, "/ping"}, {http.MethodDelete, "/v1/scheduler/leader"},
	} {
		add(hostile.Case{Name: mp.method + " " + mp.path, Method: mp.method, Path: mp.path, Body: []byte(`{}`), Want: 405})
	}
	add(hostile.Case{Name: "unknown API version", Path: "/v2/scheduler/jobs", Want: 404})
	add(hostile.Case{Name: "long unknown path", Path: "/" + strings.Repeat("a/", 20000), Want: 404})

	// Job names in paths: unknown, traversal, encoded slashes.
	for _, name := range []string{"nope", "%2e%2e", "..%2F..%2Fbase", "base%2F..", "base%00", "BASE", "b%20ase", strings.Repeat("a", 5000)} {
		add(hostile.Case{Name: "run " + name, Method: http.MethodPut, Path: "/v1/scheduler/job/" + name, Want: 404})
		add(hostile.Case{Name: "delete " + name, Method: http.MethodDelete, Path: "/v1/scheduler/job/" + name, Want: 404})
		add(hostile.Case{Name: "mark success " + name, Method: http.MethodPut, Path: "/v1/scheduler/job/success/" + name, Want: 404})
		add(hostile.Case{Name: "kill " + name, Method: http.MethodDelete, Path: "/v1/scheduler/task/kill/" + name, Want: 404})
	}
	add(hostile.Case{Name: "stat of an unknown job", Path: "/v1/scheduler/job/stat/nope", Want: 404, Mention: "nope"})
	add(hostile.Case{Name: "history of an unknown job", Path: "/v1/scheduler/history/..%2Fbase", Want: 404})

	// Query parameters.
	for _, q := range []string{"limit=-1", "limit=abc", "limit=99999999999999999999999", "limit=1e3"} {
		add(hostile.Case{Name: "history " + q, Path: "/v1/scheduler/history/base?" + q, Want: 400, Mention: "limit"})
	}
	for _, q := range []string{"limit=-5", "offset=x", "offset=-1", "limit=0x10"} {
		add(hostile.Case{Name: "search " + q, Path: "/v1/scheduler/jobs/search?" + q, Want: 400})
	}
	for _, p := range []string{"abc", "%2e%2e", "-1", "NaN", "1e999"} {
		add(hostile.Case{Name: "stats percentile " + p, Path: "/v1/scheduler/stats/" + p, Want: 400, Mention: "percentile"})
	}

	// Job definitions, each naming its field.
	bad := []struct {
		name, path, body, mention string
	}{
		{"name missing", "iso8601", jobDef("name", ""), "name"},
		{"name empty", "iso8601", jobDef("name", `""`), "name"},
		{"name with a space", "iso8601", jobDef("name", `"a b"`), "name"},
		{"name with a slash", "iso8601", jobDef("name", `"a/b"`), "name"},
		{"name traversal", "iso8601", jobDef("name", `"../../etc"`), "name"},
		{"name dot", "iso8601", jobDef("name", `"."`), "name"},
		{"name dot dot", "iso8601", jobDef("name", `".."`), "name"},
		{"name percent-encoded", "iso8601", jobDef("name", `"%2e%2e"`), "name"},
		{"name with a colon", "iso8601", jobDef("name", `"a:b"`), "name"},
		{"name with @", "iso8601", jobDef("name", `"a@b"`), "name"},
		{"name with NUL", "iso8601", jobDef("name", `"a\u0000b"`), "name"},
		{"name unicode", "iso8601", jobDef("name", `"jöb"`), "name"},
		{"name an object", "iso8601", jobDef("name", `{"a":1}`), "name"},
		{"name of 201 characters", "iso8601", jobDef("name", `"`+strings.Repeat("a", 201)+`"`), "name"},
		{"name of 100000 characters", "iso8601", jobDef("name", `"`+strings.Repeat("a", 100000)+`"`), "name"},
		{"command missing", "iso8601", jobDef("command", ""), "command"},
		{"command blank", "iso8601", jobDef("command", `"   "`), "command"},
		{"command an array", "iso8601", jobDef("command", `["true"]`), "command"},
		{"schedule missing", "iso8601", jobDef("schedule", ""), "schedule"},
		{"schedule garbage", "iso8601", jobDef("schedule", `"sometimes"`), "schedule"},
		{"schedule a number", "iso8601", jobDef("schedule", `5`), "schedule"},
		{"schedule month 13", "iso8601", jobDef("schedule", `"R/2099-13-01T00:00:00Z/PT1H"`), "schedule"},
		{"schedule February 30", "iso8601", jobDef("schedule", `"R/2099-02-30T00:00:00Z/PT1H"`), "schedule"},
		{"schedule hour 25", "iso8601", jobDef("schedule", `"R/2099-01-01T25:00:00Z/PT1H"`), "schedule"},
		{"schedule empty period", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00Z/P"`), "schedule"},
		{"schedule period PT", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00Z/PT"`), "schedule"},
		{"schedule zero period", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00Z/PT0S"`), "schedule"},
		{"schedule negative period", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00Z/-PT1H"`), "schedule"},
		{"schedule unknown period unit", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00Z/P1Q"`), "schedule"},
		{"schedule period overflow", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00Z/PT99999999999999999999S"`), "schedule"},
		{"schedule negative repeats", "iso8601", jobDef("schedule", `"R-1/2099-01-01T00:00:00Z/PT1H"`), "schedule"},
		{"schedule repeats not a number", "iso8601", jobDef("schedule", `"Rx/2099-01-01T00:00:00Z/PT1H"`), "schedule"},
		{"schedule repeats overflow", "iso8601", jobDef("schedule", `"R99999999999999999999/2099-01-01T00:00:00Z/PT1H"`), "schedule"},
		{"schedule without R", "iso8601", jobDef("schedule", `"2099-01-01T00:00:00Z/PT1H"`), "schedule"},
		{"schedule four parts", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00Z/PT1H/PT1H"`), "schedule"},
		{"schedule only slashes", "iso8601", jobDef("schedule", `"//"`), "schedule"},
		{"schedule bad offset", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00+25:00/PT1H"`), "schedule"},
		{"schedule year 0", "iso8601", jobDef("schedule", `"R/0000-01-01T00:00:00Z/PT1H"`), "schedule"},
		{"schedule year 99999", "iso8601", jobDef("schedule", `"R/99999-01-01T00:00:00Z/PT1H"`), "schedule"},
		{"schedule of 100000 characters", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00Z/P`+strings.Repeat("1", 100000)+`D"`), "schedule"},
		{"schedule with a NUL", "iso8601", jobDef("schedule", `"R/2099-01-01T00:00:00Z/PT1H\u0000"`), "schedule"},
		{"cron minute 61", "iso8601", jobDef("schedule", `"61 * * * *"`), "schedule"},
		{"cron step 0", "iso8601", jobDef("schedule", `"*/0 * * * *"`), "schedule"},
		{"cron seven fields", "iso8601", jobDef("schedule", `"* * * * * * *"`), "schedule"},
		{"cron three fields", "iso8601", jobDef("schedule", `"* * *"`), "schedule"},
		{"cron reversed range", "iso8601", jobDef("schedule", `"0 5-2 * * *"`), "schedule"},
		{"cron month 13", "iso8601", jobDef("schedule", `"0 0 1 13 *"`), "schedule"},
		{"cron day-of-week 8", "iso8601", jobDef("schedule", `"0 0 * * 8"`), "schedule"},
		{"cron February 31 only", "iso8601", jobDef("schedule", `"0 0 31 2 *"`), "schedule"},
		{"cron descriptor unknown", "iso8601", jobDef("schedule", `"@sometimes"`), "schedule"},
		{"scheduleTimeZone unknown", "iso8601", jobDef("scheduleTimeZone", `"Mars/Olympus_Mons"`), "scheduleTimeZone"},
		{"scheduleTimeZone traversal", "iso8601", jobDef("scheduleTimeZone", `"../../../etc/passwd"`), "scheduleTimeZone"},
		{"scheduleTimeZone absolute path", "iso8601", jobDef("scheduleTimeZone", `"/etc/localtime"`), "scheduleTimeZone"},
		{"scheduleTimeZone Local", "iso8601", jobDef("scheduleTimeZone", `"Local"`), "scheduleTimeZone"},
		{"scheduleTimeZone offset out of range", "iso8601", jobDef("scheduleTimeZone", `"GMT+25"`), "scheduleTimeZone"},
		{"scheduleTimeZone with NUL", "iso8601", jobDef("scheduleTimeZone", `"UTC\u0000"`), "scheduleTimeZone"},
		{"parents on iso8601", "iso8601", jobDef("parents", `["base"]`), "parents"},
		{"schedule and parents on dependency", "dependency", depDef("schedule", `"R/2099-01-01T00:00:00Z/PT1H"`), "parents"},
		{"parents missing on dependency", "dependency", depDef("parents", ""), "parents"},
		{"parents empty", "dependency", depDef("parents", `[]`), "parents"},
		{"parent that does not exist", "dependency", depDef("parents", `["nope"]`), "nope"},
		{"parent traversal", "dependency", depDef("parents", `["../base"]`), "parents[0]"},
		{"parent itself", "dependency", depDef("parents", `["new"]`), "parents[0]"},
		{"parent twice", "dependency", depDef("parents", `["base","base"]`), "parents[1]"},
		{"parents a string", "dependency", depDef("parents", `"base"`), "parents"},
		{"parents numbers", "dependency", depDef("parents", `[1]`), "parents"},
		{"cycle through the chain", "dependency", depDef("name", `"child"`, "parents", `["grandchild"]`), "parents"},
		{"cycle of two", "dependency", depDef("name", `"child"`, "parents", `["child"]`), "parents"},
		{"scheduled job turned dependent on its own child", "dependency", depDef("name", `"base"`, "parents", `["child"]`), "parents"},
		{"epsilon years", "iso8601", jobDef("epsilon", `"P1Y"`), "epsilon"},
		{"epsilon negative", "iso8601", jobDef("epsilon", `"-PT1S"`), "epsilon"},
		{"epsilon garbage", "iso8601", jobDef("epsilon", `"soon"`), "epsilon"},
		{"epsilon overflow", "iso8601", jobDef("epsilon", `"PT99999999999999999999S"`), "epsilon"},
		{"epsilon a number", "iso8601", jobDef("epsilon", `60`), "epsilon"},
		{"retries -1", "iso8601", jobDef("retries", `-1`), "retries"},
		{"retries above int32", "iso8601", jobDef("retries", `2147483648`), "retries"},
		{"retries 1e18", "iso8601", jobDef("retries", `1000000000000000000`), "retries"},
		{"retries 1e999", "iso8601", jobDef("retries", `1e999`), "retries"},
		{"retries a string", "iso8601", jobDef("retries", `"two"`), "retries"},
		{"retries 1.5", "iso8601", jobDef("retries", `1.5`), "retries"},
		{"cpus -1", "iso8601", jobDef("cpus", `-1`), "cpus"},
		{"cpus 1e999", "iso8601", jobDef("cpus", `1e999`), "cpus"},
		{"cpus NaN string", "iso8601", jobDef("cpus", `"NaN"`), "cpus"},
		{"cpus a boolean", "iso8601", jobDef("cpus", `true`), "cpus"},
		{"mem -1", "iso8601", jobDef("mem", `-1`), "mem"},
		{"mem Infinity string", "iso8601", jobDef("mem", `"Infinity"`), "mem"},
		{"mem -Infinity string", "iso8601", jobDef("mem", `"-Infinity"`), "mem"},
		{"disk NaN string", "iso8601", jobDef("disk", `"NaN"`), "disk"},
		{"disk -1e308", "iso8601", jobDef("disk", `-1e308`), "disk"},
		{"maxCompletionTime -1", "iso8601", jobDef("maxCompletionTime", `-1`), "maxCompletionTime"},
		{"shell a string", "iso8601", jobDef("shell", `"yes"`), "shell"},
		{"disabled a number", "iso8601", jobDef("disabled", `1`), "disabled"},
		{"arguments a string", "iso8601", jobDef("arguments", `"-v"`), "arguments"},
		{"constraint operator unknown", "iso8601", jobDef("constraints", `[["rack","NEAR","r1"]]`), "constraints[0]"},
		{"constraint operator GROUP_BY", "iso8601", jobDef("constraints", `[["rack","GROUP_BY","2"]]`), "constraints[0]"},
		{"constraint LIKE bad regex", "iso8601", jobDef("constraints", `[["rack","LIKE","("]]`), "constraints[0]"},
		{"constraint without attribute", "iso8601", jobDef("constraints", `[["","EQUALS","r1"]]`), "constraints[0]"},
		{"constraint of one element", "iso8601", jobDef("constraints", `[["rack"]]`), "constraints"},
		{"constraints an object", "iso8601", jobDef("constraints", `{"rack":"r1"}`), "constraints"},
		{"fetch without uri", "iso8601", jobDef("fetch", `[{"executable":true}]`), "fetch[0].uri"},
		{"uris and fetch", "iso8601", jobDef("uris", `["http://a/b"]`, "fetch", `[{"uri":"http://a/c"}]`), "uris"},
		{"uris with an empty one", "iso8601", jobDef("uris", `[""]`), "uris[0]"},
		{"environment variable without name", "iso8601", jobDef("environmentVariables", `[{"value":"x"}]`), "environmentVariables[0].name"},
		{"environment variables an object", "iso8601", jobDef("environmentVariables", `{"A":"x"}`), "environmentVariables"},
		{"container a string", "iso8601", jobDef("container", `"docker"`), "container"},
	}
	for _, b := range bad {
		method := http.MethodPost
		if strings.Contains(b.name, "cycle") || strings.Contains(b.name, "turned") {
			method = http.MethodPut // replacing an existing job
		}
		add(hostile.Case{Name: b.path + " " + b.name, Method: method, Path: "/v1/scheduler/" + b.path, Body: []byte(b.body), Want: 400, Mention: b.mention})
	}
	return cs
}
