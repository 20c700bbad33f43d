package tui

import (
	"encoding/json"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-dc/strata/master/mesos"
)

// describeState shows an object's JSON (the API's own document) and the
// objects related to it: an agent's tasks, a task's agent and framework.
type describeState struct {
	title  string
	lines  []string
	offset int
}

func (m *Model) openDescribe() {
	obj := m.selectedObj()
	if obj == nil {
		m.setNotice("describe: nothing selected", ToneDim)
		return
	}
	if d := m.describeFramework(obj); d != nil { // apps and jobs (model_apps.go, model_jobs.go)
		m.describe = d
		return
	}
	d := &describeState{}
	var related []string
	switch o := obj.(type) {
	case *mesos.Task:
		d.title = "task " + string(o.TaskID)
		related = append(related, "framework: "+fwName(m.cluster, o.FrameworkID),
			"agent:     "+m.cluster.AgentHost(o.AgentID)+" ("+string(o.AgentID)+")",
			"logs:      press "+m.keys.Logs.Help().Key+" in the Tasks view")
	case *mesos.Agent:
		d.title = "agent " + o.AgentInfo.Hostname
		tasks := m.cluster.TasksOn(o.AgentInfo.ID)
		related = append(related, fmt.Sprintf("tasks on this agent: %d", len(tasks)))
		for _, t := range tasks {
			related = append(related, fmt.Sprintf("  %-11s %s  %s  %s", shortState(t.State), t.TaskID,
				fwName(m.cluster, t.FrameworkID), resourceLine(t.Resources)))
		}
	case *mesos.Framework:
		d.title = "framework " + o.FrameworkInfo.Name
		t := m.cluster.Totals()
		related = append(related, fmt.Sprintf("live tasks: %d", t.perFrameworkTasks[o.FrameworkInfo.ID]))
	case *mesos.Offer:
		d.title = "offer " + string(o.ID)
	case *RoleRow:
		d.title = "role " + o.Name
	case *quotaRow:
		d.title = "quota of " + o.Role
	case *mesos.OperatorEvent:
		d.title = "event " + string(o.Type)
	default:
		d.title = fmt.Sprintf("%T", obj)
	}
	b, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		b = []byte("cannot encode: " + err.Error())
	}
	if len(related) > 0 {
		d.lines = append(d.lines, "related:")
		d.lines = append(d.lines, related...)
		d.lines = append(d.lines, "")
	}
	d.lines = append(d.lines, strings.Split(string(b), "\n")...)
	m.describe = d
}

func (m *Model) describeKey(msg tea.KeyMsg) tea.Cmd {
	k, d := m.keys, m.describe
	page := m.bodyHeight() - 1
	switch {
	case matches(msg, k.Back), matches(msg, k.Describe):
		m.describe = nil
	case matches(msg, k.Quit):
		return tea.Quit
	case matches(msg, k.Help):
		m.help = true
	case matches(msg, k.Up):
		d.offset--
	case matches(msg, k.Down):
		d.offset++
	case matches(msg, k.PageUp):
		d.offset -= page
	case matches(msg, k.PageDown):
		d.offset += page
	case matches(msg, k.Top):
		d.offset = 0
	case matches(msg, k.Bottom):
		d.offset = len(d.lines)
	}
	d.offset = max(0, min(d.offset, len(d.lines)-page))
	return nil
}

func (m *Model) drawDescribe(w, h int) []string {
	d := m.describe
	s := m.styles
	lines := []string{s.ColumnHeader.Render(fit("DESCRIBE "+d.title+"  ("+m.keys.Back.Help().Key+" back)", w))}
	d.offset = max(0, min(d.offset, len(d.lines)-(h-1)))
	for i := d.offset; i < len(d.lines) && len(lines) < h; i++ {
		lines = append(lines, fit(d.lines[i], w))
	}
	return lines
}
