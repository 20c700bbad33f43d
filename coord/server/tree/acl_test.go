package tree

import (
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

func TestDigestID(t *testing.T) {
	// Ids Apache ZooKeeper 3.8.0 derived for these credentials.
	for in, want := range map[string]string{
		"alice:pw":     "alice:V55/p2T0OpjQ+low3NVAH4aLvm0=",
		"bob:pw2":      "bob:DzYBVPYoUPHuiOrAcsz6mJwnG9k=",
		"super:secret": "super:lK75jTNcA+U9vtVEw5vB51mj/w4=",
	} {
		if got := DigestID(in); got != want {
			t.Errorf("DigestID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIPMatches(t *testing.T) {
	for _, tc := range []struct {
		client, expr string
		want         bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.2", false},
		{"127.0.0.1", "127.0.0.0/24", true},
		{"127.0.1.1", "127.0.0.0/24", false},
		{"10.200.3.4", "10.0.0.0/8", true},
		{"10.200.3.4", "10.192.0.0/10", true},
		{"10.128.3.4", "10.192.0.0/10", false},
		{"1.2.3.4", "0.0.0.0/0", true},
		{"1.2.3.4", "1.2.3.4/32", true},
		{"1.2.3.4", "1.2.3.4/33", false},
		{"1.2.3.4", "1.2.3/8", false},
		{"::1", "0.0.0.0/0", false},
		{"1.2.3.4", "1.2.3.256", false},
	} {
		if got := ipMatches(tc.client, tc.expr); got != tc.want {
			t.Errorf("ipMatches(%q, %q) = %v", tc.client, tc.expr, got)
		}
	}
}

// TestACLEnforcement checks which permission each operation needs, against
// a node that grants exactly one permission to everyone.
func TestACLEnforcement(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.session(9)
	h.auth[9] = append(h.auth[9], jute.Id{Scheme: "super"})
	perms := map[string]int32{"r": jute.PermRead, "w": jute.PermWrite, "c": jute.PermCreate, "d": jute.PermDelete, "a": jute.PermAdmin, "none": 0}
	for name, perm := range perms {
		h.must(9, jute.OpCreate, &jute.CreateRequest{Path: "/" + name, ACL: []jute.ACL{{Perms: perm, ID: jute.Id{Scheme: "world", ID: "anyone"}}}})
		h.must(9, jute.OpCreate, createReq("/"+name+"/k", "", 0))
	}
	type opReq struct {
		op  int32
		req func(p string) jute.Record
	}
	ops := map[string]opReq{
		"create":  {jute.OpCreate, func(p string) jute.Record { return createReq(p+"/new", "", 0) }},
		"delete":  {jute.OpDelete, func(p string) jute.Record { return &jute.PathVersionRequest{Path: p + "/k", Version: -1} }},
		"setData": {jute.OpSetData, func(p string) jute.Record { return &jute.SetDataRequest{Path: p, Version: -1} }},
		"setACL": {jute.OpSetACL, func(p string) jute.Record {
			return &jute.SetACLRequest{Path: p, ACL: h.tr.aclOf(h.tr.lookup(p)), Version: -1}
		}},
		"getData":  {jute.OpGetData, func(p string) jute.Record { return pathWatch(p, false) }},
		"getChild": {jute.OpGetChildren2, func(p string) jute.Record { return pathWatch(p, false) }},
		"exists":   {jute.OpExists, func(p string) jute.Record { return pathWatch(p, false) }},
		"getACL":   {jute.OpGetACL, func(p string) jute.Record { return &jute.PathRequest{Path: p} }},
		"count":    {jute.OpGetAllChildrenNumber, func(p string) jute.Record { return &jute.PathRequest{Path: p} }},
		"check":    {jute.OpCheck, func(p string) jute.Record { return &jute.PathVersionRequest{Path: p, Version: -1} }},
	}
	// Which single permission lets each operation through (ZooKeeper 3.8.0).
	needs := map[string][]string{
		"create": {"c"}, "delete": {"d"}, "setData": {"w"}, "setACL": {"a"}, "getData": {"r"},
		"getChild": {"r"}, "exists": {"r", "w", "c", "d", "a", "none"}, "getACL": {"r", "a"}, "count": {"r"}, "check": {"r"},
	}
	for opName, o := range ops {
		for permName := range perms {
			want := int32(jute.ErrNoAuth)
			for _, p := range needs[opName] {
				if p == permName {
					want = 0
				}
			}
			if r := h.exec(1, o.op, o.req("/"+permName)); r.Err != want {
				t.Errorf("%s on a %q node: %s, want %s", opName, permName, errName(r.Err), errName(want))
			}
			if r := h.exec(9, o.op, o.req("/"+permName)); r.Err != 0 && r.Err != jute.ErrNoNode && r.Err != jute.ErrNodeExists {
				t.Errorf("super %s on a %q node: %s", opName, permName, errName(r.Err))
			}
		}
	}
}

func TestDigestAndAuthScheme(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	h.session(2)
	h.addAuth(1, "bob:pw2")
	h.addAuth(1, "alice:pw")
	h.must(1, jute.OpCreate, &jute.CreateRequest{Path: "/acl", ACL: []jute.ACL{
		{Perms: jute.PermAll, ID: jute.Id{Scheme: "auth", ID: "ignored"}},
		{Perms: jute.PermRead, ID: jute.Id{Scheme: "world", ID: "anyone"}},
		{Perms: jute.PermRead, ID: jute.Id{Scheme: "world", ID: "anyone"}},
	}})
	full := []jute.ACL{
		{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: "bob:DzYBVPYoUPHuiOrAcsz6mJwnG9k="}},
		{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: "alice:V55/p2T0OpjQ+low3NVAH4aLvm0="}},
		{Perms: jute.PermRead, ID: jute.Id{Scheme: "world", ID: "anyone"}},
	}
	eq(t, "owner sees the ACL", h.must(1, jute.OpGetACL, &jute.PathRequest{Path: "/acl"}).(*jute.GetACLResponse).ACL, full)
	masked := []jute.ACL{
		{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: "bob:x"}},
		{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: "alice:x"}},
		{Perms: jute.PermRead, ID: jute.Id{Scheme: "world", ID: "anyone"}},
	}
	eq(t, "reader without ADMIN sees masked digests", h.must(2, jute.OpGetACL, &jute.PathRequest{Path: "/acl"}).(*jute.GetACLResponse).ACL, masked)
	if r := h.set(2, "/acl", "x"); r.Err != jute.ErrNoAuth {
		t.Errorf("stranger setData: %s", errName(r.Err))
	}
	h.addAuth(2, "alice:pw")
	if r := h.set(2, "/acl", "x"); r.Err != 0 {
		t.Errorf("alice setData: %s", errName(r.Err))
	}
	h.addAuth(2, "carol:nope")
	h.must(2, jute.OpSetACL, &jute.SetACLRequest{Path: "/acl", ACL: []jute.ACL{{Perms: jute.PermRead, ID: jute.Id{Scheme: "auth"}}}, Version: -1})
	got := h.must(2, jute.OpGetACL, &jute.PathRequest{Path: "/acl"}).(*jute.GetACLResponse)
	if len(got.ACL) != 2 || got.ACL[1].ID.ID != "carol:x" || got.Stat.Aversion != 1 {
		t.Errorf("auth expands to every digest identity: %+v", got)
	}
	if r := h.exec(1, jute.OpCreate, &jute.CreateRequest{Path: "/ip", ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "ip", ID: "127.0.0.0/8"}}}}); r.Err != 0 {
		t.Fatalf("ip ACL: %s", errName(r.Err))
	}
	if r := h.set(2, "/ip", "x"); r.Err != 0 {
		t.Errorf("ip 127.0.0.1 within 127.0.0.0/8: %s", errName(r.Err))
	}
	h.auth[2] = []jute.Id{{Scheme: "ip", ID: "10.0.0.1"}}
	if r := h.set(2, "/ip", "x"); r.Err != jute.ErrNoAuth {
		t.Errorf("ip 10.0.0.1: %s", errName(r.Err))
	}
	if s := h.tr.Stats(); s.ACLs != 4 { // open, read-only (config), ip, and /acl's
		t.Errorf("%d distinct ACL lists, want 4 (interned)", s.ACLs)
	}
}

func TestACLInterning(t *testing.T) {
	h := newHarness(t)
	h.session(1)
	for i := range 100 {
		h.create(1, "/n"+string(rune('a'+i%26))+string(rune('a'+i/26)), "", 0)
	}
	custom := []jute.ACL{{Perms: jute.PermRead, ID: jute.Id{Scheme: "digest", ID: "u:p"}}}
	h.must(1, jute.OpCreate, &jute.CreateRequest{Path: "/c1", ACL: custom})
	h.must(1, jute.OpCreate, &jute.CreateRequest{Path: "/c2", ACL: custom})
	if n := h.tr.Stats().ACLs; n != 3 {
		t.Errorf("%d ACL lists for 103 nodes, want 3", n)
	}
	h.auth[1] = append(h.auth[1], jute.Id{Scheme: "super"})
	h.del(1, "/c1")
	h.del(1, "/c2")
	if n := h.tr.Stats().ACLs; n != 2 {
		t.Errorf("%d ACL lists after deleting the only users of one, want 2", n)
	}
}
