package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/zktest"
)

// tinyConfig runs every phase, memory included, with op counts that take a
// second or two, so the test checks the structure of a result, never speed.
func tinyConfig(progress *bytes.Buffer) Config {
	return Config{Ops: 200, SeqOps: 20, Warmup: 50, ValueSize: 1024, Znodes: 300, Progress: progress}
}

// TestIntegration_ApacheZooKeeper runs the whole benchmark, twice as a
// compare, against a real Apache ZooKeeper and checks the result is sane and
// the server is left as it was found.
func TestIntegration_ApacheZooKeeper(t *testing.T) {
	addr := zktest.Apache(t)
	var progress bytes.Buffer
	cfg := tinyConfig(&progress)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	targets := []Target{
		{Label: "first", Servers: []string{addr}},
		{Label: "second", Servers: []string{addr}},
	}
	results, err := RunAll(ctx, cfg, targets)
	if err != nil {
		t.Fatalf("RunAll: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("progress:\n%s", progress.String())
	if len(results) != 2 {
		t.Fatalf("%d results, want 2", len(results))
	}
	pid, err := ListenerPID(addr)
	if err != nil {
		t.Fatalf("ListenerPID(%s): %v", addr, err)
	}
	for _, r := range results {
		checkResult(t, cfg.withDefaults(), r, pid)
	}
	if results[0].Root == results[1].Root {
		t.Errorf("both runs used root %s; each must pick a unique one", results[0].Root)
	}

	// Everything was cleaned up: the server holds only what it started with.
	conn, err := dial(ctx, []string{addr}, 10*time.Second, &progress)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kids, _, err := conn.Children("/")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		if strings.HasPrefix(k, "strata-bench-") {
			t.Errorf("root /%s left behind", k)
		}
	}

	var table bytes.Buffer
	if err := WriteTable(&table, cfg, results); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"second/first", "sequential create", "async, 32 in flight on 1 session",
		"async, 64 in flight on 8 sessions", "data watch latency", "memory, 300 znodes"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, cfg, results); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != 2 {
		t.Errorf("JSON report does not decode to 2 results: %v", err)
	}
}

// checkResult asserts the shape of one target's result: every phase present
// once with its op count, positive rates, ordered percentiles.
func checkResult(t *testing.T, cfg Config, r *Result, pid int) {
	t.Helper()
	if r.Target.PID != pid {
		t.Errorf("%s: target pid %d, want %d (the listener)", r.Target.Label, r.Target.PID, pid)
	}
	want := map[string]int{ModeSequential + " create 1/1": cfg.SeqOps, ModeWatch + " watch 1/2": cfg.SeqOps}
	for _, op := range []string{"create", "set", "get", "delete"} {
		want[ModeAsync+" "+op+" 32/1"] = cfg.Ops
		want[ModeAsync+" "+op+" 64/8"] = cfg.Ops
	}
	seen := map[string]bool{}
	for _, p := range r.Phases {
		key := p.Key()
		n, ok := want[key]
		if !ok || seen[key] {
			t.Errorf("%s: unexpected or repeated phase %q", r.Target.Label, key)
			continue
		}
		seen[key] = true
		if p.Ops != n {
			t.Errorf("%s: %s: %d ops, want %d", r.Target.Label, key, p.Ops, n)
		}
		if !(p.OpsPerSec > 0) || !(p.Seconds > 0) {
			t.Errorf("%s: %s: %v ops/s over %vs, want both positive", r.Target.Label, key, p.OpsPerSec, p.Seconds)
		}
		l := p.Latency
		if !(0 < l.P50 && l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
			t.Errorf("%s: %s: latency %+v, want 0 < p50 <= p99 <= p999 <= max", r.Target.Label, key, l)
		}
		if p.ServerCPU == nil {
			t.Errorf("%s: %s: no server CPU figure although the pid is known", r.Target.Label, key)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%s: %d phases, want %d", r.Target.Label, len(seen), len(want))
	}
	m := r.Memory
	if m == nil {
		t.Fatalf("%s: no memory result", r.Target.Label)
	}
	if m.Znodes != cfg.Znodes || m.PID != pid || m.RSSBefore <= 0 || m.RSS <= 0 || m.HWM < m.RSS {
		t.Errorf("%s: memory %+v, want %d znodes, pid %d, positive RSS, HWM >= RSS", r.Target.Label, *m, cfg.Znodes, pid)
	}
}

// TestRunRefusesExistingRoot: the run deletes its root afterwards, so it
// must never adopt a node someone else made.
func TestIntegration_RunRefusesExistingRoot(t *testing.T) {
	addr := zktest.Apache(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := dial(ctx, []string{addr}, 10*time.Second, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create("/mine", []byte("keep"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, Config{Ops: 10, SeqOps: 2, Root: "/mine"}, Target{Label: "zk", Servers: []string{addr}})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Run with an existing root: %v, want an 'already exists' error", err)
	}
	data, _, err := conn.Get("/mine")
	if err != nil || string(data) != "keep" {
		t.Errorf("/mine after the refused run: %q, %v; want it untouched", data, err)
	}
}
