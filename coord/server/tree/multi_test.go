package tree

import (
	"fmt"
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

func op(typ int32, req jute.Record) jute.MultiOp { return jute.MultiOp{Type: typ, Req: req} }

// results renders multi results as "type/err" with paths for creates.
func results(r *jute.MultiResponse) []string {
	var out []string
	for _, x := range r.Results {
		s := fmt.Sprintf("%d/%s", x.Type, errName(x.Err))
		switch resp := x.Resp.(type) {
		case *jute.PathResponse:
			s += " " + resp.Path
		case *jute.Create2Response:
			s += " " + resp.Path + "+stat"
		case *jute.StatResponse:
			s += fmt.Sprintf(" v%d", resp.Stat.Version)
		case *jute.GetDataResponse:
			s += fmt.Sprintf(" %q", resp.Data)
		case *jute.ChildrenResponse:
			s += fmt.Sprint(" ", resp.Children)
		}
		out = append(out, s)
	}
	return out
}

// TestMulti checks multi answers against what ZooKeeper 3.8.0 answered to
// the same requests.
func TestMulti(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.create(1, "/m", "d", 0)
	ttlReq := func(path string, flags int32) *jute.CreateTTLRequest {
		return &jute.CreateTTLRequest{Path: path, ACL: OpenACL, Flags: flags, TTL: 100000}
	}
	tests := []struct {
		name  string
		ops   []jute.MultiOp
		want  []string
		nodes []string // children of /m afterwards
	}{
		{
			name: "all kinds succeed",
			ops: []jute.MultiOp{
				op(jute.OpCreate, createReq("/m/a", "x", 0)),
				op(jute.OpCreate2, createReq("/m/b", "x", 0)), // 3.8.0 treats create2 as create
				op(jute.OpCreate, createReq("/m/c", "x", jute.FlagContainer)),
				op(jute.OpCreateTTL, ttlReq("/m/t", jute.FlagPersistentWithTTL)),
				op(jute.OpCreateTTL, ttlReq("/m/t2", jute.FlagPersistent)), // TTL dropped: plain create
				op(jute.OpCreateContainer, createReq("/m/cc", "x", 0)),     // flags rule: plain create
				op(jute.OpSetData, &jute.SetDataRequest{Path: "/m/a", Data: []byte("y"), Version: 0}),
				op(jute.OpCheck, &jute.PathVersionRequest{Path: "/m/a", Version: 1}),
				op(jute.OpDelete, &jute.PathVersionRequest{Path: "/m/b", Version: -1}),
				op(jute.OpCreate, createReq("/m/s", "x", jute.FlagPersistentSequential)),
				op(jute.OpCreate, createReq("/m/s", "x", jute.FlagPersistentSequential)),
			},
			want: []string{"1/Ok /m/a", "1/Ok /m/b", "15/Ok /m/c+stat", "15/Ok /m/t+stat", "1/Ok /m/t2", "1/Ok /m/cc",
				"5/Ok v1", "13/Ok", "2/Ok", "1/Ok /m/s0000000006", "1/Ok /m/s0000000007"},
			nodes: []string{"a", "c", "cc", "s0000000006", "s0000000007", "t", "t2"},
		},
		{
			name: "fails in the middle",
			ops: []jute.MultiOp{
				op(jute.OpCreate, createReq("/m/x", "x", 0)),
				op(jute.OpSetData, &jute.SetDataRequest{Path: "/m/x", Data: []byte("y"), Version: 0}),
				op(jute.OpCheck, &jute.PathVersionRequest{Path: "/m/a", Version: 7}),
				op(jute.OpDelete, &jute.PathVersionRequest{Path: "/m/nope", Version: -1}),
			},
			want:  []string{"-1/Ok", "-1/Ok", "-1/BadVersion", "-1/RuntimeInconsistency"},
			nodes: []string{"a", "c", "cc", "s0000000006", "s0000000007", "t", "t2"},
		},
		{
			name: "fails first",
			ops: []jute.MultiOp{
				op(jute.OpDelete, &jute.PathVersionRequest{Path: "/m/nope", Version: -1}),
				op(jute.OpCreate, createReq("/m/x", "x", 0)),
			},
			want:  []string{"-1/NoNode", "-1/RuntimeInconsistency"},
			nodes: []string{"a", "c", "cc", "s0000000006", "s0000000007", "t", "t2"},
		},
		{name: "empty", want: nil, nodes: []string{"a", "c", "cc", "s0000000006", "s0000000007", "t", "t2"}},
		{
			name: "delete then recreate, then a child of an ephemeral",
			ops: []jute.MultiOp{
				op(jute.OpDelete, &jute.PathVersionRequest{Path: "/m/a", Version: -1}),
				op(jute.OpCreate, createReq("/m/a", "z", 0)),
				op(jute.OpCreate, createReq("/m/a/b", "z", jute.FlagEphemeral)),
				op(jute.OpCreate, createReq("/m/a/b/c", "z", 0)),
			},
			want:  []string{"-1/Ok", "-1/Ok", "-1/Ok", "-1/NoChildrenForEphemerals"},
			nodes: []string{"a", "c", "cc", "s0000000006", "s0000000007", "t", "t2"},
		},
		{
			name: "delete then recreate",
			ops: []jute.MultiOp{
				op(jute.OpDelete, &jute.PathVersionRequest{Path: "/m/a", Version: 1}),
				op(jute.OpCreate, createReq("/m/a", "z", 0)),
				op(jute.OpCreate, createReq("/m/a/b", "z", jute.FlagEphemeral)),
			},
			want:  []string{"2/Ok", "1/Ok /m/a", "1/Ok /m/a/b"},
			nodes: []string{"a", "c", "cc", "s0000000006", "s0000000007", "t", "t2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.tr.LastZxid()
			dumpBefore := dump(h.tr)
			r := h.exec(1, jute.OpMulti, &jute.MultiRequest{Ops: tc.ops})
			if r.Err != 0 || r.Zxid != before+1 || r.Txn == nil {
				t.Fatalf("err %s zxid %d: a multi answers 0 and spends one zxid", errName(r.Err), r.Zxid)
			}
			eq(t, "results", results(r.Resp.(*jute.MultiResponse)), tc.want)
			eq(t, "children", h.children("/m"), tc.nodes)
			failed := len(tc.want) > 0 && tc.want[0][:2] == "-1"
			if failed {
				h.tr.lastZxid-- // compare everything but the zxid
				if got := dump(h.tr); got != dumpBefore {
					t.Errorf("failed multi changed the tree:\n%s\nwas\n%s", got, dumpBefore)
				}
				h.tr.lastZxid++
			}
		})
	}
	// Every op of a multi carries the multi's zxid.
	r := h.must(1, jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		op(jute.OpCreate2, createReq("/m/z1", "", jute.FlagContainer)),
		op(jute.OpCreate, createReq("/m/z2", "", 0)),
	}}).(*jute.MultiResponse)
	z := h.tr.LastZxid()
	if s := r.Results[0].Resp.(*jute.Create2Response).Stat; s.Czxid != z || h.stat("/m/z2").Czxid != z || h.stat("/m").Pzxid != z {
		t.Errorf("multi zxids: %+v", s)
	}
}

func TestMultiMalformed(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	r := h.exec(1, jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{
		op(jute.OpCreate, createReq("/a", "", 0)),
		op(jute.OpGetData, pathWatch("/a", false)),
	}})
	if r.Err != jute.ErrMarshallingError || r.Txn == nil {
		t.Errorf("multi with a read: %s", errName(r.Err))
	}
	r = h.exec(1, jute.OpMultiRead, &jute.MultiRequest{Ops: []jute.MultiOp{op(jute.OpCreate, createReq("/a", "", 0))}})
	if r.Err != jute.ErrMarshallingError || r.Txn != nil {
		t.Errorf("multiRead with a write: %s", errName(r.Err))
	}
	if len(h.children("/")) != 1 {
		t.Error("malformed multi changed the tree")
	}
}

func TestMultiRead(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.create(1, "/m", "d", 0)
	h.create(1, "/m/a", "y", 0)
	h.must(1, jute.OpCreate, &jute.CreateRequest{Path: "/m/secret", ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "ip", ID: "10.0.0.1"}}}})
	r := h.must(1, jute.OpMultiRead, &jute.MultiRequest{Ops: []jute.MultiOp{
		op(jute.OpGetData, pathWatch("/m/a", true)),
		op(jute.OpGetChildren, pathWatch("/m/nope", false)),
		op(jute.OpGetChildren, pathWatch("/m", true)),
		op(jute.OpGetData, pathWatch("/m/secret", false)),
	}}).(*jute.MultiResponse)
	eq(t, "results", results(r), []string{`4/Ok "y"`, "-1/NoNode", "8/Ok [a secret]", "-1/NoAuth"})
	if s := h.tr.Stats(); s.Watches != 0 {
		t.Errorf("multiRead set %d watches; ZooKeeper sets none", s.Watches)
	}
	r = h.must(1, jute.OpMultiRead, &jute.MultiRequest{}).(*jute.MultiResponse)
	if len(r.Results) != 0 {
		t.Errorf("empty multiRead: %+v", r)
	}
}
