package flw

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func TestWritePrometheus(t *testing.T) {
	s := smallSnapshot()
	s.Uptime = 90 * time.Second
	s.Counters = map[string]int64{"bytes_received_count": 391}
	s.Summaries = map[string]Summary{
		"readlatency": {Count: 4, Sum: 43, Min: 6, Max: 16, Quantiles: []Quantile{{0.5, 11}, {0.9, 16}, {0.99, 16}}},
	}
	var b strings.Builder
	if err := WritePrometheus(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()

	for _, want := range []string{
		// The first family, whole.
		"# HELP ephemerals_count ephemerals_count\n# TYPE ephemerals_count gauge\nephemerals_count 0.0\n",
		"\navg_latency 0.3333\n",
		"\nznode_count 6.0\n",
		"\nuptime 90000.0\n",
		"\noutstanding_requests 1.0\n",
		"# HELP bytes_received_count bytes_received_count\n# TYPE bytes_received_count counter\nbytes_received_count 391.0\n",
		"# HELP readlatency readlatency\n# TYPE readlatency summary\n" +
			"readlatency{quantile=\"0.5\",} 11.0\nreadlatency{quantile=\"0.9\",} 16.0\nreadlatency{quantile=\"0.99\",} 16.0\n" +
			"readlatency_count 4.0\nreadlatency_sum 43.0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "zk_version") || strings.Contains(out, "server_state") {
		t.Errorf("version and state are mntr-only in ZooKeeper:\n%s", out)
	}
	checkExposition(t, out)
}

// checkExposition is a small reader of the text format: comments are HELP or
// TYPE for the family whose samples follow, and every sample belongs to the
// family last typed (a summary's _count and _sum included).
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-z]+="[^"]*",\})? (\S+)$`)

func checkExposition(t *testing.T, out string) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Fatal("exposition must end with a newline")
	}
	family, kind := "", ""
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(l, "# HELP ") {
			continue
		}
		if f, ok := strings.CutPrefix(l, "# TYPE "); ok {
			family, kind, _ = strings.Cut(f, " ")
			continue
		}
		m := sampleLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("not a sample line: %q", l)
			continue
		}
		name := m[1]
		ok := name == family || kind == "summary" && (name == family+"_count" || name == family+"_sum")
		if !ok {
			t.Errorf("sample %q outside its family %s (%s)", l, family, kind)
		}
	}
}

// TestHandler scrapes /metrics over a real loopback socket.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler(smallSnapshot))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ContentType {
		t.Fatalf("GET /metrics = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), "\nznode_count 6.0\n") {
		t.Errorf("body lacks znode_count:\n%s", body)
	}
	checkExposition(t, string(body))

	resp, err = http.Post(srv.URL+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics = %d, want 405", resp.StatusCode)
	}
}

// TestGoZookeeperReadsOurWords serves Render on a loopback socket the way
// the server will (read four bytes, answer, close) and lets go-zookeeper's
// FLW helpers parse it, as Strata's tools and others' do.
func TestGoZookeeperReadsOurWords(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			word := make([]byte, 4)
			if _, err := io.ReadFull(c, word); err == nil {
				if out, err := Render(string(word), smallSnapshot()); err == nil {
					_, _ = io.WriteString(c, out)
				}
			}
			c.Close()
		}
	}()
	addr := l.Addr().String()

	if oks := zk.FLWRuok([]string{addr}, 5*time.Second); len(oks) != 1 || !oks[0] {
		t.Errorf("FLWRuok = %v", oks)
	}
	clients, ok := zk.FLWCons([]string{addr}, 5*time.Second)
	// go-zookeeper's cons regex knows IPv4 only, so the IPv6 line is an
	// error there, as it is against Apache ZooKeeper; the IPv4 one parses.
	if len(clients) != 1 || len(clients[0].Clients) != 1 {
		t.Fatalf("FLWCons = %+v, %v", clients, ok)
	}
	c := clients[0].Clients[0]
	if c.SessionID != 0x100000001 || c.Lzxid != 0x10000002a || c.LastOperation != "GETD" || c.Received != 30 || c.Timeout != 6000 {
		t.Errorf("FLWCons parsed %+v", c)
	}
}
