package tree

import (
	"bytes"
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

func TestSessions(t *testing.T) {
	h := newHarness(t)
	h.session(0x200)
	h.session(0x100)
	eq(t, "sessions", h.tr.Sessions(), []int64{0x100, 0x200})
	to, pw, ok := h.tr.Session(0x100)
	if !ok || to != 30000 || string(pw) != "pw" {
		t.Errorf("session 0x100: %d %q %v", to, pw, ok)
	}
	for _, bad := range []int64{0, containerOwner, ttlOwner(5)} {
		if r := h.tr.CreateSession(h.ctx(0), bad, 1000, nil); r.Err != jute.ErrBadArguments || r.Txn != nil {
			t.Errorf("session id %#x: %s", bad, errName(r.Err))
		}
	}
	h.create(0x100, "/e1", "", jute.FlagEphemeral)
	h.create(0x100, "/e2", "", jute.FlagEphemeralSequential)
	h.create(0x200, "/e3", "", jute.FlagEphemeral)
	r := h.exec(0x100, jute.OpCloseSession, &jute.Empty{})
	if r.Err != 0 || r.Txn == nil || r.Zxid != h.tr.LastZxid() {
		t.Fatalf("closeSession: %+v", r)
	}
	eq(t, "left", h.children("/"), []string{"e3", "zookeeper"})
	eq(t, "sessions", h.tr.Sessions(), []int64{0x200})
	if s := h.stat("/"); s.Pzxid != r.Zxid {
		t.Errorf("closeSession deletes at its zxid: %+v", s)
	}
}

func TestContainerAndTTLExpiry(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.now = 10_000
	cont := func(p string) { h.must(1, jute.OpCreateContainer, createReq(p, "", jute.FlagContainer)) }
	ttl := func(p string, ms int64) {
		h.must(1, jute.OpCreateTTL, &jute.CreateTTLRequest{Path: p, ACL: OpenACL, Flags: jute.FlagPersistentWithTTL, TTL: ms})
	}
	cont("/used")
	cont("/never")
	cont("/busy")
	h.create(1, "/used/x", "", 0)
	h.create(1, "/busy/x", "", 0)
	h.del(1, "/used/x")
	ttl("/t1", 1000)
	ttl("/t2", 5000)
	ttl("/tkids", 1000)
	h.create(1, "/tkids/x", "", 0)
	h.create(1, "/plain", "", 0)

	eq(t, "at 10s", h.tr.Expirable(10_000), []string{"/used"})
	eq(t, "exactly at mtime+ttl", h.tr.Expirable(11_000), []string{"/used"})
	eq(t, "after t1's TTL", h.tr.Expirable(11_001), []string{"/t1", "/used"})
	eq(t, "after t2's TTL", h.tr.Expirable(20_000), []string{"/t1", "/t2", "/used"})

	// A setData touches the TTL node's mtime and so keeps it alive.
	h.now = 14_000
	h.set(1, "/t2", "touch")

	del := func(p string, now int64) Result {
		c := Ctx{Now: now}
		return h.record(h.tr.Exec(c, jute.OpDeleteContainer, &jute.PathRequest{Path: p}))
	}
	// The cleanup deletes only what still qualifies at its own now.
	for _, tc := range []struct {
		path string
		now  int64
		want int32
	}{
		{"/t2", 16_000, jute.ErrBadVersion}, // touched at 14s: lives until 19s
		{"/never", 16_000, jute.ErrBadVersion},
		{"/busy", 16_000, jute.ErrNotEmpty},
		{"/plain", 16_000, jute.ErrBadVersion},
		{"/tkids", 16_000, jute.ErrNotEmpty},
		{"/gone", 16_000, jute.ErrNoNode},
		{"/zookeeper", 16_000, jute.ErrBadArguments},
		{"/used", 16_000, 0},
		{"/t1", 16_000, 0},
		{"/t2", 19_001, 0},
	} {
		r := del(tc.path, tc.now)
		if r.Err != tc.want || r.Txn == nil {
			t.Errorf("deleteContainer %s at %d: %s, want %s", tc.path, tc.now, errName(r.Err), errName(tc.want))
		}
	}
	eq(t, "left", h.children("/"), []string{"busy", "never", "plain", "tkids", "zookeeper"})
	h.del(1, "/busy/x")
	eq(t, "emptied container", h.tr.Expirable(20_000), []string{"/busy"})
}

func TestSnapshotRoundTrip(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.session(2)
	h.addAuth(1, "alice:pw")
	h.create(1, "/a", "data", 0)
	h.must(1, jute.OpCreate, &jute.CreateRequest{Path: "/a/nil", ACL: OpenACL})
	h.must(1, jute.OpCreate, &jute.CreateRequest{Path: "/a/auth", ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "auth"}}}})
	h.create(2, "/a/eph", "e", jute.FlagEphemeral)
	h.must(1, jute.OpCreateContainer, createReq("/cont", "", jute.FlagContainer))
	h.must(1, jute.OpCreateTTL, &jute.CreateTTLRequest{Path: "/ttl", ACL: OpenACL, Flags: jute.FlagPersistentWithTTL, TTL: 99})
	for i := range 20 {
		h.create(1, "/a/s", string(rune('a'+i)), jute.FlagPersistentSequential)
	}
	h.del(1, "/a/s0000000003")
	var b bytes.Buffer
	if err := h.tr.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	img := b.Bytes()
	got, err := ReadSnapshot(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(h.tr, got) || dump(h.tr) != dump(got) {
		t.Fatalf("round trip differs:\n%s\n%s", dump(h.tr), dump(got))
	}
	if got.Stats() != h.tr.Stats() {
		t.Errorf("stats %+v, want %+v (watches aside)", got.Stats(), h.tr.Stats())
	}
	var again bytes.Buffer
	if err := got.WriteSnapshot(&again); err != nil || !bytes.Equal(again.Bytes(), img) {
		t.Errorf("snapshot of the read tree differs (%v)", err)
	}
	eq(t, "ephemerals kept", got.EphemeralsBySession()[2], []string{"/a/eph"})
	eq(t, "expirable kept", got.Expirable(1e12), []string{"/ttl"})

	// Every corruption is detected, none panics.
	for i := 0; i < len(img); i += 7 {
		bad := bytes.Clone(img)
		bad[i] ^= 0x5a
		if _, err := ReadSnapshot(bytes.NewReader(bad)); err == nil {
			t.Fatalf("flipped byte %d not detected", i)
		}
	}
	for _, n := range []int{0, 5, 20, len(img) / 2, len(img) - 1} {
		if _, err := ReadSnapshot(bytes.NewReader(img[:n])); err == nil {
			t.Errorf("snapshot cut at %d accepted", n)
		}
	}
}

func TestReplayErrors(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	a := h.exec(1, jute.OpCreate, createReq("/a", "", 0)).Txn
	b := h.exec(1, jute.OpCreate, createReq("/a/b", "", 0)).Txn
	fresh := New()
	if err := fresh.Replay(b); err == nil {
		t.Error("replaying with a gap succeeded")
	}
	if err := fresh.Replay(a[:10]); err == nil {
		t.Error("short txn accepted")
	}
	if _, err := TxnZxid([]byte{9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Error("unknown format accepted")
	}
	// A log that does not fit the tree is an error, not a panic.
	other := New()
	other.lastZxid = 2 // pretend /a's zxid was applied, without /a
	if err := other.Replay(b); err == nil {
		t.Error("create under a missing parent replayed")
	}
	for i := range a {
		bad := bytes.Clone(a)
		bad[i] ^= 0xff
		_ = New().Replay(bad) // must not panic
	}
}
