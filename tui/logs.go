package tui

import (
	"context"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// The log viewer follows a task's stdout or stderr from its sandbox
// through the agent's files API (client.Agent.Tail). One goroutine per
// open viewer reads the file; the viewer owns it through a context and
// the model's WaitGroup, so esc, switching streams and Close stop it.

const maxLogLines = 20000

type logsState struct {
	task   *mesos.Task
	file   string // stdout or stderr
	lines  []string
	tail   string // an unfinished last line
	follow bool   // stay at the end as lines arrive
	offset int    // first line shown when not following
	search string
	err    error
	done   bool
	gen    int
	ch     chan logMsg
	cancel context.CancelFunc
}

// logMsg carries data (or the end) from a tail goroutine; gen tells a
// stale viewer's messages from the current one's.
type logMsg struct {
	gen  int
	data []byte
	err  error
	done bool
	ch   chan logMsg
}

func (m *Model) openLogs() tea.Cmd {
	t, ok := m.selectedObj().(*mesos.Task)
	if !ok {
		m.setNotice("logs: select a task in the Tasks view", ToneDim)
		return nil
	}
	return m.startLogs(t, "stdout")
}

func (m *Model) startLogs(t *mesos.Task, file string) tea.Cmd {
	if m.logs != nil {
		m.logs.cancel()
	}
	m.logGen++
	ctx, cancel := context.WithCancel(m.ctx)
	l := &logsState{task: t, file: file, follow: true, gen: m.logGen, ch: make(chan logMsg, 64), cancel: cancel}
	m.logs = l
	if m.backend == nil {
		l.err, l.done = errorString("no backend"), true
		return nil
	}
	agent := m.cluster.Agents[t.AgentID]
	if agent == nil {
		l.err, l.done = errorString("agent "+string(t.AgentID)+" is not registered with the master"), true
		return nil
	}
	// Copies: the tail runs beside Update, which changes the store.
	ag, tc := *agent, *t
	b, gen, ch := m.backend, l.gen, l.ch
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(ch)
		err := b.TailTask(ctx, &ag, &tc, file, func(p []byte) error {
			data := append([]byte(nil), p...)
			select {
			case ch <- logMsg{gen: gen, data: data}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if ctx.Err() != nil {
			return
		}
		select {
		case ch <- logMsg{gen: gen, err: err, done: true}:
		case <-ctx.Done():
		}
	}()
	return waitLog(ch)
}

func waitLog(ch chan logMsg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		msg.ch = ch
		return msg
	}
}

func (m *Model) applyLog(msg logMsg) tea.Cmd {
	l := m.logs
	if l == nil || msg.gen != l.gen {
		return nil // a closed viewer's last words
	}
	if msg.done {
		l.done, l.err = true, msg.err
		return nil
	}
	text := l.tail + string(msg.data)
	parts := strings.Split(text, "\n")
	l.tail = parts[len(parts)-1]
	l.lines = append(l.lines, parts[:len(parts)-1]...)
	if over := len(l.lines) - maxLogLines; over > 0 {
		l.lines = append(l.lines[:0:0], l.lines[over:]...)
		l.offset = max(0, l.offset-over)
	}
	return waitLog(msg.ch)
}

// allLines is what the viewer shows: complete lines and the partial one.
func (l *logsState) allLines() []string {
	if l.tail == "" {
		return l.lines
	}
	return append(l.lines[:len(l.lines):len(l.lines)], l.tail)
}

func (m *Model) closeLogs() {
	if m.logs != nil {
		m.logs.cancel()
		m.logs = nil
	}
}

func (m *Model) logsKey(msg tea.KeyMsg) tea.Cmd {
	k, l := m.keys, m.logs
	page := m.bodyHeight() - 1
	all := l.allLines()
	switch {
	case matches(msg, k.Back):
		if l.search != "" {
			l.search = ""
			return nil
		}
		m.closeLogs()
		return nil
	case matches(msg, k.Quit):
		return tea.Quit
	case matches(msg, k.Help):
		m.help = true
	case matches(msg, k.Stream):
		other := "stderr"
		if l.file == "stderr" {
			other = "stdout"
		}
		return m.startLogs(l.task, other)
	case matches(msg, k.Search):
		m.mode = modePrompt
		m.input.set("search: ", l.search)
		m.prompt = &prompt{submit: func(text string) (*pendingAction, error) {
			l.search = text
			m.logJump(true)
			return nil, nil
		}}
	case matches(msg, k.SearchNext):
		m.logJump(false)
	case matches(msg, k.Follow):
		l.follow = !l.follow
		if !l.follow {
			l.offset = max(0, len(all)-page)
		}
	case matches(msg, k.Up):
		m.logScroll(-1)
	case matches(msg, k.Down):
		m.logScroll(1)
	case matches(msg, k.PageUp):
		m.logScroll(-page)
	case matches(msg, k.PageDown):
		m.logScroll(page)
	case matches(msg, k.Top):
		l.follow, l.offset = false, 0
	case matches(msg, k.Bottom):
		l.follow = true
	}
	return nil
}

func (m *Model) logScroll(d int) {
	l := m.logs
	page := m.bodyHeight() - 1
	n := len(l.allLines())
	if l.follow {
		l.offset = max(0, n-page)
		l.follow = false
	}
	l.offset = max(0, min(l.offset+d, n-page))
	if l.offset >= n-page {
		l.follow = true
	}
}

// logJump moves to the next line containing the search text (from the
// top line shown, or after it), wrapping around.
func (m *Model) logJump(fromCurrent bool) {
	l := m.logs
	if l.search == "" {
		return
	}
	all := l.allLines()
	page := m.bodyHeight() - 1
	start := l.offset
	if l.follow {
		start = max(0, len(all)-page)
	}
	if !fromCurrent {
		start++
	}
	needle := strings.ToLower(l.search)
	for i := range all {
		j := (start + i) % len(all)
		if strings.Contains(strings.ToLower(all[j]), needle) {
			l.follow, l.offset = false, j
			return
		}
	}
	m.setNotice("search: "+l.search+" not found", ToneDim)
}

func (m *Model) drawLogs(w, h int) []string {
	l, s := m.logs, m.styles
	state := "following"
	if !l.follow {
		state = "paused (" + m.keys.Follow.Help().Key + " follows)"
	}
	if l.done {
		state = "ended"
		if l.err != nil {
			state = "error: " + client.Explain(l.err).Error()
		}
	}
	head := "LOGS " + string(l.task.TaskID) + " " + l.file + " · " + state
	if l.search != "" {
		head += " · /" + l.search
	}
	head += "  (" + m.keys.Stream.Help().Key + " stdout/stderr, " + m.keys.Search.Help().Key + " search, " + m.keys.Back.Help().Key + " back)"
	lines := []string{s.ColumnHeader.Render(fit(head, w))}
	all := l.allLines()
	body := h - 1
	start := l.offset
	if l.follow {
		start = max(0, len(all)-body)
	}
	start = max(0, min(start, len(all)))
	if len(all) == 0 {
		lines = append(lines, s.Tone(ToneDim, fit("  (empty so far)", w)))
	}
	needle := strings.ToLower(l.search)
	for i := start; i < len(all) && len(lines) < h; i++ {
		line := expandTabs(all[i])
		if needle != "" && strings.Contains(strings.ToLower(line), needle) {
			lines = append(lines, s.Match.Render(fit(line, w)))
			continue
		}
		lines = append(lines, fit(line, w))
	}
	return lines
}

// expandTabs keeps tabs and control characters from breaking the frame.
func expandTabs(s string) string {
	if !strings.ContainsAny(s, "\t\r\x1b") {
		return s
	}
	s = strings.ReplaceAll(s, "\t", "    ")
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\x1b", "^[")
}
