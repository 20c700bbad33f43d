package coord

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// frame builds a length-prefixed frame from big-endian fields.
func frame(fields ...any) []byte {
	var body []byte
	for _, f := range fields {
		switch v := f.(type) {
		case int32:
			body = binary.BigEndian.AppendUint32(body, uint32(v))
		case int64:
			body = binary.BigEndian.AppendUint64(body, uint64(v))
		case []byte:
			body = binary.BigEndian.AppendUint32(body, uint32(len(v)))
			body = append(body, v...)
		case bool:
			if v {
				body = append(body, 1)
			} else {
				body = append(body, 0)
			}
		}
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// reply is a ReplyHeader frame {xid, zxid, err} with a body.
func reply(xid int32, zxid int64, body ...byte) []byte {
	f := frame(xid, zxid, int32(0))
	binary.BigEndian.PutUint32(f, uint32(len(f)-4+len(body)))
	return append(f, body...)
}

// readFrame reads one frame the way go-zookeeper does: length, then body.
func readWireFrame(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(n[:]))
	_, err := io.ReadFull(r, body)
	return body, err
}

// wirePair connects a wireConn for sess to a raw server-side conn.
func wirePair(t *testing.T, sess *Session) (*wireConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := sess.dial("tcp", ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); server.Close() })
	return c.(*wireConn), server
}

func TestWireHandshakeAndGate(t *testing.T) {
	sess := &Session{timeout: time.Minute, sentinelFor: 0x77}
	client, server := wirePair(t, sess)

	// The ConnectResponse resumes session 0x77, whose sentinel is armed.
	passwd := []byte("0123456789abcdef")
	go server.Write(frame(int32(0), int32(4000), int64(0x77), passwd, false))
	if _, err := readWireFrame(client); err != nil {
		t.Fatal(err)
	}
	if sess.Timeout() != 4*time.Second || sess.shakeID != 0x77 || string(sess.passwd) != string(passwd) || !client.gated {
		t.Fatalf("after handshake: timeout %v id %#x passwd %q gated %v", sess.Timeout(), sess.shakeID, sess.passwd, client.gated)
	}

	// The client re-sends credentials (xid 3), then the server answers a
	// notification, the auth, a ping and two ordinary requests.
	if _, err := client.Write(frame(int32(3), int32(opSetAuth), int32(0), []byte("digest"), []byte("u:p"))); err != nil {
		t.Fatal(err)
	}
	var stream []byte
	stream = append(stream, reply(-1, -1, 'n')...)
	stream = append(stream, reply(3, 9)...)
	stream = append(stream, reply(-2, 9)...)
	stream = append(stream, reply(4, 10, 'a')...)
	stream = append(stream, reply(5, 11, 'b')...)
	go server.Write(stream)

	for _, want := range []int32{-1, 3, -2} {
		body, err := readWireFrame(client)
		if err != nil || int32(binary.BigEndian.Uint32(body)) != want {
			t.Fatalf("read %x, %v; want the reply with xid %d", body, err, want)
		}
	}
	// The reply with a zxid waits for setWatches.
	client.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := readWireFrame(client); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read before setWatches = %v, want it held until the deadline", err)
	}
	client.SetReadDeadline(time.Time{})
	if _, err := client.Write(frame(int32(6), int32(opSetWatches), int64(10))); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int32{4, 5} {
		body, err := readWireFrame(client)
		if err != nil || int32(binary.BigEndian.Uint32(body)) != want {
			t.Fatalf("read %x, %v; want the reply with xid %d", body, err, want)
		}
	}
}

func TestWireNoGateForNewSession(t *testing.T) {
	sess := &Session{timeout: time.Minute, sentinelFor: 0x77}
	client, server := wirePair(t, sess)
	go server.Write(append(frame(int32(0), int32(4000), int64(0x78), []byte("pw"), false), reply(1, 12, 'x')...))
	if _, err := readWireFrame(client); err != nil {
		t.Fatal(err)
	}
	if client.gated {
		t.Fatal("a new session is gated: go-zookeeper has no watches to restore on it")
	}
	if body, err := readWireFrame(client); err != nil || body[len(body)-1] != 'x' {
		t.Fatalf("read %x, %v", body, err)
	}
}
