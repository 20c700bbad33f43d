package coord

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/zktest"
)

func TestIntegration_Session(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		t.Run("DialMakesChroot", func(t *testing.T) {
			chroot := uniqueChroot(t) + "/deeper/still"
			s := dial(t, []string{addr}, chroot)
			ok, _, err := s.Conn().Exists(chroot)
			if err != nil || !ok {
				t.Fatalf("chroot %s exists = %v, %v; want it created by Dial", chroot, ok, err)
			}
			st := s.Status()
			if st.State != Connected || st.SessionID == 0 {
				t.Fatalf("Status() = %+v, want Connected with a session", st)
			}
			if got := s.Timeout(); got <= 0 || got > testTimeout {
				t.Fatalf("negotiated Timeout() = %v, want within (0, %v]", got, testTimeout)
			}
			if id, _ := s.sessionCredentials(); id != st.SessionID {
				t.Fatalf("handshake session %#x, status session %#x", id, st.SessionID)
			}
			p, err := s.Path("/a/b")
			if err != nil || p != chroot+"/a/b" {
				t.Fatalf("Path(/a/b) = %q, %v", p, err)
			}
		})

		t.Run("RootChroot", func(t *testing.T) {
			s := dial(t, []string{addr}, "/")
			st := s.Store()
			name := strings.TrimPrefix(uniqueChroot(t), "/")
			if _, err := st.Put(context.Background(), name, 1); err != nil {
				t.Fatal(err)
			}
			if ok, _, err := s.Conn().Exists("/" + name); err != nil || !ok {
				t.Fatalf("/%s exists = %v, %v", name, ok, err)
			}
		})

		t.Run("DialGivesUp", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			// A "server" that accepts and hangs up at once.
			proxy := zktest.NewProxy(t, "127.0.0.1:1")
			_, err := Dial(ctx, Config{URL: URL{Servers: []string{proxy.Addr()}, Chroot: "/x"}, Logger: testLogger(t)})
			if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no session") {
				t.Fatalf("Dial to a dead server = %v, want a no-session deadline error", err)
			}
		})

		t.Run("ReconnectKeepsSession", func(t *testing.T) {
			proxy := zktest.NewProxy(t, addr)
			s := dial(t, []string{proxy.Addr()}, uniqueChroot(t))
			events := s.Subscribe(t.Context())
			first := nextEvent(t, events)
			if first.State != Connected {
				t.Fatalf("first event %+v, want the current state, Connected", first)
			}
			proxy.Cut()
			if ev := nextEvent(t, events); ev.State != Disconnected || ev.SessionID != first.SessionID {
				t.Fatalf("after a cut: %+v, want Disconnected of %#x", ev, first.SessionID)
			}
			if ev := nextEvent(t, events); ev.State != Connected || ev.SessionID != first.SessionID {
				t.Fatalf("after reconnecting: %+v, want Connected to the same session %#x", ev, first.SessionID)
			}
		})

		t.Run("ExpiryMakesNewSession", func(t *testing.T) {
			proxy := zktest.NewProxy(t, addr)
			s := dial(t, []string{proxy.Addr()}, uniqueChroot(t))
			events := s.Subscribe(t.Context())
			first := nextEvent(t, events)
			old := expire(t, s, proxy, addr)
			if old != first.SessionID {
				t.Fatalf("expired %#x, subscribed to %#x", old, first.SessionID)
			}
			if ev := nextEvent(t, events); ev.State != Disconnected {
				t.Fatalf("got %+v, want Disconnected", ev)
			}
			if ev := nextEvent(t, events); ev.State != Expired || ev.SessionID != old {
				t.Fatalf("got %+v, want Expired of %#x", ev, old)
			}
			ev := nextEvent(t, events)
			if ev.State != Connected || ev.SessionID == old || ev.SessionID == 0 {
				t.Fatalf("got %+v, want Connected with a new session", ev)
			}
			// The new session works, and the chroot applies.
			if _, err := s.Store().Put(context.Background(), "after", "ok"); err != nil {
				t.Fatalf("Put on the new session: %v", err)
			}
		})

		t.Run("PresumedExpired", func(t *testing.T) {
			// Partitioned for longer than the timeout, the client cannot hear
			// the server say "expired"; it must conclude it, as Mesos does.
			proxy := zktest.NewProxy(t, addr)
			s := dial(t, []string{proxy.Addr()}, uniqueChroot(t), withTimeout(800*time.Millisecond))
			events := s.Subscribe(t.Context())
			first := nextEvent(t, events)
			proxy.Block()
			if ev := nextEvent(t, events); ev.State != Disconnected {
				t.Fatalf("got %+v, want Disconnected", ev)
			}
			ev := nextEvent(t, events)
			if ev.State != Expired || ev.SessionID != first.SessionID {
				t.Fatalf("got %+v while partitioned, want Expired of %#x", ev, first.SessionID)
			}
			if s.Status().State != Expired {
				t.Fatalf("Status() = %+v, want Expired while partitioned", s.Status())
			}
			proxy.Unblock()
			// The server expires the session on its own tick, which may come
			// a little after the client's conclusion; either way the Session
			// ends up connected, and says with which session.
			ev = nextEvent(t, events)
			if ev.State != Connected {
				t.Fatalf("after the partition: %+v, want Connected", ev)
			}
			if ev.SessionID == first.SessionID {
				t.Logf("the server had not expired %#x yet; it resumed", ev.SessionID)
			}
		})

		t.Run("DigestCredentials", func(t *testing.T) {
			chroot := uniqueChroot(t)
			proxy := zktest.NewProxy(t, addr)
			authed := dial(t, []string{proxy.Addr()}, chroot, withCreds("alice", "s3cret"))
			anon := dial(t, []string{addr}, chroot)
			ctx := context.Background()
			if _, err := authed.Store().Put(ctx, "secret", map[string]int{"v": 1}); err != nil {
				t.Fatalf("authenticated Put: %v", err)
			}
			// Everyone may read (followers detect leaders without credentials)...
			if v, _, err := Get[map[string]int](ctx, anon.Store(), "secret"); err != nil || v["v"] != 1 {
				t.Fatalf("anonymous Get = %v, %v", v, err)
			}
			// ...only the creator may write.
			if _, err := anon.Store().Put(ctx, "secret", map[string]int{"v": 2}); !errors.Is(err, zk.ErrNoAuth) {
				t.Fatalf("anonymous Put = %v, want NoAuth", err)
			}
			// Credentials are presented again on the session made after expiry.
			expire(t, authed, proxy, addr)
			waitFor(t, "a new authenticated session", func() bool {
				_, err := authed.Store().Put(ctx, "secret", map[string]int{"v": 3})
				return err == nil
			})
		})
	})
}

func TestIntegration_SubscribeEnds(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		s := dial(t, []string{addr}, uniqueChroot(t))
		ctx, cancel := context.WithCancel(context.Background())
		events := s.Subscribe(ctx)
		nextEvent(t, events)
		cancel()
		waitFor(t, "the subscription to close", func() bool {
			select {
			case _, ok := <-events:
				return !ok
			default:
				return false
			}
		})
		other := s.Subscribe(context.Background())
		nextEvent(t, other)
		s.Close()
		for range other {
		}
		if _, err := s.Store().Put(context.Background(), "x", 1); !errors.Is(err, ErrClosed) {
			t.Fatalf("Put after Close = %v, want ErrClosed", err)
		}
	})
}
