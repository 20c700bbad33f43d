package server_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/internal/zkraw"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/coord/server/jute"
)

// enforcing starts a server that requires digest authentication; with
// users, only those user:password pairs pass addAuth.
func enforcing(t *testing.T, users map[string]string) *server.Server {
	return startServer(t, t.TempDir(), func(c *server.Config) {
		c.EnforceAuth = true
		c.SuperDigest = "super:lK75jTNcA+U9vtVEw5vB51mj/w4=" // super:secret
		if users != nil {
			c.CheckDigest = func(user, password string) bool {
				want, ok := users[user]
				// Compare even for an unknown user, so timing says nothing.
				eq := subtle.ConstantTimeCompare([]byte(password), []byte(want)) == 1
				return ok && eq
			}
		}
	})
}

// unauthSession opens a session over the raw wire, without authenticating.
func unauthSession(t *testing.T, addr string) *zkraw.Conn {
	t.Helper()
	c, _, err := zkraw.Dial(addr, zkraw.Session{Timeout: 4 * time.Second})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed fails the test unless the server closes c.
func waitClosed(t *testing.T, c *zkraw.Conn, what string) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the server did not close the connection", what)
	}
}

// TestEnforceAuthRefusesUnauthenticated: every request other than addAuth
// from a connection that has not authenticated gets
// SESSIONCLOSEDREQUIRESASLAUTH (-124) with zxid 0, and the connection is
// closed; nothing is written.
func TestEnforceAuthRefusesUnauthenticated(t *testing.T) {
	srv := enforcing(t, nil)
	addr := srv.Addr().String()
	for _, tc := range []struct {
		name string
		op   int32
		req  jute.Record
	}{
		{"getData", jute.OpGetData, &jute.PathWatchRequest{Path: "/"}},
		{"exists", jute.OpExists, &jute.PathWatchRequest{Path: "/zookeeper"}},
		{"create", jute.OpCreate, &jute.CreateRequest{Path: "/intruder", Data: []byte("x"), ACL: zkraw.OpenACL}},
		{"delete", jute.OpDelete, &jute.PathVersionRequest{Path: "/zookeeper", Version: -1}},
		{"ping", jute.OpPing, nil},
		{"whoAmI", jute.OpWhoAmI, nil},
		{"closeSession", jute.OpCloseSession, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := unauthSession(t, addr)
			r, err := c.Do(tc.op, tc.req, nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if r.Err != jute.ErrSessionClosedRequireAuth || r.Zxid != 0 {
				t.Errorf("%s: err=%s zxid=%d, want err(-124) zxid 0", tc.name, zkraw.ErrName(r.Err), r.Zxid)
			}
			waitClosed(t, c, tc.name)
		})
	}

	// A go-zookeeper client without credentials gets the code too.
	conn, ev := dial(t, addr, 4*time.Second)
	_ = ev
	if _, _, err := conn.Get("/"); err == nil || !strings.Contains(err.Error(), "-124") {
		t.Errorf("go-zookeeper Get without credentials: err = %v, want the server's -124", err)
	}

	// Nothing was created, and an authenticated client is served.
	good, _ := dial(t, addr, 4*time.Second)
	if err := good.AddAuth("digest", []byte("alice:pw")); err != nil {
		t.Fatalf("addAuth: %v", err)
	}
	if ok, _, err := good.Exists("/intruder"); err != nil || ok {
		t.Errorf("/intruder exists=%t err=%v: a refused create was applied", ok, err)
	}
	if _, err := good.Create("/ok", []byte("v"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Errorf("authenticated create: %v", err)
	}
	// Four-letter words stay open, as in ZooKeeper.
	if out, err := zkraw.FourLetter(addr, "ruok"); err != nil || out != "imok" {
		t.Errorf("ruok under enforcement = %q, %v", out, err)
	}
}

// TestEnforceAuthCredentials: with a list of digest users, a wrong secret
// or an unknown user fails addAuth with AUTHFAILED and the connection
// closes; the right secret is served; the super digest passes too.
func TestEnforceAuthCredentials(t *testing.T) {
	srv := enforcing(t, map[string]string{"alice": "s3cret"})
	addr := srv.Addr().String()
	for _, cred := range []string{"alice:wrong", "mallory:s3cret", "alice", "alice:"} {
		c := unauthSession(t, addr)
		r, err := c.AddAuth("digest", []byte(cred))
		if err != nil {
			t.Fatalf("addAuth %q: %v", cred, err)
		}
		if r.Err != jute.ErrAuthFailed {
			t.Errorf("addAuth %q: %s, want AuthFailed", cred, zkraw.ErrName(r.Err))
		}
		waitClosed(t, c, "addAuth "+cred)
	}
	for _, cred := range []string{"alice:s3cret", "super:secret"} {
		c := unauthSession(t, addr)
		if r, err := c.AddAuth("digest", []byte(cred)); err != nil || r.Err != jute.ErrOk {
			t.Fatalf("addAuth %q: %v %s", cred, err, zkraw.ErrName(r.Err))
		}
		var resp jute.GetDataResponse
		if r, err := c.Do(jute.OpGetData, &jute.PathWatchRequest{Path: "/"}, &resp); err != nil || r.Err != jute.ErrOk {
			t.Errorf("getData after addAuth %q: %v %s", cred, err, zkraw.ErrName(r.Err))
		}
	}
}

// TestEnforceAuthUnauthorizedPrincipal: Strata's coord client with
// alice's credentials creates nodes world-readable and writable by alice
// only; bob, authenticated, reads them but gets NoAuth on every write, and
// the state is unchanged; a client without credentials is refused. The
// master's election path (an ephemeral sequential node, leader detection)
// works with credentials against the enforcing server.
func TestEnforceAuthUnauthorizedPrincipal(t *testing.T) {
	srv := enforcing(t, nil)
	addr := srv.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	dialAs := func(userinfo string) *coord.Session {
		u, err := coord.ParseURL("zk://" + userinfo + "@" + addr + "/strata")
		if err != nil {
			t.Fatal(err)
		}
		s, err := coord.Dial(ctx, coord.Config{URL: u, SessionTimeout: 4 * time.Second, Logger: quietLogger()})
		if err != nil {
			t.Fatalf("dial as %s: %v", userinfo, err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	// Bob connects first, so the chroot is his: alice must still be able
	// to create her own nodes beneath it.
	bob := dialAs("bob:pw")
	alice := dialAs("alice:pw")
	st := alice.Store()
	if _, err := st.Put(ctx, "frameworks/f1", map[string]string{"name": "marathon"}); err != nil {
		t.Fatalf("alice put: %v", err)
	}

	// The master's election: a candidate with credentials leads, and
	// another principal detects it.
	cand, err := alice.Elect("master/leader", []byte(`{"id":"m1"}`))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case term := <-cand.Terms():
		if term == nil {
			t.Fatal("no term: candidacy ended")
		}
	case <-ctx.Done():
		t.Fatal("alice never became leader against the enforcing server")
	}

	if l, err := bob.Leader(ctx, "master/leader"); err != nil || !strings.Contains(string(l.Info), "m1") {
		t.Errorf("bob detects leader: %+v, %v", l, err)
	}
	v, _, err := coord.Get[map[string]string](ctx, bob.Store(), "frameworks/f1")
	if err != nil || v["name"] != "marathon" {
		t.Fatalf("bob reads alice's node: %v %v", v, err)
	}

	// Bob's writes, through the raw go-zookeeper connection so the
	// server's code is seen as is.
	zc := bob.Conn()
	path := "/strata/frameworks/f1"
	before, stat, err := zc.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, write := range map[string]func() error{
		"set":    func() error { _, err := zc.Set(path, []byte(`{"name":"evil"}`), -1); return err },
		"delete": func() error { return zc.Delete(path, -1) },
		"create": func() error { _, err := zc.Create(path+"/x", nil, 0, zk.WorldACL(zk.PermAll)); return err },
		"setACL": func() error { _, err := zc.SetACL(path, zk.WorldACL(zk.PermAll), -1); return err },
	} {
		if err := write(); !errors.Is(err, zk.ErrNoAuth) {
			t.Errorf("bob %s on alice's node: err = %v, want ErrNoAuth", name, err)
		}
	}
	after, stat2, err := zc.Get(path)
	if err != nil || string(after) != string(before) || stat2.Version != stat.Version || stat2.Cversion != stat.Cversion || stat2.Aversion != stat.Aversion {
		t.Errorf("state changed: %q v%d → %q v%d (%v)", before, stat.Version, after, stat2.Version, err)
	}
	if err := bob.Store().Delete(ctx, "frameworks/f1", coord.Version(stat.Version)); err == nil {
		t.Error("bob deleted alice's node through the store")
	}

	// No credentials at all: the coord client cannot even set up.
	u, _ := coord.ParseURL("zk://" + addr + "/strata")
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	if s, err := coord.Dial(short, coord.Config{URL: u, SessionTimeout: 4 * time.Second, Logger: quietLogger()}); err == nil {
		s.Close()
		t.Error("a client without credentials was served by an enforcing server")
	}
}

// TestEnforceAuthOffByDefault: a server configured without EnforceAuth
// (what `strata up` embeds on loopback) serves unauthenticated sessions.
func TestEnforceAuthOffByDefault(t *testing.T) {
	srv := startServer(t, t.TempDir())
	c := unauthSession(t, srv.Addr().String())
	var resp jute.GetDataResponse
	if r, err := c.Do(jute.OpGetData, &jute.PathWatchRequest{Path: "/"}, &resp); err != nil || r.Err != jute.ErrOk {
		t.Fatalf("unauthenticated getData without enforcement: %v %s", err, zkraw.ErrName(r.Err))
	}
	if _, err := server.New(server.Config{DataDir: t.TempDir(), EnforceAuth: true, EnforceAuthSchemes: []string{"sasl"}}); err == nil ||
		!strings.Contains(err.Error(), "enforce.auth.schemes") {
		t.Errorf("sasl enforcement: err = %v, want an enforce.auth.schemes error", err)
	}
}
