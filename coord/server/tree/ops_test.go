package tree

import (
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

func TestNewTreeLooksLikeZooKeeper(t *testing.T) {
	h := newHarness(t)
	eq(t, "ls /", h.children("/"), []string{"zookeeper"})
	eq(t, "ls /zookeeper", h.children("/zookeeper"), []string{"config", "quota"})
	// Values read from a fresh Apache ZooKeeper 3.8.0.
	if s := h.stat("/"); s != (jute.Stat{Cversion: -1, NumChildren: 1}) {
		t.Errorf("stat / = %+v", s)
	}
	if s := h.stat("/zookeeper"); s != (jute.Stat{Cversion: -2, NumChildren: 2}) {
		t.Errorf("stat /zookeeper = %+v", s)
	}
	if s := h.stat("/zookeeper/config"); s != (jute.Stat{Aversion: -1}) {
		t.Errorf("stat /zookeeper/config = %+v", s)
	}
	acl := h.must(0, jute.OpGetACL, &jute.PathRequest{Path: "/zookeeper/config"}).(*jute.GetACLResponse).ACL
	eq(t, "config ACL", acl, ReadACL)
	if d := h.get("/"); d == nil || len(d) != 0 {
		t.Errorf("root data %v, want empty non-nil", d)
	}
	if s := h.tr.Stats(); s.Nodes != 5 || s.ApproxDataSize != 44 {
		t.Errorf("stats %+v, want 5 nodes and 44 bytes as ZooKeeper's mntr", s)
	}
	n := h.must(0, jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: "/"}).(*jute.CountResponse).Number
	if n != 3 {
		t.Errorf("getAllChildrenNumber / = %d, want 3", n)
	}
	if h.get("") == nil {
		t.Error(`"" is ZooKeeper's alias of the root`)
	}
}

func TestCreateErrors(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.create(1, "/e", "d", 0)
	h.create(1, "/e/eph", "", jute.FlagEphemeral)
	ttl := func(path string, flags int32, ttl int64) *jute.CreateTTLRequest {
		return &jute.CreateTTLRequest{Path: path, ACL: OpenACL, Flags: flags, TTL: ttl}
	}
	acl := func(path, scheme, id string) *jute.CreateRequest {
		return &jute.CreateRequest{Path: path, ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: scheme, ID: id}}}}
	}
	// Each case's code is what ZooKeeper 3.8.0 answered to the same request.
	tests := []struct {
		name string
		op   int32
		req  jute.Record
		want int32
		path string
	}{
		{"ok", jute.OpCreate, createReq("/e/a", "x", 0), 0, "/e/a"},
		{"trailing slash", jute.OpCreate, createReq("/e/", "x", 0), jute.ErrBadArguments, ""},
		{"trailing slash, no parent", jute.OpCreate, createReq("/nope/", "x", 0), jute.ErrNoNode, ""},
		{"trailing slash sequential", jute.OpCreate, createReq("/e/", "x", jute.FlagPersistentSequential), 0, "/e/0000000002"},
		{"empty", jute.OpCreate, createReq("", "x", 0), jute.ErrBadArguments, ""},
		{"relative", jute.OpCreate, createReq("a", "x", 0), jute.ErrBadArguments, ""},
		{"root", jute.OpCreate, createReq("/", "x", 0), jute.ErrNodeExists, ""},
		{"zookeeper", jute.OpCreate, createReq("/zookeeper", "x", 0), jute.ErrNodeExists, ""},
		{"double slash", jute.OpCreate, createReq("/e//x", "x", 0), jute.ErrNoNode, ""},
		{"dot", jute.OpCreate, createReq("/e/.", "x", 0), jute.ErrBadArguments, ""},
		{"dotdot", jute.OpCreate, createReq("/e/..", "x", 0), jute.ErrBadArguments, ""},
		{"dot name", jute.OpCreate, createReq("/e/.x", "x", 0), 0, "/e/.x"},
		{"nul", jute.OpCreate, createReq("/e/a\x00b", "x", 0), jute.ErrBadArguments, ""},
		{"control char", jute.OpCreate, createReq("/e/a\x01", "x", 0), jute.ErrBadArguments, ""},
		{"astral char", jute.OpCreate, createReq("/e/\U0001F600", "x", 0), jute.ErrBadArguments, ""},
		{"bmp char", jute.OpCreate, createReq("/e/é", "x", 0), 0, "/e/é"},
		{"no parent", jute.OpCreate, createReq("/nope/x", "x", 0), jute.ErrNoNode, ""},
		{"exists", jute.OpCreate, createReq("/e", "x", 0), jute.ErrNodeExists, ""},
		{"bad flag", jute.OpCreate2, createReq("/e/bf", "x", 9), jute.ErrBadArguments, ""},
		{"ttl flag without ttl", jute.OpCreate2, createReq("/e/tf", "x", jute.FlagPersistentWithTTL), jute.ErrBadArguments, ""},
		{"under ephemeral", jute.OpCreate, createReq("/e/eph/x", "x", 0), jute.ErrNoChildrenForEphemerals, ""},
		{"exists beats ephemeral parent", jute.OpCreate, createReq("/e/eph", "x", 0), jute.ErrNodeExists, ""},
		{"no acl", jute.OpCreate, &jute.CreateRequest{Path: "/e/na"}, jute.ErrInvalidACL, ""},
		{"acl checked before parent", jute.OpCreate, &jute.CreateRequest{Path: "/nope/na"}, jute.ErrInvalidACL, ""},
		{"auth without identity", jute.OpCreate, acl("/e/aa", "auth", ""), jute.ErrInvalidACL, ""},
		{"digest without colon", jute.OpCreate, acl("/e/db", "digest", "nocolon"), jute.ErrInvalidACL, ""},
		{"digest two colons", jute.OpCreate, acl("/e/db", "digest", "x:y:z"), jute.ErrInvalidACL, ""},
		{"digest trailing colon", jute.OpCreate, acl("/e/dt", "digest", "x:y:"), 0, "/e/dt"},
		{"world other", jute.OpCreate, acl("/e/wo", "world", "x"), jute.ErrInvalidACL, ""},
		{"super scheme", jute.OpCreate, acl("/e/su", "super", ""), jute.ErrInvalidACL, ""},
		{"ip", jute.OpCreate, acl("/e/ip", "ip", "10.0.0.0/8"), 0, "/e/ip"},
		{"ip bad", jute.OpCreate, acl("/e/ipb", "ip", "10.0.0/8"), jute.ErrInvalidACL, ""},
		{"ip bits", jute.OpCreate, acl("/e/ipc", "ip", "10.0.0.0/33"), jute.ErrInvalidACL, ""},
		{"ttl zero", jute.OpCreateTTL, ttl("/e/t0", jute.FlagPersistentWithTTL, 0), jute.ErrBadArguments, ""},
		{"ttl non-ttl mode", jute.OpCreateTTL, ttl("/e/tp", jute.FlagPersistent, 100), jute.ErrBadArguments, ""},
		{"ttl non-ttl mode negative", jute.OpCreateTTL, ttl("/e/tn", jute.FlagPersistent, -1), jute.ErrBadArguments, ""},
		{"ttl max", jute.OpCreateTTL, ttl("/e/tm", jute.FlagPersistentSequentialWithTTL, MaxTTL), 0, "/e/tm0000000007"},
		{"ttl over max", jute.OpCreateTTL, ttl("/e/tx", jute.FlagPersistentWithTTL, MaxTTL+1), jute.ErrBadArguments, ""},
		{"wrong body", jute.OpCreate, &jute.PathRequest{Path: "/e/w"}, jute.ErrMarshallingError, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.tr.LastZxid()
			r := h.exec(1, tc.op, tc.req)
			if r.Err != tc.want {
				t.Fatalf("err %s, want %s", errName(r.Err), errName(tc.want))
			}
			if r.Txn == nil || r.Zxid != before+1 {
				t.Errorf("zxid %d txn %v: every write, failed or not, spends a zxid", r.Zxid, r.Txn != nil)
			}
			if tc.want != 0 {
				return
			}
			var got string
			switch resp := r.Resp.(type) {
			case *jute.PathResponse:
				got = resp.Path
			case *jute.Create2Response:
				got = resp.Path
				if resp.Stat.Czxid != r.Zxid {
					t.Errorf("create2 stat %+v", resp.Stat)
				}
			}
			if got != tc.path {
				t.Errorf("path %q, want %q", got, tc.path)
			}
		})
	}
}

func TestDeleteSetDataSetACLErrors(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.create(1, "/e", "d", 0)
	h.create(1, "/e/k", "d", 0)
	h.create(1, "/e/dup", "d", 0)
	tests := []struct {
		name string
		op   int32
		req  jute.Record
		want int32
	}{
		{"delete /", jute.OpDelete, &jute.PathVersionRequest{Path: "/", Version: -1}, jute.ErrBadArguments},
		{"delete /zookeeper", jute.OpDelete, &jute.PathVersionRequest{Path: "/zookeeper", Version: -1}, jute.ErrBadArguments},
		{"delete quota", jute.OpDelete, &jute.PathVersionRequest{Path: "/zookeeper/quota", Version: -1}, jute.ErrBadArguments},
		{"delete config", jute.OpDelete, &jute.PathVersionRequest{Path: "/zookeeper/config", Version: -1}, jute.ErrBadArguments},
		{"delete empty", jute.OpDelete, &jute.PathVersionRequest{Path: "", Version: -1}, jute.ErrBadArguments},
		{"delete trailing slash", jute.OpDelete, &jute.PathVersionRequest{Path: "/e/", Version: -1}, jute.ErrNoNode},
		{"delete double slash", jute.OpDelete, &jute.PathVersionRequest{Path: "//e", Version: -1}, jute.ErrNoNode},
		{"delete not empty", jute.OpDelete, &jute.PathVersionRequest{Path: "/e", Version: -1}, jute.ErrNotEmpty},
		{"delete bad version", jute.OpDelete, &jute.PathVersionRequest{Path: "/e/dup", Version: 3}, jute.ErrBadVersion},
		{"delete missing", jute.OpDelete, &jute.PathVersionRequest{Path: "/e/nope", Version: -1}, jute.ErrNoNode},
		{"delete no parent", jute.OpDelete, &jute.PathVersionRequest{Path: "/x/y", Version: -1}, jute.ErrNoNode},
		{"delete ok", jute.OpDelete, &jute.PathVersionRequest{Path: "/e/dup", Version: 0}, 0},
		{"set config", jute.OpSetData, &jute.SetDataRequest{Path: "/zookeeper/config", Data: []byte("x"), Version: -1}, jute.ErrNoAuth},
		{"set trailing slash", jute.OpSetData, &jute.SetDataRequest{Path: "/e/", Version: -1}, jute.ErrBadArguments},
		{"set missing", jute.OpSetData, &jute.SetDataRequest{Path: "/nope", Version: -1}, jute.ErrNoNode},
		{"set bad version", jute.OpSetData, &jute.SetDataRequest{Path: "/e", Version: 7}, jute.ErrBadVersion},
		{"set ok", jute.OpSetData, &jute.SetDataRequest{Path: "/e", Version: 0}, 0},
		{"setacl bad version", jute.OpSetACL, &jute.SetACLRequest{Path: "/e", ACL: OpenACL, Version: 5}, jute.ErrBadVersion},
		{"setacl empty", jute.OpSetACL, &jute.SetACLRequest{Path: "/e", Version: -1}, jute.ErrInvalidACL},
		{"setacl bad path", jute.OpSetACL, &jute.SetACLRequest{Path: "e", ACL: OpenACL, Version: -1}, jute.ErrBadArguments},
		{"setacl missing", jute.OpSetACL, &jute.SetACLRequest{Path: "/nope", ACL: OpenACL, Version: -1}, jute.ErrNoNode},
		{"setacl any", jute.OpSetACL, &jute.SetACLRequest{Path: "/e", ACL: OpenACL, Version: -1}, 0},
		{"setacl v1", jute.OpSetACL, &jute.SetACLRequest{Path: "/e", ACL: OpenACL, Version: 1}, 0},
		{"check bad version", jute.OpCheck, &jute.PathVersionRequest{Path: "/e", Version: 5}, jute.ErrBadVersion},
		{"check missing", jute.OpCheck, &jute.PathVersionRequest{Path: "/nope", Version: -1}, jute.ErrNoNode},
		{"check ok", jute.OpCheck, &jute.PathVersionRequest{Path: "/e", Version: 1}, 0},
		{"client deleteContainer", jute.OpDeleteContainer, &jute.PathRequest{Path: "/e/k"}, jute.ErrBadArguments},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.tr.LastZxid()
			r := h.exec(1, tc.op, tc.req)
			if r.Err != tc.want {
				t.Fatalf("err %s, want %s", errName(r.Err), errName(tc.want))
			}
			if r.Txn == nil || r.Zxid != before+1 {
				t.Errorf("zxid %d: a write spends a zxid", r.Zxid)
			}
		})
	}
	s := h.stat("/e")
	if s.Version != 1 || s.Aversion != 2 || s.Mzxid == s.Czxid {
		t.Errorf("stat /e after set and two setACLs: %+v", s)
	}
}

func TestReads(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.create(1, "/r", "data", 0)
	h.create(1, "/r/b", "", 0)
	h.create(1, "/r/a", "", 0)
	h.create(1, "/r/a/x", "", 0)
	h.must(1, jute.OpCreate, &jute.CreateRequest{Path: "/nil", ACL: OpenACL})
	if d := h.get("/nil"); d != nil {
		t.Errorf("null data came back as %v", d)
	}
	if d := h.get("/r/a"); d == nil {
		t.Error("empty data came back null")
	}
	eq(t, "children sorted", h.children("/r"), []string{"a", "b"})
	c2 := h.must(0, jute.OpGetChildren2, pathWatch("/r", false)).(*jute.Children2Response)
	if c2.Stat != h.stat("/r") || len(c2.Children) != 2 {
		t.Errorf("getChildren2 %+v", c2)
	}
	if n := h.must(0, jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: "/r"}).(*jute.CountResponse).Number; n != 3 {
		t.Errorf("getAllChildrenNumber /r = %d, want 3", n)
	}
	if p := h.must(0, jute.OpSync, &jute.PathRequest{Path: "whatever"}).(*jute.PathResponse).Path; p != "whatever" {
		t.Errorf("sync echoed %q", p)
	}
	tests := []struct {
		name string
		op   int32
		req  jute.Record
		want int32
	}{
		{"exists missing", jute.OpExists, pathWatch("/nope", false), jute.ErrNoNode},
		{"exists relative", jute.OpExists, pathWatch("a", false), jute.ErrNoNode},
		{"exists nul", jute.OpExists, pathWatch("/a\x00", false), jute.ErrBadArguments},
		{"get missing", jute.OpGetData, pathWatch("/nope", false), jute.ErrNoNode},
		{"get trailing slash", jute.OpGetData, pathWatch("/r/", false), jute.ErrNoNode},
		{"ls missing", jute.OpGetChildren, pathWatch("/nope", false), jute.ErrNoNode},
		{"ls2 missing", jute.OpGetChildren2, pathWatch("/nope", false), jute.ErrNoNode},
		{"count missing", jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: "/nope"}, jute.ErrNoNode},
		{"acl missing", jute.OpGetACL, &jute.PathRequest{Path: "/nope"}, jute.ErrNoNode},
		{"unknown op", 99, &jute.Empty{}, jute.ErrUnimplemented},
		{"wrong body", jute.OpGetData, &jute.PathRequest{Path: "/r"}, jute.ErrMarshallingError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.tr.LastZxid()
			r := h.exec(1, tc.op, tc.req)
			if r.Err != tc.want {
				t.Fatalf("err %s, want %s", errName(r.Err), errName(tc.want))
			}
			if r.Txn != nil || r.Zxid != before {
				t.Errorf("a read logged a txn or moved the zxid")
			}
		})
	}
	who := h.must(1, jute.OpWhoAmI, &jute.Empty{}).(*jute.WhoAmIResponse)
	if len(who.ClientInfo) != 1 || who.ClientInfo[0] != (jute.ClientInfo{AuthScheme: "ip", User: "127.0.0.1"}) {
		t.Errorf("whoAmI %+v", who.ClientInfo)
	}
}

func TestUnknownSession(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.create(1, "/a", "", 0)
	r := h.exec(9, jute.OpGetData, pathWatch("/a", false))
	if r.Err != jute.ErrSessionExpired || r.Txn != nil {
		t.Errorf("read from unknown session: %s", errName(r.Err))
	}
	r = h.exec(9, jute.OpCreate, createReq("/b", "", jute.FlagEphemeral))
	if r.Err != jute.ErrSessionExpired || r.Txn == nil {
		t.Errorf("ephemeral from unknown session: %s (a failed write is logged)", errName(r.Err))
	}
	r = h.exec(0, jute.OpCreate, createReq("/b", "", jute.FlagEphemeral))
	if r.Err != jute.ErrSessionExpired {
		t.Errorf("ephemeral from the server itself: %s", errName(r.Err))
	}
	h.create(0, "/c", "", 0) // internal requests may write persistent nodes
	r = h.exec(9, jute.OpCloseSession, &jute.Empty{})
	if r.Err != 0 || r.Txn != nil {
		t.Errorf("closing an unknown session: %s, txn %v", errName(r.Err), r.Txn != nil)
	}
}

func TestGetEphemerals(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.session(2)
	h.create(1, "/v", "", 0)
	h.create(1, "/v/eph", "", jute.FlagEphemeral)
	h.create(1, "/v/ephs", "", jute.FlagEphemeralSequential)
	h.create(1, "/w", "", jute.FlagEphemeral)
	h.create(2, "/v/other", "", jute.FlagEphemeral)
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"/", []string{"/v/eph", "/v/ephs0000000001", "/w"}},
		{"", []string{"/v/eph", "/v/ephs0000000001", "/w"}},
		{" ", []string{"/v/eph", "/v/ephs0000000001", "/w"}},
		{"/v/e", []string{"/v/eph", "/v/ephs0000000001"}},
		{"/v/ephs", []string{"/v/ephs0000000001"}},
		{"/x", []string{}},
	} {
		got := h.must(1, jute.OpGetEphemerals, &jute.PathRequest{Path: tc.prefix}).(*jute.ChildrenResponse).Children
		eq(t, "getEphemerals "+tc.prefix, got, tc.want)
	}
	eph := h.tr.EphemeralsBySession()
	eq(t, "dump 2", eph[2], []string{"/v/other"})
	if s := h.tr.Stats(); s.Ephemerals != 4 || s.Sessions != 2 {
		t.Errorf("stats %+v", s)
	}
}
