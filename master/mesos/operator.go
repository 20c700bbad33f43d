package mesos

// The operator API: POST /api/v1 with an OperatorCall; synchronous calls
// answer 200 with an OperatorResponse, SUBSCRIBE answers a RecordIO stream of
// OperatorEvents. Shapes follow mesos/v1/master/master.proto.

// OperatorCallType is master Call.Type. Response.Type uses the same names
// for the calls that have a response body, so it shares this type.
type OperatorCallType string

const (
	OperatorUnknown                   OperatorCallType = "UNKNOWN"
	OperatorGetHealth                 OperatorCallType = "GET_HEALTH"
	OperatorGetFlags                  OperatorCallType = "GET_FLAGS"
	OperatorGetVersion                OperatorCallType = "GET_VERSION"
	OperatorGetMetrics                OperatorCallType = "GET_METRICS"
	OperatorGetLoggingLevel           OperatorCallType = "GET_LOGGING_LEVEL"
	OperatorSetLoggingLevel           OperatorCallType = "SET_LOGGING_LEVEL"
	OperatorListFiles                 OperatorCallType = "LIST_FILES"
	OperatorReadFile                  OperatorCallType = "READ_FILE"
	OperatorGetState                  OperatorCallType = "GET_STATE"
	OperatorGetAgents                 OperatorCallType = "GET_AGENTS"
	OperatorGetFrameworks             OperatorCallType = "GET_FRAMEWORKS"
	OperatorGetExecutors              OperatorCallType = "GET_EXECUTORS"
	OperatorGetOperations             OperatorCallType = "GET_OPERATIONS"
	OperatorGetTasks                  OperatorCallType = "GET_TASKS"
	OperatorGetRoles                  OperatorCallType = "GET_ROLES"
	OperatorGetWeights                OperatorCallType = "GET_WEIGHTS"
	OperatorUpdateWeights             OperatorCallType = "UPDATE_WEIGHTS"
	OperatorGetMaster                 OperatorCallType = "GET_MASTER"
	OperatorSubscribe                 OperatorCallType = "SUBSCRIBE"
	OperatorReserveResources          OperatorCallType = "RESERVE_RESOURCES"
	OperatorUnreserveResources        OperatorCallType = "UNRESERVE_RESOURCES"
	OperatorCreateVolumes             OperatorCallType = "CREATE_VOLUMES"
	OperatorDestroyVolumes            OperatorCallType = "DESTROY_VOLUMES"
	OperatorGrowVolume                OperatorCallType = "GROW_VOLUME"
	OperatorShrinkVolume              OperatorCallType = "SHRINK_VOLUME"
	OperatorGetMaintenanceStatus      OperatorCallType = "GET_MAINTENANCE_STATUS"
	OperatorGetMaintenanceSchedule    OperatorCallType = "GET_MAINTENANCE_SCHEDULE"
	OperatorUpdateMaintenanceSchedule OperatorCallType = "UPDATE_MAINTENANCE_SCHEDULE"
	OperatorStartMaintenance          OperatorCallType = "START_MAINTENANCE"
	OperatorStopMaintenance           OperatorCallType = "STOP_MAINTENANCE"
	OperatorDrainAgent                OperatorCallType = "DRAIN_AGENT"
	OperatorDeactivateAgent           OperatorCallType = "DEACTIVATE_AGENT"
	OperatorReactivateAgent           OperatorCallType = "REACTIVATE_AGENT"
	OperatorGetQuota                  OperatorCallType = "GET_QUOTA"
	OperatorUpdateQuota               OperatorCallType = "UPDATE_QUOTA"
	OperatorSetQuota                  OperatorCallType = "SET_QUOTA"    // deprecated
	OperatorRemoveQuota               OperatorCallType = "REMOVE_QUOTA" // deprecated
	OperatorTeardown                  OperatorCallType = "TEARDOWN"
	OperatorMarkAgentGone             OperatorCallType = "MARK_AGENT_GONE"
)

var operatorCallTypes = enumSet(OperatorUnknown, OperatorGetHealth, OperatorGetFlags, OperatorGetVersion,
	OperatorGetMetrics, OperatorGetLoggingLevel, OperatorSetLoggingLevel, OperatorListFiles, OperatorReadFile,
	OperatorGetState, OperatorGetAgents, OperatorGetFrameworks, OperatorGetExecutors, OperatorGetOperations,
	OperatorGetTasks, OperatorGetRoles, OperatorGetWeights, OperatorUpdateWeights, OperatorGetMaster,
	OperatorSubscribe, OperatorReserveResources, OperatorUnreserveResources, OperatorCreateVolumes,
	OperatorDestroyVolumes, OperatorGrowVolume, OperatorShrinkVolume, OperatorGetMaintenanceStatus,
	OperatorGetMaintenanceSchedule, OperatorUpdateMaintenanceSchedule, OperatorStartMaintenance,
	OperatorStopMaintenance, OperatorDrainAgent, OperatorDeactivateAgent, OperatorReactivateAgent,
	OperatorGetQuota, OperatorUpdateQuota, OperatorSetQuota, OperatorRemoveQuota, OperatorTeardown,
	OperatorMarkAgentGone)

// IsKnown reports whether t is one of Mesos' names.
func (t OperatorCallType) IsKnown() bool { _, ok := operatorCallTypes[t]; return ok }

// OperatorCall is a request to the master's operator API. Strata models the
// bodies of the calls it serves; the maintenance-schedule, volume-resizing
// and deprecated quota calls decode by name only.
type OperatorCall struct {
	Type               OperatorCallType    `json:"type,omitempty"`
	GetMetrics         *GetMetricsRequest  `json:"get_metrics,omitempty"`
	SetLoggingLevel    *SetLoggingLevel    `json:"set_logging_level,omitempty"`
	ListFiles          *ListFilesRequest   `json:"list_files,omitempty"`
	ReadFile           *ReadFileRequest    `json:"read_file,omitempty"`
	UpdateWeights      *UpdateWeights      `json:"update_weights,omitempty"`
	ReserveResources   *ReserveResources   `json:"reserve_resources,omitempty"`
	UnreserveResources *UnreserveResources `json:"unreserve_resources,omitempty"`
	CreateVolumes      *CreateVolumes      `json:"create_volumes,omitempty"`
	DestroyVolumes     *DestroyVolumes     `json:"destroy_volumes,omitempty"`
	DrainAgent         *DrainAgent         `json:"drain_agent,omitempty"`
	DeactivateAgent    *AgentRef           `json:"deactivate_agent,omitempty"`
	ReactivateAgent    *AgentRef           `json:"reactivate_agent,omitempty"`
	UpdateQuota        *UpdateQuota        `json:"update_quota,omitempty"`
	Teardown           *Teardown           `json:"teardown,omitempty"`
	MarkAgentGone      *AgentRef           `json:"mark_agent_gone,omitempty"`

	// Subscribe is a Strata extension (Mesos' SUBSCRIBE has no body, and
	// Mesos ignores the field): options for the operator event stream.
	Subscribe *SubscribeOptions `json:"subscribe,omitempty"`
}

// DecodeOperatorCall reads and validates an operator call.
func DecodeOperatorCall(data []byte) (*OperatorCall, error) {
	var c OperatorCall
	if err := DecodeJSON(data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate applies the generic rules and requires the body each type needs.
func (c *OperatorCall) Validate() error { return Validate(c) }

func (c OperatorCall) check(path string, errs *FieldErrors) {
	type plain OperatorCall
	validateInto(plain(c), path, errs)
	var body string
	var present bool
	switch c.Type {
	case "":
		errs.add(joinPath(path, "type"), "required field is missing")
		return
	case OperatorSetLoggingLevel:
		body, present = "set_logging_level", c.SetLoggingLevel != nil
	case OperatorListFiles:
		body, present = "list_files", c.ListFiles != nil
	case OperatorReadFile:
		body, present = "read_file", c.ReadFile != nil
	case OperatorUpdateWeights:
		body, present = "update_weights", c.UpdateWeights != nil
	case OperatorReserveResources:
		body, present = "reserve_resources", c.ReserveResources != nil
	case OperatorUnreserveResources:
		body, present = "unreserve_resources", c.UnreserveResources != nil
	case OperatorCreateVolumes:
		body, present = "create_volumes", c.CreateVolumes != nil
	case OperatorDestroyVolumes:
		body, present = "destroy_volumes", c.DestroyVolumes != nil
	case OperatorDrainAgent:
		body, present = "drain_agent", c.DrainAgent != nil
	case OperatorDeactivateAgent:
		body, present = "deactivate_agent", c.DeactivateAgent != nil
	case OperatorReactivateAgent:
		body, present = "reactivate_agent", c.ReactivateAgent != nil
	case OperatorUpdateQuota:
		body, present = "update_quota", c.UpdateQuota != nil
	case OperatorTeardown:
		body, present = "teardown", c.Teardown != nil
	case OperatorMarkAgentGone:
		body, present = "mark_agent_gone", c.MarkAgentGone != nil
	default:
		return
	}
	if !present {
		errs.add(joinPath(path, body), "required for a %s call", c.Type)
	}
}

// SubscribeOptions is Strata's opt-in for extra operator events. Mesos
// clients never send it, so they only ever see Mesos' event types.
type SubscribeOptions struct {
	// OfferEvents asks for OFFER_SENT, OFFER_ACCEPTED, OFFER_DECLINED and
	// OFFER_RESCINDED events.
	OfferEvents bool `json:"offer_events,omitempty"`
}

// GetMetricsRequest bounds how long GET_METRICS may take.
type GetMetricsRequest struct {
	Timeout *DurationInfo `json:"timeout,omitempty"`
}

// SetLoggingLevel raises verbosity for a while.
type SetLoggingLevel struct {
	Level    uint32        `json:"level"`
	Duration *DurationInfo `json:"duration" mesos:"required"`
}

// ListFilesRequest lists a directory of the file API.
type ListFilesRequest struct {
	Path string `json:"path"`
}

// ReadFileRequest reads part of a file of the file API.
type ReadFileRequest struct {
	Path   string  `json:"path"`
	Offset uint64  `json:"offset"`
	Length *uint64 `json:"length,omitempty"`
}

// UpdateWeights sets role weights.
type UpdateWeights struct {
	WeightInfos []WeightInfo `json:"weight_infos,omitempty"`
}

// ReserveResources dynamically reserves Resources (from Source) on an agent.
type ReserveResources struct {
	AgentID   AgentID   `json:"agent_id" mesos:"required"`
	Source    Resources `json:"source,omitempty"`
	Resources Resources `json:"resources,omitempty"`
}

// UnreserveResources removes dynamic reservations on an agent.
type UnreserveResources struct {
	AgentID   AgentID   `json:"agent_id" mesos:"required"`
	Resources Resources `json:"resources,omitempty"`
}

// CreateVolumes creates persistent volumes on an agent.
type CreateVolumes struct {
	AgentID AgentID   `json:"agent_id" mesos:"required"`
	Volumes Resources `json:"volumes,omitempty"`
}

// DestroyVolumes destroys persistent volumes on an agent.
type DestroyVolumes struct {
	AgentID AgentID   `json:"agent_id" mesos:"required"`
	Volumes Resources `json:"volumes,omitempty"`
}

// DrainAgent kills an agent's tasks (each within MaxGracePeriod, if set) and
// keeps offers away; with MarkGone the agent is then marked gone.
type DrainAgent struct {
	AgentID        AgentID        `json:"agent_id" mesos:"required"`
	MaxGracePeriod *ProtoDuration `json:"max_grace_period,omitempty"`
	MarkGone       *bool          `json:"mark_gone,omitempty"`
}

// AgentRef names an agent: the body of DEACTIVATE_AGENT, REACTIVATE_AGENT
// and MARK_AGENT_GONE.
type AgentRef struct {
	AgentID AgentID `json:"agent_id" mesos:"required"`
}

// UpdateQuota sets quotas for several roles at once, all or nothing. Force
// skips the check that guarantees fit the cluster.
type UpdateQuota struct {
	Force        *bool         `json:"force,omitempty"`
	QuotaConfigs []QuotaConfig `json:"quota_configs,omitempty"`
}

// Teardown removes a framework and kills its tasks.
type Teardown struct {
	FrameworkID FrameworkID `json:"framework_id" mesos:"required"`
}

// check refuses a role named twice: which weight would win is not for a
// JSON array's order to decide.
func (u UpdateWeights) check(path string, errs *FieldErrors) {
	type plain UpdateWeights
	validateInto(plain(u), path, errs)
	seen := make(map[string]bool, len(u.WeightInfos))
	for i, w := range u.WeightInfos {
		if seen[w.Role] {
			errs.add(joinPath(indexPath(joinPath(path, "weight_infos"), i), "role"), "duplicate role %q", w.Role)
		}
		seen[w.Role] = true
	}
}

// check refuses a role named twice, for the same reason as UpdateWeights;
// the update is all or nothing, so it is refused whole.
func (u UpdateQuota) check(path string, errs *FieldErrors) {
	type plain UpdateQuota
	validateInto(plain(u), path, errs)
	seen := make(map[string]bool, len(u.QuotaConfigs))
	for i, q := range u.QuotaConfigs {
		if seen[q.Role] {
			errs.add(joinPath(indexPath(joinPath(path, "quota_configs"), i), "role"), "duplicate role %q", q.Role)
		}
		seen[q.Role] = true
	}
}

// check requires a valid role and a positive weight.
func (w WeightInfo) check(path string, errs *FieldErrors) {
	if w.Role == "" {
		errs.add(joinPath(path, "role"), "required field is missing")
	} else if err := ValidateRole(w.Role); err != nil {
		errs.add(joinPath(path, "role"), "%v", err)
	}
	if !(w.Weight > 0) || w.Weight > 1e15 {
		errs.add(joinPath(path, "weight"), "weight must be positive, got %v", w.Weight)
	}
}
