package server

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/strata-dc/strata/coord/server/flw"
	"github.com/strata-dc/strata/coord/server/jute"
	"github.com/strata-dc/strata/coord/server/tree"
)

type reqKind int

const (
	reqOp reqKind = iota
	reqConnect
	reqDisconnect
)

// request is what a connection's reader hands the processor.
type request struct {
	kind      reqKind
	c         *conn
	xid       int32
	op        int32
	body      jute.Record
	connect   *jute.ConnectRequest
	unknown   bool // an op code ZooKeeper doesn't have
	malformed bool // a body that didn't decode (or an op not served)
	start     time.Time
}

// session is the processor's view of a live session: when it expires and
// which connection (if any) currently carries it. The durable part (id,
// timeout, password, ephemerals) lives in the tree.
type session struct {
	timeout  time.Duration
	deadline time.Time
	owner    *conn
}

// process is the processor loop: the only goroutine that touches the tree
// and the session table. Everything it decides is released to clients by
// the releaser once the log is durable far enough.
func (s *Server) process() {
	defer s.wg.Done()
	expiry := time.NewTicker(s.cfg.TickTime / 2)
	defer expiry.Stop()
	containers := time.NewTicker(s.cfg.ContainerCheckInterval)
	defer containers.Stop()
	for {
		select {
		case r := <-s.reqs:
			s.treeMu.Lock()
			s.handle(r)
			s.treeMu.Unlock()
		case now := <-expiry.C:
			s.treeMu.Lock()
			s.expireSessions(now)
			s.treeMu.Unlock()
		case now := <-containers.C:
			s.treeMu.Lock()
			s.cleanContainers(now)
			s.treeMu.Unlock()
		case f := <-s.calls:
			s.treeMu.Lock()
			f()
			s.treeMu.Unlock()
		case <-s.stopping:
			return
		}
	}
}

func (s *Server) handle(r *request) {
	switch r.kind {
	case reqDisconnect:
		s.disconnect(r.c)
	case reqConnect:
		s.handshake(r.c, r.connect)
	case reqOp:
		s.op(r)
	}
}

func (s *Server) disconnect(c *conn) {
	s.untrack(c)
	if c.session == 0 {
		return
	}
	if st, ok := s.sessions[c.session]; ok && st.owner == c {
		st.owner = nil
		// Watches belong to the connection, as in ZooKeeper: a client
		// that reconnects re-arms them with setWatches.
		s.tree.RemoveWatches(c.session)
	}
}

// negotiate clamps a requested session timeout into [min, max].
func (s *Server) negotiate(ms int32) time.Duration {
	d := time.Duration(ms) * time.Millisecond
	if d < s.cfg.MinSessionTimeout {
		d = s.cfg.MinSessionTimeout
	}
	if d > s.cfg.MaxSessionTimeout {
		d = s.cfg.MaxSessionTimeout
	}
	return d
}

func (s *Server) handshake(c *conn, req *jute.ConnectRequest) {
	if c.isClosed() {
		return
	}
	now := time.Now()
	if req.LastZxidSeen > s.tree.LastZxid() {
		// The client has seen a newer state than ours (it talked to a
		// server we don't know about); ZooKeeper refuses it the same way.
		s.log.Warn("refusing session: client has seen a newer zxid", "remote", c.remote,
			"client_zxid", req.LastZxidSeen, "our_zxid", s.tree.LastZxid())
		c.close()
		return
	}
	c.auth = append([]jute.Id{{Scheme: "ip", ID: c.remoteIP()}}, c.certIDs()...)
	to := s.negotiate(req.TimeOut)
	toMs := int32(to / time.Millisecond)
	ctx := tree.Ctx{Session: 0, Now: now.UnixMilli(), Super: true}

	if req.SessionID == 0 {
		id := s.newSessionID()
		passwd := make([]byte, 16)
		rand.Read(passwd)
		res := s.tree.CreateSession(ctx, id, toMs, passwd)
		if res.Err != 0 {
			s.log.Error("create session", "err", res.Err)
			c.close()
			return
		}
		s.logTxn(res.Zxid, res.Txn)
		s.sessions[id] = &session{timeout: to, deadline: now.Add(to), owner: c}
		c.session, c.timeout = id, toMs
		c.publish()
		s.log.Debug("session established", "session", hexID(id), "timeout", to, "remote", c.remote)
		s.rel.push(pending{need: res.Zxid, c: c, reply: out{raw: connectReply(c, &jute.ConnectResponse{
			TimeOut: toMs, SessionID: id, Passwd: passwd}), done: true}})
		return
	}

	_, passwd, ok := s.tree.Session(req.SessionID)
	st := s.sessions[req.SessionID]
	if !ok || st == nil || !bytes.Equal(passwd, req.Passwd) {
		// Expired, closed or never ours: timeout 0 tells the client its
		// session is gone, then the connection closes.
		s.log.Info("refusing reconnect to an expired or unknown session", "session", hexID(req.SessionID), "remote", c.remote)
		if st != nil && st.owner != nil && ok {
			// A wrong password for a live session also cuts the
			// connection that carries it, as ZooKeeper does; the real
			// client reconnects with the right one.
			st.owner.close()
		}
		s.rel.push(pending{need: 0, c: c, reply: out{raw: connectReply(c, &jute.ConnectResponse{
			Passwd: make([]byte, 16)}), done: true, close: true}})
		return
	}
	if st.owner != nil && st.owner != c {
		st.owner.close() // the session moved to this connection
		s.tree.RemoveWatches(req.SessionID)
	}
	st.owner, st.timeout, st.deadline = c, to, now.Add(to)
	c.session, c.timeout = req.SessionID, toMs
	c.publish()
	s.rel.push(pending{need: s.tree.LastZxid(), c: c, reply: out{raw: connectReply(c, &jute.ConnectResponse{
		TimeOut: toMs, SessionID: req.SessionID, Passwd: passwd}), done: true}})
}

// connectReply encodes the handshake answer, without the trailing readOnly
// byte for a client that didn't send one.
func connectReply(c *conn, r *jute.ConnectResponse) []byte {
	b := jute.Marshal(r)
	if c.oldClient {
		b = b[:len(b)-1]
	}
	return b
}

// newSessionID makes ids the way ZooKeeper does for a standalone server
// (a time-derived base, then a counter), and above every id the tree
// already holds, so ids stay unique across restarts.
func (s *Server) newSessionID() int64 {
	if s.nextSession == 0 {
		s.nextSession = int64(uint64(time.Now().UnixMilli()<<24) >> 8)
		for _, id := range s.tree.Sessions() {
			if id >= s.nextSession {
				s.nextSession = id + 1
			}
		}
	}
	id := s.nextSession
	s.nextSession++
	return id
}

func (s *Server) op(r *request) {
	c := r.c
	// Pushed (or dropped) by the time this returns, under treeMu: the
	// reader may take the fast path for this connection again.
	defer c.slow.Add(-1)
	if c.session == 0 || c.isClosed() || c.refused {
		return
	}
	now := time.Now()
	st := s.sessions[c.session]
	if st == nil || st.owner != c {
		// The session expired or moved while this request was queued.
		c.close()
		return
	}
	st.deadline = now.Add(st.timeout)
	if r.xid >= 0 {
		c.lastCxid.Store(int64(r.xid))
	}
	c.lastOp.Store(flw.OpName(r.op))
	p := pending{c: c, start: r.start, op: r.op, reply: out{hdr: jute.ReplyHeader{Xid: r.xid}, done: true}}
	if s.refuseUnauthenticated(r, &p) {
		s.rel.push(p)
		return
	}

	switch {
	case r.unknown:
		// ZooKeeper answers an op it doesn't know with Unimplemented and
		// zxid -1, then closes the connection.
		p.reply.hdr.Err = jute.ErrUnimplemented
		p.reply.close = true
		p.reply.hdr.Zxid = -1
		p.need = s.tree.LastZxid()
		s.rel.push(p)
		return
	case r.malformed:
		s.malformed(r, &p)
	case r.op == jute.OpPing:
		p.need = s.tree.LastZxid()
	case r.op == jute.OpAuth:
		s.addAuth(c, r.body.(*jute.AuthPacket), &p)
		p.need = s.tree.LastZxid()
	case r.op == jute.OpWhoAmI:
		p.reply.body = s.whoAmI(c)
		p.need = s.tree.LastZxid()
	default:
		ctx := tree.Ctx{Session: c.session, Auth: c.auth, Super: c.super, Now: now.UnixMilli(), X509: s.x509}
		res := s.tree.Exec(ctx, r.op, r.body)
		s.logTxn(res.Zxid, res.Txn)
		p.reply.hdr.Err = res.Err
		p.reply.body = res.Resp
		if r.op == jute.OpMultiRead && res.Err == jute.ErrMarshallingError && res.Resp == nil {
			p.reply.body = &jute.MultiResponse{} // ZooKeeper sends an empty result list
		}
		p.need = s.tree.LastZxid()
		p.events = s.route(res.Events)
		if r.op == jute.OpCloseSession && res.Err == 0 {
			delete(s.sessions, c.session)
			p.reply.close = true
			s.log.Debug("session closed", "session", hexID(c.session))
		}
	}
	if !p.zxidFixed {
		p.reply.hdr.Zxid = p.need
	}
	s.rel.push(p)
}

// malformed answers a request whose body didn't decode, or an op the
// standalone server doesn't serve, as ZooKeeper 3.8 does: writes (and a
// createSession sent as a request) still spend a zxid on an error
// transaction; reads and reconfig don't; sasl gets an empty token.
func (s *Server) malformed(r *request, p *pending) {
	ctx := tree.Ctx{Session: r.c.session, Auth: r.c.auth, Super: r.c.super, Now: time.Now().UnixMilli(), X509: s.x509}
	switch r.op {
	case jute.OpSasl:
		p.reply.body = &jute.CountResponse{Number: -1} // a null token buffer
		p.need = s.tree.LastZxid()
		p.zxidFixed = true // ZooKeeper answers sasl with zxid 0
		return
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpDelete,
		jute.OpDeleteContainer, jute.OpSetData, jute.OpSetACL, jute.OpCheck, jute.OpMulti, jute.OpCreateSession:
		op := r.op
		if op == jute.OpCreateSession {
			op = jute.OpCreate // the tree logs the same error transaction for it
		}
		res := s.tree.Exec(ctx, op, nil)
		s.logTxn(res.Zxid, res.Txn)
		p.reply.hdr.Err = jute.ErrMarshallingError
	default:
		p.reply.hdr.Err = jute.ErrMarshallingError
	}
	p.need = s.tree.LastZxid()
}

// route resolves watch events to the connections that carry their
// sessions now; a session with no connection has no watches left anyway.
func (s *Server) route(evs []tree.Event) []note {
	if len(evs) == 0 {
		return nil
	}
	notes := make([]note, 0, len(evs))
	for _, e := range evs {
		if st := s.sessions[e.Session]; st != nil && st.owner != nil {
			notes = append(notes, note{c: st.owner, ev: e.Ev})
		}
	}
	return notes
}

// logTxn appends a transaction to the log (if there is one) and counts it
// toward the next snapshot.
func (s *Server) logTxn(zxid int64, txn []byte) {
	if txn == nil {
		return
	}
	if err := s.wal.Append(zxid, txn); err != nil {
		// The log is the server's promise; without it nothing more
		// may be acknowledged. Stop serving rather than lie.
		s.fatal(err)
		return
	}
	s.sinceSnap++
	if s.sinceSnap >= s.snapAt {
		s.snapshot()
	}
}

func (s *Server) expireSessions(now time.Time) {
	for id, st := range s.sessions {
		if st.owner != nil {
			// Fast-path reads don't pass through here; they leave
			// their mark on the connection instead.
			if seen := st.owner.lastSeen.Load(); seen != 0 {
				if d := time.Unix(0, seen).Add(st.timeout); d.After(st.deadline) {
					st.deadline = d
				}
			}
		}
		if now.Before(st.deadline) {
			continue
		}
		s.log.Info("session expired", "session", hexID(id), "timeout", st.timeout)
		res := s.tree.Exec(tree.Ctx{Session: id, Super: true, Now: now.UnixMilli()}, jute.OpCloseSession, &jute.Empty{})
		s.logTxn(res.Zxid, res.Txn)
		delete(s.sessions, id)
		s.stats.expired.Add(1)
		p := pending{need: s.tree.LastZxid(), events: s.route(res.Events)}
		if st.owner != nil {
			st.owner.close()
		}
		s.rel.push(p)
	}
}

func (s *Server) cleanContainers(now time.Time) {
	for _, path := range s.tree.Expirable(now.UnixMilli()) {
		res := s.tree.Exec(tree.Ctx{Super: true, Now: now.UnixMilli()}, jute.OpDeleteContainer, &jute.PathRequest{Path: path})
		s.logTxn(res.Zxid, res.Txn)
		if res.Err == 0 {
			s.log.Debug("removed empty container or expired TTL node", "path", path)
		}
		s.rel.push(pending{need: s.tree.LastZxid(), events: s.route(res.Events)})
	}
}

func hexID(id int64) string { return fmt.Sprintf("0x%x", id) }

// fastRead answers a watchless read on the connection's reader goroutine,
// under treeMu for reading, when none of the connection's earlier requests
// is still waiting for the processor: then nothing it sent before can be
// overtaken. The reply goes to the releaser while treeMu is held, so it is
// queued after every write it could have observed (and those writes' watch
// events), and it waits for their durability like any other reply.
func (s *Server) fastRead(c *conn, id *identity, r *request) bool {
	if r.unknown || r.malformed || !id.authed || c.slow.Load() != 0 {
		return false
	}
	now := time.Now()
	ctx := tree.Ctx{Session: id.session, Auth: id.auth, Super: id.super, Now: now.UnixMilli()}
	s.treeMu.RLock()
	defer s.treeMu.RUnlock()
	res, ok := s.tree.PureRead(ctx, r.op, r.body)
	if !ok {
		return false
	}
	c.lastSeen.Store(now.UnixNano())
	if r.xid >= 0 {
		c.lastCxid.Store(int64(r.xid))
	}
	c.lastOp.Store(flw.OpName(r.op))
	need := s.tree.LastZxid()
	s.rel.push(pending{need: need, c: c, start: r.start, op: r.op, reply: out{
		hdr: jute.ReplyHeader{Xid: r.xid, Zxid: need, Err: res.Err}, body: res.Resp, done: true}})
	return true
}
