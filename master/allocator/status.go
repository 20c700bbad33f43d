package allocator

import (
	"fmt"
	"slices"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// RoleStatus is the allocator's view of one role (GET_ROLES, /roles).
type RoleStatus struct {
	Name       string
	Weight     float64
	Guarantees Quantities
	Limits     Quantities
	// Consumed counts toward quota: unreserved non-revocable resources
	// offered or allocated to the role's subtree, plus every reservation
	// for the subtree, allocated or not.
	Consumed Quantities
	// Allocated is what the subtree's frameworks hold, offered or in use.
	Allocated Quantities
	// Reserved is reserved for the subtree, over all agents.
	Reserved Quantities
	// Share is the weighted dominant share DRF ranks the role by.
	Share float64
	// Frameworks are subscribed to the role itself (or still hold
	// resources in it).
	Frameworks []mesos.FrameworkID
}

// Roles describes every role the allocator tracks, sorted by name.
func (a *Allocator) Roles() []RoleStatus {
	if a.stale {
		a.resort()
	}
	out := make([]RoleStatus, 0, len(a.roles))
	for _, name := range sortedKeys(a.roles) {
		r := a.roles[name]
		var alloc, resv qvec
		a.walkSubtree(r, func(n *role) {
			resv.add(n.resv)
			for _, e := range n.clients.all() {
				alloc.add(e.c.alloc)
			}
		})
		st := RoleStatus{
			Name:      name,
			Weight:    r.weight,
			Consumed:  r.subQ.quantities(&a.names),
			Allocated: alloc.quantities(&a.names),
			Reserved:  resv.quantities(&a.names),
			Share:     a.shareOf(r.sub) / r.weight,
		}
		if q, ok := a.quotas[name]; ok {
			st.Guarantees, st.Limits = clean(q.guarantees), clean(q.limits)
		}
		for _, e := range r.clients.all() {
			st.Frameworks = append(st.Frameworks, e.c.fw.id)
		}
		slices.Sort(st.Frameworks)
		out = append(out, st)
	}
	return out
}

func (a *Allocator) walkSubtree(r *role, f func(*role)) {
	f(r)
	for _, ch := range r.children {
		a.walkSubtree(ch, f)
	}
}

// Weights returns the roles' weights other than the default 1.
func (a *Allocator) Weights() map[string]float64 {
	out := make(map[string]float64, len(a.weights))
	for k, v := range a.weights {
		out[k] = v
	}
	return out
}

// Available returns the free (unoffered, unallocated) resources of an
// agent.
func (a *Allocator) Available(agentID mesos.AgentID) mesos.Resources {
	ag := a.agentByID[agentID]
	if ag == nil {
		return nil
	}
	return ag.free.resources(&a.names, "")
}

// Allocation returns what a framework holds on an agent, offered or in
// use, each resource carrying its allocation role.
func (a *Allocator) Allocation(fwID mesos.FrameworkID, agentID mesos.AgentID) mesos.Resources {
	ag := a.agentByID[agentID]
	if ag == nil {
		return nil
	}
	var out mesos.Resources
	for _, h := range ag.holdings {
		if h.fwID == fwID {
			out = append(out, h.res.resources(&a.names, h.role)...)
		}
	}
	return out
}

// Stats returns counters for metrics.
func (a *Allocator) Stats() Stats { return a.stats }

// Pending reports whether an Allocate at now would do any work: resources
// changed since the last cycle or a filter has expired. The master can use
// it to skip waking up.
func (a *Allocator) Pending(now time.Time) bool {
	if a.dirtyAll || len(a.cands) > 0 || len(a.dirtyClients) > 0 || len(a.pairs) > 0 {
		return true
	}
	t, ok := a.NextFilterExpiry()
	return ok && !t.After(now)
}

// checkInvariants verifies the allocator's bookkeeping from scratch. Tests
// call it after every step; it is O(everything).
func (a *Allocator) checkInvariants() error {
	var total, head qvec
	clientAlloc := make(map[*client]qvec)
	for i, ag := range a.agents {
		if ag.idx != i || a.agentByID[ag.id] != ag {
			return fmt.Errorf("agent %s: index %d, slot %d", ag.id, ag.idx, i)
		}
		total.add(ag.totalQ)
		sum := ag.free
		sum = parts{plain: sum.plain.clone(), ns: sum.ns, x: sum.x}
		for _, m := range ag.free.plain {
			if m < 0 {
				return fmt.Errorf("agent %s: negative free %v", ag.id, ag.free.plain)
			}
		}
		p, x := a.freeHeadroom(ag)
		head.add(p)
		head.add(x)
		for _, h := range ag.holdings {
			if h.res.empty() {
				return fmt.Errorf("agent %s: empty holding of %s", ag.id, h.fwID)
			}
			sum.add(&h.res)
			if h.c != nil {
				v := clientAlloc[h.c]
				v.add(h.res.plain)
				v.add(chargeOfX(h.res.x, &a.names).all)
				clientAlloc[h.c] = v
			}
		}
		want := splitResources(ag.total, &a.names)
		if !want.contains(&sum) || !sum.contains(&want) {
			return fmt.Errorf("agent %s: free + held = %s, total %s", ag.id, sum.resources(&a.names, ""), ag.total)
		}
	}
	if !eqVec(total, a.total) {
		return fmt.Errorf("cluster total %v, want %v", a.total, total)
	}
	if !eqVec(head, a.availHead) {
		return fmt.Errorf("available headroom %v, want %v", a.availHead, head)
	}
	for _, fw := range a.frameworks {
		for role, c := range fw.clients {
			if c.r.name != role || a.roles[role] != c.r {
				return fmt.Errorf("framework %s: client for %q points at %q", fw.id, role, c.r.name)
			}
			if !eqVec(c.alloc, clientAlloc[c]) {
				return fmt.Errorf("framework %s role %s: alloc %v, holdings sum %v", fw.id, role, c.alloc, clientAlloc[c])
			}
			if c.e.active != c.wantActive() {
				return fmt.Errorf("framework %s role %s: active %v, want %v", fw.id, role, c.e.active, c.wantActive())
			}
		}
	}
	var check func(r *role) error
	check = func(r *role) error {
		if !a.stale && (!r.items.sortedOK() || !r.clients.sortedOK() || !r.items1.sortedOK()) {
			return fmt.Errorf("role %q: order not sorted", r.name)
		}
		if r.self1.active != r.fS1 {
			return fmt.Errorf("role %q: in the guarantee stage %v, flag %v", r.name, r.self1.active, r.fS1)
		}
		for _, ch := range r.children {
			if ch.tree1.active != (ch.cS1 > 0) {
				return fmt.Errorf("role %q: subtree in the guarantee stage %v, count %d", ch.name, ch.tree1.active, ch.cS1)
			}
		}
		unc, s1 := 0, 0
		if r != a.root {
			unc, s1 = boolInt(r.fUnc), boolInt(r.fS1)
		}
		for _, ch := range r.children {
			if err := check(ch); err != nil {
				return err
			}
			unc += ch.cUnc
			s1 += ch.cS1
		}
		if r.cUnc != unc || r.cS1 != s1 {
			return fmt.Errorf("role %q: counters %d/%d, want %d/%d", r.name, r.cUnc, r.cS1, unc, s1)
		}
		return nil
	}
	return check(a.root)
}

// checkLimits verifies no role consumes more than its limits. Offers
// never take a role past them; reservations and resources reported by
// reregistering agents can, so tests call this where neither applies.
func (a *Allocator) checkLimits() error {
	for _, name := range sortedKeys(a.roles) {
		r := a.roles[name]
		for _, l := range r.lim {
			if r.subQ.at(l.idx) > l.milli {
				return fmt.Errorf("role %q consumes %s of %s, limit %s", name,
					mesos.ScalarFromMilli(r.subQ.at(l.idx)), a.names.list[l.idx], mesos.ScalarFromMilli(l.milli))
			}
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func eqVec(a, b qvec) bool {
	for i := range max(len(a), len(b)) {
		if a.at(i) != b.at(i) {
			return false
		}
	}
	return true
}
