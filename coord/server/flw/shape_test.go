package flw

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Apache's session ids in the captured goldens; shapeSnapshot reuses them so
// the watch and dump words can be compared entry for entry.
const (
	sessA int64 = 0x1000009b0760000
	sessB int64 = 0x1000009b0760001
)

// shapeSnapshot is the state TestCaptureApache builds on Apache ZooKeeper:
// session A owns /app/e1 and watches /app and /app/e1 (plus a child watch
// on /app, which the watch words do not list), session B owns /app/e2 and
// watches /missing, and a third connection is the one asking.
func shapeSnapshot() Snapshot {
	utc := time.UTC
	est := time.Date(2026, 11, 21, 13, 31, 25, 854e6, utc)
	sessionExpiry := time.Date(2026, 11, 21, 13, 31, 56, 0, utc)
	connExpiry := time.Date(2026, 11, 21, 13, 32, 0, 0, utc)
	return Snapshot{
		Version:          FullVersion("v0.1.0", time.Date(2026, 11, 20, 9, 0, 0, 0, utc)),
		ServerState:      "standalone",
		Zxid:             5,
		Received:         17,
		Sent:             16,
		AliveConnections: 3,
		NodeCount:        8,
		MinLatency:       1,
		AvgLatency:       67.0 / 9,
		MaxLatency:       16,
		WatchCount:       4,
		EphemeralsCount:  2,
		ApproxDataSize:   63,
		GlobalSessions:   2,
		OpenFDs:          41,
		MaxFDs:           20000,
		Uptime:           676 * time.Millisecond,
		LastResponseSize: 16, MinResponseSize: 16, MaxResponseSize: 100,
		Counters: map[string]int64{"bytes_received_count": 391, "stale_sessions_expired": 0},
		Summaries: map[string]Summary{
			"fsynctime":     {Count: 5},
			"snapshottime":  {Count: 1},
			"updatelatency": {Count: 5, Sum: 24, Min: 1, Max: 10, Quantiles: stdQuantiles(2, 10, 10, 10)},
			"readlatency":   {Count: 4, Sum: 43, Min: 6, Max: 16, Quantiles: stdQuantiles(11, 16, 16, 16)},
		},
		Connections: []Conn{
			{Remote: "127.0.0.1:56184", InterestOps: 1, Received: 6, Sent: 6, SessionID: sessA, LastOp: "GETC",
				Established: est, Timeout: 30 * time.Second, LastCxid: 5, LastZxid: 5,
				LastResponse: est.Add(time.Second), LastLatency: 6, AvgLatency: 8, MaxLatency: 16, Expires: connExpiry},
			{Remote: "127.0.0.1:56230", Received: 1, LastCxid: -1, LastZxid: -1,
				Expires: connExpiry.Add(-20 * time.Second)},
			{Remote: "127.0.0.1:56192", InterestOps: 1, Received: 3, Sent: 3, SessionID: sessB, LastOp: "EXIS",
				Established: est, Timeout: 30 * time.Second, LastCxid: 2, LastZxid: 5,
				LastResponse: est.Add(time.Second), LastLatency: 10, AvgLatency: 4, MaxLatency: 10, Expires: connExpiry},
		},
		Sessions:   []Session{{sessA, sessionExpiry}, {sessB, sessionExpiry}},
		Ephemerals: map[int64][]string{sessA: {"/app/e1"}, sessB: {"/app/e2"}},
		Watches:    []Watch{{sessA, "/app"}, {sessA, "/app/e1"}, {sessB, "/missing"}},
		Conf: Conf{ClientPort: 40563, DataDir: "/var/lib/strata/coord", DataLogDir: "/var/lib/strata/coord",
			DataDirSize: 1234, DataLogSize: 1234, TickTime: 2 * time.Second, MaxClientCnxns: 60,
			MinSessionTimeout: 4 * time.Second, MaxSessionTimeout: 40 * time.Second},
		Env: Environment("v0.1.0"),
	}
}

func stdQuantiles(p50, p95, p99, p999 float64) []Quantile {
	return []Quantile{{0.5, p50}, {0.95, p95}, {0.99, p99}, {0.999, p999}}
}

var (
	hexNum  = regexp.MustCompile(`0x[0-9a-f]+`)
	decNum  = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?`)
	javaDay = regexp.MustCompile(`[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [A-Z]+ \d{4}`)
)

// shape erases the values in a line of four-letter-word output and keeps its
// layout: names, separators, tabs, spaces and the kind of each number.
func shape(line string) string {
	if strings.HasPrefix(line, "Zookeeper version: ") {
		return "Zookeeper version: V"
	}
	line = javaDay.ReplaceAllString(line, "DATE")
	line = hexNum.ReplaceAllString(line, "0xH")
	return decNum.ReplaceAllStringFunc(line, func(n string) string {
		if strings.Contains(n, ".") {
			return "D.D"
		}
		return "N"
	})
}

// shapes is shape for every line, with each run of client lines (" /addr…")
// sorted, since ZooKeeper lists connections in hash order.
func shapes(text string) []string {
	var out []string
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" {
			out = append(out, shape(l))
		}
	}
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && strings.HasPrefix(out[j], " /") {
			j++
		}
		slices.Sort(out[i:j])
		i = max(j, i+1)
	}
	return out
}

func render(t *testing.T, word string, s Snapshot) string {
	t.Helper()
	out, err := Render(word, s)
	if err != nil {
		t.Fatalf("Render(%q): %v", word, err)
	}
	return out
}

// TestShapeMatchesApache: for the words whose layout does not depend on
// which metrics or environment a server has, our output has Apache's lines
// line for line once values are erased (including the final newlines and
// blank lines).
func TestShapeMatchesApache(t *testing.T) {
	s := shapeSnapshot()
	for _, word := range []string{"ruok", "isro", "srvr", "stat", "cons", "wchs", "dump", "dirs", "crst", "srst"} {
		t.Run(word, func(t *testing.T) {
			got := shapes(render(t, word, s))
			want := shapes(readGolden(t, "apache-"+word+".txt"))
			if !slices.Equal(got, want) {
				t.Errorf("shape differs from Apache ZooKeeper's\n got: %q\nwant: %q", got, want)
			}
		})
	}
}

func TestNotAllowedMatchesApache(t *testing.T) {
	if got, want := NotAllowedMessage("stat"), readGolden(t, "apache-notallowed-stat.txt"); got != want {
		t.Errorf("NotAllowedMessage(stat) = %q, Apache says %q", got, want)
	}
}

// TestWatchWordsMatchApache: the same watches give the same groups; only the
// order of groups may differ (ZooKeeper prints hash order, we sort).
func TestWatchWordsMatchApache(t *testing.T) {
	s := shapeSnapshot()
	for _, word := range []string{"wchc", "wchp"} {
		t.Run(word, func(t *testing.T) {
			got := render(t, word, s)
			want := readGolden(t, "apache-"+word+".txt")
			if !strings.HasSuffix(got, "\n\n") && got != "\n" {
				t.Errorf("%s must end with a blank line, as ZooKeeper's does: %q", word, got)
			}
			if g, w := watchGroups(t, got), watchGroups(t, want); !equalGroups(g, w) {
				t.Errorf("%s groups = %v, Apache has %v", word, g, w)
			}
		})
	}
}

// watchGroups parses wchc/wchp output: unindented heads, each followed by
// tab-indented members.
func watchGroups(t *testing.T, text string) map[string][]string {
	t.Helper()
	groups := map[string][]string{}
	head := ""
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		switch {
		case l == "":
		case strings.HasPrefix(l, "\t"):
			if head == "" {
				t.Fatalf("member %q before any head in %q", l, text)
			}
			groups[head] = append(groups[head], strings.TrimPrefix(l, "\t"))
		default:
			head = l
			groups[head] = nil
		}
	}
	return groups
}

func equalGroups(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok {
			return false
		}
		va, vb = slices.Clone(va), slices.Clone(vb)
		slices.Sort(va)
		slices.Sort(vb)
		if !slices.Equal(va, vb) {
			return false
		}
	}
	return true
}

// TestConfMatchesApache: the same keys in the same order.
func TestConfMatchesApache(t *testing.T) {
	keys := func(text string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			k, _, ok := strings.Cut(l, "=")
			if !ok {
				t.Fatalf("conf line %q has no '='", l)
			}
			out = append(out, k)
		}
		return out
	}
	got, want := keys(render(t, "conf", shapeSnapshot())), keys(readGolden(t, "apache-conf.txt"))
	if !slices.Equal(got, want) {
		t.Errorf("conf keys = %v, Apache has %v", got, want)
	}
}

// TestMntrMatchesApache: the version, state and core gauges are Apache's
// first 26 lines exactly (by key); the counters and summaries we print are
// a subsequence of Apache's; a value is an integer or a Java double exactly
// where Apache's is.
func TestMntrMatchesApache(t *testing.T) {
	parse := func(text string) (keys []string, values map[string]string) {
		values = map[string]string{}
		for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if strings.Count(l, "\t") != 1 || !strings.HasPrefix(l, "zk_") {
				t.Fatalf("mntr line %q is not zk_<key><TAB><value>", l)
			}
			k, v, _ := strings.Cut(l, "\t")
			keys = append(keys, k)
			values[k] = v
		}
		return keys, values
	}
	got, gotV := parse(render(t, "mntr", shapeSnapshot()))
	want, wantV := parse(readGolden(t, "apache-mntr.txt"))

	const core = 2 + 24
	if !slices.Equal(got[:core], want[:core]) {
		t.Fatalf("first %d mntr keys differ:\n got %v\nwant %v", core, got[:core], want[:core])
	}
	i := 0
	for _, k := range got {
		for i < len(want) && want[i] != k {
			i++
		}
		if i == len(want) {
			t.Fatalf("mntr key %s is not in Apache's output, or is out of Apache's order", k)
		}
	}
	for _, k := range got[1:] { // zk_version's value is free text
		if g, w := shape(gotV[k]), shape(wantV[k]); g != w && !(k == "zk_server_state") {
			t.Errorf("%s = %q, Apache's is shaped %q", k, gotV[k], wantV[k])
		}
	}
	if gotV["zk_avg_latency"] != "7.4444" {
		t.Errorf("zk_avg_latency = %q, want 7.4444 (ZooKeeper rounds to 4 decimals)", gotV["zk_avg_latency"])
	}
}

// TestEnviMatchesApache: "Environment:" then key=value lines; every key we
// share with Apache comes in Apache's order, and the keys scripts read are
// there.
func TestEnviMatchesApache(t *testing.T) {
	keys := func(text string) []string {
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if lines[0] != "Environment:" {
			t.Fatalf("envi starts with %q", lines[0])
		}
		var out []string
		for _, l := range lines[1:] {
			k, _, ok := strings.Cut(l, "=")
			if !ok {
				t.Fatalf("envi line %q has no '='", l)
			}
			out = append(out, k)
		}
		return out
	}
	got, want := keys(render(t, "envi", shapeSnapshot())), keys(readGolden(t, "apache-envi.txt"))
	var common []string
	for _, k := range want {
		if slices.Contains(got, k) {
			common = append(common, k)
		}
	}
	var gotCommon []string
	for _, k := range got {
		if slices.Contains(want, k) {
			gotCommon = append(gotCommon, k)
		}
	}
	if !slices.Equal(gotCommon, common) {
		t.Errorf("shared envi keys in order %v, Apache's order is %v", gotCommon, common)
	}
	for _, k := range []string{"zookeeper.version", "host.name", "os.name", "os.arch", "os.version",
		"user.name", "user.home", "user.dir", "os.memory.free", "os.memory.total"} {
		if !slices.Contains(got, k) {
			t.Errorf("envi lacks %s", k)
		}
	}
}
