package tui

import (
	"sort"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Cluster is the dashboard's picture of the cluster, rebuilt from each
// SUBSCRIBED snapshot of the operator stream and kept current by its
// deltas. It is a pure store: events and times in, no I/O, so fixtures,
// golden tests and benchmarks drive it exactly as the live stream does.
//
// Version counts changes, so views rebuild their rows only when it moved.
type Cluster struct {
	Version uint64

	Agents     map[mesos.AgentID]*mesos.Agent
	Frameworks map[mesos.FrameworkID]*mesos.Framework
	// Completed frameworks are kept for names and describe.
	Completed map[mesos.FrameworkID]*mesos.Framework
	Tasks     map[taskKey]*mesos.Task
	Offers    map[mesos.OfferID]*OfferSeen

	// Roles, Weights and Quota are not on the operator stream (Mesos has
	// no events for them); they come from GET_ROLES and GET_QUOTA, read at
	// each (re)subscription and after the dashboard's own changes.
	Roles []mesos.Role
	Quota []mesos.QuotaConfig

	// Tape is the recent offer decisions, newest last.
	Tape []TapeEntry
	// Events is the recent stream, newest last (heartbeats excluded).
	Events []EventEntry
	// History samples the allocated share of cpus, mem and disk.
	History []Sample

	// Master is the leading master, when known.
	Master *mesos.MasterInfo
	// MasterURL is where the client reached it.
	MasterURL string

	// SubscribedAt is when the current snapshot arrived.
	SubscribedAt time.Time

	agentTotals totals // cached per Version
	totalsAt    uint64

	// namesVersion moves when agent or framework names may have changed,
	// which invalidates the cached task rows that show them.
	namesVersion  uint64
	taskRows      map[*mesos.Task]cachedRow
	taskRowsNames uint64
}

// taskKey identifies a task: IDs are unique per framework only.
type taskKey struct {
	fw   mesos.FrameworkID
	task mesos.TaskID
}

// OfferSeen is an outstanding offer and when the dashboard learned of it
// (its age; the snapshot's offers count from the subscription).
type OfferSeen struct {
	Offer mesos.Offer
	Since time.Time
}

// TapeEntry is one offer decision on the tape.
type TapeEntry struct {
	At        time.Time
	Kind      string // sent, accepted, declined, rescinded
	Framework mesos.FrameworkID
	Agent     mesos.AgentID
	Offers    int
	Resources mesos.Resources
	Detail    string // tasks launched, refuse seconds, rescind reason
}

// EventEntry is one event of the stream as the Events view lists it.
type EventEntry struct {
	Seq   uint64
	At    time.Time
	Event *mesos.OperatorEvent
}

// Sample is the allocated fraction of the cluster's cpus, mem and disk.
type Sample struct {
	At               time.Time
	CPU, Mem, Disk   float64
	Agents, AgentsUp int
}

// Limits on what the store keeps, so a long session stays small.
const (
	maxTape    = 500
	maxEvents  = 2000
	maxHistory = 120 // samples; at one per 5s, ten minutes
	sampleStep = 5 * time.Second
)

// NewCluster returns an empty store.
func NewCluster() *Cluster {
	c := &Cluster{}
	c.reset()
	return c
}

func (c *Cluster) reset() {
	c.Agents = map[mesos.AgentID]*mesos.Agent{}
	c.Frameworks = map[mesos.FrameworkID]*mesos.Framework{}
	c.Completed = map[mesos.FrameworkID]*mesos.Framework{}
	c.Tasks = map[taskKey]*mesos.Task{}
	c.Offers = map[mesos.OfferID]*OfferSeen{}
}

// Apply folds one operator event into the store; at is when it arrived.
func (c *Cluster) Apply(ev *mesos.OperatorEvent, at time.Time) {
	if ev == nil || ev.Type == mesos.OperatorEventHeartbeat {
		return
	}
	c.Version++
	var seq uint64
	if n := len(c.Events); n > 0 {
		seq = c.Events[n-1].Seq
	}
	c.Events = append(c.Events, EventEntry{Seq: seq + 1, At: at, Event: ev})
	if len(c.Events) > maxEvents {
		c.Events = append(c.Events[:0:0], c.Events[len(c.Events)-maxEvents:]...)
	}
	switch ev.Type {
	case mesos.OperatorEventSubscribed, mesos.OperatorEventAgentAdded, mesos.OperatorEventAgentRemoved,
		mesos.OperatorEventFrameworkAdded, mesos.OperatorEventFrameworkUpdated, mesos.OperatorEventFrameworkRemoved:
		c.namesVersion++
	}
	switch ev.Type {
	case mesos.OperatorEventSubscribed:
		if ev.Subscribed != nil {
			c.snapshot(ev.Subscribed.GetState, at)
		}
	case mesos.OperatorEventTaskAdded:
		if e := ev.TaskAdded; e != nil && e.Task != nil {
			t := *e.Task
			c.Tasks[taskKey{t.FrameworkID, t.TaskID}] = &t
		}
	case mesos.OperatorEventTaskUpdated:
		if e := ev.TaskUpdated; e != nil && e.Status != nil {
			k := taskKey{e.FrameworkID, e.Status.TaskID}
			t := c.Tasks[k]
			if t == nil {
				t = &mesos.Task{TaskID: e.Status.TaskID, FrameworkID: e.FrameworkID, AgentID: e.Status.AgentID}
				c.Tasks[k] = t
			}
			t.State = e.State
			t.StatusUpdateState = e.Status.State
			t.Statuses = append(t.Statuses, *e.Status)
			if len(t.Statuses) > 8 { // enough for describe; a flapping task must not grow without bound
				t.Statuses = append(t.Statuses[:0:0], t.Statuses[len(t.Statuses)-8:]...)
			}
		}
	case mesos.OperatorEventAgentAdded:
		if e := ev.AgentAdded; e != nil && e.Agent != nil && e.Agent.AgentInfo != nil {
			a := *e.Agent
			c.Agents[a.AgentInfo.ID] = &a
		}
	case mesos.OperatorEventAgentRemoved:
		if e := ev.AgentRemoved; e != nil {
			delete(c.Agents, e.AgentID)
		}
	case mesos.OperatorEventFrameworkAdded:
		if e := ev.FrameworkAdded; e != nil && e.Framework != nil && e.Framework.FrameworkInfo != nil {
			f := *e.Framework
			c.Frameworks[f.FrameworkInfo.ID] = &f
		}
	case mesos.OperatorEventFrameworkUpdated:
		if e := ev.FrameworkUpdated; e != nil && e.Framework != nil && e.Framework.FrameworkInfo != nil {
			f := *e.Framework
			c.Frameworks[f.FrameworkInfo.ID] = &f
		}
	case mesos.OperatorEventFrameworkRemoved:
		if e := ev.FrameworkRemoved; e != nil && e.FrameworkInfo != nil {
			id := e.FrameworkInfo.ID
			if f := c.Frameworks[id]; f != nil {
				c.Completed[id] = f
			} else {
				c.Completed[id] = &mesos.Framework{FrameworkInfo: e.FrameworkInfo}
			}
			delete(c.Frameworks, id)
			for oid, o := range c.Offers {
				if o.Offer.FrameworkID == id {
					delete(c.Offers, oid)
				}
			}
		}
	case mesos.OperatorEventOfferSent:
		if e := ev.OfferSent; e != nil && e.Offer != nil {
			c.Offers[e.Offer.ID] = &OfferSeen{Offer: *e.Offer, Since: at}
			c.tape(TapeEntry{At: at, Kind: "sent", Framework: e.Offer.FrameworkID, Agent: e.Offer.AgentID,
				Offers: 1, Resources: e.Offer.Resources, Detail: offerRole(&e.Offer.Resources, e.Offer.AllocationInfo)})
		}
	case mesos.OperatorEventOfferAccepted:
		if e := ev.OfferAccepted; e != nil {
			for _, id := range e.OfferIDs {
				delete(c.Offers, id)
			}
			c.tape(TapeEntry{At: at, Kind: "accepted", Framework: e.FrameworkID, Agent: e.AgentID,
				Offers: len(e.OfferIDs), Resources: e.Resources, Detail: acceptedDetail(e)})
		}
	case mesos.OperatorEventOfferDeclined:
		if e := ev.OfferDeclined; e != nil {
			for _, id := range e.OfferIDs {
				delete(c.Offers, id)
			}
			c.tape(TapeEntry{At: at, Kind: "declined", Framework: e.FrameworkID, Agent: e.AgentID,
				Offers: len(e.OfferIDs), Resources: e.Resources, Detail: refuseDetail(e.RefuseSeconds)})
		}
	case mesos.OperatorEventOfferRescinded:
		if e := ev.OfferRescinded; e != nil {
			delete(c.Offers, e.OfferID)
			c.tape(TapeEntry{At: at, Kind: "rescinded", Framework: e.FrameworkID, Agent: e.AgentID,
				Offers: 1, Resources: e.Resources, Detail: e.Reason})
		}
	}
}

// snapshot replaces everything the stream carries with s; the tape, the
// event list and the history stay (they are the dashboard's own memory).
func (c *Cluster) snapshot(s *mesos.GetState, at time.Time) {
	c.reset()
	c.SubscribedAt = at
	if s == nil {
		return
	}
	if g := s.GetAgents; g != nil {
		for i := range g.Agents {
			a := g.Agents[i]
			if a.AgentInfo != nil {
				c.Agents[a.AgentInfo.ID] = &a
			}
		}
	}
	if g := s.GetFrameworks; g != nil {
		for i := range g.Frameworks {
			f := g.Frameworks[i]
			if f.FrameworkInfo == nil {
				continue
			}
			c.Frameworks[f.FrameworkInfo.ID] = &f
			for _, o := range f.Offers {
				c.Offers[o.ID] = &OfferSeen{Offer: o, Since: at}
			}
		}
		for i := range g.CompletedFrameworks {
			f := g.CompletedFrameworks[i]
			if f.FrameworkInfo != nil {
				c.Completed[f.FrameworkInfo.ID] = &f
			}
		}
	}
	if g := s.GetTasks; g != nil {
		for _, list := range [][]mesos.Task{g.CompletedTasks, g.UnreachableTasks, g.Tasks} {
			for i := range list {
				t := list[i]
				c.Tasks[taskKey{t.FrameworkID, t.TaskID}] = &t
			}
		}
	}
}

func (c *Cluster) tape(e TapeEntry) {
	c.Tape = append(c.Tape, e)
	if len(c.Tape) > maxTape {
		c.Tape = append(c.Tape[:0:0], c.Tape[len(c.Tape)-maxTape:]...)
	}
}

// SetRoles records GET_ROLES and GET_QUOTA answers (nil: unchanged).
func (c *Cluster) SetRoles(r *mesos.GetRoles, q *mesos.GetQuota) {
	if r != nil {
		c.Roles = append([]mesos.Role(nil), r.Roles...)
	}
	if q != nil && q.Status != nil {
		c.Quota = append([]mesos.QuotaConfig(nil), q.Status.Configs...)
	}
	c.Version++
}

// Sample adds a point to the allocation history, at most one per
// sampleStep, and reports whether it did.
func (c *Cluster) Sample(now time.Time) bool {
	if n := len(c.History); n > 0 && now.Sub(c.History[n-1].At) < sampleStep {
		return false
	}
	t := c.Totals()
	c.History = append(c.History, Sample{At: now, CPU: t.share("cpus"), Mem: t.share("mem"), Disk: t.share("disk"),
		Agents: t.agents, AgentsUp: t.agentsUp})
	if len(c.History) > maxHistory {
		c.History = append(c.History[:0:0], c.History[len(c.History)-maxHistory:]...)
	}
	return true
}

// FrameworkName is a framework's name, from live or completed ones.
func (c *Cluster) FrameworkName(id mesos.FrameworkID) string {
	if f := c.Frameworks[id]; f != nil && f.FrameworkInfo != nil {
		return f.FrameworkInfo.Name
	}
	if f := c.Completed[id]; f != nil && f.FrameworkInfo != nil {
		return f.FrameworkInfo.Name
	}
	return ""
}

// AgentHost is an agent's hostname, or its ID when unknown.
func (c *Cluster) AgentHost(id mesos.AgentID) string {
	if a := c.Agents[id]; a != nil && a.AgentInfo != nil && a.AgentInfo.Hostname != "" {
		return a.AgentInfo.Hostname
	}
	return string(id)
}

// TasksOn lists an agent's tasks, live first, by ID.
func (c *Cluster) TasksOn(id mesos.AgentID) []*mesos.Task {
	var out []*mesos.Task
	for _, t := range c.Tasks {
		if t.AgentID == id {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		ti, tj := out[i].State.IsTerminal(), out[j].State.IsTerminal()
		if ti != tj {
			return !ti
		}
		return out[i].TaskID < out[j].TaskID
	})
	return out
}

func offerRole(_ *mesos.Resources, ai *mesos.AllocationInfo) string {
	if ai != nil && ai.Role != "" {
		return "role " + ai.Role
	}
	return ""
}

func acceptedDetail(e *mesos.OfferAccepted) string {
	s := ""
	switch n := len(e.TaskIDs); {
	case n == 1:
		s = "task " + string(e.TaskIDs[0])
	case n > 1:
		s = itoa(n) + " tasks"
	default:
		for i, op := range e.Operations {
			if i > 0 {
				s += ","
			}
			s += string(op)
		}
	}
	if e.RefuseSeconds > 0 && !e.UnusedResources.IsEmpty() {
		s += "; rest refused " + refuseDetail(e.RefuseSeconds)
	}
	return s
}

func refuseDetail(sec float64) string {
	if sec <= 0 {
		return ""
	}
	return "for " + shortDuration(time.Duration(sec*float64(time.Second)))
}

// MergeAgents takes the drain and activation state of known agents from
// a GET_AGENTS answer. The stream has no event for them (Mesos' has
// none either), so the dashboard reads them after its own drain or
// reactivation; agents themselves still come and go by events.
func (c *Cluster) MergeAgents(g *mesos.GetAgents) {
	if g == nil {
		return
	}
	for _, a := range g.Agents {
		if a.AgentInfo == nil {
			continue
		}
		if cur := c.Agents[a.AgentInfo.ID]; cur != nil {
			cp := *cur
			cp.DrainInfo, cp.Deactivated, cp.Active = a.DrainInfo, a.Deactivated, a.Active
			c.Agents[a.AgentInfo.ID] = &cp
		}
	}
	c.Version++
}
