package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Tone is what a cell means, which the theme turns into a colour; views
// say "bad", never "red", so the no-colour profile still reads right.
type Tone uint8

const (
	ToneNone Tone = iota
	ToneDim
	ToneGood
	ToneWarn
	ToneBad
	ToneInfo
	ToneAccent
)

// Styles are the theme's lipgloss styles, bound to one renderer (and so
// one colour profile).
type Styles struct {
	r                      *lipgloss.Renderer
	Title, TabOn, TabOff   lipgloss.Style
	Header, ColumnHeader   lipgloss.Style
	Selected, Footer, Help lipgloss.Style
	Notice, Error, Box     lipgloss.Style
	tones                  [ToneAccent + 1]lipgloss.Style
	barFill, barOffer      lipgloss.Style
	barEmpty               lipgloss.Style
	Match                  lipgloss.Style
}

// NewStyles builds the theme for r.
func NewStyles(r *lipgloss.Renderer) *Styles {
	s := &Styles{r: r}
	ns := r.NewStyle
	s.Title = ns().Bold(true).Foreground(palette.accent)
	s.TabOn = ns().Bold(true).Reverse(true)
	s.TabOff = ns().Foreground(palette.dim)
	s.Header = ns()
	s.ColumnHeader = ns().Bold(true).Underline(true)
	s.Selected = ns().Reverse(true)
	s.Footer = ns().Foreground(palette.dim)
	s.Help = ns()
	s.Notice = ns().Foreground(palette.warn).Bold(true)
	s.Error = ns().Foreground(palette.bad).Bold(true)
	s.Box = ns().Border(lipgloss.NormalBorder()).Padding(0, 1)
	s.Match = ns().Reverse(true).Bold(true)
	s.tones = [...]lipgloss.Style{
		ToneNone:   ns(),
		ToneDim:    ns().Foreground(palette.dim),
		ToneGood:   ns().Foreground(palette.good),
		ToneWarn:   ns().Foreground(palette.warn),
		ToneBad:    ns().Foreground(palette.bad),
		ToneInfo:   ns().Foreground(palette.info),
		ToneAccent: ns().Foreground(palette.accent),
	}
	s.barFill = ns().Foreground(palette.barFill)
	s.barOffer = ns().Foreground(palette.barOffer)
	s.barEmpty = ns().Foreground(palette.barEmpty)
	return s
}

// Tone renders text in a tone.
func (s *Styles) Tone(t Tone, text string) string {
	if t == ToneNone || text == "" {
		return text
	}
	return s.tones[t].Render(text)
}

// fit pads or truncates a line (which may hold escape codes) to exactly w
// cells, so frames never wrap.
func fit(line string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(line)
	switch {
	case n == w:
		return line
	case n < w:
		return line + strings.Repeat(" ", w-n)
	}
	return ansi.Truncate(line, w-1, "") + "…"
}

// fitPlain is fit for text without escape codes, padding on the left
// when right is set (numbers).
func fitPlain(text string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(text)
	if n > w {
		if w == 1 {
			return "…"
		}
		return ansi.Truncate(text, w-1, "") + "…"
	}
	pad := strings.Repeat(" ", w-n)
	if right {
		return pad + text
	}
	return text + pad
}

// lipWidth is the display width of a line that may hold escape codes.
func lipWidth(s string) int { return ansi.StringWidth(s) }

func ansiWidth(s string) int { return ansi.StringWidth(s) }
