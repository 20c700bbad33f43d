package tui

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// ColorMode is how many colours the terminal gets: the detected profile
// degrades truecolor → 256 → 16 → none, and NO_COLOR forces none.
type ColorMode string

const (
	ColorAuto      ColorMode = "auto"
	ColorTrue      ColorMode = "truecolor"
	Color256       ColorMode = "256"
	Color16        ColorMode = "16"
	ColorNone      ColorMode = "none"
	colorModeNames           = "auto, truecolor, 256, 16 or none"
)

// ParseColorMode reads --color.
func ParseColorMode(s string) (ColorMode, error) {
	switch m := ColorMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "", ColorAuto:
		return ColorAuto, nil
	case ColorTrue, Color256, Color16, ColorNone:
		return m, nil
	case "never", "off":
		return ColorNone, nil
	}
	return "", fmt.Errorf("--color %q: want %s", s, colorModeNames)
}

// NewRenderer returns a lipgloss renderer for w with the colour profile
// mode asks for; auto detects it from the terminal and the environment
// (COLORTERM, TERM, NO_COLOR).
func NewRenderer(w io.Writer, mode ColorMode, env func(string) string) *lipgloss.Renderer {
	if env == nil {
		env = os.Getenv
	}
	r := lipgloss.NewRenderer(w)
	switch {
	case mode == ColorNone, env("NO_COLOR") != "":
		r.SetColorProfile(termenv.Ascii)
	case mode == ColorTrue:
		r.SetColorProfile(termenv.TrueColor)
	case mode == Color256:
		r.SetColorProfile(termenv.ANSI256)
	case mode == Color16:
		r.SetColorProfile(termenv.ANSI)
	}
	// The dashboard's palette is chosen for dark backgrounds; asking the
	// terminal would block on terminals that never answer.
	r.SetHasDarkBackground(true)
	return r
}

// palette is the theme: each colour in all three depths, so the renderer
// picks what the terminal has instead of approximating.
var palette = struct {
	accent, dim, good, warn, bad, info, barFill, barOffer, barEmpty, selBG, title lipgloss.TerminalColor
}{
	accent:   lipgloss.CompleteColor{TrueColor: "#7D56F4", ANSI256: "99", ANSI: "13"},
	dim:      lipgloss.CompleteColor{TrueColor: "#767676", ANSI256: "243", ANSI: "8"},
	good:     lipgloss.CompleteColor{TrueColor: "#3FB950", ANSI256: "71", ANSI: "2"},
	warn:     lipgloss.CompleteColor{TrueColor: "#D29922", ANSI256: "178", ANSI: "3"},
	bad:      lipgloss.CompleteColor{TrueColor: "#F85149", ANSI256: "203", ANSI: "1"},
	info:     lipgloss.CompleteColor{TrueColor: "#58A6FF", ANSI256: "75", ANSI: "4"},
	barFill:  lipgloss.CompleteColor{TrueColor: "#3FB950", ANSI256: "71", ANSI: "2"},
	barOffer: lipgloss.CompleteColor{TrueColor: "#58A6FF", ANSI256: "75", ANSI: "6"},
	barEmpty: lipgloss.CompleteColor{TrueColor: "#30363D", ANSI256: "237", ANSI: "8"},
	selBG:    lipgloss.CompleteColor{TrueColor: "#264F78", ANSI256: "24", ANSI: "4"},
	title:    lipgloss.CompleteColor{TrueColor: "#FFFFFF", ANSI256: "15", ANSI: "15"},
}
