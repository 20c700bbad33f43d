// Package hostile runs catalogues of malformed and hostile HTTP requests
// against a real daemon, for the hostile-input tests of issue 9. Each
// package's catalogue (master/hostile_test.go, agent/hostile_test.go, …)
// lists its cases; Run sends each one on a real connection and checks
// what every API owes a hostile client:
//
//	for each case:
//	    send it (an http.Request, or raw bytes on a fresh TCP connection)
//	    the answer is a 4xx with a clear message (JSON errors carry
//	        "message"), or the connection is closed for a protocol violation
//	    the daemon keeps serving: Alive answers right after
//	    the state is unchanged: Fingerprint is what it was before
//
// Slow clients (slowloris) are run beside the catalogue by Slow: they
// trickle a byte a second while the other cases are served, and the
// daemon must close them on its own.
package hostile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Case is one hostile request: an HTTP request (Method, Path, Body,
// Header) or, when Raw is set, bytes written as they are on a new TCP
// connection (HalfClose then shuts the writing side, as a client that
// truncates its body does).
type Case struct {
	Name   string
	Method string // POST when empty and Body is set, else GET
	Path   string
	Body   []byte
	// Header is sent as is; a POST without a Content-Type header gets
	// application/json unless NoContentType.
	Header        http.Header
	NoContentType bool

	Raw       []byte
	HalfClose bool

	// Want is the exact status expected; 0 accepts any 4xx. Closed accepts
	// a connection closed without an answer (a protocol violation).
	Want   int
	Closed bool
	// Mention, when set, must appear in the answer's body (the field the
	// message names).
	Mention string
}

// Target is the daemon under test.
type Target struct {
	Base string // http://host:port
	// Alive is a request that must succeed right after each case.
	Alive func() error
	// Fingerprint is the part of the daemon's state no refused request may
	// change; it is compared before and after each case.
	Fingerprint func() (string, error)
}

// Run sends every case and returns how many ran.
func Run(t *testing.T, tgt Target, cases []Case) int {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	before, err := tgt.Fingerprint()
	if err != nil {
		t.Fatalf("fingerprint before the catalogue: %v", err)
	}
	n := 0
	for _, c := range cases {
		n++
		start := time.Now()
		status, body, err := send(client, tgt.Base, c)
		if d := time.Since(start); d > 2*time.Second {
			t.Logf("%s: answered after %s", c.Name, d.Round(time.Millisecond))
		}
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
		} else if msg := judge(c, status, body); msg != "" {
			t.Errorf("%s: %s", c.Name, msg)
		}
		if err := tgt.Alive(); err != nil {
			t.Fatalf("%s: the daemon stopped serving: %v", c.Name, err)
		}
		after, err := tgt.Fingerprint()
		if err != nil {
			t.Fatalf("%s: fingerprint: %v", c.Name, err)
		}
		if after != before {
			t.Errorf("%s changed the state:\nbefore %s\nafter  %s", c.Name, before, after)
			before = after
		}
	}
	return n
}

// closedStatus stands for "connection closed without an answer".
const closedStatus = -1

func judge(c Case, status int, body []byte) string {
	switch {
	case status == closedStatus && (c.Closed || c.Raw != nil && c.Want == 0):
		return ""
	case status == closedStatus:
		return "connection closed without an answer"
	case c.Want != 0 && status != c.Want:
		return fmt.Sprintf("answered %d, want %d: %.300s", status, c.Want, body)
	case c.Want == 0 && (status < 400 || status > 499):
		return fmt.Sprintf("answered %d, want a 4xx: %.300s", status, body)
	case c.Mention != "" && !bytes.Contains(body, []byte(c.Mention)):
		return fmt.Sprintf("answer does not mention %q: %.300s", c.Mention, body)
	case len(bytes.TrimSpace(body)) == 0 && c.Method != http.MethodHead:
		return fmt.Sprintf("answered %d with no message", status)
	}
	return ""
}

func send(client *http.Client, base string, c Case) (int, []byte, error) {
	if c.Raw != nil {
		return sendRaw(base, c)
	}
	method := c.Method
	if method == "" {
		method = http.MethodGet
		if c.Body != nil {
			method = http.MethodPost
		}
	}
	req, err := http.NewRequest(method, base+c.Path, bytes.NewReader(c.Body))
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	if method == http.MethodPost && req.Header.Get("Content-Type") == "" && !c.NoContentType {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		if isClosed(err) {
			return closedStatus, nil, nil
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, nil
}

func isClosed(err error) bool {
	s := err.Error()
	return strings.Contains(s, "EOF") || strings.Contains(s, "connection reset")
}

// sendRaw writes c.Raw on a new connection and reads one answer.
func sendRaw(base string, c Case) (int, []byte, error) {
	nc, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		return 0, nil, err
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := nc.Write(c.Raw); err != nil {
		return closedStatus, nil, nil // refused mid-request
	}
	if c.HalfClose {
		_ = nc.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF || isClosed(err) {
			return closedStatus, nil, nil
		}
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, nil
}

// SlowClient is a connection trickling one byte a second, started by
// Slow; the daemon must close it.
type SlowClient struct {
	Name   string
	done   chan struct{}
	stop   chan struct{}
	mu     sync.Mutex
	answer string // the first line the daemon answered, if any
}

// Slow dials addr (host:port), writes head at once and then trickle one
// byte a second (cycling) until the daemon closes the connection or the
// test ends.
func Slow(t *testing.T, name, addr string, head, trickle []byte) *SlowClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &SlowClient{Name: name, done: make(chan struct{}), stop: make(chan struct{})}
	if _, err := nc.Write(head); err != nil {
		t.Fatal(err)
	}
	go func() { // the reader: notices the close and records any answer
		defer close(s.done)
		line, _ := bufio.NewReader(nc).ReadString('\n')
		s.mu.Lock()
		s.answer = strings.TrimSpace(line)
		s.mu.Unlock()
		_, _ = io.Copy(io.Discard, nc)
	}()
	wrote := make(chan struct{})
	go func() { // the writer, one byte a second; owned by the cleanup below
		defer close(wrote)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; len(trickle) > 0; i++ {
			select {
			case <-s.stop:
				return
			case <-s.done:
				return
			case <-tick.C:
			}
			if _, err := nc.Write(trickle[i%len(trickle) : i%len(trickle)+1]); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(s.stop)
		nc.Close()
		<-s.done
		<-wrote
	})
	return s
}

// WaitClosed waits up to d for the daemon to close the connection and
// returns the first line it answered ("" when it just closed).
func (s *SlowClient) WaitClosed(d time.Duration) (string, error) {
	select {
	case <-s.done:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.answer, nil
	case <-time.After(d):
		return "", fmt.Errorf("%s: still open after %s", s.Name, d)
	}
}

// Nested is n opening brackets: JSON nested n deep (and never closed).
func Nested(prefix string, n int) []byte {
	return append([]byte(prefix), bytes.Repeat([]byte("["), n)...)
}

// WaitAllClosed waits up to d for each slow client to be closed by the
// daemon (named in the log), failing the test for any still open, and
// returns how many there were (they count as cases).
func WaitAllClosed(t *testing.T, daemon string, d time.Duration, slow []*SlowClient) int {
	t.Helper()
	for _, c := range slow {
		if line, err := c.WaitClosed(d); err != nil {
			t.Error(err)
		} else {
			t.Logf("%s: closed by %s (answer %q)", c.Name, daemon, line)
		}
	}
	return len(slow)
}

// AliveGET is a Target.Alive that GETs each path from base and wants 200.
// Give one path the daemon answers outside its main lock and one it
// answers under it, so that a case leaving the lock held is caught.
func AliveGET(base string, paths ...string) func() error {
	return func() error {
		for _, p := range paths {
			resp, err := http.Get(base + p)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %d", p, resp.StatusCode)
			}
		}
		return nil
	}
}
