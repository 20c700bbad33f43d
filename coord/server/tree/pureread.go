package tree

import "github.com/strata-dc/strata/coord/server/jute"

// PureRead answers a read that registers no watch and so changes nothing at
// all — not even watch tables or a session's remembered identities. The
// server may run PureReads concurrently with each other (never with Exec or
// anything else that changes the tree). ok is false for any other request,
// which must go through Exec.
func (t *Tree) PureRead(c Ctx, op int32, req jute.Record) (res Result, ok bool) {
	switch op {
	case jute.OpExists, jute.OpGetData, jute.OpGetChildren, jute.OpGetChildren2:
		r, isPW := req.(*jute.PathWatchRequest)
		if !isPW || r.Watch {
			return Result{}, false
		}
	case jute.OpGetACL, jute.OpGetAllChildrenNumber, jute.OpSync:
		if _, isP := req.(*jute.PathRequest); !isP {
			return Result{}, false
		}
	default:
		return Result{}, false
	}
	res.Zxid = t.lastZxid
	if c.Session != 0 && t.sessions[c.Session] == nil {
		res.Err = jute.ErrSessionExpired
		return res, true
	}
	res.Resp, _, res.Err = t.read(c, op, req)
	if res.Err != 0 {
		res.Resp = nil
	}
	return res, true
}
