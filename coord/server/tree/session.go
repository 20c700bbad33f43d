package tree

import (
	"maps"
	"slices"

	"github.com/strata-dc/strata/coord/server/jute"
)

// CreateSession registers a session and logs it, so a restart keeps it.
// Session ids must look like ZooKeeper's (not 0, not the container marker,
// not 0xff in the top byte, which marks TTL nodes); others are refused with
// ErrBadArguments and nothing logged. Registering an existing id again
// replaces its timeout and password.
func (t *Tree) CreateSession(c Ctx, id int64, timeoutMs int32, passwd []byte) Result {
	if kindOf(id) != ownerSession {
		return Result{Err: jute.ErrBadArguments, Zxid: t.lastZxid}
	}
	x := t.begin(&c, id)
	encodeCreateSession(&x.enc, timeoutMs, passwd)
	t.applyCreateSession(id, timeoutMs, passwd)
	t.sessions[id].noteAuth(&c)
	return t.commit(x, &jute.Empty{}, 0)
}

func (t *Tree) applyCreateSession(id int64, timeoutMs int32, passwd []byte) {
	s := t.sessions[id]
	if s == nil {
		s = &session{}
		t.sessions[id] = s
	}
	s.timeout = timeoutMs
	s.passwd = slices.Clone(passwd)
}

// Session returns a session's negotiated timeout and password.
func (t *Tree) Session(id int64) (timeoutMs int32, passwd []byte, ok bool) {
	s := t.sessions[id]
	if s == nil {
		return 0, nil, false
	}
	return s.timeout, slices.Clone(s.passwd), true
}

// Sessions lists the live sessions, sorted.
func (t *Tree) Sessions() []int64 {
	return slices.Sorted(maps.Keys(t.sessions))
}

// closeSession ends c.Session: its ephemeral nodes are deleted, in path
// order, firing watches — the closing session's own too, since its
// connection is still there to hear them, as in ZooKeeper — and then its
// watches go. Closing an unknown session is a no-op that logs nothing.
func (t *Tree) closeSession(c Ctx) Result {
	if c.Session == 0 || t.sessions[c.Session] == nil {
		return Result{Resp: &jute.Empty{}, Zxid: t.lastZxid}
	}
	x := t.begin(&c, c.Session)
	paths := slices.Sorted(maps.Keys(t.eph[c.Session]))
	encodeCloseSession(&x.enc, paths)
	t.applyCloseSession(x, c.Session, paths)
	res := t.commit(x, &jute.Empty{}, 0)
	t.RemoveWatches(c.Session)
	return res
}

func (t *Tree) applyCloseSession(x *execCtx, id int64, paths []string) {
	for _, p := range paths {
		n := t.lookup(p)
		parentPath, _, ok := splitPath(p)
		if n == nil || !ok || n.kids != nil {
			continue // as ZooKeeper, which only logs it
		}
		t.applyDelete(x, t.lookup(parentPath), parentPath, n, p)
	}
	delete(t.sessions, id)
}

// Expirable lists what ZooKeeper's ContainerManager would delete at now:
// containers that have had children and have none left, and childless TTL
// nodes whose mtime+ttl is before now. The server then Execs
// OpDeleteContainer for each with Ctx{Session: 0, Now: now}; that op deletes
// only if the node still qualifies, so a create racing the cleanup wins.
func (t *Tree) Expirable(now int64) []string {
	var out []string
	for _, set := range []map[string]struct{}{t.containers, t.ttls} {
		for p := range set {
			if n := t.lookup(p); n != nil && n.kids == nil && t.expired(n, now) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}
