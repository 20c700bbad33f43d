package tree

import (
	"bytes"
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

// seedLog returns a short log exercising every record kind.
func seedLog(t testing.TB) [][]byte {
	tr := New()
	c := Ctx{Session: 7, Now: 5, Auth: []jute.Id{{Scheme: "digest", ID: DigestID("u:p")}}}
	var log [][]byte
	add := func(r Result) {
		if r.Txn != nil {
			log = append(log, r.Txn)
		}
	}
	add(tr.CreateSession(c, 7, 1000, []byte("pw")))
	add(tr.Exec(c, jute.OpCreate, createReq("/a", "x", 0)))
	add(tr.Exec(c, jute.OpCreate, &jute.CreateRequest{Path: "/a/e", ACL: []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "auth"}}}, Flags: jute.FlagEphemeral}))
	add(tr.Exec(c, jute.OpSetData, &jute.SetDataRequest{Path: "/a", Data: []byte("y"), Version: -1}))
	add(tr.Exec(c, jute.OpSetACL, &jute.SetACLRequest{Path: "/a", ACL: ReadACL, Version: -1}))
	add(tr.Exec(c, jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		op(jute.OpCheck, &jute.PathVersionRequest{Path: "/a", Version: 1}),
		op(jute.OpCreateContainer, createReq("/c", "", jute.FlagContainer)),
	}}))
	add(tr.Exec(c, jute.OpDelete, &jute.PathVersionRequest{Path: "/nope", Version: -1}))
	add(tr.Exec(c, jute.OpCloseSession, &jute.Empty{}))
	return log
}

// FuzzReplay: no transaction, however mangled, panics Replay or leaves the
// tree inconsistent.
func FuzzReplay(f *testing.F) {
	for _, txn := range seedLog(f) {
		f.Add(txn)
	}
	f.Fuzz(func(t *testing.T, txn []byte) {
		tr := New()
		base := seedLog(t)
		for _, b := range base[:3] {
			if err := tr.Replay(b); err != nil {
				t.Fatal(err)
			}
		}
		if len(txn) >= txnHeaderLen { // aim at the next zxid so the record is applied
			txn = bytes.Clone(txn)
			copy(txn[1:9], []byte{0, 0, 0, 0, 0, 0, 0, 4})
		}
		_ = tr.Replay(txn)
		checkInvariants(t, tr)
	})
}

// FuzzReadSnapshot: no input panics ReadSnapshot; whatever it accepts is
// consistent.
func FuzzReadSnapshot(f *testing.F) {
	tr := New()
	for _, txn := range seedLog(f)[:5] {
		if err := tr.Replay(txn); err != nil {
			f.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := tr.WriteSnapshot(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, img []byte) {
		got, err := ReadSnapshot(bytes.NewReader(img))
		if err == nil {
			checkInvariants(t, got)
		}
	})
}
