package server_test

import (
	"crypto/tls"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/internal/zkraw"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/coord/server/jute"
	"github.com/strata-dc/strata/master/auth/authtest"
)

// startTLSServer runs a server whose only client port is the secure one,
// with a certificate for 127.0.0.1 from ca and ssl.clientAuth clientAuth
// (trusting ca for client certificates unless clientAuth is "none").
func startTLSServer(t *testing.T, ca *authtest.CA, clientAuth string) *server.Server {
	t.Helper()
	certFile, keyFile := ca.Issue("coord", "127.0.0.1")
	files := server.TLSFiles{CertFile: certFile, KeyFile: keyFile, ClientAuth: clientAuth}
	if clientAuth != "none" {
		files.ClientCAFile = ca.File
	}
	cfg, err := server.ServerTLS(files)
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, t.TempDir(), func(c *server.Config) {
		c.ClientAddress = ""
		c.SecureClientAddress = "127.0.0.1:0"
		c.TLS = cfg
	})
}

// dialTLS is go-zookeeper over TLS: what coord's client does, written out
// so this test checks the server against the plain library.
func dialTLS(t *testing.T, addr string, cfg *tls.Config) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	dialer := func(network, address string, timeout time.Duration) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address, cfg)
	}
	c, ev, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(discard{}), zk.WithDialer(dialer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	waitState(t, ev, zk.StateHasSession)
	return c, ev
}

// rawTLS opens a TLS connection and shakes hands at the ZooKeeper level.
func rawTLS(addr string, cfg *tls.Config) (*zkraw.Conn, error) {
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	c, _, err := zkraw.Handshake(nc, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func TestSecurePortOnlyServesZooKeeperOverTLS(t *testing.T) {
	ca := authtest.NewCA(t)
	srv := startTLSServer(t, ca, "none")
	if srv.Addr() != nil {
		t.Fatalf("plaintext port %v is open; only the secure port was asked for", srv.Addr())
	}
	addr := srv.SecureAddr().String()

	c, _ := dialTLS(t, addr, ca.ClientConfig(""))
	if _, err := c.Create("/tls", []byte("v1"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create over TLS: %v", err)
	}
	data, _, watch, err := c.GetW("/tls")
	if err != nil || string(data) != "v1" {
		t.Fatalf("get over TLS: %q %v", data, err)
	}
	other, _ := dialTLS(t, addr, ca.ClientConfig(""))
	if _, err := other.Set("/tls", []byte("v2"), -1); err != nil {
		t.Fatalf("set from a second TLS session: %v", err)
	}
	select {
	case ev := <-watch:
		if ev.Type != zk.EventNodeDataChanged || ev.Path != "/tls" {
			t.Errorf("watch fired %+v, want NodeDataChanged on /tls", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("data watch did not fire over TLS within 10s")
	}
}

func TestPlaintextClientOnSecurePortIsClosed(t *testing.T) {
	ca := authtest.NewCA(t)
	srv := startTLSServer(t, ca, "none")
	nc, err := net.Dial("tcp", srv.SecureAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, _, err = zkraw.Handshake(nc, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})
	if err == nil {
		t.Fatal("a plaintext connect request on the secure port got a ZooKeeper answer")
	}
	// The server closes the connection (after at most a TLS alert).
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(nc); err != nil {
		t.Fatalf("connection not closed by the server: %v", err)
	}
}

func TestClientAuthNeedRefusesClientWithoutCertificate(t *testing.T) {
	ca := authtest.NewCA(t)
	srv := startTLSServer(t, ca, "need")
	addr := srv.SecureAddr().String()

	if c, err := rawTLS(addr, ca.ClientConfig("")); err == nil {
		c.Close()
		t.Fatal("a client without a certificate got a session with ssl.clientAuth=need")
	}
	stranger := authtest.NewCA(t)
	cfg := stranger.ClientConfig("stranger")
	cfg.RootCAs = ca.Pool // trusts the server, but its certificate is from another CA
	if c, err := rawTLS(addr, cfg); err == nil {
		c.Close()
		t.Fatal("a client certificate from an untrusted CA got a session")
	}

	c, err := rawTLS(addr, ca.ClientConfig("agent-7"))
	if err != nil {
		t.Fatalf("client with a certificate from the trusted CA: %v", err)
	}
	defer c.Close()
	var who jute.WhoAmIResponse
	if r, err := c.Do(jute.OpWhoAmI, nil, &who); err != nil || r.Err != 0 {
		t.Fatalf("whoAmI: %v %s", err, zkraw.ErrName(r.Err))
	}
	found := false
	for _, ci := range who.ClientInfo {
		found = found || ci.AuthScheme == "x509" && ci.User == "CN=agent-7"
	}
	if !found {
		t.Errorf("whoAmI = %+v, want an x509 identity CN=agent-7", who.ClientInfo)
	}
}

func TestClientAuthWantServesBothAndEnforcesX509(t *testing.T) {
	ca := authtest.NewCA(t)
	certFile, keyFile := ca.Issue("coord", "127.0.0.1")
	tcfg, err := server.ServerTLS(server.TLSFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: ca.File, ClientAuth: "want"})
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, t.TempDir(), func(c *server.Config) {
		c.SecureClientAddress = "127.0.0.1:0"
		c.TLS = tcfg
		c.EnforceAuth = true
		c.EnforceAuthSchemes = []string{"x509"}
	})
	if srv.Addr() == nil || srv.SecureAddr() == nil {
		t.Fatalf("want both ports: plaintext %v, secure %v", srv.Addr(), srv.SecureAddr())
	}

	// No certificate: a session, but refused (-124) under enforce.auth.
	anon, err := rawTLS(srv.SecureAddr().String(), ca.ClientConfig(""))
	if err != nil {
		t.Fatalf("ssl.clientAuth=want refused a client without a certificate: %v", err)
	}
	defer anon.Close()
	if r, err := anon.Do(jute.OpExists, &jute.PathWatchRequest{Path: "/"}, nil); err != nil || r.Err != jute.ErrSessionClosedRequireAuth {
		t.Errorf("exists without a certificate: %v %s, want err(-124)", err, zkraw.ErrName(r.Err))
	}
	// With one: authenticated by it, and addAuth x509 is accepted.
	c, err := rawTLS(srv.SecureAddr().String(), ca.ClientConfig("marathon"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, err := c.Do(jute.OpExists, &jute.PathWatchRequest{Path: "/"}, nil); err != nil || r.Err != 0 {
		t.Errorf("exists with a certificate: %v %s", err, zkraw.ErrName(r.Err))
	}
	if r, err := c.AddAuth("x509", nil); err != nil || r.Err != 0 {
		t.Errorf("addAuth x509 with a certificate: %v %s", err, zkraw.ErrName(r.Err))
	}
	// Plaintext has no certificate to offer: addAuth x509 fails there.
	p, _, err := zkraw.Dial(srv.Addr().String(), zkraw.Session{Timeout: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if r, err := p.AddAuth("x509", nil); err != nil || r.Err != jute.ErrAuthFailed {
		t.Errorf("addAuth x509 on plaintext: %v %s, want AuthFailed", err, zkraw.ErrName(r.Err))
	}
}

func TestFourLetterWordsOverTLS(t *testing.T) {
	ca := authtest.NewCA(t)
	srv := startTLSServer(t, ca, "none")
	nc, err := tls.Dial("tcp", srv.SecureAddr().String(), ca.ClientConfig(""))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("srvr")); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, _ := io.ReadAll(nc)
	if !strings.Contains(string(out), "Mode: standalone") {
		t.Errorf("srvr over TLS = %q, want the server's status", out)
	}
}

func TestSecurePortConfigErrors(t *testing.T) {
	ca := authtest.NewCA(t)
	certFile, keyFile := ca.Issue("coord", "127.0.0.1")
	if _, err := server.ServerTLS(server.TLSFiles{CertFile: certFile, KeyFile: keyFile, ClientAuth: "maybe"}); err == nil ||
		!strings.Contains(err.Error(), "ssl.clientAuth") {
		t.Errorf("clientAuth=maybe: %v, want an error naming ssl.clientAuth", err)
	}
	if _, err := server.ServerTLS(server.TLSFiles{CertFile: certFile, KeyFile: certFile}); err == nil {
		t.Error("a certificate file without a key was accepted as the key")
	}
	if cfg, err := server.ServerTLS(server.TLSFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: ca.File}); err != nil || cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("with a trust store and no clientAuth: %v, %v; want need (ZooKeeper's default)", cfg.ClientAuth, err)
	}
	for name, cfg := range map[string]server.Config{
		"secure address without TLS": {DataDir: t.TempDir(), SecureClientAddress: "127.0.0.1:0"},
		"TLS without secure address": {DataDir: t.TempDir(), TLS: &tls.Config{}},
		"x509 without client certs":  {DataDir: t.TempDir(), EnforceAuth: true, EnforceAuthSchemes: []string{"x509"}},
	} {
		if _, err := server.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPEMKeyStoreHoldsKeyAndCertificate loads ZooKeeper's PEM key store,
// one file with the private key and the certificate chain.
func TestPEMKeyStoreHoldsKeyAndCertificate(t *testing.T) {
	ca := authtest.NewCA(t)
	certFile, keyFile := ca.Issue("coord", "127.0.0.1")
	store := authtest.WriteFile(t, t.TempDir(), "keystore.pem", readFile(t, keyFile)+readFile(t, certFile))
	cfg, err := server.ServerTLS(server.TLSFiles{CertFile: store, KeyFile: store, ClientAuth: "none"})
	if err != nil {
		t.Fatalf("PEM key store: %v", err)
	}
	srv := startServer(t, t.TempDir(), func(c *server.Config) {
		c.ClientAddress = ""
		c.SecureClientAddress = "127.0.0.1:0"
		c.TLS = cfg
	})
	c, err := rawTLS(srv.SecureAddr().String(), ca.ClientConfig(""))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestX509ACLs: with client certificates verified, an ACL may name
// x509:<subject DN> (or "auth", which expands to it), and only a client
// with that certificate may write; without a secure port verifying
// certificates, x509 ACLs are invalid, as on a ZooKeeper without the x509
// provider.
func TestX509ACLs(t *testing.T) {
	ca := authtest.NewCA(t)
	srv := startTLSServer(t, ca, "need")
	addr := srv.SecureAddr().String()
	owner, err := rawTLS(addr, ca.ClientConfig("agent-7"))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if r, err := owner.Do(jute.OpCreate, reqCreateACL("/mine", []jute.ACL{aclEntry(jute.PermAll, "auth", ""), aclEntry(jute.PermRead, "world", "anyone")}), nil); err != nil || r.Err != 0 {
		t.Fatalf("create with auth ACL: %v %s", err, zkraw.ErrName(r.Err))
	}
	var acl jute.GetACLResponse
	if r, err := owner.Do(jute.OpGetACL, reqPath("/mine"), &acl); err != nil || r.Err != 0 {
		t.Fatalf("getACL: %v %s", err, zkraw.ErrName(r.Err))
	}
	if len(acl.ACL) != 2 || acl.ACL[0].ID != (jute.Id{Scheme: "x509", ID: "CN=agent-7"}) {
		t.Errorf("auth expanded to %+v, want x509:CN=agent-7 first", acl.ACL)
	}
	if r, err := owner.Do(jute.OpSetData, reqSetData("/mine", "v2", -1), nil); err != nil || r.Err != 0 {
		t.Errorf("owner setData: %v %s", err, zkraw.ErrName(r.Err))
	}
	other, err := rawTLS(addr, ca.ClientConfig("agent-8"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if r, err := other.Do(jute.OpSetData, reqSetData("/mine", "stolen", -1), nil); err != nil || r.Err != jute.ErrNoAuth {
		t.Errorf("another certificate's setData: %v %s, want NoAuth", err, zkraw.ErrName(r.Err))
	}

	plain := startServer(t, t.TempDir())
	c, _, err := zkraw.Dial(plain.Addr().String(), zkraw.Session{Timeout: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, err := c.Do(jute.OpCreate, reqCreateACL("/x", []jute.ACL{aclEntry(jute.PermAll, "x509", "CN=agent-7")}), nil); err != nil || r.Err != jute.ErrInvalidACL {
		t.Errorf("x509 ACL without client certificates: %v %s, want InvalidACL", err, zkraw.ErrName(r.Err))
	}
}
