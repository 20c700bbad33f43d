package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/server/jute"
)

// TestGoZookeeperPipelines proves the premise of the async phases: N
// goroutines calling one go-zookeeper Conn put N requests on the wire before
// any reply. The server here answers nothing until it holds all of them; a
// client that waited for each reply would leave it holding one.
func TestGoZookeeperPipelines(t *testing.T) {
	const inFlight = 32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan int, 1)
	served := make(chan error, 1)
	go func() { served <- holdingServer(ln, inFlight, held) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-served; err != nil {
			t.Errorf("server: %v", err)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := dial(ctx, []string{ln.Addr().String()}, 10*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = drive(ctx, []*zk.Conn{conn}, inFlight, inFlight, nil, func(c *zk.Conn, i int) error {
		_, _, err := c.Get(fmt.Sprintf("/n%d", i))
		return err
	})
	if err != nil {
		t.Fatalf("gets: %v", err)
	}
	if n := <-held; n != inFlight {
		t.Fatalf("server held %d requests before answering, want %d", n, inFlight)
	}
}

// holdingServer accepts one connection, grants a session, reads getData
// requests until it holds want of them (or a 20 s read deadline passes),
// reports how many it held, answers them all in order, then answers pings
// and closeSession until the client goes away.
func holdingServer(ln net.Listener, want int, held chan<- int) error {
	c, err := ln.Accept()
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	defer c.Close()
	frame, err := readFrame(c)
	if err != nil {
		return fmt.Errorf("read connect request: %w", err)
	}
	var creq jute.ConnectRequest
	creq.Decode(jute.NewDecoder(frame))
	if err := writeFrame(c, &jute.ConnectResponse{TimeOut: creq.TimeOut, SessionID: 1, Passwd: make([]byte, 16)}); err != nil {
		return err
	}

	var xids []int32
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for len(xids) < want {
		frame, err := readFrame(c)
		if err != nil {
			// A client that serialises never sends the second request.
			break
		}
		var h jute.RequestHeader
		h.Decode(jute.NewDecoder(frame))
		if h.Type == jute.OpGetData {
			xids = append(xids, h.Xid)
		}
	}
	held <- len(xids)
	_ = c.SetReadDeadline(time.Time{})
	for _, x := range xids {
		if err := writeFrame(c, &jute.ReplyHeader{Xid: x, Zxid: 1}, &jute.GetDataResponse{}); err != nil {
			return err
		}
	}
	for {
		frame, err := readFrame(c)
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		var h jute.RequestHeader
		h.Decode(jute.NewDecoder(frame))
		if err := writeFrame(c, &jute.ReplyHeader{Xid: h.Xid, Zxid: 1}); err != nil {
			return err
		}
		if h.Type == jute.OpCloseSession {
			return nil
		}
	}
}

func readFrame(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(n[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

func writeFrame(w io.Writer, recs ...jute.Record) error {
	body := jute.Marshal(recs...)
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	if _, err := w.Write(append(b, body...)); err != nil {
		return fmt.Errorf("write reply: %w", err)
	}
	return nil
}
