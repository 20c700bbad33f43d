package server_test

import (
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
)

// Cases about watches: which events fire, once, in what order relative to
// replies, persistent and recursive watches, removing and re-arming them.

func caseWatchesOneShot(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	n, m := h.p("n"), h.p("m")
	b.do(jute.OpCreate, reqCreate(n, "", jute.FlagPersistent))
	a.do(jute.OpGetData, reqWatch(n, true))
	a.do(jute.OpExists, reqWatch(n, true))
	a.do(jute.OpGetChildren, reqWatch(n, true))
	a.do(jute.OpExists, reqWatch(m, true))
	b.do(jute.OpSetData, reqSetData(n, "1", -1))
	a.flush()
	b.do(jute.OpSetData, reqSetData(n, "2", -1))
	a.flush()
	b.do(jute.OpCreate, reqCreate(n+"/c", "", jute.FlagPersistent))
	a.flush()
	b.do(jute.OpCreate, reqCreate(m, "", jute.FlagPersistent))
	a.flush()
	b.do(jute.OpDelete, reqPathVersion(n+"/c", -1))
	b.do(jute.OpSetData, reqSetData(m, "", -1))
	a.flush()
	// getChildren2 sets a child watch; a failed read sets none, but a
	// failed exists sets an existence watch.
	a.do(jute.OpGetChildren2, reqWatch(n, true))
	a.do(jute.OpGetData, reqWatch(h.p("nope"), true))
	a.do(jute.OpGetChildren, reqWatch(h.p("nope"), true))
	a.do(jute.OpExists, reqWatch(h.p("nope2"), true))
	b.do(jute.OpCreate, reqCreate(h.p("nope"), "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(h.p("nope2"), "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(n+"/d", "", jute.FlagPersistent))
	a.flush()
	// Deleting a node fires its data and child watches once (NodeDeleted)
	// and its parent's child watch.
	a.do(jute.OpGetData, reqWatch(n+"/d", true))
	a.do(jute.OpGetChildren, reqWatch(n+"/d", true))
	a.do(jute.OpExists, reqWatch(n+"/d", true))
	a.do(jute.OpGetChildren, reqWatch(n, true))
	a.do(jute.OpGetData, reqWatch(n, true))
	b.do(jute.OpDelete, reqPathVersion(n+"/d", -1))
	a.flush()
	// A setData that fails fires nothing; a setData with the same bytes
	// still fires.
	a.do(jute.OpGetData, reqWatch(m, true))
	b.do(jute.OpSetData, reqSetData(m, "", 7))
	a.flush()
	b.do(jute.OpSetData, reqSetData(m, "", -1))
	a.flush()
	// Ephemeral owner's own changes notify it too, and a watch set by
	// B does not fire for A.
	b.do(jute.OpExists, reqWatch(h.p("e"), true))
	a.do(jute.OpCreate, reqCreate(h.p("e"), "", jute.FlagEphemeral))
	b.flush()
	a.do(jute.OpGetChildren, reqWatch(h.root, true))
	b.do(jute.OpGetChildren, reqWatch(h.root, true))
	a.do(jute.OpDelete, reqPathVersion(h.p("e"), -1))
	h.flush()
	// Many watches on many paths fire in the order of the transactions.
	for _, p := range []string{"w1", "w2", "w3"} {
		b.do(jute.OpCreate, reqCreate(h.p(p), "", jute.FlagPersistent))
		a.do(jute.OpGetData, reqWatch(h.p(p), true))
	}
	b.do(jute.OpSetData, reqSetData(h.p("w2"), "x", -1))
	b.do(jute.OpSetData, reqSetData(h.p("w3"), "x", -1))
	b.do(jute.OpDelete, reqPathVersion(h.p("w1"), -1))
	a.flush()
}

func caseWatchBeforeReply(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	n := h.p("n")
	a.do(jute.OpCreate, reqCreate(n, "", jute.FlagPersistent))
	// The event for A's own write comes before the write's reply.
	a.do(jute.OpGetData, reqWatch(n, true))
	a.do(jute.OpSetData, reqSetData(n, "mine", -1))
	a.do(jute.OpGetChildren, reqWatch(n, true))
	a.do(jute.OpCreate, reqCreate(n+"/c", "", jute.FlagPersistent))
	// B's write: A sees the event before the reply to any read that
	// observes the change.
	a.do(jute.OpExists, reqWatch(n, true))
	b.do(jute.OpSetData, reqSetData(n, "theirs", -1))
	a.do(jute.OpGetData, reqWatch(n, false))
	// Pipelined: the event lands between the replies exactly where the
	// change happened.
	a.do(jute.OpGetData, reqWatch(n, true))
	p1 := a.send(jute.OpGetData, reqWatch(n, false))
	p2 := a.send(jute.OpSetData, reqSetData(n, "pipelined", -1))
	p3 := a.send(jute.OpGetData, reqWatch(n, true))
	p4 := a.send(jute.OpSetData, reqSetData(n, "again", -1))
	p5 := a.send(jute.OpExists, reqWatch(n, false))
	for _, p := range []*pending{p1, p2, p3, p4, p5} {
		a.wait(p)
	}
	// A delete in a pipeline with child and data watches.
	a.do(jute.OpGetChildren, reqWatch(n, true))
	a.do(jute.OpExists, reqWatch(n+"/c", true))
	p1 = a.send(jute.OpDelete, reqPathVersion(n+"/c", -1))
	p2 = a.send(jute.OpGetChildren, reqWatch(n, false))
	a.wait(p1)
	a.wait(p2)
}

func casePersistentWatches(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	p, r := h.p("p"), h.p("r")
	b.do(jute.OpCreate, reqCreate(p, "", jute.FlagPersistent))
	a.do(jute.OpAddWatch, &jute.AddWatchRequest{Path: p, Mode: jute.AddWatchPersistent})
	b.do(jute.OpSetData, reqSetData(p, "1", -1))
	b.do(jute.OpSetData, reqSetData(p, "2", -1))
	b.do(jute.OpCreate, reqCreate(p+"/c", "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(p+"/c/g", "", jute.FlagPersistent))
	b.do(jute.OpSetData, reqSetData(p+"/c", "", -1))
	b.do(jute.OpDelete, reqPathVersion(p+"/c/g", -1))
	b.do(jute.OpDelete, reqPathVersion(p+"/c", -1))
	a.flush()
	// A one-shot watch on the same path for the same client: one event.
	a.do(jute.OpGetData, reqWatch(p, true))
	b.do(jute.OpSetData, reqSetData(p, "3", -1))
	a.flush()
	// On a path that does not exist yet.
	a.do(jute.OpAddWatch, &jute.AddWatchRequest{Path: r, Mode: jute.AddWatchPersistentRecursive})
	b.do(jute.OpCreate, reqCreate(r, "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(r+"/a", "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(r+"/a/b", "", jute.FlagPersistent))
	b.do(jute.OpSetData, reqSetData(r+"/a/b", "x", -1))
	b.do(jute.OpDelete, reqPathVersion(r+"/a/b", -1))
	b.do(jute.OpCreate, reqCreate(r+"b", "", jute.FlagPersistent))
	a.flush()
	// Deleting the watched node keeps a persistent watch.
	b.do(jute.OpDelete, reqPathVersion(p, -1))
	b.do(jute.OpCreate, reqCreate(p, "", jute.FlagPersistent))
	a.flush()
	// Persistent and recursive on the same path: the recursive mode wins
	// for data, both see structure changes as they would alone.
	a.do(jute.OpAddWatch, &jute.AddWatchRequest{Path: r + "/a", Mode: jute.AddWatchPersistent})
	b.do(jute.OpCreate, reqCreate(r+"/a/z", "", jute.FlagPersistent))
	b.do(jute.OpSetData, reqSetData(r+"/a", "", -1))
	a.flush()
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: r, Type: jute.WatcherPersistentRecursive})
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: r, Type: jute.WatcherPersistent})
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: p, Type: jute.WatcherPersistent})
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: p, Type: jute.WatcherAny})
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: p, Type: jute.WatcherData})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: p, Type: jute.WatcherPersistent})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: p, Type: jute.WatcherPersistent})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: r, Type: jute.WatcherAny})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: r + "/a", Type: jute.WatcherPersistentRecursive})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: r + "/a", Type: jute.WatcherPersistent})
	b.do(jute.OpSetData, reqSetData(p, "", -1))
	b.do(jute.OpSetData, reqSetData(r, "", -1))
	b.do(jute.OpSetData, reqSetData(r+"/a", "", -1))
	a.do(jute.OpAddWatch, &jute.AddWatchRequest{Path: "bad", Mode: jute.AddWatchPersistent})
	a.do(jute.OpAddWatch, &jute.AddWatchRequest{Path: p, Mode: 7})
}

func caseRemoveWatches(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	n := h.p("n")
	b.do(jute.OpCreate, reqCreate(n, "", jute.FlagPersistent))
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherAny})
	a.do(jute.OpGetData, reqWatch(n, true))
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherData})
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherChildren})
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherAny})
	b.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherData})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherChildren})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherData})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherData})
	b.do(jute.OpSetData, reqSetData(n, "no one listens", -1))
	a.flush()
	a.do(jute.OpExists, reqWatch(n, true))
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherData})
	a.do(jute.OpGetChildren, reqWatch(n, true))
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherAny})
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherAny})
	a.do(jute.OpExists, reqWatch(h.p("missing"), true))
	a.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: h.p("missing"), Type: jute.WatcherData})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: h.p("missing"), Type: jute.WatcherData})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: h.p("never"), Type: jute.WatcherAny})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: "bad", Type: jute.WatcherAny})
	a.do(jute.OpRemoveWatches, &jute.WatchesRequest{Path: n, Type: 9})
	b.do(jute.OpCreate, reqCreate(n+"/c", "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(h.p("missing"), "", jute.FlagPersistent))
}

func caseSetWatchesRaw(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	n, m, p, q := h.p("n"), h.p("m"), h.p("p"), h.p("q")
	b.do(jute.OpCreate, reqCreate(n, "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(p, "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(q, "", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(h.p("eph"), "", jute.FlagEphemeral))
	last := a.do(jute.OpGetData, reqWatch(n, true)).Zxid
	a.drop()
	// While A is away: changes its watches would have seen.
	b.do(jute.OpSetData, reqSetData(n, "changed", -1))
	b.do(jute.OpCreate, reqCreate(m, "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(p+"/c", "", jute.FlagPersistent))
	b.do(jute.OpDelete, reqPathVersion(q, -1))
	a2 := h.resume("A2", a, nil)
	a2.do(jute.OpExists, reqWatch(h.p("eph"), false))
	// Watches are per connection: nothing fired for the old one.
	a2.flush()
	// setWatches with the zxid A had seen fires what it missed at once.
	a2.wait(a2.sendXid(jute.XidSetWatches, jute.OpSetWatches, &jute.SetWatches{
		RelativeZxid: last,
		DataWatches:  []string{n, h.p("untouched")},
		ExistWatches: []string{m, h.p("still-missing")},
		ChildWatches: []string{p, q},
	}))
	a2.flush()
	// With a current zxid nothing fires until the next change.
	cur := b.do(jute.OpExists, reqWatch(n, false)).Zxid
	a2.wait(a2.sendXid(jute.XidSetWatches, jute.OpSetWatches, &jute.SetWatches{
		RelativeZxid: cur,
		DataWatches:  []string{n},
		ExistWatches: []string{h.p("still-missing")},
		ChildWatches: []string{p},
	}))
	a2.flush()
	b.do(jute.OpSetData, reqSetData(n, "again", -1))
	b.do(jute.OpCreate, reqCreate(h.p("still-missing"), "", jute.FlagPersistent))
	b.do(jute.OpDelete, reqPathVersion(p+"/c", -1))
	a2.flush()
	// setWatches2 re-arms persistent and recursive watches too.
	a2.wait(a2.sendXid(jute.XidSetWatches, jute.OpSetWatches2, &jute.SetWatches{
		V2:                  true,
		RelativeZxid:        cur,
		PersistentWatches:   []string{n},
		PersistentRecursive: []string{p},
	}))
	b.do(jute.OpSetData, reqSetData(n, "persistent", -1))
	b.do(jute.OpSetData, reqSetData(n, "still", -1))
	b.do(jute.OpCreate, reqCreate(p+"/d", "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(p+"/d/e", "", jute.FlagPersistent))
	a2.flush()
	a2.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: n, Type: jute.WatcherPersistent})
	a2.do(jute.OpCheckWatches, &jute.WatchesRequest{Path: p, Type: jute.WatcherPersistentRecursive})
	// setWatches on an ordinary xid is answered like any request.
	a2.do(jute.OpSetWatches, &jute.SetWatches{RelativeZxid: cur, DataWatches: []string{n}})
}

// caseSetWatchesGozk lets go-zookeeper re-arm its watches after a
// reconnect, as a real client does.
func caseSetWatchesGozk(h *harness) {
	b := h.connect("B", 4000*millis)
	n, m, p := h.p("n"), h.p("m"), h.p("p")
	b.do(jute.OpCreate, reqCreate(n, "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(p, "", jute.FlagPersistent))
	g, cut, _ := h.gozk("G", 4000*millis)
	_, _, dataW, err := g.GetW(n)
	if err != nil {
		h.t.Fatalf("GetW: %v", err)
	}
	_, _, existW, err := g.ExistsW(m)
	if err != nil {
		h.t.Fatalf("ExistsW: %v", err)
	}
	_, _, childW, err := g.ChildrenW(p)
	if err != nil {
		h.t.Fatalf("ChildrenW: %v", err)
	}
	_, _, quietW, err := g.GetW(p)
	if err != nil {
		h.t.Fatalf("GetW: %v", err)
	}
	cut.cut()
	h.log("G connection cut")
	b.do(jute.OpSetData, reqSetData(n, "x", -1))
	b.do(jute.OpCreate, reqCreate(m, "", jute.FlagPersistent))
	b.do(jute.OpCreate, reqCreate(p+"/c", "", jute.FlagPersistent))
	cut.restore()
	h.log("G may reconnect")
	h.logGozkEvent("G", dataW)
	h.logGozkEvent("G", existW)
	h.logGozkEvent("G", childW)
	b.do(jute.OpSetData, reqSetData(p, "y", -1))
	h.logGozkEvent("G", quietW)
	if ok, _, err := g.Exists(m); err != nil || !ok {
		h.log("G exists %s: %t %v", m, ok, err)
	}
}

// millis keeps timeouts readable.
const millis = time.Millisecond
