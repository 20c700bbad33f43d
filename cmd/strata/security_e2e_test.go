package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/agent/agenttest"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/client"
)

// This file proves issue 9's "every TCP API refuses an unauthenticated
// request and an unauthorized principal" against the real binary: a coord
// server, a master, an agent, marathon and chronos, each started as its own
// process on 127.0.0.1 with authentication on, one credentials file and one
// ACL file shared by all of them. For every API the test sends a request
// with no credentials, one with a wrong token, one from a principal the
// ACLs deny (mallory) and one from a principal they allow, and checks the
// answers: 401, 401, 403 naming the rule, served.

// secPrincipals are the principals of the shared credentials file: the
// daemons' own (each presents its secret to coord and to the master),
// the operator, an authorized user (alice) and a denied one (mallory).
var secPrincipals = []string{"operator", "master", "agent", "marathon", "chronos", "alice", "mallory"}

// secACLs is the ACL file, in Mesos' JSON form. Permissive, with explicit
// rules: only the operator may update weights; mallory may register
// frameworks in no role and read no sandbox; only the agent's principal
// may register agents; only alice and the operator
// may change apps and jobs. The rule names the tests expect (e.g.
// "update_weights[1]") follow from the order here.
const secACLs = `{
  "permissive": true,
  "register_frameworks": [
    {"principals": {"values": ["mallory"]}, "roles": {"type": "NONE"}}
  ],
  "update_weights": [
    {"principals": {"values": ["operator"]}, "roles": {"type": "ANY"}},
    {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}
  ],
  "register_agents": [
    {"principals": {"values": ["agent"]}, "agents": {"type": "ANY"}},
    {"principals": {"type": "ANY"}, "agents": {"type": "NONE"}}
  ],
  "access_sandboxes": [
    {"principals": {"values": ["mallory"]}, "users": {"type": "NONE"}}
  ],
  "update_apps": [
    {"principals": {"values": ["alice", "operator"]}, "app_ids": {"values": ["/"]}},
    {"principals": {"type": "ANY"}, "app_ids": {"type": "NONE"}}
  ],
  "update_jobs": [
    {"principals": {"values": ["alice", "operator"]}, "job_names": {"type": "ANY"}},
    {"principals": {"type": "ANY"}, "job_names": {"type": "NONE"}}
  ]
}`

// secCluster is the running cluster and what the subtests need to reach it.
type secCluster struct {
	bin     string
	dir     string
	secrets map[string]string // principal → secret
	creds   string            // the credentials file
	acls    string            // the ACL file
	coord   string            // host:port
	master  string            // http://host:port
	agent   string            // http://host:port
	agentWD string            // the agent's --work-dir
}

// zkURL is the coord URL with principal's digest credentials.
func (c *secCluster) zkURL(principal string) string {
	return fmt.Sprintf("zk://%s:%s@%s/strata", principal, c.secrets[principal], c.coord)
}

// credentialFile writes principal's credential for --credential (mode
// 0600) and returns its path.
func (c *secCluster) credentialFile(t *testing.T, principal string) string {
	t.Helper()
	p := filepath.Join(c.dir, principal+".credential")
	if err := os.WriteFile(p, []byte(principal+" "+c.secrets[principal]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// secProc is a daemon the test started; its output is kept for the
// readiness checks and for failure messages.
type secProc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuf // stdout and stderr
	done chan struct{}
}

// startSecProc starts `strata args...` and kills it (by PID) when the test
// ends.
func startSecProc(t *testing.T, bin, name string, args ...string) *secProc {
	t.Helper()
	p := &secProc{name: name, cmd: exec.Command(bin, args...), out: &lockedBuf{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }() // ends when the process does
	t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

// logField waits (up to a minute) for the JSON log line whose msg is msg
// and returns its field; it fails early when the process exits.
func (p *secProc) logField(t *testing.T, msg, field string) string {
	t.Helper()
	var v string
	p.wait(t, fmt.Sprintf("%s to log %q", p.name, msg), func(line string) bool {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != msg {
			return false
		}
		v, _ = rec[field].(string)
		return v != ""
	})
	return v
}

// wait polls the process's output until a line satisfies ok.
func (p *secProc) wait(t *testing.T, what string, ok func(line string) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		for _, l := range strings.Split(p.out.String(), "\n") {
			if ok(l) {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited while waiting for %s:\n%s", p.name, what, p.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s:\n%s", what, p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// secResp is one HTTP answer.
type secResp struct {
	code int
	body string
	hdr  http.Header
}

// secDo sends one request; authz is "" (none) or a whole Authorization
// header value. Redirects are not followed: a standby's 307 would be an
// answer worth seeing.
func secDo(t *testing.T, method, u, authz, body string) secResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return secResp{code: resp.StatusCode, body: string(b), hdr: resp.Header}
}

// bearer is the Authorization header value for principal's secret.
func (c *secCluster) bearer(principal string) string { return "Bearer " + c.secrets[principal] }

// expect checks an answer's status and, for refusals, what its body must
// say.
func expect(t *testing.T, what string, r secResp, code int, bodyHas ...string) {
	t.Helper()
	t.Logf("%s: %d %.160s", what, r.code, strings.TrimSpace(r.body))
	if r.code != code {
		t.Errorf("%s: status %d, want %d; body: %.400s", what, r.code, code, r.body)
		return
	}
	for _, s := range bodyHas {
		if !strings.Contains(r.body, s) {
			t.Errorf("%s: status %d as wanted, but the body does not say %q: %.400s", what, r.code, s, r.body)
		}
	}
	if code == http.StatusUnauthorized && len(r.hdr.Values("WWW-Authenticate")) == 0 {
		t.Errorf("%s: 401 without a WWW-Authenticate challenge", what)
	}
}

// secPoll polls cond with a deadline.
func secPoll(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSecurityE2E runs every daemon with authentication on and checks
// that each TCP API refuses an unauthenticated request (401, or -124 and
// a closed connection on coord) and a principal the ACLs deny (403 naming
// the rule, or NOAUTH on coord), and serves an authorized principal.
func TestSecurityE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the strata binary and runs a cluster of processes")
	}
	c := &secCluster{bin: buildStrata(t), dir: t.TempDir(), secrets: map[string]string{}}
	// Registered first, so it runs after every process is stopped.
	t.Cleanup(func() {
		if left := processesUnder(c.dir); len(left) > 0 {
			t.Errorf("processes left running:\n%s", strings.Join(left, "\n"))
		}
	})
	var lines strings.Builder
	for _, p := range secPrincipals {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		c.secrets[p] = p + "-" + hex.EncodeToString(b)
		fmt.Fprintf(&lines, "%s %s\n", p, c.secrets[p])
	}
	c.creds = filepath.Join(c.dir, "credentials")
	c.acls = filepath.Join(c.dir, "acls.json")
	if err := os.WriteFile(c.creds, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.acls, []byte(secACLs), 0o600); err != nil {
		t.Fatal(err)
	}

	co := startSecProc(t, c.bin, "coord", "coord", "serve", "--data-dir", filepath.Join(c.dir, "coord"),
		"--client-port", "0", "--client-port-address", "127.0.0.1", "--authenticate", "--credentials", c.creds,
		"--log-level", "warn")
	re := regexp.MustCompile(`serving ZooKeeper protocol on (\S+) .*authentication required`)
	co.wait(t, "coord to serve with authentication required", func(l string) bool {
		if m := re.FindStringSubmatch(l); m != nil {
			c.coord = m[1]
			return true
		}
		return false
	})

	mp := startSecProc(t, c.bin, "master", "master", "--zk", c.zkURL("master"), "--work-dir", filepath.Join(c.dir, "master"),
		"--port", "0", "--authenticate", "--credentials", c.creds, "--acls", c.acls, "--authenticate-agents",
		"--allocation-interval", "200ms")
	c.master = "http://" + mp.logField(t, "master started", "addr")
	secPoll(t, "the master to lead", 60*time.Second, func() bool {
		return secDo(t, "POST", c.master+"/api/v1", c.bearer("operator"), `{"type":"GET_HEALTH"}`).code == http.StatusOK
	})

	c.agentWD = filepath.Join(c.dir, "agent")
	// Registered before the agent starts so that it runs after the agent
	// is stopped: the supervisor outlives its agent by design.
	t.Cleanup(func() { agenttest.StopSupervisor(t, filepath.Join(c.agentWD, "supervisor")) })
	agentArgs := []string{"agent", "--master", c.zkURL("agent"), "--work-dir", c.agentWD, "--port", "0",
		"--authenticate", "--credentials", c.creds, "--acls", c.acls, "--credential", c.credentialFile(t, "agent"),
		"--resources", "cpus:2;mem:512;disk:512;ports:[31000-31010]"}
	if os.Getuid() == 0 {
		agentArgs = append(agentArgs, "--allow-root-tasks") // the task below runs as the test's user
	}
	ap := startSecProc(t, c.bin, "agent", agentArgs...)
	c.agent = "http://" + ap.logField(t, "agent started", "addr")
	secPoll(t, "the agent to register with the master", 60*time.Second, func() bool {
		r := secDo(t, "POST", c.master+"/api/v1", c.bearer("operator"), `{"type":"GET_AGENTS"}`)
		var resp struct {
			GetAgents struct {
				Agents []json.RawMessage `json:"agents"`
			} `json:"get_agents"`
		}
		return r.code == http.StatusOK && json.Unmarshal([]byte(r.body), &resp) == nil && len(resp.GetAgents.Agents) == 1
	})

	t.Run("coord", func(t *testing.T) { secCoord(t, c) })
	t.Run("master", func(t *testing.T) { secMaster(t, c) })
	t.Run("agent", func(t *testing.T) { secAgent(t, c) })
	t.Run("marathon", func(t *testing.T) { secMarathon(t, c) })
	t.Run("chronos", func(t *testing.T) { secChronos(t, c) })
}

// secZK connects go-zookeeper to the coord server, without credentials
// (callers addAuth as they need), and closes it when the test ends.
func secZK(t *testing.T, c *secCluster) *zk.Conn {
	t.Helper()
	conn, _, err := zk.Connect([]string{c.coord}, 4*time.Second, zk.WithLogInfo(false),
		zk.WithLogger(zkQuiet{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// zkQuiet drops go-zookeeper's logs (it logs every reconnect the server's
// refusals cause).
type zkQuiet struct{}

func (zkQuiet) Printf(string, ...any) {}

// rawUnauthenticated speaks the wire protocol itself to see what
// go-zookeeper hides: after a session handshake without addAuth, a getData
// is answered with err -124 and then the server closes the connection.
func rawUnauthenticated(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	frame := func(parts ...any) []byte {
		var b bytes.Buffer
		for _, p := range parts {
			_ = binary.Write(&b, binary.BigEndian, p)
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(b.Len()))
		return append(out, b.Bytes()...)
	}
	readFrame := func() ([]byte, error) {
		var n uint32
		if err := binary.Read(conn, binary.BigEndian, &n); err != nil {
			return nil, err
		}
		if n > 1<<20 {
			return nil, fmt.Errorf("frame of %d bytes", n)
		}
		b := make([]byte, n)
		_, err := io.ReadFull(conn, b)
		return b, err
	}
	// ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId,
	// passwd (16 zero bytes), readOnly.
	if _, err := conn.Write(frame(int32(0), int64(0), int32(4000), int64(0), int32(16), [16]byte{}, false)); err != nil {
		t.Fatal(err)
	}
	if _, err := readFrame(); err != nil {
		t.Fatalf("raw: session handshake: %v", err)
	}
	// getData "/" (xid 1, op 4, path, watch false).
	if _, err := conn.Write(frame(int32(1), int32(4), int32(1), []byte("/"), false)); err != nil {
		t.Fatal(err)
	}
	reply, err := readFrame()
	if err != nil || len(reply) < 16 {
		t.Fatalf("raw: getData without addAuth: reply %x, %v", reply, err)
	}
	code := int32(binary.BigEndian.Uint32(reply[12:16]))
	t.Logf("coord: raw getData / without addAuth: xid %d err %d", int32(binary.BigEndian.Uint32(reply[0:4])), code)
	if code != -124 {
		t.Errorf("raw getData / without addAuth: err %d, want -124 (SESSIONCLOSEDREQUIRESASLAUTH)", code)
	}
	if b, err := readFrame(); err == nil {
		t.Errorf("raw: the connection stayed open after -124 and answered %x", b)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("raw: the connection stayed open after -124 (no EOF within 30s)")
	}
}

// secCoord: an unauthenticated request gets -124 and the connection
// closes; wrong and unknown digests get AUTHFAILED; a node created through
// coord's client by alice (creator-all, world-read) can be read but not
// changed or deleted by mallory (NOAUTH), nor can the master's leader
// node; alice herself may change it.
func secCoord(t *testing.T, c *secCluster) {
	// No credentials: the first request is refused with -124.
	anon := secZK(t, c)
	_, _, err := anon.Get("/")
	t.Logf("coord: unauthenticated get /: %v", err)
	if err == nil || !strings.Contains(err.Error(), "-124") {
		t.Errorf("unauthenticated get /: err = %v, want SESSIONCLOSEDREQUIRESASLAUTH (-124)", err)
	}
	anon.Close()
	rawUnauthenticated(t, c.coord)

	// A wrong secret, and a principal the credentials file does not know.
	for _, cred := range []string{"alice:not-her-secret", "eve:" + c.secrets["alice"]} {
		conn := secZK(t, c)
		err := conn.AddAuth("digest", []byte(cred))
		t.Logf("coord: addAuth digest %s: %v", strings.SplitN(cred, ":", 2)[0], err)
		if err == nil {
			t.Errorf("addAuth digest %s: accepted, want AUTHFAILED", strings.SplitN(cred, ":", 2)[0])
		} else if err != zk.ErrAuthFailed && !strings.Contains(err.Error(), "authentication failed") {
			t.Logf("addAuth digest %s: %v (refused, though not as AUTHFAILED)", strings.SplitN(cred, ":", 2)[0], err)
		}
		if _, _, err := conn.Get("/"); err == nil {
			t.Errorf("get / after a refused addAuth %s: served", strings.SplitN(cred, ":", 2)[0])
		}
		conn.Close()
	}

	// alice creates a node through Strata's coord client.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	u, err := coord.ParseURL(c.zkURL("alice"))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := coord.Dial(ctx, coord.Config{URL: u, SessionTimeout: 4 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("alice's coord session: %v", err)
	}
	defer sess.Close()
	if _, err := sess.Store().Put(ctx, "sec/alice", map[string]string{"owner": "alice"}); err != nil {
		t.Fatalf("alice puts sec/alice: %v", err)
	}
	node, _ := sess.Path("sec/alice")

	mallory := secZK(t, c)
	if err := mallory.AddAuth("digest", []byte("mallory:"+c.secrets["mallory"])); err != nil {
		t.Fatalf("mallory's addAuth with her own secret: %v", err)
	}
	if _, _, err := mallory.Get(node); err != nil {
		t.Errorf("mallory reads %s (world-readable): %v", node, err)
	}
	_, err = mallory.Set(node, []byte(`{"owner":"mallory"}`), -1)
	t.Logf("coord: mallory sets alice's %s: %v", node, err)
	if err != zk.ErrNoAuth {
		t.Errorf("mallory sets %s: err = %v, want NOAUTH", node, err)
	}
	if err := mallory.Delete(node, -1); err != zk.ErrNoAuth {
		t.Errorf("mallory deletes %s: err = %v, want NOAUTH", node, err)
	}
	// The master's leader node, written by the principal "master".
	kids, _, err := mallory.Children("/strata/master/leader")
	if err != nil || len(kids) == 0 {
		t.Errorf("mallory lists /strata/master/leader: %v %v, want the master's candidate", kids, err)
	}
	for _, k := range kids {
		p := "/strata/master/leader/" + k
		if _, err := mallory.Set(p, []byte("{}"), -1); err != zk.ErrNoAuth {
			t.Errorf("mallory sets the master's %s: err = %v, want NOAUTH", p, err)
		}
		if err := mallory.Delete(p, -1); err != zk.ErrNoAuth {
			t.Errorf("mallory deletes the master's %s: err = %v, want NOAUTH", p, err)
		}
	}

	// alice, on a raw connection, may change what she created.
	alice := secZK(t, c)
	if err := alice.AddAuth("digest", []byte("alice:"+c.secrets["alice"])); err != nil {
		t.Fatalf("alice's addAuth: %v", err)
	}
	if _, err := alice.Set(node, []byte(`{"owner":"alice","v":2}`), -1); err != nil {
		t.Errorf("alice sets her %s: %v", node, err)
	}
	if err := alice.Delete(node, -1); err != nil {
		t.Errorf("alice deletes her %s: %v", node, err)
	}
}

// secMaster: operator and scheduler calls without a token, or with a wrong
// one, get 401; mallory's weights update and framework registration get
// 403 naming update_weights[1] and register_frameworks[0]; the operator's
// weights update and alice's registration are served.
func secMaster(t *testing.T, c *secCluster) {
	op := c.master + "/api/v1"
	weights := `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"sec","weight":2}]}}`
	expect(t, "master GET_HEALTH without a token", secDo(t, "POST", op, "", `{"type":"GET_HEALTH"}`), 401)
	expect(t, "master UPDATE_WEIGHTS without a token", secDo(t, "POST", op, "", weights), 401)
	expect(t, "master UPDATE_WEIGHTS with a wrong token", secDo(t, "POST", op, "Bearer not-a-token", weights), 401)
	expect(t, "master UPDATE_WEIGHTS with a wrong Basic secret", secDo(t, "POST", op, basic("operator", "wrong"), weights), 401)
	expect(t, "master UPDATE_WEIGHTS by mallory", secDo(t, "POST", op, c.bearer("mallory"), weights), 403,
		"update_weights[1]")
	expect(t, "master UPDATE_WEIGHTS by alice", secDo(t, "POST", op, c.bearer("alice"), weights), 403,
		"update_weights[1]")
	expect(t, "master UPDATE_WEIGHTS by the operator", secDo(t, "POST", op, c.bearer("operator"), weights), 200)
	if r := secDo(t, "POST", op, c.bearer("operator"), `{"type":"GET_WEIGHTS"}`); !strings.Contains(r.body, `"sec"`) {
		t.Errorf("GET_WEIGHTS after the operator's update: %d %.300s", r.code, r.body)
	}
	expect(t, "master UPDATE_WEIGHTS by the operator (Basic)", secDo(t, "POST", op, basic("operator", c.secrets["operator"]), weights), 200)

	// The scheduler API.
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	sub := fmt.Sprintf(`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":%q,"name":"sec-e2e","role":"*"}}}`, u.Username)
	sched := c.master + "/api/v1/scheduler"
	expect(t, "scheduler SUBSCRIBE without a token", secDo(t, "POST", sched, "", sub), 401)
	expect(t, "scheduler SUBSCRIBE with a wrong token", secDo(t, "POST", sched, "Bearer not-a-token", sub), 401)
	expect(t, "scheduler SUBSCRIBE by mallory", secDo(t, "POST", sched, c.bearer("mallory"), sub), 403,
		"register_frameworks[0]")
	expect(t, "scheduler SUBSCRIBE by alice claiming mallory's principal",
		secDo(t, "POST", sched, c.bearer("alice"), strings.Replace(sub, `"role"`, `"principal":"mallory","role"`, 1)), 403)
	if code, first := subscribeFirstEvent(t, sched, c.bearer("alice"), sub); code != 200 || !strings.Contains(first, "SUBSCRIBED") {
		t.Errorf("scheduler SUBSCRIBE by alice: status %d, first event %.300q, want 200 and SUBSCRIBED", code, first)
	}

	// The agent API, with --authenticate-agents.
	agentCall := `{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"impostor"}}}`
	expect(t, "master agent API without a token", secDo(t, "POST", c.master+"/api/v1/agent", "", agentCall), 401)
	expect(t, "master agent API with a wrong token", secDo(t, "POST", c.master+"/api/v1/agent", "Bearer not-a-token", agentCall), 401)
	expect(t, "master agent SUBSCRIBE by mallory", secDo(t, "POST", c.master+"/api/v1/agent", c.bearer("mallory"), agentCall), 403,
		"register_agents[1]")
}

// basic is an Authorization header for HTTP Basic.
func basic(principal, secret string) string {
	req, _ := http.NewRequest("GET", "http://x/", nil)
	req.SetBasicAuth(principal, secret)
	return req.Header.Get("Authorization")
}

// subscribeFirstEvent opens a scheduler event stream and returns the
// status and the first RecordIO record (or the body of a refusal); the
// stream is closed, which disconnects the framework.
func subscribeFirstEvent(t *testing.T, u, authz, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", authz)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(br)
		return resp.StatusCode, string(b)
	}
	var n int
	if _, err := fmt.Fscanf(br, "%d\n", &n); err != nil || n <= 0 || n > 1<<20 {
		return resp.StatusCode, fmt.Sprintf("unreadable RecordIO length: %v", err)
	}
	rec := make([]byte, n)
	if _, err := io.ReadFull(br, rec); err != nil {
		return resp.StatusCode, fmt.Sprintf("short record: %v", err)
	}
	return resp.StatusCode, string(rec)
}

// secAgent: the agent's operator API and files API refuse callers without
// a token (401); mallory may not read a sandbox (403 naming
// access_sandboxes[0]); alice may, and the operator gets the flags, which
// hold no secret.
func secAgent(t *testing.T, c *secCluster) {
	sandbox := launchSecTask(t, c, "echo sandbox-output-for-alice; exec sleep 600")
	stdout := filepath.Join(sandbox, "stdout")
	secPoll(t, "the task's stdout", 30*time.Second, func() bool {
		b, _ := os.ReadFile(stdout)
		return bytes.Contains(b, []byte("sandbox-output-for-alice"))
	})
	read := c.agent + "/files/read?offset=0&length=4096&path=" + url.QueryEscape(stdout)
	flags := `{"type":"GET_FLAGS"}`
	expect(t, "agent GET_FLAGS without a token", secDo(t, "POST", c.agent+"/api/v1", "", flags), 401)
	expect(t, "agent GET_FLAGS with a wrong token", secDo(t, "POST", c.agent+"/api/v1", "Bearer not-a-token", flags), 401)
	expect(t, "agent /files/read without a token", secDo(t, "GET", read, "", ""), 401)
	expect(t, "agent /files/read with a wrong token", secDo(t, "GET", read, "Bearer not-a-token", ""), 401)
	expect(t, "agent /files/read by mallory", secDo(t, "GET", read, c.bearer("mallory"), ""), 403, "access_sandboxes[0]")
	readFile := fmt.Sprintf(`{"type":"READ_FILE","read_file":{"path":%q,"offset":0,"length":4096}}`, stdout)
	expect(t, "agent READ_FILE by mallory", secDo(t, "POST", c.agent+"/api/v1", c.bearer("mallory"), readFile), 403,
		"access_sandboxes[0]")
	expect(t, "agent /files/read by alice", secDo(t, "GET", read, c.bearer("alice"), ""), 200, "sandbox-output-for-alice")
	r := secDo(t, "POST", c.agent+"/api/v1", c.bearer("operator"), flags)
	expect(t, "agent GET_FLAGS by the operator", r, 200, "credentials")
	for p, s := range c.secrets {
		if strings.Contains(r.body, s) {
			t.Errorf("agent GET_FLAGS shows %s's secret", p)
		}
	}
}

// launchSecTask subscribes a framework as alice, launches one command task
// on the agent and returns its sandbox once the task runs. The framework
// disconnects when the test ends; the task ends with the supervisor.
func launchSecTask(t *testing.T, c *secCluster, command string) string {
	t.Helper()
	launchTaskAs(t, client.Options{Master: c.master, Token: c.secrets["alice"]}, "sec-e2e-alice", "sec-e2e-task", command)
	runs, _ := filepath.Glob(filepath.Join(c.agentWD, "slaves", "*", "frameworks", "*", "executors", "*", "runs", "*"))
	for _, r := range runs {
		if fi, err := os.Lstat(r); err == nil && fi.IsDir() && filepath.Base(r) != "latest" {
			return r
		}
	}
	t.Fatalf("the task runs but no sandbox is under %s", c.agentWD)
	return ""
}

// hasFlag reports whether `strata <sub> --help` lists --name.
func hasFlag(t *testing.T, bin, sub, name string) bool {
	t.Helper()
	out, _ := exec.Command(bin, sub, "--help").CombinedOutput()
	return strings.Contains(string(out), "--"+name+" ") || strings.Contains(string(out), "--"+name+"[")
}

// startFramework starts marathon or chronos with the shared security
// settings, its --credential for the master, and returns its API base URL.
func startFramework(t *testing.T, c *secCluster, name string) string {
	t.Helper()
	for _, f := range []string{"authenticate", "credentials", "acls", "credential"} {
		if !hasFlag(t, c.bin, name, f) {
			t.Fatalf("strata %s has no --%s flag", name, f)
		}
	}
	p := startSecProc(t, c.bin, name, name, "--master", c.zkURL(name), "--http-address", "127.0.0.1:0",
		"--authenticate", "--credentials", c.creds, "--acls", c.acls, "--credential", c.credentialFile(t, name))
	api := p.logField(t, name+" started", "api")
	secPoll(t, name+" to register with the master as its principal", 60*time.Second, func() bool {
		return frameworkRegistered(t, c, name)
	})
	return api
}

// frameworkRegistered reports whether an active framework of principal
// is registered with the master (which authenticates frameworks).
func frameworkRegistered(t *testing.T, c *secCluster, principal string) bool {
	t.Helper()
	r := secDo(t, "POST", c.master+"/api/v1", c.bearer("operator"), `{"type":"GET_FRAMEWORKS"}`)
	var resp struct {
		GetFrameworks struct {
			Frameworks []struct {
				FrameworkInfo struct {
					Principal string `json:"principal"`
				} `json:"framework_info"`
				Active bool `json:"active"`
			} `json:"frameworks"`
		} `json:"get_frameworks"`
	}
	if r.code != http.StatusOK || json.Unmarshal([]byte(r.body), &resp) != nil {
		return false
	}
	for _, f := range resp.GetFrameworks.Frameworks {
		if f.Active && f.FrameworkInfo.Principal == principal {
			return true
		}
	}
	return false
}

// secMarathon: POST /v2/apps without a token or with a wrong one is 401;
// mallory's is 403 naming update_apps[1]; alice's creates the app (201).
func secMarathon(t *testing.T, c *secCluster) {
	api := startFramework(t, c, "marathon")
	secPoll(t, "marathon to lead", 60*time.Second, func() bool {
		return secDo(t, "GET", api+"/v2/leader", c.bearer("operator"), "").code == http.StatusOK
	})
	app := `{"id":"/sec/web","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":0}`
	expect(t, "marathon POST /v2/apps without a token", secDo(t, "POST", api+"/v2/apps", "", app), 401)
	expect(t, "marathon POST /v2/apps with a wrong token", secDo(t, "POST", api+"/v2/apps", "Bearer not-a-token", app), 401)
	expect(t, "marathon POST /v2/apps by mallory", secDo(t, "POST", api+"/v2/apps", c.bearer("mallory"), app), 403,
		"update_apps[1]")
	if r := secDo(t, "GET", api+"/v2/apps/sec/web", c.bearer("operator"), ""); r.code != http.StatusNotFound {
		t.Errorf("after mallory's refused POST, GET /v2/apps/sec/web: %d %.200s, want 404", r.code, r.body)
	}
	expect(t, "marathon POST /v2/apps by alice", secDo(t, "POST", api+"/v2/apps", c.bearer("alice"), app), 201)
	expect(t, "marathon DELETE /v2/apps/sec/web by mallory", secDo(t, "DELETE", api+"/v2/apps/sec/web", c.bearer("mallory"), ""), 403,
		"update_apps[1]")
	if r := secDo(t, "GET", api+"/v2/apps/sec/web", c.bearer("alice"), ""); r.code != http.StatusOK {
		t.Errorf("GET /v2/apps/sec/web after alice's POST: %d %.200s", r.code, r.body)
	}
}

// secChronos: POST /v1/scheduler/iso8601 without a token or with a wrong
// one is 401; mallory's is 403 naming update_jobs[1]; alice's is served.
func secChronos(t *testing.T, c *secCluster) {
	api := startFramework(t, c, "chronos")
	secPoll(t, "chronos to lead", 60*time.Second, func() bool {
		return secDo(t, "GET", api+"/v1/scheduler/jobs", c.bearer("operator"), "").code == http.StatusOK
	})
	job := `{"name":"sec-job","command":"true","schedule":"R/2099-01-01T00:00:00Z/PT24H","epsilon":"PT30S","owner":"ops@example.com","cpus":0.1,"mem":16}`
	post := api + "/v1/scheduler/iso8601"
	expect(t, "chronos POST iso8601 without a token", secDo(t, "POST", post, "", job), 401)
	expect(t, "chronos POST iso8601 with a wrong token", secDo(t, "POST", post, "Bearer not-a-token", job), 401)
	expect(t, "chronos POST iso8601 by mallory", secDo(t, "POST", post, c.bearer("mallory"), job), 403, "update_jobs[1]")
	if r := secDo(t, "POST", post, c.bearer("alice"), job); r.code/100 != 2 {
		t.Errorf("chronos POST iso8601 by alice: %d %.300s, want 2xx", r.code, r.body)
	}
	expect(t, "chronos DELETE job by mallory", secDo(t, "DELETE", api+"/v1/scheduler/job/sec-job", c.bearer("mallory"), ""), 403,
		"update_jobs[1]")
	r := secDo(t, "GET", api+"/v1/scheduler/jobs", c.bearer("alice"), "")
	if r.code != http.StatusOK || !strings.Contains(r.body, "sec-job") {
		t.Errorf("GET /v1/scheduler/jobs after alice's POST: %d %.300s", r.code, r.body)
	}
}
