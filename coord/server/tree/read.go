package tree

import (
	"slices"
	"strings"

	"github.com/strata-dc/strata/coord/server/jute"
)

// read answers the requests that change nothing durable; only watch
// registrations and the events setWatches fires at once come out of them.
// The checks follow FinalRequestProcessor in ZooKeeper 3.8.0: exists
// checks no ACL and sets an exist watch even on a missing node; getData,
// getChildren and getAllChildrenNumber need READ; getACL needs READ or
// ADMIN.
func (t *Tree) read(c Ctx, op int32, req jute.Record) (jute.Record, []Event, int32) {
	switch op {
	case jute.OpExists, jute.OpGetData, jute.OpGetChildren, jute.OpGetChildren2:
		r, ok := req.(*jute.PathWatchRequest)
		if !ok {
			break
		}
		var resp jute.Record
		var code int32
		switch op {
		case jute.OpExists:
			resp, code = t.exists(&c, r.Path, r.Watch)
		case jute.OpGetData:
			resp, code = t.getData(&c, r.Path, r.Watch)
		default:
			resp, code = t.getChildren(&c, op, r.Path, r.Watch)
		}
		return resp, nil, code
	case jute.OpGetACL, jute.OpGetAllChildrenNumber, jute.OpGetEphemerals, jute.OpSync:
		r, ok := req.(*jute.PathRequest)
		if !ok {
			break
		}
		var resp jute.Record
		var code int32
		switch op {
		case jute.OpGetACL:
			resp, code = t.getACL(&c, r.Path)
		case jute.OpGetAllChildrenNumber:
			resp, code = t.countDescendants(&c, r.Path)
		case jute.OpGetEphemerals:
			resp = t.getEphemerals(c.Session, r.Path)
		default:
			resp = &jute.PathResponse{Path: r.Path}
		}
		return resp, nil, code
	case jute.OpMultiRead:
		resp, code := t.multiRead(&c, req)
		return resp, nil, code
	case jute.OpAddWatch, jute.OpRemoveWatches, jute.OpCheckWatches, jute.OpSetWatches, jute.OpSetWatches2:
		return t.watchOp(c, op, req)
	case jute.OpWhoAmI:
		return whoAmI(c.Auth, c.Super), nil, 0
	default:
		return nil, nil, jute.ErrUnimplemented
	}
	return nil, nil, jute.ErrMarshallingError
}

func (t *Tree) exists(c *Ctx, path string, watch bool) (jute.Record, int32) {
	if strings.IndexByte(path, 0) >= 0 {
		return nil, jute.ErrBadArguments
	}
	n := t.lookup(path)
	if watch && c.Session != 0 {
		t.dataW.add(path, c.Session, modeStandard)
	}
	if n == nil {
		return nil, jute.ErrNoNode
	}
	return &jute.StatResponse{Stat: t.stat(n)}, 0
}

func (t *Tree) getData(c *Ctx, path string, watch bool) (jute.Record, int32) {
	n := t.lookup(path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if !t.may(n, jute.PermRead, c) {
		return nil, jute.ErrNoAuth
	}
	if watch && c.Session != 0 {
		t.dataW.add(path, c.Session, modeStandard)
	}
	return &jute.GetDataResponse{Data: n.dataBytes(), Stat: t.stat(n)}, 0
}

func (t *Tree) getChildren(c *Ctx, op int32, path string, watch bool) (jute.Record, int32) {
	n := t.lookup(path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if !t.may(n, jute.PermRead, c) {
		return nil, jute.ErrNoAuth
	}
	if watch && c.Session != 0 {
		t.childW.add(path, c.Session, modeStandard)
	}
	if op == jute.OpGetChildren2 {
		return &jute.Children2Response{Children: n.names(), Stat: t.stat(n)}, 0
	}
	return &jute.ChildrenResponse{Children: n.names()}, 0
}

// getACL returns the node's ACL; a caller without ADMIN sees digest ids
// with the hash replaced by "x".
func (t *Tree) getACL(c *Ctx, path string) (jute.Record, int32) {
	n := t.lookup(path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	acl := t.aclOf(n)
	if !allowed(acl, jute.PermRead|jute.PermAdmin, c.Auth, c.Super) {
		return nil, jute.ErrNoAuth
	}
	if allowed(acl, jute.PermAdmin, c.Auth, c.Super) {
		acl = slices.Clone(acl)
	} else {
		acl = maskDigests(acl)
	}
	return &jute.GetACLResponse{ACL: acl, Stat: t.stat(n)}, 0
}

// countDescendants is getAllChildrenNumber: every node below path, at any
// depth. For "/" ZooKeeper counts its whole path map minus the root's two
// entries, which is every node but the root.
func (t *Tree) countDescendants(c *Ctx, path string) (jute.Record, int32) {
	n := t.lookup(path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if !t.may(n, jute.PermRead, c) {
		return nil, jute.ErrNoAuth
	}
	if n == t.root {
		return &jute.CountResponse{Number: int32(t.nodes - 1)}, 0
	}
	count := 0
	stack := []*node{n}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if k.kids != nil {
			count += k.kids.n
			k.kids.each(func(g *node) {
				if g.kids != nil {
					stack = append(stack, g)
				}
			})
		}
	}
	return &jute.CountResponse{Number: int32(count)}, 0
}

// getEphemerals lists the caller's ephemeral paths that start with prefix;
// an empty or "/" prefix (after trimming spaces) lists them all.
func (t *Tree) getEphemerals(session int64, prefix string) jute.Record {
	all := strings.TrimSpace(prefix)
	out := []string{}
	for p := range t.eph[session] {
		if all == "" || all == "/" || strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return &jute.ChildrenResponse{Children: out}
}

// whoAmI describes the caller's identities as ZooKeeper's AuthUtil does:
// the user part of digest ids, other ids as they are.
func whoAmI(auth []jute.Id, super bool) *jute.WhoAmIResponse {
	out := &jute.WhoAmIResponse{ClientInfo: []jute.ClientInfo{}}
	hasSuper := false
	for _, id := range auth {
		user := id.ID
		switch id.Scheme {
		case "digest":
			user, _, _ = strings.Cut(id.ID, ":")
		case "super":
			hasSuper = true
		}
		out.ClientInfo = append(out.ClientInfo, jute.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	if super && !hasSuper {
		out.ClientInfo = append([]jute.ClientInfo{{AuthScheme: "super"}}, out.ClientInfo...)
	}
	return out
}
