package deploy

import "sort"

// LockedMessage is Marathon's text for a change refused because a running
// deployment holds one of its apps (AppLockedException).
const LockedMessage = "App is locked by one or more deployments. " +
	"Override with the option '?force=true'. " +
	"View details at '/v2/deployments/<DEPLOYMENT_ID>'."

// LockedError is a change that collides with running deployments. The API
// answers 409 with Body(); with ?force=true the daemon cancels the listed
// deployments instead and goes ahead.
type LockedError struct {
	DeploymentIDs []string
}

func (e *LockedError) Error() string { return LockedMessage }

// DeploymentRef is an entry of the 409 body's "deployments" list.
type DeploymentRef struct {
	ID string `json:"id"`
}

// LockedBody is Marathon's 409 body: {"message": …, "deployments": [{"id": …}]}.
type LockedBody struct {
	Message     string          `json:"message"`
	Deployments []DeploymentRef `json:"deployments"`
}

// Body returns the JSON body Marathon answers a locked change with.
func (e *LockedError) Body() LockedBody {
	b := LockedBody{Message: LockedMessage, Deployments: []DeploymentRef{}}
	for _, id := range e.DeploymentIDs {
		b.Deployments = append(b.Deployments, DeploymentRef{ID: id})
	}
	return b
}

// Conflicting returns the running deployments that affect an app the plan
// affects, in the order given.
func Conflicting(plan DeploymentPlan, running []DeploymentPlan) []DeploymentPlan {
	mine := map[string]bool{}
	for _, id := range plan.AffectedApps() {
		mine[id] = true
	}
	var out []DeploymentPlan
	for _, r := range running {
		if r.ID == plan.ID {
			continue
		}
		for _, id := range r.AffectedApps() {
			if mine[id] {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// CheckConflicts returns a *LockedError naming every running deployment
// that shares an app with the plan, or nil.
func CheckConflicts(plan DeploymentPlan, running []DeploymentPlan) error {
	c := Conflicting(plan, running)
	if len(c) == 0 {
		return nil
	}
	ids := make([]string, 0, len(c))
	for _, d := range c {
		ids = append(ids, d.ID)
	}
	sort.Strings(ids)
	return &LockedError{DeploymentIDs: ids}
}

// LockedApp returns a *LockedError if a running deployment affects the app,
// for calls that need the lock without computing a plan (e.g. killing a
// task with scale=true).
func LockedApp(appID string, running []DeploymentPlan) error {
	var ids []string
	for _, r := range running {
		if r.Affects(appID) {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Strings(ids)
	return &LockedError{DeploymentIDs: ids}
}
