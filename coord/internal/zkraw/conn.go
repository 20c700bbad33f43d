package zkraw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
)

// OpenACL is ZooDefs.Ids.OPEN_ACL_UNSAFE: everyone may do everything.
var OpenACL = []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}

// maxFrame bounds what we accept from a server, so a broken one cannot make a
// test allocate without limit. Replies are bounded by the server's own
// jute.maxbuffer for data, but a long child list can exceed 1 MiB.
const maxFrame = 64 << 20

// ioTimeout bounds dialing, the handshake and each Wait, so a server that
// stops answering fails the test instead of hanging it.
const ioTimeout = 10 * time.Second

// ErrClosed is what calls see when the connection ended before they were
// answered; Conn.Err says why it ended.
var ErrClosed = errors.New("zkraw: connection closed")

// Session is what a client asks for in the connect handshake. A zero ID asks
// for a new session; ID and Passwd of an existing one resume it.
type Session struct {
	Timeout         time.Duration
	ID              int64
	Passwd          []byte
	LastZxid        int64
	ReadOnly        bool
	ProtocolVersion int32
}

// Reply is one answer from the server. Seq numbers every frame the
// connection received, replies and events alike, in arrival order.
type Reply struct {
	Seq  uint64
	Xid  int32
	Zxid int64
	Err  int32
	Body []byte
}

// Decode reads the reply's body into r; trailing bytes are an error, so a
// server that sends more than ZooKeeper would is caught.
func (r Reply) Decode(rec jute.Record) error {
	if err := jute.Unmarshal(r.Body, rec); err != nil {
		return fmt.Errorf("decode reply xid %d into %T: %w", r.Xid, rec, err)
	}
	return nil
}

// Event is a watch notification (xid -1).
type Event struct {
	Seq  uint64
	Zxid int64
	jute.WatcherEvent
}

// Call is a request in flight.
type Call struct {
	Xid  int32
	Op   int32
	done chan struct{}
	rep  Reply
	err  error
}

// Wait blocks until the reply arrives, the connection ends, or ioTimeout
// passes.
func (c *Call) Wait() (Reply, error) {
	select {
	case <-c.done:
		return c.rep, c.err
	case <-time.After(ioTimeout):
		return Reply{}, fmt.Errorf("zkraw: no reply to xid %d (op %d) within %v", c.Xid, c.Op, ioTimeout)
	}
}

// Conn is one TCP connection after the handshake. Its reader goroutine is
// stopped by Close.
type Conn struct {
	nc   net.Conn
	resp jute.ConnectResponse

	wmu sync.Mutex // orders xid assignment, pending registration and writes
	xid int32

	mu      sync.Mutex
	pending map[int32][]*Call // FIFO per xid: special xids may repeat
	events  []Event
	evWake  chan struct{} // closed and replaced when an event is queued
	seq     uint64
	err     error

	done     chan struct{} // closed when the reader stops
	stop     chan struct{} // closed by Close, stops the keep-alive
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// Dial connects to addr and performs the handshake. When the server answers
// with timeout 0 (an expired or unknown session) the connection is returned
// as it is: the server is about to close it, and Done will say so.
func Dial(addr string, s Session) (*Conn, jute.ConnectResponse, error) {
	nc, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, jute.ConnectResponse{}, fmt.Errorf("zkraw: dial %s: %w", addr, err)
	}
	req := jute.ConnectRequest{
		ProtocolVersion: s.ProtocolVersion,
		LastZxidSeen:    s.LastZxid,
		TimeOut:         int32(s.Timeout / time.Millisecond),
		SessionID:       s.ID,
		Passwd:          s.Passwd,
		ReadOnly:        s.ReadOnly,
	}
	if req.Passwd == nil {
		req.Passwd = make([]byte, 16)
	}
	c, resp, err := Handshake(nc, &req)
	if err != nil {
		nc.Close()
		return nil, resp, fmt.Errorf("zkraw: handshake with %s: %w", addr, err)
	}
	return c, resp, nil
}

// Handshake sends req on nc, reads the ConnectResponse and starts the
// reader. It takes any record so a test can send an old-style request
// without the readOnly flag.
func Handshake(nc net.Conn, req jute.Record) (*Conn, jute.ConnectResponse, error) {
	var resp jute.ConnectResponse
	nc.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := nc.Write(frame(jute.Marshal(req))); err != nil {
		return nil, resp, fmt.Errorf("send connect request: %w", err)
	}
	b, err := readFrame(nc)
	if err != nil {
		return nil, resp, fmt.Errorf("read connect response: %w", err)
	}
	if err := jute.Unmarshal(b, &resp); err != nil {
		return nil, resp, fmt.Errorf("decode connect response: %w", err)
	}
	nc.SetDeadline(time.Time{})
	c := &Conn{
		nc:      nc,
		resp:    resp,
		pending: make(map[int32][]*Call),
		evWake:  make(chan struct{}),
		done:    make(chan struct{}),
		stop:    make(chan struct{}),
	}
	c.wg.Add(1)
	go c.readLoop()
	return c, resp, nil
}

// SessionID is the session the server assigned or resumed.
func (c *Conn) SessionID() int64 { return c.resp.SessionID }

// Passwd is the session password, needed to resume the session elsewhere.
func (c *Conn) Passwd() []byte { return c.resp.Passwd }

// Timeout is the negotiated session timeout.
func (c *Conn) Timeout() time.Duration { return time.Duration(c.resp.TimeOut) * time.Millisecond }

// Done is closed when the connection has ended, by either side.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err says why the connection ended (io.EOF when the server closed it);
// nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Send writes one request with the next xid and returns at once, so
// requests can be pipelined. req may be nil for ops without a body.
func (c *Conn) Send(op int32, req jute.Record) (*Call, error) {
	return c.send(0, op, req)
}

// SendXid writes a request with a caller-chosen xid: ping (-2), auth (-4)
// and setWatches (-8) use fixed ones.
func (c *Conn) SendXid(xid, op int32, req jute.Record) (*Call, error) {
	return c.send(xid, op, req)
}

// SendRaw writes a request whose body is the given bytes, well-formed or
// not, and waits for a reply to its xid like any other request; xid 0 takes
// the next one.
func (c *Conn) SendRaw(xid, op int32, body []byte) (*Call, error) {
	return c.sendBody(xid, op, func(e *jute.Encoder) { e.B = append(e.B, body...) })
}

func (c *Conn) send(xid, op int32, req jute.Record) (*Call, error) {
	return c.sendBody(xid, op, func(e *jute.Encoder) {
		if req != nil {
			req.Encode(e)
		}
	})
}

func (c *Conn) sendBody(xid, op int32, body func(*jute.Encoder)) (*Call, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if xid == 0 {
		c.xid++
		xid = c.xid
	}
	call := &Call{Xid: xid, Op: op, done: make(chan struct{})}
	var e jute.Encoder
	h := jute.RequestHeader{Xid: xid, Type: op}
	h.Encode(&e)
	body(&e)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("zkraw: send op %d: %w (%v)", op, ErrClosed, err)
	}
	c.pending[xid] = append(c.pending[xid], call)
	c.mu.Unlock()
	if _, err := c.nc.Write(frame(e.B)); err != nil {
		c.fail(err)
		return nil, fmt.Errorf("zkraw: send op %d: %w", op, err)
	}
	return call, nil
}

// Do sends one request, waits for its reply and, when the reply is a
// success and resp is not nil, decodes the body into resp.
func (c *Conn) Do(op int32, req, resp jute.Record) (Reply, error) {
	call, err := c.Send(op, req)
	if err != nil {
		return Reply{}, err
	}
	r, err := call.Wait()
	if err != nil {
		return r, err
	}
	if r.Err == jute.ErrOk && resp != nil {
		return r, r.Decode(resp)
	}
	return r, nil
}

// Ping sends a ping (xid -2) and waits for its answer.
func (c *Conn) Ping() (Reply, error) {
	call, err := c.SendXid(jute.XidPing, jute.OpPing, nil)
	if err != nil {
		return Reply{}, err
	}
	return call.Wait()
}

// AddAuth sends an auth packet (xid -4) and waits for its answer; a server
// rejecting the credentials answers AuthFailed and closes the connection.
func (c *Conn) AddAuth(scheme string, auth []byte) (Reply, error) {
	call, err := c.SendXid(jute.XidAuth, jute.OpAuth, &jute.AuthPacket{Scheme: scheme, Auth: auth})
	if err != nil {
		return Reply{}, err
	}
	return call.Wait()
}

// KeepAlive pings every interval until Close, so a test that dawdles keeps
// its session. Ping replies are consumed and never surface as events.
func (c *Conn) KeepAlive(interval time.Duration) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-c.done:
				return
			case <-t.C:
				c.Ping() // a failed ping means the connection ended: Done fires

			}
		}
	}()
}

// WriteRaw writes b to the socket as it is: no length prefix, no header.
func (c *Conn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("zkraw: write raw: %w", err)
	}
	return nil
}

// CloseSession asks the server to end the session, waits for the answer and
// closes the connection.
func (c *Conn) CloseSession() (Reply, error) {
	r, err := c.Do(jute.OpCloseSession, nil, nil)
	c.Close()
	return r, err
}

// Close closes the socket and waits for the connection's goroutines. It does
// not end the session: the server expires it after its timeout.
func (c *Conn) Close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	err := c.nc.Close()
	c.wg.Wait()
	return err
}

// NextEvent returns the oldest queued event, waiting up to d for one.
func (c *Conn) NextEvent(d time.Duration) (Event, bool) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if len(c.events) > 0 {
			ev := c.events[0]
			c.events = c.events[1:]
			c.mu.Unlock()
			return ev, true
		}
		wake := c.evWake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			return Event{}, false
		}
	}
}

// DrainEvents returns and forgets every event received so far. Because the
// reader queues an event before it delivers any later reply, after Wait
// returns a reply every event that arrived before it is here.
func (c *Conn) DrainEvents() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	evs := c.events
	c.events = nil
	return evs
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	for {
		b, err := readFrame(c.nc)
		if err != nil {
			c.fail(err)
			return
		}
		d := jute.NewDecoder(b)
		var h jute.ReplyHeader
		h.Decode(d)
		if d.Err() != nil {
			c.fail(fmt.Errorf("zkraw: short reply header (%d bytes)", len(b)))
			return
		}
		body := b[d.Offset():]
		c.mu.Lock()
		c.seq++
		seq := c.seq
		if h.Xid == jute.XidNotification {
			var ev jute.WatcherEvent
			if err := jute.Unmarshal(body, &ev); err != nil {
				c.mu.Unlock()
				c.fail(fmt.Errorf("zkraw: bad notification: %w", err))
				return
			}
			c.events = append(c.events, Event{Seq: seq, Zxid: h.Zxid, WatcherEvent: ev})
			close(c.evWake)
			c.evWake = make(chan struct{})
			c.mu.Unlock()
			continue
		}
		q := c.pending[h.Xid]
		if len(q) == 0 {
			c.mu.Unlock()
			c.fail(fmt.Errorf("zkraw: reply for xid %d that was never sent (err %d)", h.Xid, h.Err))
			return
		}
		call := q[0]
		if len(q) == 1 {
			delete(c.pending, h.Xid)
		} else {
			c.pending[h.Xid] = q[1:]
		}
		c.mu.Unlock()
		call.rep = Reply{Seq: seq, Xid: h.Xid, Zxid: h.Zxid, Err: h.Err, Body: body}
		close(call.done)
	}
}

// fail ends the connection once: it records why, fails every pending call
// and closes Done.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = map[int32][]*Call{}
	c.mu.Unlock()
	c.nc.Close()
	for _, q := range pending {
		for _, call := range q {
			call.err = fmt.Errorf("%w before xid %d was answered: %v", ErrClosed, call.Xid, err)
			close(call.done)
		}
	}
	close(c.done)
}

// frame prefixes b with its length.
func frame(b []byte) []byte {
	out := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(out, uint32(len(b)))
	return append(out, b...)
}

// Frame prefixes payload with its length, for tests that hand-craft frames.
func Frame(payload []byte) []byte { return frame(payload) }

func readFrame(r io.Reader) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(lb[:]))
	if n < 0 || n > maxFrame {
		return nil, fmt.Errorf("zkraw: frame length %d out of range", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("zkraw: read %d-byte frame: %w", n, err)
	}
	return b, nil
}

// ReadFrame reads one length-prefixed frame, for tests that speak the
// protocol by hand on a plain net.Conn.
func ReadFrame(r io.Reader) ([]byte, error) { return readFrame(r) }
