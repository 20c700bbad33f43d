package mesos

// TaskInfo is a framework's description of a task to launch. Either Command
// (run by the built-in command executor) or Executor is set.
type TaskInfo struct {
	Name              string            `json:"name"`
	TaskID            TaskID            `json:"task_id" mesos:"required"`
	AgentID           AgentID           `json:"agent_id" mesos:"required"`
	Resources         Resources         `json:"resources,omitempty"`
	Executor          *ExecutorInfo     `json:"executor,omitempty"`
	Command           *CommandInfo      `json:"command,omitempty"`
	Container         *ContainerInfo    `json:"container,omitempty"`
	HealthCheck       *HealthCheck      `json:"health_check,omitempty"`
	Check             *CheckInfo        `json:"check,omitempty"`
	KillPolicy        *KillPolicy       `json:"kill_policy,omitempty"`
	Data              []byte            `json:"data,omitempty"`
	Labels            Labels            `json:"labels,omitempty"`
	Discovery         *DiscoveryInfo    `json:"discovery,omitempty"`
	MaxCompletionTime *DurationInfo     `json:"max_completion_time,omitempty"`
	Limits            map[string]Scalar `json:"limits,omitempty"`
}

// TaskGroupInfo is a set of tasks launched atomically under one executor.
type TaskGroupInfo struct {
	Tasks []TaskInfo `json:"tasks,omitempty"`
}

// Task is the master's and agent's record of a launched task, as reported
// by the operator API (GET_TASKS, TASK_ADDED).
type Task struct {
	Name              string            `json:"name"`
	TaskID            TaskID            `json:"task_id" mesos:"required"`
	FrameworkID       FrameworkID       `json:"framework_id" mesos:"required"`
	ExecutorID        ExecutorID        `json:"executor_id,omitempty"`
	AgentID           AgentID           `json:"agent_id" mesos:"required"`
	State             TaskState         `json:"state" mesos:"required"`
	Resources         Resources         `json:"resources,omitempty"`
	Statuses          []TaskStatus      `json:"statuses,omitempty"`
	StatusUpdateState TaskState         `json:"status_update_state,omitempty"`
	StatusUpdateUUID  []byte            `json:"status_update_uuid,omitempty"`
	Labels            Labels            `json:"labels,omitempty"`
	Discovery         *DiscoveryInfo    `json:"discovery,omitempty"`
	Container         *ContainerInfo    `json:"container,omitempty"`
	HealthCheck       *HealthCheck      `json:"health_check,omitempty"`
	KillPolicy        *KillPolicy       `json:"kill_policy,omitempty"`
	User              string            `json:"user,omitempty"`
	Limits            map[string]Scalar `json:"limits,omitempty"`
}
