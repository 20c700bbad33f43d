package table

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/client"
)

// Views of Marathon's API answers (strata apps, deployments, queue).

// parseTime reads Marathon's and Chronos' timestamps (ISO 8601 with
// milliseconds); the zero time when there is none.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// AppStatus is an app's state as Marathon's UI names it: Deploying while
// a deployment changes it, Suspended at 0 instances, Running when every
// instance runs (and is healthy, with health checks), else Waiting.
func AppStatus(a *client.MarathonApp) string {
	switch {
	case len(a.Deployments) > 0:
		return "deploying"
	case a.Instances == 0:
		return "suspended"
	case a.TasksRunning >= a.Instances && (len(a.HealthChecks) == 0 || a.TasksHealthy >= a.Instances):
		return "running"
	}
	return "waiting"
}

func appTone(status string) Tone {
	switch status {
	case "running":
		return ToneGood
	case "deploying", "waiting":
		return ToneWarn
	case "suspended":
		return ToneDim
	}
	return ToneNone
}

// appHealth is "healthy/instances", or "-" without health checks.
func appHealth(a *client.MarathonApp) string {
	if len(a.HealthChecks) == 0 {
		return "-"
	}
	h := fmt.Sprintf("%d/%d", a.TasksHealthy, a.Instances)
	if a.TasksUnhealthy > 0 {
		h += fmt.Sprintf(" (%d unhealthy)", a.TasksUnhealthy)
	}
	return h
}

// appCommand is the app's cmd, or its args joined.
func appCommand(a *client.MarathonApp) string {
	if a.Cmd != "" {
		return a.Cmd
	}
	return strings.Join(a.Args, " ")
}

// Apps lists Marathon apps.
func Apps(apps []client.MarathonApp, now time.Time) *Table {
	t := &Table{Columns: []Column{
		{Header: "ID"}, {Header: "STATUS"}, {Header: "RUNNING", Right: true}, {Header: "HEALTHY", Right: true},
		{Header: "CPUS", Right: true}, {Header: "MEM", Right: true}, {Header: "DEPLOYMENTS", Wide: true},
		{Header: "VERSION", Wide: true}, {Header: "CMD", Wide: true}, {Header: "AGE", Right: true},
	}, Tones: map[int]Tone{}}
	apps = slices.Clone(apps)
	slices.SortFunc(apps, func(x, y client.MarathonApp) int { return strings.Compare(x.ID, y.ID) })
	for i := range apps {
		a := &apps[i]
		st := AppStatus(a)
		var deps []string
		for _, d := range a.Deployments {
			deps = append(deps, d.ID)
		}
		t.Rows = append(t.Rows, []string{
			a.ID, st, fmt.Sprintf("%d/%d", a.TasksRunning, a.Instances), appHealth(a),
			Number(a.Cpus), SizeMB(a.Mem), orDash(strings.Join(deps, ",")), a.Version, appCommand(a),
			Age(appChanged(a), now),
		})
		if tone := appTone(st); tone != ToneNone {
			t.Tones[len(t.Rows)-1] = tone
		}
	}
	return t
}

// appChanged is when the app's configuration last changed.
func appChanged(a *client.MarathonApp) time.Time {
	if a.VersionInfo != nil {
		if t := parseTime(a.VersionInfo.LastConfigChangeAt); !t.IsZero() {
			return t
		}
	}
	return parseTime(a.Version)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// FindApp returns the app with id ("/" optional), or the one whose id
// ends with "/"+id when that is unambiguous; nil when none.
func FindApp(apps []client.MarathonApp, id string) *client.MarathonApp {
	want := "/" + strings.Trim(id, "/")
	var match *client.MarathonApp
	for i := range apps {
		if apps[i].ID == want {
			return &apps[i]
		}
		if strings.HasSuffix(apps[i].ID, want) {
			if match != nil {
				return nil
			}
			match = &apps[i]
		}
	}
	return match
}

// AppShow describes one app.
func AppShow(a *client.MarathonApp, now time.Time) *KV {
	kv := &KV{}
	kv.Add("ID", a.ID)
	kv.Add("Status", AppStatus(a))
	kv.Add("Command", appCommand(a))
	kv.Add("Instances", fmt.Sprintf("%d (running %d, staged %d)", a.Instances, a.TasksRunning, a.TasksStaged))
	kv.Add("Health", appHealth(a))
	kv.Add("Resources", fmt.Sprintf("cpus %s, mem %s, disk %s", Number(a.Cpus), SizeMB(a.Mem), SizeMB(a.Disk)))
	kv.Add("User", a.User)
	kv.Add("Role", a.Role)
	var cons []string
	for _, c := range a.Constraints {
		cons = append(cons, strings.Join(c, ":"))
	}
	kv.Add("Constraints", strings.Join(cons, ", "))
	kv.Add("Labels", labels(a.Labels))
	kv.Add("Health checks", strconv.Itoa(len(a.HealthChecks)))
	kv.Add("Version", a.Version)
	if ch := appChanged(a); !ch.IsZero() {
		kv.Add("Config changed", Age(ch, now)+" ago")
	}
	var deps []string
	for _, d := range a.Deployments {
		deps = append(deps, d.ID)
	}
	kv.Add("Deployments", strings.Join(deps, ", "))
	if f := a.LastTaskFailure; f != nil {
		line := f.State + " " + f.TaskID
		if ts := parseTime(f.Timestamp); !ts.IsZero() {
			line += " " + Age(ts, now) + " ago"
		}
		if f.Message != "" {
			line += ": " + f.Message
		}
		kv.Add("Last failure", line)
	}
	return kv
}

func labels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}

// AppTasks lists Marathon tasks (an app's, or all of them).
func AppTasks(tasks []client.MarathonTask, now time.Time) *Table {
	t := &Table{Columns: []Column{
		{Header: "TASK"}, {Header: "STATE"}, {Header: "HEALTH"}, {Header: "HOST"}, {Header: "PORTS", Wide: true},
		{Header: "AGENT", Wide: true}, {Header: "VERSION", Wide: true}, {Header: "AGE", Right: true},
	}, Tones: map[int]Tone{}}
	tasks = slices.Clone(tasks)
	slices.SortFunc(tasks, func(x, y client.MarathonTask) int { return strings.Compare(x.ID, y.ID) })
	for _, tk := range tasks {
		health := "-"
		if len(tk.HealthCheckResults) > 0 {
			health = "healthy"
			for _, r := range tk.HealthCheckResults {
				if !r.Alive {
					health = "unhealthy"
				}
			}
		}
		var ports []string
		for _, p := range tk.Ports {
			ports = append(ports, strconv.Itoa(p))
		}
		agent := tk.AgentID
		if agent == "" {
			agent = tk.SlaveID
		}
		started := parseTime(tk.StartedAt)
		if started.IsZero() {
			started = parseTime(tk.StagedAt)
		}
		state := strings.ToLower(strings.TrimPrefix(tk.State, "TASK_"))
		t.Rows = append(t.Rows, []string{tk.ID, state, health, tk.Host, orDash(strings.Join(ports, ",")), agent,
			tk.Version, Age(started, now)})
		switch {
		case health == "unhealthy" || state == "failed" || state == "lost" || state == "error":
			t.Tones[len(t.Rows)-1] = ToneBad
		case state != "running":
			t.Tones[len(t.Rows)-1] = ToneWarn
		}
	}
	return t
}

// Deployments lists running deployments with their progress.
func Deployments(deps []client.MarathonDeployment, now time.Time) *Table {
	t := &Table{Columns: []Column{
		{Header: "ID"}, {Header: "APPS"}, {Header: "STEP", Right: true}, {Header: "CURRENT ACTIONS"},
		{Header: "VERSION", Wide: true}, {Header: "AGE", Right: true},
	}}
	deps = slices.Clone(deps)
	slices.SortFunc(deps, func(x, y client.MarathonDeployment) int { return strings.Compare(x.Version+x.ID, y.Version+y.ID) })
	for _, d := range deps {
		t.Rows = append(t.Rows, []string{d.ID, strings.Join(d.AffectedApps, ","),
			fmt.Sprintf("%d/%d", d.CurrentStep, d.TotalSteps), actions(d.CurrentActions), d.Version,
			Age(parseTime(d.Version), now)})
	}
	return t
}

func actions(as []client.MarathonAction) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, a.Action+" "+a.App)
	}
	return orDash(strings.Join(parts, ", "))
}

// DeploymentProgress is one line showing how far a deployment is: a bar
// of its steps, the step counts and the current actions.
func DeploymentProgress(d client.MarathonDeployment, width int) string {
	if width < 4 {
		width = 4
	}
	total := max(d.TotalSteps, 1)
	done := min(max(d.CurrentStep-1, 0), total)
	fill := width * done / total
	bar := strings.Repeat("#", fill) + strings.Repeat(".", width-fill)
	return fmt.Sprintf("[%s] step %d/%d  %s", bar, d.CurrentStep, d.TotalSteps, actions(d.CurrentActions))
}

// Queue lists the apps whose instances wait for offers and why: the
// funnel step that declined most of the last offers.
func Queue(items []client.MarathonQueueItem, now time.Time) *Table {
	t := &Table{Columns: []Column{
		{Header: "APP"}, {Header: "WAITING", Right: true}, {Header: "DELAY"}, {Header: "OFFERS", Right: true},
		{Header: "WHY"}, {Header: "REJECTIONS", Wide: true}, {Header: "SINCE", Right: true},
	}, Tones: map[int]Tone{}}
	items = slices.Clone(items)
	slices.SortFunc(items, func(x, y client.MarathonQueueItem) int { return strings.Compare(x.App.ID, y.App.ID) })
	for _, q := range items {
		delay := "-"
		if !q.Delay.Overdue && q.Delay.TimeLeftSeconds > 0 {
			delay = "backoff " + Duration(time.Duration(q.Delay.TimeLeftSeconds)*time.Second)
		}
		s := q.ProcessedOffersSummary
		why, all := WhyWaiting(s.RejectSummaryLastOffers)
		if why == "" {
			why, all = WhyWaiting(s.RejectSummaryLaunchAttempt)
		}
		if why == "" {
			why = "no offer yet"
			if delay != "-" {
				why = "waiting for backoff"
			}
		}
		t.Rows = append(t.Rows, []string{q.App.ID, strconv.Itoa(q.Count), delay,
			fmt.Sprintf("%d/%d unused", s.UnusedOffersCount, s.ProcessedOffersCount), why, orDash(all),
			Age(parseTime(q.Since), now)})
		t.Tones[len(t.Rows)-1] = ToneWarn
	}
	return t
}

// WhyWaiting reads Marathon's offer funnel: the reason that declined the
// most offers ("InsufficientMemory (3 of 4 offers)"), and every reason
// that declined any ("InsufficientMemory 3, UnfulfilledConstraint 1").
func WhyWaiting(steps []client.MarathonRejection) (top, all string) {
	best := -1
	var parts []string
	for i, s := range steps {
		if s.Declined == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d", s.Reason, s.Declined))
		if best < 0 || s.Declined > steps[best].Declined {
			best = i
		}
	}
	if best < 0 {
		return "", ""
	}
	b := steps[best]
	return fmt.Sprintf("%s (%d of %d offers)", b.Reason, b.Declined, b.Processed), strings.Join(parts, ", ")
}

// Versions lists an app's stored versions, marking the current one.
func Versions(versions []string, current string, now time.Time) *Table {
	t := &Table{Columns: []Column{{Header: "VERSION"}, {Header: "CURRENT"}, {Header: "AGE", Right: true}}}
	for _, v := range versions {
		cur := ""
		if v == current {
			cur = "*"
		}
		t.Rows = append(t.Rows, []string{v, cur, Age(parseTime(v), now)})
	}
	return t
}
