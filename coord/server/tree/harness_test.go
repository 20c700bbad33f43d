package tree

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

// harness drives a Tree as the server would and keeps every logged
// transaction. When the test ends it checks the log against the tree: a
// fresh tree replaying it, and a snapshot taken halfway plus the rest of
// the log, must both equal the live tree.
type harness struct {
	t    testing.TB
	tr   *Tree
	now  int64
	auth map[int64][]jute.Id
	log  [][]byte
	snap []byte // snapshot taken at snapAt
	at   int    // len(log) when snap was taken
}

func newHarness(t testing.TB) *harness {
	h := &harness{t: t, tr: New(), now: 1_000_000, auth: map[int64][]jute.Id{}}
	t.Cleanup(h.checkReplay)
	return h
}

func (h *harness) ctx(s int64) Ctx {
	c := Ctx{Session: s, Now: h.now, Auth: h.auth[s]}
	for _, id := range c.Auth {
		if id.Scheme == "super" {
			c.Super = true
		}
	}
	return c
}

func (h *harness) record(r Result) Result {
	h.t.Helper()
	if r.Txn != nil {
		z, err := TxnZxid(r.Txn)
		if err != nil || z != r.Zxid {
			h.t.Fatalf("txn zxid %d (%v), result zxid %d", z, err, r.Zxid)
		}
		h.log = append(h.log, r.Txn)
		if len(h.log) == 7 { // snapshot somewhere in the middle of most tests
			var b bytes.Buffer
			if err := h.tr.WriteSnapshot(&b); err != nil {
				h.t.Fatalf("snapshot: %v", err)
			}
			h.snap, h.at = b.Bytes(), len(h.log)
		}
	}
	if (r.Err == 0) != (r.Resp != nil) {
		h.t.Fatalf("Err %d with Resp %T", r.Err, r.Resp)
	}
	return r
}

// session opens session id with the ip identity every connection has.
func (h *harness) session(id int64) {
	h.t.Helper()
	h.auth[id] = []jute.Id{{Scheme: "ip", ID: "127.0.0.1"}}
	if r := h.record(h.tr.CreateSession(h.ctx(id), id, 30000, []byte("pw"))); r.Err != 0 {
		h.t.Fatalf("create session %#x: %d", id, r.Err)
	}
}

// addAuth gives session s a digest identity, as addAuth("digest", up) would.
func (h *harness) addAuth(s int64, up string) {
	h.auth[s] = append(h.auth[s], jute.Id{Scheme: "digest", ID: DigestID(up)})
	h.tr.SetAuth(s, h.auth[s], false)
}

func (h *harness) exec(s int64, op int32, req jute.Record) Result {
	h.t.Helper()
	return h.record(h.tr.Exec(h.ctx(s), op, req))
}

// must runs a request that has to succeed and returns its response.
func (h *harness) must(s int64, op int32, req jute.Record) jute.Record {
	h.t.Helper()
	r := h.exec(s, op, req)
	if r.Err != 0 {
		h.t.Fatalf("op %d %+v: err %d", op, req, r.Err)
	}
	return r.Resp
}

func (h *harness) create(s int64, path, data string, flags int32) string {
	h.t.Helper()
	return h.must(s, jute.OpCreate, createReq(path, data, flags)).(*jute.PathResponse).Path
}

func (h *harness) stat(path string) jute.Stat {
	h.t.Helper()
	return h.must(0, jute.OpExists, &jute.PathWatchRequest{Path: path}).(*jute.StatResponse).Stat
}

func (h *harness) children(path string) []string {
	h.t.Helper()
	return h.must(0, jute.OpGetChildren, &jute.PathWatchRequest{Path: path}).(*jute.ChildrenResponse).Children
}

func (h *harness) get(path string) []byte {
	h.t.Helper()
	return h.must(0, jute.OpGetData, &jute.PathWatchRequest{Path: path}).(*jute.GetDataResponse).Data
}

func (h *harness) set(s int64, path, data string) Result {
	h.t.Helper()
	return h.exec(s, jute.OpSetData, &jute.SetDataRequest{Path: path, Data: []byte(data), Version: -1})
}

func (h *harness) del(s int64, path string) Result {
	h.t.Helper()
	return h.exec(s, jute.OpDelete, &jute.PathVersionRequest{Path: path, Version: -1})
}

func createReq(path, data string, flags int32) *jute.CreateRequest {
	var d []byte
	if data != "" {
		d = []byte(data)
	} else {
		d = []byte{}
	}
	return &jute.CreateRequest{Path: path, Data: d, ACL: OpenACL, Flags: flags}
}

func pathWatch(path string, watch bool) *jute.PathWatchRequest {
	return &jute.PathWatchRequest{Path: path, Watch: watch}
}

func (h *harness) checkReplay() {
	if h.t.Failed() {
		return
	}
	replayed := New()
	for i, txn := range h.log {
		if err := replayed.Replay(txn); err != nil {
			h.t.Fatalf("replay txn %d: %v", i, err)
		}
	}
	if !Equal(h.tr, replayed) {
		h.t.Fatalf("replayed log differs from live tree:\nlive:\n%s\nreplayed:\n%s", dump(h.tr), dump(replayed))
	}
	if h.snap == nil {
		return
	}
	fromSnap, err := ReadSnapshot(bytes.NewReader(h.snap))
	if err != nil {
		h.t.Fatalf("read snapshot: %v", err)
	}
	for _, txn := range h.log { // earlier ones are skipped as already applied
		if err := fromSnap.Replay(txn); err != nil {
			h.t.Fatalf("replay over snapshot: %v", err)
		}
	}
	if !Equal(h.tr, fromSnap) {
		h.t.Fatalf("snapshot + log differs from live tree:\nlive:\n%s\nrebuilt:\n%s", dump(h.tr), dump(fromSnap))
	}
}

// dump renders a tree for failure messages and golden comparisons.
func dump(t *Tree) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "zxid %d sessions %v\n", t.lastZxid, t.Sessions())
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		fmt.Fprintf(&b, "%s %q %+v owner=%d acl=%v\n", path, n.data, t.stat(n), t.owner(n), t.aclOf(n))
		for _, k := range n.sortedKids() {
			walk(k, joinPath(path, k.name))
		}
	}
	walk(t.root, "/")
	return b.String()
}

func errName(code int32) string {
	names := map[int32]string{
		0: "Ok", jute.ErrNoNode: "NoNode", jute.ErrNodeExists: "NodeExists", jute.ErrBadArguments: "BadArguments",
		jute.ErrNoAuth: "NoAuth", jute.ErrBadVersion: "BadVersion", jute.ErrNotEmpty: "NotEmpty",
		jute.ErrNoChildrenForEphemerals: "NoChildrenForEphemerals", jute.ErrInvalidACL: "InvalidACL",
		jute.ErrRuntimeInconsistency: "RuntimeInconsistency", jute.ErrSessionExpired: "SessionExpired",
		jute.ErrNoWatcher: "NoWatcher", jute.ErrMarshallingError: "MarshallingError", jute.ErrUnimplemented: "Unimplemented",
	}
	if n, ok := names[code]; ok {
		return n
	}
	return fmt.Sprint(code)
}

// events renders events compactly: "s1:NodeCreated:/a".
func events(evs []Event) []string {
	names := map[int32]string{
		jute.EventNodeCreated: "NodeCreated", jute.EventNodeDeleted: "NodeDeleted",
		jute.EventNodeDataChanged: "NodeDataChanged", jute.EventNodeChildrenChanged: "NodeChildrenChanged",
	}
	out := []string{}
	for _, e := range evs {
		if e.Ev.State != jute.StateSyncConnected {
			out = append(out, "bad state")
		}
		out = append(out, fmt.Sprintf("s%d:%s:%s", e.Session, names[e.Ev.Type], e.Ev.Path))
	}
	return out
}

func eq[T comparable](t testing.TB, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}
