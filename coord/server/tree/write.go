package tree

import (
	"fmt"
	"strings"

	"github.com/strata-dc/strata/coord/server/jute"
)

// execCtx carries one write through validation and application: its zxid,
// the transaction being encoded, the watch triggers it caused, and, inside a
// multi, the undo records that roll it back if a later operation fails.
type execCtx struct {
	c      *Ctx
	zxid   int64
	enc    jute.Encoder
	header int // length of the transaction header in enc
	trigs  []trigger
	undo   []undoRec
	multi  bool
	txnErr int32 // non-zero: log an error transaction with this code
}

func (t *Tree) begin(c *Ctx, session int64) *execCtx {
	x := &execCtx{c: c, zxid: t.lastZxid + 1}
	x.enc.B = make([]byte, 0, 64)
	writeHeader(&x.enc, x.zxid, c.Now, session)
	x.header = len(x.enc.B)
	return x
}

// commit finishes a write: the zxid is spent whether or not it succeeded,
// and watches fire only for what was applied.
func (t *Tree) commit(x *execCtx, resp jute.Record, code int32) Result {
	if code != 0 {
		x.txnErr = code
		resp = nil
	}
	if x.txnErr != 0 {
		x.enc.B = x.enc.B[:x.header]
		x.enc.Int(recError)
		x.enc.Int(x.txnErr)
		x.trigs = nil
	}
	t.lastZxid = x.zxid
	return Result{Err: code, Resp: resp, Txn: x.enc.B, Zxid: x.zxid, Events: t.fire(x.trigs)}
}

func (t *Tree) write(c Ctx, op int32, req jute.Record) Result {
	x := t.begin(&c, c.Session)
	if op == jute.OpMulti {
		resp, code := t.multi(x, req)
		return t.commit(x, resp, code)
	}
	resp, code := t.writeOne(x, op, req)
	return t.commit(x, resp, code)
}

// writeOne validates and applies one write, in the order ZooKeeper's
// PrepRequestProcessor checks things, so the same request fails with the
// same code. Nothing is changed unless it returns 0.
func (t *Tree) writeOne(x *execCtx, op int32, req jute.Record) (jute.Record, int32) {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer:
		if r, ok := req.(*jute.CreateRequest); ok {
			return t.create(x, op, r.Path, r.Data, r.ACL, r.Flags, -1)
		}
	case jute.OpCreateTTL:
		if r, ok := req.(*jute.CreateTTLRequest); ok {
			return t.create(x, op, r.Path, r.Data, r.ACL, r.Flags, r.TTL)
		}
	case jute.OpDelete:
		if r, ok := req.(*jute.PathVersionRequest); ok {
			return t.delete(x, r.Path, r.Version)
		}
	case jute.OpDeleteContainer:
		if r, ok := req.(*jute.PathRequest); ok {
			return t.deleteContainer(x, r.Path)
		}
	case jute.OpSetData:
		if r, ok := req.(*jute.SetDataRequest); ok {
			return t.setData(x, r.Path, r.Data, r.Version)
		}
	case jute.OpSetACL:
		if r, ok := req.(*jute.SetACLRequest); ok {
			return t.setACL(x, r.Path, r.ACL, r.Version)
		}
	case jute.OpCheck:
		if r, ok := req.(*jute.PathVersionRequest); ok {
			return t.check(x, r.Path, r.Version)
		}
	default:
		return nil, jute.ErrUnimplemented
	}
	return nil, jute.ErrMarshallingError
}

// checkSession is ZooKeeper's session check: internal requests (session 0)
// pass, except that they cannot own ephemerals.
func (t *Tree) checkSession(c *Ctx, ephemeral bool) int32 {
	if c.Session == 0 {
		if ephemeral {
			return jute.ErrSessionExpired
		}
		return 0
	}
	if t.sessions[c.Session] == nil {
		return jute.ErrSessionExpired
	}
	return 0
}

func (t *Tree) aclOf(n *node) []jute.ACL { return t.acls.get(n.aclIndex()) }

func (t *Tree) may(n *node, perm int32, c *Ctx) bool {
	return allowed(t.aclOf(n), perm, c.Auth, c.Super)
}

func checkVersion(expected, current int32) bool { return expected == -1 || expected == current }

// create handles create, create2, createContainer and createTTL. ttl is -1
// for the ops that carry none.
func (t *Tree) create(x *execCtx, op int32, path string, data []byte, acl []jute.ACL, flags int32, ttl int64) (jute.Record, int32) {
	if flags < jute.FlagPersistent || flags > jute.FlagPersistentSequentialWithTTL {
		return nil, jute.ErrBadArguments
	}
	ephemeral := flags == jute.FlagEphemeral || flags == jute.FlagEphemeralSequential
	sequential := flags == jute.FlagPersistentSequential || flags == jute.FlagEphemeralSequential ||
		flags == jute.FlagPersistentSequentialWithTTL
	if flags == jute.FlagPersistentWithTTL || flags == jute.FlagPersistentSequentialWithTTL {
		if ttl <= 0 || ttl > MaxTTL {
			return nil, jute.ErrBadArguments
		}
	} else if ttl >= 0 || op == jute.OpCreateTTL {
		// createTTL without a TTL mode breaks ZooKeeper 3.8 later on; refuse it.
		return nil, jute.ErrBadArguments
	}
	if code := t.checkSession(x.c, ephemeral); code != 0 {
		return nil, code
	}
	parentPath, _, ok := splitPath(path)
	if !ok || strings.IndexByte(path, 0) >= 0 {
		return nil, jute.ErrBadArguments
	}
	fixed, ok := fixupACL(acl, x.c)
	if !ok {
		return nil, jute.ErrInvalidACL
	}
	parent := t.lookup(parentPath)
	if parent == nil {
		return nil, jute.ErrNoNode
	}
	if !t.may(parent, jute.PermCreate, x.c) {
		return nil, jute.ErrNoAuth
	}
	if sequential {
		path = fmt.Sprintf("%s%010d", path, parent.cversion)
	}
	if !validPath(path) {
		return nil, jute.ErrBadArguments
	}
	_, name, _ := splitPath(path)
	if name == "" || (parent.kids != nil && parent.kids.get(name) != nil) {
		return nil, jute.ErrNodeExists
	}
	if kindOf(t.owner(parent)) == ownerSession {
		return nil, jute.ErrNoChildrenForEphemerals
	}
	var owner int64
	switch {
	case op == jute.OpCreateContainer:
		owner = containerOwner
	case op == jute.OpCreateTTL:
		owner = ttlOwner(ttl)
	case ephemeral:
		owner = x.c.Session
	}
	n := t.applyCreate(x, parent, parentPath, path, name, data, fixed, owner)
	encodeCreate(&x.enc, path, data, fixed, owner)
	if op == jute.OpCreate {
		return &jute.PathResponse{Path: path}, 0
	}
	return &jute.Create2Response{Path: path, Stat: t.stat(n)}, 0
}

func (t *Tree) delete(x *execCtx, path string, version int32) (jute.Record, int32) {
	if code := t.checkSession(x.c, false); code != 0 {
		return nil, code
	}
	parentPath, _, ok := splitPath(path)
	if !ok || strings.IndexByte(path, 0) >= 0 || specialPath(path) {
		return nil, jute.ErrBadArguments
	}
	parent := t.lookup(parentPath)
	if parent == nil {
		return nil, jute.ErrNoNode
	}
	if !t.may(parent, jute.PermDelete, x.c) {
		return nil, jute.ErrNoAuth
	}
	n := t.lookup(path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if !checkVersion(version, n.version) {
		return nil, jute.ErrBadVersion
	}
	if n.kids != nil {
		return nil, jute.ErrNotEmpty
	}
	t.applyDelete(x, parent, parentPath, n, path)
	encodePath(&x.enc, recDelete, path)
	return &jute.Empty{}, 0
}

// deleteContainer is the cleanup's delete. ZooKeeper refuses it from clients
// (its body is not jute-encoded there, so a client's fails as BadArguments);
// here it is refused for any session. Unlike ZooKeeper it also re-checks
// that the node still qualifies (a container that has had children, a TTL
// node past its TTL) with c.Now, so a node recreated or touched since
// Expirable listed it survives; one that no longer qualifies fails with
// BadVersion, ZooKeeper's code for "not a container".
func (t *Tree) deleteContainer(x *execCtx, path string) (jute.Record, int32) {
	if x.c.Session != 0 {
		return nil, jute.ErrBadArguments
	}
	parentPath, _, ok := splitPath(path)
	if !ok || strings.IndexByte(path, 0) >= 0 || specialPath(path) {
		return nil, jute.ErrBadArguments
	}
	n := t.lookup(path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if n.kids != nil {
		return nil, jute.ErrNotEmpty
	}
	if !t.expired(n, x.c.Now) {
		return nil, jute.ErrBadVersion
	}
	parent := t.lookup(parentPath)
	if parent == nil {
		return nil, jute.ErrNoNode
	}
	t.applyDelete(x, parent, parentPath, n, path)
	encodePath(&x.enc, recDelete, path)
	return &jute.Empty{}, 0
}

// expired reports whether a childless node is due for cleanup, as
// ContainerManager decides: a container once it has had a child, a TTL
// node once now is past mtime+ttl.
func (t *Tree) expired(n *node, now int64) bool {
	switch owner := t.owner(n); kindOf(owner) {
	case ownerContainer:
		return n.cversion > 0
	case ownerTTL:
		return now-n.mtime > ttlOf(owner)
	}
	return false
}

// versioned finds the node a setData or check acts on, failing in
// ZooKeeper's order: session, path, existence, permission, data version.
func (t *Tree) versioned(x *execCtx, path string, perm, version int32) (*node, int32) {
	if code := t.checkSession(x.c, false); code != 0 {
		return nil, code
	}
	if !validPath(path) {
		return nil, jute.ErrBadArguments
	}
	n := t.lookup(path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if !t.may(n, perm, x.c) {
		return nil, jute.ErrNoAuth
	}
	if !checkVersion(version, n.version) {
		return nil, jute.ErrBadVersion
	}
	return n, 0
}

func (t *Tree) setData(x *execCtx, path string, data []byte, version int32) (jute.Record, int32) {
	n, code := t.versioned(x, path, jute.PermWrite, version)
	if code != 0 {
		return nil, code
	}
	t.applySetData(x, n, path, data)
	encodeSetData(&x.enc, path, data)
	return &jute.StatResponse{Stat: t.stat(n)}, 0
}

func (t *Tree) setACL(x *execCtx, path string, acl []jute.ACL, version int32) (jute.Record, int32) {
	if code := t.checkSession(x.c, false); code != 0 {
		return nil, code
	}
	if !validPath(path) {
		return nil, jute.ErrBadArguments
	}
	fixed, ok := fixupACL(acl, x.c)
	if !ok {
		return nil, jute.ErrInvalidACL
	}
	n := t.lookup(path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if !t.may(n, jute.PermAdmin, x.c) {
		return nil, jute.ErrNoAuth
	}
	if !checkVersion(version, n.aversion) {
		return nil, jute.ErrBadVersion
	}
	t.applySetACL(x, n, fixed)
	encodeSetACL(&x.enc, path, fixed)
	return &jute.StatResponse{Stat: t.stat(n)}, 0
}

// check is a version check. Inside a multi it is what makes the multi
// conditional. ZooKeeper 3.8 also takes it alone as a write: a failed one is
// an error transaction, but a successful one never gets an answer (its
// reply serializes a null Stat). Here a lone check answers the node's Stat.
func (t *Tree) check(x *execCtx, path string, version int32) (jute.Record, int32) {
	n, code := t.versioned(x, path, jute.PermRead, version)
	if code != 0 {
		return nil, code
	}
	encodePath(&x.enc, recCheck, path)
	if x.multi {
		return nil, 0
	}
	return &jute.StatResponse{Stat: t.stat(n)}, 0
}
