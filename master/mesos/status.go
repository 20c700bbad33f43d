package mesos

// TaskState is a task's lifecycle state. Eight of the fourteen are terminal;
// TASK_UNREACHABLE and TASK_UNKNOWN are not, because the task may still be
// running somewhere.
type TaskState string

const (
	TaskStaging        TaskState = "TASK_STAGING" // initial; frameworks never send it
	TaskStarting       TaskState = "TASK_STARTING"
	TaskRunning        TaskState = "TASK_RUNNING"
	TaskKilling        TaskState = "TASK_KILLING"
	TaskFinished       TaskState = "TASK_FINISHED"
	TaskFailed         TaskState = "TASK_FAILED"
	TaskKilled         TaskState = "TASK_KILLED"
	TaskError          TaskState = "TASK_ERROR"
	TaskLost           TaskState = "TASK_LOST"
	TaskDropped        TaskState = "TASK_DROPPED"
	TaskUnreachable    TaskState = "TASK_UNREACHABLE"
	TaskGone           TaskState = "TASK_GONE"
	TaskGoneByOperator TaskState = "TASK_GONE_BY_OPERATOR"
	TaskUnknown        TaskState = "TASK_UNKNOWN"
)

// TaskStates lists all fourteen states in Mesos' declaration order.
var TaskStates = []TaskState{
	TaskStaging, TaskStarting, TaskRunning, TaskKilling, TaskFinished, TaskFailed, TaskKilled,
	TaskError, TaskLost, TaskDropped, TaskUnreachable, TaskGone, TaskGoneByOperator, TaskUnknown,
}

var taskStates = enumSet(TaskStates...)

// IsKnown reports whether s is one of Mesos' names.
func (s TaskState) IsKnown() bool { _, ok := taskStates[s]; return ok }

// IsTerminal reports whether a task in state s is over and its resources
// free, as Mesos' isTerminalState decides: FINISHED, FAILED, KILLED, ERROR,
// LOST, DROPPED, GONE and GONE_BY_OPERATOR.
func (s TaskState) IsTerminal() bool {
	switch s {
	case TaskFinished, TaskFailed, TaskKilled, TaskError, TaskLost, TaskDropped, TaskGone, TaskGoneByOperator:
		return true
	}
	return false
}

// TaskStatusSource says who generated a status update.
type TaskStatusSource string

const (
	SourceMaster   TaskStatusSource = "SOURCE_MASTER"
	SourceAgent    TaskStatusSource = "SOURCE_AGENT"
	SourceExecutor TaskStatusSource = "SOURCE_EXECUTOR"
)

var taskStatusSources = enumSet(SourceMaster, SourceAgent, SourceExecutor)

// IsKnown reports whether s is one of Mesos' names.
func (s TaskStatusSource) IsKnown() bool { _, ok := taskStatusSources[s]; return ok }

// TaskStatusReason explains a status update; all of Mesos' v1 reasons.
type TaskStatusReason string

const (
	ReasonCommandExecutorFailed         TaskStatusReason = "REASON_COMMAND_EXECUTOR_FAILED"
	ReasonContainerLaunchFailed         TaskStatusReason = "REASON_CONTAINER_LAUNCH_FAILED"
	ReasonContainerLimitation           TaskStatusReason = "REASON_CONTAINER_LIMITATION"
	ReasonContainerLimitationDisk       TaskStatusReason = "REASON_CONTAINER_LIMITATION_DISK"
	ReasonContainerLimitationMemory     TaskStatusReason = "REASON_CONTAINER_LIMITATION_MEMORY"
	ReasonContainerPreempted            TaskStatusReason = "REASON_CONTAINER_PREEMPTED"
	ReasonContainerUpdateFailed         TaskStatusReason = "REASON_CONTAINER_UPDATE_FAILED"
	ReasonMaxCompletionTimeReached      TaskStatusReason = "REASON_MAX_COMPLETION_TIME_REACHED"
	ReasonExecutorRegistrationTimeout   TaskStatusReason = "REASON_EXECUTOR_REGISTRATION_TIMEOUT"
	ReasonExecutorReregistrationTimeout TaskStatusReason = "REASON_EXECUTOR_REREGISTRATION_TIMEOUT"
	ReasonExecutorTerminated            TaskStatusReason = "REASON_EXECUTOR_TERMINATED"
	ReasonExecutorUnregistered          TaskStatusReason = "REASON_EXECUTOR_UNREGISTERED" // no longer used
	ReasonFrameworkRemoved              TaskStatusReason = "REASON_FRAMEWORK_REMOVED"
	ReasonGCError                       TaskStatusReason = "REASON_GC_ERROR"
	ReasonInvalidFrameworkID            TaskStatusReason = "REASON_INVALID_FRAMEWORKID"
	ReasonInvalidOffers                 TaskStatusReason = "REASON_INVALID_OFFERS"
	ReasonIOSwitchboardExited           TaskStatusReason = "REASON_IO_SWITCHBOARD_EXITED"
	ReasonMasterDisconnected            TaskStatusReason = "REASON_MASTER_DISCONNECTED"
	ReasonReconciliation                TaskStatusReason = "REASON_RECONCILIATION"
	ReasonResourcesUnknown              TaskStatusReason = "REASON_RESOURCES_UNKNOWN"
	ReasonAgentDisconnected             TaskStatusReason = "REASON_AGENT_DISCONNECTED"
	ReasonAgentDraining                 TaskStatusReason = "REASON_AGENT_DRAINING"
	ReasonAgentRemoved                  TaskStatusReason = "REASON_AGENT_REMOVED"
	ReasonAgentRemovedByOperator        TaskStatusReason = "REASON_AGENT_REMOVED_BY_OPERATOR"
	ReasonAgentReregistered             TaskStatusReason = "REASON_AGENT_REREGISTERED"
	ReasonAgentRestarted                TaskStatusReason = "REASON_AGENT_RESTARTED"
	ReasonAgentUnknown                  TaskStatusReason = "REASON_AGENT_UNKNOWN"
	ReasonTaskKilledDuringLaunch        TaskStatusReason = "REASON_TASK_KILLED_DURING_LAUNCH"
	ReasonTaskCheckStatusUpdated        TaskStatusReason = "REASON_TASK_CHECK_STATUS_UPDATED"
	ReasonTaskHealthCheckStatusUpdated  TaskStatusReason = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"
	ReasonTaskGroupInvalid              TaskStatusReason = "REASON_TASK_GROUP_INVALID"
	ReasonTaskGroupUnauthorized         TaskStatusReason = "REASON_TASK_GROUP_UNAUTHORIZED"
	ReasonTaskInvalid                   TaskStatusReason = "REASON_TASK_INVALID"
	ReasonTaskUnauthorized              TaskStatusReason = "REASON_TASK_UNAUTHORIZED"
	ReasonTaskUnknown                   TaskStatusReason = "REASON_TASK_UNKNOWN"
)

// TaskStatusReasons lists every reason in Mesos' declaration order.
var TaskStatusReasons = []TaskStatusReason{
	ReasonCommandExecutorFailed, ReasonContainerLaunchFailed, ReasonContainerLimitation,
	ReasonContainerLimitationDisk, ReasonContainerLimitationMemory, ReasonContainerPreempted,
	ReasonContainerUpdateFailed, ReasonMaxCompletionTimeReached, ReasonExecutorRegistrationTimeout,
	ReasonExecutorReregistrationTimeout, ReasonExecutorTerminated, ReasonExecutorUnregistered,
	ReasonFrameworkRemoved, ReasonGCError, ReasonInvalidFrameworkID, ReasonInvalidOffers,
	ReasonIOSwitchboardExited, ReasonMasterDisconnected, ReasonReconciliation, ReasonResourcesUnknown,
	ReasonAgentDisconnected, ReasonAgentDraining, ReasonAgentRemoved, ReasonAgentRemovedByOperator,
	ReasonAgentReregistered, ReasonAgentRestarted, ReasonAgentUnknown, ReasonTaskKilledDuringLaunch,
	ReasonTaskCheckStatusUpdated, ReasonTaskHealthCheckStatusUpdated, ReasonTaskGroupInvalid,
	ReasonTaskGroupUnauthorized, ReasonTaskInvalid, ReasonTaskUnauthorized, ReasonTaskUnknown,
}

var taskStatusReasons = enumSet(TaskStatusReasons...)

// IsKnown reports whether r is one of Mesos' names.
func (r TaskStatusReason) IsKnown() bool { _, ok := taskStatusReasons[r]; return ok }

// TaskStatus is one status update for a task. Updates that carry a UUID are
// delivered reliably: resent until the framework acknowledges that UUID,
// and such updates always carry AgentID so the ACKNOWLEDGE can name it.
// Timestamp is seconds since the epoch as a double.
type TaskStatus struct {
	TaskID          TaskID                  `json:"task_id" mesos:"required"`
	State           TaskState               `json:"state" mesos:"required"`
	Message         string                  `json:"message,omitempty"`
	Source          TaskStatusSource        `json:"source,omitempty"`
	Reason          TaskStatusReason        `json:"reason,omitempty"`
	Data            []byte                  `json:"data,omitempty"`
	AgentID         AgentID                 `json:"agent_id,omitempty"`
	ExecutorID      ExecutorID              `json:"executor_id,omitempty"`
	Timestamp       float64                 `json:"timestamp,omitempty"`
	UUID            []byte                  `json:"uuid,omitempty"`
	Healthy         *bool                   `json:"healthy,omitempty"`
	CheckStatus     *CheckStatusInfo        `json:"check_status,omitempty"`
	Labels          Labels                  `json:"labels,omitempty"`
	ContainerStatus *ContainerStatus        `json:"container_status,omitempty"`
	UnreachableTime *TimeInfo               `json:"unreachable_time,omitempty"`
	Limitation      *TaskResourceLimitation `json:"limitation,omitempty"`
}

// TaskResourceLimitation names the resources whose limit a task hit.
type TaskResourceLimitation struct {
	Resources Resources `json:"resources,omitempty"`
}

// check adds to the generic rules what clients rely on: a status that asks
// for acknowledgement (has a UUID) carries a 16-byte UUID and the agent ID
// the client must copy into its ACKNOWLEDGE.
func (s TaskStatus) check(path string, errs *FieldErrors) {
	type plain TaskStatus
	validateInto(plain(s), path, errs)
	if s.UUID != nil {
		if len(s.UUID) != 16 {
			errs.add(joinPath(path, "uuid"), "a UUID is 16 bytes, got %d", len(s.UUID))
		}
		if s.AgentID == "" {
			errs.add(joinPath(path, "agent_id"), "required when uuid is set: clients acknowledge with it")
		}
	}
}
