package allocator

import (
	"errors"
	"fmt"
	"slices"

	"github.com/strata-dc/strata/master/mesos"
)

// Capabilities are the framework capabilities that change what it may be
// offered.
type Capabilities struct {
	RevocableResources    bool // may be offered revocable resources
	GPUResources          bool // may be offered agents with GPUs
	SharedResources       bool // may be offered shared persistent volumes
	RegionAware           bool // may be offered agents in other regions
	ReservationRefinement bool // understands refined (multi-level) reservations
}

// CapabilitiesOf reads the capabilities the allocator cares about.
func CapabilitiesOf(caps []mesos.FrameworkCapability) Capabilities {
	var c Capabilities
	for _, x := range caps {
		switch x.Type {
		case mesos.FrameworkCapabilityRevocableResources:
			c.RevocableResources = true
		case mesos.FrameworkCapabilityGPUResources:
			c.GPUResources = true
		case mesos.FrameworkCapabilitySharedResources:
			c.SharedResources = true
		case mesos.FrameworkCapabilityRegionAware:
			c.RegionAware = true
		case mesos.FrameworkCapabilityReservationRefinement:
			c.ReservationRefinement = true
		}
	}
	return c
}

// FrameworkInfo is what the allocator needs to know about a framework.
type FrameworkInfo struct {
	Roles           []string
	Capabilities    Capabilities
	SuppressedRoles []string
	// MinAllocatable overrides Options.MinAllocatable per role
	// (FrameworkInfo.offer_filters). An empty list for a role means any
	// offer with some scalar qualifies.
	MinAllocatable map[string][]Quantities
}

// FrameworkInfoOf builds a FrameworkInfo from the protocol's, with the
// roles the framework asked to be suppressed (SUBSCRIBE's
// suppressed_roles).
func FrameworkInfoOf(info *mesos.FrameworkInfo, suppressedRoles []string) FrameworkInfo {
	fi := FrameworkInfo{
		Roles:           slices.Clone(info.GetRoles()),
		Capabilities:    CapabilitiesOf(info.Capabilities),
		SuppressedRoles: slices.Clone(suppressedRoles),
	}
	for role, of := range info.OfferFilters {
		if of.MinAllocatableResources == nil {
			continue
		}
		if fi.MinAllocatable == nil {
			fi.MinAllocatable = make(map[string][]Quantities)
		}
		list := []Quantities{}
		for _, q := range of.MinAllocatableResources.Quantities {
			list = append(list, Quantities(q.Quantities))
		}
		fi.MinAllocatable[role] = list
	}
	return fi
}

func (fi *FrameworkInfo) validate(what string) error {
	var errs []error
	seen := make(map[string]bool)
	for _, r := range fi.Roles {
		if err := mesos.ValidateRole(r); err != nil {
			errs = append(errs, fmt.Errorf("%s: roles: %w", what, err))
		}
		if seen[r] {
			errs = append(errs, fmt.Errorf("%s: roles: duplicate role %q", what, r))
		}
		seen[r] = true
	}
	for _, r := range fi.SuppressedRoles {
		if !seen[r] {
			errs = append(errs, fmt.Errorf("%s: suppressed role %q is not one of the framework's roles", what, r))
		}
	}
	for _, role := range sortedKeys(fi.MinAllocatable) {
		for i, q := range fi.MinAllocatable[role] {
			if err := q.validate(fmt.Sprintf("%s: min allocatable[%q][%d]", what, role, i)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// framework is one framework and its clients, one per role it is
// subscribed to or still holds resources in.
type framework struct {
	id      mesos.FrameworkID
	info    FrameworkInfo
	active  bool
	clients map[string]*client
}

// client is a framework within one role: the unit the role's DRF sorter
// orders.
type client struct {
	fw *framework
	r  *role
	e  entry

	alloc qvec // every scalar it holds in this role, over all agents

	subscribed bool
	suppressed bool
	holdings   int // agents it holds resources on

	filters  map[*agent][]*filter
	nFilters int

	override bool  // has its own min-allocatable alternatives
	alts     []alt // those alternatives

	dirty bool // in Allocator.dirtyClients
}

func (c *client) wantActive() bool { return c.fw.active && c.subscribed && !c.suppressed }

// ensureClient returns fw's client in role, creating it (inactive).
func (a *Allocator) ensureClient(fw *framework, roleName string) *client {
	if c, ok := fw.clients[roleName]; ok {
		return c
	}
	r := a.ensureRole(roleName)
	c := &client{fw: fw, r: r}
	c.e = entry{entryKey: entryKey{name: string(fw.id)}, kind: kindClient, r: r, c: c}
	r.clients.add(&c.e)
	r.nClients++
	fw.clients[roleName] = c
	a.setClientAlts(c)
	return c
}

// setClientAlts applies the framework's min-allocatable override for the
// client's role.
func (a *Allocator) setClientAlts(c *client) {
	wasCounted := c.override && c.e.active
	list, ok := c.fw.info.MinAllocatable[c.r.name]
	c.override = ok
	c.alts = nil
	if ok {
		c.alts = a.altsOf(list)
	}
	if nowCounted := c.override && c.e.active; nowCounted != wasCounted {
		a.nOverrides += boolDelta(wasCounted, nowCounted)
	}
}

// syncClient makes c's place in its role's sorter match wantActive.
func (a *Allocator) syncClient(c *client) {
	want := c.wantActive()
	if want == c.e.active {
		return
	}
	r := c.r
	sorted := !a.stale
	if want {
		if sorted {
			c.e.share = a.shareOf(c.alloc)
		}
		r.clients.activate(&c.e, sorted)
		r.nActive++
	} else {
		r.clients.deactivate(&c.e, sorted)
		r.nActive--
	}
	if c.override {
		a.nOverrides += boolDelta(!want, want)
	}
	a.setSelfActive(r)
	a.refresh(r)
	if want {
		a.markClient(c)
	}
}

// markClient makes active client c worth a look on every agent with free
// resources in the next cycle: it was added, activated, revived or
// loosened its requirements, and nobody else's view changed.
func (a *Allocator) markClient(c *client) {
	if c.e.active && !c.dirty {
		c.dirty = true
		a.dirtyClients = append(a.dirtyClients, c)
	}
}

// maybeDropClient forgets c once it is neither subscribed nor holding
// anything.
func (a *Allocator) maybeDropClient(c *client) {
	if c.subscribed || c.holdings > 0 {
		return
	}
	c.suppressed = false
	a.syncClient(c)
	a.clearFilters(c)
	r := c.r
	r.clients.remove(&c.e, !a.stale)
	r.nClients--
	delete(c.fw.clients, r.name)
	a.refresh(r)
	a.tryRemoveRole(r)
}

// AddFramework adds a framework with its roles and what it already uses
// on agents the allocator knows (each resource carrying its allocation
// role). An agent's orphaned resources for this framework, withheld since
// the agent reregistered, are adopted. If some used resources are not
// free on their agent, the framework is still added and the error says
// which were not tracked.
func (a *Allocator) AddFramework(id mesos.FrameworkID, info FrameworkInfo, used map[mesos.AgentID]mesos.Resources, active bool) error {
	what := fmt.Sprintf("add framework %s", id)
	if id == "" {
		return fmt.Errorf("%s: empty framework ID", what)
	}
	if _, dup := a.frameworks[id]; dup {
		return fmt.Errorf("%s: already added", what)
	}
	if err := info.validate(what); err != nil {
		return err
	}
	fw := &framework{id: id, info: cloneInfo(info), active: active, clients: make(map[string]*client)}
	a.frameworks[id] = fw
	for _, role := range fw.info.Roles {
		c := a.ensureClient(fw, role)
		c.subscribed = true
		c.suppressed = slices.Contains(fw.info.SuppressedRoles, role)
	}
	// Adopt orphans on every agent, in agent order.
	for _, ag := range a.agents {
		for _, h := range slices.Clone(ag.holdings) {
			if h.c == nil && h.fwID == id {
				a.adopt(ag, fw, h)
			}
		}
	}
	var errs []error
	for _, agentID := range sortedKeys(used) {
		ag := a.agentByID[agentID]
		if ag == nil {
			continue // as in Mesos: the agent will report them when it registers
		}
		groups, err := a.groupByRole(fw, used[agentID], fmt.Sprintf("%s: used on %s", what, agentID))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, g := range groups {
			if ag.findHolding(id, g.role) != nil {
				continue // the agent reported them already
			}
			if !ag.free.contains(&g.p) {
				errs = append(errs, fmt.Errorf("%s: used on %s: %s is not free there; not tracked",
					what, agentID, g.p.resources(&a.names, g.role)))
				continue
			}
			a.hold(ag, fw, id, g.role, &g.p)
		}
	}
	for _, role := range sortedKeys(fw.clients) {
		a.syncClient(fw.clients[role])
	}
	a.headroomMayGrow()
	return errors.Join(errs...)
}

// adopt charges an orphaned holding to its newly known framework.
func (a *Allocator) adopt(ag *agent, fw *framework, h *holding) {
	a.chargeOrphan(&h.res, -1)
	c := a.ensureClient(fw, h.role)
	h.c = c
	c.holdings++
	a.charge(c, &h.res, +1, false)
}

func cloneInfo(fi FrameworkInfo) FrameworkInfo {
	fi.Roles = slices.Clone(fi.Roles)
	fi.SuppressedRoles = slices.Clone(fi.SuppressedRoles)
	if fi.MinAllocatable != nil {
		m := make(map[string][]Quantities, len(fi.MinAllocatable))
		for k, v := range fi.MinAllocatable {
			m[k] = slices.Clone(v)
		}
		fi.MinAllocatable = m
	}
	return fi
}

// UpdateFramework applies a new FrameworkInfo (UPDATE_FRAMEWORK, or a
// resubscription): roles added are tracked, roles removed stop receiving
// offers (resources still held in them stay charged until recovered),
// the suppressed set is replaced, and capabilities and min-allocatable
// overrides change.
func (a *Allocator) UpdateFramework(id mesos.FrameworkID, info FrameworkInfo) error {
	what := fmt.Sprintf("update framework %s", id)
	fw := a.frameworks[id]
	if fw == nil {
		return fmt.Errorf("%s: unknown framework", what)
	}
	if err := info.validate(what); err != nil {
		return err
	}
	fw.info = cloneInfo(info)
	for _, role := range fw.info.Roles {
		c := a.ensureClient(fw, role)
		c.subscribed = true
	}
	for _, role := range sortedKeys(fw.clients) {
		c := fw.clients[role]
		wasSuppressed := c.suppressed
		c.subscribed = slices.Contains(fw.info.Roles, role)
		c.suppressed = c.subscribed && slices.Contains(fw.info.SuppressedRoles, role)
		if !c.subscribed || (wasSuppressed && !c.suppressed) {
			// Unsubscribing drops the role's filters; unsuppressing is a
			// revive, which clears them too (Mesos' reviveRoles).
			a.clearFilters(c)
		}
		a.setClientAlts(c)
		a.syncClient(c)
		a.markClient(c) // capabilities or minimums may have loosened
		a.maybeDropClient(c)
	}
	return nil
}

// RemoveFramework forgets a framework; everything it held returns to its
// agents.
func (a *Allocator) RemoveFramework(id mesos.FrameworkID) error {
	fw := a.frameworks[id]
	if fw == nil {
		return fmt.Errorf("remove framework %s: unknown framework", id)
	}
	for _, c := range fw.clients {
		c.subscribed = false
		c.suppressed = false
	}
	for _, ag := range a.agents {
		for _, h := range slices.Clone(ag.holdings) {
			if h.c == nil || h.c.fw != fw {
				continue
			}
			a.charge(h.c, &h.res, -1, false)
			a.addFree(ag, &h.res)
			h.res = parts{}
			a.dropHolding(ag, h)
			a.markAgent(ag)
		}
	}
	for _, role := range sortedKeys(fw.clients) {
		a.maybeDropClient(fw.clients[role])
	}
	delete(a.frameworks, id)
	if len(a.quotas) > 0 {
		// Roles with limits consume less now, and the free headroom grew.
		a.dirtyAll = true
	}
	return nil
}

// ActivateFramework resumes offers to a framework (it resubscribed).
func (a *Allocator) ActivateFramework(id mesos.FrameworkID) error {
	fw := a.frameworks[id]
	if fw == nil {
		return fmt.Errorf("activate framework %s: unknown framework", id)
	}
	fw.active = true
	for _, role := range sortedKeys(fw.clients) {
		a.syncClient(fw.clients[role])
	}
	return nil
}

// DeactivateFramework stops offers to a framework (it disconnected) while
// what it holds stays charged; like Mesos it drops its decline filters.
func (a *Allocator) DeactivateFramework(id mesos.FrameworkID) error {
	fw := a.frameworks[id]
	if fw == nil {
		return fmt.Errorf("deactivate framework %s: unknown framework", id)
	}
	fw.active = false
	for _, role := range sortedKeys(fw.clients) {
		c := fw.clients[role]
		a.clearFilters(c)
		a.syncClient(c)
	}
	return nil
}

// rolesOf resolves a SUPPRESS or REVIVE role list: empty means every role
// the framework is subscribed to.
func (fw *framework) rolesOf(roles []string, what string) ([]*client, error) {
	if len(roles) == 0 {
		roles = fw.info.Roles
	}
	out := make([]*client, 0, len(roles))
	for _, r := range roles {
		c := fw.clients[r]
		if c == nil || !c.subscribed {
			return nil, fmt.Errorf("%s %s: not subscribed to role %q", what, fw.id, r)
		}
		out = append(out, c)
	}
	return out, nil
}

// Suppress stops offers to the framework for the given roles (all of its
// roles when none are given) until Revive.
func (a *Allocator) Suppress(id mesos.FrameworkID, roles ...string) error {
	fw := a.frameworks[id]
	if fw == nil {
		return fmt.Errorf("suppress %s: unknown framework", id)
	}
	cs, err := fw.rolesOf(roles, "suppress")
	if err != nil {
		return err
	}
	for _, c := range cs {
		c.suppressed = true
		if !slices.Contains(fw.info.SuppressedRoles, c.r.name) {
			fw.info.SuppressedRoles = append(fw.info.SuppressedRoles, c.r.name)
		}
		a.syncClient(c)
	}
	return nil
}

// Revive resumes offers to the framework for the given roles (all when
// none are given) and clears its decline filters for them.
func (a *Allocator) Revive(id mesos.FrameworkID, roles ...string) error {
	fw := a.frameworks[id]
	if fw == nil {
		return fmt.Errorf("revive %s: unknown framework", id)
	}
	cs, err := fw.rolesOf(roles, "revive")
	if err != nil {
		return err
	}
	for _, c := range cs {
		c.suppressed = false
		fw.info.SuppressedRoles = slices.DeleteFunc(fw.info.SuppressedRoles, func(r string) bool { return r == c.r.name })
		a.clearFilters(c)
		a.syncClient(c)
		a.markClient(c)
	}
	return nil
}
