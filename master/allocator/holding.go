package allocator

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// holding is what one framework holds on one agent for one role, offered
// or in use (the allocator does not tell the two apart: both are
// unavailable, and both count toward shares and quota, as in Mesos).
//
// A holding whose framework the allocator does not know yet (an agent
// reregistered with tasks before their framework resubscribed) is an
// orphan: its resources are withheld from offers but charged to nobody
// until AddFramework adopts it, exactly Mesos' accounting.
type holding struct {
	fwID mesos.FrameworkID
	role string
	c    *client // nil for an orphan
	res  parts

	// cycle and acc link the holding to this cycle's offer for the same
	// (framework, agent, role), so the two stages add to one offer.
	cycle uint64
	acc   int
}

// holdingFor returns the holding of c on ag, creating it.
func (a *Allocator) holdingFor(ag *agent, c *client) *holding {
	for _, h := range ag.holdings {
		if h.c == c {
			return h
		}
	}
	h := &holding{fwID: c.fw.id, role: c.r.name, c: c}
	ag.holdings = append(ag.holdings, h)
	c.holdings++
	return h
}

// findHolding returns the holding of framework id for role on ag, orphan
// or not.
func (ag *agent) findHolding(id mesos.FrameworkID, role string) *holding {
	for _, h := range ag.holdings {
		if h.fwID == id && h.role == role {
			return h
		}
	}
	return nil
}

// dropHolding removes h from ag once it holds nothing.
func (a *Allocator) dropHolding(ag *agent, h *holding) {
	for i, x := range ag.holdings {
		if x == h {
			copy(ag.holdings[i:], ag.holdings[i+1:])
			ag.holdings[len(ag.holdings)-1] = nil
			ag.holdings = ag.holdings[:len(ag.holdings)-1]
			break
		}
	}
	if h.c != nil {
		h.c.holdings--
		a.maybeDropClient(h.c)
	}
}

// charge adds (sign +1) or removes (-1) p to client c's accounting: the
// framework's share in its role, the role tree's shares and consumption,
// and the free headroom. allocated counts one more allocation on every
// sort entry involved (Mesos' tie-break between equal shares).
func (a *Allocator) charge(c *client, p *parts, sign int64, allocated bool) {
	var xc xCharge
	if len(p.x) > 0 {
		xc = chargeOfX(p.x, &a.names)
	}
	addScaled(&c.alloc, p.plain, sign)
	addScaled(&c.alloc, xc.all, sign)
	r := c.r
	a.chargeRole(r, p.plain, p.plain, sign)
	if len(xc.unres) > 0 || len(xc.quota) > 0 {
		a.chargeRole(r, xc.unres, xc.quota, sign)
	}
	addScaled(&a.availHead, p.plain, -sign)
	addScaled(&a.availHead, xc.quota, -sign)
	a.refreshPath(r)
	cnt := c.e.count
	if allocated {
		cnt++
	}
	if !a.stale {
		r.clients.update(&c.e, a.shareOf(c.alloc), cnt, true)
	} else {
		c.e.count = cnt
	}
	a.reshareRole(r, allocated)
}

// chargeOrphan adjusts the free headroom for resources held by an orphan.
func (a *Allocator) chargeOrphan(p *parts, sign int64) {
	addScaled(&a.availHead, p.plain, -sign)
	if len(p.x) > 0 {
		addScaled(&a.availHead, chargeOfX(p.x, &a.names).quota, -sign)
	}
}

// roleParts is one role's share of a resources list.
type roleParts struct {
	role string
	p    parts
}

// groupByRole splits rs by AllocationInfo role. Resources without one
// belong to the framework's only role; fw may be nil (unknown framework),
// and then every resource must name its role.
func (a *Allocator) groupByRole(fw *framework, rs mesos.Resources, what string) ([]roleParts, error) {
	if out, ok := a.groupPlain(rs); ok {
		return out, nil
	}
	if err := rs.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	groups := rs.Allocations()
	var out []roleParts
	for _, role := range sortedKeys(groups) {
		name := role
		if name == "" {
			switch {
			case fw != nil && len(fw.info.Roles) == 1:
				name = fw.info.Roles[0]
			case fw == nil:
				return nil, fmt.Errorf("%s: resources %s carry no allocation role and the framework is unknown", what, groups[role])
			default:
				return nil, fmt.Errorf("%s: resources %s carry no allocation role and the framework has %d roles", what, groups[role], len(fw.info.Roles))
			}
		}
		if err := mesos.ValidateRole(name); err != nil {
			return nil, fmt.Errorf("%s: allocation role: %w", what, err)
		}
		p := splitResources(groups[role], &a.names)
		if p.empty() {
			continue
		}
		merged := false
		for i := range out {
			if out[i].role == name {
				out[i].p.add(&p)
				merged = true
			}
		}
		if !merged {
			out = append(out, roleParts{name, p})
		}
	}
	return out, nil
}

// groupPlain is groupByRole for what nearly every task holds: valid plain
// scalars, each allocated to a valid role. It sums thousandths directly,
// skipping the general arithmetic's normalizing copies, which dominated a
// new leader taking back 100,000 tasks. ok is false when rs has anything
// else (or nothing); groupByRole then takes the general way, which gives
// the same answer for these lists.
func (a *Allocator) groupPlain(rs mesos.Resources) (out []roleParts, ok bool) {
	if len(rs) == 0 {
		return nil, false
	}
	checked := ""
	for i := range rs {
		r := &rs[i]
		if r.Type != mesos.ValueScalar || r.Scalar == nil || r.Name == "" || r.Ranges != nil || r.Set != nil ||
			!isPlain(r) || r.AllocationInfo == nil || r.AllocationInfo.Role == "" {
			return nil, false
		}
		if s := *r.Scalar; s.IsNaN() || s.IsInf(0) || s.Sign() < 0 {
			return nil, false
		}
		if role := r.AllocationInfo.Role; role != checked {
			if mesos.ValidateRole(role) != nil {
				return nil, false
			}
			checked = role
		}
	}
	for i := range rs {
		r := &rs[i]
		if r.Scalar.Sign() == 0 {
			continue // normalizing drops it: its name is not interned either
		}
		role := r.AllocationInfo.Role
		j := 0
		for j < len(out) && out[j].role != role {
			j++
		}
		if j == len(out) {
			out = append(out, roleParts{role: role})
		}
		idx := a.names.id(r.Name)
		a.names.scalar[idx] = true
		out[j].p.plain.addAt(idx, r.Scalar.Milli())
	}
	out = slices.DeleteFunc(out, func(g roleParts) bool { return g.p.empty() })
	slices.SortFunc(out, func(x, y roleParts) int { return strings.Compare(x.role, y.role) })
	return out, true
}

// Recover gives resources a framework held on an agent back to the
// agent: an offer declined or rescinded, the unused part of an ACCEPT, a
// finished task's resources. Resources carry their allocation role
// (AllocationInfo), as offers and tasks do; without it the framework's
// only role is assumed. Recovering from an agent or framework the
// allocator no longer knows is a no-op (the master may report resources
// after removing their agent, as in Mesos). Recovering more than the
// framework holds is an error and changes nothing.
func (a *Allocator) Recover(fwID mesos.FrameworkID, agentID mesos.AgentID, resources mesos.Resources) error {
	_, err := a.recover(fwID, agentID, resources)
	return err
}

func (a *Allocator) recover(fwID mesos.FrameworkID, agentID mesos.AgentID, resources mesos.Resources) ([]roleParts, error) {
	ag := a.agentByID[agentID]
	if ag == nil {
		return nil, nil
	}
	fw := a.frameworks[fwID]
	groups, err := a.groupByRole(fw, resources, fmt.Sprintf("recover from %s on %s", fwID, agentID))
	if err != nil {
		return nil, err
	}
	hs := make([]*holding, len(groups))
	for i, g := range groups {
		h := ag.findHolding(fwID, g.role)
		if h == nil {
			if fw == nil {
				return nil, nil // neither framework nor holding: nothing to do
			}
			return nil, fmt.Errorf("recover from %s on %s: it holds nothing for role %q", fwID, agentID, g.role)
		}
		if !h.res.contains(&g.p) {
			return nil, fmt.Errorf("recover from %s on %s: role %q holds %s, not all of %s",
				fwID, agentID, g.role, h.res.resources(&a.names, ""), g.p.resources(&a.names, ""))
		}
		hs[i] = h
	}
	quota := false
	for i, g := range groups {
		h := hs[i]
		h.res.sub(&g.p)
		a.addFree(ag, &g.p)
		if h.c != nil {
			a.charge(h.c, &g.p, -1, false)
			quota = quota || a.quotaOnPath(h.c.r)
		} else {
			a.chargeOrphan(&g.p, -1)
		}
		if h.res.empty() {
			a.dropHolding(ag, h)
		}
	}
	a.markAgent(ag)
	if quota || a.nGuar > 0 {
		// Lower consumption can let a role at its limit take resources
		// elsewhere, and more free headroom can release what was held back
		// for guarantees: every agent is worth another look.
		a.dirtyAll = true
	}
	return groups, nil
}

// quotaOnPath reports whether r or an ancestor has limits or guarantees.
func (a *Allocator) quotaOnPath(r *role) bool {
	for n := r; n != nil && n != a.root; n = n.parent {
		if n.lim != nil || n.guar != nil {
			return true
		}
	}
	return false
}

// Allocated charges resources on an agent to a framework without an
// offer: the master learned of them from a reregistering agent or
// framework. They must be free on the agent; resources without an
// allocation role belong to the framework's only role. An unknown
// framework's resources are withheld as an orphan until AddFramework.
func (a *Allocator) Allocated(fwID mesos.FrameworkID, agentID mesos.AgentID, resources mesos.Resources) error {
	ag := a.agentByID[agentID]
	what := fmt.Sprintf("allocated to %s on %s", fwID, agentID)
	if ag == nil {
		return fmt.Errorf("%s: unknown agent", what)
	}
	fw := a.frameworks[fwID]
	groups, err := a.groupByRole(fw, resources, what)
	if err != nil {
		return err
	}
	var sum parts
	for _, g := range groups {
		sum.add(&g.p)
	}
	if !ag.free.contains(&sum) {
		return fmt.Errorf("%s: %s is not free on the agent (free: %s)", what,
			sum.resources(&a.names, ""), ag.free.resources(&a.names, ""))
	}
	for _, g := range groups {
		a.hold(ag, fw, fwID, g.role, &g.p)
	}
	a.headroomMayGrow()
	return nil
}

// headroomMayGrow follows a change that can raise the free headroom
// beyond what unmet guarantees need (more free resources, or more
// consumption by a guaranteed role): agents held back for headroom may be
// offerable now, wherever they are.
func (a *Allocator) headroomMayGrow() {
	if a.nGuar > 0 {
		a.dirtyAll = true
	}
}

// hold moves p from ag's free resources into the holding of framework
// fwID (fw nil: orphan) for role.
func (a *Allocator) hold(ag *agent, fw *framework, fwID mesos.FrameworkID, roleName string, p *parts) {
	a.takeFree(ag, p)
	if fw == nil {
		h := ag.findHolding(fwID, roleName)
		if h == nil {
			h = &holding{fwID: fwID, role: roleName}
			ag.holdings = append(ag.holdings, h)
		}
		h.res.add(p)
		a.chargeOrphan(p, +1)
		return
	}
	c := a.ensureClient(fw, roleName)
	h := a.holdingFor(ag, c)
	h.res.add(p)
	a.charge(c, p, +1, true)
}

// addFree returns p to ag's free resources.
func (a *Allocator) addFree(ag *agent, p *parts) {
	ag.free.add(p)
	if len(p.x) > 0 {
		ag.refreshFreeMeta()
	}
}

// takeFree removes p from ag's free resources.
func (a *Allocator) takeFree(ag *agent, p *parts) {
	ag.free.sub(p)
	if len(p.x) > 0 {
		ag.refreshFreeMeta()
	}
}

// Convert applies a framework's RESERVE, UNRESERVE, CREATE or DESTROY to
// resources it holds on an agent (ACCEPT with operations): from, which it
// must hold, becomes to, which must have the same quantities. The agent's
// total changes with it, and reservations move between roles' consumption.
func (a *Allocator) Convert(fwID mesos.FrameworkID, agentID mesos.AgentID, from, to mesos.Resources) error {
	what := fmt.Sprintf("convert for %s on %s", fwID, agentID)
	ag := a.agentByID[agentID]
	if ag == nil {
		return fmt.Errorf("%s: unknown agent", what)
	}
	fw := a.frameworks[fwID]
	if fw == nil {
		return fmt.Errorf("%s: unknown framework", what)
	}
	gf, err := a.groupByRole(fw, from, what+": from")
	if err != nil {
		return err
	}
	gt, err := a.groupByRole(fw, to, what+": to")
	if err != nil {
		return err
	}
	if len(gf) != 1 || len(gt) != 1 || gf[0].role != gt[0].role {
		return fmt.Errorf("%s: from and to must be allocated to one and the same role", what)
	}
	if err := sameQuantities(from, to); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	h := ag.findHolding(fwID, gf[0].role)
	if h == nil || !h.res.contains(&gf[0].p) {
		return fmt.Errorf("%s: the framework does not hold %s", what, from)
	}
	oldResv := ag.resv
	a.trackReservations(oldResv, -1)
	h.res.sub(&gf[0].p)
	a.charge(h.c, &gf[0].p, -1, false)
	h.res.add(&gt[0].p)
	a.charge(h.c, &gt[0].p, +1, false)
	// The resources stayed held throughout: undo what the two charges did
	// to the free headroom.
	a.chargeOrphan(&gf[0].p, +1)
	a.chargeOrphan(&gt[0].p, -1)
	a.setTotal(ag, ag.total.Subtract(from.Unallocate()...).Add(to.Unallocate()...))
	a.trackReservations(ag.resv, +1)
	if len(a.quotas) > 0 {
		a.dirtyAll = true
	}
	return nil
}

// ConvertAvailable applies an operator's RESERVE_RESOURCES or
// UNRESERVE_RESOURCES (or volume operations) to free resources on an
// agent: from, which must be free, becomes to, with the same quantities.
func (a *Allocator) ConvertAvailable(agentID mesos.AgentID, from, to mesos.Resources) error {
	what := fmt.Sprintf("convert available on %s", agentID)
	ag := a.agentByID[agentID]
	if ag == nil {
		return fmt.Errorf("%s: unknown agent", what)
	}
	if err := errors.Join(from.Validate(), to.Validate()); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := sameQuantities(from, to); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	pf := splitResources(from, &a.names)
	pt := splitResources(to, &a.names)
	if !ag.free.contains(&pf) {
		return fmt.Errorf("%s: %s is not free (free: %s)", what, from, ag.free.resources(&a.names, ""))
	}
	a.trackReservations(ag.resv, -1)
	a.removeHeadroom(ag)
	a.takeFree(ag, &pf)
	a.addFree(ag, &pt)
	a.addHeadroom(ag)
	a.setTotal(ag, ag.total.Subtract(from.Unallocate()...).Add(to.Unallocate()...))
	a.trackReservations(ag.resv, +1)
	a.markAgent(ag)
	if len(a.quotas) > 0 {
		a.dirtyAll = true
	}
	return nil
}

// sameQuantities requires from and to to hold the same amounts per name:
// conversions change what resources are, never how much there is.
func sameQuantities(from, to mesos.Resources) error {
	qf, qt := from.Quantities(), to.Quantities()
	for name, v := range qf {
		if qt[name].Cmp(v) != 0 {
			return fmt.Errorf("from holds %s %s but to holds %s", v, name, qt[name])
		}
	}
	for name, v := range qt {
		if _, ok := qf[name]; !ok && !v.IsZero() {
			return fmt.Errorf("to holds %s %s that from does not", v, name)
		}
	}
	return nil
}
