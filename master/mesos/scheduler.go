package mesos

import "encoding/json"

// The scheduler API: frameworks POST a Call to /api/v1/scheduler; the
// SUBSCRIBE call's answer is a RecordIO stream of Events. Shapes follow
// mesos/v1/scheduler/scheduler.proto exactly: a type name plus the one
// field that carries it, e.g. {"type": "DECLINE", "framework_id": {...},
// "decline": {"offer_ids": [...]}}.

// CallType is scheduler Call.Type.
type CallType string

const (
	CallUnknown                    CallType = "UNKNOWN"
	CallSubscribe                  CallType = "SUBSCRIBE"
	CallTeardown                   CallType = "TEARDOWN"
	CallAccept                     CallType = "ACCEPT"
	CallDecline                    CallType = "DECLINE"
	CallAcceptInverseOffers        CallType = "ACCEPT_INVERSE_OFFERS"
	CallDeclineInverseOffers       CallType = "DECLINE_INVERSE_OFFERS"
	CallRevive                     CallType = "REVIVE"
	CallKill                       CallType = "KILL"
	CallShutdown                   CallType = "SHUTDOWN"
	CallAcknowledge                CallType = "ACKNOWLEDGE"
	CallAcknowledgeOperationStatus CallType = "ACKNOWLEDGE_OPERATION_STATUS"
	CallReconcile                  CallType = "RECONCILE"
	CallReconcileOperations        CallType = "RECONCILE_OPERATIONS"
	CallMessage                    CallType = "MESSAGE"
	CallRequest                    CallType = "REQUEST"
	CallSuppress                   CallType = "SUPPRESS"
	CallUpdateFramework            CallType = "UPDATE_FRAMEWORK"
)

var callTypes = enumSet(CallUnknown, CallSubscribe, CallTeardown, CallAccept, CallDecline,
	CallAcceptInverseOffers, CallDeclineInverseOffers, CallRevive, CallKill, CallShutdown, CallAcknowledge,
	CallAcknowledgeOperationStatus, CallReconcile, CallReconcileOperations, CallMessage, CallRequest,
	CallSuppress, CallUpdateFramework)

// IsKnown reports whether t is one of Mesos' names.
func (t CallType) IsKnown() bool { _, ok := callTypes[t]; return ok }

// Call is a request from a scheduler to the master.
type Call struct {
	FrameworkID                FrameworkID                 `json:"framework_id,omitempty"`
	Type                       CallType                    `json:"type,omitempty"`
	Subscribe                  *Subscribe                  `json:"subscribe,omitempty"`
	Accept                     *Accept                     `json:"accept,omitempty"`
	Decline                    *Decline                    `json:"decline,omitempty"`
	AcceptInverseOffers        *AcceptInverseOffers        `json:"accept_inverse_offers,omitempty"`
	DeclineInverseOffers       *DeclineInverseOffers       `json:"decline_inverse_offers,omitempty"`
	Revive                     *Revive                     `json:"revive,omitempty"`
	Kill                       *Kill                       `json:"kill,omitempty"`
	Shutdown                   *Shutdown                   `json:"shutdown,omitempty"`
	Acknowledge                *Acknowledge                `json:"acknowledge,omitempty"`
	AcknowledgeOperationStatus *AcknowledgeOperationStatus `json:"acknowledge_operation_status,omitempty"`
	Reconcile                  *Reconcile                  `json:"reconcile,omitempty"`
	ReconcileOperations        *ReconcileOperations        `json:"reconcile_operations,omitempty"`
	Message                    *Message                    `json:"message,omitempty"`
	Request                    *Request                    `json:"request,omitempty"`
	Suppress                   *Suppress                   `json:"suppress,omitempty"`
	UpdateFramework            *UpdateFramework            `json:"update_framework,omitempty"`
}

// DecodeCall reads and validates a scheduler call. Every problem comes back
// as FieldErrors naming the field, ready for a 400 answer.
func DecodeCall(data []byte) (*Call, error) {
	var c Call
	if err := DecodeJSON(data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate applies the generic rules (known enums, required fields, valid
// IDs and resources) and Mesos' per-call rules: the body the type names is
// present, every call but SUBSCRIBE names its framework, the framework IDs
// inside SUBSCRIBE and UPDATE_FRAMEWORK match the call's, and
// acknowledgement UUIDs are 16 bytes.
func (c *Call) Validate() error { return Validate(c) }

func (c Call) check(path string, errs *FieldErrors) {
	type plain Call // the generic walk, without recursing into check
	validateInto(plain(c), path, errs)
	at := func(field string) string { return joinPath(path, field) }
	need := func(present bool, field string) {
		if !present {
			errs.add(at(field), "required for a %s call", c.Type)
		}
	}
	if c.Type == "" {
		errs.add(at("type"), "required field is missing")
		return
	}
	if !c.Type.IsKnown() {
		return // reported by the generic walk
	}
	if c.Type == CallSubscribe {
		need(c.Subscribe != nil, "subscribe")
		if c.Subscribe != nil && c.Subscribe.FrameworkInfo != nil && c.Subscribe.FrameworkInfo.ID != c.FrameworkID {
			errs.add(at("framework_id"), "differs from subscribe.framework_info.id")
		}
		return
	}
	if c.FrameworkID == "" {
		errs.add(at("framework_id"), "required for a %s call", c.Type)
	}
	switch c.Type {
	case CallAccept:
		need(c.Accept != nil, "accept")
	case CallDecline:
		need(c.Decline != nil, "decline")
	case CallAcceptInverseOffers:
		need(c.AcceptInverseOffers != nil, "accept_inverse_offers")
	case CallDeclineInverseOffers:
		need(c.DeclineInverseOffers != nil, "decline_inverse_offers")
	case CallKill:
		need(c.Kill != nil, "kill")
	case CallShutdown:
		need(c.Shutdown != nil, "shutdown")
	case CallAcknowledge:
		need(c.Acknowledge != nil, "acknowledge")
		if a := c.Acknowledge; a != nil && a.UUID != nil && len(a.UUID) != 16 {
			errs.add(at("acknowledge.uuid"), "a UUID is 16 bytes, got %d", len(a.UUID))
		}
	case CallAcknowledgeOperationStatus:
		need(c.AcknowledgeOperationStatus != nil, "acknowledge_operation_status")
		if a := c.AcknowledgeOperationStatus; a != nil {
			if a.UUID != nil && len(a.UUID) != 16 {
				errs.add(at("acknowledge_operation_status.uuid"), "a UUID is 16 bytes, got %d", len(a.UUID))
			}
			if a.AgentID == "" {
				errs.add(at("acknowledge_operation_status.agent_id"), "required field is missing")
			}
		}
	case CallReconcile:
		need(c.Reconcile != nil, "reconcile")
	case CallReconcileOperations:
		need(c.ReconcileOperations != nil, "reconcile_operations")
	case CallMessage:
		need(c.Message != nil, "message")
	case CallRequest:
		need(c.Request != nil, "request")
	case CallUpdateFramework:
		need(c.UpdateFramework != nil, "update_framework")
		if u := c.UpdateFramework; u != nil && u.FrameworkInfo != nil && u.FrameworkInfo.ID != c.FrameworkID {
			errs.add(at("framework_id"), "differs from update_framework.framework_info.id")
		}
	}
}

// Subscribe starts (or, with framework_info.id, resumes) a framework's
// session. Roles in SuppressedRoles start suppressed.
type Subscribe struct {
	FrameworkInfo    *FrameworkInfo    `json:"framework_info" mesos:"required"`
	SuppressedRoles  []string          `json:"suppressed_roles,omitempty"`
	OfferConstraints *OfferConstraints `json:"offer_constraints,omitempty"`
}

// Accept uses offers: runs Operations against the union of OfferIDs (all on
// one agent); whatever the operations leave unused is declined with Filters.
type Accept struct {
	OfferIDs   []OfferID        `json:"offer_ids,omitempty"`
	Operations []OfferOperation `json:"operations,omitempty"`
	Filters    *Filters         `json:"filters,omitempty"`
}

// Decline returns offers unused; Filters says for how long not to re-offer.
type Decline struct {
	OfferIDs []OfferID `json:"offer_ids,omitempty"`
	Filters  *Filters  `json:"filters,omitempty"`
}

// AcceptInverseOffers agrees to give resources back for maintenance.
type AcceptInverseOffers struct {
	InverseOfferIDs []OfferID `json:"inverse_offer_ids,omitempty"`
	Filters         *Filters  `json:"filters,omitempty"`
}

// DeclineInverseOffers refuses to give resources back.
type DeclineInverseOffers struct {
	InverseOfferIDs []OfferID `json:"inverse_offer_ids,omitempty"`
	Filters         *Filters  `json:"filters,omitempty"`
}

// Revive clears filters and unsuppresses Roles (all roles when empty).
type Revive struct {
	Roles []string `json:"roles,omitempty"`
}

// Suppress stops offers for Roles (all roles when empty).
type Suppress struct {
	Roles []string `json:"roles,omitempty"`
}

// Kill asks for a task to be killed, optionally overriding its kill policy.
type Kill struct {
	TaskID     TaskID      `json:"task_id" mesos:"required"`
	AgentID    AgentID     `json:"agent_id,omitempty"`
	KillPolicy *KillPolicy `json:"kill_policy,omitempty"`
}

// Shutdown stops a custom executor and its tasks.
type Shutdown struct {
	ExecutorID ExecutorID `json:"executor_id" mesos:"required"`
	AgentID    AgentID    `json:"agent_id" mesos:"required"`
}

// Acknowledge confirms receipt of the status update with this UUID, which
// stops the master resending it.
type Acknowledge struct {
	AgentID AgentID `json:"agent_id" mesos:"required"`
	TaskID  TaskID  `json:"task_id" mesos:"required"`
	UUID    []byte  `json:"uuid" mesos:"required"`
}

// AcknowledgeOperationStatus confirms an operation status update.
type AcknowledgeOperationStatus struct {
	AgentID            AgentID            `json:"agent_id,omitempty"`
	ResourceProviderID ResourceProviderID `json:"resource_provider_id,omitempty"`
	UUID               []byte             `json:"uuid" mesos:"required"`
	OperationID        OperationID        `json:"operation_id" mesos:"required"`
}

// Reconcile asks for the latest state of Tasks; with no tasks ("tasks":
// null or absent) it is an implicit reconcile of every task the master
// knows for the framework.
type Reconcile struct {
	Tasks []ReconcileTask `json:"tasks,omitempty"`
}

// ReconcileTask names one task to reconcile.
type ReconcileTask struct {
	TaskID  TaskID  `json:"task_id" mesos:"required"`
	AgentID AgentID `json:"agent_id,omitempty"`
}

// ReconcileOperations asks for the latest state of operations.
type ReconcileOperations struct {
	Operations []ReconcileOperation `json:"operations,omitempty"`
}

// ReconcileOperation names one operation to reconcile.
type ReconcileOperation struct {
	OperationID        OperationID        `json:"operation_id" mesos:"required"`
	AgentID            AgentID            `json:"agent_id,omitempty"`
	ResourceProviderID ResourceProviderID `json:"resource_provider_id,omitempty"`
}

// Message is opaque data between a scheduler and an executor, in either
// direction (scheduler Call.Message and Event.Message share this shape).
type Message struct {
	AgentID    AgentID    `json:"agent_id" mesos:"required"`
	ExecutorID ExecutorID `json:"executor_id" mesos:"required"`
	Data       []byte     `json:"data"`
}

// MarshalJSON writes data as "" when empty: the field is required, and a
// null would make strict clients reject the whole event.
func (m Message) MarshalJSON() ([]byte, error) {
	type plain Message
	if m.Data == nil {
		m.Data = []byte{}
	}
	return json.Marshal(plain(m))
}

// Request passes resource requests to the allocator.
type Request struct {
	Requests []ResourceRequest `json:"requests,omitempty"`
}

// UpdateFramework changes a subscribed framework's info, suppressed roles
// and offer constraints.
type UpdateFramework struct {
	FrameworkInfo    *FrameworkInfo    `json:"framework_info" mesos:"required"`
	SuppressedRoles  []string          `json:"suppressed_roles,omitempty"`
	OfferConstraints *OfferConstraints `json:"offer_constraints,omitempty"`
}

// EventType is scheduler Event.Type.
type EventType string

const (
	EventUnknown               EventType = "UNKNOWN"
	EventSubscribed            EventType = "SUBSCRIBED"
	EventOffers                EventType = "OFFERS"
	EventInverseOffers         EventType = "INVERSE_OFFERS"
	EventRescind               EventType = "RESCIND"
	EventRescindInverseOffer   EventType = "RESCIND_INVERSE_OFFER"
	EventUpdate                EventType = "UPDATE"
	EventUpdateOperationStatus EventType = "UPDATE_OPERATION_STATUS"
	EventMessage               EventType = "MESSAGE"
	EventFailure               EventType = "FAILURE"
	EventError                 EventType = "ERROR"
	EventHeartbeat             EventType = "HEARTBEAT"
)

var eventTypes = enumSet(EventUnknown, EventSubscribed, EventOffers, EventInverseOffers, EventRescind,
	EventRescindInverseOffer, EventUpdate, EventUpdateOperationStatus, EventMessage, EventFailure, EventError,
	EventHeartbeat)

// IsKnown reports whether t is one of Mesos' names. A client should skip
// events whose type it does not know rather than fail.
func (t EventType) IsKnown() bool { _, ok := eventTypes[t]; return ok }

// Event is one record of the SUBSCRIBE stream. The master only ever sends
// the types above: frameworks built for Mesos drop events they cannot
// parse, so Strata adds no types of its own here.
type Event struct {
	Type                  EventType              `json:"type,omitempty"`
	Subscribed            *Subscribed            `json:"subscribed,omitempty"`
	Offers                *Offers                `json:"offers,omitempty"`
	InverseOffers         *InverseOffers         `json:"inverse_offers,omitempty"`
	Rescind               *Rescind               `json:"rescind,omitempty"`
	RescindInverseOffer   *RescindInverseOffer   `json:"rescind_inverse_offer,omitempty"`
	Update                *Update                `json:"update,omitempty"`
	UpdateOperationStatus *UpdateOperationStatus `json:"update_operation_status,omitempty"`
	Message               *Message               `json:"message,omitempty"`
	Failure               *Failure               `json:"failure,omitempty"`
	Error                 *ErrorEvent            `json:"error,omitempty"`
}

// Subscribed is the first event of a stream: the framework's ID, how often
// heartbeats come, and which master answered.
type Subscribed struct {
	FrameworkID              FrameworkID `json:"framework_id" mesos:"required"`
	HeartbeatIntervalSeconds float64     `json:"heartbeat_interval_seconds,omitempty"`
	MasterInfo               *MasterInfo `json:"master_info,omitempty"`
}

// Offers carries new offers.
type Offers struct {
	Offers []Offer `json:"offers,omitempty"`
}

// InverseOffers carries new inverse offers.
type InverseOffers struct {
	InverseOffers []InverseOffer `json:"inverse_offers,omitempty"`
}

// Rescind withdraws an offer; calls naming it will fail.
type Rescind struct {
	OfferID OfferID `json:"offer_id" mesos:"required"`
}

// RescindInverseOffer withdraws an inverse offer.
type RescindInverseOffer struct {
	InverseOfferID OfferID `json:"inverse_offer_id" mesos:"required"`
}

// Update carries a task status update; if it has a UUID, acknowledge it.
type Update struct {
	Status *TaskStatus `json:"status" mesos:"required"`
}

// UpdateOperationStatus carries an operation status update.
type UpdateOperationStatus struct {
	Status *OperationStatus `json:"status" mesos:"required"`
}

// Failure reports a lost agent or a terminated executor (with its exit
// status).
type Failure struct {
	AgentID    AgentID    `json:"agent_id,omitempty"`
	ExecutorID ExecutorID `json:"executor_id,omitempty"`
	Status     *int32     `json:"status,omitempty"`
}

// ErrorEvent is Event.Error: the subscription failed or was ended (for
// instance by a newer subscription of the same framework). The framework
// should stop using this stream.
type ErrorEvent struct {
	Message string `json:"message"`
}

// NewHeartbeatEvent returns {"type": "HEARTBEAT"}.
func NewHeartbeatEvent() *Event { return &Event{Type: EventHeartbeat} }

// NewErrorEvent returns {"type": "ERROR", "error": {"message": msg}}.
func NewErrorEvent(msg string) *Event {
	return &Event{Type: EventError, Error: &ErrorEvent{Message: msg}}
}
