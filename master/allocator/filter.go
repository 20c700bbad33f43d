package allocator

import (
	"container/heap"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// filter withholds an agent's resources from one framework in one role
// after it declined them: the framework is not offered that agent again
// until the filter expires, unless the agent has more to offer than was
// declined (Mesos' RefusedOfferFilter: the refused resources must contain
// the new offer for it to be filtered).
type filter struct {
	c       *client
	ag      *agent
	res     parts
	expires time.Time
	seq     uint64 // creation order: breaks ties so expiry order is total
	hidx    int    // index in the heap, -1 once out of it
}

// filterHeap orders filters by expiry so a cycle finds the expired ones
// without scanning them all.
type filterHeap []*filter

func (h filterHeap) Len() int { return len(h) }
func (h filterHeap) Less(i, j int) bool {
	if !h[i].expires.Equal(h[j].expires) {
		return h[i].expires.Before(h[j].expires)
	}
	return h[i].seq < h[j].seq
}
func (h filterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *filterHeap) Push(x any) {
	f := x.(*filter)
	f.hidx = len(*h)
	*h = append(*h, f)
}
func (h *filterHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	f.hidx = -1
	return f
}

// Decline recovers resources a framework was offered (as Recover) and
// filters the agent for refuse: the framework is not offered these
// resources on this agent again before now+refuse. A negative refuse
// means Options.DefaultRefuse; refuse is capped at a year; zero installs
// no filter. Declining on a removed agent or by a removed framework is a
// no-op.
func (a *Allocator) Decline(fwID mesos.FrameworkID, agentID mesos.AgentID, resources mesos.Resources, refuse time.Duration, now time.Time) error {
	groups, err := a.recover(fwID, agentID, resources)
	if err != nil {
		return err
	}
	fw, ag := a.frameworks[fwID], a.agentByID[agentID]
	if fw == nil || ag == nil || len(groups) == 0 {
		return nil
	}
	switch {
	case refuse < 0:
		refuse = a.opts.DefaultRefuse
	case refuse > MaxRefuse:
		refuse = MaxRefuse
	case refuse == 0:
		return nil
	}
	for _, g := range groups {
		c := fw.clients[g.role]
		if c == nil {
			continue // the role was dropped along with its last resources
		}
		a.addFilter(c, ag, g.p, now.Add(refuse))
	}
	return nil
}

// RefuseDuration converts Filters.refuse_seconds into a Decline duration
// (the master's helper): unset is 5 s, more than a year is a year, and a
// negative or NaN value comes back negative, which Decline reads as
// Options.DefaultRefuse.
func RefuseDuration(f *mesos.Filters) time.Duration {
	s := f.GetRefuseSeconds()
	switch {
	case s != s || s < 0: // NaN or negative
		return -1
	case s > MaxRefuse.Seconds():
		return MaxRefuse
	}
	return time.Duration(s * float64(time.Second))
}

func (a *Allocator) addFilter(c *client, ag *agent, p parts, expires time.Time) {
	a.fseq++
	f := &filter{c: c, ag: ag, res: p, expires: expires, seq: a.fseq}
	if c.filters == nil {
		c.filters = make(map[*agent][]*filter)
	}
	c.filters[ag] = append(c.filters[ag], f)
	c.nFilters++
	heap.Push(&a.filters, f)
}

// dropFilter removes f from its client (the heap is the caller's).
func (a *Allocator) dropFilter(f *filter) {
	c := f.c
	list := c.filters[f.ag]
	for i, x := range list {
		if x == f {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(c.filters, f.ag)
	} else {
		c.filters[f.ag] = list
	}
	c.nFilters--
}

// clearFilters drops every filter of c (REVIVE, role removed, framework
// deactivated). Whoever makes c eligible again marks it for a look.
func (a *Allocator) clearFilters(c *client) {
	if c.nFilters == 0 {
		return
	}
	for _, list := range c.filters {
		for _, f := range list {
			if f.hidx >= 0 {
				heap.Remove(&a.filters, f.hidx)
			}
		}
	}
	c.filters = nil
	c.nFilters = 0
}

// removeAgentFilters drops every filter on ag.
func (a *Allocator) removeAgentFilters(ag *agent) {
	for _, fw := range a.frameworks {
		for _, c := range fw.clients {
			if c.nFilters == 0 {
				continue
			}
			for _, f := range c.filters[ag] {
				if f.hidx >= 0 {
					heap.Remove(&a.filters, f.hidx)
				}
				c.nFilters--
			}
			delete(c.filters, ag)
		}
	}
}

// expireFilters drops filters that have expired by now. Only the
// filtered framework's view of the agent changed, so only that pair is
// worth a look, not the agent for everyone.
func (a *Allocator) expireFilters(now time.Time) {
	for len(a.filters) > 0 && !a.filters[0].expires.After(now) {
		f := heap.Pop(&a.filters).(*filter)
		a.dropFilter(f)
		a.pairs = append(a.pairs, pair{f.c, f.ag})
	}
}

// filtered reports whether one of c's filters on ag covers the candidate
// offer.
func (a *Allocator) filtered(c *client, ag *agent, give qvec, ns, xs mesos.Resources) bool {
	for _, f := range c.filters[ag] {
		if !f.res.plain.covers(give) {
			continue
		}
		if len(ns) > 0 && !f.res.ns.Contains(ns) {
			continue
		}
		if len(xs) > 0 && !f.res.x.Contains(xs) {
			continue
		}
		return true
	}
	return false
}

// NextFilterExpiry returns when the earliest decline filter expires, so
// the caller can schedule an allocation then.
func (a *Allocator) NextFilterExpiry() (time.Time, bool) {
	if len(a.filters) == 0 {
		return time.Time{}, false
	}
	return a.filters[0].expires, true
}
