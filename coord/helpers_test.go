package coord

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/zktest"
)

// testTimeout is the session timeout the tests ask for. Apache here has
// tickTime 200 ms, so 2 s is within its negotiable range.
const testTimeout = 2 * time.Second

// patience bounds every wait for something that must happen; it is a
// liveness bound for a loaded 2-core machine, not a performance claim.
const patience = 20 * time.Second

// forEachServer runs fn as a subtest against every server in
// zktest.Servers(), one fresh server per subtest.
func forEachServer(t *testing.T, fn func(t *testing.T, addr string)) {
	for _, srv := range zktest.Servers() {
		t.Run(srv.Name, func(t *testing.T) {
			fn(t, srv.Start(t))
		})
	}
}

var chrootSeq atomic.Int64

// uniqueChroot names a chroot no other test uses on a shared server.
func uniqueChroot(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return fmt.Sprintf("/test-%s-%d", name, chrootSeq.Add(1))
}

type dialOpt func(*Config)

func withGrace(d time.Duration) dialOpt   { return func(c *Config) { c.LeaderGrace = d } }
func withTimeout(d time.Duration) dialOpt { return func(c *Config) { c.SessionTimeout = d } }
func withCreds(user, pass string) dialOpt {
	return func(c *Config) { c.URL.User, c.URL.Password = user, pass }
}

// dial opens a Session for the test and closes it in t.Cleanup.
func dial(t testing.TB, servers []string, chroot string, opts ...dialOpt) *Session {
	t.Helper()
	cfg := Config{
		URL:            URL{Servers: servers, Chroot: chroot},
		SessionTimeout: testTimeout,
		Logger:         testLogger(t),
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	s, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial(%s): %v", cfg.URL.Redacted(), err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sessionCredentials is what a second connection needs to take the session
// over (and close it): its id and password, as read off the handshake.
func (s *Session) sessionCredentials() (int64, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shakeID, append([]byte(nil), s.passwd...)
}

// expire ends sess's ZooKeeper session on the server while its client is
// kept away by proxy: block the proxy, close the session from a second
// connection, unblock. The client then learns of the expiry on reconnecting.
func expire(t testing.TB, sess *Session, proxy *zktest.Proxy, serverAddr string) int64 {
	t.Helper()
	id, passwd := sess.sessionCredentials()
	if id == 0 || id != sess.Status().SessionID {
		t.Fatalf("expire: session id %#x from the handshake, %#x from the status", id, sess.Status().SessionID)
	}
	proxy.Block()
	if err := zktest.CloseSession(serverAddr, id, passwd); err != nil {
		t.Fatalf("expire: %v", err)
	}
	proxy.Unblock()
	return id
}

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", patience, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nextTerm waits for the candidate's next term.
func nextTerm(t testing.TB, c *Candidate, within time.Duration) *Term {
	t.Helper()
	select {
	case term, ok := <-c.Terms():
		if !ok {
			t.Fatalf("Terms closed while waiting for leadership in %s", c.group)
		}
		return term
	case <-time.After(within):
		t.Fatalf("no leadership in %s within %v", c.group, within)
	}
	return nil
}

// nextEvent waits for the next session event on ch.
func nextEvent(t testing.TB, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("session event channel closed")
		}
		return ev
	case <-time.After(patience):
		t.Fatalf("no session event within %v", patience)
	}
	return Event{}
}

// testLogger sends logs to t.Log until the test's cleanups finish, so a
// late line from a goroutine being stopped cannot fail the run.
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop) // registered first, so it runs last
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
