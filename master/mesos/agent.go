package mesos

import "slices"

// AgentCapabilityType is AgentInfo.Capability.Type.
type AgentCapabilityType string

const (
	AgentCapabilityUnknown                AgentCapabilityType = "UNKNOWN"
	AgentCapabilityMultiRole              AgentCapabilityType = "MULTI_ROLE"
	AgentCapabilityHierarchicalRole       AgentCapabilityType = "HIERARCHICAL_ROLE"
	AgentCapabilityReservationRefinement  AgentCapabilityType = "RESERVATION_REFINEMENT"
	AgentCapabilityResourceProvider       AgentCapabilityType = "RESOURCE_PROVIDER"
	AgentCapabilityResizeVolume           AgentCapabilityType = "RESIZE_VOLUME"
	AgentCapabilityAgentOperationFeedback AgentCapabilityType = "AGENT_OPERATION_FEEDBACK"
	AgentCapabilityAgentDraining          AgentCapabilityType = "AGENT_DRAINING"
	AgentCapabilityTaskResourceLimits     AgentCapabilityType = "TASK_RESOURCE_LIMITS"
)

var agentCapabilityTypes = enumSet(AgentCapabilityUnknown, AgentCapabilityMultiRole,
	AgentCapabilityHierarchicalRole, AgentCapabilityReservationRefinement, AgentCapabilityResourceProvider,
	AgentCapabilityResizeVolume, AgentCapabilityAgentOperationFeedback, AgentCapabilityAgentDraining,
	AgentCapabilityTaskResourceLimits)

// IsKnown reports whether t is one of Mesos' names.
func (t AgentCapabilityType) IsKnown() bool { _, ok := agentCapabilityTypes[t]; return ok }

// AgentCapability is one agent capability, {"type": "MULTI_ROLE"}.
type AgentCapability struct {
	Type AgentCapabilityType `json:"type,omitempty"`
}

// AgentInfo describes an agent: where it is, what it has (its total
// resources, reservations included), and its attributes. ID is set once the
// master has admitted it. Port defaults to 5051.
type AgentInfo struct {
	Hostname   string      `json:"hostname" mesos:"required"`
	Port       *int32      `json:"port,omitempty"`
	Resources  Resources   `json:"resources,omitempty"`
	Attributes Attributes  `json:"attributes,omitempty"`
	ID         AgentID     `json:"id,omitempty"`
	Domain     *DomainInfo `json:"domain,omitempty"`
}

// GetPort returns Port, defaulting to 5051.
func (a *AgentInfo) GetPort() int32 { return orDefault(a.Port, 5051) }

// HasAgentCapability reports whether caps includes t.
func HasAgentCapability(caps []AgentCapability, t AgentCapabilityType) bool {
	return slices.ContainsFunc(caps, func(c AgentCapability) bool { return c.Type == t })
}
