package mesos

// OperatorResponse is the answer to a synchronous operator call: Type names
// the call and the matching field carries the data, e.g.
// {"type": "GET_HEALTH", "get_health": {"healthy": true}}.
type OperatorResponse struct {
	Type            OperatorCallType `json:"type,omitempty"`
	GetHealth       *GetHealth       `json:"get_health,omitempty"`
	GetFlags        *GetFlags        `json:"get_flags,omitempty"`
	GetVersion      *GetVersion      `json:"get_version,omitempty"`
	GetMetrics      *GetMetrics      `json:"get_metrics,omitempty"`
	GetLoggingLevel *GetLoggingLevel `json:"get_logging_level,omitempty"`
	ListFiles       *ListFiles       `json:"list_files,omitempty"`
	ReadFile        *ReadFile        `json:"read_file,omitempty"`
	GetState        *GetState        `json:"get_state,omitempty"`
	GetAgents       *GetAgents       `json:"get_agents,omitempty"`
	GetFrameworks   *GetFrameworks   `json:"get_frameworks,omitempty"`
	GetExecutors    *GetExecutors    `json:"get_executors,omitempty"`
	GetOperations   *GetOperations   `json:"get_operations,omitempty"`
	GetTasks        *GetTasks        `json:"get_tasks,omitempty"`
	GetRoles        *GetRoles        `json:"get_roles,omitempty"`
	GetWeights      *GetWeights      `json:"get_weights,omitempty"`
	GetMaster       *GetMaster       `json:"get_master,omitempty"`
	GetQuota        *GetQuota        `json:"get_quota,omitempty"`
}

// GetHealth reports whether the master is healthy.
type GetHealth struct {
	Healthy bool `json:"healthy"`
}

// Flag is one command-line flag and its value.
type Flag struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// GetFlags lists the master's flags.
type GetFlags struct {
	Flags []Flag `json:"flags,omitempty"`
}

// VersionInfo describes a build.
type VersionInfo struct {
	Version   string  `json:"version"`
	BuildDate string  `json:"build_date,omitempty"`
	BuildTime float64 `json:"build_time,omitempty"`
	BuildUser string  `json:"build_user,omitempty"`
	GitSHA    string  `json:"git_sha,omitempty"`
	GitBranch string  `json:"git_branch,omitempty"`
	GitTag    string  `json:"git_tag,omitempty"`
}

// GetVersion carries the master's version.
type GetVersion struct {
	VersionInfo *VersionInfo `json:"version_info" mesos:"required"`
}

// Metric is one named value, as in /metrics/snapshot.
type Metric struct {
	Name  string   `json:"name"`
	Value *float64 `json:"value,omitempty"`
}

// GetMetrics lists metrics.
type GetMetrics struct {
	Metrics []Metric `json:"metrics,omitempty"`
}

// GetLoggingLevel reports the logging verbosity.
type GetLoggingLevel struct {
	Level uint32 `json:"level"`
}

// FileInfo describes one file of the file API.
type FileInfo struct {
	Path  string    `json:"path"`
	Nlink int32     `json:"nlink,omitempty"`
	Size  uint64    `json:"size,omitempty"`
	Mtime *TimeInfo `json:"mtime,omitempty"`
	Mode  uint32    `json:"mode,omitempty"`
	UID   string    `json:"uid,omitempty"`
	GID   string    `json:"gid,omitempty"`
}

// ListFiles lists a directory.
type ListFiles struct {
	FileInfos []FileInfo `json:"file_infos,omitempty"`
}

// ReadFile is part of a file; Size is the whole file's size.
type ReadFile struct {
	Size uint64 `json:"size"`
	Data []byte `json:"data"`
}

// GetState is the whole cluster: GET_STATE's answer and the snapshot that
// opens an operator SUBSCRIBE stream.
type GetState struct {
	GetTasks      *GetTasks      `json:"get_tasks,omitempty"`
	GetExecutors  *GetExecutors  `json:"get_executors,omitempty"`
	GetFrameworks *GetFrameworks `json:"get_frameworks,omitempty"`
	GetAgents     *GetAgents     `json:"get_agents,omitempty"`
}

// DrainState is an agent's draining progress.
type DrainState string

const (
	DrainUnknown  DrainState = "UNKNOWN"
	DrainDraining DrainState = "DRAINING"
	DrainDrained  DrainState = "DRAINED"
)

var drainStates = enumSet(DrainUnknown, DrainDraining, DrainDrained)

// IsKnown reports whether s is one of Mesos' names.
func (s DrainState) IsKnown() bool { _, ok := drainStates[s]; return ok }

// DrainConfig is how an agent is being drained.
type DrainConfig struct {
	MaxGracePeriod *DurationInfo `json:"max_grace_period,omitempty"`
	MarkGone       *bool         `json:"mark_gone,omitempty"`
}

// KillPolicyFor is the kill policy a drain imposes on a task whose own is
// own, as Mesos' agent computes it: nil (keep the task's own) when the
// drain sets no maximum or the task's grace period is within it, else the
// maximum. Tasks without a grace period of their own get the maximum.
func (c *DrainConfig) KillPolicyFor(own *KillPolicy) *KillPolicy {
	if c == nil || c.MaxGracePeriod == nil {
		return nil
	}
	limit := c.MaxGracePeriod.Duration()
	if own != nil && own.GracePeriod != nil && own.GracePeriod.Duration() >= 0 && own.GracePeriod.Duration() <= limit {
		return nil
	}
	return &KillPolicy{GracePeriod: DurationInfoOf(limit)}
}

// MarksGone reports whether the drain ends with the agent marked gone.
func (c *DrainConfig) MarksGone() bool { return c != nil && c.MarkGone != nil && *c.MarkGone }

// DrainInfo is an agent's drain state and configuration.
type DrainInfo struct {
	State  DrainState   `json:"state" mesos:"required"`
	Config *DrainConfig `json:"config" mesos:"required"`
}

// Agent is the master's view of one agent (GET_AGENTS, AGENT_ADDED).
type Agent struct {
	AgentInfo               *AgentInfo        `json:"agent_info" mesos:"required"`
	Active                  bool              `json:"active"`
	Deactivated             bool              `json:"deactivated"`
	Version                 string            `json:"version"`
	PID                     string            `json:"pid,omitempty"`
	RegisteredTime          *TimeInfo         `json:"registered_time,omitempty"`
	ReregisteredTime        *TimeInfo         `json:"reregistered_time,omitempty"`
	TotalResources          Resources         `json:"total_resources,omitempty"`
	AllocatedResources      Resources         `json:"allocated_resources,omitempty"`
	OfferedResources        Resources         `json:"offered_resources,omitempty"`
	Capabilities            []AgentCapability `json:"capabilities,omitempty"`
	DrainInfo               *DrainInfo        `json:"drain_info,omitempty"`
	EstimatedDrainStartTime *TimeInfo         `json:"estimated_drain_start_time,omitempty"`
}

// GetAgents lists agents; RecoveredAgents are known from the registry but
// have not reregistered since a failover.
type GetAgents struct {
	Agents          []Agent     `json:"agents,omitempty"`
	RecoveredAgents []AgentInfo `json:"recovered_agents,omitempty"`
}

// Framework is the master's view of one framework (GET_FRAMEWORKS,
// FRAMEWORK_ADDED/UPDATED).
type Framework struct {
	FrameworkInfo      *FrameworkInfo    `json:"framework_info" mesos:"required"`
	Active             bool              `json:"active"`
	Connected          bool              `json:"connected"`
	Recovered          bool              `json:"recovered"`
	RegisteredTime     *TimeInfo         `json:"registered_time,omitempty"`
	ReregisteredTime   *TimeInfo         `json:"reregistered_time,omitempty"`
	UnregisteredTime   *TimeInfo         `json:"unregistered_time,omitempty"`
	Offers             []Offer           `json:"offers,omitempty"`
	InverseOffers      []InverseOffer    `json:"inverse_offers,omitempty"`
	AllocatedResources Resources         `json:"allocated_resources,omitempty"`
	OfferedResources   Resources         `json:"offered_resources,omitempty"`
	OfferConstraints   *OfferConstraints `json:"offer_constraints,omitempty"`
}

// GetFrameworks lists frameworks, live and completed.
type GetFrameworks struct {
	Frameworks          []Framework     `json:"frameworks,omitempty"`
	CompletedFrameworks []Framework     `json:"completed_frameworks,omitempty"`
	RecoveredFrameworks []FrameworkInfo `json:"recovered_frameworks,omitempty"` // deprecated
}

// Executor is one executor and the agent it runs on.
type Executor struct {
	ExecutorInfo *ExecutorInfo `json:"executor_info" mesos:"required"`
	AgentID      AgentID       `json:"agent_id" mesos:"required"`
}

// GetExecutors lists executors.
type GetExecutors struct {
	Executors       []Executor `json:"executors,omitempty"`
	OrphanExecutors []Executor `json:"orphan_executors,omitempty"` // deprecated
}

// GetOperations lists offer operations the master tracks.
type GetOperations struct {
	Operations []Operation `json:"operations,omitempty"`
}

// GetTasks lists tasks: live, unreachable (on unreachable agents) and
// completed (terminal, kept for a while).
type GetTasks struct {
	PendingTasks     []Task `json:"pending_tasks,omitempty"` // deprecated
	Tasks            []Task `json:"tasks,omitempty"`
	UnreachableTasks []Task `json:"unreachable_tasks,omitempty"`
	CompletedTasks   []Task `json:"completed_tasks,omitempty"`
	OrphanTasks      []Task `json:"orphan_tasks,omitempty"` // deprecated
}

// GetRoles lists roles with their weights, frameworks and resources.
type GetRoles struct {
	Roles []Role `json:"roles,omitempty"`
}

// GetWeights lists the roles whose weight was set.
type GetWeights struct {
	WeightInfos []WeightInfo `json:"weight_infos,omitempty"`
}

// GetMaster describes the answering master; times are seconds since the
// epoch.
type GetMaster struct {
	MasterInfo  *MasterInfo `json:"master_info,omitempty"`
	StartTime   float64     `json:"start_time,omitempty"`
	ElectedTime float64     `json:"elected_time,omitempty"`
}

// GetQuota carries every role's quota.
type GetQuota struct {
	Status *QuotaStatus `json:"status" mesos:"required"`
}
