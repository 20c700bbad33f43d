package deploy

import (
	"sort"
	"time"
)

// UnreachableDecision says what to do about an app's unreachable and
// returned instances.
type UnreachableDecision struct {
	// Inactive instances were unreachable for inactiveAfterSeconds: they no
	// longer count as instances of the app, so Drive and the daemon's scale
	// check launch replacements for them.
	Inactive []string
	// Expunge instances were unreachable for expungeAfterSeconds: forget them
	// (and kill them should they ever come back).
	Expunge []string
	// Kill instances are surplus: more instances are active than the app
	// wants, typically because an instance came back after its replacement
	// was launched. Chosen by killSelection.
	Kill []string
	// Launch is how many instances are missing once inactive ones stopped
	// counting.
	Launch int
}

// IsInactive reports whether an instance no longer counts as one of the
// app's instances because it has been unreachable for inactiveAfterSeconds.
func IsInactive(i Instance, app AppSpec, now time.Time) bool {
	return inactive(i, app.Unreachable, now)
}

// DecideUnreachable applies the app's unreachableStrategy at now. The
// daemon calls it for apps without a running deployment (a deployment's own
// Drive decisions cover the rest, and over-capacity is expected then).
func DecideUnreachable(app AppSpec, instances []Instance, now time.Time) UnreachableDecision {
	var d UnreachableDecision
	s := app.Unreachable
	var active []Instance
	for _, i := range instances {
		if inactive(i, s, now) {
			d.Inactive = append(d.Inactive, i.ID)
			if !now.Before(i.UnreachableSince.Add(time.Duration(s.ExpungeAfterSeconds) * time.Second)) {
				d.Expunge = append(d.Expunge, i.ID)
			}
			continue
		}
		if !i.Killing {
			active = append(active, i)
		}
	}
	sort.Strings(d.Inactive)
	sort.Strings(d.Expunge)
	switch {
	case len(active) > app.Instances:
		KillOrder(active, app)
		for _, i := range active[:len(active)-app.Instances] {
			d.Kill = append(d.Kill, i.ID)
		}
	case len(active) < app.Instances:
		d.Launch = app.Instances - len(active)
	}
	return d
}
