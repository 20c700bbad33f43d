package mesos

// OperatorEventType is master Event.Type, plus Strata's offer events.
type OperatorEventType string

// Mesos' operator event types.
const (
	OperatorEventUnknown          OperatorEventType = "UNKNOWN"
	OperatorEventSubscribed       OperatorEventType = "SUBSCRIBED"
	OperatorEventTaskAdded        OperatorEventType = "TASK_ADDED"
	OperatorEventTaskUpdated      OperatorEventType = "TASK_UPDATED"
	OperatorEventAgentAdded       OperatorEventType = "AGENT_ADDED"
	OperatorEventAgentRemoved     OperatorEventType = "AGENT_REMOVED"
	OperatorEventFrameworkAdded   OperatorEventType = "FRAMEWORK_ADDED"
	OperatorEventFrameworkUpdated OperatorEventType = "FRAMEWORK_UPDATED"
	OperatorEventFrameworkRemoved OperatorEventType = "FRAMEWORK_REMOVED"
	OperatorEventHeartbeat        OperatorEventType = "HEARTBEAT"
)

// Strata extensions: offer events, so an operator can watch the two-level
// scheduler at work. Mesos has no such events and its clients would drop or
// choke on unknown types, so the master sends these only to subscribers that
// opted in with OperatorCall.Subscribe.OfferEvents.
const (
	OperatorEventOfferSent      OperatorEventType = "OFFER_SENT"
	OperatorEventOfferAccepted  OperatorEventType = "OFFER_ACCEPTED"
	OperatorEventOfferDeclined  OperatorEventType = "OFFER_DECLINED"
	OperatorEventOfferRescinded OperatorEventType = "OFFER_RESCINDED"
)

var mesosOperatorEventTypes = enumSet(OperatorEventUnknown, OperatorEventSubscribed, OperatorEventTaskAdded,
	OperatorEventTaskUpdated, OperatorEventAgentAdded, OperatorEventAgentRemoved, OperatorEventFrameworkAdded,
	OperatorEventFrameworkUpdated, OperatorEventFrameworkRemoved, OperatorEventHeartbeat)

var strataOperatorEventTypes = enumSet(OperatorEventOfferSent, OperatorEventOfferAccepted,
	OperatorEventOfferDeclined, OperatorEventOfferRescinded)

// IsKnown reports whether t is a Mesos or a Strata event type.
func (t OperatorEventType) IsKnown() bool { return t.IsMesos() || t.IsStrataExtension() }

// IsMesos reports whether t is one of Mesos' own names, safe to send to any
// operator client.
func (t OperatorEventType) IsMesos() bool { _, ok := mesosOperatorEventTypes[t]; return ok }

// IsStrataExtension reports whether t is a Strata-only event that a
// subscriber must have asked for.
func (t OperatorEventType) IsStrataExtension() bool { _, ok := strataOperatorEventTypes[t]; return ok }

// OperatorEvent is one record of the operator SUBSCRIBE stream.
type OperatorEvent struct {
	Type             OperatorEventType   `json:"type,omitempty"`
	Subscribed       *OperatorSubscribed `json:"subscribed,omitempty"`
	TaskAdded        *TaskAdded          `json:"task_added,omitempty"`
	TaskUpdated      *TaskUpdated        `json:"task_updated,omitempty"`
	AgentAdded       *AgentAdded         `json:"agent_added,omitempty"`
	AgentRemoved     *AgentRemoved       `json:"agent_removed,omitempty"`
	FrameworkAdded   *FrameworkAdded     `json:"framework_added,omitempty"`
	FrameworkUpdated *FrameworkUpdated   `json:"framework_updated,omitempty"`
	FrameworkRemoved *FrameworkRemoved   `json:"framework_removed,omitempty"`

	// Strata extensions; see OperatorEventOfferSent.
	OfferSent      *OfferSent      `json:"offer_sent,omitempty"`
	OfferAccepted  *OfferAccepted  `json:"offer_accepted,omitempty"`
	OfferDeclined  *OfferDeclined  `json:"offer_declined,omitempty"`
	OfferRescinded *OfferRescinded `json:"offer_rescinded,omitempty"`
}

// OperatorSubscribed opens the stream with a full snapshot; later events
// are deltas against it.
type OperatorSubscribed struct {
	GetState                 *GetState `json:"get_state,omitempty"`
	HeartbeatIntervalSeconds float64   `json:"heartbeat_interval_seconds,omitempty"`
}

// TaskAdded reports a task the master learned of (launched, or reported
// by a reregistering agent).
type TaskAdded struct {
	Task *Task `json:"task" mesos:"required"`
}

// TaskUpdated reports a task's new status; State is the master's latest view
// of the task, which can run ahead of the status being delivered.
type TaskUpdated struct {
	FrameworkID FrameworkID `json:"framework_id" mesos:"required"`
	Status      *TaskStatus `json:"status" mesos:"required"`
	State       TaskState   `json:"state" mesos:"required"`
}

// AgentAdded reports a registered or reregistered agent.
type AgentAdded struct {
	Agent *Agent `json:"agent" mesos:"required"`
}

// AgentRemoved reports an agent gone from the cluster.
type AgentRemoved struct {
	AgentID AgentID `json:"agent_id" mesos:"required"`
}

// FrameworkAdded reports a new framework.
type FrameworkAdded struct {
	Framework *Framework `json:"framework" mesos:"required"`
}

// FrameworkUpdated reports a framework that resubscribed or changed.
type FrameworkUpdated struct {
	Framework *Framework `json:"framework" mesos:"required"`
}

// FrameworkRemoved reports a framework torn down or timed out.
type FrameworkRemoved struct {
	FrameworkInfo *FrameworkInfo `json:"framework_info" mesos:"required"`
}

// OfferSent (Strata extension) reports an offer made to a framework; its
// role is in Offer.AllocationInfo.
type OfferSent struct {
	Offer *Offer `json:"offer" mesos:"required"`
}

// OfferAccepted (Strata extension) reports an ACCEPT: the offers it used
// (all on one agent), the operations run, the tasks launched, the resources
// used, and what was left over and returned with a refusal filter.
type OfferAccepted struct {
	FrameworkID     FrameworkID          `json:"framework_id" mesos:"required"`
	AgentID         AgentID              `json:"agent_id" mesos:"required"`
	OfferIDs        []OfferID            `json:"offer_ids,omitempty"`
	Operations      []OfferOperationType `json:"operations,omitempty"`
	TaskIDs         []TaskID             `json:"task_ids,omitempty"`
	Resources       Resources            `json:"resources,omitempty"`
	UnusedResources Resources            `json:"unused_resources,omitempty"`
	RefuseSeconds   float64              `json:"refuse_seconds,omitempty"`
}

// OfferDeclined (Strata extension) reports offers declined by a framework
// and how long the resources stay filtered from it.
type OfferDeclined struct {
	FrameworkID   FrameworkID `json:"framework_id" mesos:"required"`
	AgentID       AgentID     `json:"agent_id" mesos:"required"`
	OfferIDs      []OfferID   `json:"offer_ids,omitempty"`
	Resources     Resources   `json:"resources,omitempty"`
	RefuseSeconds float64     `json:"refuse_seconds,omitempty"`
}

// OfferRescinded (Strata extension) reports an offer the master withdrew,
// with a human-readable reason ("agent removed", "offer timed out",
// "quota changed").
type OfferRescinded struct {
	OfferID     OfferID     `json:"offer_id" mesos:"required"`
	FrameworkID FrameworkID `json:"framework_id" mesos:"required"`
	AgentID     AgentID     `json:"agent_id" mesos:"required"`
	Resources   Resources   `json:"resources,omitempty"`
	Reason      string      `json:"reason,omitempty"`
}

// NewOperatorHeartbeat returns {"type": "HEARTBEAT"}.
func NewOperatorHeartbeat() *OperatorEvent { return &OperatorEvent{Type: OperatorEventHeartbeat} }
