package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// handleKey routes a key to whatever has the keyboard: help, a pending
// confirmation, a line being typed, the log viewer, describe, or the list.
func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	if msg.Type == tea.KeyCtrlC {
		return tea.Quit
	}
	switch {
	case m.help:
		if matches(msg, k.Help) || matches(msg, k.Back) || matches(msg, k.Quit) {
			m.help = false
		}
		return nil
	case m.confirm != nil:
		switch {
		case matches(msg, k.Confirm):
			a := m.confirm
			m.confirm = nil
			return m.runAction(a)
		case matches(msg, k.Deny), matches(msg, k.Back):
			m.setNotice("cancelled: "+m.confirm.what, ToneDim)
			m.confirm = nil
		}
		return nil
	case m.mode != modeList:
		return m.handleInput(msg)
	case m.logs != nil:
		return m.logsKey(msg)
	case m.describe != nil:
		return m.describeKey(msg)
	}
	return m.listKey(msg)
}

// handleInput drives the filter, command line and prompts.
func (m *Model) handleInput(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		if m.mode == modeFilter {
			m.grids[m.active].filter = ""
			m.grids[m.active].refilter()
		}
		if m.mode == modePrompt && m.logs != nil {
			m.logs.search = ""
		}
		m.mode, m.prompt = modeList, nil
		return nil
	case tea.KeyEnter:
		return m.submitInput()
	}
	if m.input.edit(msg) && m.mode == modeFilter {
		g := m.grids[m.active]
		g.filter = m.input.String()
		g.refilter() // live, as in k9s
	}
	return nil
}

func (m *Model) submitInput() tea.Cmd {
	text := strings.TrimSpace(m.input.String())
	md := m.mode
	m.mode = modeList
	switch md {
	case modeFilter:
		return nil
	case modeCommand:
		return m.command(text)
	case modePrompt:
		p := m.prompt
		m.prompt = nil
		if p == nil {
			return nil
		}
		a, err := p.submit(text)
		if err != nil {
			m.setNotice(err.Error(), ToneBad)
			return nil
		}
		if a != nil {
			m.confirm = a
		}
	}
	return nil
}

// command runs a `:` command: a view name (or unique prefix), quit, help,
// or an action (commands.go).
func (m *Model) command(text string) tea.Cmd {
	switch text {
	case "":
		return nil
	case "q", "quit", "q!":
		return tea.Quit
	case "help", "?":
		m.help = true
		return nil
	}
	if m.actionCommand(text) {
		return nil
	}
	name := strings.ToLower(strings.Fields(text)[0])
	switch i := m.viewIndex(name); {
	case i >= 0:
		m.switchTo(i)
	case i == -2:
		m.setNotice(":"+name+" is ambiguous; type more of the view's name", ToneBad)
	default:
		m.setNotice(":"+name+" is not a view ("+m.viewNames()+")", ToneBad)
	}
	return nil
}

func (m *Model) viewNames() string {
	names := make([]string, len(m.views))
	for i, v := range m.views {
		names[i] = v.name
	}
	return strings.Join(names, ", ")
}

// bodyHeight is the number of body lines (the screen minus header and
// footer).
func (m *Model) bodyHeight() int { return max(1, m.h-headerLines-1) }

// listHeight is the rows a table shows (its header line excluded).
func (m *Model) listHeight() int {
	h := m.bodyHeight()
	if v := m.views[m.active]; v.build != nil && v.draw != nil {
		h -= panelHeight(h)
	}
	return max(1, h-1)
}

// listKey handles keys on a list (or non-table view).
func (m *Model) listKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	g := m.grids[m.active]
	page := m.listHeight()
	for i, b := range k.Views {
		if matches(msg, b) {
			m.switchTo(i)
			return nil
		}
	}
	if cmd, ok := m.frameworkKey(msg); ok { // Apps and Jobs actions (model_apps.go)
		return cmd
	}
	switch {
	case matches(msg, k.Quit):
		return tea.Quit
	case matches(msg, k.Help):
		m.help = true
	case matches(msg, k.Back):
		if g.filter != "" {
			g.filter = ""
			g.refilter()
		}
	case matches(msg, k.NextView):
		m.switchTo((m.active + 1) % len(m.views))
	case matches(msg, k.PrevView):
		m.switchTo((m.active + len(m.views) - 1) % len(m.views))
	case matches(msg, k.Command):
		m.mode = modeCommand
		m.input.set(":", "")
	case matches(msg, k.Filter):
		m.mode = modeFilter
		m.input.set("/", g.filter)
	case matches(msg, k.Up):
		g.move(-1, page)
	case matches(msg, k.Down):
		g.move(1, page)
	case matches(msg, k.PageUp):
		g.move(-page, page)
	case matches(msg, k.PageDown):
		g.move(page, page)
	case matches(msg, k.Top):
		g.move(-len(g.view), page)
	case matches(msg, k.Bottom):
		g.move(len(g.view), page)
	case matches(msg, k.Sort):
		g.nextSort()
	case matches(msg, k.SortReverse):
		g.sortDesc = !g.sortDesc
		g.refilter()
	case matches(msg, k.Pause):
		if m.views[m.active].name == "events" {
			m.paused = !m.paused
			if !m.paused {
				m.rebuild()
			}
		}
	case matches(msg, k.Describe):
		m.openDescribe()
	case matches(msg, k.Logs):
		return m.openLogs()
	case matches(msg, k.KillTask):
		m.askKill()
	case matches(msg, k.SetWeight):
		m.askWeight()
	case matches(msg, k.SetQuota):
		m.askQuota()
	case matches(msg, k.Drain):
		m.askDrain(true)
	case matches(msg, k.Reactivate):
		m.askDrain(false)
	}
	return nil
}

// mouse scrolls with the wheel (the mouse is optional: --mouse).
func (m *Model) mouse(msg tea.MouseMsg) {
	d := 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		d = -3
	case tea.MouseButtonWheelDown:
		d = 3
	default:
		return
	}
	switch {
	case m.logs != nil:
		m.logScroll(d)
	case m.describe != nil:
		m.describe.offset = max(0, m.describe.offset+d)
	default:
		m.grids[m.active].move(d, m.listHeight())
	}
}
