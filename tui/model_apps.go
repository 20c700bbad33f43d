package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-dc/strata/master/client"
)

// The Apps view: marathon's apps with their instances (running and
// staged against wanted, as a bar), health, the deployment touching each
// (current step of total), and why instances wait (/v2/queue's top offer
// rejection reasons). The panel below lists deployments with progress
// bars and the queue of the app under the cursor.

func appsView() *viewSpec {
	return &viewSpec{
		name: "apps", title: "Apps", defaultSort: 0,
		cols: []column{
			{Title: "APP", Width: 12, Flex: 2},
			{Title: "INSTANCES", Width: 14, Flex: 1, Bar: true},
			{Title: "HEALTHY", Width: 7, Right: true},
			{Title: "STAGED", Width: 6, Right: true, Drop: 2},
			{Title: "CPUS", Width: 5, Right: true, Drop: 3},
			{Title: "MEM", Width: 6, Right: true, Drop: 3},
			{Title: "DEPLOYMENT", Width: 12, Flex: 1, Drop: 1},
			{Title: "WAITING", Width: 14, Flex: 2, Drop: 1},
		},
		// Rows come from the marathon source (viewRows), not the
		// cluster; build stays for the views' common machinery.
		build: func(*Cluster, time.Time) []row { return nil },
		draw:  drawAppsPanel,
	}
}

// appRow is one app and what marathon says around it.
type appRow struct {
	App        client.MarathonApp
	Raw        json.RawMessage
	Deployment *client.MarathonDeployment
	Queue      *client.MarathonQueueItem
}

func buildApps(s *AppsSnapshot, _ time.Time) []row {
	if s == nil {
		return nil
	}
	deps := map[string]*client.MarathonDeployment{}
	for i := range s.Deployments {
		for _, a := range s.Deployments[i].AffectedApps {
			deps[a] = &s.Deployments[i]
		}
	}
	queue := map[string]*client.MarathonQueueItem{}
	for i := range s.Queue {
		queue[s.Queue[i].App.ID] = &s.Queue[i]
	}
	rows := make([]row, 0, len(s.Apps))
	for i := range s.Apps {
		a := s.Apps[i]
		r := &appRow{App: a, Raw: s.Raw[a.ID], Deployment: deps[a.ID], Queue: queue[a.ID]}
		want := float64(max(a.Instances, 1))
		inst := barCell(fmt.Sprintf("%d/%d", a.TasksRunning, a.Instances), float64(a.TasksRunning)/want, float64(a.TasksStaged)/want)
		if a.Instances == 0 && a.TasksRunning == 0 {
			inst = barCell("suspended", 0, 0)
		}
		healthy := number(itoa(a.TasksHealthy), float64(a.TasksHealthy))
		if len(a.HealthChecks) == 0 {
			healthy = txt("-")
		} else if a.TasksUnhealthy > 0 {
			healthy.tone = ToneBad
		}
		dep := txt("-")
		if d := r.Deployment; d != nil {
			dep = toned(deploymentLine(d), ToneWarn)
		}
		wait := txt("-")
		if q := r.Queue; q != nil {
			wait = toned(waitingLine(q), ToneWarn)
		}
		rows = append(rows, row{
			id: a.ID,
			cells: []cell{txt(a.ID), inst, healthy, number(itoa(a.TasksStaged), float64(a.TasksStaged)),
				number(num(a.Cpus), a.Cpus), number(num(a.Mem), a.Mem), dep, wait},
			obj:  r,
			live: a.Instances > 0,
		})
	}
	return rows
}

// deploymentLine is a deployment's current actions and step.
func deploymentLine(d *client.MarathonDeployment) string {
	var acts []string
	for _, a := range d.CurrentActions {
		acts = append(acts, strings.ToLower(strings.TrimSuffix(a.Action, "Application")))
	}
	slices.Sort(acts)
	acts = slices.Compact(acts)
	return fmt.Sprintf("%s %d/%d", orDash(strings.Join(acts, ",")), d.CurrentStep, d.TotalSteps)
}

// waitingLine says how many instances wait and the top rejection reason.
func waitingLine(q *client.MarathonQueueItem) string {
	s := fmt.Sprintf("%d waiting", q.Count)
	if q.Delay.TimeLeftSeconds > 0 {
		s += fmt.Sprintf(", delayed %ds", q.Delay.TimeLeftSeconds)
	}
	if r := topRejections(q, 1); len(r) > 0 {
		s += ": " + r[0].Reason
	}
	return s
}

// topRejections are the reasons that declined most offers, most first.
func topRejections(q *client.MarathonQueueItem, n int) []client.MarathonRejection {
	var rs []client.MarathonRejection
	for _, r := range q.ProcessedOffersSummary.RejectSummaryLastOffers {
		if r.Declined > 0 {
			rs = append(rs, r)
		}
	}
	slices.SortStableFunc(rs, func(a, b client.MarathonRejection) int { return b.Declined - a.Declined })
	return rs[:min(n, len(rs))]
}

// drawAppsPanel: marathon's status, the deployments with progress bars,
// and why the selected app waits.
func drawAppsPanel(m *Model, w, h int) []string {
	if m.apps == nil {
		l := frameworkMissing(m, "marathon", w)
		return l[:min(h, len(l))]
	}
	s := m.apps.Apps()
	if s == nil {
		s = &AppsSnapshot{}
	}
	lines := []string{statusLine(m, "marathon", s.Status, s.At, w)}
	for i := range s.Deployments {
		d := &s.Deployments[i]
		frac := 0.0
		if d.TotalSteps > 0 {
			frac = float64(d.CurrentStep) / float64(d.TotalSteps)
		}
		label := fmt.Sprintf(" deployment %s  %s  %s", shortID(d.ID), strings.Join(d.AffectedApps, ","), deploymentLine(d))
		bw := min(20, max(4, w/5))
		lines = append(lines, fit(m.styles.BarTone(frac, bw, ToneInfo)+label, w))
	}
	if len(s.Deployments) == 0 {
		lines = append(lines, m.styles.Tone(ToneDim, fit("no deployments running", w)))
	}
	if r, ok := m.selectedObj().(*appRow); ok && r.Queue != nil {
		lines = append(lines, fit("why "+r.App.ID+" waits: "+waitingLine(r.Queue), w))
		for _, rj := range topRejections(r.Queue, 3) {
			lines = append(lines, m.styles.Tone(ToneWarn, fit(fmt.Sprintf("  %-28s declined %d of %d offers", rj.Reason, rj.Declined, rj.Processed), w)))
		}
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	return lines
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// describeApp: the app's own JSON, its deployment, queue entry and tasks.
func describeApp(r *appRow) *describeState {
	d := &describeState{title: "app " + r.App.ID}
	d.lines = append(d.lines, "related:")
	if r.Deployment != nil {
		d.lines = append(d.lines, "deployment: "+r.Deployment.ID+" "+deploymentLine(r.Deployment))
	}
	if r.Queue != nil {
		d.lines = append(d.lines, "queue:      "+waitingLine(r.Queue))
		for _, rj := range topRejections(r.Queue, 5) {
			d.lines = append(d.lines, fmt.Sprintf("  %-28s declined %d of %d", rj.Reason, rj.Declined, rj.Processed))
		}
	}
	d.lines = append(d.lines, fmt.Sprintf("tasks: %d", len(r.App.Tasks)))
	for _, t := range r.App.Tasks {
		d.lines = append(d.lines, fmt.Sprintf("  %-13s %s  %s  %s", strings.TrimPrefix(t.State, "TASK_"), t.ID, orDash(t.Host), orDash(t.StartedAt)))
	}
	d.lines = append(d.lines, "")
	d.lines = append(d.lines, jsonLines(r.Raw, r.App)...)
	return d
}

// jsonLines indents the API's own document (or the decoded value).
func jsonLines(raw json.RawMessage, v any) []string {
	if len(raw) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, raw, "", "  ") == nil {
			return strings.Split(buf.String(), "\n")
		}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []string{"cannot encode: " + err.Error()}
	}
	return strings.Split(string(b), "\n")
}

func (m *Model) describeFramework(obj any) *describeState {
	switch o := obj.(type) {
	case *appRow:
		return describeApp(o)
	case *jobRow:
		return m.describeJob(o)
	}
	return nil
}

// frameworkKey handles the Apps and Jobs actions; ok says the key was
// one of them.
func (m *Model) frameworkKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	k := m.keys
	view := m.views[m.active].name
	switch {
	case matches(msg, k.Scale):
		m.askScale()
	case matches(msg, k.Restart):
		m.askRestart()
	case matches(msg, k.Suspend):
		m.askSuspend()
	case matches(msg, k.Remove):
		if view == "jobs" {
			m.askDeleteJob()
		} else {
			m.askDestroy()
		}
	case matches(msg, k.Deploy):
		if view == "jobs" {
			m.askAddJob()
		} else if view == "apps" {
			m.askDeploy()
		} else {
			m.setNotice("deploy/add: go to the Apps or Jobs view", ToneDim)
		}
	case matches(msg, k.RunJob):
		m.askRunJob()
	case matches(msg, k.ToggleJob):
		m.askToggleJob()
	default:
		return nil, false
	}
	return nil, true
}

// selectedApp is the app under the cursor, with a notice when there is
// none or no marathon to act on.
func (m *Model) selectedApp(what string) (*appRow, bool) {
	r, ok := m.selectedObj().(*appRow)
	if !ok {
		m.setNotice(what+": select an app in the Apps view", ToneDim)
		return nil, false
	}
	if m.apps == nil {
		m.setNotice(what+": this dashboard has no marathon client", ToneBad)
		return nil, false
	}
	return r, true
}

func (m *Model) askScale() {
	r, ok := m.selectedApp("scale")
	if !ok {
		return
	}
	id, cur, src := r.App.ID, r.App.Instances, m.apps
	m.mode = modePrompt
	m.input.set(fmt.Sprintf("scale app %s (now %d instances) to: ", id, cur), "")
	m.prompt = &prompt{submit: func(text string) (*pendingAction, error) {
		n, err := strconv.Atoi(text)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("instances %q: want a whole number ≥ 0", text)
		}
		return &pendingAction{
			what: fmt.Sprintf("scale app %s from %d to %d instances (marathon deployment)", id, cur, n),
			run:  func(ctx context.Context, _ Backend) error { return src.Scale(ctx, id, n) },
		}, nil
	}}
}

func (m *Model) askRestart() {
	r, ok := m.selectedApp("restart")
	if !ok {
		return
	}
	id, src := r.App.ID, m.apps
	m.confirm = &pendingAction{
		what: fmt.Sprintf("restart app %s: replace its %d running task(s) with new ones (marathon deployment)", id, r.App.TasksRunning),
		run:  func(ctx context.Context, _ Backend) error { return src.Restart(ctx, id) },
	}
}

func (m *Model) askSuspend() {
	r, ok := m.selectedApp("suspend")
	if !ok {
		return
	}
	id, cur, src := r.App.ID, r.App.Instances, m.apps
	m.confirm = &pendingAction{
		what: fmt.Sprintf("suspend app %s: scale from %d to 0 instances, killing its %d task(s)", id, cur, r.App.TasksRunning+r.App.TasksStaged),
		run:  func(ctx context.Context, _ Backend) error { return src.Scale(ctx, id, 0) },
	}
}

func (m *Model) askDestroy() {
	r, ok := m.selectedApp("destroy")
	if !ok {
		return
	}
	id, src := r.App.ID, m.apps
	m.confirm = &pendingAction{
		what: fmt.Sprintf("destroy app %s: kill its %d task(s) and delete the app from marathon", id, r.App.TasksRunning+r.App.TasksStaged),
		run:  func(ctx context.Context, _ Backend) error { return src.Destroy(ctx, id) },
	}
}

func (m *Model) askDeploy() {
	if m.apps == nil {
		m.setNotice("deploy: this dashboard has no marathon client", ToneBad)
		return
	}
	src := m.apps
	m.mode = modePrompt
	m.input.set("deploy from a file, or: id cmd [instances] [cpus] [mem]: ", "")
	m.prompt = &prompt{submit: func(text string) (*pendingAction, error) {
		def, what, err := parseDeploy(text)
		if err != nil {
			return nil, err
		}
		return &pendingAction{
			what: what,
			run:  func(ctx context.Context, _ Backend) error { return src.Deploy(ctx, def) },
		}, nil
	}}
}

// parseDeploy reads the deploy prompt: a path to Marathon JSON (an app,
// an array of apps or a group), or the short form
// `id cmd [instances] [cpus] [mem]` (quote a cmd with spaces).
func parseDeploy(text string) ([]byte, string, error) {
	f, err := splitQuoted(text)
	if err != nil {
		return nil, "", err
	}
	if len(f) == 1 {
		b, err := os.ReadFile(f[0])
		if err != nil {
			return nil, "", fmt.Errorf("deploy: %w (or give: id cmd [instances] [cpus] [mem])", err)
		}
		return b, fmt.Sprintf("deploy %s from %s (%d bytes of Marathon JSON)", definitionIDs(b), f[0], len(b)), nil
	}
	if len(f) < 2 || len(f) > 5 {
		return nil, "", fmt.Errorf("deploy %q: want a file, or id cmd [instances] [cpus] [mem]", text)
	}
	app := client.MarathonApp{ID: "/" + strings.Trim(f[0], "/"), Cmd: f[1], Instances: 1, Cpus: 0.1, Mem: 32}
	nums := []struct {
		name string
		set  func(float64)
		int  bool
	}{
		{"instances", func(v float64) { app.Instances = int(v) }, true},
		{"cpus", func(v float64) { app.Cpus = v }, false},
		{"mem", func(v float64) { app.Mem = v }, false},
	}
	for i, s := range f[2:] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || (nums[i].int && v != float64(int(v))) {
			return nil, "", fmt.Errorf("deploy: %s %q: want a number ≥ 0", nums[i].name, s)
		}
		nums[i].set(v)
	}
	def := map[string]any{"id": app.ID, "cmd": app.Cmd, "instances": app.Instances, "cpus": app.Cpus, "mem": app.Mem}
	b, _ := json.Marshal(def)
	return b, fmt.Sprintf("deploy app %s: %d × (cpus %s, mem %s MB) running %q", app.ID, app.Instances, num(app.Cpus), num(app.Mem), app.Cmd), nil
}

// definitionIDs names what a Marathon JSON document deploys.
func definitionIDs(b []byte) string {
	var one struct {
		ID string `json:"id"`
	}
	var many []struct {
		ID string `json:"id"`
	}
	switch {
	case client.IsGroup(b) && json.Unmarshal(b, &one) == nil:
		return "group " + orDash(one.ID)
	case json.Unmarshal(b, &many) == nil:
		var ids []string
		for _, a := range many {
			ids = append(ids, a.ID)
		}
		return "apps " + strings.Join(ids, ", ")
	case json.Unmarshal(b, &one) == nil:
		return "app " + orDash(one.ID)
	}
	return "(not JSON)"
}

// splitQuoted splits on spaces, keeping "double" or 'single' quoted text
// together.
func splitQuoted(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: unclosed quote", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
