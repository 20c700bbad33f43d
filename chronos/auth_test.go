package chronos_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/chronos"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/auth/authtest"
	"github.com/strata-dc/strata/master/client"
)

// Principals of the secured-API tests: alice may change the job
// "backup", bob is denied every change by an explicit rule, anyone may
// read.
const (
	aliceToken    = "alice-secret-token-0123456789"
	bobToken      = "bob-secret-token-0123456789"
	chronosSecret = "chronos-secret-token-0123456789"
	operatorToken = "operator-secret-token-0123456789"
	testACLs      = `{
  "permissive": false,
  "update_jobs": [
    {"principals": {"values": ["alice"]}, "job_names": {"values": ["backup"]}},
    {"principals": {"values": ["bob"]}, "job_names": {"type": "NONE"}}
  ],
  "view_jobs": [{"principals": {"type": "ANY"}, "job_names": {"type": "ANY"}}]
}`
)

// startMaster is a coord and a master (no agent: these tests only need
// chronos to lead and, for the master's auth, to subscribe).
func startMaster(t *testing.T, sec auth.Settings) (*coord.Embedded, *master.Master) {
	t.Helper()
	e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0", Logger: quiet()}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	m, err := master.New(master.Config{ZK: e.URL().String(), WorkDir: t.TempDir(), IP: "127.0.0.1",
		AllocationInterval: 50 * time.Millisecond, SessionTimeout: 10 * time.Second, Auth: sec, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, "master", m.Run)
	waitFor(t, "master leadership", m.Leading)
	return e, m
}

// securedAuth: authentication on even on loopback, two principals, the
// ACLs above.
func securedAuth(t *testing.T) auth.Settings {
	dir := t.TempDir()
	return auth.Settings{Authenticate: "true",
		CredentialsFile: authtest.WriteCredentials(t, dir, map[string]string{"alice": aliceToken, "bob": bobToken}),
		ACLs:            authtest.WriteFile(t, dir, "acls.json", testACLs)}
}

// call sends one request (redirects not followed) as the principal of
// token ("" anonymous).
func call(t *testing.T, hc *http.Client, base, token, method, path, body string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func jobBody(name string) string {
	return `{"name": "` + name + `", "command": "true", "schedule": "R/` + isoStart(time.Hour) + `/PT1H", "epsilon": "PT30S", "owner": "a@b.c"}`
}

// TestIntegration_APIAuth: with authentication required and ACLs,
// chronos refuses anonymous callers and wrong tokens (401 with a
// challenge, before a follower's redirect), refuses a principal the ACLs
// deny (403 naming the rule, nothing changed) and serves the allowed one,
// directly and through a follower's 307.
func TestIntegration_APIAuth(t *testing.T) {
	e, _ := startMaster(t, auth.Settings{})
	sec := securedAuth(t)
	start := func() *chronos.Server {
		s, err := chronos.New(chronos.Config{Master: e.URL().String(), HTTPAddress: "127.0.0.1:0", Auth: sec, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		runUntilCleanup(t, "chronos", s.Run)
		return s
	}
	c1, c2 := start(), start()
	waitFor(t, "a chronos to lead", func() bool { return c1.Leading() || c2.Leading() })
	leader, follower := c1, c2
	if c2.Leading() {
		leader, follower = c2, c1
	}
	lb, fb := "http://"+leader.Addr().String(), "http://"+follower.Addr().String()
	waitFor(t, "the follower to know the leader", func() bool {
		code, _, _ := call(t, noRedirect, fb, aliceToken, "GET", "/v1/scheduler/jobs", "")
		return code == http.StatusTemporaryRedirect
	})

	for _, base := range []string{lb, fb} {
		if code, _, _ := call(t, noRedirect, base, "", "GET", "/ping", ""); code != http.StatusOK {
			t.Errorf("%s /ping without a token: %d", base, code)
		}
		code, h, body := call(t, noRedirect, base, "", "POST", "/v1/scheduler/iso8601", jobBody("backup"))
		if code != http.StatusUnauthorized || !strings.Contains(strings.Join(h.Values("WWW-Authenticate"), ","), "Bearer") {
			t.Errorf("%s: POST without a token: %d %v %s, want 401 with a challenge", base, code, h.Values("WWW-Authenticate"), body)
		}
		if code, _, body := call(t, noRedirect, base, "wrong-token", "POST", "/v1/scheduler/iso8601", jobBody("backup")); code != http.StatusUnauthorized {
			t.Errorf("%s: POST with a wrong token: %d %s, want 401", base, code, body)
		}
	}
	// bob is denied by rule update_jobs[1]; alice by no rule for other jobs.
	code, _, body := call(t, noRedirect, lb, bobToken, "POST", "/v1/scheduler/iso8601", jobBody("backup"))
	var e403 struct{ Message string }
	if code != http.StatusForbidden || json.Unmarshal([]byte(body), &e403) != nil || !strings.Contains(e403.Message, "update_jobs[1]") {
		t.Errorf("bob's POST: %d %s, want 403 naming update_jobs[1]", code, body)
	}
	if code, _, body := call(t, noRedirect, lb, aliceToken, "POST", "/v1/scheduler/iso8601", jobBody("other")); code != http.StatusForbidden || !strings.Contains(body, "no ACL rule matches") {
		t.Errorf("alice's POST of another job: %d %s, want 403", code, body)
	}
	if code, _, body := call(t, noRedirect, lb, "", "GET", "/v1/scheduler/jobs", ""); code != http.StatusOK || strings.Contains(body, "backup") {
		t.Fatalf("jobs after refused posts: %d %s", code, body)
	}

	// alice posts through the follower: 307 to the leader, then the same
	// request with her token there.
	code, h, _ := call(t, noRedirect, fb, aliceToken, "POST", "/v1/scheduler/iso8601", jobBody("backup"))
	if code != http.StatusTemporaryRedirect || !strings.HasPrefix(h.Get("Location"), leader.URL()) {
		t.Fatalf("alice's POST to the follower: %d %s, want 307 to %s", code, h.Get("Location"), leader.URL())
	}
	if code, _, body := call(t, noRedirect, "", aliceToken, "POST", h.Get("Location"), jobBody("backup")); code != http.StatusNoContent {
		t.Fatalf("alice's POST at the leader: %d %s", code, body)
	}
	// Strata's client follows the redirect with the token.
	cl, err := client.NewChronos(fb, client.Options{Token: aliceToken, Timeout: patience})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.RunJob(context.Background(), "backup", nil); err != nil {
		t.Errorf("alice's run-now through the follower with the client: %v", err)
	}
	bob, err := client.NewChronos(fb, client.Options{Token: bobToken, Timeout: patience})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if err := bob.DeleteJob(context.Background(), "backup"); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("bob's delete through the follower: %v, want forbidden", err)
	}
	for _, p := range []string{"/v1/scheduler/job/backup", "/v1/scheduler/task/kill/backup"} {
		if code, _, body := call(t, noRedirect, lb, bobToken, "DELETE", p, ""); code != http.StatusForbidden {
			t.Errorf("bob's DELETE %s: %d %s, want 403", p, code, body)
		}
	}
	if code, _, body := call(t, noRedirect, lb, "", "GET", "/v1/scheduler/jobs", ""); code != http.StatusOK || !strings.Contains(body, `"backup"`) {
		t.Errorf("alice's job is not there after bob's refused delete: %d %s", code, body)
	}
	if err := cl.DeleteJob(context.Background(), "backup"); err != nil {
		t.Errorf("alice's delete: %v", err)
	}
}

// TestIntegration_APIAuthTLSReadOnly: with --tls-cert/--tls-key the API is
// https (its URL too), and with --authenticate-http-readonly reads need a
// principal while /ping stays open.
func TestIntegration_APIAuthTLSReadOnly(t *testing.T) {
	e, _ := startMaster(t, auth.Settings{})
	ca := authtest.NewCA(t)
	sec := securedAuth(t)
	sec.AuthenticateReadOnly = true
	sec.TLSCert, sec.TLSKey = ca.Issue("chronos", "127.0.0.1")
	s, err := chronos.New(chronos.Config{Master: e.URL().String(), HTTPAddress: "127.0.0.1:0", Auth: sec, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, "chronos", s.Run)
	waitFor(t, "chronos to lead", s.Leading)
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Errorf("URL() = %s, want https", s.URL())
	}
	hc := &http.Client{Timeout: patience, Transport: &http.Transport{TLSClientConfig: ca.ClientConfig("")}}
	defer hc.CloseIdleConnections()
	base := "https://" + s.Addr().String()
	if code, _, _ := call(t, hc, base, "", "GET", "/ping", ""); code != http.StatusOK {
		t.Errorf("/ping: %d", code)
	}
	if code, _, _ := call(t, hc, base, "", "GET", "/v1/scheduler/jobs", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous read: %d, want 401", code)
	}
	if code, _, body := call(t, hc, base, aliceToken, "POST", "/v1/scheduler/iso8601", jobBody("backup")); code != http.StatusNoContent {
		t.Errorf("alice's POST over TLS: %d %s", code, body)
	}
	if code, _, body := call(t, hc, base, bobToken, "GET", "/v1/scheduler/jobs", ""); code != http.StatusOK || !strings.Contains(body, "backup") {
		t.Errorf("bob's read over TLS: %d %s", code, body)
	}
}

// TestIntegration_AuthenticatedMaster: against a master that requires
// authentication, chronos subscribes with its credential (principal in
// FrameworkInfo, secret as a bearer token); without one it stops with an
// error that says the master refused it.
func TestIntegration_AuthenticatedMaster(t *testing.T) {
	dir := t.TempDir()
	creds := authtest.WriteCredentials(t, dir, map[string]string{"chronos": chronosSecret, "operator": operatorToken})
	e, m := startMaster(t, auth.Settings{Authenticate: "true", CredentialsFile: creds})

	s, err := chronos.New(chronos.Config{Master: e.URL().String(), HTTPAddress: "127.0.0.1:0", Logger: quiet(),
		Credential: &auth.Credential{Principal: "chronos", Secret: chronosSecret}})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, "chronos", s.Run)
	op, err := client.NewOperator(client.Options{Master: "http://" + m.Addr().String(), Token: operatorToken, Timeout: patience})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	waitFor(t, "chronos to subscribe as principal chronos", func() bool {
		fws, err := op.GetFrameworks(context.Background())
		if err != nil {
			return false
		}
		for _, f := range fws.Frameworks {
			if f.FrameworkInfo != nil && f.FrameworkInfo.Name == "chronos" && f.FrameworkInfo.Principal == "chronos" {
				return true
			}
		}
		return false
	})

	// Without a credential: Run ends with the master's refusal.
	anon, err := chronos.New(chronos.Config{Master: e.URL().String(), HTTPAddress: "127.0.0.1:0", Logger: quiet(),
		FrameworkName: "chronos-anonymous", ZK: e.URL().String() + "/chronos-anonymous"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- anon.Run(ctx) }()
	select {
	case err := <-done:
		if err == nil || !errors.Is(err, client.ErrUnauthorized) && !strings.Contains(err.Error(), "401") {
			t.Errorf("chronos without a credential: Run = %v, want the master's 401", err)
		}
		t.Logf("without a credential: %v", err)
	case <-time.After(patience):
		cancel()
		<-done
		t.Fatal("chronos without a credential kept running against a master requiring authentication")
	}
}
