package tui

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/shirou/gopsutil/v3/process"

	"github.com/strata-dc/strata/master/mesos"
)

// BenchOptions sizes `strata bench tui`.
type BenchOptions struct {
	Agents, Tasks int // the cluster the dashboard holds
	Width, Height int // the terminal
	Runs          int // samples per figure; the median is reported
}

// DefaultBenchOptions is the size: 1,000 agents, 10,000 tasks,
// a 160×48 terminal.
var DefaultBenchOptions = BenchOptions{Agents: 1000, Tasks: 10000, Width: 160, Height: 48, Runs: 50}

// BenchResult is what RunBench measured (medians).
type BenchResult struct {
	Options BenchOptions
	// FirstFrame is from the SUBSCRIBED snapshot's bytes arriving (the
	// operator stream's JSON) to the first rendered frame: decode, store,
	// build the rows, render. No network: the master's side is not in it.
	FirstFrame time.Duration
	Frame      time.Duration // a frame of the Tasks view, nothing changed
	KeyDown    time.Duration // cursor down plus its frame
	KeyFilter  time.Duration // a filter keystroke (refilters every row) plus its frame
	KeySort    time.Duration // the next sort column (resorts every row) plus its frame
	RSS        uint64        // the process' resident set after loading the state, bytes
}

// benchState is a synthetic cluster of o.Agents agents, 20 frameworks and
// o.Tasks tasks in mixed states, as the master would send it.
func benchState(o BenchOptions) *mesos.GetState {
	s := &mesos.GetState{GetAgents: &mesos.GetAgents{}, GetFrameworks: &mesos.GetFrameworks{}, GetTasks: &mesos.GetTasks{}}
	port := int32(5051)
	for i := range o.Agents {
		s.GetAgents.Agents = append(s.GetAgents.Agents, mesos.Agent{
			AgentInfo: &mesos.AgentInfo{Hostname: fmt.Sprintf("node-%04d", i), Port: &port, ID: mesos.AgentID(fmt.Sprintf("B-S%d", i))},
			Active:    true, Version: "bench", PID: fmt.Sprintf("slave(1)@10.0.%d.%d:5051", i/250, i%250),
			TotalResources: mesos.Resources{mesos.ScalarResource("cpus", 8), mesos.ScalarResource("mem", 16384), mesos.ScalarResource("disk", 102400)},
		})
	}
	for i := range 20 {
		s.GetFrameworks.Frameworks = append(s.GetFrameworks.Frameworks, mesos.Framework{
			FrameworkInfo: &mesos.FrameworkInfo{ID: mesos.FrameworkID(fmt.Sprintf("B-%04d", i)), Name: fmt.Sprintf("fw-%d", i),
				User: "root", Role: fmt.Sprintf("role-%d", i%5)}, Active: true, Connected: true})
	}
	states := []mesos.TaskState{mesos.TaskRunning, mesos.TaskRunning, mesos.TaskStaging, mesos.TaskRunning, mesos.TaskFailed, mesos.TaskRunning}
	for i := range o.Tasks {
		rs := mesos.Resources{mesos.ScalarResource("cpus", 0.1), mesos.ScalarResource("mem", 64), mesos.ScalarResource("disk", 10)}
		for j := range rs {
			rs[j].AllocationInfo = &mesos.AllocationInfo{Role: fmt.Sprintf("role-%d", i%5)}
		}
		s.GetTasks.Tasks = append(s.GetTasks.Tasks, mesos.Task{Name: fmt.Sprintf("app-%d", i%300),
			TaskID: mesos.TaskID(fmt.Sprintf("app-%d.%06d", i%300, i)), FrameworkID: mesos.FrameworkID(fmt.Sprintf("B-%04d", i%20)),
			AgentID: mesos.AgentID(fmt.Sprintf("B-S%d", i%max(o.Agents, 1))), State: states[i%len(states)], Resources: rs})
	}
	return s
}

// RunBench loads a cluster of o's size into a dashboard model the way a
// SUBSCRIBED snapshot does and times the first frame, a frame, and keys
// on the Tasks view; then reads the process' RSS.
func RunBench(o BenchOptions) (BenchResult, error) {
	if o.Runs < 1 || o.Width < 20 || o.Height < 10 {
		return BenchResult{}, fmt.Errorf("bench tui: runs %d, size %dx%d: want runs ≥ 1 and at least 20×10", o.Runs, o.Width, o.Height)
	}
	res := BenchResult{Options: o}
	wire, err := json.Marshal(&mesos.OperatorEvent{Type: mesos.OperatorEventSubscribed,
		Subscribed: &mesos.OperatorSubscribed{GetState: benchState(o), HeartbeatIntervalSeconds: 15}})
	if err != nil {
		return res, fmt.Errorf("bench tui: encode snapshot: %w", err)
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)

	var first []time.Duration
	var m *Model
	for i := range min(o.Runs, 5) {
		if m != nil {
			m.Close()
		}
		start := time.Now()
		var ev mesos.OperatorEvent
		if err := json.Unmarshal(wire, &ev); err != nil {
			return res, fmt.Errorf("bench tui: decode snapshot: %w", err)
		}
		m = New(Options{Renderer: r})
		m.Update(tea.WindowSizeMsg{Width: o.Width, Height: o.Height})
		m.cluster.Apply(&ev, time.Now())
		m.switchTo(m.viewIndex("tasks"))
		m.Update(nil)
		if v := m.View(); v == "" {
			return res, fmt.Errorf("bench tui: run %d: empty first frame", i)
		}
		first = append(first, time.Since(start))
	}
	defer m.Close()
	res.FirstFrame = median(first)

	time1 := func(f func()) time.Duration {
		var d []time.Duration
		for range o.Runs {
			start := time.Now()
			f()
			_ = m.View()
			d = append(d, time.Since(start))
		}
		return median(d)
	}
	res.Frame = time1(func() {})
	flip := 0
	res.KeyDown = time1(func() {
		k := tea.KeyMsg{Type: tea.KeyDown}
		if flip++; flip%2 == 0 {
			k = tea.KeyMsg{Type: tea.KeyUp}
		}
		m.Update(k)
	})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'/'}})
	res.KeyFilter = time1(func() {
		k := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'7'}}
		if flip++; flip%2 == 0 {
			k = tea.KeyMsg{Type: tea.KeyBackspace}
		}
		m.Update(k)
	})
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	res.KeySort = time1(func() { m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'s'}}) })

	if p, err := process.NewProcess(int32(os.Getpid())); err == nil {
		if mi, err := p.MemoryInfo(); err == nil {
			res.RSS = mi.RSS
		}
	}
	return res, nil
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// PrintBench writes the figures beside the targets and k9s'
// published ones.
func PrintBench(w io.Writer, r BenchResult) error {
	o := r.Options
	fmt.Fprintf(w, "strata top with %d agents and %d tasks, %dx%d, Tasks view (medians of %d runs)\n\n",
		o.Agents, o.Tasks, o.Width, o.Height, o.Runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tSTRATA TOP\tTARGET\tK9S (PUBLISHED)")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(tw, "first frame after the snapshot\t%s\t≤ 200 ms\t≈ 7 s to start at 1,000 pods; minutes at 13,000\n", ms(r.FirstFrame))
	fmt.Fprintf(tw, "frame (visible rows only)\t%s\t≤ 16 ms\t-\n", ms(r.Frame))
	fmt.Fprintf(tw, "key: cursor down\t%s\t≤ 50 ms\t-\n", ms(r.KeyDown))
	fmt.Fprintf(tw, "key: filter keystroke\t%s\t≤ 50 ms\t-\n", ms(r.KeyFilter))
	fmt.Fprintf(tw, "key: sort\t%s\t≤ 50 ms\t-\n", ms(r.KeySort))
	fmt.Fprintf(tw, "RSS after loading\t%.1f MB\t≤ 100 MB\t-\n", float64(r.RSS)/(1<<20))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nfirst frame: decode the operator stream's SUBSCRIBED JSON, store, build rows, render; no network or master.")
	return err
}
