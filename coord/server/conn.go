package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
)

// maxOutBytes is how much encoded output may wait for a slow reader before
// the server stops reading that connection's requests. Replies beyond that
// are bounded by the in-flight window (OutstandingLimit requests); watch
// notifications are not — other sessions' writes cause them — so once
// hardOutBytes wait, a notification closes the connection instead of
// growing the queue without bound.
const (
	maxOutBytes  = 4 << 20
	hardOutBytes = 64 << 20
)

// out is one frame waiting to be written: a reply (header + body) or a
// notification. Bodies are encoded by the connection's writer goroutine,
// off the processor's path.
type out struct {
	hdr   jute.ReplyHeader
	body  jute.Record
	raw   []byte // already-encoded frame payload (connect response)
	close bool   // close the connection once this is written
	done  bool   // counts against the outstanding limit
}

// conn is one client connection. Its reader goroutine decodes frames and
// hands them to the processor; its writer goroutine writes what the
// processor releases, in order.
type conn struct {
	s      *Server
	nc     net.Conn
	id     int64
	remote string

	mu       sync.Mutex
	queue    []out
	outBytes int
	closed   bool
	wake     chan struct{} // writer: something queued
	drained  chan struct{} // reader: output fell below maxOutBytes
	gone     chan struct{} // closed when the connection is closed
	inflight chan struct{} // semaphore: requests in flight

	// Statistics for cons/stat, written by the processor or writer.
	established  time.Time
	received     atomic.Int64
	sent         atomic.Int64
	lastOp       atomic.Value // string
	lastCxid     atomic.Int64
	lastZxid     atomic.Int64
	lastResponse atomic.Int64 // unix ms
	minLat       atomic.Int64 // µs
	maxLat       atomic.Int64
	sumLat       atomic.Int64
	countLat     atomic.Int64

	// Shared with the reader goroutine for fast-path reads: the identity
	// the processor last published, how many of this connection's
	// requests the processor has not yet handled, and when the client was
	// last heard from outside the processor (unix ns).
	ident    atomic.Pointer[identity]
	slow     atomic.Int64
	lastSeen atomic.Int64

	// Owned by the processor goroutine.
	session   int64
	timeout   int32
	auth      []jute.Id
	super     bool
	oldClient bool // connected without the readOnly byte
	// refused is set when the connection was refused (a request before
	// authentication, a failed addAuth): the reply that says so closes
	// it, and nothing it sent after that is served.
	refused bool
}

func newConn(s *Server, nc net.Conn, id int64) *conn {
	c := &conn{
		s:           s,
		nc:          nc,
		id:          id,
		remote:      nc.RemoteAddr().String(),
		wake:        make(chan struct{}, 1),
		drained:     make(chan struct{}, 1),
		gone:        make(chan struct{}),
		inflight:    make(chan struct{}, s.cfg.OutstandingLimit),
		established: time.Now(),
	}
	c.resetStats()
	return c
}

func (c *conn) remoteIP() string {
	if a, ok := c.nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, _ := net.SplitHostPort(c.remote)
	return host
}

// enqueue adds a frame for the writer. It never blocks: the processor and
// the durability releaser call it. A connection that lets hardOutBytes pile
// up is closed rather than allowed to eat the server's memory.
func (c *conn) enqueue(o out) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, o)
	c.outBytes += estimate(o)
	over := c.outBytes > hardOutBytes && o.hdr.Xid == jute.XidNotification
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if over {
		c.s.log.Warn("closing connection whose client does not read", "remote", c.remote, "queued_bytes", hardOutBytes)
		c.close()
	}
}

func estimate(o out) int {
	n := 16 + len(o.raw)
	switch b := o.body.(type) {
	case *jute.GetDataResponse:
		n += len(b.Data) + 80
	case *jute.ChildrenResponse:
		n += 16 * len(b.Children)
	case *jute.Children2Response:
		n += 16*len(b.Children) + 80
	case nil:
	default:
		n += 80
	}
	return n
}

// close shuts the socket; the reader and writer notice and exit.
func (c *conn) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	close(c.gone)
	c.nc.Close()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// writeLoop writes queued frames, batching everything queued into one
// write so a pipelining client costs one syscall per batch, not per reply.
func (c *conn) writeLoop() {
	w := bufio.NewWriterSize(c.nc, 64<<10)
	var e jute.Encoder
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed {
			c.mu.Unlock()
			<-c.wake
			c.mu.Lock()
		}
		if c.closed {
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()

		closeAfter := false
		freed := 0
		for _, o := range batch {
			e.B = e.B[:0]
			e.B = append(e.B, 0, 0, 0, 0)
			if o.raw != nil {
				e.B = append(e.B, o.raw...)
			} else {
				o.hdr.Encode(&e)
				if o.body != nil {
					o.body.Encode(&e)
				}
			}
			binary.BigEndian.PutUint32(e.B, uint32(len(e.B)-4))
			if _, err := w.Write(e.B); err != nil {
				c.close()
				return
			}
			c.sent.Add(1)
			c.s.stats.sent.Add(1)
			freed += estimate(o)
			if o.done {
				select {
				case <-c.inflight:
				default:
				}
			}
			if o.close {
				closeAfter = true
			}
		}
		if err := w.Flush(); err != nil {
			c.close()
			return
		}
		if cap(e.B) > 1<<20 {
			e.B = nil // don't pin a huge buffer after one big reply
		}
		c.mu.Lock()
		c.outBytes -= freed
		low := c.outBytes < maxOutBytes
		c.mu.Unlock()
		if low {
			select {
			case c.drained <- struct{}{}:
			default:
			}
		}
		if closeAfter {
			c.close()
			return
		}
	}
}

// errFourLetter marks a connection that was a four-letter word, answered.
var errFourLetter = errors.New("four-letter word answered")

// readLoop reads the handshake and then requests until the connection ends;
// it tells the processor when it does.
func (c *conn) readLoop() {
	defer func() {
		c.close()
		c.s.submit(&request{kind: reqDisconnect, c: c})
	}()
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var hdr [4]byte
	var buf []byte
	first := true
	// A connection that has not shaken hands within HandshakeTimeout is
	// dropped, so silent or trickling clients cannot pile up; the deadline
	// is lifted once the connect request has arrived.
	_ = c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.HandshakeTimeout))
	if !c.handshakeTLS() {
		return
	}
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		if first {
			if word := string(hdr[:]); isFourLetter(word) {
				c.s.answerFourLetter(c, word)
				return
			}
		}
		n := int(int32(binary.BigEndian.Uint32(hdr[:])))
		if n < 0 || n > c.s.cfg.MaxBuffer {
			c.s.log.Warn("closing connection: frame length out of range", "remote", c.remote, "len", n, "max", c.s.cfg.MaxBuffer)
			return
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		c.received.Add(1)
		c.s.stats.received.Add(1)
		if first {
			first = false
			_ = c.nc.SetReadDeadline(time.Time{})
			var req jute.ConnectRequest
			d := jute.NewDecoder(buf)
			req.Decode(d)
			if d.Err() != nil {
				c.s.log.Warn("closing connection: bad connect request", "remote", c.remote, "err", d.Err())
				return
			}
			// Older clients omit the trailing readOnly byte and get an
			// answer without it, as ZooKeeper does.
			c.oldClient = d.Offset() == len(buf) && !req.ReadOnly && len(buf) == 44
			if !c.acquire() {
				return
			}
			c.s.submit(&request{kind: reqConnect, c: c, connect: &req})
			continue
		}
		req, err := decodeRequest(buf)
		if err != nil {
			c.s.log.Warn("closing connection: malformed request", "remote", c.remote, "err", err)
			return
		}
		req.c = c
		req.start = time.Now()
		// Back-pressure: at most OutstandingLimit requests in flight, and
		// no more reading while the client leaves replies unread.
		if !c.acquire() {
			return
		}
		for {
			c.mu.Lock()
			blocked := c.outBytes >= maxOutBytes && !c.closed
			c.mu.Unlock()
			if !blocked {
				break
			}
			select {
			case <-c.drained:
			case <-c.gone:
				return
			}
		}
		if id := c.ident.Load(); id != nil && c.s.fastRead(c, id, req) {
			continue
		}
		c.slow.Add(1)
		c.s.submit(req)
	}
}

// identity is an immutable copy of who a connection is, published by the
// processor for the reader's fast path.
type identity struct {
	session int64
	auth    []jute.Id
	super   bool
	// authed is false while the server enforces authentication and the
	// connection has not authenticated: its reads must go to the
	// processor, which refuses them.
	authed bool
}

// publish copies the processor-owned identity for the reader.
func (c *conn) publish() {
	authed := !c.s.cfg.EnforceAuth || c.s.authenticated(c.auth)
	c.ident.Store(&identity{session: c.session, auth: slices.Clone(c.auth), super: c.super, authed: authed})
}

// acquire takes a slot for one request in flight; false once the
// connection is gone.
func (c *conn) acquire() bool {
	select {
	case c.inflight <- struct{}{}:
		return true
	case <-c.gone:
		return false
	}
}

func decodeRequest(buf []byte) (*request, error) {
	d := jute.NewDecoder(buf)
	var h jute.RequestHeader
	h.Decode(d)
	if d.Err() != nil {
		return nil, fmt.Errorf("request header: %w", d.Err())
	}
	r := &request{kind: reqOp, xid: h.Xid, op: h.Type}
	switch h.Type {
	case jute.OpCreateSession, jute.OpReconfig, jute.OpSasl:
		// Known to ZooKeeper but not served here: the processor answers
		// them the way ZooKeeper's standalone server does.
		r.malformed = true
		return r, nil
	}
	if _, err := jute.NewRequest(h.Type); err != nil {
		r.unknown = true // answered with Unimplemented, then closed
		return r, nil
	}
	body, err := jute.DecodeRequest(h.Type, d)
	if err != nil {
		// A body that doesn't decode is answered with MarshallingError,
		// as ZooKeeper does, not by dropping the connection.
		r.malformed = true
		return r, nil
	}
	r.body = body
	return r, nil
}
