package coord

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/zktest"
)

func nextLeader(t *testing.T, ch <-chan Leader) Leader {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatal("WatchLeader channel closed")
		}
		return l
	case <-time.After(patience):
		t.Fatalf("no leader change within %v", patience)
	}
	return Leader{}
}

func TestIntegration_Detection(t *testing.T) {
	forEachServer(t, func(t *testing.T, addr string) {
		chroot := uniqueChroot(t)
		proxy := zktest.NewProxy(t, addr)
		follower := dial(t, []string{proxy.Addr()}, chroot)
		ctx := t.Context()

		// Before any candidate, the group does not even exist.
		if _, err := follower.Leader(ctx, group); !errors.Is(err, ErrNoLeader) {
			t.Fatalf("Leader of an empty group = %v, want ErrNoLeader", err)
		}
		leaders, err := follower.WatchLeader(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		if l := nextLeader(t, leaders); l.Node != "" {
			t.Fatalf("first value %+v, want no leader", l)
		}

		a := newContender(t, addr, chroot, 0)
		termA := nextTerm(t, a.cand, patience)
		l := nextLeader(t, leaders)
		if l.Node != termA.Node() || string(l.Info) != string(info(0)) {
			t.Fatalf("detected %s %s, want %s %s", l.Node, l.Info, termA.Node(), info(0))
		}
		if one, err := follower.Leader(ctx, group); err != nil || one.Node != l.Node || string(one.Info) != string(l.Info) {
			t.Fatalf("Leader() = %+v, %v; want %+v", one, err, l)
		}

		// A second candidate is not a change of leader; A's departure is.
		b := newContender(t, addr, chroot, 1)
		waitFor(t, "b's node", func() bool { return len(groupMembers(t, follower)) == 2 })
		if err := a.cand.Resign(ctx); err != nil {
			t.Fatal(err)
		}
		termB := nextTerm(t, b.cand, patience)
		if l := nextLeader(t, leaders); l.Node != termB.Node() || string(l.Info) != string(info(1)) {
			t.Fatalf("after A resigned detected %s %s, want %s", l.Node, l.Info, termB.Node())
		}

		// The group empties: no leader.
		if err := b.cand.Resign(ctx); err != nil {
			t.Fatal(err)
		}
		if l := nextLeader(t, leaders); l.Node != "" {
			t.Fatalf("after everyone resigned detected %+v, want none", l)
		}

		// The detector's own session expires: it reports none, then finds
		// the leader again on its new session.
		c := newContender(t, addr, chroot, 2)
		termC := nextTerm(t, c.cand, patience)
		if l := nextLeader(t, leaders); l.Node != termC.Node() {
			t.Fatalf("detected %+v, want %s", l, termC.Node())
		}
		expire(t, follower, proxy, addr)
		if l := nextLeader(t, leaders); l.Node != "" {
			t.Fatalf("after the detector's session expired: %+v, want none", l)
		}
		if l := nextLeader(t, leaders); l.Node != termC.Node() {
			t.Fatalf("on the new session detected %+v, want %s", l, termC.Node())
		}

		// The channel closes with its context.
		wctx, cancel := context.WithCancel(ctx)
		w, err := follower.WatchLeader(wctx, group)
		if err != nil {
			t.Fatal(err)
		}
		nextLeader(t, w)
		cancel()
		for range w {
		}
	})
}
