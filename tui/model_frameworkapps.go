package tui

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// The Apps and Jobs views belong to marathon and chronos. The dashboard
// finds a framework's API the way Mesos' web UI does — its FrameworkInfo
// webui_url — and reads it through that framework's client
// (frameworks_live.go). A source keeps the framework's latest state as an
// immutable snapshot with a version; the views rebuild their rows when
// the cluster's or the source's version moves, so a source drives the
// screen without the model knowing how it learnt of a change (marathon's
// event stream, chronos' polling).

// FrameworkStatus is how a source's connection stands, for the view's
// status line.
type FrameworkStatus struct {
	// Where is the API as shown ("http://127.0.0.1:8080"); empty while
	// it is still being looked for.
	Where string
	// Live says the source is following the framework (event stream
	// open, or the last poll answered).
	Live bool
	// Note is what the source says about itself ("event stream
	// reconnected after 3s", "polling every 2s").
	Note string
	Err  error
}

// AppsSnapshot is what marathon answered last.
type AppsSnapshot struct {
	Version     uint64 // moves on every change; 0: nothing read yet
	At          time.Time
	Status      FrameworkStatus
	Apps        []client.MarathonApp
	Raw         map[string]json.RawMessage // app id → the app's own JSON
	Deployments []client.MarathonDeployment
	Queue       []client.MarathonQueueItem
}

// AppsSource is marathon as the Apps view sees it: the latest snapshot
// and the actions. Actions return once marathon accepted them; the source
// re-reads by itself afterwards.
type AppsSource interface {
	Apps() *AppsSnapshot
	Scale(ctx context.Context, id string, instances int) error
	Restart(ctx context.Context, id string) error
	Destroy(ctx context.Context, id string) error
	Deploy(ctx context.Context, definition []byte) error
	// KillTask kills one marathon task (marathon starts a replacement).
	KillTask(ctx context.Context, t *mesos.Task) error
}

// JobsSnapshot is what chronos answered last.
type JobsSnapshot struct {
	Version uint64
	At      time.Time
	Status  FrameworkStatus
	Jobs    []client.ChronosJob
	Raw     map[string]json.RawMessage // job name → the job's own JSON
	States  map[string]string          // job name → idle, queued, running
	History map[string][]client.ChronosRun
}

// JobsSource is chronos as the Jobs view sees it.
type JobsSource interface {
	Jobs() *JobsSnapshot
	RunJob(ctx context.Context, name string) error
	SetDisabled(ctx context.Context, name string, disabled bool) error
	DeleteJob(ctx context.Context, name string) error
	PutJob(ctx context.Context, definition []byte) error
	// KillTask kills a chronos task (chronos kills by job).
	KillTask(ctx context.Context, t *mesos.Task) error
}

// frameworkWebUI finds a registered framework by name and its web UI URL.
func frameworkWebUI(c *Cluster, name string) (*mesos.Framework, string) {
	var found *mesos.Framework
	for _, f := range c.Frameworks {
		if f.FrameworkInfo == nil || !strings.EqualFold(f.FrameworkInfo.Name, name) {
			continue
		}
		if f.FrameworkInfo.WebUIURL != "" {
			return f, f.FrameworkInfo.WebUIURL
		}
		found = f
	}
	return found, ""
}

// frameworkMissing explains an empty Apps or Jobs view when no source
// is configured: what the master says about the framework.
func frameworkMissing(m *Model, name string, w int) []string {
	f, url := frameworkWebUI(m.cluster, name)
	var msg []string
	switch {
	case url == "" && f != nil:
		msg = []string{name + " is registered (" + string(f.FrameworkInfo.ID) + ") but gives no webui_url,",
			"so its API cannot be found through the master."}
	case url == "":
		msg = []string{name + " not found through the master (no framework webui_url)"}
	default:
		msg = []string{name + " is at " + url + ";", "this dashboard was started without a " + name + " client."}
	}
	lines := []string{""}
	for _, l := range msg {
		lines = append(lines, m.styles.Tone(ToneDim, fit("  "+l, w)))
	}
	return lines
}

// statusLine is a source's connection as one line.
func statusLine(m *Model, name string, st FrameworkStatus, at time.Time, w int) string {
	switch {
	case st.Where == "" && st.Err != nil:
		return m.styles.Tone(ToneBad, fit(name+": "+client.Explain(st.Err).Error(), w))
	case st.Where == "":
		return m.styles.Tone(ToneDim, fit(name+": looking for its API through the master…", w))
	case !st.Live:
		s := name + " at " + st.Where + ": reconnecting"
		if st.Err != nil {
			s += " (" + client.Explain(st.Err).Error() + ")"
		}
		return m.styles.Tone(ToneWarn, fit(s, w))
	}
	s := name + " at " + st.Where + " · live"
	if st.Note != "" {
		s += " · " + st.Note
	}
	if !at.IsZero() {
		s += " · read " + age(at, m.now()) + " ago"
	}
	return m.styles.Tone(ToneDim, fit(s, w))
}

// frameworkVersion is the version of the source behind view v (0 for
// views drawn from the cluster alone), added to the cluster's so the
// rows are rebuilt when either moves.
func (m *Model) frameworkVersion(v *viewSpec) uint64 {
	switch v.name {
	case "apps":
		if m.apps != nil {
			if s := m.apps.Apps(); s != nil {
				return s.Version
			}
		}
	case "jobs":
		if m.jobs != nil {
			if s := m.jobs.Jobs(); s != nil {
				return s.Version
			}
		}
	}
	return 0
}

// viewRows builds view v's rows: from the cluster, or for Apps and Jobs
// from their source's snapshot.
func (m *Model) viewRows(v *viewSpec, now time.Time) ([]row, uint64) {
	version := m.cluster.Version + m.frameworkVersion(v)
	switch v.name {
	case "apps":
		var s *AppsSnapshot
		if m.apps != nil {
			s = m.apps.Apps()
		}
		return buildApps(s, now), version
	case "jobs":
		var s *JobsSnapshot
		if m.jobs != nil {
			s = m.jobs.Jobs()
		}
		return buildJobs(s, now), version
	}
	return v.build(m.cluster, now), version
}
