package deploy

import "time"

// VersionFormat is how Marathon writes versions and timestamps
// ("2015-09-30T09:09:17.614Z").
const VersionFormat = "2006-01-02T15:04:05.000Z"

// FormatVersion writes t the way Marathon does, in UTC with milliseconds.
func FormatVersion(t time.Time) string { return t.UTC().Format(VersionFormat) }

// ActionView is an action as /v2/deployments and events show it.
type ActionView struct {
	Action ActionName `json:"action"`
	App    string     `json:"app"`
}

// StepView is a step as /v2/deployments and events show it.
type StepView struct {
	Actions []ActionView `json:"actions"`
}

// PlanView is the plan as deployment events carry it ("plan" in
// deployment_info, deployment_step_success, …).
type PlanView struct {
	ID      string     `json:"id"`
	Version string     `json:"version"`
	Steps   []StepView `json:"steps"`
}

// HTTPResponse is the last answer of a readiness check.
type HTTPResponse struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
}

// ReadinessCheckResult is one instance's readiness as /v2/deployments shows it.
type ReadinessCheckResult struct {
	Name         string        `json:"name"`
	TaskID       string        `json:"taskId"`
	Ready        bool          `json:"ready"`
	LastResponse *HTTPResponse `json:"lastResponse,omitempty"`
}

// CurrentActionView is an action of the running step with the readiness
// results of the app's new instances.
type CurrentActionView struct {
	Action                ActionName             `json:"action"`
	App                   string                 `json:"app"`
	ReadinessCheckResults []ReadinessCheckResult `json:"readinessCheckResults"`
}

// DeploymentInfo is one entry of GET /v2/deployments. Every slice is
// non-nil so clients that decode strictly never see null.
type DeploymentInfo struct {
	ID             string              `json:"id"`
	Version        string              `json:"version"`
	AffectedApps   []string            `json:"affectedApps"`
	AffectedPods   []string            `json:"affectedPods"`
	Steps          []StepView          `json:"steps"`
	CurrentActions []CurrentActionView `json:"currentActions"`
	CurrentStep    int                 `json:"currentStep"`
	TotalSteps     int                 `json:"totalSteps"`
}

// StepView returns step i (0-based) as the API shows it; out of range gives
// an empty step, as Marathon's initial placeholder step is.
func (p DeploymentPlan) StepView(i int) StepView {
	v := StepView{Actions: []ActionView{}}
	if i < 0 || i >= len(p.Steps) {
		return v
	}
	for _, a := range p.Steps[i].Actions {
		v.Actions = append(v.Actions, ActionView{Action: a.Action, App: a.App})
	}
	return v
}

// View returns the plan as events carry it.
func (p DeploymentPlan) View() PlanView {
	v := PlanView{ID: p.ID, Version: FormatVersion(p.Version), Steps: []StepView{}}
	for i := range p.Steps {
		v.Steps = append(v.Steps, p.StepView(i))
	}
	return v
}

// Info returns the /v2/deployments entry of the plan while it runs step
// currentStep (1-based as Marathon counts; 0 before the first step starts).
// readiness maps app id to the readiness results of its new instances.
func (p DeploymentPlan) Info(currentStep int, readiness map[string][]ReadinessCheckResult) DeploymentInfo {
	info := DeploymentInfo{
		ID:             p.ID,
		Version:        FormatVersion(p.Version),
		AffectedApps:   p.AffectedApps(),
		AffectedPods:   []string{},
		Steps:          p.View().Steps,
		CurrentActions: []CurrentActionView{},
		CurrentStep:    currentStep,
		TotalSteps:     len(p.Steps),
	}
	if currentStep >= 1 && currentStep <= len(p.Steps) {
		for _, a := range p.Steps[currentStep-1].Actions {
			rs := readiness[a.App]
			if rs == nil {
				rs = []ReadinessCheckResult{}
			}
			info.CurrentActions = append(info.CurrentActions, CurrentActionView{Action: a.Action, App: a.App, ReadinessCheckResults: rs})
		}
	}
	return info
}
