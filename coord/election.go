package coord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// infoPrefix names the candidates' nodes as Mesos does, json.info_NNNNNNNNNN,
// so Mesos-compatible tooling detects Strata's leaders and vice versa.
const infoPrefix = "json.info_"

// Why a term ended: Term.Err returns one of these (wrapped).
var (
	// ErrSessionExpired: the session that held the election node expired.
	ErrSessionExpired = errors.New("coord: session expired")
	// ErrDisconnected: the connection dropped and did not come back within
	// the leader grace; the session may be expiring on the servers.
	ErrDisconnected = errors.New("coord: disconnected from ZooKeeper")
	// ErrNodeDeleted: the election node vanished while the session lived
	// (deleted by an operator), or another node now sorts first.
	ErrNodeDeleted = errors.New("coord: election node gone")
	// ErrResigned: Resign was called.
	ErrResigned = errors.New("coord: resigned")
)

// Candidate is one participant in a leader election: an ephemeral
// sequential json.info_ node under the group, holding the candidate's info.
// The lowest node leads; every other candidate watches only the node just
// below its own, so a leader's departure wakes one successor, not the herd.
// A candidate whose node vanishes (its session expired) enters again with a
// new node, on the Session's new ZooKeeper session.
type Candidate struct {
	s     *Session
	group string // absolute path
	info  []byte
	terms chan *Term

	resign     chan struct{}
	resignOnce sync.Once
	done       chan struct{} // closed when run has returned

	mu        sync.Mutex
	term      *Term // the current term, nil when not leading
	resigning bool  // set by Resign: no term may begin after it
	resignCtx context.Context
	resignErr error
}

// Term is one unbroken stretch of leadership, the lifecycle a leader loop
// runs in (Nomad's leaderLoop(stopCh)): it starts when the Term is received
// from Candidate.Terms and must stop when Done closes. Done closes the
// moment leadership may be lost: the session expired or was presumed
// expired, the connection dropped (beyond Config.LeaderGrace), the node
// was deleted, or the candidate resigned or its session closed. Writes
// through Store are fenced by the server against this term.
type Term struct {
	node   string // absolute path of the election node
	ctx    context.Context
	cancel context.CancelCauseFunc
	store  *Store
}

// Node is the election node's name, e.g. json.info_0000000007.
func (t *Term) Node() string { return baseOf(t.node) }

// Done is closed when the term ends.
func (t *Term) Done() <-chan struct{} { return t.ctx.Done() }

// Context is cancelled when the term ends, with Err as its cause: the
// context to run leader-only work under.
func (t *Term) Context() context.Context { return t.ctx }

// Err is nil while the term lasts, then why it ended (ErrSessionExpired,
// ErrDisconnected, ErrNodeDeleted, ErrResigned or ErrClosed).
func (t *Term) Err() error {
	if t.ctx.Err() == nil {
		return nil
	}
	return context.Cause(t.ctx)
}

// Store is a Store whose writes the server refuses once this term's
// election node is gone (see Store).
func (t *Term) Store() *Store { return t.store }

// Elect enters the election under group (relative to the chroot, e.g.
// "master/leader") with info, the candidate's JSON description (Mesos
// stores MasterInfo here; detectors hand it to followers and clients). It
// returns at once; leadership arrives on Terms. One Session may have one
// candidate per group.
func (s *Session) Elect(group string, info []byte) (*Candidate, error) {
	abs, err := s.Path(group)
	if err != nil {
		return nil, err
	}
	if !json.Valid(info) {
		return nil, fmt.Errorf("coord: elect in %s: info is not valid JSON", group)
	}
	if len(info) > MaxValueSize {
		return nil, fmt.Errorf("coord: elect in %s: info of %d bytes: %w", group, len(info), ErrTooLarge)
	}
	c := &Candidate{
		s:      s,
		group:  abs,
		info:   append([]byte(nil), info...),
		terms:  make(chan *Term),
		resign: make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if s.candidates[abs] != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("coord: elect in %s: this session already has a candidate there", group)
	}
	s.candidates[abs] = c
	s.mu.Unlock()
	if !s.spawn(c.run) {
		c.forget()
		return nil, ErrClosed
	}
	return c, nil
}

// Terms delivers each term of leadership as it begins; the next term
// begins only after the previous one's Done closed. A term that ends before
// it is received is dropped, though a race can hand over one that has just
// ended: its Done is then already closed and the leader loop stops at once.
// The channel is closed when the candidate resigns or its Session closes.
func (c *Candidate) Terms() <-chan *Term { return c.terms }

// Resign withdraws the candidacy: it ends the current term at once, then
// deletes the candidate's node so a successor can lead, and returns when
// done. If the node cannot be deleted before ctx ends (no connection), it
// says so: the node stays until the session ends, and it still leads in
// others' eyes, so close the Session to be sure. Resigning twice, or after
// the Session closed, is harmless.
func (c *Candidate) Resign(ctx context.Context) error {
	c.resignOnce.Do(func() {
		c.mu.Lock()
		c.resignCtx = ctx
		c.resigning = true
		c.mu.Unlock()
		c.endTerm(ErrResigned)
		close(c.resign)
	})
	select {
	case <-c.done:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.resignErr
	case <-ctx.Done():
		return fmt.Errorf("coord: resign from %s: %w", c.group, ctx.Err())
	}
}

// leading reports whether a term is running.
func (c *Candidate) leading() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.term != nil && c.term.ctx.Err() == nil
}

// beginTerm starts a term on node, unless the candidate is resigning.
func (c *Candidate) beginTerm(node string) *Term {
	ctx, cancel := context.WithCancelCause(context.Background())
	t := &Term{node: node, ctx: ctx, cancel: cancel}
	t.store = &Store{s: c.s, fence: node, term: t}
	c.mu.Lock()
	if c.resigning || c.s.ctx.Err() != nil {
		c.mu.Unlock()
		cancel(ErrResigned)
		return nil
	}
	c.term = t
	c.mu.Unlock()
	c.s.log.Info("leadership gained", "group", c.group, "node", t.Node())
	return t
}

// endTerm ends the current term, if any, with cause. Safe from any
// goroutine.
func (c *Candidate) endTerm(cause error) {
	c.mu.Lock()
	t := c.term
	c.term = nil
	c.mu.Unlock()
	if t != nil && t.ctx.Err() == nil {
		t.cancel(cause)
		c.s.log.Warn("leadership lost", "group", c.group, "node", t.Node(), "cause", cause)
	}
}

func (c *Candidate) forget() {
	c.s.mu.Lock()
	if c.s.candidates[c.group] == c {
		delete(c.s.candidates, c.group)
	}
	c.s.mu.Unlock()
}

// campaign is the state of a Candidate's loop; only run touches it.
type campaign struct {
	sessionID int64 // the live session as last reported, 0 for none
	connected bool
	node      string // our node (absolute) in sessionID, "" for none
	watch     <-chan zk.Event
	watchPath string
	check     bool  // look at the group again once connected
	pending   *Term // begun but not yet received from Terms
	grace     *time.Timer
	retry     *time.Timer
	backoff   time.Duration
}

// run is the Candidate's goroutine, owned by its Session.
func (c *Candidate) run() {
	sub := c.s.subscribe()
	defer c.s.unsubscribe(sub)
	k := &campaign{}
	cause := c.loop(k, sub)
	c.endTerm(cause)
	stopTimer(k.grace)
	stopTimer(k.retry)
	if errors.Is(cause, ErrResigned) {
		err := c.withdraw(sub)
		c.mu.Lock()
		c.resignErr = err
		c.mu.Unlock()
	}
	c.forget()
	close(c.terms)
	close(c.done)
}

func (c *Candidate) loop(k *campaign, sub *subscriber) error {
	for {
		if k.check && k.connected {
			k.check = false
			if err := c.step(k); err != nil {
				if c.s.ctx.Err() != nil {
					return ErrClosed
				}
				if transient(err) {
					c.s.log.Debug("election step interrupted; retrying", "group", c.group, "err", err)
				} else {
					c.s.log.Warn("election step failed; retrying", "group", c.group, "err", err)
				}
				k.backoff = min(max(2*k.backoff, 50*time.Millisecond), 2*time.Second)
				stopTimer(k.retry)
				k.retry = time.NewTimer(k.backoff)
			} else {
				k.backoff = 0
				if k.check {
					// The node step meant to watch went while it looked:
					// look again now, not after some unrelated wake-up.
					continue
				}
			}
		}
		if k.pending != nil && k.pending.ctx.Err() != nil {
			k.pending = nil // ended before anyone took it: never deliver a stale term
		}
		var terms chan<- *Term
		if k.pending != nil {
			terms = c.terms
		}
		select {
		case <-c.resign:
			return ErrResigned
		case <-c.s.ctx.Done():
			return ErrClosed
		case terms <- k.pending:
			k.pending = nil
		case <-sub.wake:
			for _, ev := range sub.drain() {
				c.handle(k, ev)
			}
		case <-k.watch:
			k.watch, k.watchPath = nil, ""
			k.check = true
		case <-timerC(k.grace):
			k.grace = nil
			c.endTerm(ErrDisconnected)
		case <-timerC(k.retry):
			k.retry = nil
			k.check = true
		}
	}
}

// handle applies a session event to the campaign.
func (c *Candidate) handle(k *campaign, ev Event) {
	switch ev.State {
	case Connected:
		k.connected = true
		stopTimer(k.grace)
		k.grace = nil
		if ev.SessionID != k.sessionID {
			// A new session: whatever we held in the old one is gone (the
			// node, if our create raced the expiry, is found by enter).
			c.endTerm(ErrSessionExpired)
			k.sessionID = ev.SessionID
			k.node, k.watch, k.watchPath = "", nil, ""
		}
		k.check = true
	case Disconnected:
		k.connected = false
		if c.leading() && k.grace == nil {
			g := c.s.leaderGrace()
			if g <= 0 {
				c.endTerm(ErrDisconnected)
			} else {
				k.grace = time.NewTimer(time.Until(ev.At.Add(g)))
			}
		}
	case Expired:
		k.connected = false
		stopTimer(k.grace)
		k.grace = nil
		c.endTerm(ErrSessionExpired)
		k.sessionID = 0
		k.node, k.watch, k.watchPath = "", nil, ""
	}
}

// step enters the election if needed, finds our place, and watches the
// node that decides our next change: our own when leading (it vanishes
// when the session does), else our predecessor's.
func (c *Candidate) step(k *campaign) error {
	ctx := c.s.ctx
	if k.node == "" {
		node, err := c.enter(ctx, k.sessionID)
		if err != nil {
			return err
		}
		k.node = node
		c.s.log.Info("entered election", "group", c.group, "node", baseOf(node))
	}
	members, err := c.s.members(ctx, c.group)
	if err != nil {
		return err
	}
	pos := -1
	for i, m := range members {
		if m == baseOf(k.node) {
			pos = i
			break
		}
	}
	if pos < 0 {
		c.endTerm(ErrNodeDeleted)
		c.s.log.Info("election node gone; entering again", "group", c.group, "node", baseOf(k.node))
		k.node, k.check = "", true
		return nil
	}
	target := k.node
	if pos > 0 {
		c.endTerm(ErrNodeDeleted)
		target = c.group + "/" + members[pos-1]
	}
	if target != k.watchPath || k.watch == nil {
		ch, err := call(ctx, c.s, func(conn *zk.Conn) (<-chan zk.Event, error) {
			_, _, ch, err := conn.GetW(target)
			return ch, err
		})
		if errors.Is(err, zk.ErrNoNode) {
			k.check = true // it went while we looked: look again
			return nil
		}
		if err != nil {
			return err
		}
		k.watch, k.watchPath = ch, target
	}
	if pos == 0 && !c.leading() {
		k.pending = c.beginTerm(k.node)
	}
	return nil
}

// enter returns this candidate's node in session sid, creating it unless
// one exists already: a create whose reply was lost to a dropped
// connection, or a session resumed after it was presumed expired, leaves a
// node of ours that must be adopted, not doubled.
func (c *Candidate) enter(ctx context.Context, sid int64) (string, error) {
	if err := c.s.ensurePath(ctx, c.group); err != nil {
		return "", err
	}
	owned, err := c.owned(ctx, sid)
	if err != nil {
		return "", err
	}
	if len(owned) > 0 {
		for _, extra := range owned[1:] {
			_ = c.s.do(ctx, func(conn *zk.Conn) error { return conn.Delete(extra, -1) })
		}
		return owned[0], nil
	}
	node, err := call(ctx, c.s, func(conn *zk.Conn) (string, error) {
		return conn.Create(c.group+"/"+infoPrefix, c.info, zk.FlagEphemeralSequential, c.s.acl)
	})
	if err != nil {
		return "", fmt.Errorf("coord: create election node in %s: %w", c.group, err)
	}
	return node, nil
}

// owned lists, lowest first, the group's nodes that session sid owns and
// that hold this candidate's info.
func (c *Candidate) owned(ctx context.Context, sid int64) ([]string, error) {
	members, err := c.s.members(ctx, c.group)
	if err != nil {
		return nil, err
	}
	var owned []string
	for _, m := range members {
		p := c.group + "/" + m
		type got struct {
			data []byte
			stat *zk.Stat
		}
		g, err := call(ctx, c.s, func(conn *zk.Conn) (got, error) {
			data, stat, err := conn.Get(p)
			return got{data, stat}, err
		})
		data, stat := g.data, g.stat
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if stat.EphemeralOwner == sid && bytes.Equal(data, c.info) {
			owned = append(owned, p)
		}
	}
	return owned, nil
}

// withdraw deletes this candidate's nodes in the live session, waiting for
// a connection until the Resign context ends.
func (c *Candidate) withdraw(sub *subscriber) error {
	c.mu.Lock()
	ctx := c.resignCtx
	c.mu.Unlock()
	for {
		st := c.s.Status()
		if st.State == Connected {
			err := c.deleteOwned(ctx, st.SessionID)
			if err == nil {
				c.s.log.Info("resigned", "group", c.group)
				return nil
			}
			if !transient(err) {
				return fmt.Errorf("coord: resign from %s: %w", c.group, err)
			}
		}
		select {
		case <-sub.wake:
			sub.drain()
		case <-ctx.Done():
			return fmt.Errorf("coord: resign from %s: node not deleted, it stays until the session ends: %w", c.group, ctx.Err())
		case <-c.s.ctx.Done():
			return nil // the session closed: its nodes went with it
		}
	}
}

func (c *Candidate) deleteOwned(ctx context.Context, sid int64) error {
	owned, err := c.owned(ctx, sid)
	if err != nil {
		return err
	}
	for _, p := range owned {
		err := c.s.do(ctx, func(conn *zk.Conn) error { return conn.Delete(p, -1) })
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
	}
	return nil
}

// members lists the group's json.info_ nodes, lowest sequence first. A
// missing group has none.
func (s *Session) members(ctx context.Context, group string) ([]string, error) {
	names, err := call(ctx, s, func(conn *zk.Conn) ([]string, error) {
		names, _, err := conn.Children(group)
		return names, err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("coord: list %s: %w", group, err)
	}
	return sortMembers(names), nil
}

// sortMembers keeps the json.info_ names and orders them by sequence
// number (a plain string order breaks if the counter ever goes negative).
func sortMembers(names []string) []string {
	type member struct {
		name string
		seq  int64
	}
	ms := make([]member, 0, len(names))
	for _, n := range names {
		suffix, ok := strings.CutPrefix(n, infoPrefix)
		if !ok {
			continue
		}
		seq, err := strconv.ParseInt(suffix, 10, 64)
		if err != nil {
			continue
		}
		ms = append(ms, member{n, seq})
	}
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].seq != ms[j].seq {
			return ms[i].seq < ms[j].seq
		}
		return ms[i].name < ms[j].name
	})
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.name
	}
	return out
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}
