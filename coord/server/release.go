package server

import (
	"sync"
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
)

// note is one watch notification bound for a connection.
type note struct {
	c  *conn
	ev jute.WatcherEvent
}

// pending is everything one processed request makes visible: the watch
// events it fired and its reply. need is the zxid the log must have made
// durable first: the request's own txn for a write, and for a read the
// newest txn it could have observed — so no client ever sees state that a
// power cut could take back.
type pending struct {
	need   int64
	events []note
	c      *conn // nil for server-internal work (expiry, container cleanup)
	reply  out
	op     int32
	start  time.Time
	// zxidFixed keeps the reply header's zxid as set (auth and sasl
	// replies carry 0 in ZooKeeper) instead of the request's need.
	zxidFixed bool
}

// releaser holds pending results in processing order and lets them out as
// the log becomes durable. Processing order is zxid order and need never
// decreases along the queue, so releasing from the front is exact, and each
// connection sees its replies and events in the order they happened.
type releaser struct {
	s       *Server
	mu      sync.Mutex
	durable int64
	q       []pending
	head    int
}

func (rl *releaser) push(p pending) {
	rl.mu.Lock()
	if rl.head == len(rl.q) && p.need <= rl.durable {
		rl.deliver(&p)
	} else {
		rl.q = append(rl.q, p)
	}
	rl.mu.Unlock()
}

// advance is the log's OnDurable callback.
func (rl *releaser) advance(zxid int64) {
	rl.mu.Lock()
	if zxid > rl.durable {
		rl.durable = zxid
	}
	for rl.head < len(rl.q) && rl.q[rl.head].need <= rl.durable {
		rl.deliver(&rl.q[rl.head])
		rl.q[rl.head] = pending{}
		rl.head++
	}
	if rl.head == len(rl.q) {
		rl.q, rl.head = rl.q[:0], 0
	} else if rl.head > 1024 && rl.head*2 > len(rl.q) {
		n := copy(rl.q, rl.q[rl.head:])
		rl.q, rl.head = rl.q[:n], 0
	}
	rl.mu.Unlock()
}

// backlog is how many results wait for the log (mntr's outstanding).
func (rl *releaser) backlog() int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return len(rl.q) - rl.head
}

// deliver queues events first, then the reply: a client always sees the
// notification before the reply that shows it the change.
func (rl *releaser) deliver(p *pending) {
	for _, n := range p.events {
		n.c.enqueue(out{hdr: jute.ReplyHeader{Xid: jute.XidNotification, Zxid: -1}, body: &jute.WatcherEvent{
			Type: n.ev.Type, State: n.ev.State, Path: n.ev.Path}})
	}
	if p.c == nil {
		return
	}
	p.c.enqueue(p.reply)
	if !p.start.IsZero() && p.reply.raw == nil {
		rl.s.stats.observe(p.c, p.reply.hdr, time.Since(p.start))
	}
}
