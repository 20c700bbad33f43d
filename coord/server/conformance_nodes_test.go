package server_test

import (
	"github.com/strata-dc/strata/coord/internal/zkraw"
	"github.com/strata-dc/strata/coord/server/jute"
)

// Cases about znodes: create modes, Stat fields, sequential names, errors,
// ACLs, multi and the read-only odds and ends.

// ttlHour is a TTL no test outlives, so TTL nodes that are not meant to expire
// never shift a later case's zxids.
const ttlHour = 3600 * 1000

func caseCreateModes(h *harness) {
	a := h.connect("A", 4000*millis)
	modes := []int32{jute.FlagPersistent, jute.FlagEphemeral, jute.FlagPersistentSequential, jute.FlagEphemeralSequential}
	for _, op := range []int32{jute.OpCreate, jute.OpCreate2} {
		for _, m := range modes {
			a.do(op, reqCreate(h.p(zkraw.OpName(op)+"-"+zkraw.ModeName(m)), "d", m))
		}
	}
	a.do(jute.OpCreateContainer, reqCreate(h.p("container"), "c", jute.FlagContainer))
	a.do(jute.OpCreateTTL, reqCreateTTL(h.p("ttl"), jute.FlagPersistentWithTTL, ttlHour))
	a.do(jute.OpCreateTTL, reqCreateTTL(h.p("ttlseq-"), jute.FlagPersistentSequentialWithTTL, ttlHour))
	// data may be null.
	a.do(jute.OpCreate2, &jute.CreateRequest{Path: h.p("nulldata"), ACL: zkraw.OpenACL})
	a.do(jute.OpGetData, reqWatch(h.p("nulldata"), false))
	a.do(jute.OpGetChildren2, reqWatch(h.root, false))
	a.do(jute.OpGetEphemerals, reqPath(h.root))

	// Modes that do not fit the op, and TTLs out of range.
	a.do(jute.OpCreate, reqCreate(h.p("container-by-create"), "", jute.FlagContainer))
	a.do(jute.OpCreate2, reqCreate(h.p("ttl-by-create2"), "", jute.FlagPersistentWithTTL))
	a.do(jute.OpCreateContainer, reqCreate(h.p("persistent-by-createContainer"), "", jute.FlagPersistent))
	a.do(jute.OpCreateTTL, reqCreateTTL(h.p("ttl-persistent"), jute.FlagPersistent, 1000))
	a.do(jute.OpCreateTTL, reqCreateTTL(h.p("ttl-ephemeral"), jute.FlagEphemeral, 1000))
	a.do(jute.OpCreateTTL, reqCreateTTL(h.p("ttl-container"), jute.FlagContainer, 1000))
	a.do(jute.OpCreateTTL, reqCreateTTL(h.p("ttl-zero"), jute.FlagPersistentWithTTL, 0))
	a.do(jute.OpCreateTTL, reqCreateTTL(h.p("ttl-negative"), jute.FlagPersistentWithTTL, -5))
	a.do(jute.OpCreateTTL, reqCreateTTL(h.p("ttl-max"), jute.FlagPersistentWithTTL, 1<<40-1))
	a.do(jute.OpCreateTTL, reqCreateTTL(h.p("ttl-too-big"), jute.FlagPersistentWithTTL, 1<<40))
	a.do(jute.OpGetChildren, reqWatch(h.root, false))
	b := h.connect("B", 4000*millis)
	b.do(jute.OpCreate, reqCreate(h.p("mode-7"), "", 7))
	c := h.connect("C", 4000*millis)
	c.do(jute.OpCreate, reqCreate(h.p("mode-minus-1"), "", -1))
	d := h.connect("D", 4000*millis)
	d.do(jute.OpGetChildren, reqWatch(h.root, false))
}

func caseStatLifecycle(h *harness) {
	a := h.connect("A", 4000*millis)
	n := h.p("n")
	a.do(jute.OpCreate2, reqCreate(n, "abc", jute.FlagPersistent))
	a.do(jute.OpExists, reqWatch(n, false))
	a.do(jute.OpSetData, reqSetData(n, "abcdef", -1))
	a.do(jute.OpSetData, reqSetData(n, "x", 1))
	a.do(jute.OpGetData, reqWatch(n, false))
	a.do(jute.OpCreate2, reqCreate(n+"/c1", "", jute.FlagPersistent))
	a.do(jute.OpCreate2, &jute.CreateRequest{Path: n + "/c2", ACL: zkraw.OpenACL, Flags: jute.FlagEphemeral})
	a.do(jute.OpExists, reqWatch(n, false))
	a.do(jute.OpDelete, reqPathVersion(n+"/c1", -1))
	a.do(jute.OpGetChildren2, reqWatch(n, false))
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: n, ACL: []jute.ACL{aclEntry(jute.PermAll, "world", "anyone")}, Version: -1})
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: n, ACL: []jute.ACL{aclEntry(jute.PermAll, "world", "anyone")}, Version: 0})
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: n, ACL: []jute.ACL{aclEntry(jute.PermRead|jute.PermWrite|jute.PermCreate|jute.PermDelete|jute.PermAdmin, "world", "anyone")}, Version: 1})
	a.do(jute.OpGetACL, reqPath(n))
	a.do(jute.OpSetData, &jute.SetDataRequest{Path: n, Version: 2})
	a.do(jute.OpGetData, reqWatch(n, false))
	a.do(jute.OpSetData, reqSetData(n, "", 3))
	a.do(jute.OpGetData, reqWatch(n, false))
	a.do(jute.OpDelete, reqPathVersion(n+"/c2", 0))
	a.do(jute.OpGetChildren2, reqWatch(n, false))
	a.do(jute.OpCreate2, reqCreate(n+"/c3", "", jute.FlagPersistent))
	a.do(jute.OpSetData, reqSetData(n+"/c3", "child data does not touch the parent", -1))
	a.do(jute.OpExists, reqWatch(n, false))
	a.do(jute.OpGetData, reqWatch(h.root, false))
	a.do(jute.OpDelete, reqPathVersion(n+"/c3", -1))
	a.do(jute.OpDelete, reqPathVersion(n, 4))
	a.do(jute.OpDelete, reqPathVersion(n, 3))
	a.do(jute.OpGetChildren2, reqWatch(h.root, false))
}

func caseSequentialNaming(h *harness) {
	a := h.connect("A", 4000*millis)
	s := h.p("s")
	a.do(jute.OpCreate2, reqCreate(s, "", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(s+"/a-", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate, reqCreate(s+"/b-", "", jute.FlagEphemeralSequential))
	a.do(jute.OpCreate, reqCreate(s+"/plain", "", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(s+"/plain", "", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(s+"/c-", "", jute.FlagPersistentSequential))
	a.do(jute.OpDelete, reqPathVersion(s+"/plain", -1))
	a.do(jute.OpCreate, reqCreate(s+"/", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate, reqCreate(s+"/x0000000007", "", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(s+"/x", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate, reqCreate(s+"/x", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate, reqCreate(s+"/y", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate2, reqCreateTTL(s+"/t-", jute.FlagPersistentSequentialWithTTL, ttlHour))
	a.do(jute.OpCreateTTL, reqCreateTTL(s+"/t-", jute.FlagPersistentSequentialWithTTL, ttlHour))
	a.do(jute.OpCreate, reqCreate(s+"/missing/a-", "", jute.FlagPersistentSequential))
	a.do(jute.OpSetData, reqSetData(s, "data does not advance the counter", -1))
	a.do(jute.OpCreate2, reqCreate(s+"/z-", "", jute.FlagEphemeralSequential))
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: s, ACL: zkraw.OpenACL, Version: -1})
	a.do(jute.OpCreate2, reqCreate(s+"/z-", "", jute.FlagEphemeralSequential))
	a.do(jute.OpGetChildren2, reqWatch(s, false))
	// A node's own cversion, not its parent's, numbers its children.
	a.do(jute.OpCreate, reqCreate(s+"/a-0000000000/k-", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate, reqCreate(s+"/dir/", "", jute.FlagPersistentSequential))
}

func caseErrors(h *harness) {
	a := h.connect("A", 4000*millis)
	e := h.p("e")
	a.do(jute.OpCreate, reqCreate(e, "v", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(e, "v", jute.FlagPersistent))
	a.do(jute.OpCreate2, reqCreate(e, "v", jute.FlagEphemeral))
	a.do(jute.OpCreate, reqCreate(h.p("missing/child"), "", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(h.p("missing/child"), "", jute.FlagEphemeralSequential))
	missing := h.p("missing")
	a.do(jute.OpDelete, reqPathVersion(missing, -1))
	a.do(jute.OpSetData, reqSetData(missing, "", -1))
	a.do(jute.OpGetData, reqWatch(missing, false))
	a.do(jute.OpExists, reqWatch(missing, false))
	a.do(jute.OpGetChildren, reqWatch(missing, false))
	a.do(jute.OpGetChildren2, reqWatch(missing, false))
	a.do(jute.OpGetACL, reqPath(missing))
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: missing, ACL: zkraw.OpenACL, Version: -1})
	a.do(jute.OpCheck, reqPathVersion(missing, -1))
	a.do(jute.OpCreate, reqCreate(e+"/c", "", jute.FlagPersistent))
	a.do(jute.OpDelete, reqPathVersion(e, -1))
	a.do(jute.OpDelete, reqPathVersion(e+"/c", 5))
	a.do(jute.OpSetData, reqSetData(e, "w", 3))
	a.do(jute.OpSetData, reqSetData(e, "w", 0))
	a.do(jute.OpSetData, reqSetData(e, "w", 0))
	// check outside a multi: only its failures are comparable, because
	// Apache ZooKeeper 3.8 fails to serialize a successful one (a
	// NullPointerException in SetDataResponse) and drops the connection.
	a.do(jute.OpCheck, reqPathVersion(e, 0))
	a.do(jute.OpDelete, reqPathVersion(e+"/c", 0))
	a.do(jute.OpDelete, reqPathVersion(e, 0))
	a.do(jute.OpDelete, reqPathVersion(e, 1))
	eph := h.p("eph")
	a.do(jute.OpCreate, reqCreate(eph, "", jute.FlagEphemeral))
	a.do(jute.OpCreate, reqCreate(eph+"/c", "", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(eph+"/c", "", jute.FlagEphemeral))
	a.do(jute.OpCreate, reqCreate(eph+"/s-", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate, reqCreate(eph+"/s-", "", jute.FlagEphemeralSequential))
	a.do(jute.OpCreateContainer, reqCreate(eph+"/k", "", jute.FlagContainer))
	a.do(jute.OpCreateTTL, reqCreateTTL(eph+"/t", jute.FlagPersistentWithTTL, ttlHour))
	a.do(jute.OpCreate2, reqCreate(eph+"/missing/c", "", jute.FlagPersistent))
	a.do(jute.OpGetChildren2, reqWatch(eph, false))
	// The root and the system tree.
	a.do(jute.OpCreate, reqCreate("/", "", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate("/zookeeper", "", jute.FlagPersistent))
	a.do(jute.OpDelete, reqPathVersion("/zookeeper", -1))
	a.do(jute.OpDelete, reqPathVersion("/", -1))
	a.do(jute.OpGetChildren, reqWatch(h.root, false))
}

func caseBadPaths(h *harness) {
	a := h.connect("A", 4000*millis)
	a.do(jute.OpCreate, reqCreate(h.p("dir"), "", jute.FlagPersistent))
	bad := []string{"", "noslash", h.p("dir") + "/", "//x", h.p("dir") + "//x", h.p("dir") + "/./x",
		h.p("dir") + "/../x", h.p("."), h.p(".."), h.p("nul\x00char"), h.p("ctl\x01char"),
		h.p("del\u007fchar"), h.p("ff\ufff0char"), h.p("high\U0001F600char")}
	for _, p := range bad {
		a.do(jute.OpCreate, reqCreate(p, "", jute.FlagPersistent))
	}
	// A sequential create may end in "/": the counter is the last name.
	a.do(jute.OpCreate, reqCreate(h.p("dir")+"/", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate, reqCreate(h.p("dir")+"//", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate, reqCreate(h.p("dir")+"/.", "", jute.FlagPersistentSequential))
	a.do(jute.OpCreate, reqCreate(h.p("dir")+"/..", "", jute.FlagPersistentSequential))
	// Reads of "" would read "/", whose stat depends on other cases.
	a.do(jute.OpDelete, reqPathVersion("", -1))
	a.do(jute.OpSetData, reqSetData("", "", -1))
	for _, p := range []string{"noslash", h.p("dir") + "/", h.p("nul\x00char")} {
		a.do(jute.OpDelete, reqPathVersion(p, -1))
		a.do(jute.OpSetData, reqSetData(p, "", -1))
		a.do(jute.OpExists, reqWatch(p, false))
		a.do(jute.OpGetData, reqWatch(p, false))
		a.do(jute.OpGetChildren, reqWatch(p, false))
	}
	a.do(jute.OpGetChildren, reqWatch(h.p("dir"), false))
}

func caseInvalidACL(h *harness) {
	a := h.connect("A", 4000*millis)
	for i, acls := range [][]jute.ACL{
		nil,
		{aclEntry(jute.PermAll, "nosuchscheme", "x")},
		{aclEntry(jute.PermAll, "digest", "nocolon")},
		{aclEntry(jute.PermAll, "auth", "")},
		{aclEntry(jute.PermAll, "ip", "300.1.1.1")},
		{aclEntry(jute.PermAll, "ip", "127.0.0.1/33")},
		{aclEntry(jute.PermAll, "ip", "not-an-ip")},
		{aclEntry(jute.PermAll, "world", "someone")},
		{aclEntry(jute.PermAll, "world", "anyone"), aclEntry(jute.PermAll, "nosuchscheme", "x")},
	} {
		a.do(jute.OpCreate, reqCreateACL(h.p("bad")+string(rune('a'+i)), acls))
	}
	for i, acls := range [][]jute.ACL{
		{aclEntry(0, "world", "anyone")},
		{aclEntry(jute.PermAll|64, "world", "anyone")},
		{aclEntry(jute.PermRead, "ip", "127.0.0.1")},
		{aclEntry(jute.PermRead, "ip", "10.0.0.0/8")},
		{aclEntry(jute.PermAll, "world", "anyone"), aclEntry(jute.PermAll, "world", "anyone")},
		{aclEntry(jute.PermRead, "world", "anyone"), aclEntry(jute.PermWrite, "world", "anyone")},
		{aclEntry(jute.PermAll, "digest", "user:notreallyahash")},
	} {
		p := h.p("ok") + string(rune('a'+i))
		a.do(jute.OpCreate, reqCreateACL(p, acls))
		a.do(jute.OpGetACL, reqPath(p))
	}
	n := h.p("n")
	a.do(jute.OpCreate, reqCreate(n, "", jute.FlagPersistent))
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: n, Version: -1})
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: n, ACL: []jute.ACL{aclEntry(jute.PermAll, "nosuchscheme", "x")}, Version: -1})
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: n, ACL: []jute.ACL{aclEntry(jute.PermAll, "auth", "")}, Version: -1})
	a.do(jute.OpGetACL, reqPath(n))
	a.do(jute.OpMulti, reqMulti(multiOp(jute.OpCreate, reqCreateACL(h.p("m1"), nil))))
}

func caseACLDigest(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	d := h.p("d")
	a.do(jute.OpCreate, reqCreateACL(d, []jute.ACL{aclEntry(jute.PermAll, "digest", digestID("user:pass"))}))
	a.do(jute.OpGetData, reqWatch(d, false))
	a.do(jute.OpExists, reqWatch(d, false))
	a.do(jute.OpGetACL, reqPath(d))
	a.do(jute.OpGetChildren, reqWatch(d, false))
	a.do(jute.OpCreate, reqCreate(d+"/c", "", jute.FlagPersistent))
	a.do(jute.OpSetData, reqSetData(d, "", -1))
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: d, ACL: zkraw.OpenACL, Version: -1})
	a.do(jute.OpGetAllChildrenNumber, reqPath(d))
	a.do(jute.OpSync, reqPath(d))
	a.auth("digest", "user:wrong")
	a.do(jute.OpGetData, reqWatch(d, false))
	a.auth("digest", "user:pass")
	a.do(jute.OpGetData, reqWatch(d, false))
	a.do(jute.OpCreate, reqCreate(d+"/c", "", jute.FlagPersistent))
	a.do(jute.OpWhoAmI, nil)
	b.do(jute.OpGetData, reqWatch(d, false))
	b.do(jute.OpDelete, reqPathVersion(d+"/c", -1))

	// World read-only: no write, no create below; delete needs the parent's
	// DELETE permission, not the node's.
	r := h.p("r")
	b.do(jute.OpCreate, reqCreateACL(r, []jute.ACL{aclEntry(jute.PermRead, "world", "anyone")}))
	b.do(jute.OpSetData, reqSetData(r, "", -1))
	b.do(jute.OpCreate, reqCreate(r+"/c", "", jute.FlagPersistent))
	b.do(jute.OpSetACL, &jute.SetACLRequest{Path: r, ACL: zkraw.OpenACL, Version: -1})
	b.do(jute.OpGetData, reqWatch(r, false))
	b.do(jute.OpDelete, reqPathVersion(r, -1))
	nd := h.p("nodelete")
	b.do(jute.OpCreate, reqCreateACL(nd, []jute.ACL{aclEntry(jute.PermAll&^jute.PermDelete, "world", "anyone")}))
	b.do(jute.OpCreate, reqCreate(nd+"/c", "", jute.FlagPersistent))
	b.do(jute.OpDelete, reqPathVersion(nd+"/c", -1))
	nr := h.p("noread")
	b.do(jute.OpCreate, reqCreateACL(nr, []jute.ACL{aclEntry(jute.PermAll&^jute.PermRead, "world", "anyone")}))
	b.do(jute.OpGetData, reqWatch(nr, false))
	b.do(jute.OpGetChildren, reqWatch(nr, false))
	b.do(jute.OpGetChildren2, reqWatch(nr, false))
	b.do(jute.OpExists, reqWatch(nr, false))
	b.do(jute.OpGetACL, reqPath(nr))
	b.do(jute.OpSetData, reqSetData(nr, "blind write", -1))

	// The auth scheme stands for every identity the creator holds.
	b.auth("digest", "other:pw")
	b.auth("digest", "second:pw")
	au := h.p("auth")
	b.do(jute.OpCreate, reqCreateACL(au, []jute.ACL{aclEntry(jute.PermAll, "auth", "")}))
	b.do(jute.OpGetACL, reqPath(au))
	a.do(jute.OpGetData, reqWatch(au, false))
	b.do(jute.OpSetACL, &jute.SetACLRequest{Path: au, ACL: []jute.ACL{aclEntry(jute.PermRead, "world", "anyone"), aclEntry(jute.PermAll, "digest", digestID("other:pw"))}, Version: -1})
	a.do(jute.OpGetData, reqWatch(au, false))
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: au, ACL: zkraw.OpenACL, Version: -1})
	b.do(jute.OpWhoAmI, nil)
	// Unknown schemes and malformed digests fail the connection.
	c := h.connect("C", 4000*millis)
	c.auth("nosuchscheme", "x")
	c.expectClosed()
	e := h.connect("E", 4000*millis)
	e.auth("digest", "nocolon")
	e.do(jute.OpWhoAmI, nil)
}

// auth sends addAuth and logs the answer like any other request.
func (p *peer) auth(scheme, cred string) {
	p.wait(p.sendXid(jute.XidAuth, jute.OpAuth, &jute.AuthPacket{Scheme: scheme, Auth: []byte(cred)}))
}

func caseMultiOK(h *harness) {
	a := h.connect("A", 4000*millis)
	m := h.p("m")
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreate, reqCreate(m, "a", jute.FlagPersistent)),
		multiOp(jute.OpCreate, reqCreate(m+"/c", "", jute.FlagPersistent)),
		multiOp(jute.OpSetData, reqSetData(m, "b", -1)),
		multiOp(jute.OpCheck, reqPathVersion(m, 1)),
		multiOp(jute.OpDelete, reqPathVersion(m+"/c", 0)),
		multiOp(jute.OpCreate2, reqCreate(m+"/d", "", jute.FlagEphemeral)),
		multiOp(jute.OpCreate, reqCreate(m+"/s-", "", jute.FlagPersistentSequential)),
		multiOp(jute.OpCreate, reqCreate(m+"/s-", "", jute.FlagEphemeralSequential)),
		multiOp(jute.OpCreateContainer, reqCreate(m+"/k", "", jute.FlagContainer)),
		multiOp(jute.OpCreateTTL, reqCreateTTL(m+"/t", jute.FlagPersistentWithTTL, ttlHour)),
	))
	a.do(jute.OpGetChildren2, reqWatch(m, false))
	a.do(jute.OpGetData, reqWatch(m, false))
	a.do(jute.OpMulti, reqMulti())
	a.do(jute.OpMulti, reqMulti(multiOp(jute.OpCheck, reqPathVersion(m, 1))))
	a.do(jute.OpMulti, reqMulti(multiOp(jute.OpSetData, reqSetData(m, "c", 1)), multiOp(jute.OpSetData, reqSetData(m, "d", 2))))
	a.do(jute.OpGetData, reqWatch(m, false))
}

func caseMultiFail(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	f := h.p("f")
	a.do(jute.OpCreate, reqCreate(f, "v", jute.FlagPersistent))
	b.do(jute.OpGetData, reqWatch(f, true))
	b.do(jute.OpGetChildren, reqWatch(f, true))
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreate, reqCreate(f+"/a", "", jute.FlagPersistent)),
		multiOp(jute.OpSetData, reqSetData(f, "x", 5)),
		multiOp(jute.OpCreate, reqCreate(f+"/b", "", jute.FlagPersistent)),
	))
	a.do(jute.OpGetChildren2, reqWatch(f, false))
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCheck, reqPathVersion(f, 9)),
		multiOp(jute.OpCreate, reqCreate(f+"/a", "", jute.FlagPersistent)),
	))
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreate, reqCreate(f+"/a", "", jute.FlagPersistent)),
		multiOp(jute.OpCreate, reqCreate(f+"/a", "", jute.FlagPersistent)),
	))
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpSetData, reqSetData(f, "y", -1)),
		multiOp(jute.OpDelete, reqPathVersion(f+"/missing", -1)),
		multiOp(jute.OpSetData, reqSetData(f, "z", -1)),
		multiOp(jute.OpCheck, reqPathVersion(f, 0)),
	))
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreate, reqCreate(f+"/b", "", jute.FlagPersistent)),
		multiOp(jute.OpDelete, reqPathVersion(f, -1)),
	))
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreate, reqCreate(f+"/s-", "", jute.FlagPersistentSequential)),
		multiOp(jute.OpCreate, reqCreate("bad", "", jute.FlagPersistent)),
	))
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreate, reqCreate(f+"/acl", "", jute.FlagPersistent)),
		multiOp(jute.OpCreate, reqCreateACL(f+"/acl2", nil)),
	))
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreate, reqCreate(f+"/e", "", jute.FlagEphemeral)),
		multiOp(jute.OpCreate, reqCreate(f+"/e/c", "", jute.FlagPersistent)),
	))
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreateTTL, reqCreateTTL(f+"/t", jute.FlagPersistentWithTTL, 0)),
	))
	a.do(jute.OpGetChildren2, reqWatch(f, false))
	b.flush()
	// Now the same shape succeeds: the watches fire once, in op order.
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreate, reqCreate(f+"/a", "", jute.FlagPersistent)),
		multiOp(jute.OpSetData, reqSetData(f, "x", 0)),
		multiOp(jute.OpCreate, reqCreate(f+"/b", "", jute.FlagPersistent)),
	))
	b.flush()
	// A read op inside a write multi.
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreate, reqCreate(f+"/r", "", jute.FlagPersistent)),
		multiOp(jute.OpGetData, reqWatch(f, false)),
	))
	a.do(jute.OpGetChildren2, reqWatch(f, false))
}

func caseMultiRead(h *harness) {
	a := h.connect("A", 4000*millis)
	r := h.p("r")
	a.do(jute.OpCreate, reqCreate(r, "root data", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(r+"/a", "a data", jute.FlagPersistent))
	a.do(jute.OpCreate, reqCreate(r+"/b", "", jute.FlagPersistent))
	a.do(jute.OpMultiRead, reqMulti(
		multiOp(jute.OpGetData, reqWatch(r, false)),
		multiOp(jute.OpGetChildren, reqWatch(r, false)),
		multiOp(jute.OpGetData, reqWatch(r+"/missing", false)),
		multiOp(jute.OpGetChildren, reqWatch(r+"/missing", false)),
		multiOp(jute.OpGetData, reqWatch(r+"/a", false)),
	))
	a.do(jute.OpMultiRead, reqMulti())
	// Watches set through multiRead fire like any other.
	a.do(jute.OpMultiRead, reqMulti(multiOp(jute.OpGetData, reqWatch(r+"/a", true)), multiOp(jute.OpGetChildren, reqWatch(r, true))))
	a.do(jute.OpSetData, reqSetData(r+"/a", "changed", -1))
	a.do(jute.OpDelete, reqPathVersion(r+"/b", -1))
	b := h.connect("B", 4000*millis)
	b.do(jute.OpMultiRead, reqMulti(multiOp(jute.OpCreate, reqCreate(r+"/w", "", jute.FlagPersistent))))
	c := h.connect("C", 4000*millis)
	c.do(jute.OpMultiRead, reqMulti(multiOp(jute.OpGetData, reqWatch("bad", false))))
	a.do(jute.OpGetChildren, reqWatch(r, false))
}

func caseReadsMisc(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	r := h.p("r")
	for _, p := range []string{r, r + "/a", r + "/a/b", r + "/a/b/c", r + "/d"} {
		a.do(jute.OpCreate, reqCreate(p, "", jute.FlagPersistent))
	}
	a.do(jute.OpGetAllChildrenNumber, reqPath(r))
	a.do(jute.OpGetAllChildrenNumber, reqPath(r+"/a/b/c"))
	a.do(jute.OpGetAllChildrenNumber, reqPath(r+"/missing"))
	a.do(jute.OpGetAllChildrenNumber, reqPath("bad"))
	a.do(jute.OpCreate, reqCreate(r+"/a/eph1", "", jute.FlagEphemeral))
	a.do(jute.OpCreate, reqCreate(r+"/a/eph2", "", jute.FlagEphemeral))
	a.do(jute.OpCreate, reqCreate(r+"/d/e-", "", jute.FlagEphemeralSequential))
	b.do(jute.OpCreate, reqCreate(r+"/a/eph3", "", jute.FlagEphemeral))
	a.do(jute.OpGetAllChildrenNumber, reqPath(r))
	for _, prefix := range []string{"/", h.root, r + "/a", r + "/a/", r + "/a/e", r + "/d", h.p("nothing"), ""} {
		a.do(jute.OpGetEphemerals, reqPath(prefix))
	}
	b.do(jute.OpGetEphemerals, reqPath(h.root))
	a.do(jute.OpSync, reqPath(r))
	a.do(jute.OpSync, reqPath(r+"/missing"))
	a.do(jute.OpSync, reqPath("bad"))
	a.do(jute.OpWhoAmI, nil)
	a.do(jute.OpExists, reqWatch(r+"/a", false))
	a.do(jute.OpGetChildren2, reqWatch(r+"/a", false))
}

func caseZookeeperTree(h *harness) {
	a := h.connect("A", 4000*millis)
	a.do(jute.OpGetChildren2, reqWatch("/zookeeper", false))
	a.do(jute.OpGetData, reqWatch("/zookeeper", false))
	a.do(jute.OpGetData, reqWatch("/zookeeper/quota", false))
	a.do(jute.OpGetData, reqWatch("/zookeeper/config", false))
	a.do(jute.OpGetChildren2, reqWatch("/zookeeper/quota", false))
	a.do(jute.OpGetACL, reqPath("/zookeeper"))
	a.do(jute.OpGetACL, reqPath("/zookeeper/config"))
	a.do(jute.OpGetACL, reqPath("/zookeeper/quota"))
	a.do(jute.OpSetData, reqSetData("/zookeeper/config", "x", -1))
	a.do(jute.OpCreate, reqCreate("/zookeeper/config/x", "", jute.FlagPersistent))
	a.do(jute.OpGetAllChildrenNumber, reqPath("/zookeeper"))
	a.do(jute.OpGetEphemerals, reqPath("/zookeeper"))
}

func caseACLSuper(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	s, r := h.p("s"), h.p("r")
	a.do(jute.OpCreate, reqCreateACL(s, []jute.ACL{aclEntry(jute.PermAll, "digest", digestID("user:pass"))}))
	a.do(jute.OpCreate, reqCreateACL(r, []jute.ACL{aclEntry(jute.PermRead, "world", "anyone")}))
	a.do(jute.OpGetData, reqWatch(s, false))
	b.auth("digest", superUser+":wrong")
	b.do(jute.OpGetData, reqWatch(s, false))
	a.auth("digest", superCredential)
	a.do(jute.OpWhoAmI, nil)
	a.do(jute.OpGetData, reqWatch(s, false))
	a.do(jute.OpGetACL, reqPath(s))
	a.do(jute.OpCreate, reqCreate(s+"/c", "", jute.FlagPersistent))
	a.do(jute.OpSetData, reqSetData(r, "super writes", -1))
	a.do(jute.OpCreate, reqCreate(r+"/c", "", jute.FlagPersistent))
	a.do(jute.OpSetACL, &jute.SetACLRequest{Path: s, ACL: []jute.ACL{aclEntry(jute.PermRead, "world", "anyone")}, Version: -1})
	b.do(jute.OpGetData, reqWatch(s, false))
	b.do(jute.OpDelete, reqPathVersion(s+"/c", -1))
	a.do(jute.OpDelete, reqPathVersion(s+"/c", -1))
	// The auth scheme does not expand to the super identity.
	a.do(jute.OpCreate, reqCreateACL(h.p("auth"), []jute.ACL{aclEntry(jute.PermAll, "auth", "")}))
	a.do(jute.OpGetACL, reqPath(h.p("auth")))
}
