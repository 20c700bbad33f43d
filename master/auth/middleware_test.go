package auth_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/auth/authtest"
)

// serve runs h on l until the test ends.
func serve(t *testing.T, l net.Listener, h http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: h, ConnContext: auth.ConnContext}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
}

// whoami answers the identity the middleware established.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id := auth.IdentityOf(r.Context())
	_ = json.NewEncoder(w).Encode(map[string]string{"principal": id.Principal, "method": string(id.Method)})
})

func call(t *testing.T, c *http.Client, method, url string, hdr map[string]string) (int, http.Header, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader("{}"))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var body map[string]string
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &body)
	return resp.StatusCode, resp.Header, body
}

func TestAuthenticatorOverTCP(t *testing.T) {
	creds, err := auth.ParseCredentials([]byte("fw fw-secret-1\nops ops-secret-1\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, required := range []bool{true, false} {
		a := &auth.Authenticator{Credentials: creds, Required: required, Open: []string{"/health"}}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		serve(t, l, a.Handler(whoami))
		base := "http://" + l.Addr().String()
		c := http.DefaultClient

		code, hdr, _ := call(t, c, "POST", base+"/api/v1", nil)
		if required {
			if code != 401 || !strings.Contains(strings.Join(hdr.Values("WWW-Authenticate"), ","), "Bearer realm=") {
				t.Fatalf("required, anonymous: %d %v", code, hdr)
			}
		} else if code != 200 {
			t.Fatalf("optional, anonymous: %d", code)
		}
		if code, _, _ := call(t, c, "POST", base+"/api/v1", map[string]string{"Authorization": "Bearer wrong-token"}); code != 401 {
			t.Fatalf("required=%v wrong token: %d, want 401 even when optional", required, code)
		}
		if code, _, _ := call(t, c, "POST", base+"/api/v1", map[string]string{"Authorization": "Digest x"}); code != 401 {
			t.Fatalf("unsupported scheme: %d", code)
		}
		code, _, body := call(t, c, "POST", base+"/api/v1", map[string]string{"Authorization": "Bearer fw-secret-1"})
		if code != 200 || body["principal"] != "fw" || body["method"] != "bearer" {
			t.Fatalf("bearer: %d %v", code, body)
		}
		req, _ := http.NewRequest("POST", base+"/api/v1", nil)
		req.SetBasicAuth("ops", "ops-secret-1")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()
		if resp.StatusCode != 200 || b["principal"] != "ops" || b["method"] != "basic" {
			t.Fatalf("basic: %d %v", resp.StatusCode, b)
		}
		req.SetBasicAuth("fw", "ops-secret-1") // someone else's secret
		if resp, err := c.Do(req); err != nil || resp.StatusCode != 401 {
			t.Fatalf("basic with another principal's secret: %v %v", resp.StatusCode, err)
		}
		// GETs are read-only: open unless ReadOnly.
		if code, _, _ := call(t, c, "GET", base+"/state", nil); code != 200 {
			t.Fatalf("GET /state anonymous: %d", code)
		}
		if code, _, _ := call(t, c, "GET", base+"/health", nil); code != 200 {
			t.Fatalf("GET /health: %d", code)
		}
	}
}

func TestProtectedAndReadOnly(t *testing.T) {
	creds, _ := auth.ParseCredentials([]byte("ops ops-secret-1\n"))
	a := &auth.Authenticator{Credentials: creds, Required: true, ReadOnly: false, Protected: []string{"/files/"}, Open: []string{"/health"}}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	serve(t, l, a.Handler(whoami))
	base := "http://" + l.Addr().String()
	if code, _, _ := call(t, http.DefaultClient, "GET", base+"/files/read?path=x", nil); code != 401 {
		t.Fatalf("GET /files/read anonymous: %d, want 401", code)
	}
	a.ReadOnly = true
	if code, _, _ := call(t, http.DefaultClient, "GET", base+"/state", nil); code != 401 {
		t.Fatalf("GET /state with ReadOnly: %d, want 401", code)
	}
	if code, _, _ := call(t, http.DefaultClient, "GET", base+"/health", nil); code != 200 {
		t.Fatalf("GET /health is always open: %d", code)
	}
}

// TestControlSocketTrustsItsOwner: over a Unix socket, the peer (this
// test process: the same uid) is the operator without a token.
func TestControlSocketTrustsItsOwner(t *testing.T) {
	creds, _ := auth.ParseCredentials([]byte("fw fw-secret-1\n"))
	a := &auth.Authenticator{Credentials: creds, Required: true}
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, l, a.Handler(whoami))
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	defer c.CloseIdleConnections()
	code, _, body := call(t, c, "POST", "http://sock/api/v1", nil)
	if code != 200 || body["principal"] != auth.OperatorPrincipal || body["method"] != "peer" {
		t.Fatalf("control socket: %d %v", code, body)
	}
	// A presented token still wins (and must be right).
	if _, _, body := call(t, c, "POST", "http://sock/api/v1", map[string]string{"Authorization": "Bearer fw-secret-1"}); body["principal"] != "fw" {
		t.Fatalf("token over the socket: %v", body)
	}
}

func TestTLSClientCertificate(t *testing.T) {
	ca := authtest.NewCA(t)
	cert, key := ca.Issue("server", "127.0.0.1")
	cfg, err := auth.ServerTLS(cert, key, ca.File)
	if err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Credentials: &auth.Credentials{}, Required: true}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	serve(t, tls.NewListener(l, cfg), a.Handler(whoami))
	url := "https://" + l.Addr().String() + "/api/v1/agent"

	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig("")}}
	if code, _, _ := call(t, plain, "POST", url, nil); code != 401 {
		t.Fatalf("TLS without a client certificate: %d, want 401", code)
	}
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig("agent-7")}}
	code, _, body := call(t, withCert, "POST", url, nil)
	if code != 200 || body["principal"] != "agent-7" || body["method"] != "tls" {
		t.Fatalf("client certificate: %d %v", code, body)
	}
	// A certificate from another CA is refused in the handshake.
	other := authtest.NewCA(t)
	cc := other.ClientConfig("mallory")
	cc.RootCAs = ca.Pool
	if _, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cc}}).Post(url, "application/json", nil); err == nil {
		t.Fatal("a certificate of an unknown CA was accepted")
	}
	plain.CloseIdleConnections()
	withCert.CloseIdleConnections()
}

func TestSettingsLoad(t *testing.T) {
	dir := t.TempDir()
	creds := authtest.WriteCredentials(t, dir, map[string]string{"fw": "fw-secret-1"})
	for _, tc := range []struct {
		name     string
		s        auth.Settings
		ip       string
		required bool
		err      string
	}{
		{"loopback default", auth.Settings{}, "127.0.0.1", false, ""},
		{"loopback on without credentials", auth.Settings{Authenticate: "true"}, "127.0.0.1", false, "no principal is known"},
		{"outside loopback without credentials", auth.Settings{}, "0.0.0.0", false, "not loopback"},
		{"outside loopback, explicitly open", auth.Settings{NoAuthenticate: true}, "10.1.2.3", false, ""},
		{"outside loopback with credentials", auth.Settings{CredentialsFile: creds}, "10.1.2.3", true, ""},
		{"loopback forced on", auth.Settings{Authenticate: "true", CredentialsFile: creds}, "::1", true, ""},
		{"contradiction", auth.Settings{Authenticate: "true", NoAuthenticate: true}, "::1", false, "contradicts"},
		{"bad mode", auth.Settings{Authenticate: "maybe"}, "::1", false, "want auto, true or false"},
		{"cert without key", auth.Settings{TLSCert: "x"}, "::1", false, "go together"},
		{"bad acls", auth.Settings{ACLs: `{"nope":[]}`}, "::1", false, "--acls"},
		{"bad rate limits", auth.Settings{RateLimits: `{"limits":[{}]}`}, "::1", false, "--rate-limits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := tc.s.Load(tc.ip)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if srv.Required != tc.required {
				t.Fatalf("Required = %v, want %v", srv.Required, tc.required)
			}
		})
	}
	tok := authtest.WriteFile(t, dir, "op.token", "operator-secret-1\n")
	srv, err := auth.Settings{CredentialsFile: creds, OperatorTokenFile: tok}.Load("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := srv.Credentials.Token("operator-secret-1"); !ok || p != auth.OperatorPrincipal {
		t.Fatalf("operator token: %q %v", p, ok)
	}
	for _, f := range srv.Flags() {
		if strings.Contains(f[1], "secret-1") {
			t.Fatalf("flag %s shows a secret: %s", f[0], f[1])
		}
	}
}

func TestWriteError(t *testing.T) {
	acls, _ := auth.ParseACLs([]byte(`{"register_frameworks":[{"principals":{"type":"ANY"},"roles":{"type":"NONE"}}]}`))
	err := acls.Check(auth.RegisterFrameworks, "fw", "prod")
	rec := &recorder{h: http.Header{}}
	auth.WriteError(rec, err)
	if rec.code != 403 || !strings.Contains(rec.body.String(), "register_frameworks[0]") {
		t.Fatalf("403: %d %s", rec.code, rec.body.String())
	}
	rec = &recorder{h: http.Header{}}
	auth.WriteError(rec, errors.Join(auth.ErrUnauthenticated))
	if rec.code != 401 || rec.h.Get("WWW-Authenticate") == "" {
		t.Fatalf("401: %d %v", rec.code, rec.h)
	}
}

type recorder struct {
	h    http.Header
	code int
	body strings.Builder
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(c int)           { r.code = c }
