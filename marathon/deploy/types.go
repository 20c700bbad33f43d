package deploy

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// KillSelection says which instance goes first when Marathon must choose
// among otherwise equal candidates; the JSON values are Marathon's.
type KillSelection string

const (
	// YoungestFirst kills the most recently started instance first (Marathon's default).
	YoungestFirst KillSelection = "YOUNGEST_FIRST"
	// OldestFirst kills the longest-running instance first.
	OldestFirst KillSelection = "OLDEST_FIRST"
)

// UpgradeStrategy bounds a rolling restart: at least
// ⌈instances × MinimumHealthCapacity⌉ instances stay healthy and at most
// ⌊instances × (1 + MaximumOverCapacity)⌋ exist at once.
type UpgradeStrategy struct {
	MinimumHealthCapacity float64
	MaximumOverCapacity   float64
}

// DefaultUpgradeStrategy is Marathon's default: replace side by side, never
// dropping below full health, with room for a full second set.
var DefaultUpgradeStrategy = UpgradeStrategy{MinimumHealthCapacity: 1, MaximumOverCapacity: 1}

// BackoffStrategy is the app's launch backoff: the first failure delays the
// next launch by BackoffSeconds, each further one multiplies the delay by
// BackoffFactor, never beyond MaxLaunchDelaySeconds.
type BackoffStrategy struct {
	BackoffSeconds        float64
	BackoffFactor         float64
	MaxLaunchDelaySeconds float64
}

// DefaultBackoff is Marathon's default backoff (1 s, ×1.15, at most 300 s).
var DefaultBackoff = BackoffStrategy{BackoffSeconds: 1, BackoffFactor: 1.15, MaxLaunchDelaySeconds: 300}

// UnreachableStrategy says how long an unreachable instance still counts as
// one of the app's instances (InactiveAfterSeconds; after that a replacement
// is launched) and when it is forgotten altogether (ExpungeAfterSeconds).
// Disabled is Marathon's "disabled" form: unreachable instances are waited
// for forever.
type UnreachableStrategy struct {
	Disabled             bool
	InactiveAfterSeconds int64
	ExpungeAfterSeconds  int64
}

// AppSpec is what the deployment core needs to know about one app. Version
// is the app's config version (Marathon's versionInfo.lastConfigChangeAt):
// it changes with every change except a pure scale, and a restart bumps it,
// so instances whose Version differs are "old" and get replaced.
type AppSpec struct {
	ID                 string
	Version            time.Time
	Instances          int
	Dependencies       []string // app or group ids; relative ids resolve against the app's parent group
	UpgradeStrategy    UpgradeStrategy
	KillSelection      KillSelection // empty means YoungestFirst
	HasHealthChecks    bool          // a new instance counts only once healthy
	HasReadinessChecks bool          // a new instance counts only once ready
	Unreachable        UnreachableStrategy
	Backoff            BackoffStrategy
}

// sameSpec reports whether two specs would run the same instances with the
// same count, i.e. whether a deployment has nothing to do for the app.
func sameSpec(a, b AppSpec) bool {
	return a.Version.Equal(b.Version) && a.Instances == b.Instances
}

// GroupSpec is a group of the tree; only its dependencies matter to the
// planner (every app inside depends on every app inside each dependency).
type GroupSpec struct {
	ID           string
	Dependencies []string
}

// RootState is the whole app/group tree at one version. Group membership
// follows from the ids: /prod/web belongs to /prod and to /.
type RootState struct {
	Apps   []AppSpec
	Groups []GroupSpec
}

// App returns the app with the given id.
func (r RootState) App(id string) (AppSpec, bool) {
	for _, a := range r.Apps {
		if a.ID == id {
			return a, true
		}
	}
	return AppSpec{}, false
}

// Group returns the group with the given id.
func (r RootState) Group(id string) (GroupSpec, bool) {
	for _, g := range r.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return GroupSpec{}, false
}

// InstanceState is an instance's condition as the deployment core
// distinguishes it; terminal instances are simply absent from the input.
type InstanceState string

const (
	// Scheduled instances wait in the launch queue for an offer.
	Scheduled InstanceState = "scheduled"
	// Staged instances were launched and the agent is fetching/starting them.
	Staged InstanceState = "staged"
	// Starting instances have a process that is not yet reported running.
	Starting InstanceState = "starting"
	// Running instances run (healthy or not, see Instance.Healthy).
	Running InstanceState = "running"
	// Unreachable instances sit on an agent the master lost touch with.
	Unreachable InstanceState = "unreachable"
)

// Instance is one instance of an app as the daemon's tracker sees it.
// Killing is Marathon's goal "decommissioned": a kill was sent and the
// instance still exists until its terminal status arrives.
type Instance struct {
	ID               string
	Version          time.Time // the config version it was launched with
	State            InstanceState
	Healthy          bool // meaningful when the app has health checks
	Ready            bool // meaningful when the app has readiness checks
	Killing          bool
	StartedAt        time.Time // running since (staged since for staged ones); orders kills
	UnreachableSince time.Time // when it became unreachable (zero for an unreachable one means since ever)
	Agent            string
}

// inactive reports whether an unreachable instance has been gone long enough
// that it no longer counts as one of the app's instances.
func inactive(i Instance, s UnreachableStrategy, now time.Time) bool {
	if i.State != Unreachable || s.Disabled {
		return false
	}
	since := i.UnreachableSince
	return !now.Before(since.Add(time.Duration(s.InactiveAfterSeconds) * time.Second))
}

// eps absorbs binary floating point error in products like 10 × 0.7, which
// is 7.000000000000001 and would otherwise round up to 8.
const eps = 1e-9

// MinHealthy is ⌈instances × minimumHealthCapacity⌉, the healthy floor of a
// rolling restart.
func MinHealthy(instances int, s UpgradeStrategy) int {
	return int(math.Ceil(float64(instances)*s.MinimumHealthCapacity - eps))
}

// MaxCapacity is ⌊instances × (1 + maximumOverCapacity)⌋, the ceiling on
// old plus new instances during a rolling restart (before Marathon's
// one-instance allowance, see Drive).
func MaxCapacity(instances int, s UpgradeStrategy) int {
	return int(math.Floor(float64(instances)*(1+s.MaximumOverCapacity) + eps))
}

// parentGroup returns the group that holds the app or group id ("/" for
// top-level ids).
func parentGroup(id string) string {
	i := strings.LastIndex(id, "/")
	if i <= 0 {
		return "/"
	}
	return id[:i]
}

// resolveID makes a dependency id absolute against base, understanding "."
// and ".." the way Marathon's PathId.canonicalPath does.
func resolveID(base, id string) string {
	if strings.HasPrefix(id, "/") {
		return cleanPath(id)
	}
	return cleanPath(strings.TrimSuffix(base, "/") + "/" + id)
}

func cleanPath(p string) string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/")
}

// inGroup reports whether id lies inside group g (at any depth).
func inGroup(id, g string) bool {
	if g == "/" {
		return true
	}
	return strings.HasPrefix(id, g+"/")
}

// Validate checks what the core relies on: unique absolute app ids and
// non-negative instance counts. The app model validates everything else.
func (r RootState) Validate() error {
	seen := map[string]bool{}
	for i, a := range r.Apps {
		if !strings.HasPrefix(a.ID, "/") {
			return fmt.Errorf("apps[%d].id %q: must be an absolute path", i, a.ID)
		}
		if seen[a.ID] {
			return fmt.Errorf("apps[%d].id %q: duplicate app id", i, a.ID)
		}
		seen[a.ID] = true
		if a.Instances < 0 {
			return fmt.Errorf("app %s: instances %d must not be negative", a.ID, a.Instances)
		}
	}
	return nil
}
