package marathon_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/strata-dc/strata/marathon"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/auth/authtest"
)

// Principals of the secured-API tests: alice may change the apps of group
// /team, bob is denied every change by an explicit rule, and anyone may
// read.
const (
	aliceToken = "alice-secret-token-0123456789"
	bobToken   = "bob-secret-token-0123456789"
	testACLs   = `{
  "permissive": false,
  "update_apps": [
    {"principals": {"values": ["alice"]}, "app_ids": {"values": ["/team"]}},
    {"principals": {"values": ["bob"]}, "app_ids": {"type": "NONE"}}
  ],
  "view_apps": [{"principals": {"type": "ANY"}, "app_ids": {"type": "ANY"}}]
}`
)

// securedAuth is the API security of the tests: authentication on even
// on loopback, two principals, the ACLs above.
func securedAuth(t *testing.T) auth.Settings {
	dir := t.TempDir()
	return auth.Settings{Authenticate: "true",
		CredentialsFile: authtest.WriteCredentials(t, dir, map[string]string{"alice": aliceToken, "bob": bobToken}),
		ACLs:            authtest.WriteFile(t, dir, "acls.json", testACLs)}
}

// caller sends requests to one marathon as one principal ("" token:
// anonymous).
type caller struct {
	t      *testing.T
	base   string
	token  string
	client *http.Client
}

func (c caller) do(method, path, body string) (int, http.Header, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	cl := c.client
	if cl == nil {
		cl = http.DefaultClient
	}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (c caller) must(want int, method, path, body string) string {
	c.t.Helper()
	code, _, b := c.do(method, path, body)
	if code != want {
		c.t.Fatalf("%s %s as %q: %d %s, want %d", method, path, c.token, code, b, want)
	}
	return b
}

// leaderAndFollower waits until one of two marathons leads and the other
// knows it, and returns them in that order.
func leaderAndFollower(t *testing.T, m1, m2 *marathon.Server, probe func(*marathon.Server) bool) (*marathon.Server, *marathon.Server) {
	t.Helper()
	waitFor(t, "a marathon to lead", func() bool { return m1.Leading() || m2.Leading() })
	leader, follower := m1, m2
	if m2.Leading() {
		leader, follower = m2, m1
	}
	waitFor(t, "the follower to proxy to the leader", func() bool { return probe(follower) })
	return leader, follower
}

// messageOf is Marathon's error body's message.
func messageOf(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Message == "" {
		t.Fatalf("error body %q is not Marathon's {\"message\": ...}", body)
	}
	return e.Message
}

// TestIntegration_APIAuth: with authentication required and ACLs, the
// API refuses anonymous callers and wrong tokens (401 with a challenge),
// refuses a principal the ACLs deny (403 naming the rule, nothing
// changed), and serves the allowed principal, on the leader and through
// a follower's proxy alike. /ping stays open.
func TestIntegration_APIAuth(t *testing.T) {
	c := startCluster(t)
	sec := securedAuth(t)
	m1, _ := c.startMarathon("marathon-1", func(cfg *marathon.Config) { cfg.Auth = sec })
	m2, _ := c.startMarathon("marathon-2", func(cfg *marathon.Config) { cfg.Auth = sec })
	as := func(s *marathon.Server, token string) caller {
		return caller{t: t, base: "http://" + s.Addr().String(), token: token}
	}
	leader, follower := leaderAndFollower(t, m1, m2, func(s *marathon.Server) bool {
		code, _, _ := as(s, aliceToken).do(http.MethodGet, "/v2/apps", "")
		return code == http.StatusOK
	})
	const app = `{"id": "/team/web", "cmd": "sleep 100", "instances": 0, "cpus": 0.1, "mem": 16}`

	for _, s := range []*marathon.Server{leader, follower} {
		name := "leader"
		if s == follower {
			name = "follower"
		}
		if code, _, body := as(s, "").do(http.MethodGet, "/ping", ""); code != http.StatusOK || body != "pong\n" {
			t.Errorf("%s: /ping without a token: %d %q", name, code, body)
		}
		code, h, body := as(s, "").do(http.MethodPost, "/v2/apps", app)
		if code != http.StatusUnauthorized || !strings.Contains(strings.Join(h.Values("WWW-Authenticate"), ","), "Bearer") {
			t.Errorf("%s: POST /v2/apps without a token: %d %v %s, want 401 with a Bearer challenge", name, code, h.Values("WWW-Authenticate"), body)
		}
		if code, _, body := as(s, "not-a-known-token").do(http.MethodPost, "/v2/apps", app); code != http.StatusUnauthorized {
			t.Errorf("%s: POST /v2/apps with a wrong token: %d %s, want 401", name, code, body)
		}
		if code, _, body := as(s, "not-a-known-token").do(http.MethodGet, "/v2/apps", ""); code != http.StatusUnauthorized {
			t.Errorf("%s: GET /v2/apps with a wrong token: %d %s, want 401 (a wrong token is never anonymous)", name, code, body)
		}
		// bob is denied by rule update_apps[1], and nothing is created.
		body = as(s, bobToken).must(http.StatusForbidden, http.MethodPost, "/v2/apps", app)
		if msg := messageOf(t, body); !strings.Contains(msg, "update_apps[1]") || !strings.Contains(msg, `"bob"`) {
			t.Errorf("%s: bob's 403 does not name the rule: %s", name, msg)
		}
		as(s, aliceToken).must(http.StatusNotFound, http.MethodGet, "/v2/apps/team/web", "")
		// alice may not touch apps outside /team: no rule matches.
		body = as(s, aliceToken).must(http.StatusForbidden, http.MethodPost, "/v2/apps",
			`{"id": "/teamwork/web", "cmd": "sleep 100", "instances": 0, "cpus": 0.1, "mem": 16}`)
		if msg := messageOf(t, body); !strings.Contains(msg, "no ACL rule matches") {
			t.Errorf("%s: alice outside her group: %s", name, msg)
		}
	}

	// alice creates the app through the follower, changes it on the
	// leader, and bob can neither change, restart nor delete it.
	as(follower, aliceToken).must(http.StatusCreated, http.MethodPost, "/v2/apps", app)
	anyone := as(leader, "")
	waitFor(t, "alice's app to deploy", func() bool {
		code, _, body := anyone.do(http.MethodGet, "/v2/apps/team/web", "")
		return code == http.StatusOK && strings.Contains(body, `"deployments":[]`)
	})
	as(leader, aliceToken).must(http.StatusOK, http.MethodPut, "/v2/apps/team/web", `{"cmd": "sleep 101"}`)
	for _, s := range []*marathon.Server{leader, follower} {
		bob := as(s, bobToken)
		bob.must(http.StatusForbidden, http.MethodPut, "/v2/apps/team/web", `{"cmd": "sleep 666"}`)
		bob.must(http.StatusForbidden, http.MethodPost, "/v2/apps/team/web/restart", "")
		bob.must(http.StatusForbidden, http.MethodDelete, "/v2/apps/team/web", "")
		bob.must(http.StatusForbidden, http.MethodPut, "/v2/groups/team", `{"scaleBy": 2}`)
		bob.must(http.StatusForbidden, http.MethodDelete, "/v2/groups/team", "")
		bob.must(http.StatusForbidden, http.MethodDelete, "/v2/leader", "")
		// A group body naming apps elsewhere is judged by every app in it.
		as(s, aliceToken).must(http.StatusForbidden, http.MethodPost, "/v2/groups",
			`{"id": "/team", "apps": [{"id": "/elsewhere/x", "cmd": "sleep 1", "instances": 0}]}`)
	}
	waitFor(t, "alice's change to deploy", func() bool {
		code, _, body := anyone.do(http.MethodGet, "/v2/apps/team/web", "")
		return code == http.StatusOK && strings.Contains(body, `"deployments":[]`)
	})
	if body := anyone.must(http.StatusOK, http.MethodGet, "/v2/apps/team/web", ""); !strings.Contains(body, "sleep 101") {
		t.Errorf("the app changed under bob's refused calls, or alice's change was lost: %s", body)
	}
	as(follower, aliceToken).must(http.StatusOK, http.MethodDelete, "/v2/apps/team/web", "")

	// A deployment that cannot finish (no agents): only who may change
	// its apps may cancel it.
	var dep struct {
		DeploymentID string `json:"deploymentId"`
	}
	body := as(leader, aliceToken).must(http.StatusCreated, http.MethodPost, "/v2/apps",
		`{"id": "/team/stuck", "cmd": "sleep 100", "instances": 1, "cpus": 0.1, "mem": 16}`)
	if err := json.Unmarshal([]byte(body), &dep); err != nil {
		t.Fatalf("POST /v2/apps answer %s: %v", body, err)
	}
	var deps []struct {
		ID string `json:"id"`
	}
	waitFor(t, "the deployment to be listed", func() bool {
		deps = nil
		_ = json.Unmarshal([]byte(anyone.must(http.StatusOK, http.MethodGet, "/v2/deployments", "")), &deps)
		return len(deps) > 0
	})
	if deps[0].ID != "" {
		dep.DeploymentID = deps[0].ID
	}
	body = as(follower, bobToken).must(http.StatusForbidden, http.MethodDelete, "/v2/deployments/"+dep.DeploymentID+"?force=true", "")
	if msg := messageOf(t, body); !strings.Contains(msg, "update_apps[1]") {
		t.Errorf("bob cancelling alice's deployment: %s", msg)
	}
	if code, _, body := as(leader, aliceToken).do(http.MethodDelete, "/v2/deployments/"+dep.DeploymentID+"?force=true", ""); code != http.StatusAccepted {
		t.Errorf("alice cancelling her deployment: %d %s", code, body)
	}
}

// TestIntegration_APIAuthReadOnly: with --authenticate-http-readonly
// reads and the event stream need a principal too (through a follower as
// well), while /ping stays open.
func TestIntegration_APIAuthReadOnly(t *testing.T) {
	c := startCluster(t)
	sec := securedAuth(t)
	sec.AuthenticateReadOnly = true
	m1, _ := c.startMarathon("marathon-1", func(cfg *marathon.Config) { cfg.Auth = sec })
	m2, _ := c.startMarathon("marathon-2", func(cfg *marathon.Config) { cfg.Auth = sec })
	as := func(s *marathon.Server, token string) caller {
		return caller{t: t, base: "http://" + s.Addr().String(), token: token}
	}
	_, follower := leaderAndFollower(t, m1, m2, func(s *marathon.Server) bool {
		code, _, _ := as(s, aliceToken).do(http.MethodGet, "/v2/apps", "")
		return code == http.StatusOK
	})
	as(follower, "").must(http.StatusOK, http.MethodGet, "/ping", "")
	for _, p := range []string{"/v2/apps", "/v2/info", "/v2/events", "/v2/groups", "/metrics"} {
		as(follower, "").must(http.StatusUnauthorized, http.MethodGet, p, "")
	}
	// The event stream through the follower's proxy, as alice.
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+follower.Addr().String()+"/v2/events", nil)
	req.Header.Set("Authorization", "Bearer "+aliceToken)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("GET /v2/events as alice through the follower: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestIntegration_APITLS: with --tls-cert/--tls-key the API is https
// only, advertises an https URL, and a follower proxies to the https
// leader (trusting the CA given as --master-ca) with the caller's token.
func TestIntegration_APITLS(t *testing.T) {
	c := startCluster(t)
	ca := authtest.NewCA(t)
	start := func(name string) *marathon.Server {
		cert, key := ca.Issue(name, "127.0.0.1")
		sec := securedAuth(t)
		sec.TLSCert, sec.TLSKey = cert, key
		m, _ := c.startMarathon(name, func(cfg *marathon.Config) {
			cfg.Auth = sec
			cfg.MasterTLS = ca.ClientConfig("")
		})
		return m
	}
	m1, m2 := start("marathon-1"), start("marathon-2")
	httpsClient := &http.Client{Timeout: patience, Transport: &http.Transport{TLSClientConfig: ca.ClientConfig("")}}
	t.Cleanup(httpsClient.CloseIdleConnections)
	as := func(s *marathon.Server, token string) caller {
		return caller{t: t, base: "https://" + s.Addr().String(), token: token, client: httpsClient}
	}
	leader, follower := leaderAndFollower(t, m1, m2, func(s *marathon.Server) bool {
		code, _, _ := as(s, aliceToken).do(http.MethodGet, "/v2/apps", "")
		return code == http.StatusOK
	})
	for _, s := range []*marathon.Server{leader, follower} {
		if !strings.HasPrefix(s.URL(), "https://") {
			t.Errorf("URL() = %s, want https", s.URL())
		}
	}
	// Plain HTTP is not served.
	resp, err := http.Post("http://"+leader.Addr().String()+"/v2/apps", "application/json", bytes.NewReader([]byte(`{}`)))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS listener: %d", resp.StatusCode)
		}
	}
	// A client that does not trust the CA is refused.
	untrusting := &http.Client{Timeout: patience, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	if resp, err := untrusting.Get("https://" + leader.Addr().String() + "/ping"); err == nil {
		resp.Body.Close()
		t.Error("a client without the CA was served")
	}
	untrusting.CloseIdleConnections()

	as(follower, "").must(http.StatusUnauthorized, http.MethodPost, "/v2/apps", `{"id": "/team/tls", "cmd": "sleep 1", "instances": 0}`)
	as(follower, bobToken).must(http.StatusForbidden, http.MethodPost, "/v2/apps", `{"id": "/team/tls", "cmd": "sleep 1", "instances": 0}`)
	as(follower, aliceToken).must(http.StatusCreated, http.MethodPost, "/v2/apps", `{"id": "/team/tls", "cmd": "sleep 1", "instances": 0, "cpus": 0.1, "mem": 16}`)
	as(leader, aliceToken).must(http.StatusOK, http.MethodGet, "/v2/apps/team/tls", "")
}

// TestAuthConfigErrors: a marathon that would require authentication but
// knows no principal does not start, and the error says what to pass.
func TestAuthConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		addr string
		sec  auth.Settings
		want string
	}{
		{"127.0.0.1:0", auth.Settings{Authenticate: "true"}, "no principal is known"},
		{"0.0.0.0:0", auth.Settings{}, "not loopback"},
		{"127.0.0.1:0", auth.Settings{ACLs: `{"update_app": []}`}, "update_app: unknown action"},
		{"127.0.0.1:0", auth.Settings{TLSCert: "/nonexistent.crt"}, "--tls-cert and --tls-key go together"},
	} {
		_, err := marathon.New(marathon.Config{Master: "zk://127.0.0.1:1/strata", HTTPAddress: tc.addr, Auth: tc.sec})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s, %+v): %v, want an error with %q", tc.addr, tc.sec, err, tc.want)
		}
	}
	// On loopback, auto needs no principal (`strata up`).
	s, err := marathon.New(marathon.Config{Master: "zk://127.0.0.1:1/strata", HTTPAddress: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.Run(ctx) // returns at once, closing the listener New opened
}
