package tree

import (
	"github.com/strata-dc/strata/coord/server/jute"
)

// multi runs a transaction of writes atomically, as ZooKeeper 3.8 does: the
// operations are applied in order against the tree as the earlier ones left
// it; if one fails, everything applied is undone, no watch fires, and the
// answer lists ErrOk for the operations before it, its code for it, and
// ErrRuntimeInconsistency for the rest. The reply header says 0 either way
// and the zxid is spent (the log gets an error transaction). A multi that
// holds a read is malformed: ErrMarshallingError, no results.
func (t *Tree) multi(x *execCtx, req jute.Record) (jute.Record, int32) {
	r, ok := req.(*jute.MultiRequest)
	if !ok {
		return nil, jute.ErrMarshallingError
	}
	for _, op := range r.Ops {
		switch op.Type {
		case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL,
			jute.OpDelete, jute.OpSetData, jute.OpCheck:
		default:
			return nil, jute.ErrMarshallingError
		}
	}
	x.multi = true
	x.enc.Int(recMulti)
	x.enc.Int(int32(len(r.Ops)))
	results := make([]jute.MultiResult, len(r.Ops))
	for i, op := range r.Ops {
		typ, resp, code := t.multiOp(x, op)
		if code != 0 {
			t.rollback(x)
			x.txnErr = code
			for j := range results {
				results[j] = jute.MultiResult{Type: jute.OpError}
				switch {
				case j == i:
					results[j].Err = code
				case j > i:
					results[j].Err = jute.ErrRuntimeInconsistency
				}
			}
			break
		}
		results[i] = jute.MultiResult{Type: typ, Resp: resp}
	}
	return &jute.MultiResponse{Results: results}, 0
}

// multiOp runs one operation of a multi and returns the type its result
// carries. ZooKeeper 3.8 rebuilds each create from its flags, whatever op
// code the client sent: a TTL mode makes it a createTTL (its TTL kept only
// if the client sent createTTL), the container mode a createContainer, and
// anything else a plain create, which answers a path without a Stat. A
// create that makes a container or TTL node answers with a Stat, typed as
// create2.
func (t *Tree) multiOp(x *execCtx, op jute.MultiOp) (int32, jute.Record, int32) {
	switch op.Type {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		var path string
		var data []byte
		var acl []jute.ACL
		var flags int32
		ttl := int64(-1)
		switch r := op.Req.(type) {
		case *jute.CreateRequest:
			path, data, acl, flags = r.Path, r.Data, r.ACL, r.Flags
		case *jute.CreateTTLRequest:
			path, data, acl, flags = r.Path, r.Data, r.ACL, r.Flags
			if isTTLFlag(flags) {
				ttl = r.TTL
			}
		default:
			return 0, nil, jute.ErrMarshallingError
		}
		eff := jute.OpCreate
		switch {
		case isTTLFlag(flags):
			eff = jute.OpCreateTTL
		case flags == jute.FlagContainer:
			eff = jute.OpCreateContainer
		}
		resp, code := t.create(x, eff, path, data, acl, flags, ttl)
		if eff == jute.OpCreate {
			return jute.OpCreate, resp, code
		}
		return jute.OpCreate2, resp, code
	case jute.OpDelete:
		if r, ok := op.Req.(*jute.PathVersionRequest); ok {
			_, code := t.delete(x, r.Path, r.Version)
			return jute.OpDelete, nil, code
		}
	case jute.OpSetData:
		if r, ok := op.Req.(*jute.SetDataRequest); ok {
			resp, code := t.setData(x, r.Path, r.Data, r.Version)
			return jute.OpSetData, resp, code
		}
	case jute.OpCheck:
		if r, ok := op.Req.(*jute.PathVersionRequest); ok {
			_, code := t.check(x, r.Path, r.Version)
			return jute.OpCheck, nil, code
		}
	}
	return 0, nil, jute.ErrMarshallingError
}

func isTTLFlag(flags int32) bool {
	return flags == jute.FlagPersistentWithTTL || flags == jute.FlagPersistentSequentialWithTTL
}

// multiRead runs reads one by one; each fails or succeeds alone. As in
// ZooKeeper, the reads never set watches, and a write inside is malformed.
func (t *Tree) multiRead(c *Ctx, req jute.Record) (jute.Record, int32) {
	r, ok := req.(*jute.MultiRequest)
	if !ok {
		return nil, jute.ErrMarshallingError
	}
	results := make([]jute.MultiResult, 0, len(r.Ops))
	for _, op := range r.Ops {
		pw, ok := op.Req.(*jute.PathWatchRequest)
		if !ok || (op.Type != jute.OpGetData && op.Type != jute.OpGetChildren) {
			return nil, jute.ErrMarshallingError
		}
		var resp jute.Record
		var code int32
		if op.Type == jute.OpGetData {
			resp, code = t.getData(c, pw.Path, false)
		} else {
			resp, code = t.getChildren(c, op.Type, pw.Path, false)
		}
		if code != 0 {
			results = append(results, jute.MultiResult{Type: jute.OpError, Err: code})
		} else {
			results = append(results, jute.MultiResult{Type: op.Type, Resp: resp})
		}
	}
	return &jute.MultiResponse{Results: results}, 0
}
