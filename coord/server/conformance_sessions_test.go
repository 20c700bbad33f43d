package server_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/internal/zkraw"
	"github.com/strata-dc/strata/coord/server/jute"
)

// Cases about sessions and connections: handshake, expiry, resumption,
// closing, the server's own reaping of containers and TTL nodes, and input
// the server must refuse without harming anyone else.

func caseTimeoutNegotiation(h *harness) {
	for _, tc := range []struct {
		name string
		s    zkraw.Session
	}{
		{"T1", zkraw.Session{Timeout: 1 * millis}},
		{"T2", zkraw.Session{Timeout: 0}},
		{"T3", zkraw.Session{Timeout: time.Hour}},
		{"T4", zkraw.Session{Timeout: 1234 * millis}},
		{"T5", zkraw.Session{Timeout: 3000 * millis, ReadOnly: true}},
		{"T6", zkraw.Session{Timeout: 3000 * millis, ProtocolVersion: 7}},
		{"T7", zkraw.Session{Timeout: -5 * millis}},
	} {
		h.dial(tc.name, tc.s, fmt.Sprintf("connect timeout=%d readOnly=%t protocol=%d",
			tc.s.Timeout.Milliseconds(), tc.s.ReadOnly, tc.s.ProtocolVersion))
	}
	// A client that has seen a zxid from the future is refused.
	h.dial("F", zkraw.Session{Timeout: 3000 * millis, LastZxid: 1 << 50}, "connect lastZxidSeen=2^50")
	// An old client omits the readOnly flag; the answer then omits it too.
	h.rawHandshake("O", oldConnectRequest{TimeOut: 3000})
	// A new session's password is not all zeros, and a session id the
	// server never issued is not resumable.
	h.dial("U", zkraw.Session{Timeout: 3000 * millis, ID: 0x7fff000000000001, Passwd: make([]byte, 16)}, "resume unknown session")
}

// oldConnectRequest is a pre-3.3 ConnectRequest: no readOnly flag.
type oldConnectRequest struct{ TimeOut int32 }

func (r oldConnectRequest) Encode(e *jute.Encoder) {
	e.Int(0)
	e.Long(0)
	e.Int(r.TimeOut)
	e.Long(0)
	e.Buffer(make([]byte, 16))
}

func (r oldConnectRequest) Decode(d *jute.Decoder) {}

// rawHandshake sends req on a plain socket and logs the shape of the
// answer: its length says whether the readOnly byte was there.
func (h *harness) rawHandshake(name string, req jute.Record) {
	nc, err := net.DialTimeout("tcp", h.addr, 10*time.Second)
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	nc.Write(zkraw.Frame(jute.Marshal(req)))
	b, err := zkraw.ReadFrame(nc)
	if err != nil {
		h.log("%s old-style connect -> no answer", name)
		return
	}
	var resp jute.ConnectResponse
	resp.Decode(jute.NewDecoder(b))
	h.log("%s old-style connect -> %d bytes session=%s timeout=%d", name, len(b), h.tr.Session(resp.SessionID), resp.TimeOut)
	// Close the session it opened, so it cannot expire in a later case.
	var e jute.Encoder
	(&jute.RequestHeader{Xid: 1, Type: jute.OpCloseSession}).Encode(&e)
	nc.Write(zkraw.Frame(e.B))
	zkraw.ReadFrame(nc)
}

func caseSessionExpiry(h *harness) {
	// Short, but well above the 2-tick minimum, so a loaded machine does
	// not expire A before it has created its nodes.
	a := h.connect("A", 1000*millis)
	b := h.connect("B", 4000*millis)
	c := h.connect("C", 4000*millis)
	sub := h.p("sub")
	b.do(jute.OpCreate, reqCreate(sub, "", jute.FlagPersistent))
	a.do(jute.OpCreate2, reqCreate(h.p("e"), "", jute.FlagEphemeral))
	a.do(jute.OpCreate2, reqCreate(sub+"/s-", "", jute.FlagEphemeralSequential))
	b.do(jute.OpExists, reqWatch(h.p("e"), true))
	c.do(jute.OpGetChildren, reqWatch(sub, true))
	a.drop()
	b.awaitEvent()
	c.awaitEvent()
	b.do(jute.OpExists, reqWatch(h.p("e"), false))
	c.do(jute.OpGetChildren2, reqWatch(sub, false))
	// The expired session cannot be resumed: timeout 0, then the server
	// closes the connection.
	a2 := h.resume("A2", a, nil)
	a2.expectClosed()
	b.do(jute.OpGetChildren2, reqWatch(h.root, false))
}

// caseSessionExpiryGozk: go-zookeeper reports StateExpired when it
// reconnects after its session has expired.
func caseSessionExpiryGozk(h *harness) {
	b := h.connect("B", 4000*millis)
	g, cut, states := h.gozk("G", 1000*millis)
	e := h.p("e")
	if _, err := g.Create(e, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		h.log("G create %s: %v", e, err)
	}
	_, _, w, err := g.GetW(e)
	if err != nil {
		h.t.Fatalf("GetW: %v", err)
	}
	b.do(jute.OpExists, reqWatch(e, true))
	cut.cut()
	h.log("G connection cut")
	b.awaitEvent()
	cut.restore()
	h.log("G may reconnect")
	states.await(zk.StateExpired)
	h.logGozkEvent("G", w)
	states.await(zk.StateHasSession)
	b.do(jute.OpExists, reqWatch(e, false))
}

func caseSessionResume(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	e := h.p("e")
	a.do(jute.OpCreate2, reqCreate(e, "", jute.FlagEphemeral))
	a.do(jute.OpGetData, reqWatch(e, true))
	a.drop()
	a2 := h.resume("A2", a, nil)
	a2.do(jute.OpExists, reqWatch(e, false))
	// Watches belong to the connection: the old one's is gone.
	b.do(jute.OpSetData, reqSetData(e, "x", -1))
	a2.flush()
	// Resuming while the old connection is open moves the session: the
	// old connection is closed.
	a3 := h.resume("A3", a2, nil)
	a2.expectClosed()
	a3.do(jute.OpExists, reqWatch(e, false))
	// A wrong password gets timeout 0 and a closed connection, and the
	// session's current connection is closed too; the session lives on.
	bad := h.resume("BAD", a3, []byte("0123456789abcdef"))
	bad.expectClosed()
	a3.expectClosed()
	a4 := h.resume("A4", a3, nil)
	a4.do(jute.OpGetData, reqWatch(e, true))
	// Closing the session deletes its ephemerals: B sees the node go and
	// then its parent's children change, from one transaction.
	b.do(jute.OpExists, reqWatch(e, true))
	b.do(jute.OpGetChildren, reqWatch(h.root, true))
	a4.closeSession()
	b.flush()
	b.do(jute.OpGetChildren2, reqWatch(h.root, false))
	// A closed session cannot be resumed.
	a5 := h.resume("A5", a4, nil)
	a5.expectClosed()
	// The server closes the connection after answering closeSession.
	c := h.connect("C", 4000*millis)
	c.do(jute.OpCloseSession, nil)
	c.expectClosed()
}

func caseContainerTTL(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	c := h.connect("C", 4000*millis)
	k, keep, tp, t := h.p("k"), h.p("keep"), h.p("ttlparent"), h.p("ttl")
	a.do(jute.OpCreateContainer, reqCreate(k, "", jute.FlagContainer))
	a.do(jute.OpCreate, reqCreate(k+"/child", "", jute.FlagPersistent))
	a.do(jute.OpCreateContainer, reqCreate(keep, "", jute.FlagContainer))
	// A TTL node with a child outlives its TTL; one multi creates both, so
	// the reaper cannot come between them.
	a.do(jute.OpMulti, reqMulti(
		multiOp(jute.OpCreateTTL, reqCreateTTL(tp, jute.FlagPersistentWithTTL, 200)),
		multiOp(jute.OpCreate, reqCreate(tp+"/kid", "", jute.FlagPersistent)),
	))
	b.do(jute.OpExists, reqWatch(k, true))
	// The container goes once its last child has gone.
	a.do(jute.OpDelete, reqPathVersion(k+"/child", -1))
	b.awaitEvent()
	b.do(jute.OpExists, reqWatch(k, false))
	// A container that never had a child stays.
	b.do(jute.OpExists, reqWatch(keep, false))
	// A childless TTL node goes once it is older than its TTL. The
	// persistent watch is set before the create, so it sees both.
	c.do(jute.OpAddWatch, &jute.AddWatchRequest{Path: t, Mode: jute.AddWatchPersistent})
	a.do(jute.OpCreateTTL, reqCreateTTL(t, jute.FlagPersistentWithTTL, 500))
	c.awaitEvent()
	c.awaitEvent()
	c.do(jute.OpExists, reqWatch(t, false))
	a.do(jute.OpExists, reqWatch(tp, false))
	a.do(jute.OpGetChildren, reqWatch(h.root, false))
}

func caseMaxBuffer(h *harness) {
	a := h.connect("A", 4000*millis)
	b := h.connect("B", 4000*millis)
	big := h.p("big")
	// Frames exactly at jute.maxbuffer's default (0xfffff bytes) are
	// accepted; one byte more closes the connection.
	const limit = 0xfffff
	a.do(jute.OpCreate, sized(&jute.CreateRequest{Path: big, ACL: zkraw.OpenACL}, jute.OpCreate, limit))
	b.do(jute.OpExists, reqWatch(big, false))
	a.do(jute.OpSetData, sized(&jute.SetDataRequest{Path: big, Version: -1}, jute.OpSetData, limit))
	a.do(jute.OpSetData, sized(&jute.SetDataRequest{Path: big, Version: -1}, jute.OpSetData, limit+1))
	a.expectClosed()
	b.do(jute.OpExists, reqWatch(big, false))
	c := h.connect("C", 4000*millis)
	c.do(jute.OpCreate, &jute.CreateRequest{Path: big + "2", Data: bytes.Repeat([]byte("x"), 2<<20), ACL: zkraw.OpenACL})
	c.expectClosed()
	b.do(jute.OpExists, reqWatch(big+"2", false))
	// A frame that only claims to be huge is refused before its body.
	d := h.connect("D", 4000*millis)
	var lb [4]byte
	binary.BigEndian.PutUint32(lb[:], 0x7fffffff)
	d.c.WriteRaw(lb[:])
	d.expectClosed()
	b.do(jute.OpGetChildren, reqWatch(h.root, false))
}

// sized fills req's data so that its frame (header and body, without the
// length prefix) is exactly frameLen bytes.
func sized(req jute.Record, op int32, frameLen int) jute.Record {
	size := func() int { return len(jute.Marshal(&jute.RequestHeader{Type: op}, req)) }
	switch r := req.(type) {
	case *jute.CreateRequest:
		r.Data = []byte{}
		r.Data = bytes.Repeat([]byte("x"), frameLen-size())
	case *jute.SetDataRequest:
		r.Data = []byte{}
		r.Data = bytes.Repeat([]byte("y"), frameLen-size())
	}
	return req
}

func caseMalformed(h *harness) {
	b := h.connect("B", 4000*millis)
	// Before the handshake.
	h.rawBytes("M1", zkraw.Frame([]byte("abc")))
	h.rawBytes("M2", []byte{0xff, 0xff, 0xff, 0xff})
	h.rawBytes("M3", zkraw.Frame(nil))
	h.rawBytes("M4", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	b.do(jute.OpExists, reqWatch(h.root, false))
	// After it, each on its own session: bodies that do not decode, ops
	// that do not exist or are not for clients.
	for i, tc := range []struct {
		op   int32
		body []byte
	}{
		{999, nil},
		{jute.OpCreate, []byte{0, 0, 0}},
		{jute.OpGetData, []byte{0xff, 0xff, 0xff, 0xf0, 0}},
		{jute.OpSetData, append(strBytes(h.p("x")), 0x7f, 0xff, 0xff, 0xff)},
		{jute.OpMulti, []byte{0, 0, 0, 4, 0, 0, 0, 0, 0}},
		{jute.OpCreateSession, nil},
		{jute.OpSasl, []byte{0, 0, 0, 0}},
		{jute.OpReconfig, []byte{0, 0, 0, 0}},
		{jute.OpDeleteContainer, strBytes(h.root)},
		{jute.OpCreate, append(append(strBytes(h.p("x")), 0xff, 0xff, 0xff, 0xff), 0x7f, 0, 0, 0)},
	} {
		p := h.connect(fmt.Sprintf("R%d", i+1), 4000*millis)
		p.raw(tc.op, tc.body)
		p.do(jute.OpExists, reqWatch(h.root, false))
	}
	// Frames too short to hold a request header.
	for i, frame := range [][]byte{zkraw.Frame([]byte{0, 0}), zkraw.Frame(nil)} {
		p := h.connect(fmt.Sprintf("S%d", i+1), 4000*millis)
		p.c.WriteRaw(frame)
		p.expectClosed()
	}
	b.do(jute.OpExists, reqWatch(h.root, false))
}

// rawBytes sends b on a fresh socket with no handshake and logs whether the
// server closed it (and what it wrote first, if anything).
func (h *harness) rawBytes(name string, b []byte) {
	nc, err := net.DialTimeout("tcp", h.addr, 10*time.Second)
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	nc.Write(b)
	out, err := io.ReadAll(nc)
	switch {
	case err != nil && !isReset(err):
		h.log("%s %q -> still open", name, b)
	case len(out) > 0:
		h.log("%s %q -> %q then closed by server", name, b, out)
	default:
		h.log("%s %q -> closed by server", name, b)
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe")
}

func reqFrame(xid, op int32, body []byte) []byte {
	var e jute.Encoder
	(&jute.RequestHeader{Xid: xid, Type: op}).Encode(&e)
	return zkraw.Frame(append(e.B, body...))
}

func strBytes(s string) []byte {
	var e jute.Encoder
	e.String(s)
	return e.B
}
