package tui

import (
	"cmp"
	"slices"
	"strings"
)

// grid is the list every table view shows: rows built from the cluster
// when it changed, filtered and sorted once, and rendered a screenful at a
// time — a frame costs the visible rows, never all 10,000 tasks.
type grid struct {
	cols []column
	rows []row // all rows, as built
	view []int // indices into rows: filtered and sorted

	cursor, offset int // into view
	sortCol        int
	sortDesc       bool
	filter         string // as typed; "!x" inverts
	selectedID     string // keeps the cursor on its row across rebuilds
	builtAt        uint64 // Cluster.Version the rows reflect
	built          bool
}

// column describes one column. Width is its minimum; Flex columns share
// what is left. Columns with a higher Drop are hidden first when the
// screen is narrow (0: never).
type column struct {
	Title string
	Width int
	Flex  int
	Right bool
	Bar   bool // the cell's bar fills the column, its text after it
	Drop  int
}

// row is one object: its cells, a stable ID, and the object itself for
// describe, logs and actions.
type row struct {
	id    string
	cells []cell
	obj   any
	hay   string // lower-case text of all cells, for the filter
	live  bool   // for views that list live objects first
}

// cell is a column's value: text, a tone, and for numeric columns the
// number to sort by (and for bar columns the fractions to draw).
type cell struct {
	text          string
	tone          Tone
	num           float64
	isNum         bool
	used, offered float64 // bar columns
}

func txt(s string) cell               { return cell{text: s} }
func toned(s string, t Tone) cell     { return cell{text: s, tone: t} }
func number(s string, v float64) cell { return cell{text: s, num: v, isNum: true} }
func barCell(label string, used, offered float64) cell {
	return cell{text: label, num: used + offered, isNum: true, used: used, offered: offered}
}

// setRows replaces the rows, keeping filter, sort and the selected row.
func (g *grid) setRows(rows []row, version uint64) {
	for i := range rows {
		if rows[i].hay == "" {
			rows[i].hay = hayOf(rows[i].cells)
		}
	}
	g.rows, g.builtAt, g.built = rows, version, true
	g.refilter()
}

// refilter recomputes the view after the rows, filter or sort changed.
func (g *grid) refilter() {
	f, invert := parseFilter(g.filter)
	g.view = g.view[:0]
	for i := range g.rows {
		if f == "" || strings.Contains(g.rows[i].hay, f) != invert {
			g.view = append(g.view, i)
		}
	}
	if g.sortCol >= 0 && g.sortCol < len(g.cols) {
		c := g.sortCol
		slices.SortStableFunc(g.view, func(a, b int) int {
			ca, cb := g.rows[a].cells[c], g.rows[b].cells[c]
			var r int
			if ca.isNum && cb.isNum {
				r = cmp.Compare(ca.num, cb.num)
			} else {
				r = strings.Compare(ca.text, cb.text)
			}
			if r == 0 {
				r = strings.Compare(g.rows[a].id, g.rows[b].id)
			}
			if g.sortDesc {
				r = -r
			}
			return r
		})
	}
	g.cursor = 0
	if g.selectedID != "" {
		for i, ri := range g.view {
			if g.rows[ri].id == g.selectedID {
				g.cursor = i
				break
			}
		}
	}
	g.clamp(0)
}

// parseFilter reads the filter: lower-cased text, and whether a leading
// "!" inverts it.
func parseFilter(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(s, "!") {
		return strings.TrimSpace(s[1:]), true
	}
	return s, false
}

// selected returns the row under the cursor.
func (g *grid) selected() *row {
	if g.cursor < 0 || g.cursor >= len(g.view) {
		return nil
	}
	return &g.rows[g.view[g.cursor]]
}

// move shifts the cursor by d rows (clamped) within a page of height h.
func (g *grid) move(d, h int) {
	g.cursor += d
	g.clamp(h)
}

func (g *grid) clamp(h int) {
	if g.cursor >= len(g.view) {
		g.cursor = len(g.view) - 1
	}
	if g.cursor < 0 {
		g.cursor = 0
	}
	if h > 0 {
		if g.cursor < g.offset {
			g.offset = g.cursor
		}
		if g.cursor >= g.offset+h {
			g.offset = g.cursor - h + 1
		}
	}
	if g.offset > max(0, len(g.view)-1) {
		g.offset = max(0, len(g.view)-1)
	}
	if g.offset < 0 {
		g.offset = 0
	}
	if r := g.selected(); r != nil {
		g.selectedID = r.id
	}
}

// nextSort moves the sort to the next column (wrapping to "as built").
func (g *grid) nextSort() {
	g.sortCol++
	if g.sortCol >= len(g.cols) {
		g.sortCol = -1
	}
	g.refilter()
}

// layout picks the columns that fit w and their widths.
func (g *grid) layout(w int) (idx []int, widths []int) {
	idx = make([]int, 0, len(g.cols))
	for i := range g.cols {
		idx = append(idx, i)
	}
	need := func() int {
		n := 0
		for _, i := range idx {
			n += g.cols[i].Width + 1
		}
		return n
	}
	for need() > w {
		worst, at := 0, -1
		for k, i := range idx {
			if d := g.cols[i].Drop; d > worst {
				worst, at = d, k
			}
		}
		if at < 0 {
			break
		}
		idx = slices.Delete(idx, at, at+1)
	}
	widths = make([]int, len(idx))
	flex := 0
	for k, i := range idx {
		widths[k] = g.cols[i].Width
		flex += g.cols[i].Flex
	}
	if spare := w - need(); spare > 0 && flex > 0 {
		left := spare
		for k, i := range idx {
			if f := g.cols[i].Flex; f > 0 {
				add := spare * f / flex
				widths[k] += add
				left -= add
			}
		}
		for k, i := range idx { // rounding leftovers go to the first flex column
			if g.cols[i].Flex > 0 {
				widths[k] += left
				break
			}
		}
	}
	return idx, widths
}

// render draws the header and h-1 rows at width w.
func (g *grid) render(s *Styles, w, h int) []string {
	if h < 1 {
		return nil
	}
	idx, widths := g.layout(w - 1)
	lines := make([]string, 0, h)
	var hb strings.Builder
	hb.WriteByte(' ') // the cursor's gutter
	for k, i := range idx {
		c := g.cols[i]
		title := c.Title
		if i == g.sortCol {
			if g.sortDesc {
				title += "▼"
			} else {
				title += "▲"
			}
		}
		if k > 0 {
			hb.WriteByte(' ')
		}
		hb.WriteString(fitPlain(title, widths[k], c.Right))
	}
	lines = append(lines, s.ColumnHeader.Render(fit(hb.String(), w)))
	body := h - 1
	g.clamp(body)
	if len(g.view) == 0 {
		msg := "  nothing to show"
		if g.filter != "" {
			msg = "  nothing matches the filter " + g.filter
		}
		lines = append(lines, s.Tone(ToneDim, fit(msg, w)))
	}
	for r := g.offset; r < len(g.view) && len(lines) < h; r++ {
		rw := &g.rows[g.view[r]]
		sel := r == g.cursor
		var b strings.Builder
		// A marker as well as reverse video: without colour (NO_COLOR,
		// dumb terminals) the selection must still be seen.
		if sel {
			b.WriteByte('>')
		} else {
			b.WriteByte(' ')
		}
		for k, i := range idx {
			if k > 0 {
				b.WriteByte(' ')
			}
			c := g.cols[i]
			cl := rw.cells[i]
			if c.Bar {
				lw := min(ansiWidth(cl.text), widths[k]-4) // the bar keeps 3 cells
				bw := widths[k] - lw - 1
				switch {
				case sel:
					u, o, e := bar(cl.used, cl.offered, bw)
					b.WriteString(u + o + e)
				case cl.tone != ToneNone:
					b.WriteString(s.BarTone(cl.used, bw, cl.tone))
				default:
					b.WriteString(s.Bar(cl.used, cl.offered, bw))
				}
				b.WriteByte(' ')
				b.WriteString(fitPlain(cl.text, lw, true))
				continue
			}
			t := fitPlain(cl.text, widths[k], c.Right)
			if sel {
				b.WriteString(t)
			} else {
				b.WriteString(s.Tone(cl.tone, t))
			}
		}
		line := b.String()
		if sel {
			line = s.Selected.Render(fit(line, w))
		} else {
			line = fit(line, w)
		}
		lines = append(lines, line)
	}
	return lines
}

// position is "12/10000" for the footer.
func (g *grid) position() string {
	if len(g.view) == 0 {
		return "0/" + itoa(len(g.rows))
	}
	return itoa(g.cursor+1) + "/" + itoa(len(g.view))
}

// hayOf is the lower-case text of cells, which the filter searches.
func hayOf(cells []cell) string {
	var b strings.Builder
	for _, c := range cells {
		b.WriteString(c.text)
		b.WriteByte(' ')
	}
	return strings.ToLower(b.String())
}
