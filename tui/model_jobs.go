package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/strata-dc/strata/chronos/schedule"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/tui/table"
)

// The Jobs view: chronos' jobs with their schedule, a countdown to the
// next run, the last outcome, a strip of recent runs (oldest left), and
// success and error counts. Describe adds the dependency tree (parents
// above, children below) and the runs. Chronos has no event stream; its
// source polls (frameworks_live.go).

// historyWidth is how many runs the strip shows.
const historyWidth = 10

func jobsView() *viewSpec {
	return &viewSpec{
		name: "jobs", title: "Jobs", defaultSort: 0, ageing: true,
		cols: []column{
			{Title: "JOB", Width: 12, Flex: 2},
			{Title: "SCHEDULE", Width: 12, Flex: 2, Drop: 2},
			{Title: "NEXT", Width: 9, Right: true},
			{Title: "STATE", Width: 8},
			{Title: "LAST", Width: 7},
			{Title: "HISTORY", Width: historyWidth},
			{Title: "OK", Width: 4, Right: true, Drop: 1},
			{Title: "FAILED", Width: 6, Right: true, Drop: 1},
			{Title: "OWNER", Width: 8, Flex: 1, Drop: 3},
		},
		build: func(*Cluster, time.Time) []row { return nil }, // rows: viewRows
		draw:  drawJobsPanel,
	}
}

// jobRow is one job and its recent runs; Children are the jobs that name
// it as a parent.
type jobRow struct {
	Job      client.ChronosJob
	Raw      json.RawMessage
	State    string
	Runs     []client.ChronosRun // newest first
	Next     time.Time
	Children []string
	all      map[string]*client.ChronosJob
}

func buildJobs(s *JobsSnapshot, now time.Time) []row {
	if s == nil {
		return nil
	}
	all := map[string]*client.ChronosJob{}
	children := map[string][]string{}
	for i := range s.Jobs {
		j := &s.Jobs[i]
		all[j.Name] = j
		for _, p := range j.Parents {
			children[p] = append(children[p], j.Name)
		}
	}
	rows := make([]row, 0, len(s.Jobs))
	for i := range s.Jobs {
		j := s.Jobs[i]
		slices.Sort(children[j.Name])
		r := &jobRow{Job: j, Raw: s.Raw[j.Name], State: s.States[j.Name], Runs: s.History[j.Name],
			Children: children[j.Name], all: all}
		next := txt("-")
		if !j.Disabled && len(j.Parents) == 0 && j.Schedule != "" {
			if sch, err := schedule.Parse(j.Schedule, j.ScheduleTimeZone, now); err == nil {
				if t, ok := sch.Next(now); ok {
					r.Next = t
					next = number("in "+shortDuration(t.Sub(now)), float64(t.Sub(now)))
				}
			} else {
				next = toned("bad", ToneBad)
			}
		}
		state := orDash(r.State)
		stTone := ToneNone
		switch {
		case j.Disabled:
			state, stTone = "disabled", ToneDim
		case state == "running" || state == "queued":
			stTone = ToneInfo
		}
		last := table.JobLast(&j)
		lastTone := map[string]Tone{"success": ToneGood, "failure": ToneBad}[last]
		sched := j.Schedule
		if len(j.Parents) > 0 {
			sched = "after " + strings.Join(j.Parents, ",")
		}
		rows = append(rows, row{
			id: j.Name,
			cells: []cell{txt(j.Name), txt(orDash(sched)), next, toned(state, stTone), toned(last, lastTone),
				txt(historyStrip(r.Runs, historyWidth)),
				number(fmt.Sprint(j.SuccessCount), float64(j.SuccessCount)),
				toned(fmt.Sprint(j.ErrorCount), map[bool]Tone{true: ToneBad}[j.ErrorCount > 0]),
				txt(orDash(j.Owner))},
			obj:  r,
			live: !j.Disabled,
		})
	}
	return rows
}

// runGlyph is one run in the history strip: ✓ succeeded, ✗ failed or
// killed, · skipped (concurrency or a missed window), ~ still going.
func runGlyph(state string) string {
	switch state {
	case "succeeded", "success", "finished":
		return "✓"
	case "failed", "killed", "failure":
		return "✗"
	case "skipped":
		return "·"
	}
	return "~"
}

// historyStrip is the last n runs, oldest left, so the newest is at the
// right edge where the eye ends.
func historyStrip(runs []client.ChronosRun, n int) string {
	runs = runs[:min(n, len(runs))]
	var b strings.Builder
	for i := len(runs) - 1; i >= 0; i-- {
		b.WriteString(runGlyph(runs[i].State))
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// drawJobsPanel: chronos' status and the selected job's recent runs.
func drawJobsPanel(m *Model, w, h int) []string {
	if m.jobs == nil {
		l := frameworkMissing(m, "chronos", w)
		return l[:min(h, len(l))]
	}
	s := m.jobs.Jobs()
	if s == nil {
		s = &JobsSnapshot{}
	}
	lines := []string{statusLine(m, "chronos", s.Status, s.At, w)}
	if r, ok := m.selectedObj().(*jobRow); ok {
		head := "job " + r.Job.Name
		if !r.Next.IsZero() {
			head += " · next run " + r.Next.UTC().Format("2006-01-02 15:04:05Z") + " (in " + shortDuration(r.Next.Sub(m.now())) + ")"
		}
		if len(r.Job.Parents) > 0 {
			head += " · after " + strings.Join(r.Job.Parents, ", ")
		}
		if len(r.Children) > 0 {
			head += " · then " + strings.Join(r.Children, ", ")
		}
		lines = append(lines, fit(head, w))
		for _, run := range r.Runs {
			if len(lines) >= h {
				break
			}
			lines = append(lines, m.styles.Tone(runTone(run.State), fit("  "+runLine(run, m.now()), w)))
		}
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	return lines
}

func runTone(state string) Tone {
	switch runGlyph(state) {
	case "✓":
		return ToneGood
	case "✗":
		return ToneBad
	case "·":
		return ToneDim
	}
	return ToneInfo
}

func runLine(r client.ChronosRun, now time.Time) string {
	s := fmt.Sprintf("%s %-9s %-9s", runGlyph(r.State), r.State, r.Kind)
	if !r.ScheduledAt.IsZero() {
		s += " " + age(r.ScheduledAt, now) + " ago"
	}
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		s += " took " + shortDuration(r.FinishedAt.Sub(r.StartedAt))
	}
	if r.ExitStatus != nil {
		s += fmt.Sprintf(" exit %d", *r.ExitStatus)
	}
	if r.SkipReason != "" {
		s += " (" + r.SkipReason + ")"
	}
	if r.Message != "" {
		s += " " + r.Message
	}
	return s
}

// describeJob: the dependency tree, the runs, then the job's own JSON.
func (m *Model) describeJob(r *jobRow) *describeState {
	d := &describeState{title: "job " + r.Job.Name}
	d.lines = append(d.lines, "dependencies (parents → this job → children):")
	d.lines = append(d.lines, r.ancestry()...)
	d.lines = append(d.lines, "  ▶ "+r.Job.Name)
	d.lines = append(d.lines, r.descendants(r.Job.Name, "    ", map[string]bool{r.Job.Name: true})...)
	d.lines = append(d.lines, "", fmt.Sprintf("runs: %d shown (newest first)", len(r.Runs)))
	for _, run := range r.Runs {
		d.lines = append(d.lines, "  "+runLine(run, m.now()))
	}
	d.lines = append(d.lines, "")
	d.lines = append(d.lines, jsonLines(r.Raw, r.Job)...)
	return d
}

// ancestry lists the job's parents and theirs, farthest first.
func (r *jobRow) ancestry() []string {
	var out []string
	seen := map[string]bool{r.Job.Name: true}
	level := r.Job.Parents
	for depth := 0; len(level) > 0 && depth < 16; depth++ {
		var next []string
		var names []string
		for _, p := range level {
			if seen[p] {
				continue
			}
			seen[p] = true
			names = append(names, p)
			if j := r.all[p]; j != nil {
				next = append(next, j.Parents...)
			}
		}
		if len(names) > 0 {
			out = append([]string{"  " + strings.Join(names, ", ")}, out...)
		}
		level = next
	}
	return out
}

// descendants draws the jobs that run after name, as a tree.
func (r *jobRow) descendants(name, indent string, seen map[string]bool) []string {
	var kids []string
	for n, j := range r.all {
		if slices.Contains(j.Parents, name) {
			kids = append(kids, n)
		}
	}
	slices.Sort(kids)
	var out []string
	for _, k := range kids {
		if seen[k] {
			out = append(out, indent+"└─ "+k+" (cycle)")
			continue
		}
		seen[k] = true
		out = append(out, indent+"└─ "+k)
		out = append(out, r.descendants(k, indent+"   ", seen)...)
	}
	return out
}

// selectedJob is the job under the cursor, with a notice when there is
// none or no chronos to act on.
func (m *Model) selectedJob(what string) (*jobRow, bool) {
	r, ok := m.selectedObj().(*jobRow)
	if !ok {
		m.setNotice(what+": select a job in the Jobs view", ToneDim)
		return nil, false
	}
	if m.jobs == nil {
		m.setNotice(what+": this dashboard has no chronos client", ToneBad)
		return nil, false
	}
	return r, true
}

func (m *Model) askRunJob() {
	r, ok := m.selectedJob("run job")
	if !ok {
		return
	}
	name, src := r.Job.Name, m.jobs
	what := "run job " + name + " now (a manual run"
	if len(r.Children) > 0 {
		what += "; on success " + strings.Join(r.Children, ", ") + " follow"
	}
	m.confirm = &pendingAction{
		what: what + ")",
		run:  func(ctx context.Context, _ Backend) error { return src.RunJob(ctx, name) },
	}
}

func (m *Model) askToggleJob() {
	r, ok := m.selectedJob("enable/disable")
	if !ok {
		return
	}
	name, src, dis := r.Job.Name, m.jobs, !r.Job.Disabled
	what := "enable job " + name + ": its schedule runs it again"
	if dis {
		what = "disable job " + name + ": no more scheduled runs (running tasks go on)"
	}
	m.confirm = &pendingAction{
		what: what,
		run:  func(ctx context.Context, _ Backend) error { return src.SetDisabled(ctx, name, dis) },
	}
}

func (m *Model) askDeleteJob() {
	r, ok := m.selectedJob("delete job")
	if !ok {
		return
	}
	name, src := r.Job.Name, m.jobs
	what := "delete job " + name + " and kill its running tasks"
	if len(r.Children) > 0 {
		what += fmt.Sprintf("; %d job(s) depend on it: %s", len(r.Children), strings.Join(r.Children, ", "))
	}
	m.confirm = &pendingAction{
		what: what,
		run:  func(ctx context.Context, _ Backend) error { return src.DeleteJob(ctx, name) },
	}
}

func (m *Model) askAddJob() {
	if m.jobs == nil {
		m.setNotice("add job: this dashboard has no chronos client", ToneBad)
		return
	}
	src := m.jobs
	m.mode = modePrompt
	m.input.set(`add job from a file, or: name schedule command (quote a cron "0 3 * * *"): `, "")
	m.prompt = &prompt{submit: func(text string) (*pendingAction, error) {
		def, what, err := parseAddJob(text, m.now())
		if err != nil {
			return nil, err
		}
		return &pendingAction{
			what: what,
			run:  func(ctx context.Context, _ Backend) error { return src.PutJob(ctx, def) },
		}, nil
	}}
}

// parseAddJob reads the add-job prompt: a path to Chronos JSON, or
// `name schedule command...` (the schedule an ISO 8601 repeating
// interval or a quoted cron expression; checked here so a typo is caught
// before anything is sent).
func parseAddJob(text string, now time.Time) ([]byte, string, error) {
	f, err := splitQuoted(text)
	if err != nil {
		return nil, "", err
	}
	if len(f) == 1 {
		b, err := os.ReadFile(f[0])
		if err != nil {
			return nil, "", fmt.Errorf("add job: %w (or give: name schedule command)", err)
		}
		var head struct {
			Name    string   `json:"name"`
			Parents []string `json:"parents"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			return nil, "", fmt.Errorf("add job: %s: %w", f[0], err)
		}
		what := "add job " + orDash(head.Name) + " from " + f[0]
		if len(head.Parents) > 0 {
			what += " (runs after " + strings.Join(head.Parents, ", ") + ")"
		}
		return b, what, nil
	}
	if len(f) < 3 {
		return nil, "", fmt.Errorf("add job %q: want a file, or name schedule command", text)
	}
	name, sched, command := f[0], f[1], strings.Join(f[2:], " ")
	s, err := schedule.Parse(sched, "", now)
	if err != nil {
		return nil, "", fmt.Errorf("add job %s: schedule: %w", name, err)
	}
	next := "never"
	if t, ok := s.Next(now); ok {
		next = t.UTC().Format("2006-01-02 15:04:05Z")
	}
	def := map[string]any{"name": name, "schedule": sched, "command": command, "shell": true,
		"epsilon": "PT60S", "cpus": 0.1, "mem": 32, "owner": ""}
	b, _ := json.Marshal(def)
	return b, fmt.Sprintf("add job %s on %s running %q (first run %s)", name, sched, command, next), nil
}
