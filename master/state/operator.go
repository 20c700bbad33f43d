package state

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/allocator"
	"github.com/strata-dc/strata/master/mesos"
)

// operatorCall handles the operator calls that change state. Weights and
// quota are applied once written to the registry, and answered then.
func (m *Machine) operatorCall(ev OperatorCall) {
	c := ev.Call
	switch c.Type {
	case mesos.OperatorUpdateWeights:
		w := maps.Clone(m.weights)
		for _, wi := range c.UpdateWeights.WeightInfos {
			w[wi.Role] = wi.Weight
		}
		req := ev.Req
		m.emit(RegistryWrite{Path: RegistryWeights, Value: w, Then: registryApplied{apply: func(m *Machine, now time.Time) {
			if err := m.alloc.UpdateWeights(w); err != nil {
				m.reply(req, 400, "update_weights: "+err.Error())
				return
			}
			m.weights = w
			m.allocDue = true
			m.reply(req, 200, "")
		}}})
	case mesos.OperatorUpdateQuota:
		qs := maps.Clone(m.quotas)
		for _, q := range c.UpdateQuota.QuotaConfigs {
			qs[q.Role] = q
		}
		list := make([]mesos.QuotaConfig, 0, len(qs))
		for _, r := range slices.Sorted(maps.Keys(qs)) {
			list = append(list, qs[r])
		}
		req := ev.Req
		configs := slices.Clone(c.UpdateQuota.QuotaConfigs)
		m.emit(RegistryWrite{Path: RegistryQuota, Value: list, Then: registryApplied{apply: func(m *Machine, now time.Time) {
			for i, q := range configs {
				if err := m.alloc.UpdateQuota(q.Role, allocator.Quantities(q.Guarantees), allocator.Quantities(q.Limits)); err != nil {
					m.reply(req, 400, fmt.Sprintf("update_quota.quota_configs[%d]: %v", i, err))
					return
				}
				m.quotas[q.Role] = q
			}
			m.rescindForQuota(configs)
			m.allocDue = true
			m.reply(req, 200, "")
		}}})
	case mesos.OperatorTeardown:
		fw := m.frameworks[c.Teardown.FrameworkID]
		if fw == nil {
			m.reply(ev.Req, 400, fmt.Sprintf("teardown.framework_id: unknown framework %s", c.Teardown.FrameworkID))
			return
		}
		m.removeFramework(fw, "torn down by the operator")
		m.reply(ev.Req, 200, "")
	case mesos.OperatorDeactivateAgent:
		m.deactivateAgent(ev.Req, c.DeactivateAgent.AgentID)
	case mesos.OperatorReactivateAgent:
		m.reactivateAgent(ev.Req, c.ReactivateAgent.AgentID)
	case mesos.OperatorReserveResources, mesos.OperatorUnreserveResources:
		m.operatorReservation(ev.Req, c)
	case mesos.OperatorDrainAgent:
		m.drainAgent(ev.Req, c.DrainAgent)
	case mesos.OperatorMarkAgentGone:
		id := c.MarkAgentGone.AgentID
		ag := m.agents[id]
		ra, recovering := m.recovered[id]
		var info mesos.AgentInfo
		switch {
		case ag != nil:
			info = ag.info
		case recovering:
			info = ra.Info
		default:
			m.reply(ev.Req, 400, fmt.Sprintf("mark_agent_gone.agent_id: unknown agent %s", id))
			return
		}
		req := ev.Req
		m.emit(RegistryWrite{Path: agentPath(id), Value: RegistryAgent{Info: info, Gone: true},
			Then: registryApplied{apply: func(m *Machine, now time.Time) {
				m.markGone(id)
				m.reply(req, 200, "")
			}}})
	default:
		m.reply(ev.Req, 400, fmt.Sprintf("type: %s is not served by this master yet", c.Type))
	}
}

// markGone forgets an agent for good (MARK_AGENT_GONE): its tasks become
// TASK_GONE_BY_OPERATOR (TASK_LOST for frameworks that are not
// PARTITION_AWARE) and it may never subscribe again.
func (m *Machine) markGone(id mesos.AgentID) {
	m.gone[id] = true
	delete(m.recovered, id)
	ag := m.agents[id]
	if ag == nil {
		return
	}
	ag.markingGone = true // no drain may write the agent back as DRAINED
	if ag.stream != "" {
		m.emit(CloseStream{Stream: ag.stream, Reason: "agent marked gone by the operator"})
		delete(m.agentStream, ag.stream)
		ag.stream = ""
	}
	m.rescindAgentOffers(ag)
	for _, key := range sortedTaskKeys(ag.tasks) {
		t := ag.tasks[key]
		if t.state().IsTerminal() {
			// Over already; its last update is still delivered until the
			// framework acknowledges it.
			continue
		}
		state := mesos.TaskGoneByOperator
		if fw := m.frameworks[t.fw]; fw == nil || !fw.partitionAware() {
			state = mesos.TaskLost
		}
		m.finishTask(t, state, mesos.ReasonAgentRemovedByOperator, "agent marked gone by the operator")
	}
	_ = m.alloc.RemoveAgent(id)
	delete(m.agents, id)
	m.observeAgentRemoved(id)
	m.allocDue = true
}

// operatorReservation handles RESERVE_RESOURCES and UNRESERVE_RESOURCES
// on an agent's free resources; resources that are offered or in use are
// a 409, as in Mesos. The reply waits for the registry.
func (m *Machine) operatorReservation(req ReqID, c *mesos.OperatorCall) {
	reserve := c.Type == mesos.OperatorReserveResources
	var agentID mesos.AgentID
	var res, source mesos.Resources
	body := "unreserve_resources"
	if reserve {
		agentID, res, source, body = c.ReserveResources.AgentID, c.ReserveResources.Resources, c.ReserveResources.Source, "reserve_resources"
	} else {
		agentID, res = c.UnreserveResources.AgentID, c.UnreserveResources.Resources
	}
	ag := m.agents[agentID]
	if ag == nil {
		m.reply(req, 400, fmt.Sprintf("%s.agent_id: unknown agent %s", body, agentID))
		return
	}
	if len(res) == 0 {
		m.reply(req, 400, body+".resources: no resources")
		return
	}
	for i, r := range res {
		if !r.IsDynamicallyReserved() || r.AllocationInfo != nil {
			m.reply(req, 400, fmt.Sprintf("%s.resources[%d]: needs a dynamic reservation and no allocation_info", body, i))
			return
		}
	}
	from, to := res.PopReservation(), res.Normalize()
	if reserve && len(source) > 0 {
		from = source.Normalize()
	}
	if !reserve {
		from, to = res.Normalize(), res.PopReservation()
	}
	if err := m.alloc.ConvertAvailable(agentID, from, to); err != nil {
		m.reply(req, 409, fmt.Sprintf("%s.resources: %v", body, err))
		return
	}
	ag.total = ag.total.Subtract(from...).Add(to...)
	ag.info.Resources = ag.total
	m.allocDue = true
	m.emit(RegistryWrite{Path: agentPath(ag.id), Value: m.registryAgent(ag),
		Then: registryApplied{apply: func(m *Machine, now time.Time) { m.reply(req, 200, "") }}})
}

// rescindForQuota withdraws the outstanding offers a quota change may
// invalidate, as Mesos' UPDATE_QUOTA does, but whole rather than best
// effort: offers to each changed role and its subroles (they may breach a
// new limit), and, when a config sets a guarantee, every offer (a
// guarantee holds headroom out of everyone's offers). The allocator then
// offers afresh under the new quota.
func (m *Machine) rescindForQuota(configs []mesos.QuotaConfig) {
	guarantee := false
	for _, q := range configs {
		if len(q.Guarantees) > 0 {
			guarantee = true
		}
	}
	inSubtree := func(role string) bool {
		for _, q := range configs {
			if role == q.Role || strings.HasPrefix(role, q.Role+"/") {
				return true
			}
		}
		return false
	}
	for _, id := range sortedKeys(m.offers) {
		if o := m.offers[id]; guarantee || inSubtree(o.role) {
			m.rescind(o, true, "quota changed")
		}
	}
}
