package mesos

// The agent's operator API: POST /api/v1 on an agent (TCP and its control
// socket) with the calls of mesos/v1/agent/agent.proto that Strata serves.
// The call and response names it shares with the master's operator API use
// the same types (OperatorCallType, GetHealth, ListFiles, ReadFile, ...);
// the shapes below are the agent's own, and are named Agent* so they do not
// read as the master's.

// Agent-only operator call types (the others are OperatorCallType
// constants shared with the master).
const (
	OperatorGetContainers OperatorCallType = "GET_CONTAINERS"
	OperatorGetAgent      OperatorCallType = "GET_AGENT"
)

// AgentOperatorCall is a call to an agent's operator API.
type AgentOperatorCall struct {
	Type          OperatorCallType      `json:"type,omitempty"`
	GetMetrics    *GetMetricsRequest    `json:"get_metrics,omitempty"`
	ListFiles     *ListFilesRequest     `json:"list_files,omitempty"`
	ReadFile      *ReadFileRequest      `json:"read_file,omitempty"`
	GetContainers *GetContainersRequest `json:"get_containers,omitempty"`
}

// GetContainersRequest asks for nested and standalone containers too;
// Strata's agent has neither, so both are accepted and change nothing.
type GetContainersRequest struct {
	ShowNested     bool `json:"show_nested,omitempty"`
	ShowStandalone bool `json:"show_standalone,omitempty"`
}

// AgentOperatorResponse answers an agent operator call: Type names the
// call and the matching field carries the data.
type AgentOperatorResponse struct {
	Type          OperatorCallType    `json:"type,omitempty"`
	GetHealth     *GetHealth          `json:"get_health,omitempty"`
	GetFlags      *GetFlags           `json:"get_flags,omitempty"`
	GetVersion    *GetVersion         `json:"get_version,omitempty"`
	GetMetrics    *GetMetrics         `json:"get_metrics,omitempty"`
	ListFiles     *ListFiles          `json:"list_files,omitempty"`
	ReadFile      *ReadFile           `json:"read_file,omitempty"`
	GetState      *AgentGetState      `json:"get_state,omitempty"`
	GetContainers *AgentGetContainers `json:"get_containers,omitempty"`
	GetFrameworks *AgentGetFrameworks `json:"get_frameworks,omitempty"`
	GetExecutors  *AgentGetExecutors  `json:"get_executors,omitempty"`
	GetTasks      *AgentGetTasks      `json:"get_tasks,omitempty"`
	GetAgent      *AgentGetAgent      `json:"get_agent,omitempty"`
}

// AgentGetState is everything an agent runs.
type AgentGetState struct {
	GetTasks      *AgentGetTasks      `json:"get_tasks,omitempty"`
	GetExecutors  *AgentGetExecutors  `json:"get_executors,omitempty"`
	GetFrameworks *AgentGetFrameworks `json:"get_frameworks,omitempty"`
}

// AgentGetTasks sorts an agent's tasks as Mesos does: launched (live),
// terminated (ended, update not yet acknowledged) and completed.
type AgentGetTasks struct {
	PendingTasks    []Task `json:"pending_tasks,omitempty"`
	QueuedTasks     []Task `json:"queued_tasks,omitempty"`
	LaunchedTasks   []Task `json:"launched_tasks,omitempty"`
	TerminatedTasks []Task `json:"terminated_tasks,omitempty"`
	CompletedTasks  []Task `json:"completed_tasks,omitempty"`
}

// AgentExecutor is one executor on an agent.
type AgentExecutor struct {
	ExecutorInfo *ExecutorInfo `json:"executor_info"`
}

// AgentGetExecutors lists an agent's executors.
type AgentGetExecutors struct {
	Executors          []AgentExecutor `json:"executors,omitempty"`
	CompletedExecutors []AgentExecutor `json:"completed_executors,omitempty"`
}

// AgentFramework is one framework with work on an agent.
type AgentFramework struct {
	FrameworkInfo *FrameworkInfo `json:"framework_info"`
}

// AgentGetFrameworks lists the frameworks an agent knows.
type AgentGetFrameworks struct {
	Frameworks          []AgentFramework `json:"frameworks,omitempty"`
	CompletedFrameworks []AgentFramework `json:"completed_frameworks,omitempty"`
}

// AgentContainer is one container (one task's run) with its usage.
type AgentContainer struct {
	FrameworkID        FrameworkID         `json:"framework_id,omitempty"`
	ExecutorID         ExecutorID          `json:"executor_id,omitempty"`
	ExecutorName       string              `json:"executor_name,omitempty"`
	ContainerID        ContainerID         `json:"container_id"`
	ContainerStatus    *ContainerStatus    `json:"container_status,omitempty"`
	ResourceStatistics *ResourceStatistics `json:"resource_statistics,omitempty"`
}

// AgentGetContainers lists an agent's containers.
type AgentGetContainers struct {
	Containers []AgentContainer `json:"containers,omitempty"`
}

// AgentGetAgent describes the agent itself.
type AgentGetAgent struct {
	AgentInfo *AgentInfo `json:"agent_info,omitempty"`
}

// ResourceStatistics is what a container consumes, with Mesos' field
// names (mesos.proto ResourceStatistics; the fields Strata measures).
type ResourceStatistics struct {
	Timestamp             float64 `json:"timestamp"`
	Processes             int     `json:"processes"`
	Threads               int     `json:"threads"`
	CPUsUserTimeSecs      float64 `json:"cpus_user_time_secs"`
	CPUsSystemTimeSecs    float64 `json:"cpus_system_time_secs"`
	CPUsLimit             float64 `json:"cpus_limit,omitempty"`
	CPUsNrPeriods         uint64  `json:"cpus_nr_periods,omitempty"`
	CPUsNrThrottled       uint64  `json:"cpus_nr_throttled,omitempty"`
	CPUsThrottledTimeSecs float64 `json:"cpus_throttled_time_secs,omitempty"`
	MemTotalBytes         uint64  `json:"mem_total_bytes,omitempty"`
	MemRSSBytes           uint64  `json:"mem_rss_bytes"`
	MemCacheBytes         uint64  `json:"mem_cache_bytes,omitempty"`
	MemLimitBytes         uint64  `json:"mem_limit_bytes,omitempty"`
}

// ExecutorStatistics is one entry of an agent's GET /monitor/statistics.
// That endpoint predates the v1 API, so its IDs are plain strings rather
// than {"value": ...} objects.
type ExecutorStatistics struct {
	ExecutorID   string             `json:"executor_id"`
	ExecutorName string             `json:"executor_name"`
	FrameworkID  string             `json:"framework_id"`
	Source       string             `json:"source"`
	Statistics   ResourceStatistics `json:"statistics"`
}
