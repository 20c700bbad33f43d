package marathon

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
	"github.com/strata-dc/strata/master/mesos"
)

// Instance is marathon's record of one instance of an app: one Mesos task.
// It is stored in coord (one node per instance) before anything is asked of
// the master about it, so a new leader knows every task the old one may
// have launched and never launches a duplicate.
type Instance struct {
	TaskID string     `json:"taskId"`
	AppID  app.PathID `json:"appId"`
	// Config is the app's config version (versionInfo.lastConfigChangeAt)
	// the instance runs; the deployment core compares it with the target.
	Config time.Time `json:"config"`
	// AppVersion is the app's full version at launch (the task's "version").
	AppVersion string `json:"appVersion,omitempty"`
	// State is the last Mesos state; "" while Scheduled (waiting for an offer).
	State   mesos.TaskState `json:"state,omitempty"`
	Healthy *bool           `json:"healthy,omitempty"`
	// Ready: the app's readiness check passed (probed by marathon).
	Ready bool `json:"ready,omitempty"`
	// Killing: a kill was sent (Marathon's goal "decommissioned").
	Killing          bool      `json:"killing,omitempty"`
	AgentID          string    `json:"agentId,omitempty"`
	Host             string    `json:"host,omitempty"`
	IP               string    `json:"ip,omitempty"` // the agent's IP, for marathon's own probes
	Ports            []int     `json:"ports,omitempty"`
	ScheduledAt      time.Time `json:"scheduledAt"`
	StagedAt         time.Time `json:"stagedAt,omitzero"`
	StartedAt        time.Time `json:"startedAt,omitzero"`
	UnreachableSince time.Time `json:"unreachableSince,omitzero"`
}

// scheduled reports whether the instance still waits for an offer.
func (i *Instance) scheduled() bool { return i.State == "" }

// unlaunch puts an instance whose launch was never sent back in the queue.
func (i *Instance) unlaunch() {
	i.State, i.AgentID, i.Host, i.IP, i.Ports = "", "", "", "", nil
	i.StagedAt, i.AppVersion = time.Time{}, ""
}

// core is the instance as marathon/deploy sees it.
func (i *Instance) core() deploy.Instance {
	d := deploy.Instance{ID: i.TaskID, Version: i.Config, Killing: i.Killing, Agent: i.AgentID,
		UnreachableSince: i.UnreachableSince, Healthy: i.Healthy != nil && *i.Healthy, Ready: i.Ready}
	switch i.State {
	case "":
		d.State = deploy.Scheduled
	case mesos.TaskStaging:
		d.State, d.StartedAt = deploy.Staged, i.StagedAt
	case mesos.TaskStarting:
		d.State, d.StartedAt = deploy.Starting, i.StagedAt
	case mesos.TaskUnreachable:
		d.State, d.StartedAt = deploy.Unreachable, i.StartedAt
	default: // RUNNING, KILLING
		d.State, d.StartedAt = deploy.Running, i.StartedAt
	}
	return d
}

// newTaskID makes a task id as Marathon does: the app's path with / as _,
// a dot, and a random UUID, so clients can derive the app from it.
func newTaskID(id app.PathID) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%s.%x-%x-%x-%x-%x", id.SafeName(), b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// taskView is a task as /v2/tasks and /v2/apps/{id}/tasks print it.
type taskView struct {
	ID                 string              `json:"id"`
	AppID              string              `json:"appId"`
	Host               string              `json:"host"`
	Ports              []int               `json:"ports"`
	ServicePorts       []int               `json:"servicePorts"`
	IPAddresses        []ipAddress         `json:"ipAddresses"`
	LocalVolumes       []any               `json:"localVolumes"`
	SlaveID            string              `json:"slaveId"`
	AgentID            string              `json:"agentId,omitempty"`
	StagedAt           string              `json:"stagedAt,omitempty"`
	StartedAt          string              `json:"startedAt,omitempty"`
	Version            string              `json:"version"`
	State              string              `json:"state"`
	HealthCheckResults []healthCheckResult `json:"healthCheckResults,omitempty"`
}

type ipAddress struct {
	IPAddress string `json:"ipAddress"`
	Protocol  string `json:"protocol"`
}

type healthCheckResult struct {
	Alive  bool   `json:"alive"`
	TaskID string `json:"taskId"`
	// InstanceID is the task id too: Strata runs one task per instance.
	InstanceID string `json:"instanceId"`
}

func (i *Instance) view(a *app.App) taskView {
	hasHealth := a != nil && len(a.HealthChecks) > 0
	v := taskView{ID: i.TaskID, AppID: string(i.AppID), Host: i.Host, Ports: i.Ports, ServicePorts: []int{},
		IPAddresses: []ipAddress{}, LocalVolumes: []any{}, SlaveID: i.AgentID, AgentID: i.AgentID,
		Version: i.AppVersion, State: string(i.State)}
	if v.Ports == nil {
		v.Ports = []int{}
	}
	if a != nil {
		for _, pd := range a.PortDefinitions {
			v.ServicePorts = append(v.ServicePorts, pd.Port)
		}
	}
	if v.State == "" {
		v.State = "TASK_STAGING"
	}
	if !i.StagedAt.IsZero() {
		v.StagedAt = app.FormatVersion(i.StagedAt)
	}
	if !i.StartedAt.IsZero() {
		v.StartedAt = app.FormatVersion(i.StartedAt)
	}
	if hasHealth && i.Healthy != nil {
		v.HealthCheckResults = []healthCheckResult{{Alive: *i.Healthy, TaskID: i.TaskID, InstanceID: i.TaskID}}
	}
	return v
}

// counts are an app's task counters as /v2/apps prints them.
type counts struct {
	Staged, Running, Healthy, Unhealthy int
}

func countOf(list []*Instance, hasHealth bool) counts {
	var c counts
	for _, i := range list {
		switch i.State {
		case mesos.TaskStaging, mesos.TaskStarting:
			c.Staged++
		case mesos.TaskRunning:
			c.Running++
			if hasHealth && i.Healthy != nil {
				if *i.Healthy {
					c.Healthy++
				} else {
					c.Unhealthy++
				}
			}
		}
	}
	return c
}
