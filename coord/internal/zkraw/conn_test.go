package zkraw

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
)

// fakeServer accepts one connection and hands it to serve, which speaks
// whatever the test needs; it is the only way to make a server misbehave
// on cue.
func fakeServer(t *testing.T, serve func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // owned by the test: ends after one connection
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		serve(nc)
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// handshake answers the connect request with session 42.
func handshake(t *testing.T, nc net.Conn) jute.ConnectRequest {
	b, err := ReadFrame(nc)
	if err != nil {
		t.Errorf("read connect request: %v", err)
		return jute.ConnectRequest{}
	}
	var req jute.ConnectRequest
	if err := jute.Unmarshal(b, &req); err != nil {
		t.Errorf("decode connect request: %v", err)
	}
	nc.Write(Frame(jute.Marshal(&jute.ConnectResponse{TimeOut: req.TimeOut, SessionID: 42, Passwd: []byte("0123456789abcdef")})))
	return req
}

func reply(nc net.Conn, xid int32, zxid int64, code int32, body jute.Record) {
	var e jute.Encoder
	(&jute.ReplyHeader{Xid: xid, Zxid: zxid, Err: code}).Encode(&e)
	if body != nil {
		body.Encode(&e)
	}
	nc.Write(Frame(e.B))
}

func readRequest(t *testing.T, nc net.Conn) jute.RequestHeader {
	b, err := ReadFrame(nc)
	if err != nil {
		t.Errorf("read request: %v", err)
		return jute.RequestHeader{}
	}
	var h jute.RequestHeader
	h.Decode(jute.NewDecoder(b))
	return h
}

func TestPipelinedRepliesAndEventOrder(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn) {
		req := handshake(t, nc)
		if !req.ReadOnly || req.TimeOut != 3000 {
			t.Errorf("connect request %+v: want readOnly and timeout 3000", req)
		}
		h1 := readRequest(t, nc)
		h2 := readRequest(t, nc)
		reply(nc, h1.Xid, 7, jute.ErrOk, &jute.PathResponse{Path: "/a"})
		reply(nc, jute.XidNotification, -1, 0, &jute.WatcherEvent{Type: jute.EventNodeCreated, State: jute.StateSyncConnected, Path: "/a"})
		reply(nc, h2.Xid, 7, jute.ErrNoNode, nil)
		io.Copy(io.Discard, nc)
	})
	c, resp, err := Dial(addr, Session{Timeout: 3 * time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp.SessionID != 42 || c.SessionID() != 42 || c.Timeout() != 3*time.Second {
		t.Fatalf("handshake answer %+v", resp)
	}
	p1, err := c.Send(jute.OpCreate, &jute.CreateRequest{Path: "/a", ACL: OpenACL})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.Send(jute.OpGetData, &jute.PathWatchRequest{Path: "/b"})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := p1.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var pr jute.PathResponse
	if err := r1.Decode(&pr); err != nil || pr.Path != "/a" || r1.Zxid != 7 {
		t.Fatalf("first reply %+v (%v): want /a at zxid 7", r1, err)
	}
	r2, err := p2.Wait()
	if err != nil || r2.Err != jute.ErrNoNode {
		t.Fatalf("second reply %+v (%v): want NoNode", r2, err)
	}
	evs := c.DrainEvents()
	if len(evs) != 1 || evs[0].Path != "/a" || evs[0].Type != jute.EventNodeCreated {
		t.Fatalf("events %+v: want one NodeCreated /a", evs)
	}
	if !(r1.Seq < evs[0].Seq && evs[0].Seq < r2.Seq) {
		t.Fatalf("arrival order r1=%d event=%d r2=%d: want the event between the replies", r1.Seq, evs[0].Seq, r2.Seq)
	}
}

func TestSpecialXidsAndRawRequests(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn) {
		handshake(t, nc)
		for i := 0; i < 3; i++ {
			h := readRequest(t, nc)
			switch h.Type {
			case jute.OpAuth:
				reply(nc, h.Xid, 0, jute.ErrAuthFailed, nil)
			default:
				reply(nc, h.Xid, 1, jute.ErrOk, nil)
			}
		}
		io.Copy(io.Discard, nc)
	})
	c, _, err := Dial(addr, Session{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, err := c.Ping(); err != nil || r.Xid != jute.XidPing {
		t.Fatalf("ping: %+v %v", r, err)
	}
	if r, err := c.AddAuth("digest", []byte("u:p")); err != nil || r.Err != jute.ErrAuthFailed {
		t.Fatalf("auth: %+v %v", r, err)
	}
	call, err := c.SendRaw(0, 999, []byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := call.Wait(); err != nil || r.Err != jute.ErrOk {
		t.Fatalf("raw request: %+v %v", r, err)
	}
}

func TestServerCloseFailsPendingCalls(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn) {
		handshake(t, nc)
		readRequest(t, nc)
	})
	c, _, err := Dial(addr, Session{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	call, err := c.Send(jute.OpSync, &jute.PathRequest{Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call.Wait(); !errors.Is(err, ErrClosed) {
		t.Fatalf("wait after the server closed: %v, want ErrClosed", err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after the server closed the connection")
	}
	if !errors.Is(c.Err(), io.EOF) {
		t.Fatalf("Err = %v, want EOF", c.Err())
	}
	if _, err := c.Send(jute.OpSync, &jute.PathRequest{Path: "/"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("send on a closed connection: %v, want ErrClosed", err)
	}
}

func TestReplyForUnsentXidEndsConnection(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn) {
		handshake(t, nc)
		reply(nc, 99, 0, 0, nil)
		io.Copy(io.Discard, nc)
	})
	c, _, err := Dial(addr, Session{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-c.Done()
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "never sent") {
		t.Fatalf("Err = %v, want a protocol error", err)
	}
}

func TestFourLetter(t *testing.T) {
	addr := fakeServer(t, func(nc net.Conn) {
		b := make([]byte, 4)
		io.ReadFull(nc, b)
		if string(b) == "ruok" {
			io.WriteString(nc, "imok")
		}
	})
	out, err := FourLetter(addr, "ruok")
	if err != nil || out != "imok" {
		t.Fatalf("FourLetter = %q, %v", out, err)
	}
}

func TestTranscriptNormalizes(t *testing.T) {
	tr := NewTranscript()
	tr.SetBase(100)
	now := time.Now().UnixMilli()
	owner := int64(0x1000abc)
	if got := tr.Session(owner); got != "s1" {
		t.Fatalf("first session named %q", got)
	}
	st := jute.Stat{Czxid: 101, Mzxid: 103, Pzxid: 100, Ctime: now, Mtime: now + 5, Version: 2, EphemeralOwner: owner, DataLength: 3}
	want := "{czxid=z+1 mzxid=z+3 pzxid=z0 ctime=t mtime>=ctime version=2 cversion=0 aversion=0 owner=s1 len=3 children=0}"
	if got := tr.Stat(st); got != want {
		t.Fatalf("Stat:\n got %s\nwant %s", got, want)
	}
	if got := tr.Owner(-0x100000000000000 + 500); got != "0xff000000000001f4" {
		t.Fatalf("TTL owner rendered %q", got)
	}
	if got := tr.Stat(jute.Stat{Ctime: 1000, Mtime: 1000}); !strings.Contains(got, "ctime=implausible(1000)") {
		t.Fatalf("a 1970 ctime is not flagged: %s", got)
	}
	body := jute.Marshal(&jute.ChildrenResponse{Children: []string{"b", "a"}})
	if got := tr.Reply(jute.OpGetChildren, Reply{Zxid: 99, Body: body}); got != `-> ok zxid=z-1 children=["a" "b"]` {
		t.Fatalf("Reply: %s", got)
	}
}
