package allocator

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// role is a node of the role tree. "eng/backend" is a child of "eng"; the
// root is the unnamed parent of every top-level role. A node exists while
// it has something to track: frameworks, children, reservations, quota or
// resources still charged to it.
//
// Accounting, all in thousandths per resource name:
//
//	own  = unreserved resources (revocable included) allocated to the
//	       role's own frameworks + every reservation for exactly this role,
//	       allocated or not
//	sub  = own summed over the subtree: the role's weighted DRF share
//	subQ = sub without revocable resources: quota consumption, as Mesos
//	       defines it (allocations plus reservations, subroles included)
//
// Counting unallocated reservations in the share is deliberate: Mesos
// ranks roles by allocations only, which lets a role hoard reservations
// and still come first for unreserved resources (MESOS-8299); its own TODO
// is to rank by consumption, which is what this does.
type role struct {
	name     string
	parent   *role
	children map[string]*role // by full name

	tree entry // this subtree among its siblings (in parent.items)
	self entry // this role's own frameworks among its children (in items)

	items   order // children's tree entries and this role's self entry
	clients order // this role's frameworks

	// The guarantee stage's view of the same tree: items1 holds only the
	// subtrees with a role below its guarantees (cS1 > 0) and this role's
	// self entry while it is one (fS1), with the same keys as tree and
	// self. Without it, a cycle would walk past every satisfied role for
	// every agent.
	tree1, self1 entry
	items1       order

	nClients int // frameworks tracked under the role, active or not
	nActive  int // active ones (subscribed, not suppressed, framework active)

	weight float64

	own, sub, subQ qvec
	resv           qvec // reservations for exactly this role, over all agents

	guar, lim []amount // quota; nil when unset
	topGuar   bool     // has guarantees and no ancestor does
	unmet     qvec     // guar - subQ, floored at 0, for topGuar roles
	mask      uint64   // min-allocatable alternatives this role's limits rule out
	fUnc, fS1 bool     // this role's own flags, see refresh
	cUnc, cS1 int      // the flags counted over the subtree
}

// amount is one named quantity of a quota, by interned index.
type amount struct {
	idx   int
	milli int64
}

func amountsOf(q Quantities, n *names) []amount {
	if len(q) == 0 {
		return nil
	}
	out := make([]amount, 0, len(q))
	for _, name := range sortedKeys(q) { // intern in a fixed order
		i := n.id(name)
		n.scalar[i] = true
		out = append(out, amount{i, q[name].Milli()})
	}
	return out
}

func newRole(name string, parent *role, weight float64) *role {
	r := &role{name: name, parent: parent, weight: weight}
	r.tree = entry{entryKey: entryKey{name: name}, kind: kindTree, r: r}
	r.self = entry{entryKey: entryKey{name: name + "/."}, kind: kindSelf, r: r}
	r.tree1, r.self1 = r.tree, r.self
	r.items.add(&r.self)
	r.items1.add(&r.self1)
	return r
}

// ensureRole returns the node for name, creating it and its ancestors.
func (a *Allocator) ensureRole(name string) *role {
	if r, ok := a.roles[name]; ok {
		return r
	}
	parent := a.root
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		parent = a.ensureRole(name[:i])
	}
	r := newRole(name, parent, a.weightOf(name))
	if parent.children == nil {
		parent.children = make(map[string]*role)
	}
	parent.children[name] = r
	parent.items.add(&r.tree)
	parent.items1.add(&r.tree1)
	a.roles[name] = r
	if q, ok := a.quotas[name]; ok {
		a.applyQuota(r, q)
	}
	return r
}

func (a *Allocator) weightOf(name string) float64 {
	if w, ok := a.weights[name]; ok {
		return w
	}
	return 1
}

// tryRemoveRole drops r and then its ancestors while they track nothing,
// so the tree (and every pass over it) stays as small as the live roles.
func (a *Allocator) tryRemoveRole(r *role) {
	for r != nil && r != a.root {
		if r.nClients > 0 || len(r.children) > 0 || r.guar != nil || r.lim != nil ||
			r.resv.anyPositive() || r.sub.anyPositive() {
			return
		}
		p := r.parent
		p.items.remove(&r.tree, !a.stale)
		p.items1.remove(&r.tree1, !a.stale)
		delete(p.children, r.name)
		delete(a.roles, r.name)
		r = p
	}
}

// ancestorsHave reports whether some strict ancestor of r satisfies f.
func ancestorsHave(r *role, f func(*role) bool) bool {
	for p := r.parent; p != nil; p = p.parent {
		if f(p) {
			return true
		}
	}
	return false
}

// limitRoom is how much more of resource idx the role may consume under
// its own limit; MaxInt64 when it has none for idx.
func (r *role) limitRoom(idx int) int64 {
	for _, l := range r.lim {
		if l.idx == idx {
			return l.milli - r.subQ.at(idx)
		}
	}
	return math.MaxInt64
}

// maskOf computes which min-allocatable alternatives r's limits alone
// make impossible: bit k is set when some scalar of alternative k has less
// room left than the alternative asks for.
func (a *Allocator) maskOf(r *role) uint64 {
	if len(r.lim) == 0 || !a.capping {
		return 0
	}
	var m uint64
	for k, alt := range a.capAlts {
		for _, it := range alt {
			if r.limitRoom(it.idx) < it.milli {
				m |= 1 << k
				break
			}
		}
	}
	return m
}

// unmetOf is r's guarantee minus its consumption, floored at zero.
func (a *Allocator) unmetOf(r *role, dst qvec) qvec {
	dst = dst[:0]
	for _, g := range r.guar {
		if d := g.milli - r.subQ.at(g.idx); d > 0 {
			dst.addAt(g.idx, d)
		}
	}
	return dst
}

// refresh recomputes what depends on r's consumption and activity — its
// limit mask, its share of the required headroom, and its two flags — and
// carries flag changes up the subtree counters.
//
// fUnc: r has active frameworks and its own limits leave some
// min-allocatable alternative possible. A subtree whose counter is zero
// can be skipped for unreserved resources without looking inside.
//
// fS1: r has active frameworks and guarantees it has not reached; only
// such roles take part in the first (guarantee) stage.
func (a *Allocator) refresh(r *role) {
	if r == a.root {
		return
	}
	r.mask = a.maskOf(r)
	if r.topGuar {
		a.reqHead.sub(r.unmet)
		r.unmet = a.unmetOf(r, r.unmet)
		a.reqHead.add(r.unmet)
	}
	act := r.nActive > 0
	unc := act && !(a.capping && r.mask == a.capAll)
	s1 := false
	if act && r.guar != nil {
		for _, g := range r.guar {
			if r.subQ.at(g.idx) < g.milli {
				s1 = true
				break
			}
		}
	}
	dU, dS := boolDelta(r.fUnc, unc), boolDelta(r.fS1, s1)
	r.fUnc, r.fS1 = unc, s1
	if dU == 0 && dS == 0 {
		return
	}
	sorted := !a.stale
	if dS != 0 {
		toggle1(&r.items1, &r.self1, &r.self, s1, sorted)
	}
	for n := r; n != nil; n = n.parent {
		n.cUnc += dU
		was := n.cS1 > 0
		n.cS1 += dS
		if n != a.root && was != (n.cS1 > 0) {
			toggle1(&n.parent.items1, &n.tree1, &n.tree, n.cS1 > 0, sorted)
		}
	}
}

// toggle1 adds e1, the guarantee stage's copy of e, to o or takes it out.
func toggle1(o *order, e1, e *entry, on, sorted bool) {
	if on {
		e1.entryKey = e.entryKey
		o.activate(e1, sorted)
	} else {
		o.deactivate(e1, sorted)
	}
}

func boolDelta(old, new bool) int {
	switch {
	case old == new:
		return 0
	case new:
		return 1
	}
	return -1
}

// refreshPath refreshes r and its ancestors that have quota; their masks
// and guarantees depend on the consumption that just changed.
func (a *Allocator) refreshPath(r *role) {
	for n := r; n != nil && n != a.root; n = n.parent {
		if n == r || n.guar != nil || n.lim != nil {
			a.refresh(n)
		}
	}
}

// shareOf is the dominant share of v: its largest fraction of any
// resource's cluster total (names excluded from fairness, and resources
// the cluster has none of, do not count).
func (a *Allocator) shareOf(v qvec) float64 {
	s := 0.0
	inv := a.inv
	for i, m := range v {
		if i >= len(inv) {
			break
		}
		if f := float64(m) * inv[i]; f > s {
			s = f
		}
	}
	return s
}

// reshareRole updates the sort keys of r's own frameworks entry and of
// every subtree entry from r up to the root. allocated counts one more
// allocation on each (Mesos' tie-break).
func (a *Allocator) reshareRole(r *role, allocated bool) {
	sorted := !a.stale
	if sorted {
		cnt := r.self.count
		if allocated {
			cnt++
		}
		share := a.shareOf(r.own)
		r.items.update(&r.self, share, cnt, true)
		r.items1.update(&r.self1, share, cnt, true)
	} else if allocated {
		r.self.count++
		r.self1.count++
	}
	for n := r; n != a.root; n = n.parent {
		cnt := n.tree.count
		if allocated {
			cnt++
		}
		if sorted {
			share := a.shareOf(n.sub) / n.weight
			n.parent.items.update(&n.tree, share, cnt, true)
			n.parent.items1.update(&n.tree1, share, cnt, true)
		} else {
			n.tree.count = cnt
			n.tree1.count = cnt
		}
	}
}

// setSelfActive keeps the "has active frameworks" state of r's self entry and
// of the subtree entries above it in step with r.nActive.
func (a *Allocator) setSelfActive(r *role) {
	sorted := !a.stale
	want := r.nActive > 0
	if want == r.self.active {
		return
	}
	if want {
		if sorted {
			r.self.share = a.shareOf(r.own)
		}
		r.items.activate(&r.self, sorted)
	} else {
		r.items.deactivate(&r.self, sorted)
	}
	for n := r; n != a.root; n = n.parent {
		want := n.items.nActive > 0
		if want == n.tree.active {
			return
		}
		if want {
			if sorted {
				n.tree.share = a.shareOf(n.sub) / n.weight
			}
			n.parent.items.activate(&n.tree, sorted)
		} else {
			n.parent.items.deactivate(&n.tree, sorted)
		}
	}
}

// chargeRole adds sign × the given quantities to r's accounting and its
// ancestors'. unres goes to own/sub, quota to subQ.
func (a *Allocator) chargeRole(r *role, unres, quota qvec, sign int64) {
	addScaled(&r.own, unres, sign)
	for n := r; n != a.root; n = n.parent {
		addScaled(&n.sub, unres, sign)
		addScaled(&n.subQ, quota, sign)
	}
}

// addScaled adds sign × src into dst.
func addScaled(dst *qvec, src qvec, sign int64) {
	if len(src) == 0 {
		return
	}
	dst.grow(len(src))
	d := *dst
	if sign > 0 {
		for i, m := range src {
			d[i] += m
		}
		return
	}
	for i, m := range src {
		d[i] -= m
	}
}

// trackReservations charges (sign +1) or releases (-1) an agent's
// reservations to their roles: reservations count as consumed whether
// allocated or not.
func (a *Allocator) trackReservations(resv map[string]qvec, sign int64) {
	for _, name := range sortedKeys(resv) {
		q := resv[name]
		r := a.ensureRole(name)
		addScaled(&r.resv, q, sign)
		a.chargeRole(r, q, q, sign)
		a.refreshPath(r)
		a.reshareRole(r, false)
		if sign < 0 {
			a.tryRemoveRole(r)
		}
	}
}

// UpdateWeights sets the weights of the listed roles (weight 1 is the
// default; roles not listed keep theirs). A role with weight 2 is entitled
// to twice the dominant share of a sibling with weight 1. Like Mesos, a
// weight change moves no resources; it shapes the allocations that follow.
func (a *Allocator) UpdateWeights(weights map[string]float64) error {
	for _, name := range sortedKeys(weights) {
		w := weights[name]
		if err := mesos.ValidateRole(name); err != nil {
			return fmt.Errorf("update weights: %w", err)
		}
		if math.IsNaN(w) || math.IsInf(w, 0) || w <= 0 {
			return fmt.Errorf("update weights: role %q: weight %v must be positive and finite", name, w)
		}
	}
	for name, w := range weights {
		if w == 1 {
			delete(a.weights, name)
		} else {
			a.weights[name] = w
		}
		if r, ok := a.roles[name]; ok {
			r.weight = w
		}
	}
	a.stale = true
	return nil
}

// quotaConfig is a role's quota as given.
type quotaConfig struct {
	guarantees, limits Quantities
}

// UpdateQuota sets role's quota: guarantees the allocator keeps reachable
// (first stage, plus headroom held back from everyone else) and limits the
// role's consumption never exceeds. Both empty removes the quota. Quota
// may be set on any role, nested ones included: a limit on "eng" bounds
// the whole subtree, and guarantees nested below a guaranteed role are
// covered by its headroom.
func (a *Allocator) UpdateQuota(roleName string, guarantees, limits Quantities) error {
	if err := mesos.ValidateRole(roleName); err != nil {
		return fmt.Errorf("update quota: %w", err)
	}
	if err := guarantees.validate("update quota: guarantees"); err != nil {
		return err
	}
	if err := limits.validate("update quota: limits"); err != nil {
		return err
	}
	for name, g := range guarantees {
		if l, ok := limits[name]; ok && g.Cmp(l) > 0 {
			return fmt.Errorf("update quota: guarantees[%q]: guarantee %s is above limit %s", name, g, l)
		}
	}
	q := quotaConfig{guarantees: clean(guarantees), limits: clean(limits)}
	a.nGuar += boolDelta(len(a.quotas[roleName].guarantees) > 0, len(q.guarantees) > 0)
	if len(q.guarantees) == 0 && len(q.limits) == 0 {
		delete(a.quotas, roleName)
	} else {
		a.quotas[roleName] = q
	}
	r := a.ensureRole(roleName)
	a.applyQuota(r, q)
	a.updateQuotaTopology(r)
	a.tryRemoveRole(r)
	a.dirtyAll = true
	return nil
}

// clean copies q so the caller's map can change afterwards.
func clean(q Quantities) Quantities {
	out := Quantities{}
	for k, v := range q {
		out[k] = v
	}
	return out
}

func (a *Allocator) applyQuota(r *role, q quotaConfig) {
	r.guar = amountsOf(q.guarantees, &a.names)
	r.lim = amountsOf(q.limits, &a.names)
	slices.SortFunc(r.guar, func(x, y amount) int { return x.idx - y.idx })
	slices.SortFunc(r.lim, func(x, y amount) int { return x.idx - y.idx })
}

// updateQuotaTopology follows a change of r's quota: which guaranteed
// roles are topmost (their unmet guarantees make up the required
// headroom) can change only in r's subtree, and so can the flags that
// depend on quota.
func (a *Allocator) updateQuotaTopology(r *role) {
	a.walkSubtree(r, func(n *role) {
		top := n.guar != nil && !ancestorsHave(n, func(p *role) bool { return p.guar != nil })
		if n.topGuar && !top {
			a.reqHead.sub(n.unmet)
			n.unmet = n.unmet[:0]
		}
		n.topGuar = top
		a.refresh(n)
	})
}
