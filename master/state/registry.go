package state

import (
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Registry is what survives a master failover, as the daemon reads it from
// coord (under master/registry/). Everything else — tasks, offers, who is
// connected — is rebuilt from agents' and frameworks' resubscriptions.
type Registry struct {
	Agents     []RegistryAgent
	Frameworks []RegistryFramework
	Weights    map[string]float64
	Quotas     []mesos.QuotaConfig
}

// Registry paths, relative to the registry root. Each RegistryWrite names
// one of them.
const (
	RegistryAgentsDir     = "agents"
	RegistryFrameworksDir = "frameworks"
	RegistryWeights       = "weights"
	RegistryQuota         = "quota"
)

// RegistryAgent is an admitted agent (agents/<id>).
type RegistryAgent struct {
	Info        mesos.AgentInfo  `json:"info"`
	Unreachable *mesos.TimeInfo  `json:"unreachable_time,omitempty"`
	Gone        bool             `json:"gone,omitempty"`
	Drain       *mesos.DrainInfo `json:"drain_info,omitempty"`
	Deactivated bool             `json:"deactivated,omitempty"`
}

// RegistryFramework is a framework's failover state (frameworks/<id>):
// FailoverDeadline is set while it is disconnected, so a new leader still
// tears it down on time. Removed marks a framework that was torn down
// (TEARDOWN, or its failover timeout passed): the entry stays so that a
// new leader still refuses its ID, as Mesos' registry keeps completed
// frameworks.
type RegistryFramework struct {
	Info             mesos.FrameworkInfo `json:"info"`
	FailoverDeadline *mesos.TimeInfo     `json:"failover_deadline,omitempty"`
	Removed          *mesos.TimeInfo     `json:"removed_time,omitempty"`
}

// restore loads the registry: admitted agents are expected back within
// ReregisterTimeout, frameworks with a deadline are torn down at it unless
// they resubscribe, removed frameworks stay refused.
//
// Offers wait for the agents, as in Mesos' recovery: until more than half
// of the admitted agents (not gone, not unreachable) have reregistered, or
// ReregisterTimeout has passed, the allocator makes no offers. Offering
// the first few agents back would hand the frameworks that resubscribe
// first a skewed view of the cluster and let them pile onto those agents.
func (m *Machine) restore(r Registry, now time.Time) {
	for _, a := range r.Agents {
		switch {
		case a.Gone:
			m.gone[a.Info.ID] = true
		case a.Unreachable != nil:
			m.lostAgents[a.Info.ID] = a
		default:
			m.recovered[a.Info.ID] = a
		}
	}
	m.recoverBy = now.Add(m.cfg.ReregisterTimeout)
	if len(m.recovered) > 0 {
		m.holdOffers = true
		m.recoverWant = len(m.recovered)/2 + 1
	}
	for _, f := range r.Frameworks {
		if f.Removed != nil {
			m.removedFws[f.Info.ID] = true
			continue
		}
		fw := m.newFramework(f.Info.ID, f.Info)
		fw.recovered = true
		deadline := now.Add(fw.failoverTimeout(m.cfg.FailoverTimeout))
		if f.FailoverDeadline != nil {
			deadline = f.FailoverDeadline.Time()
		}
		fw.failoverAt = deadline
	}
	if len(r.Weights) > 0 {
		if err := m.alloc.UpdateWeights(r.Weights); err == nil {
			for k, v := range r.Weights {
				m.weights[k] = v
			}
		}
	}
	for _, q := range r.Quotas {
		if err := m.alloc.UpdateQuota(q.Role, q.Guarantees, q.Limits); err == nil {
			m.quotas[q.Role] = q
		}
	}
}

func agentPath(id mesos.AgentID) string         { return RegistryAgentsDir + "/" + string(id) }
func frameworkPath(id mesos.FrameworkID) string { return RegistryFrameworksDir + "/" + string(id) }

// offersHeld reports whether a new leader still holds offers back while
// agents reregister (see restore); the hold ends for good once enough of
// them are back or ReregisterTimeout has passed.
func (m *Machine) offersHeld(now time.Time) bool {
	if m.holdOffers && (m.recoverWant <= 0 || !now.Before(m.recoverBy)) {
		m.holdOffers = false
	}
	return m.holdOffers
}

// agentRecovered counts an agent of the registry back, towards ending the
// offer hold.
func (m *Machine) agentRecovered() {
	m.recoverWant--
	if m.recoverWant <= 0 && m.holdOffers {
		m.holdOffers = false
		m.allocDue = true
	}
}
