package tui

import (
	"context"
	"errors"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// Options configure the dashboard.
type Options struct {
	Backend Backend
	// Cluster names the cluster in the header (the --master as shown).
	Cluster string
	// ReadOnly removes every action that changes the cluster.
	ReadOnly bool
	// Keys is the keymap (nil: DefaultKeyMap).
	Keys *KeyMap
	// Renderer fixes the colour profile (nil: detected from stdout).
	Renderer *lipgloss.Renderer
	// Now is the clock (nil: time.Now); tests fix it.
	Now func() time.Time
	// Apps and Jobs are marathon and chronos for their views and actions
	// (nil: the views say what the master knows of them).
	Apps AppsSource
	Jobs JobsSource
	// RolesEvery is how often roles and quota, which have no events, are
	// read again (default 15s; negative: only at subscription and after
	// the dashboard's own changes).
	RolesEvery time.Duration
}

// connStatus is the stream's condition, shown in the header.
type connStatus int

const (
	connConnecting connStatus = iota
	connLive
	connReconnecting
	connRefused // the master refused the subscription (401/403): retried slowly
)

type connState struct {
	status     connStatus
	err        error
	since      time.Time // when the current status began
	reconnects int
	leaderURL  string
}

// mode is what the keyboard drives right now.
type mode int

const (
	modeList mode = iota
	modeFilter
	modeCommand
	modePrompt
)

// Model is the dashboard: a bubbletea model owning the cluster store, one
// grid per table view, and the overlays (describe, logs, confirmation,
// help). Use it through tea.NewProgram(m); Close stops what it started.
type Model struct {
	opts    Options
	backend Backend
	keys    *KeyMap
	styles  *Styles
	now     func() time.Time

	cluster *Cluster
	views   []*viewSpec
	grids   []*grid
	active  int
	w, h    int

	mode     mode
	input    lineInput
	prompt   *prompt
	confirm  *pendingAction
	describe *describeState
	logs     *logsState
	help     bool
	paused   bool // Events view frozen

	conn        connState
	notice      string
	noticeTone  Tone
	noticeUntil time.Time

	lastBuild      time.Time
	refreshPending bool
	lastRoles      time.Time
	lastTick       time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // log tails
	logGen int

	apps AppsSource
	jobs JobsSource
}

// New returns the dashboard model. Nothing is dialled until the program
// runs Init.
func New(opts Options) *Model {
	if opts.Keys == nil {
		opts.Keys = DefaultKeyMap()
	}
	if opts.ReadOnly {
		opts.Keys.SetReadOnly()
	}
	if opts.Renderer == nil {
		opts.Renderer = lipgloss.DefaultRenderer()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if l, ok := opts.Backend.(*Live); ok && opts.Apps == nil && opts.Jobs == nil {
		opts.Apps, opts.Jobs = l.Apps, l.Jobs
	}
	if opts.RolesEvery == 0 {
		opts.RolesEvery = 15 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Model{opts: opts, backend: opts.Backend, keys: opts.Keys, styles: NewStyles(opts.Renderer),
		now: opts.Now, cluster: NewCluster(), views: allViews(), ctx: ctx, cancel: cancel,
		apps: opts.Apps, jobs: opts.Jobs}
	for _, v := range m.views {
		m.grids = append(m.grids, &grid{cols: v.cols, sortCol: v.defaultSort, sortDesc: v.sortDesc})
	}
	m.conn.since = m.now()
	return m
}

// Close stops the stream and any log tail, and waits for them.
func (m *Model) Close() {
	m.cancel()
	if m.logs != nil {
		m.logs.cancel()
	}
	m.wg.Wait()
}

// Cluster is the store behind the views (tests and benchmarks fill it).
func (m *Model) Cluster() *Cluster { return m.cluster }

// messages

type subscribedMsg struct {
	ch  <-chan client.OperatorUpdate
	err error
}

type updatesMsg struct {
	updates []client.OperatorUpdate
	ch      <-chan client.OperatorUpdate
	closed  bool
}

type rolesMsg struct {
	roles *mesos.GetRoles
	quota *mesos.GetQuota
	err   error
}

type masterMsg struct {
	info *mesos.MasterInfo
	url  string
	err  error
}

type tickMsg time.Time
type refreshMsg struct{}
type reconnectMsg struct{}

// Init subscribes and starts the clock.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.subscribeCmd(), tick())
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func (m *Model) subscribeCmd() tea.Cmd {
	if m.backend == nil {
		return nil
	}
	ctx := m.ctx
	return func() tea.Msg {
		ch, err := m.backend.Subscribe(ctx)
		return subscribedMsg{ch: ch, err: err}
	}
}

// waitUpdates receives the next update and whatever else is already
// queued, so a burst of events costs one frame, not one each.
func waitUpdates(ctx context.Context, ch <-chan client.OperatorUpdate) tea.Cmd {
	return func() tea.Msg {
		var first client.OperatorUpdate
		var ok bool
		select {
		case first, ok = <-ch:
		case <-ctx.Done():
			return nil
		}
		if !ok {
			return updatesMsg{ch: ch, closed: true}
		}
		batch := []client.OperatorUpdate{first}
		for len(batch) < 1024 {
			select {
			case u, ok := <-ch:
				if !ok {
					return updatesMsg{updates: batch, ch: ch, closed: true}
				}
				batch = append(batch, u)
			default:
				return updatesMsg{updates: batch, ch: ch}
			}
		}
		return updatesMsg{updates: batch, ch: ch}
	}
}

func (m *Model) rolesCmd() tea.Cmd {
	if m.backend == nil {
		return nil
	}
	m.lastRoles = m.now()
	ctx := m.ctx
	return func() tea.Msg {
		r, q, err := m.backend.Roles(ctx)
		return rolesMsg{roles: r, quota: q, err: err}
	}
}

func (m *Model) masterCmd() tea.Cmd {
	if m.backend == nil {
		return nil
	}
	ctx := m.ctx
	return func() tea.Msg {
		info, url, err := m.backend.Master(ctx)
		return masterMsg{info: info, url: url, err: err}
	}
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if c := m.sync(); c != nil {
		cmd = tea.Batch(cmd, c)
	}
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		return nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	case tea.MouseMsg:
		m.mouse(msg)
		return nil
	case subscribedMsg:
		if msg.err != nil {
			st, wait := connReconnecting, 2*time.Second
			if errors.Is(msg.err, client.ErrUnauthorized) || errors.Is(msg.err, client.ErrForbidden) {
				st, wait = connRefused, 10*time.Second
			}
			m.setConn(st, msg.err)
			return tea.Tick(wait, func(time.Time) tea.Msg { return reconnectMsg{} })
		}
		return waitUpdates(m.ctx, msg.ch)
	case reconnectMsg:
		return m.subscribeCmd()
	case updatesMsg:
		return m.applyUpdates(msg)
	case rolesMsg:
		if msg.err != nil {
			m.setNotice("roles and quota: "+client.Explain(msg.err).Error(), ToneBad)
		}
		if msg.roles != nil || msg.quota != nil {
			m.cluster.SetRoles(msg.roles, msg.quota)
		}
		return nil
	case masterMsg:
		return m.applyMaster(msg)
	case tickMsg:
		return m.onTick()
	case refreshMsg:
		m.refreshPending = false
		return nil
	case actionDoneMsg:
		return m.actionDone(msg)
	case agentsMsg:
		if msg.err != nil {
			m.setNotice("agents: "+client.Explain(msg.err).Error(), ToneBad)
		}
		m.cluster.MergeAgents(msg.agents)
		return nil
	case logMsg:
		return m.applyLog(msg)
	}
	return nil
}

func (m *Model) setConn(s connStatus, err error) {
	if m.conn.status != s {
		m.conn.since = m.now()
	}
	m.conn.status, m.conn.err = s, err
}

// applyUpdates folds a batch of stream updates into the cluster, and
// notes gaps and reconnections for the header.
func (m *Model) applyUpdates(msg updatesMsg) tea.Cmd {
	var cmds []tea.Cmd
	now := m.now()
	for _, u := range msg.updates {
		if u.Err != nil {
			if m.conn.status == connLive {
				m.conn.reconnects++
			}
			m.setConn(connReconnecting, u.Err)
			continue
		}
		if u.Event == nil {
			continue
		}
		if u.Event.Type == mesos.OperatorEventSubscribed {
			if m.conn.status == connReconnecting || m.conn.status == connRefused {
				m.setNotice("stream reconnected after "+shortDuration(now.Sub(m.conn.since))+"; view rebuilt from a new snapshot", ToneWarn)
			}
			m.setConn(connLive, nil)
			cmds = append(cmds, m.masterCmd(), m.rolesCmd())
		}
		if m.conn.status == connConnecting {
			m.setConn(connLive, nil)
		}
		m.cluster.Apply(u.Event, now)
	}
	if msg.closed {
		if m.ctx.Err() != nil {
			return nil
		}
		// The client gave up (a refusal, not a network failure): keep
		// trying, slowly, and say so.
		if m.conn.err == nil {
			m.conn.err = errStreamEnded
		}
		st, wait := connReconnecting, 2*time.Second
		if errors.Is(m.conn.err, client.ErrUnauthorized) || errors.Is(m.conn.err, client.ErrForbidden) {
			st, wait = connRefused, 10*time.Second // a token will not fix itself quickly
		}
		m.setConn(st, m.conn.err)
		cmds = append(cmds, tea.Tick(wait, func(time.Time) tea.Msg { return reconnectMsg{} }))
		return tea.Batch(cmds...)
	}
	cmds = append(cmds, waitUpdates(m.ctx, msg.ch))
	return tea.Batch(cmds...)
}

var errStreamEnded = errorString("the master ended the stream")

type errorString string

func (e errorString) Error() string { return string(e) }

func (m *Model) applyMaster(msg masterMsg) tea.Cmd {
	if msg.err != nil {
		m.setNotice("master: "+client.Explain(msg.err).Error(), ToneBad)
		return nil
	}
	if m.conn.leaderURL != "" && msg.url != "" && msg.url != m.conn.leaderURL {
		m.setNotice("leader changed: "+m.conn.leaderURL+" → "+msg.url, ToneWarn)
	}
	if msg.url != "" {
		m.conn.leaderURL = msg.url
	}
	m.cluster.Master, m.cluster.MasterURL = msg.info, msg.url
	m.cluster.Version++
	return nil
}

func (m *Model) onTick() tea.Cmd {
	now := m.now()
	m.lastTick = now
	m.cluster.Sample(now)
	var cmds []tea.Cmd
	cmds = append(cmds, tick())
	if m.opts.RolesEvery > 0 && m.conn.status == connLive && now.Sub(m.lastRoles) >= m.opts.RolesEvery {
		cmds = append(cmds, m.rolesCmd())
	}
	if !m.noticeUntil.IsZero() && now.After(m.noticeUntil) {
		m.notice, m.noticeUntil = "", time.Time{}
	}
	if v := m.views[m.active]; v.ageing && v.build != nil {
		m.grids[m.active].built = false // ages moved
	}
	return tea.Batch(cmds...)
}

// setNotice shows a message in the footer for a while.
func (m *Model) setNotice(s string, t Tone) {
	m.notice, m.noticeTone = s, t
	m.noticeUntil = m.now().Add(8 * time.Second)
}

// bigList is the size above which a list is rebuilt at most every
// rebuildEvery while events pour in.
const (
	bigList      = 2000
	rebuildEvery = 250 * time.Millisecond
)

// sync rebuilds the active view's rows when the cluster changed, at most
// every rebuildEvery for big lists (a refresh is scheduled instead).
func (m *Model) sync() tea.Cmd {
	v, g := m.views[m.active], m.grids[m.active]
	if v.build == nil {
		return nil
	}
	version := m.cluster.Version + m.frameworkVersion(v)
	if g.built && g.builtAt == version {
		return nil
	}
	if v.name == "events" && m.paused && g.built {
		return nil
	}
	now := m.now()
	if g.built && len(g.rows) > bigList && now.Sub(m.lastBuild) < rebuildEvery {
		if m.refreshPending {
			return nil
		}
		m.refreshPending = true
		return tea.Tick(rebuildEvery, func(time.Time) tea.Msg { return refreshMsg{} })
	}
	g.setRows(m.viewRows(v, now))
	m.lastBuild = now
	return nil
}

// rebuild forces the active view's rows to be rebuilt now.
func (m *Model) rebuild() {
	m.grids[m.active].built = false
	m.lastBuild = time.Time{}
}

// switchTo makes view i active.
func (m *Model) switchTo(i int) {
	if i < 0 || i >= len(m.views) {
		return
	}
	m.active = i
	m.describe = nil
	m.rebuild()
}

// viewIndex finds a view by name or unique prefix (":ta" is tasks).
func (m *Model) viewIndex(name string) int {
	found := -1
	for i, v := range m.views {
		if v.name == name {
			return i
		}
		if len(name) > 0 && len(name) <= len(v.name) && v.name[:len(name)] == name {
			if found >= 0 {
				return -2 // ambiguous
			}
			found = i
		}
	}
	return found
}
