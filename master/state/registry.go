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
// tears it down on time.
type RegistryFramework struct {
	Info             mesos.FrameworkInfo `json:"info"`
	FailoverDeadline *mesos.TimeInfo     `json:"failover_deadline,omitempty"`
}

// restore loads the registry: admitted agents are expected back within
// ReregisterTimeout, frameworks with a deadline are torn down at it unless
// they resubscribe.
func (m *Machine) restore(r Registry, now time.Time) {
	for _, a := range r.Agents {
		switch {
		case a.Gone:
			m.gone[a.Info.ID] = true
		default:
			m.recovered[a.Info.ID] = a
		}
	}
	m.recoverBy = now.Add(m.cfg.ReregisterTimeout)
	for _, f := range r.Frameworks {
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
