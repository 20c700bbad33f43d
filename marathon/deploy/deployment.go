package deploy

import (
	"fmt"
	"time"
)

// Deployment is a plan being carried out: the daemon keeps one per running
// deployment (and stores Plan and Step so a new leader resumes it).
type Deployment struct {
	Plan DeploymentPlan `json:"plan"`
	// Step is the 1-based number of the step in progress, as /v2/deployments
	// reports it in currentStep; 0 before the first Advance.
	Step int `json:"currentStep"`
}

// ActionDecision is the decision for one action of the current step, with
// the spec it was computed against.
type ActionDecision struct {
	Action   Action
	App      AppSpec
	Decision Decision
}

// Progress is the outcome of one Advance.
type Progress struct {
	// Decisions are those of the current step's actions; the daemon carries
	// out their launches and kills.
	Decisions []ActionDecision
	// StepsDone lists the 1-based step numbers that completed during this
	// Advance (one deployment_step_success event each).
	StepsDone []int
	// Finished means every step is done (deployment_success).
	Finished bool
}

// Waiting summarizes why the current step is not done, one line per action.
func (p Progress) Waiting() []string {
	var out []string
	for _, d := range p.Decisions {
		if !d.Decision.Done {
			out = append(out, fmt.Sprintf("%s %s: %s", d.Action.Action, d.Action.App, d.Decision.Waiting))
		}
	}
	return out
}

// NewDeployment starts carrying out a plan.
func NewDeployment(p DeploymentPlan) *Deployment { return &Deployment{Plan: p} }

// Advance decides the current step's actions from the observed instances
// (instances returns an app's instances, terminal ones left out) and moves
// on through every step whose actions are all done, so steps with nothing
// left to do (StartApplication, an already satisfied scale) pass at once.
func (d *Deployment) Advance(instances func(appID string) []Instance, now time.Time) Progress {
	var pr Progress
	if d.Step == 0 {
		d.Step = 1
	}
	for d.Step <= len(d.Plan.Steps) {
		pr.Decisions = pr.Decisions[:0]
		allDone := true
		for _, a := range d.Plan.Steps[d.Step-1].Actions {
			spec, ok := d.Plan.Target.App(a.App)
			if a.Action == StopApplication || !ok {
				spec, _ = d.Plan.Original.App(a.App)
			}
			dec := Drive(StepInput{Action: a, App: spec, Instances: instances(a.App), Now: now})
			pr.Decisions = append(pr.Decisions, ActionDecision{Action: a, App: spec, Decision: dec})
			allDone = allDone && dec.Done
		}
		if !allDone {
			return pr
		}
		pr.StepsDone = append(pr.StepsDone, d.Step)
		d.Step++
	}
	pr.Decisions = nil
	pr.Finished = true
	return pr
}

// Info is the /v2/deployments entry of the deployment.
func (d *Deployment) Info(readiness map[string][]ReadinessCheckResult) DeploymentInfo {
	return d.Plan.Info(min(d.Step, len(d.Plan.Steps)), readiness)
}

// ForRestart returns the app marked for a restart (POST
// /v2/apps/{id}/restart): the same config with a new config version, so
// every instance counts as old and the planner emits RestartApplication, as
// Marathon does.
func ForRestart(app AppSpec, now time.Time) AppSpec {
	app.Version = now
	return app
}
