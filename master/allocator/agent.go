package allocator

import (
	"fmt"
	"slices"

	"github.com/strata-dc/strata/master/mesos"
)

// AgentInfo is what the allocator needs to know about an agent besides
// its resources.
type AgentInfo struct {
	Hostname   string
	Attributes mesos.Attributes
	Domain     *mesos.DomainInfo
}

// agent is one agent's resources: its total, what is free, and what each
// framework holds on it.
type agent struct {
	id     mesos.AgentID
	info   AgentInfo
	idx    int    // position in Allocator.agents
	active bool   // deactivated and draining agents get no offers
	cand   bool   // in Allocator.cands
	seen   uint64 // the last cycle that gave it a full pass

	total  mesos.Resources
	totalQ qvec            // every scalar in total
	resv   map[string]qvec // reserved scalars in total, by reservation role
	hasGPU bool
	remote bool // in another region than the master

	free       parts
	freeResv   []string // reservation roles of free reserved resources
	freeRev    bool     // some free resource is revocable
	freeUnresX bool     // some free non-plain resource is unreserved
	holdings   []*holding
}

// refreshFreeMeta recomputes what the allocation loop needs to know about
// the agent's rare free resources without walking them every time.
func (ag *agent) refreshFreeMeta() {
	ag.freeResv = ag.freeResv[:0]
	ag.freeRev, ag.freeUnresX = false, false
	for i := range ag.free.x {
		r := &ag.free.x[i]
		if r.IsRevocable() {
			ag.freeRev = true
		}
		role := r.ReservationRole()
		if role == "" {
			ag.freeUnresX = true
		} else if !slices.Contains(ag.freeResv, role) {
			ag.freeResv = append(ag.freeResv, role)
		}
	}
}

// onlyReserved reports whether everything free on the agent is reserved:
// then only the reservations' roles and their subroles can be offered
// anything.
func (ag *agent) onlyReserved() bool {
	return !ag.freeUnresX && len(ag.free.ns) == 0 && !ag.free.plain.anyPositive()
}

// resvFor reports whether the agent has free resources reserved for role
// or one of its ancestors: resources role itself may be offered.
func (ag *agent) resvFor(role string) bool {
	for _, rr := range ag.freeResv {
		if mesos.IsRoleInSubtree(role, rr) {
			return true
		}
	}
	return false
}

// resvRelevant reports whether the agent has free resources reserved for
// a role that could be offered somewhere in root's subtree: reserved for
// a role in the subtree, or for an ancestor of root (reservations flow
// down to subroles).
func (ag *agent) resvRelevant(root string) bool {
	for _, rr := range ag.freeResv {
		if mesos.IsRoleInSubtree(rr, root) || mesos.IsStrictSubrole(root, rr) {
			return true
		}
	}
	return false
}

// freeHeadroom is the agent's free unreserved non-revocable scalars.
func (a *Allocator) freeHeadroom(ag *agent) (qvec, qvec) {
	var xq qvec
	if len(ag.free.x) > 0 {
		xq = chargeOfX(ag.free.x, &a.names).quota
	}
	return ag.free.plain, xq
}

func (a *Allocator) addHeadroom(ag *agent) {
	p, x := a.freeHeadroom(ag)
	a.availHead.add(p)
	a.availHead.add(x)
}

func (a *Allocator) removeHeadroom(ag *agent) {
	p, x := a.freeHeadroom(ag)
	a.availHead.sub(p)
	a.availHead.sub(x)
}

// setTotal replaces ag's total and the cluster totals that depend on it.
// Free resources and reservations' accounting are the caller's.
func (a *Allocator) setTotal(ag *agent, total mesos.Resources) {
	total = total.Unallocate()
	a.total.sub(ag.totalQ)
	old := ag.totalQ
	ag.total = total
	ag.totalQ = nil
	ag.resv = make(map[string]qvec)
	ag.hasGPU = false
	for i := range total {
		r := &total[i]
		if r.Type != mesos.ValueScalar {
			continue
		}
		idx := a.names.id(r.Name)
		a.names.scalar[idx] = true
		m := r.Scalar.Milli()
		ag.totalQ.addAt(idx, m)
		if role := r.ReservationRole(); role != "" {
			q := ag.resv[role]
			q.addAt(idx, m)
			ag.resv[role] = q
		}
		if r.Name == "gpus" && m > 0 {
			ag.hasGPU = true
		}
	}
	a.total.add(ag.totalQ)
	if !slices.Equal(old, ag.totalQ) {
		a.stale = true
	}
}

func (a *Allocator) isRemote(info AgentInfo) bool {
	d := info.Domain
	return a.opts.Region != "" && d != nil && d.FaultDomain != nil && d.FaultDomain.Region != nil &&
		d.FaultDomain.Region.Name != a.opts.Region
}

// AddAgent adds an agent with its total resources (reservations
// included) and what frameworks already use on it (a reregistering
// agent's tasks, by framework, each carrying its allocation role). Used
// resources of frameworks the allocator does not know yet are withheld
// until their framework is added. The agent starts active.
func (a *Allocator) AddAgent(id mesos.AgentID, info AgentInfo, total mesos.Resources, used map[mesos.FrameworkID]mesos.Resources) error {
	what := fmt.Sprintf("add agent %s", id)
	if id == "" {
		return fmt.Errorf("%s: empty agent ID", what)
	}
	if _, dup := a.agentByID[id]; dup {
		return fmt.Errorf("%s: already added", what)
	}
	if err := total.Validate(); err != nil {
		return fmt.Errorf("%s: total: %w", what, err)
	}
	ag := &agent{id: id, info: info, active: true, remote: a.isRemote(info)}
	ag.free = splitResources(total, &a.names)

	// Check everything used fits before changing any state.
	type use struct {
		fwID mesos.FrameworkID
		fw   *framework
		g    roleParts
	}
	uses := make([]use, 0, len(used))
	var sum parts
	for _, fwID := range sortedKeys(used) {
		fw := a.frameworks[fwID]
		// The common case first, so the error context is formatted only
		// when it may be needed (it was a tenth of a failover's cost).
		groups, ok := a.groupPlain(used[fwID])
		if !ok {
			var err error
			if groups, err = a.groupByRole(fw, used[fwID], fmt.Sprintf("%s: used by %s", what, fwID)); err != nil {
				return err
			}
		}
		for _, g := range groups {
			uses = append(uses, use{fwID, fw, g})
			sum.add(&g.p)
		}
	}
	if !ag.free.contains(&sum) {
		return fmt.Errorf("%s: used resources %s exceed the total %s", what, sum.resources(&a.names, ""), total)
	}

	a.setTotal(ag, total)
	a.stale = true
	ag.refreshFreeMeta()
	ag.idx = len(a.agents)
	a.agents = append(a.agents, ag)
	a.agentByID[id] = ag
	a.addHeadroom(ag)
	a.trackReservations(ag.resv, +1)
	for _, u := range uses {
		a.hold(ag, u.fw, u.fwID, u.g.role, &u.g.p)
	}
	a.markAgent(ag)
	a.headroomMayGrow()
	return nil
}

// UpdateAgent changes an agent's description or total resources (an
// agent restarted with more resources, oversubscription changing its
// revocable resources). What frameworks hold must still fit in the new
// total. Changed attributes clear the decline filters on the agent, as in
// Mesos: frameworks may have declined it for attributes it no longer has.
func (a *Allocator) UpdateAgent(id mesos.AgentID, info AgentInfo, total mesos.Resources) error {
	what := fmt.Sprintf("update agent %s", id)
	ag := a.agentByID[id]
	if ag == nil {
		return fmt.Errorf("%s: unknown agent", what)
	}
	if err := total.Validate(); err != nil {
		return fmt.Errorf("%s: total: %w", what, err)
	}
	free := splitResources(total, &a.names)
	var held parts
	for _, h := range ag.holdings {
		held.add(&h.res)
	}
	if !free.contains(&held) {
		return fmt.Errorf("%s: the new total %s does not hold what frameworks use (%s)", what, total, held.resources(&a.names, ""))
	}
	free.sub(&held)

	if !info.Attributes.Equal(ag.info.Attributes) {
		a.removeAgentFilters(ag)
	}
	ag.info = info
	ag.remote = a.isRemote(info)
	a.trackReservations(ag.resv, -1)
	a.removeHeadroom(ag)
	ag.free = free
	ag.refreshFreeMeta()
	a.addHeadroom(ag)
	a.setTotal(ag, total)
	a.trackReservations(ag.resv, +1)
	a.markAgent(ag)
	if len(a.quotas) > 0 {
		a.dirtyAll = true
	}
	return nil
}

// RemoveAgent forgets an agent and everything held on it. Recovering
// resources from it afterwards is a no-op.
func (a *Allocator) RemoveAgent(id mesos.AgentID) error {
	ag := a.agentByID[id]
	if ag == nil {
		return fmt.Errorf("remove agent %s: unknown agent", id)
	}
	for len(ag.holdings) > 0 {
		h := ag.holdings[len(ag.holdings)-1]
		if h.c != nil {
			a.charge(h.c, &h.res, -1, false)
		} else {
			a.chargeOrphan(&h.res, -1)
		}
		a.addFree(ag, &h.res)
		h.res = parts{}
		a.dropHolding(ag, h)
	}
	a.removeHeadroom(ag)
	a.removeAgentFilters(ag)
	a.trackReservations(ag.resv, -1)
	a.total.sub(ag.totalQ)
	a.stale = true
	last := len(a.agents) - 1
	a.agents[ag.idx] = a.agents[last]
	a.agents[ag.idx].idx = ag.idx
	a.agents[last] = nil
	a.agents = a.agents[:last]
	delete(a.agentByID, id)
	if ag.cand {
		a.cands = slices.DeleteFunc(a.cands, func(x *agent) bool { return x == ag })
		ag.cand = false
	}
	if len(a.quotas) > 0 {
		a.dirtyAll = true
	}
	return nil
}

// ActivateAgent makes a deactivated agent's resources offerable again
// (REACTIVATE_AGENT).
func (a *Allocator) ActivateAgent(id mesos.AgentID) error {
	ag := a.agentByID[id]
	if ag == nil {
		return fmt.Errorf("activate agent %s: unknown agent", id)
	}
	if !ag.active {
		ag.active = true
		a.markAgent(ag)
	}
	return nil
}

// DeactivateAgent stops offers of an agent's resources (DEACTIVATE_AGENT,
// DRAIN_AGENT) while its resources keep counting in the cluster totals and
// what frameworks hold there stays held.
func (a *Allocator) DeactivateAgent(id mesos.AgentID) error {
	ag := a.agentByID[id]
	if ag == nil {
		return fmt.Errorf("deactivate agent %s: unknown agent", id)
	}
	ag.active = false
	return nil
}
