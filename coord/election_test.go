package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/zktest"
)

const group = "master/leader"

func info(i int) []byte { return []byte(fmt.Sprintf(`{"id":"master-%d","port":%d}`, i, 5050+i)) }

// contender is one candidate on its own session, reached through its own
// proxy so the test can cut it off alone.
type contender struct {
	sess  *Session
	proxy *zktest.Proxy
	cand  *Candidate
}

func newContender(t *testing.T, addr, chroot string, i int, opts ...dialOpt) *contender {
	t.Helper()
	proxy := zktest.NewProxy(t, addr)
	sess := dial(t, []string{proxy.Addr()}, chroot, opts...)
	cand, err := sess.Elect(group, info(i))
	if err != nil {
		t.Fatalf("Elect: %v", err)
	}
	return &contender{sess: sess, proxy: proxy, cand: cand}
}

// groupMembers lists the json.info_ nodes as an observer sees them.
func groupMembers(t *testing.T, obs *Session) []string {
	t.Helper()
	abs, _ := obs.Path(group)
	m, err := obs.members(context.Background(), abs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIntegration_Election(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		chroot := uniqueChroot(t)
		obs := dial(t, []string{addr}, chroot)

		// Three candidates enter one after another, so their sequence order
		// is known: 0 is lowest.
		cs := make([]*contender, 3)
		for i := range cs {
			cs[i] = newContender(t, addr, chroot, i)
			waitFor(t, fmt.Sprintf("candidate %d's node", i), func() bool { return len(groupMembers(t, obs)) == i+1 })
		}
		members := groupMembers(t, obs)
		for _, m := range members {
			if !strings.HasPrefix(m, "json.info_") || len(m) != len("json.info_")+10 {
				t.Fatalf("node %q is not named json.info_NNNNNNNNNN", m)
			}
		}

		// The lowest leads, and only it.
		term0 := nextTerm(t, cs[0].cand, patience)
		if term0.Node() != members[0] {
			t.Fatalf("leader node %s, lowest is %s", term0.Node(), members[0])
		}
		for i := 1; i < 3; i++ {
			if cs[i].cand.leading() {
				t.Fatalf("candidate %d leads too", i)
			}
		}
		abs0, _ := obs.Path(group + "/" + members[0])
		data, stat, err := obs.Conn().Get(abs0)
		if err != nil || string(data) != string(info(0)) || stat.EphemeralOwner != cs[0].sess.Status().SessionID {
			t.Fatalf("leader node holds %q owned by %#x, %v", data, stat.EphemeralOwner, err)
		}

		// Each candidate watches only its predecessor (and the leader its
		// own node): no herd on the leader's node. Apache's wchp shows it.
		// A candidate sets its watch just after its node appears, so the
		// picture is polled until it settles.
		if wchp, err := zktest.FourLetterWord(addr, "wchp"); err == nil && strings.HasPrefix(wchp, "/") {
			abs := func(m string) string { p, _ := obs.Path(group + "/" + m); return p }
			var watchers map[string]int
			ok := func() bool {
				watchers = parseWchp(wchp)
				return watchers[abs(members[0])] == 2 && watchers[abs(members[1])] == 1 && watchers[abs(members[2])] == 0
			}
			for end := time.Now().Add(patience); !ok() && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if wchp, err = zktest.FourLetterWord(addr, "wchp"); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("watching sessions per node: %v", watchers)
			if !ok() {
				t.Fatalf("watchers per node %v; want leader's node 2 (itself, candidate 1), then 1, 0:\n%s", watchers, wchp)
			}
		}

		// Kill the leader's session: the successor (candidate 1) leads
		// within the session timeout, and the old leader is told.
		killed := time.Now()
		expire(t, cs[0].sess, cs[0].proxy, addr)
		term1 := nextTerm(t, cs[1].cand, cs[1].sess.Timeout())
		t.Logf("successor led %v after the kill", time.Since(killed).Round(time.Millisecond))
		select {
		case <-term0.Done():
		case <-time.After(patience):
			t.Fatal("the killed leader was never told")
		}
		if err := term0.Err(); !errors.Is(err, ErrDisconnected) && !errors.Is(err, ErrSessionExpired) {
			t.Fatalf("killed leader's term ended with %v", err)
		}
		if term1.Node() != members[1] {
			t.Fatalf("successor node %s, want %s", term1.Node(), members[1])
		}
		if cs[2].cand.leading() {
			t.Fatal("candidate 2 leads beside candidate 1")
		}

		// The killed candidate re-enters on its new session, at the back.
		waitFor(t, "candidate 0 to re-enter", func() bool {
			m := groupMembers(t, obs)
			return len(m) == 3 && m[0] == members[1] && m[2] != members[0]
		})
		if cs[0].cand.leading() {
			t.Fatal("re-entered candidate 0 leads")
		}

		// Resign withdraws: the node goes, Terms closes, candidate 2 leads.
		if err := cs[1].cand.Resign(context.Background()); err != nil {
			t.Fatalf("Resign: %v", err)
		}
		if !errors.Is(term1.Err(), ErrResigned) {
			t.Fatalf("resigned term ended with %v", term1.Err())
		}
		if _, ok := <-cs[1].cand.Terms(); ok {
			t.Fatal("Terms still open after Resign")
		}
		term2 := nextTerm(t, cs[2].cand, patience)
		if term2.Node() != members[2] {
			t.Fatalf("after resign leader is %s, want %s", term2.Node(), members[2])
		}
		if got := groupMembers(t, obs); len(got) != 2 {
			t.Fatalf("members after resign = %v", got)
		}
		// A session has one candidate per group; after resigning it may
		// stand again.
		if _, err := cs[2].sess.Elect(group, info(2)); err == nil {
			t.Fatal("a second candidate on the same session and group was accepted")
		}
		again, err := cs[1].sess.Elect(group, info(1))
		if err != nil {
			t.Fatalf("Elect after Resign: %v", err)
		}
		waitFor(t, "the new candidacy's node", func() bool { return len(groupMembers(t, obs)) == 3 })

		// Closing the leader's session hands over too.
		cs[2].sess.Close()
		if !errors.Is(term2.Err(), ErrClosed) {
			t.Fatalf("term of a closed session ended with %v", term2.Err())
		}
		next := nextTerm(t, cs[0].cand, patience)
		if next.Node() == members[0] {
			t.Fatalf("candidate 0 leads on its expired node %s", next.Node())
		}
		if again.leading() {
			t.Fatal("two leaders after close")
		}
	})
}

func TestIntegration_ElectionRejectsBadInfo(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		s := dial(t, []string{addr}, uniqueChroot(t))
		if _, err := s.Elect(group, []byte("not json")); err == nil {
			t.Fatal("Elect accepted info that is not JSON")
		}
		big, _ := json.Marshal(strings.Repeat("x", MaxValueSize))
		if _, err := s.Elect(group, big); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("Elect with %d bytes of info = %v, want ErrTooLarge", len(big), err)
		}
	})
}

func TestIntegration_LeadershipLifecycle(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		chroot := uniqueChroot(t)

		t.Run("ExpiryEndsTerm", func(t *testing.T) {
			c := newContender(t, addr, chroot+"/expiry", 0)
			term := nextTerm(t, c.cand, patience)
			if _, err := term.Store().Put(context.Background(), "state", "mine"); err != nil {
				t.Fatalf("fenced Put while leading: %v", err)
			}
			old := expire(t, c.sess, c.proxy, addr)
			select {
			case <-term.Done():
			case <-time.After(patience):
				t.Fatal("leader not told its session expired")
			}
			if err := term.Err(); !errors.Is(err, ErrDisconnected) && !errors.Is(err, ErrSessionExpired) {
				t.Fatalf("term ended with %v", err)
			}
			if err := context.Cause(term.Context()); err != term.Err() {
				t.Fatalf("Context cause %v, Err %v", err, term.Err())
			}
			// Alone in the group, it leads again on the new session, with a
			// new node; the old term's store stays fenced.
			term2 := nextTerm(t, c.cand, patience)
			if term2.Node() == term.Node() || c.sess.Status().SessionID == old {
				t.Fatalf("re-elected on node %s, session %#x (old %s, %#x)", term2.Node(), c.sess.Status().SessionID, term.Node(), old)
			}
			if _, err := term.Store().Put(context.Background(), "state", "stale"); !errors.Is(err, ErrFenced) {
				t.Fatalf("write through an ended term = %v, want ErrFenced", err)
			}
			if _, err := term2.Store().Put(context.Background(), "state", "new"); err != nil {
				t.Fatalf("write through the new term: %v", err)
			}
		})

		t.Run("DisconnectEndsTermAndReconnectRestores", func(t *testing.T) {
			// Default grace: a dropped connection ends the term at once; the
			// same session comes back, its node still lowest, and a new term
			// begins on the same node.
			c := newContender(t, addr, chroot+"/blip", 0)
			term := nextTerm(t, c.cand, patience)
			sid := c.sess.Status().SessionID
			c.proxy.Cut()
			select {
			case <-term.Done():
			case <-time.After(patience):
				t.Fatal("term survived a disconnect with no grace")
			}
			if !errors.Is(term.Err(), ErrDisconnected) {
				t.Fatalf("term ended with %v, want ErrDisconnected", term.Err())
			}
			term2 := nextTerm(t, c.cand, patience)
			if term2.Node() != term.Node() || c.sess.Status().SessionID != sid {
				t.Fatalf("after reconnect: node %s session %#x, want %s %#x", term2.Node(), c.sess.Status().SessionID, term.Node(), sid)
			}
		})

		t.Run("GraceRidesOutShortDisconnect", func(t *testing.T) {
			// A long session so the cap (timeout/4 = 3 s) exceeds
			// go-zookeeper's 1 s pause before reconnecting to a lone server.
			c := newContender(t, addr, chroot+"/grace", 0, withTimeout(12*time.Second), withGrace(time.Hour))
			term := nextTerm(t, c.cand, patience)
			g := c.sess.leaderGrace()
			if g != c.sess.Timeout()/4 {
				t.Fatalf("leaderGrace() = %v, want the cap %v", g, c.sess.Timeout()/4)
			}
			events := c.sess.Subscribe(t.Context())
			nextEvent(t, events)
			c.proxy.Cut()
			down := nextEvent(t, events)
			up := nextEvent(t, events)
			if down.State != Disconnected || up.State != Connected || up.SessionID != down.SessionID {
				t.Fatalf("events %+v, %+v; want a disconnect and the same session back", down, up)
			}
			// Only a gap clearly inside or outside the grace is judged.
			switch gap := up.At.Sub(down.At); {
			case gap < g-500*time.Millisecond:
				waitFor(t, "the candidate to see the reconnect", func() bool { return !c.cand.leading() || c.sess.Status().State == Connected })
				if err := term.Err(); err != nil {
					t.Fatalf("term ended (%v) after a %v disconnect, grace %v", err, gap, g)
				}
			case gap > g+500*time.Millisecond:
				t.Logf("reconnect took %v, beyond the %v grace; the term may end", gap, g)
			}

			// Blocked past the grace, the term ends even with no news.
			c.proxy.Block()
			select {
			case <-term.Done():
			case <-time.After(patience):
				t.Fatal("term outlived the grace")
			}
			if !errors.Is(term.Err(), ErrDisconnected) {
				t.Fatalf("term ended with %v", term.Err())
			}
			c.proxy.Unblock()
			nextTerm(t, c.cand, patience)
		})
	})
}

func TestIntegration_Fencing(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		chroot := uniqueChroot(t)
		ctx := context.Background()
		a := newContender(t, addr, chroot, 0)
		termA := nextTerm(t, a.cand, patience)
		b := newContender(t, addr, chroot, 1)
		obs := dial(t, []string{addr}, chroot)
		waitFor(t, "b's node", func() bool { return len(groupMembers(t, obs)) == 2 })

		if _, err := termA.Store().Put(ctx, "registry", "by a"); err != nil {
			t.Fatalf("leader's fenced Put: %v", err)
		}
		// A store bound to A's node but with no local term: whatever A's
		// process believes, only the server decides.
		believer := &Store{s: a.sess, fence: termA.node}

		// Depose A on the server: an operator deletes its node. B leads.
		if err := obs.Conn().Delete(termA.node, -1); err != nil {
			t.Fatal(err)
		}
		termB := nextTerm(t, b.cand, patience)
		if _, err := termB.Store().Put(ctx, "registry", "by b"); err != nil {
			t.Fatalf("new leader's fenced Put: %v", err)
		}
		// A's writes fail atomically, each kind of them.
		for name, write := range map[string]func() error{
			"Put":    func() error { _, err := believer.Put(ctx, "registry", "by a, deposed"); return err },
			"CAS":    func() error { _, err := believer.CAS(ctx, "registry", "by a, deposed", Any); return err },
			"Create": func() error { _, err := believer.CAS(ctx, "other", "by a, deposed", Absent); return err },
			"Delete": func() error { return believer.Delete(ctx, "registry", Any) },
		} {
			err := write()
			if !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "election node") {
				t.Fatalf("deposed leader's %s = %v, want ErrFenced from the server", name, err)
			}
		}
		if v, _, _ := Get[string](ctx, obs.Store(), "registry"); v != "by b" {
			t.Fatalf("registry = %q after the deposed leader's writes", v)
		}
		if _, _, err := Get[string](ctx, obs.Store(), "other"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deposed leader's create happened: %v", err)
		}
		// A learns it too, and its own term store fails fast.
		select {
		case <-termA.Done():
		case <-time.After(patience):
			t.Fatal("A never learned its node was deleted")
		}
		if !errors.Is(termA.Err(), ErrNodeDeleted) {
			t.Fatalf("A's term ended with %v", termA.Err())
		}
		if _, err := termA.Store().Put(ctx, "registry", "x"); !errors.Is(err, ErrFenced) {
			t.Fatalf("A's term store = %v, want ErrFenced", err)
		}

		// Session expiry deposes the same way: B's session expires while a
		// believer keeps B's node in its fence; after B's client has a new
		// session, the old fence fails on the server.
		believerB := &Store{s: b.sess, fence: termB.node}
		expire(t, b.sess, b.proxy, addr)
		waitFor(t, "b's new session", func() bool {
			_, err := believerB.Put(ctx, "registry", "by b, expired")
			return errors.Is(err, ErrFenced)
		})
		if v, _, _ := Get[string](ctx, obs.Store(), "registry"); v != "by b" {
			t.Fatalf("registry = %q after the expired leader's writes", v)
		}
	})
}

// parseWchp counts the sessions watching each path in the output of the
// wchp four-letter word: a path line, then one indented line per session.
func parseWchp(out string) map[string]int {
	counts := map[string]int{}
	var path string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "/"):
			path = strings.TrimSpace(line)
			counts[path] += 0
		case strings.TrimSpace(line) != "" && path != "":
			counts[path]++
		}
	}
	return counts
}
