package master_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/auth/authtest"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// Secrets of the principals in the security tests.
var testSecrets = map[string]string{
	"fw":       "fw-secret-0001",
	"limited":  "limited-secret-01",
	"agent":    "agent-secret-001",
	"operator": "operator-secret-1",
}

const testACLs = `{
  "register_frameworks": [
    {"principals": {"values": ["fw"]}, "roles": {"values": ["web"]}},
    {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}
  ],
  "update_weights": [
    {"principals": {"values": ["operator"]}, "roles": {"type": "ANY"}},
    {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}
  ]
}`

// startSecureMaster runs a master on loopback with --authenticate, the
// test credentials, ACLs and a rate limit, plus whatever opt changes.
func startSecureMaster(t *testing.T, zk string, opt func(*master.Config)) *runningMaster {
	t.Helper()
	dir := t.TempDir()
	cfg := master.Config{ZK: zk, WorkDir: dir, IP: "127.0.0.1",
		AllocationInterval: 100 * time.Millisecond, SessionTimeout: 2 * time.Second, Logger: quiet,
		Auth: auth.Settings{Authenticate: "true",
			CredentialsFile: authtest.WriteCredentials(t, t.TempDir(), testSecrets),
			ACLs:            testACLs,
			RateLimits:      `{"limits":[{"principal":"limited","qps":0.001,"capacity":2}]}`},
		AuthenticateAgents: true}
	if opt != nil {
		opt(&cfg)
	}
	m, err := master.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	scheme := "http://"
	if cfg.Auth.TLSCert != "" {
		scheme = "https://"
	}
	rm := &runningMaster{m: m, url: scheme + m.Addr().String(), dir: dir}
	stopped := false
	rm.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("master.Run: %v", err)
			}
		}
	}
	t.Cleanup(rm.stop)
	return rm
}

type answer struct {
	code int
	hdr  http.Header
	body string
}

// post sends body to url with an optional bearer token and returns the
// status and, for a 200 stream, only its first record.
func post(t *testing.T, c *http.Client, url, token, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b []byte
	if resp.StatusCode == http.StatusOK && resp.Header.Get(master.StreamIDHeader) != "" {
		line, _ := bufio.NewReader(resp.Body).ReadString('}')
		b = []byte(line)
	} else {
		b, _ = io.ReadAll(resp.Body)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// zkDigestSecret is the master's coord digest password in
// TestIntegration_Authentication.
const zkDigestSecret = "zk-digest-secret-4f1c"

func subscribeCall(principal string, roles ...string) string {
	fi := mesos.FrameworkInfo{User: "nobody", Name: "secure-test", Roles: roles, Principal: principal,
		Capabilities: []mesos.FrameworkCapability{{Type: mesos.FrameworkCapabilityMultiRole}}}
	b, _ := json.Marshal(mesos.Call{Type: mesos.CallSubscribe, Subscribe: &mesos.Subscribe{FrameworkInfo: &fi}})
	return string(b)
}

// TestIntegration_Authentication is issue 9's security list against a
// real master on loopback run with --authenticate.
func TestIntegration_Authentication(t *testing.T) {
	e := startCoord(t)
	zk := e.URL()
	zk.User, zk.Password = "master", zkDigestSecret // must not show in GET_FLAGS or logs
	rm := startSecureMaster(t, zk.String(), nil)
	waitFor(t, "leadership", rm.m.Leading)
	c := &http.Client{Timeout: patience}
	sched := rm.url + "/api/v1/scheduler"

	t.Run("unauthenticated is 401 with WWW-Authenticate", func(t *testing.T) {
		a := post(t, c, sched, "", subscribeCall("", "web"))
		if a.code != 401 || !strings.Contains(a.hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("%d %v %s", a.code, a.hdr, a.body)
		}
		if a := post(t, c, rm.url+"/api/v1", "", `{"type":"GET_STATE"}`); a.code != 401 {
			t.Fatalf("operator API anonymous: %d", a.code)
		}
	})
	t.Run("wrong token is 401", func(t *testing.T) {
		if a := post(t, c, sched, "fw-secret-0002", subscribeCall("", "web")); a.code != 401 {
			t.Fatalf("%d %s", a.code, a.body)
		}
	})
	t.Run("unauthorized role is 403 naming the rule", func(t *testing.T) {
		a := post(t, c, sched, testSecrets["fw"], subscribeCall("", "prod"))
		if a.code != 403 || !strings.Contains(a.body, "register_frameworks[1]") || !strings.Contains(a.body, `role \"prod\"`) {
			t.Fatalf("%d %s", a.code, a.body)
		}
	})
	t.Run("claiming another principal is 403", func(t *testing.T) {
		a := post(t, c, sched, testSecrets["fw"], subscribeCall("limited", "web"))
		if a.code != 403 || !strings.Contains(a.body, "does not match") {
			t.Fatalf("%d %s", a.code, a.body)
		}
	})
	t.Run("authorized subscribes", func(t *testing.T) {
		a := post(t, c, sched, testSecrets["fw"], subscribeCall("", "web"))
		if a.code != 200 || !strings.Contains(a.body, "SUBSCRIBED") {
			t.Fatalf("%d %s", a.code, a.body)
		}
	})
	t.Run("operator calls are authorized", func(t *testing.T) {
		weights := `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":2}]}}`
		if a := post(t, c, rm.url+"/api/v1", testSecrets["fw"], weights); a.code != 403 || !strings.Contains(a.body, "update_weights[1]") {
			t.Fatalf("fw updating weights: %d %s", a.code, a.body)
		}
		if a := post(t, c, rm.url+"/api/v1", testSecrets["operator"], weights); a.code != 200 && a.code != 202 {
			t.Fatalf("operator updating weights: %d %s", a.code, a.body)
		}
	})
	t.Run("control socket trusts its owner", func(t *testing.T) {
		sock := filepath.Join(rm.dir, "master.sock")
		uc := &http.Client{Timeout: patience, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		defer uc.CloseIdleConnections()
		weights := `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"web","weight":3}]}}`
		if a := post(t, uc, "http://master/api/v1", "", weights); a.code != 200 && a.code != 202 {
			t.Fatalf("UPDATE_WEIGHTS over the control socket: %d %s", a.code, a.body)
		}
		a := post(t, uc, "http://master/api/v1", "", `{"type":"GET_FLAGS"}`)
		if a.code != 200 || !strings.Contains(a.body, `"credentials"`) || !strings.Contains(a.body, `"authenticate_agents"`) {
			t.Fatalf("GET_FLAGS: %d %s", a.code, a.body)
		}
		for _, s := range append(slices.Collect(maps.Values(testSecrets)), zkDigestSecret) {
			if strings.Contains(a.body, s) {
				t.Fatalf("GET_FLAGS shows a secret: %s", a.body)
			}
		}
	})
	t.Run("read-only endpoints stay open by default", func(t *testing.T) {
		for _, p := range []string{"/health", "/state", "/metrics/snapshot"} {
			resp, err := c.Get(rm.url + p)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", p, resp.StatusCode)
			}
			for _, s := range testSecrets {
				if strings.Contains(string(body), s) {
					t.Fatalf("GET %s shows a secret", p)
				}
			}
		}
	})
	t.Run("agents must authenticate", func(t *testing.T) {
		sub := `{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h"}}}`
		if a := post(t, c, rm.url+"/api/v1/agent", "", sub); a.code != 401 {
			t.Fatalf("agent without credential: %d %s", a.code, a.body)
		}
	})
	t.Run("rate limit is 429", func(t *testing.T) {
		// The bucket holds 2 calls and refills once in 1000 s: the
		// third call is over the limit whatever the calls are.
		for i := range 2 {
			if a := post(t, c, sched, testSecrets["limited"], `{"type":"REVIVE"}`); a.code == 429 {
				t.Fatalf("call %d limited: %s", i, a.body)
			}
		}
		a := post(t, c, sched, testSecrets["limited"], `{"type":"REVIVE"}`)
		if a.code != 429 || a.hdr.Get("Retry-After") == "" || !strings.Contains(a.body, `\"limited\"`) {
			t.Fatalf("%d %v %s", a.code, a.hdr, a.body)
		}
		// Other principals are not affected.
		if a := post(t, c, sched, testSecrets["fw"], `{"type":"REVIVE"}`); a.code == 429 {
			t.Fatalf("fw limited by limited's budget")
		}
	})
}

// TestIntegration_TLSAndRedirect: two masters serving TLS with a
// certificate made by the test; a client given the standby's https
// address, the CA and a token is redirected to the leader and keeps its
// token across the hop.
func TestIntegration_TLSAndRedirect(t *testing.T) {
	e := startCoord(t)
	ca := authtest.NewCA(t)
	cert, key := ca.Issue("master", "127.0.0.1")
	withTLS := func(c *master.Config) { c.Auth.TLSCert, c.Auth.TLSKey = cert, key }
	m1 := startSecureMaster(t, e.URL().String(), withTLS)
	waitFor(t, "m1 leading", m1.m.Leading)
	m2 := startSecureMaster(t, e.URL().String(), withTLS)
	if !strings.HasPrefix(m2.url, "https://") {
		t.Fatalf("url %s", m2.url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()

	// Plain http to a TLS listener fails; https without the CA too.
	if resp, err := http.Get("http://" + m2.m.Addr().String() + "/health"); err == nil && resp.StatusCode == 200 {
		resp.Body.Close()
		t.Fatal("plain http answered by a TLS listener")
	}
	if _, err := (&http.Client{}).Get(m2.url + "/health"); err == nil {
		t.Fatal("a certificate from the test CA was trusted without it")
	}

	op, err := client.NewOperator(client.Options{Master: m2.url, Token: testSecrets["operator"],
		TLSConfig: &tls.Config{RootCAs: ca.Pool}, Timeout: patience})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	waitFor(t, "the standby to know the leader", func() bool {
		_, err := op.GetWeights(ctx)
		return err == nil
	})
	if err := op.UpdateWeights(ctx, mesos.WeightInfo{Role: "web", Weight: 2}); err != nil {
		t.Fatalf("UPDATE_WEIGHTS through the standby: %v", err)
	}
	if !strings.Contains(op.Master(), m1.m.Addr().String()) {
		t.Fatalf("client ended at %s, want the leader %s", op.Master(), m1.m.Addr())
	}

	bad, err := client.NewOperator(client.Options{Master: m2.url, Token: "not-a-token-at-all",
		TLSConfig: &tls.Config{RootCAs: ca.Pool}, Timeout: patience})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.GetState(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}
}

// bearerRT adds a bearer token to every request.
type bearerRT struct{ token string }

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestIntegration_AuthorizeLaunchAndOperator: on loopback (authentication
// optional, so the simulated agent needs none) the ACLs still bind the
// principals that do authenticate: run_tasks on ACCEPT, drain_agents and
// teardown_frameworks on the operator API.
func TestIntegration_AuthorizeLaunchAndOperator(t *testing.T) {
	e := startCoord(t)
	rm := startSecureMaster(t, e.URL().String(), func(c *master.Config) {
		c.Auth.Authenticate = ""
		c.AuthenticateAgents = false
		c.Auth.RateLimits = ""
		c.Auth.ACLs = `{
		  "run_tasks": [{"principals": {"values": ["fw"]}, "users": {"values": ["nobody"]}},
		                {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}],
		  "drain_agents": [{"principals": {"values": ["operator"]}, "agents": {"type": "ANY"}},
		                   {"principals": {"type": "ANY"}, "agents": {"type": "NONE"}}],
		  "teardown_frameworks": [{"principals": {"values": ["operator"]}, "framework_principals": {"type": "ANY"}},
		                          {"principals": {"type": "ANY"}, "framework_principals": {"type": "NONE"}}]}`
	})
	waitFor(t, "leadership", rm.m.Leading)
	startAgent(t, []string{rm.url}, "secure-agent", 0)

	s := newTestScheduler(t, []string{rm.url}, mesos.FrameworkInfo{User: "nobody", Name: "acl-launch"})
	s.client = &http.Client{Transport: bearerRT{testSecrets["fw"]}}
	sub := s.subscribe(patience)
	ev := s.next(patience, func(ev *mesos.Event) bool { return ev.Type == mesos.EventOffers })
	if ev == nil {
		t.Fatal("no offers")
	}
	o := ev.Offers.Offers[0]
	accept := func(user string) (int, string) {
		ti := mesos.TaskInfo{Name: "t", TaskID: "t-" + mesos.TaskID(user), AgentID: o.AgentID,
			Resources: mesos.MustParseResources("cpus:0.1;mem:32"), Command: &mesos.CommandInfo{Value: "sleep 1", User: user}}
		return s.call(&mesos.Call{Type: mesos.CallAccept, Accept: &mesos.Accept{OfferIDs: []mesos.OfferID{o.ID},
			Operations: []mesos.OfferOperation{{Type: mesos.OperationLaunch, Launch: &mesos.Launch{TaskInfos: []mesos.TaskInfo{ti}}}}}})
	}
	if code, body := accept("root"); code != 403 || !strings.Contains(body, "run_tasks[1]") || !strings.Contains(body, `user \"root\"`) {
		t.Fatalf("launch as root: %d %s", code, body)
	}
	if code, body := accept(""); code != 202 { // the framework's user, nobody
		t.Fatalf("launch as nobody: %d %s", code, body)
	}

	drain := `{"type":"DRAIN_AGENT","drain_agent":{"agent_id":{"value":"` + string(o.AgentID) + `"}}}`
	if a := post(t, http.DefaultClient, rm.url+"/api/v1", testSecrets["fw"], drain); a.code != 403 || !strings.Contains(a.body, "drain_agents[1]") {
		t.Fatalf("fw draining: %d %s", a.code, a.body)
	}
	if a := post(t, http.DefaultClient, rm.url+"/api/v1", "", drain); a.code != 403 {
		t.Fatalf("anonymous draining: %d %s", a.code, a.body)
	}
	teardown := `{"type":"TEARDOWN","teardown":{"framework_id":{"value":"` + string(sub.FrameworkID) + `"}}}`
	if a := post(t, http.DefaultClient, rm.url+"/api/v1", testSecrets["fw"], teardown); a.code != 403 || !strings.Contains(a.body, `framework_principal \"fw\"`) {
		t.Fatalf("fw tearing down: %d %s", a.code, a.body)
	}
	if a := post(t, http.DefaultClient, rm.url+"/api/v1", testSecrets["operator"], teardown); a.code != 200 && a.code != 202 {
		t.Fatalf("operator tearing down: %d %s", a.code, a.body)
	}
}

// TestIntegration_FrameworkCallsBoundToPrincipal: a framework that
// registered as a principal with credentials cannot be driven by another
// caller holding its stream ID.
func TestIntegration_FrameworkCallsBoundToPrincipal(t *testing.T) {
	e := startCoord(t)
	rm := startSecureMaster(t, e.URL().String(), func(c *master.Config) {
		c.Auth.Authenticate, c.AuthenticateAgents, c.Auth.RateLimits = "", false, ""
	})
	waitFor(t, "leadership", rm.m.Leading)
	s := newTestScheduler(t, []string{rm.url}, mesos.FrameworkInfo{User: "nobody", Name: "bound", Roles: []string{"web"},
		Capabilities: []mesos.FrameworkCapability{{Type: mesos.FrameworkCapabilityMultiRole}}})
	s.client = &http.Client{Transport: bearerRT{testSecrets["fw"]}}
	s.subscribe(patience)
	waitFor(t, "the framework in the snapshot", func() bool {
		_, resp, _ := operator(t, http.DefaultClient, rm.url, `{"type":"GET_FRAMEWORKS"}`)
		return resp.GetFrameworks != nil && len(resp.GetFrameworks.Frameworks) == 1
	})
	if code, body := s.call(&mesos.Call{Type: mesos.CallRevive}); code != 202 {
		t.Fatalf("the framework's own REVIVE: %d %s", code, body)
	}
	s.client = http.DefaultClient // anonymous, same stream ID
	if code, body := s.call(&mesos.Call{Type: mesos.CallRevive}); code != 401 || !strings.Contains(body, `must authenticate as \"fw\"`) {
		t.Fatalf("anonymous REVIVE for fw's framework: %d %s", code, body)
	}
	s.client = &http.Client{Transport: bearerRT{testSecrets["limited"]}}
	if code, body := s.call(&mesos.Call{Type: mesos.CallRevive}); code != 403 {
		t.Fatalf("another principal's REVIVE: %d %s", code, body)
	}
}
