package mesos

// ExecutorType is ExecutorInfo.Type.
type ExecutorType string

const (
	ExecutorUnknown ExecutorType = "UNKNOWN"
	ExecutorDefault ExecutorType = "DEFAULT"
	ExecutorCustom  ExecutorType = "CUSTOM"
)

var executorTypes = enumSet(ExecutorUnknown, ExecutorDefault, ExecutorCustom)

// IsKnown reports whether t is one of Mesos' names.
func (t ExecutorType) IsKnown() bool { _, ok := executorTypes[t]; return ok }

// ExecutorInfo describes an executor: the DEFAULT one that runs task groups,
// or a CUSTOM one the framework supplies with a command.
type ExecutorInfo struct {
	Type                ExecutorType   `json:"type,omitempty"`
	ExecutorID          ExecutorID     `json:"executor_id" mesos:"required"`
	FrameworkID         FrameworkID    `json:"framework_id,omitempty"`
	Command             *CommandInfo   `json:"command,omitempty"`
	Container           *ContainerInfo `json:"container,omitempty"`
	Resources           Resources      `json:"resources,omitempty"`
	Name                string         `json:"name,omitempty"`
	Source              string         `json:"source,omitempty"` // deprecated
	Data                []byte         `json:"data,omitempty"`
	Discovery           *DiscoveryInfo `json:"discovery,omitempty"`
	ShutdownGracePeriod *DurationInfo  `json:"shutdown_grace_period,omitempty"`
	Labels              Labels         `json:"labels,omitempty"`
}

// DiscoveryVisibility is DiscoveryInfo.Visibility.
type DiscoveryVisibility string

const (
	VisibilityFramework DiscoveryVisibility = "FRAMEWORK"
	VisibilityCluster   DiscoveryVisibility = "CLUSTER"
	VisibilityExternal  DiscoveryVisibility = "EXTERNAL"
)

var visibilities = enumSet(VisibilityFramework, VisibilityCluster, VisibilityExternal)

// IsKnown reports whether v is one of Mesos' names.
func (v DiscoveryVisibility) IsKnown() bool { _, ok := visibilities[v]; return ok }

// DiscoveryInfo is service-discovery metadata for a task or executor.
type DiscoveryInfo struct {
	Visibility  DiscoveryVisibility `json:"visibility" mesos:"required"`
	Name        string              `json:"name,omitempty"`
	Environment string              `json:"environment,omitempty"`
	Location    string              `json:"location,omitempty"`
	Version     string              `json:"version,omitempty"`
	Ports       *Ports              `json:"ports,omitempty"`
	Labels      Labels              `json:"labels,omitempty"`
}

// Ports is the Ports message, {"ports": [...]}.
type Ports struct {
	Ports []Port `json:"ports,omitempty"`
}

// Port is a named port for service discovery.
type Port struct {
	Number     uint32              `json:"number"`
	Name       string              `json:"name,omitempty"`
	Protocol   string              `json:"protocol,omitempty"`
	Visibility DiscoveryVisibility `json:"visibility,omitempty"`
	Labels     Labels              `json:"labels,omitempty"`
}
