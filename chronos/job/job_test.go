package job

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	now      = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	defaults = Defaults{CPUs: 0.1, Mem: 128, Disk: 256, Epsilon: "PT60S"}
)

// compatDir holds real Chronos job JSON that must be accepted unchanged.
// It lives outside the repository and is read in place, never copied.
const compatDir = "/work/shared/compat/chronos"

type compatCase struct {
	name     string
	body     []byte
	endpoint string // from the .source file: /v1/scheduler/iso8601 or /dependency
	expect   string // accept or reject
}

func loadCompat(t *testing.T) []compatCase {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(compatDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("no Chronos compatibility fixtures: %s/*.json does not exist on this machine", compatDir)
	}
	var out []compatCase
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := compatCase{name: filepath.Base(f), body: body, expect: "accept"}
		src, err := os.ReadFile(strings.TrimSuffix(f, ".json") + ".source")
		if err == nil {
			for _, line := range strings.Split(string(src), "\n") {
				if v, ok := strings.CutPrefix(line, "endpoint: POST "); ok {
					c.endpoint = strings.TrimSpace(v)
				}
				if v, ok := strings.CutPrefix(line, "expect: "); ok {
					c.expect = strings.TrimSpace(v)
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func kindFor(endpoint string) Kind {
	switch {
	case strings.HasSuffix(endpoint, "/iso8601"):
		return Scheduled
	case strings.HasSuffix(endpoint, "/dependency"):
		return Dependent
	}
	return Any
}

func TestCompatFixtures(t *testing.T) {
	for _, c := range loadCompat(t) {
		t.Run(c.name, func(t *testing.T) {
			j, err := Parse(c.body, kindFor(c.endpoint), defaults, now)
			if c.expect == "reject" {
				var ve *Errors
				if !errors.As(err, &ve) {
					t.Fatalf("accepted, want a 400 naming the field (err %v)", err)
				}
				t.Logf("rejected as expected: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			// Round trip: what we print reads back to the same job.
			out, err := json.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Decode(out)
			if err != nil {
				t.Fatalf("re-decode: %v\n%s", err, out)
			}
			again.ignored = j.ignored
			if !reflect.DeepEqual(j, again) {
				t.Errorf("round trip changed the job:\n first %+v\nsecond %+v", j, again)
			}
			// Every field the fixture sets survives with its value, except the
			// ones Chronos itself ignores.
			var in, printed map[string]any
			_ = json.Unmarshal(c.body, &in)
			_ = json.Unmarshal(out, &printed)
			for k, v := range in {
				if isIgnored(j, k) {
					continue
				}
				if pv, ok := printed[k]; !ok || !reflect.DeepEqual(pv, v) {
					t.Errorf("field %s: sent %v, printed %v", k, v, pv)
				}
			}
		})
	}
}

func isIgnored(j *Job, k string) bool {
	for _, i := range j.IgnoredFields() {
		if i == k {
			return true
		}
	}
	return false
}

func TestDecodeDefaultsAndLeniency(t *testing.T) {
	j, err := Decode([]byte(`{"name":"a","command":"true","schedule":"R//PT1M","async":true,"dataJob":false}`))
	if err != nil {
		t.Fatal(err)
	}
	if !j.Shell || j.Retries != 2 || j.CPUs != 0 || j.Epsilon != "" {
		t.Errorf("Decode defaults: shell %v retries %d cpus %v epsilon %q", j.Shell, j.Retries, j.CPUs, j.Epsilon)
	}
	if got := j.IgnoredFields(); !reflect.DeepEqual(got, []string{"async", "dataJob"}) {
		t.Errorf("IgnoredFields = %v", got)
	}
	j.ApplyDefaults(Defaults{CPUs: 0.1, Mem: 128, Disk: 256, Epsilon: "PT60S", RunAsUser: "nobody"})
	if j.CPUs != 0.1 || j.Mem != 128 || j.Disk != 256 || j.Epsilon != "PT60S" || j.RunAsUser != "nobody" {
		t.Errorf("ApplyDefaults: %+v", j)
	}
	if d, ok := j.EpsilonDuration(); !ok || d != time.Minute {
		t.Errorf("EpsilonDuration = %v %v", d, ok)
	}
	if s, err := j.ParseSchedule(now); err != nil || s.String() != "R/2024-06-01T12:00:00.000Z/PT1M" {
		t.Errorf("ParseSchedule = %v, %v", s, err)
	}
	j.PinStart(now)
	if j.Schedule != "R/2024-06-01T12:00:00.000Z/PT1M" {
		t.Errorf("PinStart left %q", j.Schedule)
	}
	p, err := Parse([]byte(`{"name":"a","command":"x","schedule":"R1//PT24H","scheduleTimeZone":"Europe/Berlin"}`), Scheduled, defaults, now)
	if err != nil || p.Schedule != "R1/2024-06-01T14:00:00.000+02:00/PT24H" {
		t.Errorf("Parse pins an empty start: %q, %v", p.Schedule, err)
	}

	// Chronos' docker example writes numbers as strings; null is absent; 0
	// resources take the defaults; explicit values win.
	j, err = Parse([]byte(`{"name":"dockerjob","command":"x","schedule":"R/2014-09-25T17:22:00Z/PT2M",
		"cpus":"0.5","mem":"512","disk":0,"shell":null,"retries":"3","disabled":"true","maxCompletionTime":60.0,
		"container":{"type":"DOCKER", "image":"libmesos/ubuntu"},"fetch":[{"uri":"http://x/y"}]}`), Scheduled, defaults, now)
	if err != nil {
		t.Fatal(err)
	}
	if j.CPUs != 0.5 || j.Mem != 512 || j.Disk != 256 || !j.Shell || j.Retries != 3 || !j.Disabled || j.MaxCompletionTime != 60 {
		t.Errorf("lenient decode: %+v", j)
	}
	if string(j.Container) != `{"type":"DOCKER","image":"libmesos/ubuntu"}` {
		t.Errorf("container = %s", j.Container)
	}
	if !j.Fetch[0].Extract || j.Fetch[0].Cache || j.Fetch[0].Executable {
		t.Errorf("fetch defaults (extract true, like Chronos) = %+v", j.Fetch[0])
	}
}

func TestMarshalShape(t *testing.T) {
	j, err := Parse([]byte(`{"name":"a","command":"true","schedule":"R/2024-01-01T00:00:00Z/P1D",
		"constraints":[["rack","EQUALS","r1"],["host","LIKE","web-[0-9]+"]]}`), Scheduled, defaults, now)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(j)
	s := string(out)
	for _, want := range []string{
		`{"name":"a","command":"true","shell":true,"epsilon":"PT60S",`,
		`"lastSuccess":"","lastError":""`,
		`"fetch":[],"uris":[],"environmentVariables":[],"arguments":[]`,
		`"constraints":[["rack","EQUALS","r1"],["host","LIKE","web-[0-9]+"]]`,
		`"schedule":"R/2024-01-01T00:00:00Z/P1D","scheduleTimeZone":""}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	if strings.Contains(s, `"parents"`) || strings.Contains(s, `"container"`) {
		t.Errorf("scheduled job without container printed parents or container:\n%s", s)
	}
	d, err := Parse([]byte(`{"name":"b","command":"true","parents":["a"]}`), Dependent, defaults, now)
	if err != nil {
		t.Fatal(err)
	}
	out, _ = json.Marshal(d)
	if !strings.HasSuffix(string(out), `"parents":["a"]}`) || strings.Contains(string(out), `"schedule"`) {
		t.Errorf("dependent job printed as\n%s", out)
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name   string
		kind   Kind
		body   string
		fields []string
		want   string // substring of the message
	}{
		{"no name, no command", Scheduled, `{"schedule":"R//P1D"}`, []string{"name", "command"}, "required"},
		{"bad name", Scheduled, `{"name":"a b","command":"x","schedule":"R//P1D"}`, []string{"name"}, "must match"},
		{"bad period", Scheduled, `{"name":"a","command":"x","schedule":"R/2024-01-01T00:00:00Z/P1X"}`, []string{"schedule"},
			`schedule: period "P1X": unknown designator 'X'`},
		{"zero period", Scheduled, `{"name":"a","command":"x","schedule":"R//PT0S"}`, []string{"schedule"}, "longer than zero"},
		{"bad cron", Scheduled, `{"name":"a","command":"x","schedule":"61 * * * *"}`, []string{"schedule"}, "cron"},
		{"bad zone", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","scheduleTimeZone":"Mars/Base"}`, []string{"scheduleTimeZone"}, "Mars/Base"},
		{"no schedule", Scheduled, `{"name":"a","command":"x"}`, []string{"schedule"}, "R1//PT24H"},
		{"parents on iso8601", Scheduled, `{"name":"a","command":"x","parents":["b"]}`, []string{"parents"}, "/dependency"},
		{"no parents on dependency", Dependent, `{"name":"a","command":"x","schedule":"R//P1D"}`, []string{"parents"}, "required"},
		{"both", Any, `{"name":"a","command":"x","schedule":"R//P1D","parents":["b"]}`, []string{"parents"}, "not both"},
		{"self parent", Dependent, `{"name":"a","command":"x","parents":["a"]}`, []string{"parents[0]"}, "own parent"},
		{"duplicate parent", Dependent, `{"name":"a","command":"x","parents":["b","b"]}`, []string{"parents[1]"}, "twice"},
		{"bad epsilon", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","epsilon":"30m"}`, []string{"epsilon"}, "expected P"},
		{"month epsilon", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","epsilon":"P1M"}`, []string{"epsilon"}, "fixed length"},
		{"negatives", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","retries":-1,"cpus":-1,"maxCompletionTime":-5}`,
			[]string{"retries", "cpus", "maxCompletionTime"}, "0 or more"},
		{"uris and fetch", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","uris":["u"],"fetch":[{"uri":"v"}]}`, []string{"uris"}, "not both"},
		{"fetch without uri", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","fetch":[{"cache":true}]}`, []string{"fetch[0].uri"}, "required"},
		{"env without name", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","environmentVariables":[{"value":"v"}]}`,
			[]string{"environmentVariables[0].name"}, "required"},
		{"bad operator", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","constraints":[["rack","GROUP_BY","2"]]}`,
			[]string{"constraints[0]"}, "EQUALS, LIKE or UNLIKE"},
		{"bad regexp", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","constraints":[["rack","LIKE","r[1"]]}`,
			[]string{"constraints[0]"}, "regular expression"},
		{"short constraint", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","constraints":[["rack","EQUALS"]]}`,
			[]string{"constraints[0]"}, "expected ["},
		{"wrong types", Scheduled, `{"name":"a","command":"x","schedule":"R//P1D","cpus":"lots","shell":"yes","retries":2.5,"arguments":"-v","container":"img"}`,
			[]string{"arguments", "shell", "retries", "cpus", "container"}, "expected"},
		{"not JSON", Scheduled, `{"name":`, []string{"body"}, "invalid JSON"},
		{"not an object", Scheduled, `[1,2]`, []string{"body"}, "JSON object"},
		{"null", Scheduled, `null`, []string{"body"}, "JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body), tc.kind, defaults, now)
			var ve *Errors
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *Errors", err)
			}
			if !reflect.DeepEqual(ve.Fields(), tc.fields) {
				t.Errorf("fields %v, want %v (%v)", ve.Fields(), tc.fields, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestConstraintMatches(t *testing.T) {
	for _, c := range []struct {
		con   Constraint
		value string
		want  bool
	}{
		{Constraint{"rack", OpEquals, "r1"}, "r1", true},
		{Constraint{"rack", OpEquals, "r1"}, "r10", false},
		{Constraint{"rack", OpLike, "rack-[1-3]"}, "rack-2", true},
		{Constraint{"rack", OpLike, "rack-[1-3]"}, "rack-22", false}, // whole value, like Java's matches()
		{Constraint{"rack", OpUnlike, "rack-[1-3]"}, "rack-4", true},
		{Constraint{"rack", OpUnlike, "rack-[1-3]"}, "rack-1", false},
	} {
		if got := c.con.Matches(c.value); got != c.want {
			t.Errorf("%v.Matches(%q) = %v", c.con, c.value, got)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	j := &Job{Name: "a", Parents: []string{"p"}, Container: json.RawMessage(`{}`), Fetch: []Fetch{{URI: "u"}}}
	c := j.Clone()
	c.Parents[0], c.Container[0], c.Fetch[0].URI = "q", '[', "v"
	if j.Parents[0] != "p" || j.Container[0] != '{' || j.Fetch[0].URI != "u" {
		t.Errorf("Clone shares memory: %+v", j)
	}
}
