package tui

import (
	"sort"
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// The Overview: the cluster on one screen — allocation history per
// resource, tasks by state, frameworks by size, the roles DRF serves
// first and last, and the latest offer decisions and events.

func overviewView() *viewSpec {
	return &viewSpec{name: "overview", title: "Overview", draw: drawOverview}
}

func drawOverview(m *Model, w, h int) []string {
	c, s := m.cluster, m.styles
	t := c.Totals()
	var lines []string
	section := func(title string) { lines = append(lines, s.ColumnHeader.Render(fit(title, w))) }

	section("ALLOCATION (last " + shortDuration(sampleStep*maxHistory) + ", one mark per " + shortDuration(sampleStep) + ")")
	sw := max(10, w-24)
	for _, n := range scalarNames {
		vals := make([]float64, 0, len(c.History))
		for _, smp := range c.History {
			switch n {
			case "cpus":
				vals = append(vals, smp.CPU)
			case "mem":
				vals = append(vals, smp.Mem)
			default:
				vals = append(vals, smp.Disk)
			}
		}
		line := fitPlain(n, 5, false) + " " + fitPlain(pct(t.share(n)), 4, true) + " " + s.Tone(ToneGood, sparkline(vals, sw))
		lines = append(lines, fit(line, w))
	}

	section("TASKS")
	var parts []string
	for _, st := range mesos.TaskStates {
		if n := t.taskStates[st]; n > 0 {
			parts = append(parts, s.Tone(stateTone(st), shortState(st))+" "+itoa(n))
		}
	}
	if len(parts) == 0 {
		parts = []string{s.Tone(ToneDim, "none")}
	}
	lines = append(lines, fit("  "+strings.Join(parts, "  "), w))

	section("FRAMEWORKS (by tasks)")
	type fw struct {
		name  string
		tasks int
		cpus  float64
	}
	var fws []fw
	for id, f := range c.Frameworks {
		u := t.perFrameworkUsed[id]
		var cpus float64
		if u != nil {
			cpus = u["cpus"]
		}
		fws = append(fws, fw{f.FrameworkInfo.Name, t.perFrameworkTasks[id], cpus})
	}
	sort.Slice(fws, func(i, j int) bool {
		if fws[i].tasks != fws[j].tasks {
			return fws[i].tasks > fws[j].tasks
		}
		return fws[i].name < fws[j].name
	})
	if len(fws) == 0 {
		lines = append(lines, s.Tone(ToneDim, fit("  none registered", w)))
	}
	for i, f := range fws {
		if i == 3 {
			lines = append(lines, s.Tone(ToneDim, fit("  … "+itoa(len(fws)-3)+" more (3)", w)))
			break
		}
		lines = append(lines, fit("  "+fitPlain(f.name, 16, false)+" "+fitPlain(itoa(f.tasks), 6, true)+" tasks  "+num(f.cpus)+" cpus", w))
	}

	section("ROLES (lowest weighted share is offered first)")
	rr := c.RoleRows()
	sort.SliceStable(rr, func(i, j int) bool { return rr[i].Weighted < rr[j].Weighted })
	bw := max(8, min(30, w-40))
	for i, r := range rr {
		if i == 3 {
			lines = append(lines, s.Tone(ToneDim, fit("  … "+itoa(len(rr)-3)+" more (5)", w)))
			break
		}
		lines = append(lines, fit("  "+fitPlain(r.Name, 14, false)+" w"+fitPlain(num(r.Weight), 4, false)+" "+
			s.Bar(r.Weighted, 0, bw)+" "+num(r.Weighted), w))
	}
	if len(rr) == 0 {
		lines = append(lines, s.Tone(ToneDim, fit("  none", w)))
	}

	rest := h - len(lines)
	if rest >= 3 {
		tape := drawTape(m, w, min(rest, 6))
		lines = append(lines, tape...)
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	return lines
}
