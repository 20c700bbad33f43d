package tui

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

func TestTabsAndCommandMode(t *testing.T) {
	m := newFixtureModel(80, 24, false, nil)
	defer m.Close()
	for key, want := range map[string]string{"1": "overview", "7": "tasks", "0": "events", "2": "agents"} {
		run(m, keys(key))
		if got := m.views[m.active].name; got != want {
			t.Errorf("key %s: view %s, want %s", key, got, want)
		}
	}
	run(m, keys(":"))
	typeText(m, "quo")
	run(m, keys("enter"))
	if got := m.views[m.active].name; got != "quota" {
		t.Errorf(":quo went to %s", got)
	}
	run(m, keys(":"))
	typeText(m, "nope")
	run(m, keys("enter"))
	if !strings.Contains(m.notice, "not a view") {
		t.Errorf("notice %q", m.notice)
	}
	run(m, keys("tab"))
	if got := m.views[m.active].name; got != "tasks" {
		t.Errorf("tab after quota: %s", got)
	}
}

func TestFilterAndInvert(t *testing.T) {
	m := newFixtureModel(80, 24, false, nil)
	defer m.Close()
	run(m, keys("7"))
	g := m.grids[m.active]
	run(m, keys("/"))
	typeText(m, "batch")
	if len(g.view) != 4 {
		t.Fatalf("filter batch: %d rows, want 4", len(g.view))
	}
	run(m, keys("enter"))
	if !strings.Contains(m.View(), "filter batch") {
		t.Errorf("footer does not show the filter")
	}
	run(m, keys("/"))
	run(m, tea.KeyMsg{Type: tea.KeyCtrlU})
	typeText(m, "!batch")
	run(m, keys("enter"))
	if len(g.view) != 8 {
		t.Fatalf("filter !batch: %d rows, want 8", len(g.view))
	}
	for _, i := range g.view {
		if strings.Contains(g.rows[i].hay, "batch") {
			t.Errorf("inverted filter kept %s", g.rows[i].id)
		}
	}
	run(m, keys("esc"))
	if len(g.view) != 12 || g.filter != "" {
		t.Errorf("esc: %d rows, filter %q", len(g.view), g.filter)
	}
}

func TestSortByColumn(t *testing.T) {
	m := newFixtureModel(160, 48, false, nil)
	defer m.Close()
	run(m, keys("7"))
	g := m.grids[m.active]
	for g.sortCol != 3 { // STATE
		run(m, keys("s"))
	}
	states := func() []string {
		var out []string
		for _, i := range g.view {
			out = append(out, g.rows[i].cells[3].text)
		}
		return out
	}
	if got := states(); !slices.IsSorted(got) {
		t.Errorf("by state: %v", got)
	}
	run(m, keys("S"))
	got := states()
	slices.Reverse(got)
	if !slices.IsSorted(got) {
		t.Errorf("by state, reversed: %v", got)
	}
	if !strings.Contains(m.View(), "STATE▼") {
		t.Errorf("header does not mark the sort column")
	}
}

func TestCursorStaysOnItsRowAcrossUpdates(t *testing.T) {
	m := newFixtureModel(80, 24, false, nil)
	defer m.Close()
	run(m, keys("7"))
	run(m, keys("down"))
	run(m, keys("down"))
	want := m.grids[m.active].selected().id
	// A new task sorts before the selection.
	m.cluster.Apply(&mesos.OperatorEvent{Type: mesos.OperatorEventTaskAdded, TaskAdded: &mesos.TaskAdded{Task: &mesos.Task{
		TaskID: "aaa-first", FrameworkID: "M1-0001", AgentID: "M1-S1", State: mesos.TaskStaging}}}, t0)
	m.Update(nil)
	if got := m.grids[m.active].selected().id; got != want {
		t.Errorf("selection moved from %s to %s", want, got)
	}
}

func TestConfirmationsRunOnlyOnYes(t *testing.T) {
	b := newStub()
	m := newFixtureModel(120, 30, false, b)
	defer m.Close()

	run(m, keys("2")) // agents: node-01 selected
	run(m, keys("D"))
	if m.confirm == nil || !strings.Contains(m.View(), "drain agent node-01 (M1-S1)") {
		t.Fatalf("no confirmation naming the agent:\n%s", m.View())
	}
	run(m, keys("n"))
	if len(b.Actions()) != 0 || m.confirm != nil {
		t.Fatalf("n sent %v", b.Actions())
	}
	run(m, keys("D"))
	run(m, keys("y"))
	run(m, keys("R"))
	run(m, keys("y"))

	run(m, keys("5")) // roles: analytics selected
	run(m, keys("W"))
	typeText(m, "-1")
	run(m, keys("enter"))
	if m.confirm != nil || !strings.Contains(m.notice, "positive") {
		t.Errorf("bad weight accepted: notice %q", m.notice)
	}
	run(m, keys("W"))
	typeText(m, "2.5")
	run(m, keys("enter"))
	if m.confirm == nil || !strings.Contains(m.confirm.what, "analytics from 1 to 2.5") {
		t.Fatalf("weight confirmation: %+v", m.confirm)
	}
	run(m, keys("y"))

	run(m, keys("Q"))
	run(m, tea.KeyMsg{Type: tea.KeyCtrlU})
	typeText(m, "cpus:1;mem:512 | cpus:2")
	run(m, keys("enter"))
	run(m, keys("y"))

	run(m, keys("7")) // tasks: first row svc-0.0000 (running)
	run(m, keys("K"))
	if m.confirm == nil || !strings.Contains(m.confirm.what, "kill task svc-0.0000 (svc-0) of web on node-01") {
		t.Fatalf("kill confirmation: %+v", m.confirm)
	}
	run(m, keys("esc"))
	run(m, keys("K"))
	run(m, keys("y"))

	want := []string{"drain M1-S1", "reactivate M1-S1", "weight analytics 2.5",
		"quota analytics g{cpus:1 mem:512M} l{cpus:2}", "kill svc-0.0000 of web"}
	if got := b.Actions(); !slices.Equal(got, want) {
		t.Errorf("actions:\n got %q\nwant %q", got, want)
	}
}

func TestReadOnlyRemovesActions(t *testing.T) {
	b := newStub()
	m := newFixtureModel(120, 30, true, b)
	defer m.Close()
	for _, k := range []struct{ view, key string }{{"2", "D"}, {"2", "R"}, {"5", "W"}, {"5", "Q"}, {"7", "K"}} {
		run(m, keys(k.view))
		run(m, keys(k.key))
		if m.confirm != nil || m.mode != modeList {
			t.Errorf("read-only: %s on view %s opened %+v", k.key, k.view, m.confirm)
		}
		run(m, keys("esc"))
	}
	if len(b.Actions()) != 0 {
		t.Errorf("read-only sent %v", b.Actions())
	}
	run(m, keys("?"))
	v := m.View()
	if strings.Contains(v, "kill task") || !strings.Contains(v, "read-only") {
		t.Errorf("help still lists actions:\n%s", v)
	}
}

func TestReconnectNoticeAndLeaderChange(t *testing.T) {
	b := newStub()
	m := newFixtureModel(100, 24, false, b)
	defer m.Close()
	ch := make(chan client.OperatorUpdate)
	run(m, updatesMsg{updates: []client.OperatorUpdate{{Err: errors.New("connection reset by peer")}}, ch: ch})
	v := m.View()
	if !strings.Contains(v, "reconnecting: connection reset by peer") {
		t.Fatalf("header does not say it is reconnecting:\n%s", v)
	}
	b.mu.Lock()
	b.master = "http://10.0.0.2:5050"
	b.mu.Unlock()
	run(m, updatesMsg{updates: []client.OperatorUpdate{{Event: subscribed(fixtureState())}}, ch: ch})
	if m.conn.status != connLive || m.conn.reconnects != 1 {
		t.Errorf("conn %+v", m.conn)
	}
	if !strings.Contains(m.notice, "leader changed: http://10.0.0.1:5050 → http://10.0.0.2:5050") {
		t.Errorf("notice %q", m.notice)
	}
	if !strings.Contains(m.View(), "1 reconnects") {
		t.Errorf("header does not count the reconnect:\n%s", m.View())
	}
}

func TestLogsViewerFollowsSwitchesAndSearches(t *testing.T) {
	b := newStub()
	m := newFixtureModel(100, 24, false, b)
	defer m.Close()
	run(m, keys("7"))
	run(m, keys("l"))
	if m.logs == nil || !strings.Contains(m.View(), "stdout of svc-0.0000") {
		t.Fatalf("logs:\n%s", m.View())
	}
	run(m, keys("o"))
	if m.logs.file != "stderr" || !strings.Contains(m.View(), "stderr of svc-0.0000") {
		t.Fatalf("after o:\n%s", m.View())
	}
	run(m, keys("/"))
	typeText(m, "needle")
	run(m, keys("enter"))
	if m.logs.follow || m.logs.allLines()[m.logs.offset] != "needle here" {
		t.Errorf("search did not jump: offset %d", m.logs.offset)
	}
	run(m, keys("esc")) // clears the search
	run(m, keys("esc")) // closes
	if m.logs != nil {
		t.Errorf("esc did not close the viewer")
	}
}

func TestKeysFileRebinds(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "keys.yaml")
	os.WriteFile(yml, []byte("kill-task: ctrl+k\ndescribe: [enter, i]\n"), 0o600)
	k := DefaultKeyMap()
	if err := k.LoadKeys(yml); err != nil {
		t.Fatal(err)
	}
	if got := k.KillTask.Keys(); !slices.Equal(got, []string{"ctrl+k"}) {
		t.Errorf("kill-task keys %v", got)
	}
	if k.Describe.Help().Key != "enter/i" {
		t.Errorf("help key %q", k.Describe.Help().Key)
	}
	js := filepath.Join(dir, "keys.json")
	os.WriteFile(js, []byte(`{"sort": "d"}`), 0o600)
	if err := DefaultKeyMap().LoadKeys(js); err == nil || !strings.Contains(err.Error(), `"d" is bound to both`) {
		t.Errorf("conflict not reported: %v", err)
	}
	os.WriteFile(js, []byte(`{"explode": "x"}`), 0o600)
	if err := DefaultKeyMap().LoadKeys(js); err == nil || !strings.Contains(err.Error(), `"explode" is not an action`) {
		t.Errorf("unknown action not reported: %v", err)
	}
	if err := DefaultKeyMap().LoadKeys(filepath.Join(dir, "missing.yaml")); err != nil {
		t.Errorf("a missing file is fine: %v", err)
	}

	// A rebound key drives the model and shows in help.
	m := New(Options{Keys: k, Renderer: plainRenderer()})
	defer m.Close()
	run(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	run(m, keys("?"))
	if !strings.Contains(m.View(), "ctrl+k") {
		t.Errorf("help does not show the rebound key")
	}
}

func TestColorProfiles(t *testing.T) {
	env := func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] }
	for _, c := range []struct {
		mode  ColorMode
		env   func(string) string
		color bool
	}{{ColorNone, nil, false}, {Color16, nil, true}, {Color256, nil, true}, {ColorTrue, nil, true}, {ColorTrue, env, false}} {
		var sb strings.Builder
		r := NewRenderer(&sb, c.mode, c.env)
		out := NewStyles(r).Tone(ToneBad, "x")
		if got := strings.Contains(out, "\x1b["); got != c.color {
			t.Errorf("mode %s (NO_COLOR %v): colour %v, want %v: %q", c.mode, c.env != nil, got, c.color, out)
		}
	}
	if _, err := ParseColorMode("sepia"); err == nil {
		t.Error("--color sepia accepted")
	}
}

func TestResizeKeepsFrameExact(t *testing.T) {
	m := newFixtureModel(80, 24, false, nil)
	defer m.Close()
	for _, sz := range [][2]int{{40, 10}, {200, 60}, {80, 24}} {
		run(m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for i := range m.views {
			m.switchTo(i)
			m.Update(nil)
			checkFrame(t, m, sz[0], sz[1])
		}
	}
}

func TestRefusedSubscriptionSaysSo(t *testing.T) {
	m := newFixtureModel(120, 24, false, newStub())
	defer m.Close()
	m.Update(subscribedMsg{err: &client.APIError{StatusCode: 401, Message: "invalid credentials"}})
	if v := m.View(); !strings.Contains(v, "refused (check the operator token") {
		t.Errorf("header:\n%s", v)
	}
}
