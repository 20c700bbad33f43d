package tree

import (
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

// TestStatSequence replays a session recorded against ZooKeeper 3.8.0 and
// checks every stat field it reported, relative to the zxids.
func TestStatSequence(t *testing.T) {
	h := newHarness(t)
	const sid = 0x100000abc
	h.session(sid)
	z := func() int64 { return h.tr.LastZxid() }

	h.now = 5000
	h.create(sid, "/v", "d", 0)
	zv := z()
	if s := h.stat("/v"); s != (jute.Stat{Czxid: zv, Mzxid: zv, Pzxid: zv, Ctime: 5000, Mtime: 5000, DataLength: 1}) {
		t.Fatalf("fresh node: %+v", s)
	}
	h.now = 6000
	h.create(sid, "/v/a", "d", 0)
	if got := h.create(sid, "/v/s", "d", jute.FlagPersistentSequential); got != "/v/s0000000001" {
		t.Fatalf("sequential name %q", got)
	}
	h.del(sid, "/v/a")
	zdel := z()
	// ZooKeeper reports cversion as creations+deletions (2 creates, 1 delete).
	if s := h.stat("/v"); s.Cversion != 3 || s.NumChildren != 1 || s.Pzxid != zdel || s.Mzxid != zv || s.Mtime != 5000 {
		t.Errorf("after delete: %+v", s)
	}
	// The sequence counts creations only, so deletes leave no gap.
	if got := h.create(sid, "/v/s", "d", jute.FlagPersistentSequential); got != "/v/s0000000002" {
		t.Errorf("sequential after delete %q", got)
	}
	h.create(sid, "/v/eph", "d", jute.FlagEphemeral)
	if s := h.stat("/v/eph"); s.EphemeralOwner != sid {
		t.Errorf("ephemeral owner %#x", s.EphemeralOwner)
	}
	if got := h.create(sid, "/v/ephs", "d", jute.FlagEphemeralSequential); got != "/v/ephs0000000004" {
		t.Errorf("ephemeral sequential %q", got)
	}
	c2 := h.must(sid, jute.OpCreateContainer, createReq("/v/cont", "", jute.FlagContainer)).(*jute.Create2Response)
	ttl := h.must(sid, jute.OpCreateTTL, &jute.CreateTTLRequest{Path: "/v/ttl", ACL: OpenACL, Flags: jute.FlagPersistentWithTTL, TTL: 1000}).(*jute.Create2Response)
	if c2.Stat.EphemeralOwner != 0 || ttl.Stat.EphemeralOwner != 0 {
		t.Errorf("containers and TTL nodes show owner 0 to clients: %+v %+v", c2.Stat, ttl.Stat)
	}
	if c2.Stat != h.stat("/v/cont") {
		t.Errorf("create2 stat %+v differs from exists %+v", c2.Stat, h.stat("/v/cont"))
	}
	// createContainer makes a container whatever the flags say; sequential
	// flags still add the suffix.
	if got := h.must(sid, jute.OpCreateContainer, createReq("/v/c3", "", jute.FlagPersistentSequential)).(*jute.Create2Response).Path; got != "/v/c30000000007" {
		t.Errorf("sequential container %q", got)
	}
	// create with the container flag makes a plain persistent node.
	h.create(sid, "/v/notcont", "", jute.FlagContainer)
	if owner := h.tr.owner(h.tr.lookup("/v/notcont")); owner != 0 {
		t.Errorf("create with container flag made owner %#x", owner)
	}
	if owner := h.tr.owner(h.tr.lookup("/v/c30000000007")); owner != containerOwner {
		t.Errorf("createContainer made owner %#x", owner)
	}

	h.now = 7000
	r := h.set(sid, "/v", "longer")
	zset := r.Zxid
	s := r.Resp.(*jute.StatResponse).Stat
	want := jute.Stat{Czxid: zv, Mzxid: zset, Ctime: 5000, Mtime: 7000, Version: 1, Cversion: 2*9 - 8,
		DataLength: 6, NumChildren: 8, Pzxid: s.Pzxid}
	if s != want {
		t.Errorf("setData stat\n got %+v\nwant %+v", s, want)
	}
	r = h.exec(sid, jute.OpSetData, &jute.SetDataRequest{Path: "/v", Data: nil, Version: 1})
	if s := r.Resp.(*jute.StatResponse).Stat; s.DataLength != 0 || s.Version != 2 {
		t.Errorf("setData nil: %+v", s)
	}
	if h.get("/v") != nil {
		t.Error("null data lost")
	}
	r = h.exec(sid, jute.OpSetACL, &jute.SetACLRequest{Path: "/v", ACL: OpenACL, Version: 0})
	if s := r.Resp.(*jute.StatResponse).Stat; s.Aversion != 1 || s.Mzxid != r.Zxid-1 {
		t.Errorf("setACL changes aversion only: %+v", s)
	}
	// /zookeeper/config starts at aversion -1; a setACL makes it 0.
	h.auth[sid] = append(h.auth[sid], jute.Id{Scheme: "super"})
	r = h.exec(sid, jute.OpSetACL, &jute.SetACLRequest{Path: "/zookeeper/config", ACL: ReadACL, Version: -1})
	if s := r.Resp.(*jute.StatResponse).Stat; s.Aversion != 0 {
		t.Errorf("config aversion %d", s.Aversion)
	}
}

func TestSequentialNames(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.create(1, "/q", "", 0)
	var got []string
	for range 3 {
		got = append(got, h.create(1, "/q/n-", "", jute.FlagEphemeralSequential))
	}
	h.del(1, "/q/n-0000000001")
	got = append(got, h.create(1, "/q/", "", jute.FlagPersistentSequential))
	// A failed create does not advance the counter; a failed multi does not either.
	if r := h.exec(1, jute.OpCreate, createReq("/q/n-0000000000", "", 0)); r.Err != jute.ErrNodeExists {
		t.Fatalf("duplicate: %s", errName(r.Err))
	}
	m := h.must(1, jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		{Type: jute.OpCreate, Req: createReq("/q/m-", "", jute.FlagPersistentSequential)},
		{Type: jute.OpDelete, Req: &jute.PathVersionRequest{Path: "/q/nope", Version: -1}},
	}}).(*jute.MultiResponse)
	if m.Results[1].Err != jute.ErrNoNode {
		t.Fatalf("multi %+v", m.Results)
	}
	got = append(got, h.create(1, "/q/x", "", jute.FlagPersistentSequential))
	eq(t, "names", got, []string{"/q/n-0000000000", "/q/n-0000000001", "/q/n-0000000002", "/q/0000000003", "/q/x0000000004"})
}
