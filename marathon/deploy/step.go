package deploy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// StepInput is everything the step driver needs for one decision about one
// action: the action, the app's target spec, the app's instances as the
// tracker sees them now (terminal ones left out), and the time.
type StepInput struct {
	Action    Action
	App       AppSpec
	Instances []Instance
	Now       time.Time
}

// Decision is what to do next for one action. The caller queues Launch new
// instances of App.Version (recording them as Scheduled before asking
// again), sends kills for Kill and marks those instances Killing. Done means
// the action reached its target; Waiting says in words what it waits for,
// so a deployment is never stuck silently.
type Decision struct {
	Launch  int
	Kill    []string
	Done    bool
	Waiting string
}

// Drive computes the next decision for an action. It is stateless: it
// derives everything from the observed instances, so a new leader resumes a
// half-done deployment by calling it with what it finds.
func Drive(in StepInput) Decision {
	var live []Instance
	for _, i := range in.Instances {
		if !inactive(i, in.App.Unreachable, in.Now) {
			live = append(live, i)
		}
	}
	switch in.Action.Action {
	case StartApplication:
		return Decision{Done: true}
	case StopApplication:
		return driveStop(in.Instances)
	case ScaleApplication:
		return driveScale(in.App, live, in.Action.Kill)
	case RestartApplication:
		if in.App.Instances == 0 {
			return driveScale(in.App, live, nil)
		}
		return driveRestart(in.App, live)
	}
	return Decision{Waiting: fmt.Sprintf("unknown action %q", in.Action.Action)}
}

// Available reports whether an instance counts as serving: running, not
// being killed, healthy if the app has health checks, and — for instances of
// the app's current config version — ready if it has readiness checks
// (Ready means the check passed at least once). This is what the rolling
// restart's healthy floor counts.
func Available(i Instance, app AppSpec) bool {
	if i.Killing || i.State != Running {
		return false
	}
	if app.HasHealthChecks && !i.Healthy {
		return false
	}
	if app.HasReadinessChecks && i.Version.Equal(app.Version) && !i.Ready {
		return false
	}
	return true
}

// killRank orders kill candidates as Marathon's ScalingProposition does,
// worst first — not yet launched, unreachable, staging, starting — and,
// doing better than Marathon, running-but-unhealthy before healthy ones.
func killRank(i Instance, app AppSpec) int {
	switch i.State {
	case Scheduled:
		return 0
	case Unreachable:
		return 1
	case Staged:
		return 2
	case Starting:
		return 3
	}
	if !Available(i, app) {
		return 4
	}
	return 5
}

// KillOrder sorts instances in the order they should be killed: by
// condition (see killRank), then by the app's killSelection on StartedAt
// (an instance without a start time counts as youngest), then by id so the
// order is total.
func KillOrder(list []Instance, app AppSpec) {
	sel := app.KillSelection
	if sel == "" {
		sel = YoungestFirst
	}
	sort.SliceStable(list, func(a, b int) bool {
		x, y := list[a], list[b]
		if rx, ry := killRank(x, app), killRank(y, app); rx != ry {
			return rx < ry
		}
		if !x.StartedAt.Equal(y.StartedAt) {
			switch {
			case x.StartedAt.IsZero():
				return true
			case y.StartedAt.IsZero():
				return false
			case sel == OldestFirst:
				return x.StartedAt.Before(y.StartedAt)
			default:
				return x.StartedAt.After(y.StartedAt)
			}
		}
		return x.ID < y.ID
	})
}

func driveStop(all []Instance) Decision {
	var d Decision
	left := 0
	for _, i := range all {
		if !i.Killing {
			d.Kill = append(d.Kill, i.ID)
		}
		if i.State != Unreachable {
			left++
		}
	}
	// Unreachable instances cannot confirm their death; the daemon expunges
	// those of a removed app, so they do not hold the step.
	if left == 0 {
		d.Done = true
		return d
	}
	d.Waiting = fmt.Sprintf("waiting for %d instances to be killed", left)
	return d
}

func driveScale(app AppSpec, live []Instance, sentenced []string) Decision {
	var d Decision
	n := app.Instances
	var active []Instance
	killingLeft := 0
	for _, i := range live {
		switch {
		case i.Killing:
			killingLeft++
		case slices.Contains(sentenced, i.ID):
			d.Kill = append(d.Kill, i.ID)
			killingLeft++
		default:
			active = append(active, i)
		}
	}
	switch {
	case len(active) > n:
		KillOrder(active, app)
		for _, i := range active[:len(active)-n] {
			d.Kill = append(d.Kill, i.ID)
		}
		killingLeft += len(active) - n
		active = active[len(active)-n:]
	case len(active) < n:
		d.Launch = n - len(active)
	}
	avail := 0
	for _, i := range active {
		if Available(i, app) {
			avail++
		}
	}
	if d.Launch == 0 && killingLeft == 0 && avail == n {
		d.Done = true
		return d
	}
	var why []string
	if d.Launch > 0 || avail+d.Launch < n {
		why = append(why, fmt.Sprintf("%d of %d instances %s", avail, n, availableWord(app)))
	}
	if killingLeft > 0 {
		why = append(why, fmt.Sprintf("%d instances being killed", killingLeft))
	}
	d.Waiting = "waiting: " + strings.Join(why, ", ")
	return d
}

func availableWord(app AppSpec) string {
	switch {
	case app.HasHealthChecks && app.HasReadinessChecks:
		return "healthy and ready"
	case app.HasHealthChecks:
		return "healthy"
	case app.HasReadinessChecks:
		return "running and ready"
	}
	return "running"
}

// RestartBounds returns the healthy floor and the total ceiling of a rolling
// restart of n instances. The ceiling includes Marathon's allowance: when
// the floor equals ⌊n × (1 + maximumOverCapacity)⌋ (e.g. the 1/0 strategy)
// nothing could be replaced, so one instance of over-capacity is allowed
// and instances are replaced one at a time.
func RestartBounds(n int, s UpgradeStrategy) (minHealthy, maxTotal int) {
	minHealthy = MinHealthy(n, s)
	maxTotal = MaxCapacity(n, s)
	if minHealthy >= maxTotal {
		maxTotal = minHealthy + 1
	}
	return minHealthy, maxTotal
}

// driveRestart is Marathon's TaskReplaceActor as a function of the observed
// instances: kill old instances as long as ⌈n × minimumHealthCapacity⌉
// available ones remain (old ones that are not available cost nothing and
// go first), and launch new ones as long as old plus new (including those
// still being killed) stay within the capacity ceiling. Each new instance
// that becomes available lifts the count above the floor and so frees one
// old instance to be killed, which in turn frees room for the next launch.
func driveRestart(app AppSpec, live []Instance) Decision {
	var d Decision
	n := app.Instances
	minHealthy := MinHealthy(n, app.UpgradeStrategy)
	maxTotal := MaxCapacity(n, app.UpgradeStrategy)
	healthy := 0
	var oldActive, newActive []Instance
	oldLeft, newKilling := 0, 0
	for _, i := range live {
		if Available(i, app) {
			healthy++
		}
		isNew := i.Version.Equal(app.Version)
		switch {
		case !isNew:
			oldLeft++
			if !i.Killing {
				oldActive = append(oldActive, i)
			}
		case i.Killing:
			newKilling++
		default:
			newActive = append(newActive, i)
		}
	}
	// Marathon grants one instance of over-capacity when the floor equals
	// the ceiling and is met, else nothing could ever be replaced.
	if minHealthy == maxTotal && maxTotal <= healthy {
		maxTotal++
	}
	maxTotal = max(maxTotal, 1)

	// kill takes an instance away; it is always safe when it is not
	// available, and only within the budget above the floor when it is.
	kill := func(i Instance) bool {
		if Available(i, app) {
			if healthy-1 < minHealthy {
				return false
			}
			healthy--
		}
		d.Kill = append(d.Kill, i.ID)
		return true
	}
	// Extra new instances (left by an earlier, forced deployment) go first.
	if len(newActive) > n {
		KillOrder(newActive, app)
		extra := len(newActive) - n
		kept := newActive[:0:0]
		for _, i := range newActive {
			if extra > 0 && kill(i) {
				extra--
				newKilling++
				continue
			}
			kept = append(kept, i)
		}
		newActive = kept
	}
	KillOrder(oldActive, app)
	for _, i := range oldActive {
		if !kill(i) {
			break
		}
	}

	total := oldLeft + len(newActive) + newKilling
	if notStarted := n - len(newActive); notStarted > 0 {
		d.Launch = max(0, min(notStarted, maxTotal-total))
	}

	newAvail := 0
	for _, i := range newActive {
		if Available(i, app) {
			newAvail++
		}
	}
	if oldLeft == 0 && newKilling == 0 && len(newActive) == n && newAvail == n {
		d.Done = true
		return d
	}
	why := fmt.Sprintf("waiting: %d of %d new instances %s, %d old instances left",
		newAvail, n, availableWord(app), oldLeft)
	if d.Launch == 0 && len(d.Kill) == 0 && len(newActive) < n && oldLeft > 0 {
		why += fmt.Sprintf(" (at capacity %d, keeping %d healthy)", maxTotal, minHealthy)
	}
	d.Waiting = why
	return d
}
