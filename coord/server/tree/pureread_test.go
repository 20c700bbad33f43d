package tree

import (
	"reflect"
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

// TestPureReadAgreesWithExec: for every watchless read, PureRead answers
// exactly what Exec answers, and it refuses anything that would change
// state.
func TestPureReadAgreesWithExec(t *testing.T) {
	tr := New()
	c := Ctx{Session: 7, Now: 1000}
	tr.CreateSession(Ctx{Now: 1000}, 7, 4000, make([]byte, 16))
	mk := func(path, data string, acl []jute.ACL) {
		if r := tr.Exec(c, jute.OpCreate, &jute.CreateRequest{Path: path, Data: []byte(data), ACL: acl}); r.Err != 0 {
			t.Fatalf("create %s: %d", path, r.Err)
		}
	}
	mk("/a", "x", OpenACL)
	mk("/a/b", "y", OpenACL)
	mk("/secret", "s", []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: "u:h"}}})

	reads := []struct {
		op  int32
		req jute.Record
	}{
		{jute.OpExists, &jute.PathWatchRequest{Path: "/a"}},
		{jute.OpExists, &jute.PathWatchRequest{Path: "/missing"}},
		{jute.OpGetData, &jute.PathWatchRequest{Path: "/a/b"}},
		{jute.OpGetData, &jute.PathWatchRequest{Path: "/secret"}},
		{jute.OpGetChildren, &jute.PathWatchRequest{Path: "/a"}},
		{jute.OpGetChildren2, &jute.PathWatchRequest{Path: "/"}},
		{jute.OpGetACL, &jute.PathRequest{Path: "/secret"}},
		{jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: "/"}},
		{jute.OpSync, &jute.PathRequest{Path: "/a"}},
	}
	for _, r := range reads {
		pure, ok := tr.PureRead(c, r.op, r.req)
		if !ok {
			t.Fatalf("op %d refused", r.op)
		}
		full := tr.Exec(c, r.op, r.req)
		if !reflect.DeepEqual(pure, full) {
			t.Errorf("op %d: PureRead %+v, Exec %+v", r.op, pure, full)
		}
	}
	refused := []struct {
		op  int32
		req jute.Record
	}{
		{jute.OpGetData, &jute.PathWatchRequest{Path: "/a", Watch: true}},
		{jute.OpExists, &jute.PathWatchRequest{Path: "/x", Watch: true}},
		{jute.OpCreate, &jute.CreateRequest{Path: "/c", ACL: OpenACL}},
		{jute.OpSetWatches, &jute.SetWatches{}},
		{jute.OpMultiRead, &jute.MultiRequest{}},
		{jute.OpGetData, nil},
	}
	before := tr.LastZxid()
	for _, r := range refused {
		if _, ok := tr.PureRead(c, r.op, r.req); ok {
			t.Errorf("op %d answered by PureRead", r.op)
		}
	}
	if tr.LastZxid() != before || tr.Stats().Watches != 0 {
		t.Errorf("PureRead changed state")
	}
	if res, _ := tr.PureRead(Ctx{Session: 99}, jute.OpExists, &jute.PathWatchRequest{Path: "/a"}); res.Err != jute.ErrSessionExpired {
		t.Errorf("unknown session: %d", res.Err)
	}
}
