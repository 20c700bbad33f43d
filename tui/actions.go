package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// Every action that changes the cluster goes through a pendingAction:
// the footer names exactly what will happen and nothing is sent until
// the operator confirms. With --readonly their keys are disabled, so
// these functions are never reached.

type pendingAction struct {
	what   string // "drain agent a1 (...)": shown before and after
	run    func(ctx context.Context, b Backend) error
	roles  bool // re-read roles and quota afterwards
	agents bool // re-read the agents' drain state afterwards
}

type actionDoneMsg struct {
	what          string
	err           error
	roles, agents bool
}

type agentsMsg struct {
	agents *mesos.GetAgents
	err    error
}

// prompt asks for a value before an action can be confirmed.
type prompt struct {
	submit func(text string) (*pendingAction, error)
}

func (m *Model) runAction(a *pendingAction) tea.Cmd {
	if m.opts.ReadOnly || m.backend == nil {
		m.setNotice("read-only: "+a.what+" not sent", ToneBad)
		return nil
	}
	m.setNotice("sending: "+a.what, ToneInfo)
	ctx, b := m.ctx, m.backend
	return func() tea.Msg {
		return actionDoneMsg{what: a.what, err: a.run(ctx, b), roles: a.roles, agents: a.agents}
	}
}

func (m *Model) actionDone(msg actionDoneMsg) tea.Cmd {
	if msg.err != nil {
		m.setNotice("failed: "+msg.what+": "+client.Explain(msg.err).Error(), ToneBad)
		return nil
	}
	m.setNotice("done: "+msg.what, ToneGood)
	switch {
	case msg.roles:
		return m.rolesCmd()
	case msg.agents:
		ctx, b := m.ctx, m.backend
		return func() tea.Msg {
			g, err := b.Agents(ctx)
			return agentsMsg{agents: g, err: err}
		}
	}
	return nil
}

// selectedObj is the object under the cursor of the active list.
func (m *Model) selectedObj() any {
	if m.views[m.active].build == nil {
		return nil
	}
	if r := m.grids[m.active].selected(); r != nil {
		return r.obj
	}
	return nil
}

func (m *Model) askKill() {
	t, ok := m.selectedObj().(*mesos.Task)
	if !ok {
		m.setNotice("kill: select a task in the Tasks view", ToneDim)
		return
	}
	if t.State.IsTerminal() {
		m.setNotice("kill: task "+string(t.TaskID)+" is already "+shortState(t.State), ToneDim)
		return
	}
	tc, fw := *t, m.cluster.FrameworkName(t.FrameworkID) // the command runs beside Update
	m.confirm = &pendingAction{
		what: fmt.Sprintf("kill task %s (%s) of %s on %s", t.TaskID, orDash(t.Name), fwName(m.cluster, t.FrameworkID), m.cluster.AgentHost(t.AgentID)),
		run:  func(ctx context.Context, b Backend) error { return b.KillTask(ctx, &tc, fw) },
	}
}

// selectedRole is the role of the row under the cursor (Roles or Quota).
func (m *Model) selectedRole() (string, bool) {
	switch o := m.selectedObj().(type) {
	case *RoleRow:
		return o.Name, true
	case *quotaRow:
		return o.Role, true
	}
	return "", false
}

func (m *Model) askWeight() {
	role, ok := m.selectedRole()
	if !ok {
		m.setNotice("weight: select a role in the Roles or Quota view", ToneDim)
		return
	}
	cur := 1.0
	for _, r := range m.cluster.RoleRows() {
		if r.Name == role {
			cur = r.Weight
		}
	}
	m.mode = modePrompt
	m.input.set(fmt.Sprintf("weight of role %s (now %s): ", role, num(cur)), "")
	m.prompt = &prompt{submit: func(text string) (*pendingAction, error) {
		w, err := strconv.ParseFloat(text, 64)
		if err != nil || !(w > 0) {
			return nil, fmt.Errorf("weight %q: want a positive number", text)
		}
		return &pendingAction{
			what:  fmt.Sprintf("set the weight of role %s from %s to %s (UPDATE_WEIGHTS)", role, num(cur), num(w)),
			run:   func(ctx context.Context, b Backend) error { return b.UpdateWeight(ctx, role, w) },
			roles: true,
		}, nil
	}}
}

func (m *Model) askQuota() {
	role, ok := m.selectedRole()
	if !ok {
		m.setNotice("quota: select a role in the Roles or Quota view", ToneDim)
		return
	}
	var cur mesos.QuotaConfig
	for _, q := range m.cluster.Quota {
		if q.Role == role {
			cur = q
		}
	}
	m.mode = modePrompt
	m.input.set("quota of "+role+" as GUARANTEES | LIMITS (cpus:2;mem:1024 | cpus:4; empty: none): ",
		quotaSpec(cur.Guarantees)+" | "+quotaSpec(cur.Limits))
	m.prompt = &prompt{submit: func(text string) (*pendingAction, error) {
		q, err := parseQuota(role, text)
		if err != nil {
			return nil, err
		}
		return &pendingAction{
			what: fmt.Sprintf("set the quota of role %s to guarantees {%s} limits {%s} (UPDATE_QUOTA)",
				role, quotaLine(q.Guarantees), quotaLine(q.Limits)),
			run:   func(ctx context.Context, b Backend) error { return b.UpdateQuota(ctx, q) },
			roles: true,
		}, nil
	}}
}

// quotaSpec writes a quota map the way parseQuota reads it.
func quotaSpec(m map[string]mesos.Scalar) string {
	var parts []string
	for _, n := range sortedNames(keysOf(m)) {
		parts = append(parts, n+":"+m[n].String())
	}
	return strings.Join(parts, ";")
}

func keysOf(m map[string]mesos.Scalar) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// parseQuota reads "cpus:2;mem:1024 | cpus:4;mem:4096" (guarantees, then
// optional limits; mem and disk in megabytes).
func parseQuota(role, text string) (mesos.QuotaConfig, error) {
	q := mesos.QuotaConfig{Role: role}
	gs, ls, _ := strings.Cut(text, "|")
	var err error
	if q.Guarantees, err = parseQuantities(gs, "guarantees"); err != nil {
		return q, err
	}
	if q.Limits, err = parseQuantities(ls, "limits"); err != nil {
		return q, err
	}
	if err := mesos.Validate(&mesos.UpdateQuota{QuotaConfigs: []mesos.QuotaConfig{q}}); err != nil {
		return q, fmt.Errorf("quota of %s: %w", role, err)
	}
	return q, nil
}

func parseQuantities(s, field string) (map[string]mesos.Scalar, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	out := map[string]mesos.Scalar{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%s: %q: want name:value", field, part)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%s[%s]: %q is not a non-negative number", field, strings.TrimSpace(name), val)
		}
		out[strings.TrimSpace(name)] = mesos.ScalarOf(v)
	}
	return out, nil
}

func (m *Model) askDrain(drain bool) {
	a, ok := m.selectedObj().(*mesos.Agent)
	if !ok || a.AgentInfo == nil {
		m.setNotice("drain/reactivate: select an agent in the Agents view", ToneDim)
		return
	}
	id, host := a.AgentInfo.ID, a.AgentInfo.Hostname
	if drain {
		n := m.cluster.Totals().perAgentTasks[id]
		m.confirm = &pendingAction{
			what:   fmt.Sprintf("drain agent %s (%s): kill its %d task(s) and send it no more offers (DRAIN_AGENT)", host, id, n),
			run:    func(ctx context.Context, b Backend) error { return b.DrainAgent(ctx, id) },
			agents: true,
		}
		return
	}
	m.confirm = &pendingAction{
		what:   fmt.Sprintf("reactivate agent %s (%s): offer its resources again (REACTIVATE_AGENT)", host, id),
		run:    func(ctx context.Context, b Backend) error { return b.ReactivateAgent(ctx, id) },
		agents: true,
	}
}
