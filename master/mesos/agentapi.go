package mesos

// The agent API is Strata's own protocol between agents and the master, in
// the style of the scheduler API (Mesos' agents speak libprocess messages,
// which Strata does not): JSON messages with snake_case fields, IDs as
// {"value": ...}, enums as names, RecordIO streams.
//
// An agent's session with the master:
//
//	POST /api/v1/agent  {"type": "SUBSCRIBE", "subscribe": {...}}
//	  <- 200, Content-Type: application/json, Mesos-Stream-Id: <id>,
//	     a RecordIO stream of AgentEvents:
//	     SUBSCRIBED {agent_id, heartbeat_interval_seconds}   first, always
//	     RUN_TASK {framework_info, task}                      launch a task
//	     RUN_TASK_GROUP {framework_info, executor, task_group} launch a group (LAUNCH_GROUP)
//	     KILL_TASK {framework_id, task_id, kill_policy}       kill one
//	     ACKNOWLEDGE {framework_id, task_id, uuid}            the framework got an update
//	     SHUTDOWN_FRAMEWORK {framework_id}                    kill all of a framework's tasks
//	     MESSAGE {framework_id, executor_id, data}            scheduler -> executor
//	     PING                                                 answer with PONG
//
//	POST /api/v1/agent  {"type": "UPDATE", "agent_id": ..., "update": {"framework_id": ..., "status": {...}}}
//	POST /api/v1/agent  {"type": "PONG", "agent_id": ...}
//	POST /api/v1/agent  {"type": "MESSAGE", "agent_id": ..., "message": {...}}
//	  each with the stream's Mesos-Stream-Id header; 202 when accepted.
//
// SUBSCRIBE without agent_id registers a new agent: the master writes its
// admission to the registry before it sends SUBSCRIBED with the new ID. An
// agent that has an ID (from its checkpoint) sends it back with the tasks
// it is running, so a master — possibly a new leader — rebuilds its view
// of them; boot_id tells the master whether the host rebooted (tasks are
// then gone). A newer subscription of the same agent replaces the older
// stream, which the master closes.
//
// Status updates carry a 16-byte UUID; the master forwards each to its
// framework, resends it until the framework acknowledges that UUID, and
// then sends ACKNOWLEDGE to the agent, which may then forget it. An agent
// keeps an unacknowledged update and resends it after reconnecting.
//
// If the master hears no PONG for ping-timeout × max-misses, the agent is
// unreachable: its tasks become TASK_UNREACHABLE (TASK_LOST for
// frameworks without PARTITION_AWARE) until it subscribes again.

// AgentCallType is AgentCall.Type.
type AgentCallType string

const (
	AgentCallUnknown   AgentCallType = "UNKNOWN"
	AgentCallSubscribe AgentCallType = "SUBSCRIBE"
	AgentCallUpdate    AgentCallType = "UPDATE"
	AgentCallPong      AgentCallType = "PONG"
	AgentCallMessage   AgentCallType = "MESSAGE"
)

var agentCallTypes = enumSet(AgentCallUnknown, AgentCallSubscribe, AgentCallUpdate, AgentCallPong, AgentCallMessage)

// IsKnown reports whether t is one of the agent API's call names.
func (t AgentCallType) IsKnown() bool { _, ok := agentCallTypes[t]; return ok }

// AgentCall is a request from an agent to the master.
type AgentCall struct {
	Type      AgentCallType   `json:"type,omitempty"`
	AgentID   AgentID         `json:"agent_id,omitempty"`
	Subscribe *AgentSubscribe `json:"subscribe,omitempty"`
	Update    *AgentUpdate    `json:"update,omitempty"`
	Message   *AgentMessage   `json:"message,omitempty"`
}

// DecodeAgentCall reads and validates an agent call; problems come back as
// FieldErrors naming the field.
func DecodeAgentCall(data []byte) (*AgentCall, error) {
	var c AgentCall
	if err := DecodeJSON(data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c AgentCall) check(path string, errs *FieldErrors) {
	type plain AgentCall
	validateInto(plain(c), path, errs)
	at := func(f string) string { return joinPath(path, f) }
	switch c.Type {
	case "":
		errs.add(at("type"), "required field is missing")
	case AgentCallSubscribe:
		if c.Subscribe == nil {
			errs.add(at("subscribe"), "required for a SUBSCRIBE call")
		} else if c.Subscribe.AgentID != c.AgentID && c.AgentID != "" {
			errs.add(at("agent_id"), "differs from subscribe.agent_id")
		}
	case AgentCallUpdate, AgentCallPong, AgentCallMessage:
		if c.AgentID == "" {
			errs.add(at("agent_id"), "required for a %s call", c.Type)
		}
		if c.Type == AgentCallUpdate && c.Update == nil {
			errs.add(at("update"), "required for an UPDATE call")
		}
		if c.Type == AgentCallUpdate && c.Update != nil && c.Update.Status != nil && c.Update.Status.AgentID != c.AgentID {
			errs.add(at("update.status.agent_id"), "differs from agent_id")
		}
		if c.Type == AgentCallMessage && c.Message == nil {
			errs.add(at("message"), "required for a MESSAGE call")
		}
	case AgentCallUnknown:
		errs.add(at("type"), "UNKNOWN is not a call")
	}
}

// AgentSubscribe registers an agent (AgentID empty) or reregisters one
// (AgentID from its checkpoint), with what it has and what it runs.
type AgentSubscribe struct {
	AgentInfo *AgentInfo `json:"agent_info" mesos:"required"`
	// Resources is the agent's total, reservations included; when empty,
	// AgentInfo.Resources is used.
	Resources Resources `json:"resources,omitempty"`
	// Tasks are the agent's live tasks, each with its framework ID, state
	// and resources (carrying allocation_info).
	Tasks []Task `json:"tasks,omitempty"`
	// Frameworks describe the frameworks of Tasks, so a new leader knows
	// them before they resubscribe.
	Frameworks   []FrameworkInfo   `json:"frameworks,omitempty"`
	AgentID      AgentID           `json:"agent_id,omitempty"`
	BootID       string            `json:"boot_id,omitempty"`
	Capabilities []AgentCapability `json:"capabilities,omitempty"`
	Version      string            `json:"version,omitempty"`
	// PID is where the master saw the agent subscribe from, as Mesos'
	// "slave(1)@ip:port" with the agent's advertised port: the address
	// clients reach its API at when its hostname does not resolve. Set
	// by the master, never sent by the agent.
	PID string `json:"-"`
}

// TotalResources returns Resources, or AgentInfo.Resources when empty.
func (s *AgentSubscribe) TotalResources() Resources {
	if len(s.Resources) > 0 {
		return s.Resources
	}
	if s.AgentInfo != nil {
		return s.AgentInfo.Resources
	}
	return nil
}

// AgentUpdate carries one task status update; Status.UUID identifies it
// for the acknowledgement.
type AgentUpdate struct {
	FrameworkID FrameworkID `json:"framework_id" mesos:"required"`
	Status      *TaskStatus `json:"status" mesos:"required"`
}

// AgentMessage is executor -> scheduler data the master forwards as a
// scheduler MESSAGE event.
type AgentMessage struct {
	FrameworkID FrameworkID `json:"framework_id" mesos:"required"`
	ExecutorID  ExecutorID  `json:"executor_id" mesos:"required"`
	Data        []byte      `json:"data"`
}

// AgentEventType is AgentEvent.Type.
type AgentEventType string

const (
	AgentEventUnknown           AgentEventType = "UNKNOWN"
	AgentEventSubscribed        AgentEventType = "SUBSCRIBED"
	AgentEventRunTask           AgentEventType = "RUN_TASK"
	AgentEventRunTaskGroup      AgentEventType = "RUN_TASK_GROUP"
	AgentEventKillTask          AgentEventType = "KILL_TASK"
	AgentEventAcknowledge       AgentEventType = "ACKNOWLEDGE"
	AgentEventShutdownFramework AgentEventType = "SHUTDOWN_FRAMEWORK"
	AgentEventMessage           AgentEventType = "MESSAGE"
	AgentEventPing              AgentEventType = "PING"
	AgentEventDrain             AgentEventType = "DRAIN"
)

var agentEventTypes = enumSet(AgentEventUnknown, AgentEventSubscribed, AgentEventRunTask, AgentEventRunTaskGroup, AgentEventKillTask,
	AgentEventAcknowledge, AgentEventShutdownFramework, AgentEventMessage, AgentEventPing, AgentEventDrain)

// IsKnown reports whether t is one of the agent API's event names.
func (t AgentEventType) IsKnown() bool { _, ok := agentEventTypes[t]; return ok }

// AgentEvent is one record of an agent's stream.
type AgentEvent struct {
	Type              AgentEventType         `json:"type,omitempty"`
	Subscribed        *AgentSubscribed       `json:"subscribed,omitempty"`
	RunTask           *RunTask               `json:"run_task,omitempty"`
	RunTaskGroup      *RunTaskGroup          `json:"run_task_group,omitempty"`
	KillTask          *KillTask              `json:"kill_task,omitempty"`
	Acknowledge       *AgentAcknowledge      `json:"acknowledge,omitempty"`
	ShutdownFramework *ShutdownFramework     `json:"shutdown_framework,omitempty"`
	Message           *AgentFrameworkMessage `json:"message,omitempty"`
	Drain             *AgentDrain            `json:"drain,omitempty"`
}

// AgentSubscribed answers SUBSCRIBE: the agent's ID (new or confirmed) and
// how often the master pings.
type AgentSubscribed struct {
	AgentID                  AgentID     `json:"agent_id" mesos:"required"`
	HeartbeatIntervalSeconds float64     `json:"heartbeat_interval_seconds,omitempty"`
	MasterInfo               *MasterInfo `json:"master_info,omitempty"`
}

// RunTask asks the agent to launch Task for the framework.
type RunTask struct {
	FrameworkInfo *FrameworkInfo `json:"framework_info" mesos:"required"`
	Task          *TaskInfo      `json:"task" mesos:"required"`
}

// RunTaskGroup asks the agent to launch a task group (LAUNCH_GROUP) under
// one executor, all or nothing.
type RunTaskGroup struct {
	FrameworkInfo *FrameworkInfo `json:"framework_info" mesos:"required"`
	Executor      *ExecutorInfo  `json:"executor" mesos:"required"`
	TaskGroup     *TaskGroupInfo `json:"task_group" mesos:"required"`
}

// KillTask asks the agent to kill a task, with KillPolicy overriding the
// task's own when set.
type KillTask struct {
	FrameworkID FrameworkID `json:"framework_id" mesos:"required"`
	TaskID      TaskID      `json:"task_id" mesos:"required"`
	KillPolicy  *KillPolicy `json:"kill_policy,omitempty"`
}

// AgentAcknowledge tells the agent the framework acknowledged the update
// with UUID for the task; the agent may forget it and send the next.
type AgentAcknowledge struct {
	FrameworkID FrameworkID `json:"framework_id" mesos:"required"`
	TaskID      TaskID      `json:"task_id" mesos:"required"`
	UUID        []byte      `json:"uuid" mesos:"required"`
}

// ShutdownFramework asks the agent to kill every task of a framework that
// was torn down or failed to come back in time.
type ShutdownFramework struct {
	FrameworkID FrameworkID `json:"framework_id" mesos:"required"`
}

// AgentFrameworkMessage is scheduler -> executor data.
type AgentFrameworkMessage struct {
	FrameworkID FrameworkID `json:"framework_id" mesos:"required"`
	ExecutorID  ExecutorID  `json:"executor_id" mesos:"required"`
	Data        []byte      `json:"data"`
}

// AgentDrain is Mesos' DrainSlaveMessage: the operator drains the agent
// (DRAIN_AGENT). The agent kills each task within the smaller of its own
// grace period and Config.MaxGracePeriod, reports the kills with
// REASON_AGENT_DRAINING, refuses new tasks with TASK_DROPPED, and keeps
// draining across its restarts until it runs nothing. The master sends it
// again whenever a draining or drained agent subscribes.
type AgentDrain struct {
	Config *DrainConfig `json:"config" mesos:"required"`
}
