package server_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/coord/server/jute"
)

// TestHostileInputEnforcingAuth runs the coord hostile-input catalogue
// against a server that enforces authentication with a list of digest
// users, plus attacks on addAuth itself. No session in the catalogue has
// authenticated, so every request that decodes as one is answered
// SESSIONCLOSEDREQUIRESASLAUTH (-124) and the connection is closed (an
// unknown auth scheme gets AUTHFAILED, then the close); framing errors
// close the connection as before. An authenticated client keeps being
// served and the tree is unchanged.
func TestHostileInputEnforcingAuth(t *testing.T) {
	srv := startServer(t, t.TempDir(), func(c *server.Config) {
		c.HandshakeTimeout = time.Second
		c.EnforceAuth = true
		c.CheckDigest = func(user, password string) bool { return user == "alice" && password == "s3cret" }
	})
	addr := srv.Addr().String()
	good, _ := dial(t, addr, 4*time.Second)
	if err := good.AddAuth("digest", []byte("alice:s3cret")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/hostile", "/hostile/child"} {
		if _, err := good.Create(p, []byte("seed"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}

	var cases []zkCase
	for _, c := range zkCases() {
		if c.session && c.outcome != closed {
			c.outcome, c.want = refusedThenClosed, jute.ErrSessionClosedRequireAuth
			if strings.HasPrefix(c.name, "auth ") {
				c.want = jute.ErrAuthFailed
			}
		}
		cases = append(cases, c)
	}
	auth := func(scheme string, cred []byte) []byte {
		return req(-4, jute.OpAuth, func(e *jute.Encoder) { e.Int(0); e.String(scheme); e.Buffer(cred) })
	}
	getData := req(5, jute.OpGetData, func(e *jute.Encoder) { e.String("/hostile"); e.Bool(false) })
	createEvil := req(6, jute.OpCreate, create("/hostile/evil", 0))
	for _, c := range []struct {
		name string
		raw  []byte
		xid  int32
		want int32
	}{
		{"wrong password", auth("digest", []byte("alice:guess")), -4, jute.ErrAuthFailed},
		{"unknown user", auth("digest", []byte("mallory:s3cret")), -4, jute.ErrAuthFailed},
		{"digest without a colon", auth("digest", []byte("alice")), -4, jute.ErrAuthFailed},
		{"empty digest", auth("digest", nil), -4, jute.ErrAuthFailed},
		{"empty scheme", auth("", []byte("alice:s3cret")), -4, jute.ErrAuthFailed},
		{"512 KiB credential", auth("digest", append([]byte("alice:"), bytes.Repeat([]byte("x"), 512<<10)...)), -4, jute.ErrAuthFailed},
		{"ip scheme (not enforced), then a create", append(auth("ip", []byte("10.0.0.1")), createEvil...), 6, jute.ErrSessionClosedRequireAuth},
		{"wrong password then a create", append(auth("digest", []byte("alice:guess")), createEvil...), -4, jute.ErrAuthFailed},
		{"request before auth, then the right auth and a create", append(append(getData, auth("digest", []byte("alice:s3cret"))...), createEvil...), 5, jute.ErrSessionClosedRequireAuth},
		{"request with the auth xid", req(-4, jute.OpGetData, func(e *jute.Encoder) { e.String("/hostile"); e.Bool(false) }), -4, jute.ErrSessionClosedRequireAuth},
		{"ping first", req(-2, jute.OpPing, nil), -2, jute.ErrSessionClosedRequireAuth},
		{"setWatches first", req(-8, jute.OpSetWatches, func(e *jute.Encoder) { e.Long(0); e.Int(0); e.Int(0); e.Int(1); e.String("/hostile") }), -8, jute.ErrSessionClosedRequireAuth},
		{"sasl, then a create", append(req(3, jute.OpSasl, func(e *jute.Encoder) { e.Buffer([]byte("x")) }), createEvil...), 6, jute.ErrSessionClosedRequireAuth},
		{"1000 pipelined wrong passwords", bytes.Repeat(auth("digest", []byte("alice:guess")), 1000), -4, jute.ErrAuthFailed},
	} {
		cases = append(cases, zkCase{name: "addAuth " + c.name, session: true, raw: c.raw, outcome: refusedThenClosed, xid: c.xid, want: c.want})
	}

	before := znodeTree(t, good)
	for _, c := range cases {
		if msg := runZKCase(t, addr, c); msg != "" {
			t.Errorf("%s: %s", c.name, msg)
		}
		if _, _, err := good.Get("/hostile"); err != nil {
			t.Fatalf("%s: an authenticated client is no longer served: %v", c.name, err)
		}
		if after := znodeTree(t, good); after != before {
			t.Errorf("%s changed the tree:\nbefore %s\nafter  %s", c.name, before, after)
			before = after
		}
	}
	t.Logf("hostile-input catalogue: %d cases against the coord server enforcing authentication", len(cases))
}
