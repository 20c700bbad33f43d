package server_test

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/internal/zkraw"
	"github.com/strata-dc/strata/coord/server/jute"
	"github.com/strata-dc/strata/coord/zktest"
)

// updateGolden rewrites the golden transcripts from Apache ZooKeeper's answers.
// Only the Apache run writes them; every other server is compared.
var updateGolden = flag.Bool("update", false, "rewrite testdata/conformance/*.golden from Apache ZooKeeper's answers")

// goldenSource is the server whose transcripts are the truth.
const goldenSource = "apache"

// superUser and superCredential are the super user zktest's servers accept
// (zookeeper.DigestAuthenticationProvider.superDigest of "super:secret").
const (
	superUser       = "super"
	superCredential = superUser + ":secret"
)

// asyncWait bounds waits for what a server does on its own schedule:
// session expiry, container and TTL reaping.
const asyncWait = 30 * time.Second

// TestConformance runs every case against every server and compares each
// transcript with its golden file, so "the same results on both servers"
// holds even on a machine without Apache ZooKeeper. Cases run one after
// another on one server per server kind; each works under its own root
// node and leaves no session behind, so zxids inside a case are exact.
func TestConformance(t *testing.T) {
	for _, srv := range zktest.Servers() {
		t.Run(srv.Name, func(t *testing.T) {
			if *updateGolden && srv.Name != goldenSource {
				t.Skipf("-update rewrites the golden transcripts from %s only", goldenSource)
			}
			t.Parallel()
			addr := srv.Start(t)
			for _, c := range conformanceCases {
				t.Run(c.name, func(t *testing.T) {
					h := newHarness(t, addr, c.name)
					c.run(h)
					h.finish()
					checkGolden(t, srv.Name, c.name, h.tr.String())
				})
			}
		})
	}
}

var conformanceCases = []conformanceCase{
	{"create_modes", caseCreateModes},
	{"stat_lifecycle", caseStatLifecycle},
	{"sequential_naming", caseSequentialNaming},
	{"errors", caseErrors},
	{"bad_paths", caseBadPaths},
	{"invalid_acl", caseInvalidACL},
	{"acl_digest", caseACLDigest},
	{"acl_super", caseACLSuper},
	{"multi_ok", caseMultiOK},
	{"multi_fail", caseMultiFail},
	{"multi_read", caseMultiRead},
	{"reads_misc", caseReadsMisc},
	{"zookeeper_tree", caseZookeeperTree},
	{"watches_one_shot", caseWatchesOneShot},
	{"watch_before_reply", caseWatchBeforeReply},
	{"persistent_watches", casePersistentWatches},
	{"remove_watches", caseRemoveWatches},
	{"set_watches_raw", caseSetWatchesRaw},
	{"set_watches_gozk", caseSetWatchesGozk},
	{"timeout_negotiation", caseTimeoutNegotiation},
	{"session_expiry", caseSessionExpiry},
	{"session_expiry_gozk", caseSessionExpiryGozk},
	{"session_resume", caseSessionResume},
	{"container_ttl", caseContainerTTL},
	{"max_buffer", caseMaxBuffer},
	{"malformed", caseMalformed},
}

type conformanceCase struct {
	name string
	run  func(h *harness)
}

func checkGolden(t *testing.T, server, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "conformance", name+".golden")
	if *updateGolden && server == goldenSource {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no golden transcript for %s (generate it against Apache ZooKeeper with -update): %v", name, err)
	}
	if string(want) != got {
		t.Errorf("%s differs from %s (- golden, + %s):\n%s", name, path, server, lineDiff(string(want), got))
	}
}

// lineDiff is a minimal longest-common-subsequence diff of two transcripts.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			fmt.Fprintf(&out, "  %s\n", x[i])
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&out, "+ %s\n", y[j])
			j++
		default:
			fmt.Fprintf(&out, "- %s\n", x[i])
			i++
		}
	}
	return out.String()
}

// harness runs one case: it owns the case's connections, the transcript
// they write to and the case's root node.
type harness struct {
	t     *testing.T
	addr  string
	root  string
	tr    *zkraw.Transcript
	peers []*peer
	gozks []*zk.Conn
}

// newHarness creates the case's root node on a throwaway session and makes
// its czxid the transcript's zxid baseline.
func newHarness(t *testing.T, addr, name string) *harness {
	h := &harness{t: t, addr: addr, root: "/" + name, tr: zkraw.NewTranscript()}
	c, _, err := zkraw.Dial(addr, zkraw.Session{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("set up %s: %v", name, err)
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

// p is a path under the case's root.
func (h *harness) p(rel string) string {
	if rel == "" {
		return h.root
	}
	return h.root + "/" + rel
}

// log writes one transcript line.
func (h *harness) log(format string, args ...any) { h.tr.Logf(format, args...) }

// peer is one connection (and its session) whose observations go into the
// transcript, prefixed by its name.
type peer struct {
	h      *harness
	name   string
	c      *zkraw.Conn
	id     int64
	passwd []byte
	held   []zkraw.Event // received after the last logged reply
	gone   bool          // the connection has ended
}

// connect opens a new session asking for timeout and logs what the server
// granted.
func (h *harness) connect(name string, timeout time.Duration) *peer {
	return h.dial(name, zkraw.Session{Timeout: timeout}, fmt.Sprintf("connect timeout=%d", timeout.Milliseconds()))
}

// resume opens a connection to old's session.
func (h *harness) resume(name string, old *peer, passwd []byte) *peer {
	what := "resume " + h.tr.Session(old.id)
	if passwd == nil {
		passwd = old.passwd
	} else {
		what += " with wrong password"
	}
	return h.dial(name, zkraw.Session{Timeout: 4 * time.Second, ID: old.id, Passwd: passwd}, what)
}

func (h *harness) dial(name string, s zkraw.Session, what string) *peer {
	h.t.Helper()
	c, resp, err := zkraw.Dial(h.addr, s)
	if err != nil {
		h.log("%s %s -> %v", name, what, dialError(err))
		return &peer{h: h, name: name, gone: true}
	}
	p := &peer{h: h, name: name, c: c, id: resp.SessionID, passwd: resp.Passwd}
	h.peers = append(h.peers, p)
	if resp.TimeOut > 0 {
		// Cases wait for the server's own timers; pings keep every other
		// session alive meanwhile, as a real client's would.
		c.KeepAlive(time.Duration(resp.TimeOut) * time.Millisecond / 3)
	}
	pw := "set"
	if isZero(resp.Passwd) {
		pw = fmt.Sprintf("zero(%d)", len(resp.Passwd))
	}
	h.log("%s %s -> session=%s timeout=%d passwd=%s readOnly=%t protocol=%d",
		name, what, h.tr.Session(resp.SessionID), resp.TimeOut, pw, resp.ReadOnly, resp.ProtocolVersion)
	return p
}

func dialError(err error) string {
	if errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset") {
		return "closed by server"
	}
	return "error"
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// do sends one request, waits for its reply and logs every event that
// arrived before the reply, then the reply.
func (p *peer) do(op int32, req jute.Record) zkraw.Reply {
	return p.wait(p.send(op, req))
}

// pending is a request in flight, for pipelining.
type pending struct {
	op   int32
	req  jute.Record
	desc string // overrides the request's description (raw requests)
	call *zkraw.Call
	err  error
}

// raw sends a request whose body is arbitrary bytes and logs the answer.
func (p *peer) raw(op int32, body []byte) zkraw.Reply {
	pd := &pending{op: op, desc: fmt.Sprintf("raw %s body=%x", zkraw.OpName(op), body), err: zkraw.ErrClosed}
	if !p.gone {
		pd.call, pd.err = p.c.SendRaw(0, op, body)
	}
	return p.wait(pd)
}

func (p *peer) send(op int32, req jute.Record) *pending {
	if p.gone {
		return &pending{op: op, req: req, err: zkraw.ErrClosed}
	}
	call, err := p.c.Send(op, req)
	return &pending{op: op, req: req, call: call, err: err}
}

func (p *peer) sendXid(xid, op int32, req jute.Record) *pending {
	if p.gone {
		return &pending{op: op, req: req, err: zkraw.ErrClosed}
	}
	call, err := p.c.SendXid(xid, op, req)
	return &pending{op: op, req: req, call: call, err: err}
}

func (p *peer) wait(pd *pending) zkraw.Reply {
	tr := p.h.tr
	line := p.name + " " + tr.Request(pd.op, pd.req)
	if pd.desc != "" {
		line = p.name + " " + pd.desc
	}
	if pd.err != nil {
		p.logEvents(^uint64(0))
		p.gone = true
		tr.Logf("%s -> connection closed", line)
		return zkraw.Reply{Err: jute.ErrConnectionLoss}
	}
	r, err := pd.call.Wait()
	if err != nil {
		p.logEvents(^uint64(0))
		if errors.Is(err, zkraw.ErrClosed) {
			p.h.t.Logf("%s: %v", line, err)
			p.gone = true
			tr.Logf("%s -> connection closed", line)
		} else {
			tr.Logf("%s -> no reply", line)
		}
		return zkraw.Reply{Err: jute.ErrConnectionLoss}
	}
	p.logEvents(r.Seq)
	tr.Logf("%s %s", line, tr.Reply(pd.op, r))
	return r
}

// logEvents logs, in arrival order, the events that arrived before frame
// seq and keeps the rest for later.
func (p *peer) logEvents(seq uint64) {
	if p.c != nil {
		p.held = append(p.held, p.c.DrainEvents()...)
	}
	var later []zkraw.Event
	for _, ev := range p.held {
		if ev.Seq < seq {
			p.h.tr.Logf("%s %s", p.name, p.h.tr.Event(ev))
		} else {
			later = append(later, ev)
		}
	}
	p.held = later
}

// flush makes sure every event caused by requests already answered (on any
// connection) has been logged: the server queues such events on this
// connection before it answers a read sent now.
func (p *peer) flush() {
	if p.gone {
		p.logEvents(^uint64(0))
		return
	}
	call, err := p.c.Send(jute.OpExists, &jute.PathWatchRequest{Path: "/"})
	if err != nil {
		p.logEvents(^uint64(0))
		return
	}
	r, err := call.Wait()
	if err != nil {
		p.logEvents(^uint64(0))
		return
	}
	p.logEvents(r.Seq)
}

// flush flushes every open peer, in the order they connected.
func (h *harness) flush() {
	for _, p := range h.peers {
		p.flush()
	}
}

// awaitEvent waits for the peer's next event, for changes the server makes
// on its own schedule (expiry, reaping).
func (p *peer) awaitEvent() {
	if p.c != nil {
		p.held = append(p.held, p.c.DrainEvents()...)
	}
	if len(p.held) > 0 {
		p.h.log("%s %s", p.name, p.h.tr.Event(p.held[0]))
		p.held = p.held[1:]
		return
	}
	if p.gone {
		p.h.log("%s no event: connection gone", p.name)
		return
	}
	ev, ok := p.c.NextEvent(asyncWait)
	if !ok {
		p.h.log("%s no event within %v", p.name, asyncWait)
		return
	}
	p.h.log("%s %s", p.name, p.h.tr.Event(ev))
}

// expectClosed logs whether the server closed this connection.
func (p *peer) expectClosed() {
	if p.c == nil {
		p.h.log("%s closed by server", p.name)
		return
	}
	select {
	case <-p.c.Done():
		p.logEvents(^uint64(0))
		p.gone = true
		p.h.log("%s closed by server", p.name)
	case <-time.After(10 * time.Second):
		p.h.log("%s still open", p.name)
	}
}

// drop closes the socket without closing the session, as a crashed client
// would.
func (p *peer) drop() {
	p.logEvents(^uint64(0))
	p.h.log("%s drops its connection", p.name)
	if p.c != nil {
		p.c.Close()
	}
	p.gone = true
}

// closeSession ends the session politely and logs the answer.
func (p *peer) closeSession() {
	p.do(jute.OpCloseSession, nil)
	p.gone = true
	if p.c != nil {
		p.c.Close()
	}
}

// finish flushes and then closes every session the case opened, so nothing
// it leaves can expire later and shift the next case's zxids.
func (h *harness) finish() {
	h.flush()
	h.closeAll()
}

func (h *harness) closeAll() {
	for _, z := range h.gozks {
		z.Close()
	}
	h.gozks = nil
	for _, p := range h.peers {
		if p.c == nil {
			continue
		}
		if !p.gone {
			p.c.CloseSession()
			continue
		}
		p.c.Close()
		// The connection is gone but the session may live on: resume it
		// just to close it.
		if p.id != 0 {
			if c, resp, err := zkraw.Dial(h.addr, zkraw.Session{Timeout: 4 * time.Second, ID: p.id, Passwd: p.passwd}); err == nil {
				if resp.TimeOut > 0 {
					c.CloseSession()
				}
				c.Close()
			}
		}
	}
	h.peers = nil
}

// Request builders.

func reqCreate(path, data string, mode int32) *jute.CreateRequest {
	return &jute.CreateRequest{Path: path, Data: []byte(data), ACL: zkraw.OpenACL, Flags: mode}
}

func reqCreateACL(path string, acls []jute.ACL) *jute.CreateRequest {
	return &jute.CreateRequest{Path: path, Data: []byte("x"), ACL: acls, Flags: jute.FlagPersistent}
}

func reqCreateTTL(path string, mode int32, ttl int64) *jute.CreateTTLRequest {
	return &jute.CreateTTLRequest{Path: path, Data: []byte("ttl"), ACL: zkraw.OpenACL, Flags: mode, TTL: ttl}
}

func reqPathVersion(path string, version int32) *jute.PathVersionRequest {
	return &jute.PathVersionRequest{Path: path, Version: version}
}

func reqWatch(path string, w bool) *jute.PathWatchRequest {
	return &jute.PathWatchRequest{Path: path, Watch: w}
}

func reqSetData(path, data string, version int32) *jute.SetDataRequest {
	return &jute.SetDataRequest{Path: path, Data: []byte(data), Version: version}
}

func reqPath(path string) *jute.PathRequest { return &jute.PathRequest{Path: path} }

func reqMulti(ops ...jute.MultiOp) *jute.MultiRequest { return &jute.MultiRequest{Ops: ops} }

func multiOp(op int32, req jute.Record) jute.MultiOp { return jute.MultiOp{Type: op, Req: req} }

func aclEntry(perms int32, scheme, id string) jute.ACL {
	return jute.ACL{Perms: perms, ID: jute.Id{Scheme: scheme, ID: id}}
}

// digestID is the id a digest ACL names for user:password, as
// DigestAuthenticationProvider.generateDigest computes it.
func digestID(userPassword string) string {
	sum := sha1.Sum([]byte(userPassword))
	user, _, _ := strings.Cut(userPassword, ":")
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// gozk opens a go-zookeeper session whose dialer the test can cut, and
// logs its session states (HasSession, Expired) into the transcript.
func (h *harness) gozk(name string, timeout time.Duration) (*zk.Conn, *cutDialer, *gozkStates) {
	h.t.Helper()
	d := &cutDialer{}
	states := &gozkStates{h: h, name: name}
	c, _, err := zk.Connect([]string{h.addr}, timeout,
		zk.WithDialer(d.dial), zk.WithLogger(silentZK{}), zk.WithLogInfo(false),
		zk.WithEventCallback(states.event))
	if err != nil {
		h.t.Fatalf("go-zookeeper connect: %v", err)
	}
	h.gozks = append(h.gozks, c)
	states.await(zk.StateHasSession)
	return c, d, states
}

// silentZK keeps go-zookeeper's reconnect chatter out of test output.
type silentZK struct{}

func (silentZK) Printf(string, ...any) {}

// gozkStates records a go-zookeeper session's state changes.
type gozkStates struct {
	h    *harness
	name string
	mu   sync.Mutex
	seen []zk.State
	wake chan struct{}
}

func (s *gozkStates) event(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, ev.State)
	if s.wake != nil {
		close(s.wake)
		s.wake = nil
	}
}

// await waits for state and logs it; states in between (connecting,
// disconnected) vary with timing and are not logged.
func (s *gozkStates) await(state zk.State) {
	deadline := time.After(asyncWait)
	for {
		s.mu.Lock()
		for i, st := range s.seen {
			if st == state {
				s.seen = s.seen[i+1:]
				s.mu.Unlock()
				s.h.log("%s state %s", s.name, state)
				return
			}
		}
		wake := make(chan struct{})
		s.wake = wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			s.h.log("%s state %s not reached within %v", s.name, state, asyncWait)
			return
		}
	}
}

// cutDialer lets a test sever a go-zookeeper client's connection and keep
// it from reconnecting until restored.
type cutDialer struct {
	mu      sync.Mutex
	blocked bool
	conns   []net.Conn
}

func (d *cutDialer) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.blocked {
		return nil, errors.New("cut by test")
	}
	c, err := net.DialTimeout(network, addr, timeout)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *cutDialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.blocked = true
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}

func (d *cutDialer) restore() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.blocked = false
}

// logGozkEvent waits for one event on a go-zookeeper watch channel.
func (h *harness) logGozkEvent(name string, ch <-chan zk.Event) {
	select {
	case ev, ok := <-ch:
		if !ok {
			h.log("%s watch channel closed", name)
			return
		}
		errs := ""
		if ev.Err != nil {
			errs = " err=" + ev.Err.Error()
		}
		h.log("%s watch %s %s state=%s%s", name, ev.Type, ev.Path, ev.State, errs)
	case <-time.After(asyncWait):
		h.log("%s no watch event within %v", name, asyncWait)
	}
}
