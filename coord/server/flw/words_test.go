package flw

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// smallSnapshot is a server with one established session and the asking
// connection, for exact-output tests.
func smallSnapshot() Snapshot {
	est := time.UnixMilli(1700000000123).UTC()
	return Snapshot{
		Version:          "3.8.0-strata-test, built on 2026-01-02 03:04 UTC",
		ServerState:      "standalone",
		Zxid:             0x10000002a,
		Received:         40,
		Sent:             39,
		AliveConnections: 2,
		Outstanding:      1,
		NodeCount:        6,
		MinLatency:       0.4, // ZooKeeper counts whole milliseconds: printed as 0
		AvgLatency:       1.0 / 3,
		MaxLatency:       12.7, // printed as 12
		Connections: []Conn{
			{Remote: "127.0.0.1:50001", InterestOps: 1, Queued: 1, Received: 30, Sent: 29,
				SessionID: 0x100000001, LastOp: OpName(4), Established: est, Timeout: 6 * time.Second,
				LastCxid: 0x1d, LastZxid: 0x10000002a, LastResponse: est.Add(2500 * time.Millisecond),
				LastLatency: 1, MinLatency: 0, AvgLatency: 2, MaxLatency: 12,
				Expires: time.Date(2026, 1, 2, 3, 4, 10, 0, time.UTC)},
			{Remote: "[::1]:50002", Received: 1, LastCxid: -1, LastZxid: -1,
				Expires: time.Date(2026, 1, 2, 3, 4, 20, 0, time.UTC)},
		},
		Sessions:   []Session{{0x100000001, time.Date(2026, 1, 2, 3, 4, 8, 0, time.UTC)}},
		Ephemerals: map[int64][]string{0x100000001: {"/svc/b", "/svc/a"}},
		Watches:    []Watch{{0x100000001, "/svc"}, {0x100000001, "/svc"}, {0x100000002, "/svc"}},
		Conf: Conf{ClientPort: 2181, DataDir: "/d", DataLogDir: "/l", DataDirSize: 10, DataLogSize: 20,
			TickTime: 2 * time.Second, MaxClientCnxns: 60, MinSessionTimeout: 4 * time.Second, MaxSessionTimeout: 40 * time.Second},
		Env: []KV{{"zookeeper.version", "x"}, {"host.name", "h"}},
	}
}

func TestRenderExact(t *testing.T) {
	const statBody = "Latency min/avg/max: 0/0.3333/12\n" +
		"Received: 40\nSent: 39\nConnections: 2\nOutstanding: 1\nZxid: 0x10000002a\nMode: standalone\nNode count: 6\n"
	tests := []struct{ word, want string }{
		{"ruok", "imok"},
		{"isro", "rw"},
		{"srvr", "Zookeeper version: 3.8.0-strata-test, built on 2026-01-02 03:04 UTC\n" + statBody},
		{"stat", "Zookeeper version: 3.8.0-strata-test, built on 2026-01-02 03:04 UTC\nClients:\n" +
			" /127.0.0.1:50001[1](queued=1,recved=30,sent=29)\n" +
			" /0:0:0:0:0:0:0:1:50002[0](queued=0,recved=1,sent=0)\n\n" + statBody},
		{"cons", " /127.0.0.1:50001[1](queued=1,recved=30,sent=29,sid=0x100000001,lop=GETD,est=1700000000123,to=6000," +
			"lcxid=0x1d,lzxid=0x10000002a,lresp=1700000002623,llat=1,minlat=0,avglat=2,maxlat=12)\n" +
			" /0:0:0:0:0:0:0:1:50002[0](queued=0,recved=1,sent=0)\n\n"},
		{"conf", "clientPort=2181\nsecureClientPort=-1\ndataDir=/d\ndataDirSize=10\ndataLogDir=/l\ndataLogSize=20\n" +
			"tickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\n" +
			"clientPortListenBacklog=-1\nserverId=0\n"},
		{"dirs", "datadir_size: 10\nlogdir_size: 20\n"},
		{"envi", "Environment:\nzookeeper.version=x\nhost.name=h\n"},
		{"wchs", "2 connections watching 1 paths\nTotal watches:2\n"},
		{"wchc", "0x100000001\n\t/svc\n0x100000002\n\t/svc\n\n"},
		{"wchp", "/svc\n\t0x100000001\n\t0x100000002\n\n"},
		{"dump", "SessionTracker dump:\nSession Sets (1)/(1):\n1 expire at Fri Jan 02 03:04:08 UTC 2026:\n\t0x100000001\n" +
			"ephemeral nodes dump:\nSessions with Ephemerals (1):\n0x100000001:\n\t/svc/a\n\t/svc/b\n" +
			"Connections dump:\nConnections Sets (2)/(2):\n" +
			"1 expire at Fri Jan 02 03:04:10 UTC 2026:\n\tip: /127.0.0.1:50001 sessionId: 0x100000001\n" +
			"1 expire at Fri Jan 02 03:04:20 UTC 2026:\n\tip: /0:0:0:0:0:0:0:1:50002 sessionId: 0x0\n"},
		{"crst", "Connection stats reset.\n"},
		{"srst", "Server stats reset.\n"},
	}
	s := smallSnapshot()
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			if got := render(t, tt.word, s); got != tt.want {
				t.Errorf("Render(%s):\n got %q\nwant %q", tt.word, got, tt.want)
			}
		})
	}
}

func TestRenderEmptyServer(t *testing.T) {
	s := Snapshot{ServerState: "standalone", Version: "v"}
	for word, want := range map[string]string{
		"cons": "\n",
		"wchs": "0 connections watching 0 paths\nTotal watches:0\n",
		"wchc": "\n",
		"wchp": "\n",
		"dump": "SessionTracker dump:\nSession Sets (0)/(0):\nephemeral nodes dump:\nSessions with Ephemerals (0):\n" +
			"Connections dump:\nConnections Sets (0)/(0):\n",
	} {
		if got := render(t, word, s); got != want {
			t.Errorf("Render(%s) = %q, want %q", word, got, want)
		}
	}
}

func TestRenderNotServing(t *testing.T) {
	s := smallSnapshot()
	s.NotServing = true
	for _, word := range []string{"srvr", "stat", "cons", "conf", "dirs", "mntr", "wchs", "wchc", "wchp", "dump", "crst", "srst"} {
		if got := render(t, word, s); got != "This ZooKeeper instance is not currently serving requests\n" {
			t.Errorf("Render(%s) while not serving = %q", word, got)
		}
	}
	// ruok, isro and envi do not need the database, as in ZooKeeper.
	for word, want := range map[string]string{"ruok": "imok", "isro": "null", "envi": "Environment:\nzookeeper.version=x\nhost.name=h\n"} {
		if got := render(t, word, s); got != want {
			t.Errorf("Render(%s) while not serving = %q, want %q", word, got, want)
		}
	}
}

func TestRenderReadOnly(t *testing.T) {
	s := smallSnapshot()
	s.ReadOnly = true
	if got := render(t, "isro", s); got != "ro" {
		t.Errorf("isro = %q, want ro", got)
	}
	if got := render(t, "srvr", s); !strings.HasPrefix(got, "Zookeeper version: "+s.Version+"\nREAD-ONLY mode; serving only read-only clients\nLatency") {
		t.Errorf("srvr on a read-only server = %q", got)
	}
}

func TestRenderErrors(t *testing.T) {
	for _, word := range []string{"abcd", "RUOK", "", "ruok\n"} {
		if _, err := Render(word, Snapshot{}); !errors.Is(err, ErrUnknown) {
			t.Errorf("Render(%q) error = %v, want ErrUnknown", word, err)
		}
	}
	for _, word := range []string{"gtmk", "stmk", "hash"} {
		if _, err := Render(word, Snapshot{}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Render(%q) error = %v, want ErrUnsupported", word, err)
		}
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		cmd       string
		whitelist []string
		want      bool
	}{
		{"srvr", nil, true}, // zkServer.sh status needs it, so ZooKeeper always allows it
		{"stat", nil, false},
		{"stat", []string{"srvr"}, false},
		{"stat", []string{"ruok", "stat"}, true},
		{"stat", []string{" ruok , stat "}, true}, // one comma-separated entry, as in zoo.cfg
		{"mntr", []string{"*"}, true},
		{"gtmk", []string{"*"}, true},
		{"abcd", []string{"*"}, false}, // not a word at all
		{"abcd", []string{"abcd"}, false},
		{"cons", []string{"con", "conss", ""}, false},
	}
	for _, tt := range tests {
		if got := Allowed(tt.cmd, tt.whitelist); got != tt.want {
			t.Errorf("Allowed(%q, %q) = %v, want %v", tt.cmd, tt.whitelist, got, tt.want)
		}
	}
}

func TestKnown(t *testing.T) {
	for _, w := range []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srst",
		"srvr", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash"} {
		if !Known(w) {
			t.Errorf("Known(%q) = false", w)
		}
	}
	for _, w := range []string{"", "ruo", "ruokk", "Stat", "kill"} {
		if Known(w) {
			t.Errorf("Known(%q) = true", w)
		}
	}
}

func TestOpName(t *testing.T) {
	for op, want := range map[int32]string{11: "PING", -10: "SESS", 1: "CREA", 15: "CREA", 21: "CREA", 12: "GETC",
		104: "GETACN", 107: "HOMI", 100: "NA", 999: "NA"} {
		if got := OpName(op); got != want {
			t.Errorf("OpName(%d) = %q, want %q", op, got, want)
		}
	}
}

func TestJavaDouble(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{7.4444, "7.4444"},
		{0.3333, "0.3333"},
		{-2.5, "-2.5"},
		{0.001, "0.001"},
		{0.0001, "1.0E-4"},
		{1.5e-5, "1.5E-5"},
		{9999999, "9999999.0"},
		{1e7, "1.0E7"},
		{1.25e10, "1.25E10"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{math.NaN(), "NaN"},
	}
	for _, tt := range tests {
		if got := javaDouble(tt.in); got != tt.want {
			t.Errorf("javaDouble(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJavaSocketAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:2181":          "/127.0.0.1:2181",
		"[::1]:2181":              "/0:0:0:0:0:0:0:1:2181",
		"[::ffff:10.0.0.1]:2181":  "/10.0.0.1:2181",
		"[fe80::1%eth0]:2181":     "/fe80:0:0:0:0:0:0:1%eth0:2181",
		"[2001:db8::abcd]:9":      "/2001:db8:0:0:0:0:0:abcd:9",
		"localhost:2181":          "/localhost:2181",
		"not an address":          "/not an address",
		"10.1.2.3:65535":          "/10.1.2.3:65535",
		"[2001:db8:0:1::1]:65535": "/2001:db8:0:1:0:0:0:1:65535",
	} {
		if got := javaSocketAddr(in); got != want {
			t.Errorf("javaSocketAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJavaHexAndRounding(t *testing.T) {
	if got := javaHex(-1); got != "ffffffffffffffff" {
		t.Errorf("javaHex(-1) = %q", got)
	}
	if got := javaHex(0); got != "0" {
		t.Errorf("javaHex(0) = %q", got)
	}
	for in, want := range map[float64]float64{67.0 / 9: 7.4444, 2.0 / 3: 0.6667, 10.75: 10.75, 0.00005: 0.0001} {
		if got := round4(in); got != want {
			t.Errorf("round4(%v) = %v, want %v", in, got, want)
		}
	}
	for q, want := range map[float64]string{0.5: "p50", 0.95: "p95", 0.99: "p99", 0.999: "p999", 0.9: "p90"} {
		if got := percentileName(q); got != want {
			t.Errorf("percentileName(%v) = %q, want %q", q, got, want)
		}
	}
}

func TestMntrOrdersExtraMetrics(t *testing.T) {
	s := Snapshot{
		Version: "v", ServerState: "standalone",
		Counters:  map[string]int64{"zz_ours": 1, "aa_ours": 2, "stale_sessions_expired": 3, "bytes_received_count": 4},
		Summaries: map[string]Summary{"readlatency": {Count: 3, Sum: 4, Min: 1, Max: 2}, "fsynctime": {}, "b_ours": {}, "a_ours": {}},
	}
	out := render(t, "mntr", s)
	var keys []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n")[26:] {
		k, _, _ := strings.Cut(l, "\t")
		if strings.HasPrefix(k, "zk_avg_") || !strings.HasPrefix(k, "zk_min_") && !strings.HasPrefix(k, "zk_max_") &&
			!strings.HasPrefix(k, "zk_cnt_") && !strings.HasPrefix(k, "zk_sum_") {
			keys = append(keys, k)
		}
	}
	want := []string{"zk_bytes_received_count", "zk_stale_sessions_expired", "zk_aa_ours", "zk_zz_ours",
		"zk_avg_fsynctime", "zk_avg_readlatency", "zk_avg_a_ours", "zk_avg_b_ours"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("extra metric order = %v, want %v", keys, want)
	}
	if !strings.Contains(out, "zk_avg_readlatency\t1.3333\nzk_min_readlatency\t1\nzk_max_readlatency\t2\nzk_cnt_readlatency\t3\nzk_sum_readlatency\t4\n") {
		t.Errorf("readlatency summary lines wrong in\n%s", out)
	}
	if !strings.Contains(out, "zk_avg_fsynctime\t0.0\n") {
		t.Errorf("an empty summary averages 0.0 in ZooKeeper:\n%s", out)
	}
}

func TestFullVersion(t *testing.T) {
	got := FullVersion("v1.2.3", time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600)))
	if want := "3.8.0-strata-v1.2.3, built on 2026-03-04 04:06 UTC"; got != want {
		t.Errorf("FullVersion = %q, want %q", got, want)
	}
}

func TestAliveConnectionsDefaultsToListed(t *testing.T) {
	s := smallSnapshot()
	s.AliveConnections = 0
	if got := render(t, "srvr", s); !strings.Contains(got, "\nConnections: 2\n") {
		t.Errorf("srvr with AliveConnections unset:\n%s", got)
	}
	if got := render(t, "mntr", s); !strings.Contains(got, "\nzk_num_alive_connections\t2\n") {
		t.Errorf("mntr with AliveConnections unset:\n%s", got)
	}
}
