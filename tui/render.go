package tui

import (
	"strings"

	"github.com/strata-dc/strata/master/client"
)

// headerLines is the header's height: title and connection, resource
// bars, history, tabs.
const headerLines = 4

// panelHeight is the lower panel of a table view with one (the offer
// tape): a third of the body.
func panelHeight(body int) int { return max(3, body/3) }

// View renders the whole frame: exactly h lines of exactly w cells.
func (m *Model) View() string {
	w, h := m.w, m.h
	if w <= 0 || h <= 0 {
		return "strata top: starting…"
	}
	lines := make([]string, 0, h)
	lines = append(lines, m.header(w)...)
	body := m.bodyHeight()
	var b []string
	switch {
	case m.help:
		b = m.drawHelp(w, body)
	case m.logs != nil:
		b = m.drawLogs(w, body)
	case m.describe != nil:
		b = m.drawDescribe(w, body)
	default:
		b = m.drawBody(w, body)
	}
	for len(b) < body {
		b = append(b, strings.Repeat(" ", w))
	}
	lines = append(lines, b[:body]...)
	lines = append(lines, m.footer(w))
	if len(lines) > h {
		lines = lines[:h]
	}
	return strings.Join(lines, "\n")
}

func (m *Model) drawBody(w, h int) []string {
	v, g := m.views[m.active], m.grids[m.active]
	if v.build == nil {
		return v.draw(m, w, h)
	}
	if !g.built { // a view rendered before any Update (tests, first frame)
		g.setRows(m.viewRows(v, m.now()))
	}
	if v.draw == nil {
		return g.render(m.styles, w, h)
	}
	ph := panelHeight(h)
	out := g.render(m.styles, w, h-ph)
	for len(out) < h-ph {
		out = append(out, strings.Repeat(" ", w))
	}
	return append(out, v.draw(m, w, ph)...)
}

// header is the cluster at a glance: where, who leads, whether the stream
// is live, agents up, allocation bars and history, and the tabs.
func (m *Model) header(w int) []string {
	s, c := m.styles, m.cluster
	t := c.Totals()

	var conn string
	switch m.conn.status {
	case connConnecting:
		conn = s.Tone(ToneInfo, "○ connecting")
	case connLive:
		conn = s.Tone(ToneGood, "● live")
		if m.conn.reconnects > 0 {
			conn += s.Tone(ToneDim, " ("+itoa(m.conn.reconnects)+" reconnects)")
		}
	case connReconnecting:
		msg := "⟳ stream lost " + age(m.conn.since, m.now()) + " ago, reconnecting"
		if m.conn.err != nil {
			msg += ": " + firstLine(m.conn.err.Error())
		}
		conn = s.Tone(ToneBad, msg)
	case connRefused:
		conn = s.Tone(ToneBad, "✗ refused (check the operator token; retrying): "+firstLine(client.Explain(m.conn.err).Error()))
	}
	leader := "leader ?"
	if c.Master != nil {
		leader = "leader " + c.Master.Endpoint()
	} else if c.MasterURL != "" {
		leader = "leader " + strings.TrimPrefix(c.MasterURL, "http://")
	}
	ro := ""
	if m.opts.ReadOnly {
		ro = s.Tone(ToneWarn, " [read-only]")
	}
	cluster := m.opts.Cluster
	if cluster == "" {
		cluster = "cluster"
	}
	// What matters most comes first: narrow screens cut the tail.
	line1 := s.Title.Render("strata top") + ro + " " + conn + " · " + leader + " · agents " +
		itoa(t.agentsUp) + "/" + itoa(t.agents) + " up · tasks " + itoa(t.liveTasks) + " · " + cluster
	lines := []string{fit(line1, w)}

	// Bars: three resources across the width.
	per := max(16, (w-2)/3)
	var bars []string
	for _, n := range scalarNames {
		used, off, tot := t.used[n], t.offered[n], t.total[n]
		label := n + " " + amount(n, used+off) + "/" + amount(n, tot)
		bw := per - len(label) - 2
		if bw < 4 {
			label = n
			bw = per - len(label) - 2
		}
		var fu, fo float64
		if tot > 0 {
			fu, fo = used/tot, off/tot
		}
		bars = append(bars, label+" "+s.Bar(fu, fo, bw))
	}
	lines = append(lines, fit(strings.Join(bars, " "), w))

	// History: the allocated cpu share, newest right.
	vals := make([]float64, 0, len(c.History))
	for _, smp := range c.History {
		vals = append(vals, max(smp.CPU, smp.Mem))
	}
	label := "allocation (max of cpus, mem) over " + shortDuration(sampleStep*maxHistory) + " "
	line3 := s.Tone(ToneDim, label) + s.Tone(ToneGood, sparkline(vals, max(8, w-len(label)-8))) + " " +
		pct(max(t.share("cpus"), t.share("mem")))
	lines = append(lines, fit(line3, w))
	lines = append(lines, m.tabs(w))
	return lines
}

// tabs lists the views with their keys; narrow screens get short names.
func (m *Model) tabs(w int) string {
	render := func(short bool) string {
		var b strings.Builder
		for i, v := range m.views {
			key := ""
			if i < len(m.keys.Views) {
				if ks := m.keys.Views[i].Keys(); len(ks) > 0 {
					key = ks[0]
				}
			}
			title := v.title
			label := " " + key + " " + title + " "
			if short && i != m.active {
				label = " " + key + ":" + title[:min(3, len(title))]
			}
			if i == m.active {
				b.WriteString(m.styles.TabOn.Render(label))
			} else {
				b.WriteString(m.styles.TabOff.Render(label))
			}
		}
		return b.String()
	}
	out := render(false)
	if lipWidth(out) > w {
		out = render(true)
	}
	return fit(out, w)
}

// footer is the input line, a confirmation, a notice, or the list's
// position, filter and sort with a reminder of help.
func (m *Model) footer(w int) string {
	s := m.styles
	switch {
	case m.confirm != nil:
		return s.Notice.Render(fit(m.confirm.what+"? "+m.keys.Confirm.Help().Key+"/"+m.keys.Deny.Help().Key, w))
	case m.mode != modeList:
		return m.input.render(w)
	case m.notice != "":
		return s.Tone(m.noticeTone, fit(m.notice, w))
	}
	v, g := m.views[m.active], m.grids[m.active]
	var parts []string
	parts = append(parts, v.title)
	if v.build != nil {
		parts = append(parts, g.position())
		if g.filter != "" {
			parts = append(parts, "filter "+g.filter)
		}
		if g.sortCol >= 0 && g.sortCol < len(g.cols) {
			dir := "▲"
			if g.sortDesc {
				dir = "▼"
			}
			parts = append(parts, "sort "+g.cols[g.sortCol].Title+dir)
		}
	}
	if v.name == "events" && m.paused {
		parts = append(parts, "PAUSED")
	}
	parts = append(parts, m.keys.Help.Help().Key+" help", m.keys.Command.Help().Key+"view", m.keys.Quit.Help().Key+" quit")
	return s.Footer.Render(fit(strings.Join(parts, " · "), w))
}

// drawHelp is generated from the keymap, so rebound and disabled keys
// show as they are.
func (m *Model) drawHelp(w, h int) []string {
	s := m.styles
	lines := []string{s.ColumnHeader.Render(fit("HELP  ("+m.keys.Back.Help().Key+" closes; keys rebind in "+DefaultKeysFile()+")", w))}
	var entries []string
	group := ""
	for _, a := range m.keys.Actions() {
		if !a.Binding.Enabled() || a.Group == "views" {
			continue
		}
		if a.Group != group {
			group = a.Group
			entries = append(entries, s.Tone(ToneAccent, strings.ToUpper(group)))
		}
		hl := a.Binding.Help()
		entries = append(entries, fitPlain(hl.Key, 11, false)+" "+hl.Desc)
	}
	entries = append(entries, s.Tone(ToneAccent, "VIEWS"), "1-9, 0     "+m.viewNames())
	if m.opts.ReadOnly {
		entries = append(entries, s.Tone(ToneWarn, "read-only: actions are off"))
	}
	// Columns as wide as the longest entry allows.
	colW := 34
	rows := h - 1
	if need := (len(entries) + rows - 1) / max(1, rows); need > w/colW {
		colW = max(20, w/need) // narrower columns rather than lost entries
	}
	cols := max(1, w/colW)
	for r := 0; r < rows; r++ {
		var b strings.Builder
		for c := 0; c < cols; c++ {
			i := c*rows + r
			if i < len(entries) {
				b.WriteString(fit(entries[i], colW-1) + " ")
			}
		}
		lines = append(lines, fit(b.String(), w))
	}
	return lines
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
