package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// lineInput is the one-line editor of the filter, the `:` command line
// and action prompts. It is deliberately small: no blinking cursor, so
// frames are deterministic.
type lineInput struct {
	prompt string
	value  []rune
}

// edit applies a key; it reports whether the key was an edit (enter and
// esc are left to the caller).
func (l *lineInput) edit(msg tea.KeyMsg) bool {
	switch msg.Type {
	case tea.KeyRunes:
		l.value = append(l.value, msg.Runes...)
	case tea.KeySpace:
		l.value = append(l.value, ' ')
	case tea.KeyBackspace:
		if n := len(l.value); n > 0 {
			l.value = l.value[:n-1]
		}
	case tea.KeyCtrlU:
		l.value = l.value[:0]
	case tea.KeyCtrlW:
		s := strings.TrimRight(string(l.value), " ")
		if i := strings.LastIndexByte(s, ' '); i >= 0 {
			l.value = []rune(s[:i+1])
		} else {
			l.value = l.value[:0]
		}
	default:
		return false
	}
	return true
}

func (l *lineInput) String() string { return string(l.value) }

func (l *lineInput) set(prompt, value string) {
	l.prompt, l.value = prompt, []rune(value)
}

// render shows the prompt, the text and a block cursor.
func (l *lineInput) render(w int) string {
	return fit(l.prompt+string(l.value)+"█", w)
}
