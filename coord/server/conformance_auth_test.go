package server_test

import (
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/internal/zkraw"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/coord/server/jute"
	"github.com/strata-dc/strata/coord/zktest"
)

// TestConformanceEnforceAuth runs the enforcement case against the
// embedded server with EnforceAuth and against Apache ZooKeeper 3.8 started
// with -Dzookeeper.enforce.auth.enabled=true -Dzookeeper.enforce.auth.schemes=digest,
// and compares both with the golden transcript Apache wrote: the same
// error codes, zxids and closed connections.
func TestConformanceEnforceAuth(t *testing.T) {
	servers := []zktest.Server{
		{Name: "embedded", Start: func(t testing.TB) string {
			return zktest.EmbeddedWith(t, func(c *server.Config) {
				c.EnforceAuth, c.EnforceAuthSchemes = true, []string{"digest"}
			})
		}},
		{Name: "apache", Start: func(t testing.TB) string {
			return zktest.ApacheWith(t, "zookeeper.enforce.auth.enabled=true", "zookeeper.enforce.auth.schemes=digest")
		}},
	}
	for _, srv := range servers {
		t.Run(srv.Name, func(t *testing.T) {
			if *updateGolden && srv.Name != goldenSource {
				t.Skipf("-update rewrites the golden transcripts from %s only", goldenSource)
			}
			t.Parallel()
			addr := srv.Start(t)
			h := newAuthedHarness(t, addr, "enforce_auth")
			caseEnforceAuth(h)
			h.finish()
			checkGolden(t, srv.Name, "enforce_auth", h.tr.String())
		})
	}
}

// newAuthedHarness is newHarness for a server that enforces
// authentication: the set-up session authenticates as the super user
// before it creates the case's root.
func newAuthedHarness(t *testing.T, addr, name string) *harness {
	h := &harness{t: t, addr: addr, root: "/" + name, tr: zkraw.NewTranscript()}
	c, _, err := zkraw.Dial(addr, zkraw.Session{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("set up %s: %v", name, err)
	}
	if r, err := c.AddAuth("digest", []byte(superCredential)); err != nil || r.Err != jute.ErrOk {
		t.Fatalf("set up %s: addAuth: %v (code %s)", name, err, zkraw.ErrName(r.Err))
	}
	var resp jute.Create2Response
	r, err := c.Do(jute.OpCreate2, &jute.CreateRequest{Path: h.root, ACL: zkraw.OpenACL}, &resp)
	if err != nil || r.Err != jute.ErrOk {
		t.Fatalf("create case root %s: %v (code %s)", h.root, err, zkraw.ErrName(r.Err))
	}
	h.tr.SetBase(resp.Stat.Czxid)
	if _, err := c.CloseSession(); err != nil {
		t.Fatalf("close set-up session: %v", err)
	}
	t.Cleanup(h.closeAll)
	return h
}

// caseEnforceAuth: with enforcement on, every request of a connection
// that has not authenticated — reads, writes, ping, closeSession, whoAmI,
// unknown op codes — is answered SESSIONCLOSEDREQUIRESASLAUTH (-124) with
// zxid 0 and the connection closes; nothing pipelined behind it is served;
// the session itself survives and serves once it authenticates; a
// principal authenticated but not in a node's ACL gets NoAuth on writes.
func caseEnforceAuth(h *harness) {
	a := h.connect("A", 4000*millis)
	a.do(jute.OpGetData, reqWatch(h.root, false))
	a.expectClosed()
	for _, tc := range []struct {
		name string
		xid  int32
		op   int32
		req  jute.Record
	}{
		{"B", jute.XidPing, jute.OpPing, nil},
		{"C", 0, jute.OpCloseSession, nil},
		{"D", 0, jute.OpWhoAmI, nil},
		{"E", 0, jute.OpCreate, reqCreate(h.p("e"), "x", jute.FlagPersistent)},
		{"F", 0, jute.OpExists, reqWatch(h.root, true)},
	} {
		p := h.connect(tc.name, 4000*millis)
		if tc.xid != 0 {
			p.wait(p.sendXid(tc.xid, tc.op, tc.req))
		} else {
			p.do(tc.op, tc.req)
		}
		p.expectClosed()
	}
	u := h.connect("U", 4000*millis)
	u.raw(999, nil)
	u.expectClosed()

	// Pipelined behind a refused request, addAuth and a create are not
	// served.
	p := h.connect("P", 4000*millis)
	first := p.send(jute.OpGetData, reqWatch(h.root, false))
	auth := p.sendXid(jute.XidAuth, jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("alice:pw")})
	create := p.send(jute.OpCreate, reqCreate(h.p("p"), "x", jute.FlagPersistent))
	p.wait(first)
	p.wait(auth)
	p.wait(create)

	// The owner of the nodes: world may read, only alice may change.
	al := h.connect("Alice", 4000*millis)
	al.auth("digest", "alice:pw")
	owned := []jute.ACL{aclEntry(jute.PermRead, "world", "anyone"), aclEntry(jute.PermAll, "auth", "")}
	n := h.p("owned")
	al.do(jute.OpCreate, reqCreateACL(n, owned))
	al.do(jute.OpCreate, &jute.CreateRequest{Path: n + "/child", Data: []byte("v1"), ACL: owned})
	al.do(jute.OpExists, reqWatch(h.p("e"), false))
	al.do(jute.OpExists, reqWatch(h.p("p"), false))
	al.do(jute.OpWhoAmI, nil)

	// Another principal: reads, but may not write, delete or create below.
	b := h.connect("Bob", 4000*millis)
	b.auth("digest", "bob:pw")
	b.do(jute.OpGetData, reqWatch(n+"/child", false))
	b.do(jute.OpSetData, reqSetData(n+"/child", "stolen", -1))
	b.do(jute.OpDelete, reqPathVersion(n+"/child", -1))
	b.do(jute.OpCreate, reqCreate(n+"/intruder", "", jute.FlagPersistent))
	b.do(jute.OpSetACL, &jute.SetACLRequest{Path: n, ACL: zkraw.OpenACL, Version: -1})
	b.do(jute.OpGetACL, reqPath(n+"/child"))
	al.do(jute.OpGetData, reqWatch(n+"/child", false))

	// A refused connection's session lives on: resumed and authenticated,
	// it is served.
	a2 := h.resume("A2", a, nil)
	a2.auth("digest", "carol:pw")
	a2.do(jute.OpGetData, reqWatch(n+"/child", false))

	// An unknown scheme fails the auth and closes the connection.
	x := h.connect("X", 4000*millis)
	x.auth("nosuchscheme", "x")
	x.expectClosed()

	// The ip scheme authenticates as the peer's address whatever the
	// packet says, and ip is not an enforced scheme here.
	y := h.connect("Y", 4000*millis)
	y.auth("ip", "10.9.8.7")
	y.do(jute.OpWhoAmI, nil)
	y.expectClosed()

	// Four-letter words are answered without authentication.
	out, err := zktest.FourLetterWord(h.addr, "ruok")
	h.log("ruok -> %q err=%v", out, err)

	al.do(jute.OpDelete, reqPathVersion(n+"/child", -1))
	al.do(jute.OpDelete, reqPathVersion(n, -1))
}
