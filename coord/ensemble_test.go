package coord

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/zktest"
)

// TestIntegration_Ensemble runs the recipes against a 3-node Apache
// ensemble: losing the ZooKeeper server a leader is connected to costs it
// the connection, not the session or the leadership; losing its session
// hands leadership to the next candidate.
func TestIntegration_Ensemble(t *testing.T) {
	members := zktest.ApacheEnsemble(t, 3)
	const timeout = 6 * time.Second // room for the ensemble to re-elect its own leader
	chroot := uniqueChroot(t)
	ctx := context.Background()

	// A reaches each member through its own proxy, so the test can tell
	// which member it uses and can cut it off from all of them.
	proxies := make([]*zktest.Proxy, len(members))
	member := map[string]string{} // proxy address → member address
	var viaProxies []string
	for i, m := range members {
		proxies[i] = zktest.NewProxy(t, m)
		member[proxies[i].Addr()] = m
		viaProxies = append(viaProxies, proxies[i].Addr())
	}
	a := dial(t, viaProxies, chroot, withTimeout(timeout))
	b := dial(t, members, chroot, withTimeout(timeout))
	obs := dial(t, members, chroot, withTimeout(timeout))

	ca, err := a.Elect(group, info(0))
	if err != nil {
		t.Fatal(err)
	}
	termA := nextTerm(t, ca, patience)
	cb, err := b.Elect(group, info(1))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b's node", func() bool { return len(groupMembers(t, obs)) == 2 })
	if _, err := termA.Store().Put(ctx, "registry", 1); err != nil {
		t.Fatalf("fenced Put on the ensemble: %v", err)
	}

	// Kill the member A is connected to.
	sid := a.Status().SessionID
	killed := member[a.Conn().Server()]
	if killed == "" {
		t.Fatalf("A is connected to %q, not one of the proxies", a.Conn().Server())
	}
	zktest.Kill(t, killed)
	t.Logf("killed member %s", killed)
	waitFor(t, "A to reconnect to a surviving member", func() bool {
		st := a.Status()
		return st.State == Connected && member[a.Conn().Server()] != killed
	})
	if got := a.Status().SessionID; got != sid {
		t.Fatalf("A's session changed from %#x to %#x: it should survive a member's death", sid, got)
	}
	// The disconnect ended A's term (no grace); the same node leads again.
	if err := termA.Err(); err != nil && !errors.Is(err, ErrDisconnected) {
		t.Fatalf("A's term ended with %v", err)
	}
	termA2 := termA
	if termA.Err() != nil {
		termA2 = nextTerm(t, ca, patience)
	}
	if termA2.Node() != termA.Node() {
		t.Fatalf("A leads on %s, was %s", termA2.Node(), termA.Node())
	}
	if cb.leading() {
		t.Fatal("B leads while A's session lives")
	}
	if _, err := termA2.Store().Put(ctx, "registry", 2); err != nil {
		t.Fatalf("fenced Put after failover: %v", err)
	}

	// Now A's session dies: B leads within the session timeout.
	id, passwd := a.sessionCredentials()
	for _, p := range proxies {
		p.Block()
	}
	var live string
	for _, m := range members {
		if m != killed {
			live = m
			break
		}
	}
	if err := zktest.CloseSession(live, id, passwd); err != nil {
		t.Fatal(err)
	}
	termB := nextTerm(t, cb, b.Timeout())
	select {
	case <-termA2.Done():
	case <-time.After(patience):
		t.Fatal("A was never told")
	}
	if _, err := termB.Store().Put(ctx, "registry", 3); err != nil {
		t.Fatalf("B's fenced Put: %v", err)
	}
	for _, p := range proxies {
		p.Unblock()
	}
	believer := &Store{s: a, fence: termA2.node}
	waitFor(t, "A's stale fence to be refused on its new session", func() bool {
		_, err := believer.Put(ctx, "registry", 4)
		return errors.Is(err, ErrFenced)
	})
	if v, _, err := Get[int](ctx, obs.Store(), "registry"); err != nil || v != 3 {
		t.Fatalf("registry = %v, %v; want 3", v, err)
	}
}
