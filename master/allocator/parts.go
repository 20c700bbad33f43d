package allocator

import (
	"github.com/strata-dc/strata/master/mesos"
)

// parts is a set of resources on one agent, split the way the allocation
// loop wants them. Nearly everything on a real agent is plain: unreserved,
// non-revocable cpus, mem, disk, gpus as scalars, and ports as ranges.
// Plain scalars live in a vector of thousandths, so offering, shrinking to
// a quota limit and comparing against a filter are loops over a few
// integers. Plain ranges and sets are never split by the allocator (as in
// Mesos, they go whole to the first framework offered the agent), so they
// move between agent and framework by reference. Everything else —
// reservations, revocable resources, persistent volumes, mount disks,
// shared and provider resources — is rare and kept as mesos.Resources with
// the protocol package's arithmetic.
//
// All three hold unallocated resources (no AllocationInfo); offers add it.
type parts struct {
	plain qvec
	ns    mesos.Resources
	x     mesos.Resources
}

// isPlain reports whether r can live in a parts' plain or ns field. r must
// be normalized and unallocated.
func isPlain(r *mesos.Resource) bool {
	return r.ProviderID == "" && r.Disk == nil && r.Revocable == nil && r.Shared == nil &&
		len(r.Reservations) == 0 && r.Role == "" && r.Reservation == nil
}

// splitResources normalizes rs, drops allocation info and splits it.
func splitResources(rs mesos.Resources, n *names) parts {
	var p parts
	for _, r := range rs.Unallocate() {
		if r.Type == mesos.ValueScalar {
			i := n.id(r.Name)
			n.scalar[i] = true
		}
		if !isPlain(&r) {
			p.x = append(p.x, r)
			continue
		}
		switch r.Type {
		case mesos.ValueScalar:
			p.plain.addAt(n.id(r.Name), r.Scalar.Milli())
		default:
			n.id(r.Name)
			p.ns = append(p.ns, r)
		}
	}
	return p
}

func (p *parts) empty() bool {
	return !p.plain.anyPositive() && len(p.ns) == 0 && len(p.x) == 0
}

// contains reports whether p holds all of o.
func (p *parts) contains(o *parts) bool {
	if !p.plain.covers(o.plain) {
		return false
	}
	if len(o.ns) > 0 && !p.ns.Contains(o.ns) {
		return false
	}
	if len(o.x) > 0 && !p.x.Contains(o.x) {
		return false
	}
	return true
}

// add adds o into p. Resources values are never modified in place, so
// taking o's lists by reference when p has none is safe.
func (p *parts) add(o *parts) {
	p.plain.add(o.plain)
	p.ns = addResources(p.ns, o.ns)
	p.x = addResources(p.x, o.x)
}

// sub takes o out of p (quantities never go negative).
func (p *parts) sub(o *parts) {
	p.plain.sub(o.plain)
	for i, m := range p.plain {
		if m < 0 {
			p.plain[i] = 0
		}
	}
	p.ns = subResources(p.ns, o.ns)
	p.x = subResources(p.x, o.x)
}

func addResources(a, b mesos.Resources) mesos.Resources {
	switch {
	case len(b) == 0:
		return a
	case len(a) == 0:
		return b
	}
	return a.Add(b...)
}

func subResources(a, b mesos.Resources) mesos.Resources {
	if len(b) == 0 || len(a) == 0 {
		return a
	}
	out := a.Subtract(b...)
	if len(out) == 0 {
		return nil
	}
	return out
}

// resources turns p back into a Resources list, allocated to role when
// role is not empty. Plain scalars come first in name order of interning.
func (p *parts) resources(n *names, role string) mesos.Resources {
	cnt := len(p.ns) + len(p.x)
	for _, m := range p.plain {
		if m > 0 {
			cnt++
		}
	}
	if cnt == 0 {
		return nil
	}
	out := make(mesos.Resources, 0, cnt)
	var info *mesos.AllocationInfo
	if role != "" {
		info = &mesos.AllocationInfo{Role: role}
	}
	scalars := make([]mesos.Scalar, 0, cnt)
	for i, m := range p.plain {
		if m <= 0 {
			continue
		}
		scalars = append(scalars, mesos.ScalarFromMilli(m))
		out = append(out, mesos.Resource{
			Name:           n.list[i],
			Type:           mesos.ValueScalar,
			Scalar:         &scalars[len(scalars)-1],
			AllocationInfo: info,
		})
	}
	for _, list := range [2]mesos.Resources{p.ns, p.x} {
		for _, r := range list {
			r.AllocationInfo = info
			out = append(out, r)
		}
	}
	return out
}

// xCharge is the accounting view of a list of non-plain resources: every
// scalar (what a framework's share counts), the unreserved ones including
// revocable (what a role's share counts beyond its reservations), and the
// unreserved non-revocable ones (quota consumption and headroom).
type xCharge struct {
	all, unres, quota qvec
}

func chargeOfX(x mesos.Resources, n *names) xCharge {
	var c xCharge
	for i := range x {
		r := &x[i]
		if r.Type != mesos.ValueScalar || r.Scalar == nil {
			continue
		}
		idx := n.id(r.Name)
		m := r.Scalar.Milli()
		c.all.addAt(idx, m)
		if r.IsReserved() {
			continue
		}
		c.unres.addAt(idx, m)
		if !r.IsRevocable() {
			c.quota.addAt(idx, m)
		}
	}
	return c
}

// nonScalarCount is how a ranges or set resource counts against a
// quantity in --min-allocatable-resources ("ports:10" means ten ports).
func nonScalarCount(r *mesos.Resource) int64 {
	switch r.Type {
	case mesos.ValueRanges:
		size := r.Ranges.Size()
		if size > 1<<40 {
			size = 1 << 40
		}
		return int64(size) * 1000
	case mesos.ValueSet:
		return int64(len(r.Set)) * 1000
	}
	return 0
}
