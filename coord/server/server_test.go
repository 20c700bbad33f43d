package server_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"

	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/coord/server/jute"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer runs an embedded server on a free loopback port with its data
// in dir, and stops it when the test ends.
func startServer(t testing.TB, dir string, mut ...func(*server.Config)) *server.Server {
	t.Helper()
	cfg := server.Config{
		DataDir:                dir,
		ClientAddress:          "127.0.0.1:0",
		TickTime:               100 * time.Millisecond,
		ForceSync:              true,
		FourLetterWords:        []string{"*"},
		ContainerCheckInterval: 100 * time.Millisecond,
		Logger:                 quietLogger(),
	}
	for _, m := range mut {
		m(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func dial(t testing.TB, addr string, timeout time.Duration) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	c, ev, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(discard{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	waitState(t, ev, zk.StateHasSession)
	return c, ev
}

type discard struct{}

func (discard) Printf(string, ...interface{}) {}

func waitState(t testing.TB, ev <-chan zk.Event, want zk.State) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %v within 10s", want)
		}
	}
}

func TestRestartKeepsDataZxidAndSessions(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	addr := srv.Addr().String()

	c, ev := dial(t, addr, 4*time.Second)
	if _, err := c.Create("/keep", []byte("v1"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	_, before, err := c.Get("/keep")
	if err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	srv.Close()

	// Same port, same data: the client reconnects within its timeout and
	// keeps its session and its ephemeral.
	srv2 := startServer(t, dir, func(cfg *server.Config) { cfg.ClientAddress = addr })
	_ = srv2
	waitState(t, ev, zk.StateHasSession)
	if c.SessionID() != sid {
		t.Fatalf("session changed across restart: %x → %x", sid, c.SessionID())
	}
	data, after, err := c.Get("/keep")
	if err != nil || string(data) != "v1" {
		t.Fatalf("after restart: %q %v", data, err)
	}
	if after.Czxid != before.Czxid || after.Mzxid != before.Mzxid {
		t.Errorf("stat changed across restart: %+v → %+v", before, after)
	}
	if ok, _, err := c.Exists("/eph"); err != nil || !ok {
		t.Fatalf("ephemeral lost across restart: %v %v", ok, err)
	}
	// New writes continue the zxid sequence.
	st, err := c.Set("/keep", []byte("v2"), -1)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mzxid <= before.Mzxid {
		t.Errorf("zxid went backwards: %d after %d", st.Mzxid, before.Mzxid)
	}
}

func TestSessionExpiresWhileServerDown(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	addr := srv.Addr().String()
	// A raw session (400 ms) whose client vanishes without closeSession.
	nc, _ := rawSessionTimeout(t, addr, 400)
	writeFrame(t, nc, jute.Marshal(&jute.RequestHeader{Xid: 1, Type: jute.OpCreate},
		&jute.CreateRequest{Path: "/gone", ACL: worldACL(), Flags: jute.FlagEphemeral}))
	d := jute.NewDecoder(readFrame(t, nc))
	var h jute.ReplyHeader
	h.Decode(d)
	if h.Err != 0 {
		t.Fatalf("create ephemeral: %d", h.Err)
	}
	nc.Close()
	srv.Close()

	srv2 := startServer(t, dir, func(cfg *server.Config) { cfg.ClientAddress = addr })
	c2, _ := dial(t, srv2.Addr().String(), 2*time.Second)
	if ok, _, err := c2.Exists("/gone"); err != nil || !ok {
		t.Fatalf("right after restart the session is still within its timeout; its ephemeral must exist: %v %v", ok, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, _, err := c2.Exists("/gone")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ephemeral of a dead session survived its timeout after restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestThousandConnections(t *testing.T) {
	srv := startServer(t, t.TempDir(), func(c *server.Config) { c.MaxClientCnxns = 0 })
	addr := srv.Addr().String()
	const n = 1000
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, nc)
		writeFrame(t, nc, jute.Marshal(&jute.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}))
	}
	for i, nc := range conns {
		var resp jute.ConnectResponse
		if err := jute.Unmarshal(readFrame(t, nc), &resp); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if resp.SessionID == 0 || resp.TimeOut == 0 {
			t.Fatalf("connection %d: no session: %+v", i, resp)
		}
	}
	// Every one of them is served.
	for i, nc := range conns {
		writeFrame(t, nc, jute.Marshal(&jute.RequestHeader{Xid: 1, Type: jute.OpExists}, &jute.PathWatchRequest{Path: "/"}))
		var h jute.ReplyHeader
		d := jute.NewDecoder(readFrame(t, nc))
		h.Decode(d)
		if h.Xid != 1 || h.Err != 0 {
			t.Fatalf("connection %d: reply %+v", i, h)
		}
	}
}

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	srv := startServer(t, t.TempDir())
	nc, _ := rawSession(t, srv.Addr().String())
	const n = 500
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		var body jute.Record
		op := jute.OpCreate
		switch i % 3 {
		case 0:
			body = &jute.CreateRequest{Path: fmt.Sprintf("/p%d", i), Data: []byte("x"), ACL: worldACL()}
		case 1:
			op = jute.OpGetData
			body = &jute.PathWatchRequest{Path: fmt.Sprintf("/p%d", i-1)}
		case 2:
			op = jute.OpSetData
			body = &jute.SetDataRequest{Path: fmt.Sprintf("/p%d", i-2), Data: []byte("y"), Version: 0}
		}
		frame := jute.Marshal(&jute.RequestHeader{Xid: int32(i + 1), Type: op}, body)
		binary.Write(&buf, binary.BigEndian, int32(len(frame)))
		buf.Write(frame)
	}
	if _, err := nc.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	var lastZxid int64
	for i := 0; i < n; i++ {
		d := jute.NewDecoder(readFrame(t, nc))
		var h jute.ReplyHeader
		h.Decode(d)
		if h.Xid != int32(i+1) {
			t.Fatalf("reply %d has xid %d: out of order", i+1, h.Xid)
		}
		if h.Err != 0 {
			t.Fatalf("reply %d: error %d", i+1, h.Err)
		}
		if h.Zxid < lastZxid {
			t.Fatalf("reply %d: zxid %d after %d", i+1, h.Zxid, lastZxid)
		}
		lastZxid = h.Zxid
		if i%3 == 1 {
			var r jute.GetDataResponse
			r.Decode(d)
			if string(r.Data) != "x" {
				t.Fatalf("read %d saw %q, want the create before it", i+1, r.Data)
			}
		}
	}
}

func TestMalformedInputClosesOnlyThatConnection(t *testing.T) {
	srv := startServer(t, t.TempDir())
	addr := srv.Addr().String()
	good, _ := dial(t, addr, 4*time.Second)

	bad := map[string][]byte{
		"negative length":        {0xff, 0xff, 0xff, 0xfe},
		"over jute.maxbuffer":    binary.BigEndian.AppendUint32(nil, 2<<20),
		"garbage after session":  nil, // filled below
		"truncated create body":  nil,
		"unknown op is answered": nil,
	}
	for name, frame := range bad {
		t.Run(name, func(t *testing.T) {
			var nc net.Conn
			switch name {
			case "garbage after session":
				nc, _ = rawSession(t, addr)
				writeFrame(t, nc, []byte{0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x00})
			case "truncated create body":
				nc, _ = rawSession(t, addr)
				f := jute.Marshal(&jute.RequestHeader{Xid: 1, Type: jute.OpCreate}, &jute.CreateRequest{Path: "/x", ACL: worldACL()})
				writeFrame(t, nc, f[:len(f)-3])
			case "unknown op is answered":
				nc, _ = rawSession(t, addr)
				writeFrame(t, nc, jute.Marshal(&jute.RequestHeader{Xid: 7, Type: 999}))
				d := jute.NewDecoder(readFrame(t, nc))
				var h jute.ReplyHeader
				h.Decode(d)
				if h.Xid != 7 || h.Err != jute.ErrUnimplemented {
					t.Fatalf("unknown op: %+v", h)
				}
				return
			default:
				var err error
				nc, err = net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				nc.Write(frame)
			}
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadAll(nc); err != nil {
				t.Fatalf("expected the server to close the connection, got %v", err)
			}
		})
	}
	if _, err := good.Create("/still-serving", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("a healthy client was affected: %v", err)
	}
}

// TestSlowReaderIsBackPressured pipelines far more reply bytes than the
// server may buffer while not reading; the server must stop reading that
// connection (not grow without bound), and everything arrives in order once
// the client reads.
func TestSlowReaderIsBackPressured(t *testing.T) {
	srv := startServer(t, t.TempDir())
	nc, _ := rawSession(t, srv.Addr().String())
	big := bytes.Repeat([]byte("b"), 512<<10)
	writeFrame(t, nc, jute.Marshal(&jute.RequestHeader{Xid: 1, Type: jute.OpCreate}, &jute.CreateRequest{Path: "/big", Data: big, ACL: worldACL()}))
	readFrame(t, nc)

	const n = 400 // 200 MiB of replies if the server buffered them all
	done := make(chan error, 1)
	go func() {
		var buf bytes.Buffer
		for i := 0; i < n; i++ {
			frame := jute.Marshal(&jute.RequestHeader{Xid: int32(i + 2), Type: jute.OpGetData}, &jute.PathWatchRequest{Path: "/big"})
			buf.Reset()
			binary.Write(&buf, binary.BigEndian, int32(len(frame)))
			buf.Write(frame)
			if _, err := nc.Write(buf.Bytes()); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	time.Sleep(300 * time.Millisecond) // let the server fill its buffers
	for i := 0; i < n; i++ {
		d := jute.NewDecoder(readFrame(t, nc))
		var h jute.ReplyHeader
		h.Decode(d)
		if h.Xid != int32(i+2) || h.Err != 0 {
			t.Fatalf("reply %d: %+v", i, h)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func worldACL() []jute.ACL {
	return []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
}

func rawSession(t testing.TB, addr string) (net.Conn, jute.ConnectResponse) {
	t.Helper()
	return rawSessionTimeout(t, addr, 10000)
}

func rawSessionTimeout(t testing.TB, addr string, ms int32) (net.Conn, jute.ConnectResponse) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	writeFrame(t, nc, jute.Marshal(&jute.ConnectRequest{TimeOut: ms, Passwd: make([]byte, 16)}))
	var resp jute.ConnectResponse
	if err := jute.Unmarshal(readFrame(t, nc), &resp); err != nil {
		t.Fatal(err)
	}
	return nc, resp
}

func writeFrame(t testing.TB, nc net.Conn, payload []byte) {
	t.Helper()
	b := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	if _, err := nc.Write(append(b, payload...)); err != nil {
		t.Fatal(err)
	}
}

func readFrame(t testing.TB, nc net.Conn) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hdr [4]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(nc, b); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return b
}
