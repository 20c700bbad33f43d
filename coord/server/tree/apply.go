package tree

import (
	"strings"

	"github.com/strata-dc/strata/coord/server/jute"
)

// The apply* functions are the only code that changes nodes. Exec calls them
// after validating a request; Replay calls them straight from the log with a
// nil execCtx, so a replayed log rebuilds exactly what the live tree did.
// With an execCtx they also record the watch triggers they cause and, in a
// multi, how to undo themselves.

func (t *Tree) applyCreate(x *execCtx, parent *node, parentPath, path, name string, data []byte, acl []jute.ACL, owner int64) *node {
	zxid, now := t.stamp(x)
	n := &node{name: strings.Clone(name), czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: now, mtime: now}
	n.setData(data)
	n.setACLIndex(t.acls.acquire(acl))
	if x != nil && x.multi {
		x.undo = append(x.undo, undoRec{kind: recCreate, n: n, parent: parent, path: path,
			pzxid: parent.pzxid, cversion: parent.cversion, owner: owner})
	}
	parent.cversion++
	parent.pzxid = zxid
	parent.addKid(n)
	t.setOwner(n, path, owner)
	t.nodes++
	t.dataSize += int64(len(path) + len(data))
	if x != nil {
		x.trigs = append(x.trigs,
			trigger{path: path, typ: jute.EventNodeCreated, acl: t.aclOf(n)},
			trigger{path: eventPath(parentPath), typ: jute.EventNodeChildrenChanged, acl: t.aclOf(parent)})
	}
	return n
}

func (t *Tree) applyDelete(x *execCtx, parent *node, parentPath string, n *node, path string) {
	zxid, _ := t.stamp(x)
	acl := t.aclOf(n)
	owner := t.owner(n)
	if x != nil && x.multi {
		x.undo = append(x.undo, undoRec{kind: recDelete, n: n, parent: parent, path: path,
			pzxid: parent.pzxid, acl: acl, owner: owner})
	}
	parent.removeKid(n.name)
	if zxid > parent.pzxid {
		parent.pzxid = zxid
	}
	t.clearOwner(n, path, owner)
	t.acls.release(n.aclIndex())
	t.nodes--
	t.dataSize -= int64(len(path) + len(n.data))
	if x != nil {
		x.trigs = append(x.trigs,
			trigger{path: path, typ: jute.EventNodeDeleted, acl: acl},
			trigger{path: eventPath(parentPath), typ: jute.EventNodeChildrenChanged, acl: t.aclOf(parent)})
	}
}

func (t *Tree) applySetData(x *execCtx, n *node, path string, data []byte) {
	zxid, now := t.stamp(x)
	if x != nil && x.multi {
		x.undo = append(x.undo, undoRec{kind: recSetData, n: n, path: path,
			data: n.data, meta: n.meta, mzxid: n.mzxid, mtime: n.mtime, version: n.version})
	}
	t.dataSize += int64(len(data) - len(n.data))
	n.setData(data)
	n.mzxid, n.mtime = zxid, now
	n.version++
	if x != nil {
		x.trigs = append(x.trigs, trigger{path: path, typ: jute.EventNodeDataChanged, acl: t.aclOf(n)})
	}
}

func (t *Tree) applySetACL(x *execCtx, n *node, acl []jute.ACL) {
	if x != nil && x.multi {
		x.undo = append(x.undo, undoRec{kind: recSetACL, n: n, acl: t.aclOf(n)})
	}
	old := n.aclIndex()
	n.setACLIndex(t.acls.acquire(acl))
	t.acls.release(old)
	n.aversion++
}

// stamp is the zxid and time a mutation is made with: the request's when
// live, the logged transaction's when replaying.
func (t *Tree) stamp(x *execCtx) (zxid, now int64) {
	if x != nil {
		return x.zxid, x.c.Now
	}
	return t.replayZxid, t.replayTime
}

func (t *Tree) setOwner(n *node, path string, owner int64) {
	if owner == 0 {
		return
	}
	n.meta |= flagOwner
	t.owners[n] = owner
	switch kindOf(owner) {
	case ownerContainer:
		t.containers[path] = struct{}{}
	case ownerTTL:
		t.ttls[path] = struct{}{}
	default:
		s := t.eph[owner]
		if s == nil {
			s = make(map[string]struct{})
			t.eph[owner] = s
		}
		s[path] = struct{}{}
		t.ephemerals++
	}
}

func (t *Tree) clearOwner(n *node, path string, owner int64) {
	if owner == 0 {
		return
	}
	n.meta &^= flagOwner
	delete(t.owners, n)
	switch kindOf(owner) {
	case ownerContainer:
		delete(t.containers, path)
	case ownerTTL:
		delete(t.ttls, path)
	default:
		if s := t.eph[owner]; s != nil {
			delete(s, path)
			if len(s) == 0 {
				delete(t.eph, owner)
			}
		}
		t.ephemerals--
	}
}

// undoRec is what a multi needs to take one applied operation back. ACLs are
// restored by content rather than index: the index may have been freed
// and reused in between.
type undoRec struct {
	kind         int32
	n, parent    *node
	path         string
	pzxid, mzxid int64
	mtime, owner int64
	cversion     int32
	version      int32
	meta         uint32
	data         string
	acl          []jute.ACL
}

// rollback undoes a failed multi's applied operations, newest first.
func (t *Tree) rollback(x *execCtx) {
	for i := len(x.undo) - 1; i >= 0; i-- {
		u := &x.undo[i]
		n := u.n
		switch u.kind {
		case recCreate:
			u.parent.removeKid(n.name)
			u.parent.cversion, u.parent.pzxid = u.cversion, u.pzxid
			t.clearOwner(n, u.path, u.owner)
			t.acls.release(n.aclIndex())
			t.nodes--
			t.dataSize -= int64(len(u.path) + len(n.data))
		case recDelete:
			u.parent.addKid(n)
			u.parent.pzxid = u.pzxid
			n.setACLIndex(t.acls.acquire(u.acl))
			t.setOwner(n, u.path, u.owner)
			t.nodes++
			t.dataSize += int64(len(u.path) + len(n.data))
		case recSetData:
			t.dataSize += int64(len(u.data) - len(n.data))
			n.data, n.mzxid, n.mtime, n.version = u.data, u.mzxid, u.mtime, u.version
			n.meta = n.meta&^flagNilData | u.meta&flagNilData
		case recSetACL:
			old := n.aclIndex()
			n.setACLIndex(t.acls.acquire(u.acl))
			t.acls.release(old)
			n.aversion--
		}
	}
	x.undo = nil
	x.trigs = nil
}
