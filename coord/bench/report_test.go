package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// fakeResult builds a result whose every figure is scale times a base, so a
// compare table's ratio column has known values.
func fakeResult(label string, scale float64, cfg Config) *Result {
	cfg = cfg.withDefaults()
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond) / scale) }
	r := &Result{Target: Target{Label: label, Servers: []string{"127.0.0.1:2181"}}}
	r.Phases = append(r.Phases, Phase{Op: "create", Mode: ModeSequential, Sessions: 1, InFlight: 1, Ops: cfg.SeqOps,
		OpsPerSec: 1712 * scale, Latency: Latency{P50: ms(0.5), P99: ms(1.9)}})
	for _, l := range []struct{ inFlight, sessions int }{{cfg.InFlight, 1}, {cfg.SessionsInFlight, cfg.Sessions}} {
		for i, op := range []string{"create", "set", "get", "delete"} {
			r.Phases = append(r.Phases, Phase{Op: op, Mode: ModeAsync, Sessions: l.sessions, InFlight: l.inFlight,
				Ops: cfg.Ops, OpsPerSec: float64(10000+1000*i) * scale, Latency: Latency{P50: ms(3), P99: ms(12.5)}})
		}
	}
	r.Phases = append(r.Phases, Phase{Op: "watch", Mode: ModeWatch, Sessions: 2, InFlight: 1, Ops: cfg.SeqOps,
		OpsPerSec: 900 * scale, Latency: Latency{P50: ms(0.4), P99: ms(150)}})
	r.Memory = &Memory{Znodes: 100000, ValueSize: memValueSize, RSSBefore: int64(60 << 20 / scale), RSS: int64(300 << 20 / scale)}
	return r
}

func TestWriteTableCompare(t *testing.T) {
	cfg := Config{Ops: 20000, SeqOps: 2000}
	results := []*Result{fakeResult("zookeeper", 1, cfg), fakeResult("strata", 2, cfg)}
	var b bytes.Buffer
	if err := WriteTable(&b, cfg, results); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.golden", b.Bytes())

	b.Reset()
	if err := WriteMarkdown(&b, cfg, results); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.md.golden", b.Bytes())
}

func TestWriteTableOneTargetWithoutMemory(t *testing.T) {
	cfg := Config{Ops: 200, SeqOps: 20}
	r := fakeResult("127.0.0.1:2181", 1, cfg)
	r.Memory = nil
	var b bytes.Buffer
	if err := WriteTable(&b, cfg, []*Result{r}); err != nil {
		t.Fatal(err)
	}
	golden(t, "single.golden", b.Bytes())
}

func TestWriteJSONRoundTrips(t *testing.T) {
	cfg := Config{Ops: 20000, SeqOps: 2000}
	results := []*Result{fakeResult("zookeeper", 1, cfg), fakeResult("strata", 2, cfg)}
	var b bytes.Buffer
	if err := WriteJSON(&b, cfg, results); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("decode report: %v\n%s", err, b.String())
	}
	if !reflect.DeepEqual(back.Results, results) {
		t.Errorf("results changed in a JSON round trip")
	}
	if back.Config.InFlight != DefaultInFlight || back.Config.Ops != 20000 {
		t.Errorf("config = %+v, want defaults filled in and ops 20000", back.Config)
	}
	for _, key := range []string{`"ops_per_sec"`, `"p99_ns"`, `"rss_bytes"`, `"client_cpu_cores"`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- { // reversed: summarize must sort
		lat = append(lat, time.Duration(i))
	}
	got := summarize(lat)
	want := Latency{P50: 50, P99: 99, P999: 100, Max: 100}
	if got != want {
		t.Errorf("summarize(1..100) = %+v, want %+v", got, want)
	}
	if got := summarize([]time.Duration{7}); got != (Latency{7, 7, 7, 7}) {
		t.Errorf("summarize([7]) = %+v", got)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Errorf("summarize(nil) = %+v", got)
	}
}

func TestParseTargets(t *testing.T) {
	tests := []struct {
		spec    string
		want    []Target
		wantErr string
	}{
		{spec: "zookeeper=127.0.0.1:2181,strata=127.0.0.1:2182", want: []Target{
			{Label: "zookeeper", Servers: []string{"127.0.0.1:2181"}},
			{Label: "strata", Servers: []string{"127.0.0.1:2182"}},
		}},
		{spec: "zk=h1:2181,h2:2181,h3:2181,strata=h1:2182", want: []Target{
			{Label: "zk", Servers: []string{"h1:2181", "h2:2181", "h3:2181"}},
			{Label: "strata", Servers: []string{"h1:2182"}},
		}},
		{spec: "[::1]:2181", wantErr: "no name="},
		{spec: "a=h:1,a=h:2", wantErr: "given twice"},
		{spec: "a=h", wantErr: "want host:port"},
		{spec: "=h:1", wantErr: "empty name"},
		{spec: "a=h:1,", wantErr: "empty item"},
	}
	for _, tt := range tests {
		got, err := ParseTargets(tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTargets(%q) error = %v, want one containing %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTargets(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg     Config
		wantErr string
	}{
		{Config{Ops: 10, SeqOps: 10}, ""},
		{Config{Ops: -1}, "ops -1"},
		{Config{Root: "/"}, "root"},
		{Config{Root: "relative"}, "root"},
		{Config{Root: "/a/../b"}, "root"},
		{Config{Root: "/a/b"}, ""},
		{Config{Sessions: 8, SessionsInFlight: 4}, "sessions-in-flight"},
		{Config{ValueSize: 2 << 20}, "value-size"},
	}
	for _, tt := range tests {
		err := tt.cfg.withDefaults().validate()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("validate(%+v) = %v, want error containing %q", tt.cfg, err, tt.wantErr)
		}
	}
}
