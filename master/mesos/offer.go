package mesos

// Offer is resources on one agent offered to one framework for one of its
// roles (AllocationInfo). Until accepted, declined or rescinded they count
// as allocated to that framework.
type Offer struct {
	ID             OfferID         `json:"id" mesos:"required"`
	FrameworkID    FrameworkID     `json:"framework_id" mesos:"required"`
	AgentID        AgentID         `json:"agent_id" mesos:"required"`
	Hostname       string          `json:"hostname"`
	URL            *URL            `json:"url,omitempty"`
	Domain         *DomainInfo     `json:"domain,omitempty"`
	Resources      Resources       `json:"resources,omitempty"`
	Attributes     Attributes      `json:"attributes,omitempty"`
	ExecutorIDs    []ExecutorID    `json:"executor_ids,omitempty"`
	Unavailability *Unavailability `json:"unavailability,omitempty"`
	AllocationInfo *AllocationInfo `json:"allocation_info,omitempty"`
}

// DefaultRefuseSeconds is how long declined resources are withheld from a
// framework when its Filters do not say (Filters.refuse_seconds' default).
const DefaultRefuseSeconds = 5.0

// Filters shapes what happens to resources a framework declines or leaves
// unused in an ACCEPT.
type Filters struct {
	RefuseSeconds *float64 `json:"refuse_seconds,omitempty"`
}

// GetRefuseSeconds returns RefuseSeconds, defaulting to 5 (also for a nil
// Filters).
func (f *Filters) GetRefuseSeconds() float64 {
	if f == nil {
		return DefaultRefuseSeconds
	}
	return orDefault(f.RefuseSeconds, DefaultRefuseSeconds)
}

// RefuseFor builds Filters that withhold declined resources for seconds.
func RefuseFor(seconds float64) *Filters { return &Filters{RefuseSeconds: &seconds} }

// OfferOperationType is Offer.Operation.Type.
type OfferOperationType string

const (
	OperationTypeUnknown  OfferOperationType = "UNKNOWN"
	OperationLaunch       OfferOperationType = "LAUNCH"
	OperationLaunchGroup  OfferOperationType = "LAUNCH_GROUP"
	OperationReserve      OfferOperationType = "RESERVE"
	OperationUnreserve    OfferOperationType = "UNRESERVE"
	OperationCreate       OfferOperationType = "CREATE"
	OperationDestroy      OfferOperationType = "DESTROY"
	OperationGrowVolume   OfferOperationType = "GROW_VOLUME"
	OperationShrinkVolume OfferOperationType = "SHRINK_VOLUME"
	OperationCreateDisk   OfferOperationType = "CREATE_DISK"
	OperationDestroyDisk  OfferOperationType = "DESTROY_DISK"
)

var offerOperationTypes = enumSet(OperationTypeUnknown, OperationLaunch, OperationLaunchGroup, OperationReserve,
	OperationUnreserve, OperationCreate, OperationDestroy, OperationGrowVolume, OperationShrinkVolume,
	OperationCreateDisk, OperationDestroyDisk)

// IsKnown reports whether t is one of Mesos' names.
func (t OfferOperationType) IsKnown() bool { _, ok := offerOperationTypes[t]; return ok }

// OfferOperation is one thing a framework does with accepted offers
// (Offer.Operation): launch tasks, reserve or unreserve, create or destroy
// volumes. The field named by Type carries the details. Strata carries no
// body for the experimental CREATE_DISK and DESTROY_DISK.
type OfferOperation struct {
	Type         OfferOperationType `json:"type,omitempty"`
	ID           OperationID        `json:"id,omitempty"`
	Launch       *Launch            `json:"launch,omitempty"`
	LaunchGroup  *LaunchGroup       `json:"launch_group,omitempty"`
	Reserve      *Reserve           `json:"reserve,omitempty"`
	Unreserve    *Unreserve         `json:"unreserve,omitempty"`
	Create       *Create            `json:"create,omitempty"`
	Destroy      *Destroy           `json:"destroy,omitempty"`
	GrowVolume   *GrowVolume        `json:"grow_volume,omitempty"`
	ShrinkVolume *ShrinkVolume      `json:"shrink_volume,omitempty"`
}

// check requires the body that Type names, as Mesos' operation validation
// does, and applies the generic rules to everything else.
func (op OfferOperation) check(path string, errs *FieldErrors) {
	var missing string
	switch op.Type {
	case OperationLaunch:
		if op.Launch == nil {
			missing = "launch"
		}
	case OperationLaunchGroup:
		if op.LaunchGroup == nil {
			missing = "launch_group"
		}
	case OperationReserve:
		if op.Reserve == nil {
			missing = "reserve"
		}
	case OperationUnreserve:
		if op.Unreserve == nil {
			missing = "unreserve"
		}
	case OperationCreate:
		if op.Create == nil {
			missing = "create"
		}
	case OperationDestroy:
		if op.Destroy == nil {
			missing = "destroy"
		}
	case OperationGrowVolume:
		if op.GrowVolume == nil {
			missing = "grow_volume"
		}
	case OperationShrinkVolume:
		if op.ShrinkVolume == nil {
			missing = "shrink_volume"
		}
	case "":
		errs.add(joinPath(path, "type"), "required field is missing")
	}
	if missing != "" {
		errs.add(joinPath(path, missing), "required for a %s operation", op.Type)
	}
	type plain OfferOperation // drops check so the generic walk applies
	validateInto(plain(op), path, errs)
}

// Launch starts tasks with the command executor or their own executors.
type Launch struct {
	TaskInfos []TaskInfo `json:"task_infos,omitempty"`
}

// LaunchGroup starts a task group under one (default) executor.
type LaunchGroup struct {
	Executor  *ExecutorInfo  `json:"executor" mesos:"required"`
	TaskGroup *TaskGroupInfo `json:"task_group" mesos:"required"`
}

// Reserve reserves Resources (their reservation stacks say for whom); Source
// is what they are made from, when given.
type Reserve struct {
	Source    Resources `json:"source,omitempty"`
	Resources Resources `json:"resources,omitempty"`
}

// Unreserve removes the innermost reservation from Resources.
type Unreserve struct {
	Resources Resources `json:"resources,omitempty"`
}

// Create makes persistent volumes.
type Create struct {
	Volumes Resources `json:"volumes,omitempty"`
}

// Destroy removes persistent volumes.
type Destroy struct {
	Volumes Resources `json:"volumes,omitempty"`
}

// GrowVolume adds Addition to a persistent volume.
type GrowVolume struct {
	Volume   *Resource `json:"volume" mesos:"required"`
	Addition *Resource `json:"addition" mesos:"required"`
}

// ShrinkVolume takes Subtract off a persistent volume.
type ShrinkVolume struct {
	Volume   *Resource `json:"volume" mesos:"required"`
	Subtract *Scalar   `json:"subtract" mesos:"required"`
}

// InverseOffer asks a framework to give resources back for maintenance.
type InverseOffer struct {
	ID             OfferID         `json:"id" mesos:"required"`
	URL            *URL            `json:"url,omitempty"`
	FrameworkID    FrameworkID     `json:"framework_id" mesos:"required"`
	AgentID        AgentID         `json:"agent_id,omitempty"`
	Unavailability *Unavailability `json:"unavailability" mesos:"required"`
	Resources      Resources       `json:"resources,omitempty"`
}

// ResourceRequest (mesos.Request) hints to the allocator what a framework
// wants, optionally on one agent.
type ResourceRequest struct {
	AgentID   AgentID   `json:"agent_id,omitempty"`
	Resources Resources `json:"resources,omitempty"`
}
