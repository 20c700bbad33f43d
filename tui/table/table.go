package table

import (
	"bytes"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
	ltable "github.com/charmbracelet/lipgloss/table"
	"github.com/muesli/termenv"
	"golang.org/x/term"
)

// Column is one column of a Table. Wide columns appear only with -o wide,
// so the default view fits a terminal and the wide one has everything.
type Column struct {
	Header string
	Wide   bool
	Right  bool // numbers read best right-aligned
}

// Table is what a list verb shows: columns and rows of cells, rendered by
// Render. A row's cells line up with Columns.
type Table struct {
	Columns []Column
	Rows    [][]string
	// Tones colour a whole row (by index) when colour is on, e.g. a
	// failed task red; rows without one are plain.
	Tones map[int]Tone
}

// Tone is a row's colour meaning.
type Tone int

const (
	ToneNone Tone = iota
	ToneGood
	ToneWarn
	ToneBad
	ToneDim
)

// Style says how output is decorated. Colour is only for terminals, and
// never when NO_COLOR is set (https://no-color.org).
type Style struct {
	Color bool
}

// StyleFor decides the Style for w: colour when w is a terminal and
// NO_COLOR is unset or empty.
func StyleFor(w io.Writer) Style {
	if s, ok := w.(styled); ok {
		return s.tableStyle()
	}
	if os.Getenv("NO_COLOR") != "" {
		return Style{}
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return Style{}
	}
	return Style{Color: true}
}

// styled is a writer that knows the Style of where its bytes end up
// (Watch's buffer for a terminal).
type styled interface{ tableStyle() Style }

type styledBuffer struct {
	bytes.Buffer
	st Style
}

func (b *styledBuffer) tableStyle() Style { return b.st }

// renderer returns a lipgloss renderer that emits escape codes only when
// the style asks for colour: lipgloss would otherwise guess from the
// process's stdout, which is wrong for a pipe or a test buffer.
func (s Style) renderer(w io.Writer) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(w)
	if s.Color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return r
}

func (s Style) tone(r *lipgloss.Renderer, t Tone) lipgloss.Style {
	st := r.NewStyle()
	if !s.Color {
		return st
	}
	switch t {
	case ToneGood:
		return st.Foreground(lipgloss.Color("2"))
	case ToneWarn:
		return st.Foreground(lipgloss.Color("3"))
	case ToneBad:
		return st.Foreground(lipgloss.Color("1"))
	case ToneDim:
		return st.Foreground(lipgloss.Color("8"))
	}
	return st
}

// Render writes t as aligned columns without borders (kubectl's look), a
// header row first; wide shows the Wide columns too. Cells are separated
// by three spaces and trailing blanks are trimmed, so the output diffs
// cleanly in golden files.
func (t *Table) Render(w io.Writer, wide bool, st Style) error {
	var keep []int
	var headers []string
	for i, c := range t.Columns {
		if c.Wide && !wide {
			continue
		}
		keep = append(keep, i)
		headers = append(headers, c.Header)
	}
	rows := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		row := make([]string, len(keep))
		for j, k := range keep {
			if k < len(r) {
				row[j] = strings.ReplaceAll(r[k], "\n", " ")
			}
		}
		rows[i] = row
	}
	r := st.renderer(w)
	header := r.NewStyle().PaddingRight(3)
	if st.Color {
		header = header.Bold(true)
	}
	lt := ltable.New().
		Border(lipgloss.HiddenBorder()).
		BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
		BorderHeader(false).BorderColumn(false).BorderRow(false).
		Headers(headers...).
		Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			var s lipgloss.Style
			if row == ltable.HeaderRow {
				s = header
			} else {
				s = st.tone(r, t.Tones[row]).PaddingRight(3)
			}
			if col < len(keep) && t.Columns[keep[col]].Right {
				s = s.Align(lipgloss.Right)
			}
			return s
		})
	var b strings.Builder
	for line := range strings.SplitSeq(lt.Render(), "\n") {
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// KV is a two-column "FIELD  VALUE" view for show verbs.
type KV struct {
	Pairs [][2]string
}

// Add appends a field; empty values are shown as "-" so every field of a
// show view is visible.
func (kv *KV) Add(key, value string) {
	if value == "" {
		value = "-"
	}
	kv.Pairs = append(kv.Pairs, [2]string{key, value})
}

// Render writes the pairs with keys padded to one width.
func (kv *KV) Render(w io.Writer, st Style) error {
	width := 0
	for _, p := range kv.Pairs {
		width = max(width, lipgloss.Width(p[0]))
	}
	r := st.renderer(w)
	key := r.NewStyle().Width(width + 2)
	if st.Color {
		key = key.Bold(true)
	}
	var b strings.Builder
	for _, p := range kv.Pairs {
		b.WriteString(key.Render(p[0] + ":"))
		b.WriteString(strings.ReplaceAll(p[1], "\n", " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
