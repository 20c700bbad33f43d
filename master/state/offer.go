package state

import (
	"fmt"
	"slices"
	"time"

	"github.com/strata-dc/strata/master/allocator"
	"github.com/strata-dc/strata/master/mesos"
)

// offer is an outstanding offer: until it is accepted, declined or
// rescinded its resources stay allocated to the framework.
type offer struct {
	id        mesos.OfferID
	fw        mesos.FrameworkID
	agent     mesos.AgentID
	role      string
	resources mesos.Resources
	created   time.Time
	msg       mesos.Offer
}

// allocate runs the allocator and sends what it decides as OFFERS, one
// event per framework.
func (m *Machine) allocate(now time.Time) {
	m.lastAlloc = now
	m.allocDue = false
	byFw := make(map[mesos.FrameworkID][]mesos.Offer)
	for _, o := range m.alloc.Allocate(now) {
		fw, ag := m.frameworks[o.FrameworkID], m.agents[o.AgentID]
		if fw == nil || !fw.connected() || ag == nil || !ag.connected() {
			_ = m.alloc.Recover(o.FrameworkID, o.AgentID, o.Resources)
			continue
		}
		m.nextOffer++
		id := mesos.OfferID(fmt.Sprintf("%s-O%d", m.cfg.MasterID, m.nextOffer))
		msg := mesos.Offer{ID: id, FrameworkID: fw.id, AgentID: ag.id, Hostname: ag.info.Hostname,
			Domain: ag.info.Domain, Resources: o.Resources, Attributes: ag.info.Attributes,
			AllocationInfo: &mesos.AllocationInfo{Role: o.Role}}
		of := &offer{id: id, fw: fw.id, agent: ag.id, role: o.Role, resources: o.Resources, created: now, msg: msg}
		m.offers[id] = of
		fw.offers[id] = of
		ag.offers[id] = of
		byFw[fw.id] = append(byFw[fw.id], msg)
		m.observeOfferSent(of)
	}
	for _, id := range sortedKeys(byFw) {
		m.sendFramework(m.frameworks[id], &mesos.Event{Type: mesos.EventOffers, Offers: &mesos.Offers{Offers: byFw[id]}})
	}
}

// removeOffer forgets an offer without touching the allocator.
func (m *Machine) removeOffer(o *offer) {
	delete(m.offers, o.id)
	if fw := m.frameworks[o.fw]; fw != nil {
		delete(fw.offers, o.id)
	}
	if ag := m.agents[o.agent]; ag != nil {
		delete(ag.offers, o.id)
	}
}

// rescind withdraws an offer: its resources go back to the allocator and,
// if tell, the framework gets RESCIND.
func (m *Machine) rescind(o *offer, tell bool, reason string) {
	m.removeOffer(o)
	m.observeOfferRescinded(o, reason)
	_ = m.alloc.Recover(o.fw, o.agent, o.resources)
	m.allocDue = true
	if fw := m.frameworks[o.fw]; fw != nil && tell {
		m.sendFramework(fw, &mesos.Event{Type: mesos.EventRescind, Rescind: &mesos.Rescind{OfferID: o.id}})
	}
}

func (m *Machine) rescindAgentOffers(ag *agentState) {
	for _, id := range sortedKeys(ag.offers) {
		m.rescind(ag.offers[id], true, "agent disconnected or removed")
	}
}

func (m *Machine) rescindFrameworkOffers(fw *frameworkState, tell bool, reason string) {
	for _, id := range sortedKeys(fw.offers) {
		m.rescind(fw.offers[id], tell, reason)
	}
}

// expireOffers rescinds offers held longer than OfferTimeout, so a
// framework that sits on offers cannot starve the others.
func (m *Machine) expireOffers(now time.Time) {
	if m.cfg.OfferTimeout <= 0 {
		return
	}
	var due []mesos.OfferID
	for id, o := range m.offers {
		if now.Sub(o.created) >= m.cfg.OfferTimeout {
			due = append(due, id)
		}
	}
	slices.Sort(due)
	for _, id := range due {
		m.rescind(m.offers[id], true, "offer timed out")
	}
}

// decline returns offers with a filter (refuse_seconds, default 5 s).
// Naming another framework's offer is a 400 and changes nothing; offers
// already gone are skipped, as in Mesos.
func (m *Machine) decline(req ReqID, fw *frameworkState, d *mesos.Decline) {
	for i, id := range d.OfferIDs {
		if o := m.offers[id]; o != nil && o.fw != fw.id {
			m.reply(req, 400, fmt.Sprintf("decline.offer_ids[%d]: offer %s was not made to framework %s", i, id, fw.id))
			return
		}
	}
	m.reply(req, 202, "")
	refuse := allocator.RefuseDuration(d.Filters)
	for _, id := range d.OfferIDs {
		if o := m.offers[id]; o != nil {
			m.removeOffer(o)
			_ = m.alloc.Decline(o.fw, o.agent, o.resources, refuse, m.now)
			m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventOfferDeclined, OfferDeclined: &mesos.OfferDeclined{
				FrameworkID: o.fw, AgentID: o.agent, OfferIDs: []mesos.OfferID{o.id}, Resources: o.resources,
				RefuseSeconds: refuse.Seconds()}})
		}
	}
}

// accept runs ACCEPT. It checks everything first: the offers are this
// framework's and on one agent, every LAUNCH names that agent, task IDs
// are new, and the tasks fit in what was offered. A problem is a 400
// naming the field and leaves the offers outstanding. Offers that are gone
// (rescinded, used) make the call's tasks TASK_DROPPED (TASK_LOST for
// frameworks that are not PARTITION_AWARE), as in Mesos. What the
// launches leave unused is declined with the call's filters.
func (m *Machine) accept(req ReqID, fw *frameworkState, a *mesos.Accept) {
	if len(a.OfferIDs) == 0 {
		m.reply(req, 400, "accept.offer_ids: at least one offer is required")
		return
	}
	var offers []*offer
	var agentID mesos.AgentID
	stale := false
	seen := make(map[mesos.OfferID]bool)
	for i, id := range a.OfferIDs {
		field := fmt.Sprintf("accept.offer_ids[%d]", i)
		if seen[id] {
			m.reply(req, 400, fmt.Sprintf("%s: offer %s is named twice", field, id))
			return
		}
		seen[id] = true
		o := m.offers[id]
		if o == nil {
			stale = true
			continue
		}
		if o.fw != fw.id {
			m.reply(req, 400, fmt.Sprintf("%s: offer %s was not made to framework %s", field, id, fw.id))
			return
		}
		if agentID != "" && o.agent != agentID {
			m.reply(req, 400, fmt.Sprintf("%s: offer %s is on agent %s, not %s like the others", field, id, o.agent, agentID))
			return
		}
		agentID = o.agent
		offers = append(offers, o)
	}
	if stale {
		m.reply(req, 202, "")
		for _, o := range offers {
			m.rescind(o, false, "an ACCEPT named an offer that is gone")
		}
		state := mesos.TaskDropped
		if !fw.partitionAware() {
			state = mesos.TaskLost
		}
		for _, op := range a.Operations {
			if op.Type == mesos.OperationLaunch && op.Launch != nil {
				for _, ti := range op.Launch.TaskInfos {
					m.sendFramework(fw, m.statusEvent(ti.TaskID, ti.AgentID, state, mesos.ReasonInvalidOffers,
						"an offer of this ACCEPT is no longer valid"))
				}
			}
		}
		return
	}
	var offered mesos.Resources
	for _, o := range offers {
		offered = offered.Add(o.resources...)
	}
	defaultRole := offers[0].role
	remaining := offered
	newIDs := make(map[mesos.TaskID]bool)
	type launch struct {
		ti    mesos.TaskInfo
		res   mesos.Resources
		group int // index+1 into groups; 0: a plain LAUNCH
	}
	var groups []*mesos.RunTaskGroup
	var launches []launch
	var convs []conversion
	for i, op := range a.Operations {
		opField := fmt.Sprintf("accept.operations[%d]", i)
		var tasks []mesos.TaskInfo
		var taskField string
		var executor *mesos.ExecutorInfo
		// Bodies are checked by mesos.DecodeCall; these guards keep a
		// caller that skipped it from crashing the loop.
		if op.Type == mesos.OperationLaunch && op.Launch == nil ||
			op.Type == mesos.OperationLaunchGroup && (op.LaunchGroup == nil || op.LaunchGroup.Executor == nil) ||
			op.Type == mesos.OperationReserve && op.Reserve == nil || op.Type == mesos.OperationUnreserve && op.Unreserve == nil {
			m.reply(req, 400, fmt.Sprintf("%s: the body for %s is missing", opField, op.Type))
			return
		}
		switch op.Type {
		case mesos.OperationLaunch:
			tasks, taskField = op.Launch.TaskInfos, opField+".launch.task_infos"
		case mesos.OperationLaunchGroup:
			if op.LaunchGroup.TaskGroup == nil || len(op.LaunchGroup.TaskGroup.Tasks) == 0 {
				m.reply(req, 400, opField+".launch_group.task_group.tasks: a task group needs tasks")
				return
			}
			executor = op.LaunchGroup.Executor
			tasks, taskField = op.LaunchGroup.TaskGroup.Tasks, opField+".launch_group.task_group.tasks"
			exRes := m.fillAllocation(executor.Resources, []string{defaultRole})
			if !remaining.Contains(exRes) {
				m.reply(req, 400, fmt.Sprintf("%s.launch_group.executor.resources: %s is not within what the offers have left (%s)",
					opField, exRes.Unallocate(), remaining.Unallocate()))
				return
			}
			remaining = remaining.Subtract(exRes...)
			ex := *executor
			ex.FrameworkID = fw.id
			ex.Resources = exRes
			groups = append(groups, &mesos.RunTaskGroup{Executor: &ex, TaskGroup: &mesos.TaskGroupInfo{}})
		case mesos.OperationReserve, mesos.OperationUnreserve:
			c, msg := checkReservation(op, opField, defaultRole)
			if msg == "" && !remaining.Contains(c.from) {
				msg = fmt.Sprintf("%s: %s is not within what the offers have left (%s)",
					c.field, c.from.Unallocate(), remaining.Unallocate())
			}
			if msg != "" {
				m.reply(req, 400, msg)
				return
			}
			remaining = remaining.Subtract(c.from...).Add(c.to...)
			convs = append(convs, c)
			continue
		default:
			m.reply(req, 400, fmt.Sprintf("%s.type: %s is not supported by this master yet", opField, op.Type))
			return
		}
		for j, ti := range tasks {
			field := fmt.Sprintf("%s[%d]", taskField, j)
			inGroup := executor != nil
			switch {
			case ti.AgentID != agentID:
				m.reply(req, 400, fmt.Sprintf("%s.agent_id: %s is not the offers' agent %s", field, ti.AgentID, agentID))
				return
			case newIDs[ti.TaskID] || fw.tasks[ti.TaskID] != nil:
				m.reply(req, 400, fmt.Sprintf("%s.task_id: task %s is already in use", field, ti.TaskID))
				return
			case inGroup && ti.Executor != nil:
				m.reply(req, 400, fmt.Sprintf("%s.executor: tasks of a group run under the group's executor", field))
				return
			case !inGroup && (ti.Command == nil) == (ti.Executor == nil):
				m.reply(req, 400, fmt.Sprintf("%s: exactly one of command and executor is required", field))
				return
			case len(ti.Resources) == 0:
				m.reply(req, 400, fmt.Sprintf("%s.resources: a task needs resources", field))
				return
			}
			if err := mesos.ValidateID(string(ti.TaskID)); err != nil {
				m.reply(req, 400, fmt.Sprintf("%s.task_id: %v", field, err))
				return
			}
			res := m.fillAllocation(ti.Resources, []string{defaultRole})
			if ti.Executor != nil {
				res = res.Add(m.fillAllocation(ti.Executor.Resources, []string{defaultRole})...)
			}
			if !remaining.Contains(res) {
				m.reply(req, 400, fmt.Sprintf("%s.resources: %s is not within what the offers have left (%s)",
					field, res.Unallocate(), remaining.Unallocate()))
				return
			}
			remaining = remaining.Subtract(res...)
			newIDs[ti.TaskID] = true
			ti.Resources = m.fillAllocation(ti.Resources, []string{defaultRole})
			l := launch{ti: ti, res: res}
			if inGroup {
				g := groups[len(groups)-1]
				if len(g.TaskGroup.Tasks) == 0 {
					// The executor's resources go back with its first task.
					l.res = l.res.Add(g.Executor.Resources...)
				}
				g.TaskGroup.Tasks = append(g.TaskGroup.Tasks, ti)
				l.group = len(groups)
			}
			launches = append(launches, l)
		}
	}
	// Valid: use the offers.
	m.reply(req, 202, "")
	for _, o := range offers {
		m.removeOffer(o)
	}
	ag := m.agents[agentID]
	if len(convs) > 0 {
		for _, c := range convs {
			if err := m.alloc.Convert(fw.id, agentID, c.from, c.to); err != nil {
				continue // validated above; the allocator keeps its books consistent either way
			}
			ag.total = ag.total.Subtract(c.from.Unallocate()...).Add(c.to.Unallocate()...)
		}
		ag.info.Resources = ag.total
		m.emit(RegistryWrite{Path: agentPath(ag.id), Value: m.registryAgent(ag)})
	}
	for _, l := range launches {
		ti := l.ti
		t := &task{fw: fw.id, agent: agentID, resources: l.res, info: mesos.Task{
			Name: ti.Name, TaskID: ti.TaskID, FrameworkID: fw.id, AgentID: agentID, State: mesos.TaskStaging,
			Resources: l.res, Labels: ti.Labels, Discovery: ti.Discovery, Container: ti.Container,
			HealthCheck: ti.HealthCheck, KillPolicy: ti.KillPolicy, User: fw.info.User, Limits: ti.Limits}}
		if ti.Executor != nil {
			t.info.ExecutorID = ti.Executor.ExecutorID
		}
		if l.group > 0 {
			t.info.ExecutorID = groups[l.group-1].Executor.ExecutorID
		}
		ag.tasks[taskKey{fw.id, ti.TaskID}] = t
		fw.tasks[ti.TaskID] = t
		if l.group == 0 {
			info := fw.info
			m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventRunTask, RunTask: &mesos.RunTask{FrameworkInfo: &info, Task: &ti}})
		}
		m.observeTaskAdded(t)
	}
	for _, g := range groups {
		info := fw.info
		g.FrameworkInfo = &info
		m.sendAgent(ag, &mesos.AgentEvent{Type: mesos.AgentEventRunTaskGroup, RunTaskGroup: g})
	}
	refuse := allocator.RefuseDuration(a.Filters)
	if !remaining.IsEmpty() {
		_ = m.alloc.Decline(fw.id, agentID, remaining, refuse, m.now)
	}
	if m.watched {
		acc := &mesos.OfferAccepted{FrameworkID: fw.id, AgentID: agentID, Resources: offered.Subtract(remaining...),
			UnusedResources: remaining, RefuseSeconds: refuse.Seconds()}
		for _, o := range offers {
			acc.OfferIDs = append(acc.OfferIDs, o.id)
		}
		for _, op := range a.Operations {
			acc.Operations = append(acc.Operations, op.Type)
		}
		for _, l := range launches {
			acc.TaskIDs = append(acc.TaskIDs, l.ti.TaskID)
		}
		m.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventOfferAccepted, OfferAccepted: acc})
	}
}

// offerList returns a framework's or agent's outstanding offers, sorted.
func offerList(offers map[mesos.OfferID]*offer) []mesos.Offer {
	out := make([]mesos.Offer, 0, len(offers))
	for _, id := range sortedKeys(offers) {
		out = append(out, offers[id].msg)
	}
	return slices.Clip(out)
}

// conversion is one RESERVE or UNRESERVE: from becomes to.
type conversion struct {
	from, to mesos.Resources
	field    string
}

// checkReservation validates a RESERVE or UNRESERVE of an ACCEPT: its
// resources carry a dynamic reservation (the one added, or the one
// removed) for the role they are allocated to. It returns the conversion,
// or a message naming the field.
func checkReservation(op mesos.OfferOperation, opField, role string) (conversion, string) {
	var res mesos.Resources
	var field string
	reserve := op.Type == mesos.OperationReserve
	if reserve {
		res, field = op.Reserve.Resources, opField+".reserve.resources"
	} else {
		res, field = op.Unreserve.Resources, opField+".unreserve.resources"
	}
	if len(res) == 0 {
		return conversion{}, field + ": no resources"
	}
	res = fillAllocation(res, []string{role})
	for i, r := range res {
		switch {
		case !r.IsDynamicallyReserved():
			return conversion{}, fmt.Sprintf("%s[%d]: needs a dynamic reservation", field, i)
		case !mesos.IsRoleInSubtree(r.AllocationInfo.Role, r.ReservationRole()):
			return conversion{}, fmt.Sprintf("%s[%d]: reserved for %q, allocated to %q", field, i, r.ReservationRole(), r.AllocationInfo.Role)
		}
	}
	c := conversion{field: field}
	if reserve {
		c.from, c.to = res.PopReservation(), res.Normalize()
	} else {
		c.from, c.to = res.Normalize(), res.PopReservation()
	}
	return c, ""
}
