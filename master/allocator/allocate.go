package allocator

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Offer is resources on one agent offered to one framework for one of its
// roles. There is at most one per (framework, agent, role) per cycle, and
// every resource carries AllocationInfo.Role = Role. Until the master
// reports them back (Recover, Decline) they stay charged to the framework.
type Offer struct {
	FrameworkID mesos.FrameworkID
	AgentID     mesos.AgentID
	Role        string
	Resources   mesos.Resources
}

// offerAcc collects one offer during a cycle: both stages may add to it.
type offerAcc struct {
	h     *holding
	ag    *agent
	off   int // its plain scalars: cycleState.arena[off : off+n]
	ns, x mesos.Resources
}

// cycleState is scratch space reused from cycle to cycle, so the
// allocation loop itself allocates only what the offers hold.
type cycleState struct {
	n       int // names this cycle; no name is added during a cycle
	agents  []*agent
	clients []*client
	pairs   []pair
	accs    []offerAcc
	arena   []int64
	give    qvec
	room    qvec
	sur     qvec
	gOff    qvec
	xq      qvec
}

func (cs *cycleState) reset(n int) {
	cs.n = n
	for _, v := range []*qvec{&cs.give, &cs.room, &cs.sur, &cs.gOff, &cs.xq} {
		if cap(*v) < n {
			*v = make(qvec, n)
		}
		*v = (*v)[:n]
	}
	clear(cs.accs)
	cs.accs = cs.accs[:0]
	cs.arena = cs.arena[:0]
}

// Allocate runs one allocation cycle at time now and returns the offers
// it makes.
//
// It first expires decline filters due by now. Then it looks only at what
// changed since the last cycle: agents whose free resources changed (added,
// updated, reactivated, resources recovered) get a full pass by everyone;
// frameworks that became eligible (added, activated, revived, updated)
// get a look at every agent with free resources, for themselves alone; a
// framework whose filter on an agent expired gets a look at that agent.
// Only changes that can matter to anyone anywhere (quota updated, a role
// with quota consuming less, the headroom for guarantees growing) make
// it look at every agent for everyone. When nothing changed it returns at
// once: an idle cycle costs a heap peek, not agents × frameworks.
//
// The agents are shuffled (seeded) and visited twice, as in Mesos:
//
//  1. Quota guarantees: roles below their guarantees, in DRF order, are
//     offered enough unreserved resources to reach them (plus, on the same
//     agent, whatever else their limits and the headroom allow).
//  2. Fair sharing: every role in DRF order, down the role tree, then
//     its frameworks in DRF order, is offered what is left — within its
//     quota limits and without eating into the headroom still needed for
//     other roles' unmet guarantees.
//
// Reserved resources go only to frameworks of the reservation's role or
// its subroles. An offer must hold some scalar resource and meet the
// min-allocatable alternatives; a framework's decline filters that cover
// it withhold it.
func (a *Allocator) Allocate(now time.Time) []Offer {
	a.expireFilters(now)
	if !a.dirtyAll && len(a.cands) == 0 && len(a.dirtyClients) == 0 && len(a.pairs) == 0 {
		a.stats.SkippedCycles++
		return nil
	}
	if len(a.dirtyClients) > maxTargeted {
		a.dirtyAll = true
	}
	if a.capScalars != a.scalarNameCount() {
		a.rebuildCapAlts()
	}
	if a.stale {
		a.resort()
	}
	a.cycle++
	cs := &a.run
	cs.reset(a.names.len())
	list := a.collect()
	a.stats.Cycles++
	a.stats.LastAgents = len(list)
	if a.root.cS1 > 0 {
		a.shuffle(list)
		for _, ag := range list {
			if ag.free.plain.anyPositive() {
				a.visit(ag, a.root, 0, 1)
			}
		}
	}
	a.shuffle(list)
	for _, ag := range list {
		if !ag.free.empty() && a.worthStage2(ag) {
			a.visit(ag, a.root, 0, 2)
		}
	}
	a.targeted()
	offers := a.buildOffers()
	a.stats.LastOffers = len(offers)
	a.stats.Offers += uint64(len(offers))
	return offers
}

// collect returns the agents this cycle looks at and clears the change
// marks.
func (a *Allocator) collect() []*agent {
	cs := &a.run
	cs.agents = cs.agents[:0]
	src := a.cands
	if a.dirtyAll {
		src = a.agents
	}
	for _, ag := range src {
		if ag.active && !ag.free.empty() {
			ag.seen = a.cycle
			cs.agents = append(cs.agents, ag)
		}
	}
	if !a.dirtyAll {
		// Marks arrive in whatever order events did; put them in agent
		// order so the seeded shuffle alone decides the visiting order.
		slices.SortFunc(cs.agents, func(x, y *agent) int { return x.idx - y.idx })
	}
	for _, ag := range a.cands {
		ag.cand = false
	}
	clear(a.cands)
	a.cands = a.cands[:0]
	if a.dirtyAll {
		// A full pass over every agent serves the marked clients and
		// pairs too.
		a.clearTargets()
	}
	a.dirtyAll = false
	return cs.agents
}

func (a *Allocator) clearTargets() {
	for _, c := range a.dirtyClients {
		c.dirty = false
	}
	clear(a.dirtyClients)
	a.dirtyClients = a.dirtyClients[:0]
	clear(a.pairs)
	a.pairs = a.pairs[:0]
}

// targeted serves what became eligible without anything changing for
// anyone else: clients that were added, activated or revived get a look
// at every agent with free resources, and a client whose filter expired
// gets a look at that agent. Everyone else already passed on those
// resources the last time the agent was looked at, and nothing has
// changed their mind since — so this costs agents × newly eligible
// clients, not agents × frameworks. Agents that had a full pass this cycle
// are skipped: the clients were part of it.
func (a *Allocator) targeted() {
	clients := a.run.clients[:0]
	for _, c := range a.dirtyClients {
		if c.e.active && a.frameworks[c.fw.id] == c.fw {
			clients = append(clients, c)
		}
	}
	pairs := append(a.run.pairs[:0], a.pairs...)
	a.clearTargets()
	if len(clients) > 0 {
		slices.SortFunc(clients, func(x, y *client) int {
			if x.r.name != y.r.name {
				return strings.Compare(x.r.name, y.r.name)
			}
			return strings.Compare(string(x.fw.id), string(y.fw.id))
		})
		agents := a.run.agents[:0]
		for _, ag := range a.agents {
			if ag.seen != a.cycle && ag.active && !ag.free.empty() {
				agents = append(agents, ag)
			}
		}
		a.shuffle(agents)
		a.stats.LastAgents += len(agents)
		for _, ag := range agents {
			if len(clients) > 1 {
				slices.SortFunc(clients, a.compareClients)
			}
			for _, c := range clients {
				if ag.free.empty() {
					break
				}
				a.offerPair(ag, c)
			}
		}
		a.run.agents = agents
	}
	for _, p := range pairs {
		if a.agentByID[p.ag.id] == p.ag && p.ag.seen != a.cycle && p.c.e.active && a.frameworks[p.c.fw.id] == p.c.fw {
			a.offerPair(p.ag, p.c)
		}
	}
	clear(clients)
	a.run.clients = clients[:0]
	clear(pairs)
	a.run.pairs = pairs[:0]
}

// offerPair offers ag to c alone: the guarantee stage if its role is below
// its guarantees, then the fair-sharing stage.
func (a *Allocator) offerPair(ag *agent, c *client) {
	if !ag.active || ag.free.empty() {
		return
	}
	if c.r.fS1 && ag.free.plain.anyPositive() {
		a.tryOffer(ag, c, 1)
	}
	if !ag.free.empty() && a.worthStage2(ag) {
		a.tryOffer(ag, c, 2)
	}
}

// compareClients orders clients of different roles as the hierarchical
// sort would: by the first place their paths from the root part, then by
// their own keys.
func (a *Allocator) compareClients(x, y *client) int {
	if x.r == y.r {
		return compareKeys(&x.e.entryKey, &y.e.entryKey)
	}
	px, py := x.r.path(), y.r.path()
	for i := 0; ; i++ {
		// The entry each client sits under at depth i: a child's subtree,
		// or its own role's self entry when the path ends there.
		ex, ey := pathEntry(px, i), pathEntry(py, i)
		if ex != ey {
			return compareKeys(&ex.entryKey, &ey.entryKey)
		}
	}
}

// path returns r's ancestors from the top level down to r.
func (r *role) path() []*role {
	var out []*role
	for n := r; n != nil && n.parent != nil; n = n.parent {
		out = append(out, n)
	}
	slices.Reverse(out)
	return out
}

// pathEntry is the entry at depth i on the way to a role with path p:
// the subtree entry of p[i], or the self entry of the role itself once
// the path is exhausted.
func pathEntry(p []*role, i int) *entry {
	if i < len(p) {
		return &p[i].tree
	}
	return &p[len(p)-1].self
}

func (a *Allocator) shuffle(list []*agent) {
	a.rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
}

// canPrune reports whether subtrees may be skipped on ag for being at
// their limits. Not when some framework has its own min-allocatable
// alternatives (the masks assume the global ones), nor when the agent has
// revocable resources or reservations for the subtree: those are offered
// regardless of limits.
func (a *Allocator) canPrune(ag *agent, r *role) bool {
	return a.capping && a.nOverrides == 0 && !ag.freeRev && !ag.resvRelevant(r.name)
}

// worthStage2 rules out, in constant time, agents nobody can be offered
// anything from.
func (a *Allocator) worthStage2(ag *agent) bool {
	if ag.onlyReserved() {
		// Worth a look only if a reservation's subtree has someone to
		// offer it to.
		for _, rr := range ag.freeResv {
			if r := a.roles[rr]; r != nil && r.tree.active {
				return true
			}
		}
		return false
	}
	if len(ag.free.x) > 0 {
		return true
	}
	if !ag.free.plain.anyPositive() {
		return false // ranges and sets alone make no offer
	}
	if a.capping && a.nOverrides == 0 && a.root.cUnc == 0 {
		return false // every role is at its limits
	}
	if a.reqHead.anyPositive() {
		ok := false
		for i, m := range ag.free.plain {
			if m > 0 {
				if req := a.reqHead.at(i); req == 0 || a.availHead.at(i) > req {
					ok = true
					break
				}
			}
		}
		if !ok {
			return false // all of it is headroom for unmet guarantees
		}
	}
	if a.nOverrides == 0 && len(a.alts) > 0 && !satisfiesAny(a.alts, ag.free.plain, ag.free.ns, nil, &a.names) {
		return false // crumbs
	}
	return true
}

// visit offers ag to r's subtree in DRF order. mask is the OR of the
// limit masks from the root down to r.
//
// The order changes while we walk it (an entry that is allocated to moves
// back), so instead of copying it first (Mesos sorts and copies every
// client for every agent: agents × frameworks) the walk uses a cursor
// that survives reordering, and stamps entries it has visited.
func (a *Allocator) visit(ag *agent, r *role, mask uint64, stage int) {
	a.stamp++
	st := a.stamp
	o := &r.items
	if stage == 1 {
		o = &r.items1
	}
	cur := o.cursor()
	for e := cur.next(); e != nil; e = cur.next() {
		if ag.free.empty() {
			return
		}
		if e.stamp == st {
			continue
		}
		e.stamp = st
		if e.kind == kindSelf {
			if a.selfEligible(ag, r, mask, stage) {
				a.offerClients(ag, r, stage)
			}
			continue
		}
		ch := e.r
		m := mask | ch.mask
		if !a.pruneTree(ag, ch, m, stage) {
			a.visit(ag, ch, m, stage)
		}
	}
}

func (a *Allocator) pruneTree(ag *agent, ch *role, m uint64, stage int) bool {
	if stage == 1 {
		return ch.cS1 == 0
	}
	if ag.onlyReserved() && !ag.resvRelevant(ch.name) {
		return true
	}
	if !a.canPrune(ag, ch) {
		return false
	}
	return ch.cUnc == 0 || m == a.capAll
}

func (a *Allocator) selfEligible(ag *agent, r *role, mask uint64, stage int) bool {
	if stage == 1 {
		return r.fS1
	}
	if ag.onlyReserved() && !ag.resvFor(r.name) {
		return false
	}
	if !a.canPrune(ag, r) {
		return true
	}
	return mask != a.capAll
}

// offerClients offers ag to r's own frameworks in DRF order.
func (a *Allocator) offerClients(ag *agent, r *role, stage int) {
	a.stamp++
	st := a.stamp
	cur := r.clients.cursor()
	for e := cur.next(); e != nil; e = cur.next() {
		if ag.free.empty() || (stage == 1 && !r.fS1) {
			return
		}
		if e.stamp == st {
			continue
		}
		e.stamp = st
		a.tryOffer(ag, e.c, stage)
	}
}

// tryOffer builds the offer of ag to client c for this stage in scratch
// vectors and makes it if it qualifies.
func (a *Allocator) tryOffer(ag *agent, c *client, stage int) {
	caps := &c.fw.info.Capabilities
	if ag.hasGPU && !a.opts.OfferGPUsToAll && !caps.GPUResources {
		return
	}
	if ag.remote && !caps.RegionAware {
		return
	}
	cs := &a.run
	n := cs.n
	free := ag.free.plain
	r := c.r

	// Room left under the limits of r and its ancestors.
	room := cs.room
	limited := false
	for node := r; node != a.root; node = node.parent {
		if node.lim == nil {
			continue
		}
		if !limited {
			limited = true
			for i := range room {
				room[i] = math.MaxInt64
			}
		}
		for _, l := range node.lim {
			rem := max(l.milli-node.subQ.at(l.idx), 0)
			if rem < room[l.idx] {
				room[l.idx] = rem
			}
		}
	}

	// Headroom that can be given away: free unreserved resources beyond
	// what unmet guarantees still need.
	sur := cs.sur
	headroom := a.reqHead.anyPositive()
	if headroom {
		for i := range sur {
			sur[i] = math.MaxInt64
			if req := a.reqHead.at(i); req > 0 {
				sur[i] = max(a.availHead.at(i)-req, 0)
			}
		}
	}

	give, gOff := cs.give, cs.gOff
	clear(gOff)
	if stage == 1 {
		progress := false
		for _, g := range r.guar {
			u := min(g.milli-r.subQ.at(g.idx), free.at(g.idx))
			if limited {
				u = min(u, room[g.idx])
			}
			if u > 0 {
				gOff[g.idx] = u
				progress = true
			}
		}
		if !progress {
			return
		}
	}
	for i := 0; i < n; i++ {
		add := free.at(i) - gOff[i]
		if limited {
			add = min(add, room[i]-gOff[i])
		}
		if headroom {
			add = min(add, sur[i])
		}
		give[i] = gOff[i] + max(add, 0)
	}

	var xs mesos.Resources
	if len(ag.free.x) > 0 {
		xs = a.exoticFor(ag, c, stage, limited, headroom)
	}
	ns := ag.free.ns
	if !give.anyPositive() && !hasScalar(xs) {
		return
	}
	alts := a.alts
	if c.override {
		alts = c.alts
	}
	if len(alts) > 0 && !satisfiesAny(alts, give, ns, xs, &a.names) {
		return
	}
	if c.nFilters > 0 && a.filtered(c, ag, give, ns, xs) {
		return
	}
	a.commit(ag, c, give, ns, xs)
}

// exoticFor picks the agent's non-plain free resources that may go to c
// in this stage: reservations for its role (stage 1) or for its role or
// an ancestor (stage 2), revocable resources if it takes them, and other
// unreserved resources (mount disks and the like) whole, if they fit its
// limits and the headroom. Capabilities decide revocable, shared and
// refined-reservation resources.
func (a *Allocator) exoticFor(ag *agent, c *client, stage int, limited, headroom bool) mesos.Resources {
	cs := &a.run
	caps := &c.fw.info.Capabilities
	role := c.r.name
	xq := cs.xq
	clear(xq)
	var out mesos.Resources
	for i := range ag.free.x {
		res := &ag.free.x[i]
		if !res.IsAllocatableTo(role) {
			continue
		}
		reserved := res.IsReserved()
		switch {
		case stage == 1 && reserved && res.ReservationRole() != role:
			continue
		case res.IsRevocable() && !caps.RevocableResources:
			continue
		case res.IsShared() && !caps.SharedResources:
			continue
		case len(res.Reservations) > 1 && !caps.ReservationRefinement:
			continue
		}
		if !reserved && !res.IsRevocable() && res.Type == mesos.ValueScalar {
			idx := a.names.id(res.Name)
			m := res.Scalar.Milli()
			taken := cs.give[idx] + xq[idx] + m
			if limited && taken > cs.room[idx] {
				continue
			}
			if headroom && taken-cs.gOff[idx] > cs.sur[idx] {
				continue
			}
			xq[idx] += m
		}
		out = append(out, *res)
	}
	return out
}

func hasScalar(rs mesos.Resources) bool {
	for i := range rs {
		if rs[i].Type == mesos.ValueScalar && rs[i].Scalar != nil && rs[i].Scalar.Sign() > 0 {
			return true
		}
	}
	return false
}

// satisfiesAny reports whether an offer of give plus ns and xs holds at
// least one alternative in full. Ranges and sets count their items.
func satisfiesAny(alts []alt, give qvec, ns, xs mesos.Resources, n *names) bool {
	for _, al := range alts {
		ok := true
		for _, it := range al {
			have := give.at(it.idx)
			if have >= it.milli {
				continue
			}
			name := n.list[it.idx]
			for _, list := range [2]mesos.Resources{ns, xs} {
				for i := range list {
					r := &list[i]
					if r.Name != name {
						continue
					}
					if r.Type == mesos.ValueScalar {
						have += r.Scalar.Milli()
					} else {
						have += nonScalarCount(r)
					}
				}
			}
			if have < it.milli {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// commit moves the offer from the agent's free resources to c's holding,
// charges it, and records it for this cycle's offers.
func (a *Allocator) commit(ag *agent, c *client, give qvec, ns, xs mesos.Resources) {
	ag.free.plain.sub(give)
	if len(ns) > 0 {
		ag.free.ns = nil
	}
	if len(xs) > 0 {
		ag.free.x = subResources(ag.free.x, xs)
		ag.refreshFreeMeta()
	}
	h := a.holdingFor(ag, c)
	h.res.plain.add(give)
	h.res.ns = addResources(h.res.ns, ns)
	h.res.x = addResources(h.res.x, xs)
	p := parts{plain: give, ns: ns, x: xs}
	a.charge(c, &p, +1, true)

	cs := &a.run
	if h.cycle == a.cycle {
		acc := &cs.accs[h.acc]
		v := qvec(cs.arena[acc.off : acc.off+cs.n])
		v.add(give)
		acc.ns = addResources(acc.ns, ns)
		acc.x = addResources(acc.x, xs)
		return
	}
	off := len(cs.arena)
	cs.arena = append(cs.arena, give...)
	cs.accs = append(cs.accs, offerAcc{h: h, ag: ag, off: off, ns: ns, x: xs})
	h.cycle = a.cycle
	h.acc = len(cs.accs) - 1
}

func (a *Allocator) buildOffers() []Offer {
	cs := &a.run
	if len(cs.accs) == 0 {
		return nil
	}
	out := make([]Offer, len(cs.accs))
	var sl slab
	for i := range cs.accs {
		acc := &cs.accs[i]
		plain := qvec(cs.arena[acc.off : acc.off+cs.n])
		cnt := len(acc.ns) + len(acc.x)
		for _, m := range plain {
			if m > 0 {
				cnt++
			}
		}
		info := sl.info(acc.h.role)
		rs := sl.resources(cnt)
		for j, m := range plain {
			if m > 0 {
				rs = append(rs, mesos.Resource{
					Name:           a.names.list[j],
					Type:           mesos.ValueScalar,
					Scalar:         sl.scalar(m),
					AllocationInfo: info,
				})
			}
		}
		for _, list := range [2]mesos.Resources{acc.ns, acc.x} {
			for _, r := range list {
				r.AllocationInfo = info
				rs = append(rs, r)
			}
		}
		out[i] = Offer{FrameworkID: acc.h.fwID, AgentID: acc.ag.id, Role: acc.h.role, Resources: rs}
	}
	return out
}

// slab hands out the memory offers are built from in chunks, so a cycle
// of ten thousand offers makes a few hundred allocations instead of tens
// of thousands. Chunks are small, so an offer kept for long keeps little
// else alive.
type slab struct {
	res   []mesos.Resource
	sc    []mesos.Scalar
	infos []mesos.AllocationInfo
}

const slabChunk = 256

// resources returns an empty list with room for n entries; appending past
// n reallocates rather than running into the next offer's entries.
func (s *slab) resources(n int) mesos.Resources {
	if len(s.res) < n {
		s.res = make([]mesos.Resource, max(n, slabChunk))
	}
	out := s.res[:0:n]
	s.res = s.res[n:]
	return out
}

func (s *slab) scalar(m int64) *mesos.Scalar {
	if len(s.sc) == 0 {
		s.sc = make([]mesos.Scalar, slabChunk)
	}
	p := &s.sc[0]
	*p = mesos.ScalarFromMilli(m)
	s.sc = s.sc[1:]
	return p
}

func (s *slab) info(role string) *mesos.AllocationInfo {
	if len(s.infos) == 0 {
		s.infos = make([]mesos.AllocationInfo, slabChunk)
	}
	p := &s.infos[0]
	p.Role = role
	s.infos = s.infos[1:]
	return p
}
