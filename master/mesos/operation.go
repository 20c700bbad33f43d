package mesos

// OperationState is the state of an offer operation the framework asked
// feedback on (by giving it an ID).
type OperationState string

const (
	OperationUnsupported    OperationState = "OPERATION_UNSUPPORTED"
	OperationPending        OperationState = "OPERATION_PENDING"
	OperationFinished       OperationState = "OPERATION_FINISHED"
	OperationFailed         OperationState = "OPERATION_FAILED"
	OperationError          OperationState = "OPERATION_ERROR"
	OperationDropped        OperationState = "OPERATION_DROPPED"
	OperationUnreachable    OperationState = "OPERATION_UNREACHABLE"
	OperationGoneByOperator OperationState = "OPERATION_GONE_BY_OPERATOR"
	OperationRecovering     OperationState = "OPERATION_RECOVERING"
	OperationStateUnknown   OperationState = "OPERATION_UNKNOWN"
)

var operationStates = enumSet(OperationUnsupported, OperationPending, OperationFinished, OperationFailed,
	OperationError, OperationDropped, OperationUnreachable, OperationGoneByOperator, OperationRecovering,
	OperationStateUnknown)

// IsKnown reports whether s is one of Mesos' names.
func (s OperationState) IsKnown() bool { _, ok := operationStates[s]; return ok }

// IsTerminal reports whether the operation is over, as Mesos decides.
func (s OperationState) IsTerminal() bool {
	switch s {
	case OperationDropped, OperationError, OperationFailed, OperationFinished, OperationGoneByOperator:
		return true
	}
	return false
}

// UUID is the UUID message, {"value": "<base64 of 16 bytes>"}.
type UUID struct {
	Value []byte `json:"value"`
}

// OperationStatus is one status update of an offer operation.
type OperationStatus struct {
	OperationID        OperationID        `json:"operation_id,omitempty"`
	State              OperationState     `json:"state" mesos:"required"`
	Message            string             `json:"message,omitempty"`
	ConvertedResources Resources          `json:"converted_resources,omitempty"`
	UUID               *UUID              `json:"uuid,omitempty"`
	AgentID            AgentID            `json:"agent_id,omitempty"`
	ResourceProviderID ResourceProviderID `json:"resource_provider_id,omitempty"`
}

// Operation is the master's record of an offer operation (GET_OPERATIONS).
type Operation struct {
	FrameworkID  FrameworkID       `json:"framework_id,omitempty"`
	AgentID      AgentID           `json:"agent_id,omitempty"`
	Info         *OfferOperation   `json:"info" mesos:"required"`
	LatestStatus *OperationStatus  `json:"latest_status" mesos:"required"`
	Statuses     []OperationStatus `json:"statuses,omitempty"`
	UUID         *UUID             `json:"uuid" mesos:"required"`
}
