package tui

import (
	"math"
	"strings"
	"time"
)

// Bars and sparklines use distinct glyphs for used (█), offered (▒) and
// free (░), so they read the same without colour.

// bar is the plain text of a w-cell bar: used and offered fractions of
// the whole (each clamped to [0,1]).
func bar(used, offered float64, w int) (u, o, e string) {
	if w <= 0 {
		return "", "", ""
	}
	clamp := func(f float64) float64 {
		if math.IsNaN(f) || f < 0 {
			return 0
		}
		return math.Min(f, 1)
	}
	used, offered = clamp(used), clamp(offered)
	nu := int(math.Round(used * float64(w)))
	if used > 0 && nu == 0 {
		nu = 1 // something allocated must show
	}
	no := int(math.Round((used+offered)*float64(w))) - nu
	if no < 0 {
		no = 0
	}
	if offered > 0 && no == 0 {
		no = 1
	}
	if nu+no > w {
		no = max(0, w-nu)
	}
	return strings.Repeat("█", nu), strings.Repeat("▒", no), strings.Repeat("░", w-nu-no)
}

// Bar renders a coloured bar.
func (s *Styles) Bar(used, offered float64, w int) string {
	u, o, e := bar(used, offered, w)
	return s.barFill.Render(u) + s.barOffer.Render(o) + s.barEmpty.Render(e)
}

// BarTone renders a bar whose filled part takes a tone (quota: over the
// guarantee is fine, at the limit is a warning).
func (s *Styles) BarTone(frac float64, w int, t Tone) string {
	u, _, e := bar(frac, 0, w)
	fill := s.barFill
	if t != ToneNone {
		fill = s.tones[t]
	}
	return fill.Render(u) + s.barEmpty.Render(e)
}

var sparkGlyphs = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values in [0,1] as w cells, the newest on the right;
// missing history is blank.
func sparkline(values []float64, w int) string {
	if w <= 0 {
		return ""
	}
	if len(values) > w {
		values = values[len(values)-w:]
	}
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", w-len(values)))
	for _, v := range values {
		if math.IsNaN(v) || v < 0 {
			v = 0
		}
		i := int(math.Round(math.Min(v, 1) * float64(len(sparkGlyphs)-1)))
		b.WriteRune(sparkGlyphs[i])
	}
	return b.String()
}

// pct shows a fraction as a percentage.
func pct(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return itoa(int(math.Round(f*100))) + "%"
}

// shortDuration is "45s", "12m", "3h4m", "5d2h".
func shortDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return itoa(int(d.Milliseconds())) + "ms"
	case d < time.Minute:
		return itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 || m >= 10 {
			return itoa(m) + "m"
		}
		return itoa(m) + "m" + itoa(s) + "s"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return itoa(h) + "h"
		}
		return itoa(h) + "h" + itoa(m) + "m"
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	return itoa(days) + "d" + itoa(h) + "h"
}

// age is how long before now t was ("-" for the zero time).
func age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return shortDuration(now.Sub(t))
}
