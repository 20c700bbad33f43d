package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseBase(t *testing.T) {
	tr := newTransport(Options{}.withDefaults())
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "http://127.0.0.1:5050", want: "http://127.0.0.1:5050"},
		{in: "https://master.example:5050/", want: "https://master.example:5050"},
		{in: "http://lb.example/mesos/", want: "http://lb.example/mesos"},
		{in: "10.0.0.1:5050", want: "http://10.0.0.1:5050"},
		{in: "unix:///var/lib/strata/master.sock", want: "http://unix-1" + unixHostSuffix},
		{in: "unix:///var/lib/strata/master.sock", want: "http://unix-1" + unixHostSuffix}, // same socket, same host
		{in: "unix:///tmp/other.sock", want: "http://unix-2" + unixHostSuffix},
		{in: "", err: "empty"},
		{in: "zk://127.0.0.1:2181/strata", err: "Detector"},
		{in: "ssh://root@host", err: "DialContext"},
		{in: "ftp://host", err: "unsupported scheme"},
		{in: "http://user:pw@host:5050", err: "token"},
		{in: "http://host:5050/?x=1", err: "query"},
		{in: "unix://", err: "no socket"},
	} {
		u, err := tr.parseBase(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseBase(%q) = %v, %v; want error containing %q", tc.in, u, err, tc.err)
			}
		case err != nil || u.String() != tc.want:
			t.Errorf("parseBase(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
	u, _ := tr.parseBase("unix:///var/lib/strata/master.sock")
	if got := tr.displayURL(endpoint(u, operatorPath)); got != "unix:///var/lib/strata/master.sock/api/v1" {
		t.Errorf("displayURL = %q", got)
	}
}

func TestMasterInfoURL(t *testing.T) {
	info := []byte(`{"id":"m1","ip":16777343,"port":5050,"hostname":"master1","address":{"hostname":"master1.example","ip":"10.0.0.1","port":5050}}`)
	if got, err := MasterInfoURL(info, ""); err != nil || got != "http://master1.example:5050" {
		t.Errorf("MasterInfoURL = %q, %v", got, err)
	}
	if got, err := MasterInfoURL([]byte(`{"id":"m1","ip":16777343,"port":5051}`), "https"); err != nil || got != "https://127.0.0.1:5051" {
		t.Errorf("MasterInfoURL without address = %q, %v", got, err)
	}
	if _, err := MasterInfoURL(nil, ""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("MasterInfoURL(empty) = %v, want ErrUnavailable", err)
	}
	if _, err := MasterInfoURL([]byte(`{"port":5050}`), ""); err == nil {
		t.Errorf("MasterInfoURL without id succeeded")
	}
}

func TestFollow(t *testing.T) {
	checkLeaks(t)
	ch := make(chan string, 3)
	d := Follow(ch, func(s string) (string, error) {
		if s == "" {
			return "", ErrUnavailable
		}
		return "http://" + s, nil
	})
	// Before any value: waits, and gives up with ctx.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("detect before a value: %v", err)
	}
	// The latest value wins.
	ch <- "a:1"
	ch <- ""
	ch <- "c:3"
	if got, err := d(context.Background()); err != nil || got != "http://c:3" {
		t.Errorf("detect = %q, %v; want the latest", got, err)
	}
	ch <- ""
	if _, err := d(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("detect with no leader = %v", err)
	}
	// A closed channel keeps the last value.
	ch <- "d:4"
	close(ch)
	for range 2 {
		if got, err := d(context.Background()); err != nil || got != "http://d:4" {
			t.Errorf("detect after close = %q, %v", got, err)
		}
	}
	// A first value that arrives while waiting is taken.
	ch2 := make(chan string)
	d2 := Follow(ch2, func(s string) (string, error) { return s, nil })
	go func() { ch2 <- "http://late:1" }()
	if got, err := d2(context.Background()); err != nil || got != "http://late:1" {
		t.Errorf("detect of a late value = %q, %v", got, err)
	}
}

func TestMasters(t *testing.T) {
	d := Masters("a", "b")
	var got []string
	for range 3 {
		s, _ := d(context.Background())
		got = append(got, s)
	}
	if strings.Join(got, ",") != "a,b,a" {
		t.Errorf("Masters hands out %v", got)
	}
	if _, err := NewOperator(Options{Master: " , "}); err == nil {
		t.Errorf("NewOperator without masters succeeded")
	}
	if _, err := NewOperator(Options{Master: "http://ok:1,zk://bad:2181"}); err == nil {
		t.Errorf("NewOperator with a zk:// master succeeded")
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		want *= time.Millisecond
		for range 50 {
			if d := b.Delay(attempt); d < want/2 || d > want {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
	if d := (Backoff{}).Delay(1000); d > defaultBackoffMax {
		t.Errorf("default backoff grows past its cap: %v", d)
	}
}

func TestParseErrorBody(t *testing.T) {
	for _, tc := range []struct {
		ct, body, msg string
		details       []string
	}{
		{"text/plain; charset=utf-8", "Framework is not subscribed\n", "Framework is not subscribed", nil},
		{"", "No leader elected", "No leader elected", nil},
		{"application/json", `{"message":"bad","details":["a.b: c",{"field":"x"}]}`, "bad", []string{"a.b: c", `{"field":"x"}`}},
		{"", `{"message":"untyped json"}`, "untyped json", nil},
		{"application/json", `{"other":1}`, `{"other":1}`, nil},
	} {
		msg, details := parseErrorBody(tc.ct, []byte(tc.body))
		if msg != tc.msg || strings.Join(details, "|") != strings.Join(tc.details, "|") {
			t.Errorf("parseErrorBody(%q, %q) = %q, %q", tc.ct, tc.body, msg, details)
		}
	}
}

// https with a bearer token, reached through the caller's dialer under a
// name that resolves nowhere.
func TestTransport_TLSTokenAndDialer(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	c := newFakeCluster(t)
	a := c.start("A", true)
	a.token = "s3cret"
	pool := x509.NewCertPool()
	pool.AddCert(a.srv.Certificate())
	var dials atomic.Int64
	opts := testOptions("https://example.com:5050") // httptest's certificate is for example.com
	opts.TLSConfig = &tls.Config{RootCAs: pool}
	opts.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		if addr != "example.com:5050" {
			t.Errorf("dialer asked for %s", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, a.hostport)
	}
	opts.Token = "s3cret"
	o := newOperator(t, opts)
	if h, err := o.GetHealth(ctx); err != nil || !h.Healthy {
		t.Fatalf("GetHealth over TLS with the token: %+v, %v", h, err)
	}
	if dials.Load() == 0 {
		t.Errorf("the custom dialer was not used")
	}

	opts.Token = ""
	o2 := newOperator(t, opts)
	_, err := o2.GetHealth(ctx)
	var apiErr *APIError
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.Message != "Missing or wrong bearer token" {
		t.Errorf("without the token: %v, want ErrUnauthorized", err)
	}

	// The scheduler API over the same path.
	opts.Token = "s3cret"
	s, _ := startScheduler(t, SchedulerConfig{Options: opts, Framework: testFramework()})
	subscribed(t, s)
}

// Synchronous calls are bounded by the timeout even when the master
// accepts the connection and never answers.
func TestTransport_Timeout(t *testing.T) {
	checkLeaks(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	accepted := make(chan net.Conn, 10)
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- conn // hold it open, say nothing
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		close(accepted)
		for conn := range accepted {
			conn.Close()
		}
	})
	opts := testOptions("http://" + l.Addr().String())
	opts.Timeout = 100 * time.Millisecond
	o := newOperator(t, opts)
	if _, err := o.GetHealth(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("call to a silent master: %v, want a deadline error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := o.GetState(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("call with a cancelled context: %v", err)
	}
	// A subscription's first event is bounded the same way.
	if _, err := o.Subscribe(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Errorf("subscribe to a silent master: %v", err)
	}
}
