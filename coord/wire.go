package coord

import (
	"encoding/binary"
	"net"
	"os"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// The Session dials through wireConn, a pass-through net.Conn that does
// two things go-zookeeper v1.0.4 cannot be asked to do.
//
// It reads the handshake. go-zookeeper keeps the negotiated session timeout
// and the session password to itself; the Session needs the first to time
// out a long disconnect and to cap the leader grace, and tests need the
// second. The first frame a server sends on a connection is the
// ConnectResponse, {int protocolVersion; int timeOut; long sessionId;
// buffer passwd; …} in zookeeper.jute.
//
// It closes a data race in go-zookeeper (upstream issue samuel/go-zookeeper
// #178/#260, PR go-zookeeper/zk#35, unfixed in v1.0.4): after reconnecting,
// its connection loop reads lastZxid to build setWatches while its receive
// loop may already be writing lastZxid for the first replies; the recipes
// issue requests the moment they hear "connected", which makes that window
// real and trips -race. On a connection that resumes a session in which the
// Session's sentinel watch is registered, go-zookeeper is certain to send
// setWatches, so wireConn holds back replies that carry a zxid until that
// request has been written. The write happens after the read, so the
// receive loop's write comes after it too. Pings, notifications and
// setAuth replies (zxid 0) pass; credentials are re-sent before setWatches.

// Opcodes wireConn looks for (zookeeper.jute's OpCode).
const (
	opSetAuth     = 100
	opSetWatches  = 101
	opSetWatches2 = 105
)

func (s *Session) dial(network, address string, timeout time.Duration) (net.Conn, error) {
	c, err := dialServer(network, address, timeout, s.tls)
	if err != nil {
		return nil, err
	}
	return &wireConn{Conn: c, s: s, gate: make(chan struct{}), closed: make(chan struct{})}, nil
}

// wireConn: go-zookeeper reads a connection from one goroutine at a time
// (the handshake, then the receive loop it starts afterwards) and writes
// whole frames, so only Close and the gate need synchronizing.
type wireConn struct {
	net.Conn
	s *Session

	shaken bool   // the handshake reply has been read
	hbuf   []byte // handshake bytes so far
	gated  bool   // replies wait for the gate on this connection

	gate      chan struct{} // closed once setWatches has been written
	gateOnce  sync.Once
	closed    chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	deadline time.Time      // read deadline, honoured while waiting for the gate
	authXids map[int32]bool // setAuth requests written before the gate opened

	rbuf []byte // read from the wire, not yet returned
	next int    // offset in rbuf where the next unclassified frame starts
	rerr error  // error from the wire, returned once rbuf is drained
}

func (c *wireConn) Read(p []byte) (int, error) {
	if !c.shaken {
		n, err := c.Conn.Read(p)
		if n > 0 {
			c.hbuf = append(c.hbuf, p[:n]...)
			c.parseHandshake()
		}
		return n, err
	}
	for {
		if !c.gated || c.open() {
			if len(c.rbuf) > 0 {
				n := copy(p, c.rbuf)
				c.rbuf = c.rbuf[n:]
				return n, nil
			}
			if c.rerr != nil {
				return 0, c.rerr
			}
			return c.Conn.Read(p)
		}
		if free := c.classify(); free > 0 {
			n := copy(p, c.rbuf[:min(free, len(p))])
			c.rbuf = c.rbuf[n:]
			c.next -= n
			return n, nil
		}
		if c.holding() {
			if err := c.waitGate(); err != nil {
				return 0, err
			}
			continue
		}
		if c.rerr != nil {
			return 0, c.rerr
		}
		var chunk [4096]byte
		n, err := c.Conn.Read(chunk[:])
		c.rbuf = append(c.rbuf, chunk[:n]...)
		if err != nil {
			c.rerr = err
		}
	}
}

// classify walks the buffered replies from next and returns how many
// bytes may be handed on: every frame up to the first that carries a zxid.
func (c *wireConn) classify() int {
	for !c.holding() && c.next+16 <= len(c.rbuf) {
		size := int(binary.BigEndian.Uint32(c.rbuf[c.next:]))
		c.next += 4 + size
	}
	return min(c.next, len(c.rbuf))
}

// holding reports whether the frame at next is a reply with a zxid, which
// must wait for the gate. ReplyHeader is {int xid; long zxid; int err}.
func (c *wireConn) holding() bool {
	if c.next+16 > len(c.rbuf) {
		return false
	}
	size := int(binary.BigEndian.Uint32(c.rbuf[c.next:]))
	xid := int32(binary.BigEndian.Uint32(c.rbuf[c.next+4:]))
	zxid := int64(binary.BigEndian.Uint64(c.rbuf[c.next+8:]))
	if size < 16 || xid < 0 || zxid <= 0 {
		return false
	}
	// go-zookeeper re-sends credentials, and waits for the replies, before
	// it sends anything else: never hold those (ZooKeeper answers them with
	// zxid 0 anyway).
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.authXids[xid]
}

func (c *wireConn) open() bool {
	select {
	case <-c.gate:
		return true
	default:
		return false
	}
}

func (c *wireConn) waitGate() error {
	c.mu.Lock()
	d := c.deadline
	c.mu.Unlock()
	var timeout <-chan time.Time
	if !d.IsZero() {
		t := time.NewTimer(time.Until(d))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-c.gate:
		return nil
	case <-c.closed:
		return net.ErrClosed
	case <-timeout:
		return os.ErrDeadlineExceeded
	}
}

func (c *wireConn) Write(p []byte) (int, error) {
	if c.gated && len(p) >= 12 {
		switch op := int32(binary.BigEndian.Uint32(p[8:12])); op {
		case opSetWatches, opSetWatches2:
			c.gateOnce.Do(func() { close(c.gate) })
		case opSetAuth:
			c.mu.Lock()
			if c.authXids == nil {
				c.authXids = map[int32]bool{}
			}
			c.authXids[int32(binary.BigEndian.Uint32(p[4:8]))] = true
			c.mu.Unlock()
		}
	}
	return c.Conn.Write(p)
}

func (c *wireConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *wireConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *wireConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func (c *wireConn) parseHandshake() {
	if len(c.hbuf) < 4 {
		return
	}
	size := int(binary.BigEndian.Uint32(c.hbuf))
	if size < 16 || size > 4096 { // not a ConnectResponse we understand
		c.shaken, c.hbuf = true, nil
		return
	}
	if len(c.hbuf) < 4+size {
		return
	}
	body := c.hbuf[4 : 4+size]
	timeout := time.Duration(int32(binary.BigEndian.Uint32(body[4:8]))) * time.Millisecond
	id := int64(binary.BigEndian.Uint64(body[8:16]))
	var passwd []byte
	if len(body) >= 20 {
		n := int(int32(binary.BigEndian.Uint32(body[16:20])))
		if n >= 0 && 20+n <= len(body) {
			passwd = append([]byte(nil), body[20:20+n]...)
		}
	}
	c.shaken, c.hbuf = true, nil
	c.gated = c.s.onHandshake(id, timeout, passwd)
}

// onHandshake records what the server granted and says whether the
// connection resumes a session whose sentinel watch is registered, which
// is when go-zookeeper will send setWatches. Session id 0 means the server
// refused to resume an expired session; go-zookeeper reports that.
func (s *Session) onHandshake(id int64, timeout time.Duration, passwd []byte) bool {
	if id == 0 || timeout <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeout = timeout
	s.shakeID = id
	s.passwd = passwd
	return id == s.sentinelFor
}

// armSentinel registers, in session sid, an exists watch on a node no one
// creates, so go-zookeeper always has a watch to restore when it resumes
// sid, and wireConn can rely on setWatches being sent.
func (s *Session) armSentinel(sid int64) error {
	fired, err := call(s.ctx, s, func(c *zk.Conn) (<-chan zk.Event, error) {
		if c.SessionID() != sid {
			return nil, nil
		}
		_, _, fired, err := c.ExistsW(s.sentinel)
		if err == nil && c.SessionID() != sid {
			fired = nil // registered in a later session; that one arms its own
		}
		return fired, err
	})
	if err != nil || fired == nil {
		return err
	}
	s.mu.Lock()
	s.sentinelFor = sid
	s.mu.Unlock()
	s.spawn(func() {
		select {
		case <-fired: // created by someone, or the session ended: disarm
			s.mu.Lock()
			if s.sentinelFor == sid {
				s.sentinelFor = 0
			}
			s.mu.Unlock()
		case <-s.ctx.Done():
		}
	})
	return nil
}

// keepSentinel arms the sentinel in every new session; owned by the
// Session.
func (s *Session) keepSentinel() {
	sub := s.subscribe()
	defer s.unsubscribe(sub)
	var retry *time.Timer
	defer func() { stopTimer(retry) }()
	for {
		st := s.Status()
		s.mu.Lock()
		armed := s.sentinelFor == st.SessionID
		s.mu.Unlock()
		if st.State == Connected && !armed {
			if err := s.armSentinel(st.SessionID); err != nil && s.ctx.Err() == nil {
				stopTimer(retry)
				retry = time.NewTimer(100 * time.Millisecond)
			}
		}
		select {
		case <-sub.wake:
			sub.drain()
		case <-timerC(retry):
			retry = nil
		case <-s.ctx.Done():
			return
		}
	}
}

// leaderGrace is Config.LeaderGrace capped at a quarter of the negotiated
// timeout (see Config.LeaderGrace for why).
func (s *Session) leaderGrace() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.grace
	if limit := s.timeout / 4; g > limit {
		g = limit
	}
	if g < 0 {
		g = 0
	}
	return g
}
