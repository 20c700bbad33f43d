package deploy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// ActionName is the name Marathon gives a deployment action in
// /v2/deployments and in deployment events.
type ActionName string

const (
	// StartApplication registers a new app with zero instances; Marathon keeps
	// it for compatibility and it completes at once. The ScaleApplication
	// that follows it in a later step starts the instances.
	StartApplication ActionName = "StartApplication"
	// ScaleApplication changes the number of instances of an unchanged config.
	ScaleApplication ActionName = "ScaleApplication"
	// RestartApplication replaces every instance with one of the new config
	// version, within the app's upgradeStrategy.
	RestartApplication ActionName = "RestartApplication"
	// StopApplication kills every instance of a removed app.
	StopApplication ActionName = "StopApplication"
)

// Action is one thing a step does to one app; the target instance count is
// the target app's. Kill matters only to ScaleApplication: it names
// instances sentenced by /v2/apps/{id}/tasks/delete?scale=true, killed
// before any other.
type Action struct {
	Action ActionName `json:"action"`
	App    string     `json:"app"`
	Kill   []string   `json:"kill,omitempty"`
}

// Step is a set of actions that run in parallel; the next step begins when
// all of them are done.
type Step struct {
	Actions []Action `json:"actions"`
}

// DeploymentPlan is the change from Original to Target as ordered steps. It
// keeps both trees so it can be reverted; the JSON form is for storage (the
// API forms are Info and View).
type DeploymentPlan struct {
	ID       string    `json:"id"`
	Version  time.Time `json:"version"`
	Original RootState `json:"original"`
	Target   RootState `json:"target"`
	Steps    []Step    `json:"steps"`
}

// PlanMeta carries what a plan cannot compute itself: its id (from an
// injected generator, see NewIDSource), its version (the deployment
// instant), and instances to kill while scaling down, by app id.
type PlanMeta struct {
	ID      string
	Version time.Time
	ToKill  map[string][]string
}

// Plan computes the deployment from one tree to another, as Marathon's
// DeploymentPlan does: first stop removed apps, then register new apps
// (StartApplication), then scale or restart new and changed apps in
// dependency order — apps others depend on come first, and apps that do not
// depend on each other share a step. Unlike Marathon, which stops all
// removed apps in one step, removed apps stop in reverse dependency order
// (dependents first), so a dependency never disappears under a running
// dependent.
func Plan(from, to RootState, meta PlanMeta) (DeploymentPlan, error) {
	if err := from.Validate(); err != nil {
		return DeploymentPlan{}, fmt.Errorf("plan: original: %w", err)
	}
	if err := to.Validate(); err != nil {
		return DeploymentPlan{}, fmt.Errorf("plan: target: %w", err)
	}
	fromDepth, err := buildGraph(from).layers()
	if err != nil {
		return DeploymentPlan{}, fmt.Errorf("plan: original: %w", err)
	}
	toDepth, err := buildGraph(to).layers()
	if err != nil {
		return DeploymentPlan{}, fmt.Errorf("plan: target: %w", err)
	}
	p := DeploymentPlan{ID: meta.ID, Version: meta.Version, Original: from, Target: to}

	var removed, added, changed []string
	for _, a := range from.Apps {
		if _, ok := to.App(a.ID); !ok {
			removed = append(removed, a.ID)
		}
	}
	for _, a := range to.Apps {
		old, ok := from.App(a.ID)
		switch {
		case !ok:
			added = append(added, a.ID)
			changed = append(changed, a.ID)
		case !sameSpec(old, a):
			changed = append(changed, a.ID)
		}
	}

	stopLayers := groupByLayer(removed, fromDepth)
	for i := len(stopLayers) - 1; i >= 0; i-- {
		var s Step
		for _, id := range stopLayers[i] {
			s.Actions = append(s.Actions, Action{Action: StopApplication, App: id})
		}
		p.Steps = append(p.Steps, s)
	}
	if len(added) > 0 {
		sort.Strings(added)
		var s Step
		for _, id := range added {
			s.Actions = append(s.Actions, Action{Action: StartApplication, App: id})
		}
		p.Steps = append(p.Steps, s)
	}
	for _, layer := range groupByLayer(changed, toDepth) {
		var s Step
		for _, id := range layer {
			app, _ := to.App(id)
			old, existed := from.App(id)
			switch {
			case !existed:
				s.Actions = append(s.Actions, Action{Action: ScaleApplication, App: id})
			case old.Version.Equal(app.Version) || app.Instances == 0:
				s.Actions = append(s.Actions, Action{Action: ScaleApplication, App: id, Kill: slices.Clone(meta.ToKill[id])})
			default:
				s.Actions = append(s.Actions, Action{Action: RestartApplication, App: id})
			}
		}
		p.Steps = append(p.Steps, s)
	}
	return p, nil
}

// IsEmpty reports whether the plan has nothing to do (Marathon still
// accepts such a change and answers with a deployment id that finishes at once).
func (p DeploymentPlan) IsEmpty() bool { return len(p.Steps) == 0 }

// AffectedApps returns the ids of every app some action of the plan touches,
// sorted; these are the apps the deployment locks.
func (p DeploymentPlan) AffectedApps() []string {
	set := map[string]bool{}
	for _, s := range p.Steps {
		for _, a := range s.Actions {
			set[a.App] = true
		}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Affects reports whether the plan touches the app.
func (p DeploymentPlan) Affects(appID string) bool {
	for _, s := range p.Steps {
		for _, a := range s.Actions {
			if a.App == appID {
				return true
			}
		}
	}
	return false
}

// NewIDSource returns a generator of deployment ids shaped like Marathon's
// (random UUIDv4 text), deterministic for a seed so tests and simulations
// replay exactly. It is not safe for concurrent use.
func NewIDSource(seed uint64) func() string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() string {
		var b [16]byte
		for i := 0; i < 16; i += 8 {
			v := r.Uint64()
			for j := range 8 {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
}
