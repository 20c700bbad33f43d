package tree

import (
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

// TestWatches follows a session recorded against ZooKeeper 3.8.0: session 1
// watches, session 2 changes things, and each step lists the events 1 got.
func TestWatches(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.session(2)
	var got []Event
	run := func(r Result) Result { got = append(got, r.Events...); return r }
	A := func(op int32, req jute.Record) Result { return run(h.exec(1, op, req)) }
	mk := func(p string) { run(h.exec(2, jute.OpCreate, createReq(p, "d", 0))) }
	set := func(p string) { run(h.set(2, p, "n")) }
	del := func(p string) { run(h.del(2, p)) }
	step := func(name string, want ...string) {
		t.Helper()
		if want == nil {
			want = []string{}
		}
		eq(t, name, events(got), want)
		got = nil
	}

	A(jute.OpExists, pathWatch("/w", true))
	A(jute.OpGetChildren, pathWatch("/", true))
	mk("/w")
	step("exist watch and child watch", "s1:NodeCreated:/w", "s1:NodeChildrenChanged:/")

	A(jute.OpGetData, pathWatch("/w", true))
	A(jute.OpExists, pathWatch("/w", true))
	A(jute.OpGetChildren, pathWatch("/w", true))
	A(jute.OpGetChildren, pathWatch("/", true))
	set("/w")
	step("data watch", "s1:NodeDataChanged:/w")
	del("/w")
	step("the child watch on /w is still there", "s1:NodeDeleted:/w", "s1:NodeChildrenChanged:/")
	A(jute.OpGetData, pathWatch("/w2", true)) // NoNode: no watch
	mk("/w2")
	A(jute.OpGetData, pathWatch("/w2", true))
	A(jute.OpGetChildren, pathWatch("/w2", true))
	del("/w2")
	step("delete fires once", "s1:NodeDeleted:/w2")
	set("/zookeeper/quota")
	step("one-shot watches are gone")

	A(jute.OpAddWatch, &jute.AddWatchRequest{Path: "/p", Mode: jute.AddWatchPersistent})
	mk("/p")
	set("/p")
	mk("/p/c")
	set("/p/c")
	del("/p/c")
	del("/p")
	mk("/p")
	step("persistent", "s1:NodeCreated:/p", "s1:NodeDataChanged:/p", "s1:NodeChildrenChanged:/p",
		"s1:NodeChildrenChanged:/p", "s1:NodeDeleted:/p", "s1:NodeCreated:/p")

	A(jute.OpAddWatch, &jute.AddWatchRequest{Path: "/r", Mode: jute.AddWatchPersistentRecursive})
	mk("/r")
	mk("/r/c")
	set("/r/c")
	mk("/r/c/d")
	del("/r/c/d")
	del("/r/c")
	set("/r")
	step("recursive never sees NodeChildrenChanged", "s1:NodeCreated:/r", "s1:NodeCreated:/r/c",
		"s1:NodeDataChanged:/r/c", "s1:NodeCreated:/r/c/d", "s1:NodeDeleted:/r/c/d", "s1:NodeDeleted:/r/c",
		"s1:NodeDataChanged:/r")

	// ZooKeeper 3.8 keeps one mode per session and path: getData(watch) turns
	// the data half of the recursive watch into a one-shot watch.
	A(jute.OpGetData, pathWatch("/r", true))
	set("/r")
	set("/r")
	mk("/r/e")
	step("recursive downgraded by getData", "s1:NodeDataChanged:/r")

	check := func(op int32, path string, typ int32, want int32) {
		t.Helper()
		if r := A(op, &jute.WatchesRequest{Path: path, Type: typ}); r.Err != want {
			t.Errorf("op %d %s type %d: %s, want %s", op, path, typ, errName(r.Err), errName(want))
		}
	}
	check(jute.OpCheckWatches, "/p", jute.WatcherData, 0)
	check(jute.OpCheckWatches, "/p", jute.WatcherChildren, 0)
	check(jute.OpCheckWatches, "/p/zz", jute.WatcherAny, jute.ErrNoWatcher)
	check(jute.OpCheckWatches, "/p", jute.WatcherPersistent, jute.ErrMarshallingError)
	check(jute.OpRemoveWatches, "/p", jute.WatcherPersistent, jute.ErrMarshallingError)
	check(jute.OpRemoveWatches, "/p", jute.WatcherData, 0)
	check(jute.OpRemoveWatches, "/p", jute.WatcherData, jute.ErrNoWatcher)
	set("/p")
	mk("/p/d")
	step("data half removed, child half stays", "s1:NodeChildrenChanged:/p")
	check(jute.OpRemoveWatches, "/p", jute.WatcherAny, 0)
	check(jute.OpRemoveWatches, "/p", jute.WatcherAny, jute.ErrNoWatcher)
	h.exec(2, jute.OpExists, pathWatch("/p", true))
	// ZooKeeper 3.8 answers checkWatches for any session's watch on the
	// path: session 1 asks about session 2's exist watch.
	check(jute.OpCheckWatches, "/p", jute.WatcherData, 0)
	got = nil

	// setWatches after a reconnect: what changed since zxid rel fires now.
	rel := h.tr.LastZxid()
	mk("/s1")
	mk("/s2")
	set("/p")
	got = nil
	r := A(jute.OpSetWatches, &jute.SetWatches{RelativeZxid: rel,
		DataWatches:  []string{"/p", "/r", "/gone"},
		ExistWatches: []string{"/s1", "/nx"},
		ChildWatches: []string{"/", "/r", "/gone2"}})
	if _, ok := r.Resp.(*jute.Empty); !ok {
		t.Errorf("setWatches answered %T", r.Resp)
	}
	step("setWatches fires at once", "s1:NodeDataChanged:/p", "s1:NodeDeleted:/gone", "s1:NodeCreated:/s1",
		"s1:NodeChildrenChanged:/", "s1:NodeDeleted:/gone2")
	mk("/nx")
	mk("/r/f")
	set("/r")
	step("and registers the rest", "s1:NodeCreated:/nx", "s1:NodeChildrenChanged:/r", "s1:NodeDataChanged:/r")

	A(jute.OpSetWatches2, &jute.SetWatches{V2: true, PersistentRecursive: []string{"/q"}, PersistentWatches: []string{"/nx"}})
	mk("/q")
	mk("/q/a")
	set("/nx")
	set("/nx")
	step("setWatches2 persistent kinds", "s1:NodeCreated:/q", "s1:NodeCreated:/q/a", "s1:NodeDataChanged:/nx", "s1:NodeDataChanged:/nx")

	if s := h.tr.Stats(); s.Watches == 0 || s.DataWatches == 0 {
		t.Errorf("stats %+v", s)
	}
	if w := h.tr.WatchesBySession()[1]; len(w) == 0 {
		t.Error("no watches listed for session 1")
	}
	h.tr.RemoveWatches(1)
	set("/nx")
	mk("/q/b")
	step("RemoveWatches drops them all")
	if s := h.tr.Stats(); s.Watches != 0 {
		t.Errorf("stats after RemoveWatches %+v", s)
	}
}

func TestWatchMultiAndClose(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.session(2)
	h.create(2, "/a", "", 0)
	h.exec(1, jute.OpExists, pathWatch("/a/x", true))
	h.exec(1, jute.OpGetChildren, pathWatch("/a", true))
	h.exec(1, jute.OpGetData, pathWatch("/a", true))
	failed := h.exec(2, jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		op(jute.OpCreate, createReq("/a/x", "", 0)),
		op(jute.OpSetData, &jute.SetDataRequest{Path: "/a", Version: 9}),
	}})
	eq(t, "failed multi fires nothing", events(failed.Events), []string{})
	ok := h.exec(2, jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		op(jute.OpCreate, createReq("/a/x", "", jute.FlagEphemeral)),
		op(jute.OpSetData, &jute.SetDataRequest{Path: "/a", Version: 0}),
		op(jute.OpCreate, createReq("/a/y", "", jute.FlagEphemeral)),
	}})
	eq(t, "multi fires in op order", events(ok.Events),
		[]string{"s1:NodeCreated:/a/x", "s1:NodeChildrenChanged:/a", "s1:NodeDataChanged:/a"})

	h.exec(1, jute.OpGetChildren, pathWatch("/a", true))
	h.exec(1, jute.OpExists, pathWatch("/a/y", true))
	h.exec(2, jute.OpGetChildren, pathWatch("/a", true)) // the closing session's own watch
	r := h.exec(2, jute.OpCloseSession, &jute.Empty{})
	// The closing session still hears its own watch fire, as in ZooKeeper.
	eq(t, "closeSession deletes ephemerals in path order", events(r.Events),
		[]string{"s1:NodeChildrenChanged:/a", "s2:NodeChildrenChanged:/a", "s1:NodeDeleted:/a/y"})
	eq(t, "ephemerals gone", h.children("/a"), []string{})
	if _, _, ok := h.tr.Session(2); ok {
		t.Error("session 2 survived closeSession")
	}
	if h.tr.Stats().Watches != 0 {
		t.Errorf("watches left: %+v", h.tr.WatchesBySession())
	}
}

// TestWatchACLFilter: events are only delivered to sessions that may read the
// node (ZOOKEEPER-4799, also in Debian's ZooKeeper 3.8.0).
func TestWatchACLFilter(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.session(2)
	h.session(3)
	h.addAuth(1, "alice:pw")
	h.auth[3] = append(h.auth[3], jute.Id{Scheme: "super"})
	h.must(1, jute.OpCreate, &jute.CreateRequest{Path: "/acl", ACL: []jute.ACL{
		{Perms: jute.PermAll, ID: jute.Id{Scheme: "auth"}},
		{Perms: jute.PermRead, ID: jute.Id{Scheme: "world", ID: "anyone"}}}})
	for _, s := range []int64{2, 3} {
		h.exec(s, jute.OpGetData, pathWatch("/acl", true))
		h.exec(s, jute.OpAddWatch, &jute.AddWatchRequest{Path: "/", Mode: jute.AddWatchPersistentRecursive})
	}
	secret := []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "auth"}}}
	r := h.exec(1, jute.OpCreate, &jute.CreateRequest{Path: "/acl/secret", ACL: secret})
	eq(t, "create of an unreadable node", events(r.Events), []string{"s3:NodeCreated:/acl/secret"})
	r = h.set(1, "/acl/secret", "x")
	eq(t, "set of an unreadable node", events(r.Events), []string{"s3:NodeDataChanged:/acl/secret"})
	r = h.set(1, "/acl", "z")
	eq(t, "set of a readable node, one event per session", events(r.Events), []string{"s2:NodeDataChanged:/acl", "s3:NodeDataChanged:/acl"})

	// Session 2 learns alice's password: Exec keeps its identities current.
	h.exec(2, jute.OpExists, pathWatch("/acl/secret", true))
	h.addAuth(2, "alice:pw")
	r = h.del(1, "/acl/secret")
	eq(t, "after addAuth", events(r.Events), []string{"s2:NodeDeleted:/acl/secret", "s3:NodeDeleted:/acl/secret"})
}
