package server_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/hostile"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/coord/server/jute"
)

// zkOutcome is what a hostile frame must lead to.
type zkOutcome int

const (
	// closed: the server drops the connection (after any answers).
	closed zkOutcome = iota
	// refused: the request's reply carries an error code (want, or any
	// when want is 0) and the connection keeps serving.
	refused
	// refusedOrClosed: an error reply, or the connection dropped.
	refusedOrClosed
	// answeredOrClosed: before the handshake, bytes that happen to decode
	// as a connect request may get a session; either that or a close.
	answeredOrClosed
	// answered: the request gets a reply, whatever its code (a multi's
	// failures are in its body); the tree check is what judges it.
	answered
	// refusedThenClosed: the reply carries want (or, when the frame never
	// became a request, there is none) and then the server closes the
	// connection — how an authentication-enforcing server ends a session
	// that has not authenticated, or a failed addAuth.
	refusedThenClosed
)

// zkCase is one hostile input on the client port: raw bytes on a fresh
// connection, or, with session, frames sent after a real handshake.
type zkCase struct {
	name      string
	session   bool
	raw       []byte
	halfClose bool
	outcome   zkOutcome
	xid       int32 // the request whose reply is judged (refused)
	want      int32 // the error code wanted; 0: any error
}

// TestHostileInput is coord's part of issue 9's hostile input catalogue:
// garbage on the ZooKeeper port before and after the handshake, requests
// with invalid paths, ACLs, versions, modes and op codes. Each must be
// refused with an error code or end the connection; a healthy client
// keeps being served, and the znode tree is unchanged. Slow clients
// trickle beside the catalogue and must be dropped.
func TestHostileInput(t *testing.T) {
	srv := startServer(t, t.TempDir(), func(c *server.Config) { c.HandshakeTimeout = time.Second })
	addr := srv.Addr().String()
	good, _ := dial(t, addr, 4*time.Second)
	for _, p := range []string{"/hostile", "/hostile/child"} {
		if _, err := good.Create(p, []byte("seed"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	slow := []*hostile.SlowClient{
		hostile.Slow(t, "silent connection", addr, nil, nil),
		hostile.Slow(t, "connect request trickled", addr, nil, framed(jute.Marshal(&jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}))),
		hostile.Slow(t, "request trickled after the handshake", addr,
			framed(jute.Marshal(&jute.ConnectRequest{TimeOut: 200, Passwd: make([]byte, 16)})),
			framed(jute.Marshal(&jute.RequestHeader{Xid: 1, Type: jute.OpGetData}, &jute.PathWatchRequest{Path: "/hostile"}))),
	}

	before := znodeTree(t, good)
	n := 0
	for _, c := range zkCases() {
		n++
		if msg := runZKCase(t, addr, c); msg != "" {
			t.Errorf("%s: %s", c.name, msg)
		}
		if _, _, err := good.Get("/hostile"); err != nil {
			t.Fatalf("%s: a healthy client is no longer served: %v", c.name, err)
		}
		if after := znodeTree(t, good); after != before {
			t.Errorf("%s changed the tree:\nbefore %s\nafter  %s", c.name, before, after)
			before = after
		}
	}
	for _, c := range slow {
		if _, err := c.WaitClosed(20 * time.Second); err != nil {
			t.Error(err)
		}
		n++
	}
	t.Logf("hostile-input catalogue: %d cases against the coord server", n)
}

// znodeTree is every znode with its data and versions, one per line.
func znodeTree(t *testing.T, c *zk.Conn) string {
	t.Helper()
	var b strings.Builder
	var walk func(p string)
	walk = func(p string) {
		data, st, err := c.Get(p)
		if err != nil {
			t.Fatalf("get %s: %v", p, err)
		}
		fmt.Fprintf(&b, "%s %q v%d c%d a%d e%x\n", p, data, st.Version, st.Cversion, st.Aversion, st.EphemeralOwner)
		kids, _, err := c.Children(p)
		if err != nil {
			t.Fatalf("children %s: %v", p, err)
		}
		slices.Sort(kids)
		for _, k := range kids {
			walk(strings.TrimSuffix(p, "/") + "/" + k)
		}
	}
	walk("/")
	return b.String()
}

func framed(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// runZKCase sends c and judges what came back; "" when it is right.
func runZKCase(t *testing.T, addr string, c zkCase) string {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err.Error()
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if c.session {
		if _, err := nc.Write(framed(jute.Marshal(&jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}))); err != nil {
			return "handshake: " + err.Error()
		}
		if _, err := readZKFrame(nc); err != nil {
			return "handshake: " + err.Error()
		}
	}
	if _, err := nc.Write(c.raw); err != nil {
		if c.outcome == closed || c.outcome == refusedOrClosed || c.outcome == answeredOrClosed {
			return "" // dropped while we were still writing
		}
		return "write: " + err.Error()
	}
	if c.halfClose {
		_ = nc.(*net.TCPConn).CloseWrite()
	}
	switch c.outcome {
	case refusedThenClosed:
		for {
			f, err := readZKFrame(nc)
			if err != nil {
				if isEOF(err) {
					return ""
				}
				return "the connection stayed open: " + err.Error()
			}
			var h jute.ReplyHeader
			h.Decode(jute.NewDecoder(f))
			if h.Xid == c.xid && h.Err != c.want {
				return fmt.Sprintf("error code %d, want %d", h.Err, c.want)
			}
		}
	case closed, answeredOrClosed:
		// Whatever answers come, the connection must end (answeredOrClosed
		// may instead get a session, which closing ours ends).
		for {
			_, err := readZKFrame(nc)
			if err == nil {
				if c.outcome == answeredOrClosed {
					return ""
				}
				continue
			}
			if isEOF(err) {
				return ""
			}
			return "the connection stayed open: " + err.Error()
		}
	default:
		for {
			f, err := readZKFrame(nc)
			if err != nil {
				if c.outcome == refusedOrClosed && isEOF(err) {
					return ""
				}
				return "no reply: " + err.Error()
			}
			var h jute.ReplyHeader
			h.Decode(jute.NewDecoder(f))
			if h.Xid != c.xid {
				continue // a notification or another reply
			}
			switch {
			case c.outcome == answered:
				return ""
			case h.Err == 0:
				return "accepted (error code 0)"
			case c.want != 0 && h.Err != c.want:
				return fmt.Sprintf("error code %d, want %d", h.Err, c.want)
			}
			if c.outcome == refusedOrClosed {
				return ""
			}
			// Still serving this connection: a ping is answered.
			if _, err := nc.Write(framed(jute.Marshal(&jute.RequestHeader{Xid: -2, Type: jute.OpPing}))); err != nil {
				return "the connection was dropped after the refusal: " + err.Error()
			}
			for {
				f, err := readZKFrame(nc)
				if err != nil {
					return "the connection was dropped after the refusal: " + err.Error()
				}
				var ph jute.ReplyHeader
				ph.Decode(jute.NewDecoder(f))
				if ph.Xid == -2 {
					return ""
				}
			}
		}
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "connection reset")
}

func readZKFrame(nc net.Conn) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(nc, b); err != nil {
		return nil, err
	}
	return b, nil
}

// req is a framed request: header, then fields written by body.
func req(xid, op int32, body func(e *jute.Encoder)) []byte {
	e := &jute.Encoder{}
	e.Int(xid)
	e.Int(op)
	if body != nil {
		body(e)
	}
	return framed(e.B)
}

func worldACLs(e *jute.Encoder) {
	e.Int(1)
	e.Int(jute.PermAll)
	e.String("world")
	e.String("anyone")
}

func create(path string, flags int32) func(*jute.Encoder) {
	return func(e *jute.Encoder) { e.String(path); e.Buffer([]byte("x")); worldACLs(e); e.Int(flags) }
}

func zkCases() []zkCase {
	var cs []zkCase
	add := func(c zkCase) { cs = append(cs, c) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	connect := func(mut func(*jute.ConnectRequest)) []byte {
		r := jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}
		mut(&r)
		return framed(jute.Marshal(&r))
	}

	// Before the handshake.
	for _, b := range []struct {
		name string
		raw  []byte
	}{
		{"negative length", u32(0xfffffffe)},
		{"length -1", u32(0xffffffff)},
		{"2 GiB length", u32(0x7fffffff)},
		{"just over jute.maxbuffer", u32(jute.MaxBufferDefault + 1)},
		{"zero-length frame", u32(0)},
		{"3-byte frame", append(u32(3), 1, 2, 3)},
		{"HTTP on the ZooKeeper port", []byte("GET / HTTP/1.1\r\nHost: z\r\n\r\n")},
		{"TLS ClientHello", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}},
		{"unknown four-letter word", []byte("abcd")},
		{"connect with passwd length -5", func() []byte {
			e := &jute.Encoder{}
			e.Int(0)
			e.Long(0)
			e.Int(10000)
			e.Long(0)
			e.Int(-5)
			return framed(e.B)
		}()},
		{"connect with passwd length 2^31-1", func() []byte {
			e := &jute.Encoder{}
			e.Int(0)
			e.Long(0)
			e.Int(10000)
			e.Long(0)
			e.Int(0x7fffffff)
			e.B = append(e.B, make([]byte, 16)...)
			return framed(e.B)
		}()},
	} {
		add(zkCase{name: "pre-handshake " + b.name, raw: b.raw, outcome: closed})
	}
	add(zkCase{name: "pre-handshake truncated connect (half-close)", raw: append(u32(45), make([]byte, 10)...), halfClose: true, outcome: closed})
	add(zkCase{name: "pre-handshake resume of an unknown session", raw: connect(func(r *jute.ConnectRequest) { r.SessionID = 0x1234567 }), outcome: answeredOrClosed})
	add(zkCase{name: "pre-handshake negative timeout", raw: connect(func(r *jute.ConnectRequest) { r.TimeOut = -1 }), outcome: answeredOrClosed})
	add(zkCase{name: "pre-handshake protocol version 99", raw: connect(func(r *jute.ConnectRequest) { r.ProtocolVersion = 99 }), outcome: answeredOrClosed})
	add(zkCase{name: "pre-handshake 64 KiB password", raw: connect(func(r *jute.ConnectRequest) { r.Passwd = make([]byte, 64<<10) }), outcome: answeredOrClosed})
	add(zkCase{name: "pre-handshake last zxid from the future", raw: connect(func(r *jute.ConnectRequest) { r.LastZxidSeen = 1 << 62 }), outcome: answeredOrClosed})
	add(zkCase{name: "pre-handshake request before connect", raw: req(1, jute.OpCreate, create("/evil", 0)), outcome: answeredOrClosed})
	add(zkCase{name: "pre-handshake ping before connect", raw: req(-2, jute.OpPing, nil), outcome: answeredOrClosed})

	// Framing after the handshake.
	for _, b := range []struct {
		name string
		raw  []byte
	}{
		{"negative length", u32(0xfffffffe)},
		{"2 GiB length", u32(0x7fffffff)},
		{"just over jute.maxbuffer", u32(jute.MaxBufferDefault + 1)},
		{"zero-length frame", u32(0)},
		{"frame shorter than a header", append(u32(5), 0, 0, 0, 1, 0)},
		{"garbage header", append(u32(4), 0xff, 0xff, 0xff, 0x00)},
		{"setData of 2 MiB", req(1, jute.OpSetData, func(e *jute.Encoder) { e.String("/hostile"); e.Buffer(make([]byte, 2<<20)); e.Int(-1) })},
		{"close session, then more", append(req(1, jute.OpCloseSession, nil), req(2, jute.OpCreate, create("/after-close", 0))...)},
	} {
		add(zkCase{name: "session " + b.name, session: true, raw: b.raw, outcome: closed})
	}
	add(zkCase{name: "session truncated frame (half-close)", session: true, raw: append(u32(100), 0, 0, 0, 1), halfClose: true, outcome: closed})

	// Op codes nobody should send.
	for _, op := range []int32{999, -5, 0, 10, 23, 99, 108, 0x7fffffff, -0x80000000} {
		add(zkCase{name: fmt.Sprintf("unknown op code %d", op), session: true, raw: req(7, op, nil), outcome: refusedOrClosed, xid: 7, want: jute.ErrUnimplemented})
	}
	for _, op := range []int32{jute.OpCreateSession, jute.OpReconfig} {
		add(zkCase{name: fmt.Sprintf("op code %d not served", op), session: true, raw: req(7, op, func(e *jute.Encoder) { e.Int(0) }), outcome: refusedOrClosed, xid: 7})
	}

	// Bodies that do not decode.
	add(zkCase{name: "truncated create body", session: true, raw: req(3, jute.OpCreate, func(e *jute.Encoder) { e.String("/trunc"); e.Int(100) }), outcome: refusedOrClosed, xid: 3})
	add(zkCase{name: "path length -5", session: true, raw: req(3, jute.OpGetData, func(e *jute.Encoder) { e.Int(-5); e.Bool(false) }), outcome: refusedOrClosed, xid: 3})
	add(zkCase{name: "path length 2^31-1", session: true, raw: req(3, jute.OpGetData, func(e *jute.Encoder) { e.Int(0x7fffffff); e.B = append(e.B, "/hostile"...) }), outcome: refusedOrClosed, xid: 3})
	add(zkCase{name: "ACL count 2^31-1", session: true, raw: req(3, jute.OpCreate, func(e *jute.Encoder) { e.String("/acl"); e.Buffer(nil); e.Int(0x7fffffff); e.Int(0) }), outcome: refusedOrClosed, xid: 3})
	add(zkCase{name: "ACL count -1 (null)", session: true, raw: req(3, jute.OpCreate, func(e *jute.Encoder) { e.String("/acl"); e.Buffer(nil); e.Int(-1); e.Int(0) }), outcome: refusedOrClosed, xid: 3})
	add(zkCase{name: "setWatches with a huge count", session: true, raw: req(-8, jute.OpSetWatches, func(e *jute.Encoder) { e.Long(0); e.Int(0x7fffffff) }), outcome: refusedOrClosed, xid: -8})
	add(zkCase{name: "multi with an unknown op inside", session: true, raw: req(3, jute.OpMulti, func(e *jute.Encoder) {
		e.Int(999)
		e.Bool(false)
		e.Int(-1)
		e.String("/x")
	}), outcome: refusedOrClosed, xid: 3})
	add(zkCase{name: "multi without its done header", session: true, raw: req(3, jute.OpMulti, func(e *jute.Encoder) {
		e.Int(jute.OpDelete)
		e.Bool(false)
		e.Int(-1)
		e.String("/hostile/child")
		e.Int(-1)
	}), outcome: refusedOrClosed, xid: 3})

	// Invalid paths on every op that takes one.
	badPaths := map[string]string{
		"empty": "", "relative": "hostile", "trailing slash": "/hostile/", "double slash": "/hostile//child",
		"dot": "/hostile/./child", "dot-dot": "/hostile/../hostile", "NUL": "/hostile\x00", "control char": "/hostile\x01",
		"invalid UTF-8": "/hostile\xff\xfe",
	}
	names := make([]string, 0, len(badPaths))
	for k := range badPaths {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		p := badPaths[name]
		ops := []struct {
			op   string
			code int32
			body func(*jute.Encoder)
		}{
			{"create", jute.OpCreate, create(p, 0)},
			{"create sequential", jute.OpCreate, create(p, 2)},
			{"create2", jute.OpCreate2, create(p, 0)},
			{"delete", jute.OpDelete, func(e *jute.Encoder) { e.String(p); e.Int(-1) }},
			{"setData", jute.OpSetData, func(e *jute.Encoder) { e.String(p); e.Buffer([]byte("evil")); e.Int(-1) }},
			{"setACL", jute.OpSetACL, func(e *jute.Encoder) { e.String(p); worldACLs(e); e.Int(-1) }},
			{"getData", jute.OpGetData, func(e *jute.Encoder) { e.String(p); e.Bool(true) }},
			{"getChildren2", jute.OpGetChildren2, func(e *jute.Encoder) { e.String(p); e.Bool(true) }},
		}
		for _, o := range ops {
			switch {
			case name == "empty" && (o.op == "getData" || o.op == "getChildren2"):
				continue // ZooKeeper reads "" as the root, and so do we
			case name == "trailing slash" && o.op == "create sequential":
				continue // valid: the sequence number completes the name
			}
			add(zkCase{name: o.op + " path " + name, session: true, raw: req(5, o.code, o.body), outcome: refused, xid: 5})
		}
	}

	// Well-formed requests with values the server must refuse.
	add(zkCase{name: "create with an unknown mode", session: true, raw: req(5, jute.OpCreate, create("/mode", 99)), outcome: refused, xid: 5})
	add(zkCase{name: "create with mode -1", session: true, raw: req(5, jute.OpCreate, create("/mode", -1)), outcome: refused, xid: 5})
	add(zkCase{name: "create with no ACL", session: true, raw: req(5, jute.OpCreate, func(e *jute.Encoder) { e.String("/noacl"); e.Buffer(nil); e.Int(0); e.Int(0) }), outcome: refused, xid: 5, want: jute.ErrInvalidACL})
	add(zkCase{name: "create with an unknown ACL scheme", session: true, raw: req(5, jute.OpCreate, func(e *jute.Encoder) {
		e.String("/badacl")
		e.Buffer(nil)
		e.Int(1)
		e.Int(jute.PermAll)
		e.String("bogus")
		e.String("x")
		e.Int(0)
	}), outcome: refused, xid: 5, want: jute.ErrInvalidACL})
	add(zkCase{name: "create with a malformed ip ACL", session: true, raw: req(5, jute.OpCreate, func(e *jute.Encoder) {
		e.String("/badip")
		e.Buffer(nil)
		e.Int(1)
		e.Int(jute.PermAll)
		e.String("ip")
		e.String("300.1.2.3/99")
		e.Int(0)
	}), outcome: refused, xid: 5, want: jute.ErrInvalidACL})
	add(zkCase{name: "create under a missing parent", session: true, raw: req(5, jute.OpCreate, create("/no/such/parent", 0)), outcome: refused, xid: 5, want: jute.ErrNoNode})
	add(zkCase{name: "create what exists", session: true, raw: req(5, jute.OpCreate, create("/hostile", 0)), outcome: refused, xid: 5, want: jute.ErrNodeExists})
	add(zkCase{name: "create the root", session: true, raw: req(5, jute.OpCreate, create("/", 0)), outcome: refused, xid: 5})
	for _, ttl := range []int64{-1, 0, 1 << 62} {
		add(zkCase{name: fmt.Sprintf("createTTL with ttl %d", ttl), session: true, raw: req(5, jute.OpCreateTTL, func(e *jute.Encoder) {
			e.String("/ttl")
			e.Buffer(nil)
			worldACLs(e)
			e.Int(5) // persistent with TTL
			e.Long(ttl)
		}), outcome: refused, xid: 5})
	}
	add(zkCase{name: "createTTL with an ephemeral mode", session: true, raw: req(5, jute.OpCreateTTL, func(e *jute.Encoder) {
		e.String("/ttl")
		e.Buffer(nil)
		worldACLs(e)
		e.Int(1)
		e.Long(1000)
	}), outcome: refused, xid: 5})
	add(zkCase{name: "delete the root", session: true, raw: req(5, jute.OpDelete, func(e *jute.Encoder) { e.String("/"); e.Int(-1) }), outcome: refused, xid: 5})
	add(zkCase{name: "delete with a wrong version", session: true, raw: req(5, jute.OpDelete, func(e *jute.Encoder) { e.String("/hostile/child"); e.Int(999) }), outcome: refused, xid: 5, want: jute.ErrBadVersion})
	add(zkCase{name: "delete a node with children", session: true, raw: req(5, jute.OpDelete, func(e *jute.Encoder) { e.String("/hostile"); e.Int(-1) }), outcome: refused, xid: 5, want: jute.ErrNotEmpty})
	add(zkCase{name: "setData with version -5", session: true, raw: req(5, jute.OpSetData, func(e *jute.Encoder) { e.String("/hostile"); e.Buffer([]byte("evil")); e.Int(-5) }), outcome: refused, xid: 5, want: jute.ErrBadVersion})
	add(zkCase{name: "setData with version 2^31-1", session: true, raw: req(5, jute.OpSetData, func(e *jute.Encoder) { e.String("/hostile"); e.Buffer([]byte("evil")); e.Int(0x7fffffff) }), outcome: refused, xid: 5, want: jute.ErrBadVersion})
	add(zkCase{name: "setData of a missing node", session: true, raw: req(5, jute.OpSetData, func(e *jute.Encoder) { e.String("/nope"); e.Buffer(nil); e.Int(-1) }), outcome: refused, xid: 5, want: jute.ErrNoNode})
	add(zkCase{name: "setACL with no ACL", session: true, raw: req(5, jute.OpSetACL, func(e *jute.Encoder) { e.String("/hostile"); e.Int(0); e.Int(-1) }), outcome: refused, xid: 5, want: jute.ErrInvalidACL})
	add(zkCase{name: "addWatch with an unknown mode", session: true, raw: req(5, jute.OpAddWatch, func(e *jute.Encoder) { e.String("/hostile"); e.Int(99) }), outcome: refused, xid: 5})
	add(zkCase{name: "removeWatches with an unknown type", session: true, raw: req(5, jute.OpRemoveWatches, func(e *jute.Encoder) { e.String("/hostile"); e.Int(99) }), outcome: refused, xid: 5})
	add(zkCase{name: "check with a wrong version", session: true, raw: req(5, jute.OpCheck, func(e *jute.Encoder) { e.String("/hostile"); e.Int(77) }), outcome: refused, xid: 5})
	add(zkCase{name: "multi that fails half-way is atomic", session: true, raw: req(5, jute.OpMulti, func(e *jute.Encoder) {
		for _, op := range []struct {
			code int32
			body func(*jute.Encoder)
		}{
			{jute.OpCreate, create("/hostile/multi", 0)},
			{jute.OpSetData, func(e *jute.Encoder) { e.String("/hostile"); e.Buffer([]byte("evil")); e.Int(-1) }},
			{jute.OpDelete, func(e *jute.Encoder) { e.String("/nope"); e.Int(-1) }},
		} {
			e.Int(op.code)
			e.Bool(false)
			e.Int(-1)
			op.body(e)
		}
		e.Int(-1)
		e.Bool(true)
		e.Int(-1)
	}), outcome: answered, xid: 5})
	add(zkCase{name: "multiRead with a write inside", session: true, raw: req(5, jute.OpMultiRead, func(e *jute.Encoder) {
		e.Int(jute.OpCreate)
		e.Bool(false)
		e.Int(-1)
		create("/hostile/mr", 0)(e)
		e.Int(-1)
		e.Bool(true)
		e.Int(-1)
	}), outcome: refusedOrClosed, xid: 5})
	add(zkCase{name: "auth with an unknown scheme", session: true, raw: req(-4, jute.OpAuth, func(e *jute.Encoder) { e.Int(0); e.String("kerberos9"); e.Buffer([]byte("x")) }), outcome: refusedOrClosed, xid: -4})
	pipelined := bytes.Repeat(req(9, 4242, nil), 1000)
	add(zkCase{name: "1000 pipelined garbage requests", session: true, raw: pipelined, outcome: refusedOrClosed, xid: 9, want: jute.ErrUnimplemented})
	return cs
}
