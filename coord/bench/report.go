package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is the JSON document `strata bench coord -o json` prints: the
// shared config and one result per target, in the order they ran.
type Report struct {
	Config  Config    `json:"config"`
	Results []*Result `json:"results"`
}

// WriteJSON writes the results as an indented Report.
func WriteJSON(w io.Writer, cfg Config, results []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Report{Config: cfg.withDefaults(), Results: results}); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// WriteTable writes the results as one table with a column per target and,
// for each target after the first, a column of its ratio to the first, so
// "strata/zookeeper 2.1×" reads directly off the page.
func WriteTable(w io.Writer, cfg Config, results []*Result) error {
	t, err := buildTable(cfg, results)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%s\n\n", t.title); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if err := t.write(w); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// WriteMarkdown writes the same table as WriteTable in GitHub Markdown, for
// pasting into the README.
func WriteMarkdown(w io.Writer, cfg Config, results []*Result) error {
	t, err := buildTable(cfg, results)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%s\n\n", t.title); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	if err := t.writeMarkdown(w); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

func buildTable(cfg Config, results []*Result) (*table, error) {
	cfg = cfg.withDefaults()
	if len(results) == 0 {
		return nil, fmt.Errorf("write table: no results")
	}
	header := []string{"", ""}
	for _, r := range results {
		header = append(header, r.Target.Label)
	}
	for _, r := range results[1:] {
		header = append(header, r.Target.Label+"/"+results[0].Target.Label)
	}
	title := fmt.Sprintf("strata bench coord: %d ops per async phase, %d sequential, %d-byte values",
		cfg.Ops, cfg.SeqOps, cfg.ValueSize)
	if cfg.Rounds > 1 {
		title += fmt.Sprintf(", medians of %d rounds", cfg.Rounds)
	}
	t := &table{cols: len(header), title: title}
	t.add(header...)

	// metric is one table row: a name and how to read it from a result.
	type metric struct {
		name string
		get  func(*Result) (float64, bool)
		fmt  func(float64) string
	}
	row := func(label string, m metric) {
		cells := []string{label, m.name}
		vals := make([]float64, len(results))
		have := make([]bool, len(results))
		for i, r := range results {
			vals[i], have[i] = m.get(r)
			if have[i] {
				cells = append(cells, m.fmt(vals[i]))
			} else {
				cells = append(cells, "–")
			}
		}
		for i := 1; i < len(results); i++ {
			if have[0] && have[i] && vals[0] != 0 {
				cells = append(cells, fmt.Sprintf("%.2f×", vals[i]/vals[0]))
			} else {
				cells = append(cells, "–")
			}
		}
		t.add(cells...)
	}
	phase := func(key string, pick func(Phase) float64) func(*Result) (float64, bool) {
		return func(r *Result) (float64, bool) {
			for _, p := range r.Phases {
				if p.Key() == key {
					return pick(p), true
				}
			}
			return 0, false
		}
	}
	opsPerSec := func(key string) metric {
		return metric{"ops/s", phase(key, func(p Phase) float64 { return p.OpsPerSec }), fmtRate}
	}
	p50 := func(key string) metric {
		return metric{"p50", phase(key, func(p Phase) float64 { return float64(p.Latency.P50) }), fmtDurationF}
	}
	p99 := func(key string) metric {
		return metric{"p99", phase(key, func(p Phase) float64 { return float64(p.Latency.P99) }), fmtDurationF}
	}

	keys := phaseKeys(results)
	if key := ModeSequential + " create 1/1"; keys[key] {
		row("sequential create", opsPerSec(key))
		row("", p50(key))
		row("", p99(key))
	}
	for _, layout := range []struct{ inFlight, sessions int }{
		{cfg.InFlight, 1}, {cfg.SessionsInFlight, cfg.Sessions},
	} {
		titled := false
		for _, op := range []string{"create", "set", "get", "delete"} {
			key := fmt.Sprintf("%s %s %d/%d", ModeAsync, op, layout.inFlight, layout.sessions)
			if !keys[key] {
				continue
			}
			if !titled {
				t.add(fmt.Sprintf("async, %d in flight on %d session%s", layout.inFlight, layout.sessions, plural(layout.sessions)))
				titled = true
			}
			row("  "+op, opsPerSec(key))
			row("", p99(key))
		}
	}
	if key := ModeWatch + " watch 1/2"; keys[key] {
		row("data watch latency", p50(key))
		row("", p99(key))
	}
	if m := firstMemory(results); m != nil {
		mem := func(name string, pick func(*Memory) int64) metric {
			return metric{name, func(r *Result) (float64, bool) {
				if r.Memory == nil {
					return 0, false
				}
				return float64(pick(r.Memory)), true
			}, func(v float64) string { return fmtBytes(int64(v)) }}
		}
		label := fmt.Sprintf("memory, %s znodes", fmtRate(float64(m.Znodes)))
		row(label, mem("RSS", func(m *Memory) int64 { return m.RSS }))
		row("", mem("RSS before", func(m *Memory) int64 { return m.RSSBefore }))
	}
	return t, nil
}

// phaseKeys is the set of phase keys present in any result: a row is
// printed when at least one target has it.
func phaseKeys(results []*Result) map[string]bool {
	keys := map[string]bool{}
	for _, r := range results {
		for _, p := range r.Phases {
			keys[p.Key()] = true
		}
	}
	return keys
}

func firstMemory(results []*Result) *Memory {
	for _, r := range results {
		if r.Memory != nil {
			return r.Memory
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// table lays out rows with the first two columns left-aligned and the
// numbers right-aligned; a row with one cell is a section title.
type table struct {
	title string
	cols  int
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	width := make([]int, t.cols)
	for _, r := range t.rows {
		if len(r) == 1 {
			continue
		}
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		if len(r) == 1 {
			b.WriteString(r[0])
			b.WriteByte('\n')
			continue
		}
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i < 2:
				line.WriteString(c + pad + "  ")
			default:
				line.WriteString("  " + pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMarkdown writes the rows as a Markdown table: the header row first,
// section titles in bold, numbers right-aligned.
func (t *table) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	for n, r := range t.rows {
		cells := make([]string, t.cols)
		if len(r) == 1 {
			cells[0] = "**" + r[0] + "**"
		} else {
			copy(cells, r)
		}
		for i := range cells {
			cells[i] = strings.ReplaceAll(strings.TrimSpace(cells[i]), "|", "\\|")
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		if n == 0 {
			b.WriteString("|---|---|")
			for i := 2; i < t.cols; i++ {
				b.WriteString("---:|")
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtRate prints a count or rate with thousands separators: 10,812.
func fmtRate(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fmtDuration prints a latency in milliseconds with three significant
// digits, the unit the README compares in.
func fmtDuration(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.3f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.2f ms", ms)
	default:
		return fmt.Sprintf("%.1f ms", ms)
	}
}

func fmtDurationF(v float64) string { return fmtDuration(time.Duration(v)) }

func fmtBytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
