package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-dc/strata/master/mesos"
)

// bigState is 1,000 agents, 20 frameworks and 10,000 tasks.
func bigState() *mesos.GetState {
	s := &mesos.GetState{GetAgents: &mesos.GetAgents{}, GetFrameworks: &mesos.GetFrameworks{}, GetTasks: &mesos.GetTasks{}}
	for i := 0; i < 1000; i++ {
		s.GetAgents.Agents = append(s.GetAgents.Agents, fixtureAgent(i, i%50 != 0))
	}
	for i := 0; i < 20; i++ {
		s.GetFrameworks.Frameworks = append(s.GetFrameworks.Frameworks,
			fixtureFramework(fmt.Sprintf("M1-%04d", i), fmt.Sprintf("fw-%d", i), fmt.Sprintf("role-%d", i%5), ""))
	}
	for i := 0; i < 10000; i++ {
		s.GetTasks.Tasks = append(s.GetTasks.Tasks, mesos.Task{Name: fmt.Sprintf("app-%d", i%300),
			TaskID: mesos.TaskID(fmt.Sprintf("app-%d.%06d", i%300, i)), FrameworkID: mesos.FrameworkID(fmt.Sprintf("M1-%04d", i%20)),
			AgentID: mesos.AgentID(fmt.Sprintf("M1-S%d", i%1000)), State: fixtureStates[i%len(fixtureStates)],
			Resources: allocated(fmt.Sprintf("role-%d", i%5), scalars("cpus", 0.1, "mem", 64.0, "disk", 10.0))})
	}
	return s
}

func bigModel(b *testing.B, w, h int, view string) *Model {
	now := t0
	m := New(Options{Renderer: plainRenderer(), Now: fixedClock(&now)})
	b.Cleanup(m.Close)
	m.cluster.Apply(subscribed(bigState()), t0)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.switchTo(m.viewIndex(view))
	m.Update(nil)
	return m
}

// BenchmarkFrame renders one frame of a view over 10,000 tasks and 1,000
// agents when nothing changed: the cost of a keypress or a tick.
func BenchmarkFrame(b *testing.B) {
	for _, view := range []string{"tasks", "agents", "overview", "roles"} {
		for _, sz := range [][2]int{{80, 24}, {160, 48}} {
			b.Run(fmt.Sprintf("%s_%dx%d", view, sz[0], sz[1]), func(b *testing.B) {
				m := bigModel(b, sz[0], sz[1], view)
				b.ReportAllocs()
				for b.Loop() {
					_ = m.View()
				}
			})
		}
	}
}

// BenchmarkFrameAfterEvent applies a task update and renders: the list is
// rebuilt, filtered and sorted (10,000 rows) before the frame.
func BenchmarkFrameAfterEvent(b *testing.B) {
	m := bigModel(b, 160, 48, "tasks")
	ev := &mesos.OperatorEvent{Type: mesos.OperatorEventTaskUpdated, TaskUpdated: &mesos.TaskUpdated{
		FrameworkID: "M1-0000", Status: &mesos.TaskStatus{TaskID: "app-0.000000", State: mesos.TaskRunning}, State: mesos.TaskRunning}}
	b.ReportAllocs()
	for b.Loop() {
		m.cluster.Apply(ev, t0)
		m.rebuild()
		m.Update(nil)
		_ = m.View()
	}
}

// BenchmarkKey measures a key's handling plus the frame it causes, on the
// Tasks view with 10,000 tasks: moving the cursor, and typing a filter
// character (which refilters all rows).
func BenchmarkKey(b *testing.B) {
	b.Run("down", func(b *testing.B) {
		m := bigModel(b, 160, 48, "tasks")
		down, up := keys("down"), keys("up")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := down
			if i%2 == 1 {
				k = up
			}
			i++
			m.Update(k)
			_ = m.View()
		}
	})
	b.Run("filter", func(b *testing.B) {
		m := bigModel(b, 160, 48, "tasks")
		m.Update(keys("/"))
		typ, back := keys("7"), keys("backspace")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			k := typ
			if i%2 == 1 {
				k = back
			}
			i++
			m.Update(k)
			_ = m.View()
		}
	})
	b.Run("sort", func(b *testing.B) {
		m := bigModel(b, 160, 48, "tasks")
		s := keys("s")
		b.ReportAllocs()
		for b.Loop() {
			m.Update(s)
			_ = m.View()
		}
	})
}

// BenchmarkSnapshot applies a 10,000-task SUBSCRIBED snapshot.
func BenchmarkSnapshot(b *testing.B) {
	s := bigState()
	c := NewCluster()
	b.ReportAllocs()
	for b.Loop() {
		c.Apply(subscribed(s), t0)
		_ = c.Totals()
	}
	_ = time.Second
}
