package tree

import (
	"maps"
	"slices"

	"github.com/strata-dc/strata/coord/server/jute"
)

// Tree is the ZooKeeper data tree with its sessions and watches. It is not
// safe for concurrent use: one goroutine owns it and feeds it requests.
type Tree struct {
	root     *node
	lastZxid int64

	acls   *aclCache
	owners map[*node]int64 // ephemeral owner of nodes that have one

	sessions   map[int64]*session
	eph        map[int64]map[string]struct{} // ephemeral paths by owner
	containers map[string]struct{}           // paths of container nodes
	ttls       map[string]struct{}           // paths of TTL nodes

	dataW  *watchManager // data and exist watches (and the data half of persistent ones)
	childW *watchManager // child watches (and the child half of persistent ones)

	nodes      int   // real znodes, root included
	ephemerals int   // nodes owned by a session
	dataSize   int64 // sum of len(path)+len(data), as ZooKeeper's approximateDataSize

	replayZxid, replayTime int64 // stamp of the transaction Replay is applying
}

// session is what the tree keeps of a client session. Its timeout and
// password are logged and snapshotted; auth is the identities it last
// presented, used to filter the watch events it may see.
type session struct {
	timeout int32
	passwd  []byte

	auth  []jute.Id
	super bool
}

// Ctx is who is asking.
type Ctx struct {
	// Session is the caller's session id; 0 for server-internal requests
	// (container and TTL cleanup).
	Session int64
	// Auth is the connection's identities: what the server adds (the ip
	// scheme) plus digest ids from addAuth. Exec does not retain it.
	Auth []jute.Id
	// Super is set when the connection authenticated with the super digest;
	// it bypasses every ACL check.
	Super bool
	// Now is the wall clock in milliseconds; it becomes ctime and mtime.
	Now int64
	// X509 says the x509 scheme is registered (a secure port verifies
	// client certificates), so ACLs may name x509 ids and "auth" expands
	// to them, as with ZooKeeper's X509AuthenticationProvider. Without it
	// x509 ACLs are invalid, as on a ZooKeeper without that provider.
	X509 bool
}

// Result is the outcome of one request.
type Result struct {
	// Err is a jute.Err* code; 0 is success.
	Err int32
	// Resp is the response body, nil exactly when Err != 0. Bodiless
	// successes (delete, setWatches, …) carry *jute.Empty; multi and
	// multiRead always answer *jute.MultiResponse with Err 0, failed or not,
	// unless the request itself is malformed (ErrMarshallingError).
	Resp jute.Record
	// Txn is non-nil when the request must be logged before it is answered:
	// every write, failed ones included, since ZooKeeper spends a zxid on
	// an error transaction too.
	Txn []byte
	// Zxid goes in the reply header: the transaction's zxid for writes,
	// otherwise the tree's last zxid.
	Zxid int64
	// Events are the watch notifications this request caused, in order.
	Events []Event
}

// Event is one watch notification for one session.
type Event struct {
	Session int64
	Ev      jute.WatcherEvent
}

// New returns a tree holding what a fresh ZooKeeper 3.8 shows: "/",
// "/zookeeper", "/zookeeper/quota" and "/zookeeper/config" (world-readable
// only, with aversion -1, as ZooKeeper's setACL(..., -1) leaves it).
func New() *Tree {
	t := newEmpty()
	t.root = &node{}
	t.root.setData([]byte{})
	t.root.setACLIndex(t.acls.acquire(OpenACL))
	t.nodes, t.dataSize = 1, 1
	zk := t.systemNode(t.root, "/zookeeper", OpenACL)
	t.systemNode(zk, "/zookeeper/quota", OpenACL)
	cfg := t.systemNode(zk, "/zookeeper/config", ReadACL)
	cfg.aversion = -1
	return t
}

func newEmpty() *Tree {
	return &Tree{
		acls:       newACLCache(),
		owners:     make(map[*node]int64),
		sessions:   make(map[int64]*session),
		eph:        make(map[int64]map[string]struct{}),
		containers: make(map[string]struct{}),
		ttls:       make(map[string]struct{}),
		dataW:      newWatchManager(),
		childW:     newWatchManager(),
	}
}

// systemNode adds a node with zeroed stat, as ZooKeeper builds its own; it
// does not count as a child creation for the parent's cversion.
func (t *Tree) systemNode(parent *node, path string, acl []jute.ACL) *node {
	_, name, _ := splitPath(path)
	n := &node{name: name}
	n.setData([]byte{})
	n.setACLIndex(t.acls.acquire(acl))
	parent.addKid(n)
	t.nodes++
	t.dataSize += int64(len(path))
	return n
}

// LastZxid is the zxid of the last transaction applied.
func (t *Tree) LastZxid() int64 { return t.lastZxid }

// Exec runs one client request: op is the jute op code and req its decoded
// body, of the type jute.NewRequest returns. Exec takes ownership of byte
// slices in req (node data): the caller must not modify them afterwards.
// Ping, addAuth and the connect handshake are the server's, not the tree's.
func (t *Tree) Exec(c Ctx, op int32, req jute.Record) Result {
	s := t.sessions[c.Session]
	if c.Session != 0 && s != nil {
		s.noteAuth(&c)
	}
	if op == jute.OpCloseSession {
		return t.closeSession(c)
	}
	if isWrite(op) {
		return t.write(c, op, req)
	}
	res := Result{Zxid: t.lastZxid}
	if c.Session != 0 && s == nil {
		res.Err = jute.ErrSessionExpired
		return res
	}
	res.Resp, res.Events, res.Err = t.read(c, op, req)
	if res.Err != 0 {
		res.Resp = nil
	}
	return res
}

func isWrite(op int32) bool {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL,
		jute.OpDelete, jute.OpDeleteContainer, jute.OpSetData, jute.OpSetACL,
		jute.OpCheck, jute.OpMulti:
		return true
	}
	return false
}

// noteAuth remembers the identities a session presents, copying them only
// when they changed, since the caller may keep appending to its slice.
func (s *session) noteAuth(c *Ctx) {
	s.super = c.Super
	if !slices.Equal(s.auth, c.Auth) {
		s.auth = slices.Clone(c.Auth)
	}
}

// SetAuth updates the identities a session's watch events are filtered
// with. Exec keeps them current on every request; the server calls this
// after addAuth so events fired before the session's next request see the
// new identity too.
func (t *Tree) SetAuth(session int64, auth []jute.Id, super bool) {
	if s := t.sessions[session]; s != nil {
		s.noteAuth(&Ctx{Auth: auth, Super: super})
	}
}

// Stats are the figures the four-letter words and metrics report, counted
// the way ZooKeeper counts them.
type Stats struct {
	// Nodes is zk_znode_count: ZooKeeper stores its root under both "" and
	// "/", so this is the number of znodes plus one (5 on a fresh tree).
	Nodes int
	// Watches is zk_watch_count: data plus child watch registrations.
	Watches int
	// WatchedPaths, WatchSessions and DataWatches are what wchs prints
	// ("N connections watching M paths / Total watches:K"), which ZooKeeper
	// takes from its data watches only.
	WatchedPaths  int
	WatchSessions int
	DataWatches   int
	// Ephemerals is zk_ephemerals_count.
	Ephemerals int
	// ApproxDataSize is zk_approximate_data_size: sum of path and data lengths.
	ApproxDataSize int64
	// Sessions is the number of live sessions.
	Sessions int
	// ACLs is the number of distinct ACL lists in use.
	ACLs int
}

// Stats returns the tree's current figures.
func (t *Tree) Stats() Stats {
	return Stats{
		Nodes:          t.nodes + 1,
		Watches:        t.dataW.total + t.childW.total,
		WatchedPaths:   len(t.dataW.paths),
		WatchSessions:  len(t.dataW.sessions),
		DataWatches:    t.dataW.total,
		Ephemerals:     t.ephemerals,
		ApproxDataSize: t.dataSize,
		Sessions:       len(t.sessions),
		ACLs:           t.acls.live(),
	}
}

// EphemeralsBySession lists each session's ephemeral paths, sorted, for dump.
func (t *Tree) EphemeralsBySession() map[int64][]string {
	out := make(map[int64][]string)
	for id, paths := range t.eph {
		out[id] = slices.Sorted(maps.Keys(paths))
	}
	return out
}

// WatchesBySession lists each session's watched paths, sorted, for wchc.
// Like ZooKeeper's, it reports data watches (exist, data and persistent
// ones), not child watches.
func (t *Tree) WatchesBySession() map[int64][]string {
	out := make(map[int64][]string, len(t.dataW.sessions))
	for id, paths := range t.dataW.sessions {
		out[id] = slices.Sorted(maps.Keys(paths))
	}
	return out
}
