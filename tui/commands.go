package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// actionCommand runs the `:` commands that act, k9s-style, without first
// selecting a row: `:deploy FILE|id cmd [instances] [cpus] [mem]`,
// `:scale APP N` and `:run JOB`. Each still asks for confirmation, and
// none exists in a read-only dashboard. It reports whether text was one.
func (m *Model) actionCommand(text string) bool {
	verb, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	rest = strings.TrimSpace(rest)
	switch verb {
	case "deploy", "scale", "run":
	default:
		return false
	}
	if m.opts.ReadOnly {
		m.setNotice(":"+verb+": read-only: actions are off", ToneBad)
		return true
	}
	switch verb {
	case "deploy":
		if m.apps == nil {
			m.setNotice("deploy: this dashboard has no marathon client", ToneBad)
			return true
		}
		def, what, err := parseDeploy(rest)
		if err != nil {
			m.setNotice(err.Error(), ToneBad)
			return true
		}
		src := m.apps
		m.confirm = &pendingAction{what: what, run: func(ctx context.Context, _ Backend) error { return src.Deploy(ctx, def) }}
	case "scale":
		f := strings.Fields(rest)
		n := -1
		if len(f) == 2 {
			if v, err := strconv.Atoi(f[1]); err == nil {
				n = v
			}
		}
		if n < 0 {
			m.setNotice(fmt.Sprintf(":scale %q: want :scale APP N (N a whole number ≥ 0)", rest), ToneBad)
			return true
		}
		if m.apps == nil {
			m.setNotice("scale: this dashboard has no marathon client", ToneBad)
			return true
		}
		id, src := "/"+strings.Trim(f[0], "/"), m.apps
		m.confirm = &pendingAction{
			what: fmt.Sprintf("scale app %s to %d instances (marathon deployment)", id, n),
			run:  func(ctx context.Context, _ Backend) error { return src.Scale(ctx, id, n) },
		}
	case "run":
		if rest == "" || strings.ContainsAny(rest, " \t") {
			m.setNotice(fmt.Sprintf(":run %q: want :run JOB", rest), ToneBad)
			return true
		}
		if m.jobs == nil {
			m.setNotice("run: this dashboard has no chronos client", ToneBad)
			return true
		}
		name, src := rest, m.jobs
		m.confirm = &pendingAction{
			what: "run job " + name + " now (a manual run)",
			run:  func(ctx context.Context, _ Backend) error { return src.RunJob(ctx, name) },
		}
	}
	return true
}
