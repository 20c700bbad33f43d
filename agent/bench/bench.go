// Package bench measures an agent the way an operator would meet it: a
// real embedded coord server, a real master, and `strata agent` as its own
// process, with a framework launching N sleep tasks through the master's
// scheduler API. It reports the time from the ACCEPT to the last
// TASK_RUNNING, the agent's and its supervisor's memory before and after,
// and so what supervision costs per task.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// Config is one benchmark run.
type Config struct {
	// Tasks is how many sleep tasks to launch.
	Tasks int
	// Agent runs `strata agent`: a program and its leading arguments, to
	// which Run appends the agent's flags (default: this executable).
	Agent []string
	// Isolation is the agent's --isolation.
	Isolation string
	// Dir holds the cluster's files; "" makes (and removes) a temp dir.
	Dir string
	// Settle is how long to wait before reading the idle memory.
	Settle time.Duration
}

// Result is what one run measured.
type Result struct {
	Tasks int
	// ToRunning is from sending ACCEPT to the last TASK_RUNNING.
	ToRunning time.Duration
	// FirstRunning is from ACCEPT to the first TASK_RUNNING.
	FirstRunning time.Duration
	// AgentIdle and AgentBusy are the agent process's RSS before the
	// launch and with every task running.
	AgentIdle, AgentBusy uint64
	// SupervisorIdle and SupervisorBusy are the supervisor's PSS.
	SupervisorIdle, SupervisorBusy uint64
	// TaskPSS is the mean PSS of one task process (what the task itself
	// costs, for comparison; not overhead).
	TaskPSS uint64
}

// PerTask is the memory supervision costs per task beyond the task
// itself: the growth of the agent and of the supervisor, divided by N.
func (r Result) PerTask() float64 {
	grow := float64(r.AgentBusy) - float64(r.AgentIdle) + float64(r.SupervisorBusy) - float64(r.SupervisorIdle)
	return max(grow, 0) / float64(r.Tasks)
}

// Run starts a cluster, launches cfg.Tasks tasks, measures, and tears
// everything down again: the tasks, the agent, its supervisor, the
// master and coord.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if cfg.Tasks <= 0 {
		return res, fmt.Errorf("bench agent: --tasks must be positive")
	}
	if len(cfg.Agent) == 0 {
		cfg.Agent = []string{"/proc/self/exe", "agent"}
	}
	if cfg.Isolation == "" {
		cfg.Isolation = "posix"
	}
	if cfg.Settle <= 0 {
		cfg.Settle = time.Second
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "strata-bench-agent-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	e, err := coord.Embed(server.Config{DataDir: filepath.Join(dir, "coord"), ClientAddress: "127.0.0.1:0", Logger: quiet}, "/strata")
	if err != nil {
		return res, fmt.Errorf("coord: %w", err)
	}
	defer e.Close()
	m, err := master.New(master.Config{ZK: e.URL().String(), WorkDir: filepath.Join(dir, "master"),
		AllocationInterval: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		return res, fmt.Errorf("master: %w", err)
	}
	mdone := make(chan error, 1)
	go func() { mdone <- m.Run(ctx) }()
	defer func() { cancel(); <-mdone }()

	// Room for every task (0.01 cpus, 8 MB each) and nothing else.
	resources := fmt.Sprintf("cpus:%g;mem:%d;disk:1024;ports:[31000-32000]", 0.01*float64(cfg.Tasks)+1, 8*cfg.Tasks+64)
	workDir := filepath.Join(dir, "agent")
	args := append(append([]string{}, cfg.Agent[1:]...), "--master", e.URL().String(), "--work-dir", workDir,
		"--port", "0", "--resources", resources, "--isolation", cfg.Isolation, "--log-level", "error",
		// The sleep tasks run as the bench's own user, root on a test box.
		"--allow-root-tasks")
	cmd := exec.Command(cfg.Agent[0], args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start the agent: %w", err)
	}
	agentPID := cmd.Process.Pid
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		stopSupervisor(filepath.Join(workDir, "supervisor"))
	}()

	yes := true
	s, err := client.NewScheduler(client.SchedulerConfig{Options: client.Options{Master: "http://" + m.Addr().String()},
		Framework: &mesos.FrameworkInfo{Name: "bench-agent", User: currentUser(), Checkpoint: &yes}, EventBuffer: 4 * cfg.Tasks})
	if err != nil {
		return res, err
	}
	sdone := make(chan error, 1)
	go func() { sdone <- s.Run(ctx) }()
	defer func() { s.Close(); <-sdone }()

	offer, err := awaitOffer(ctx, s)
	if err != nil {
		return res, err
	}
	sup, err := supervise.Connect(ctx, filepath.Join(workDir, "supervisor"))
	if err != nil {
		return res, fmt.Errorf("connect to the agent's supervisor: %w", err)
	}
	supPID := sup.Info().PID
	sup.Close()
	select {
	case <-time.After(cfg.Settle):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	if res.AgentIdle, err = rss(agentPID); err != nil {
		return res, err
	}
	if res.SupervisorIdle, err = pss(supPID); err != nil {
		return res, err
	}

	tasks := make([]mesos.TaskInfo, cfg.Tasks)
	for i := range tasks {
		tasks[i] = mesos.TaskInfo{Name: fmt.Sprintf("sleep-%d", i), TaskID: mesos.TaskID(fmt.Sprintf("sleep-%d", i)),
			AgentID: offer.AgentID, Command: &mesos.CommandInfo{Value: "sleep 3600"},
			Resources: mustResources("cpus:0.01;mem:8")}
	}
	res.Tasks = cfg.Tasks
	start := time.Now()
	if err := s.Launch(ctx, []mesos.OfferID{offer.ID}, tasks, nil); err != nil {
		return res, fmt.Errorf("launch: %w", err)
	}
	running := map[mesos.TaskID]bool{}
	for len(running) < cfg.Tasks {
		ev, err := nextEvent(ctx, s, 60*time.Second)
		if err != nil {
			return res, fmt.Errorf("waiting for TASK_RUNNING (%d of %d so far): %w", len(running), cfg.Tasks, err)
		}
		if ev.Type != mesos.EventUpdate {
			continue
		}
		st := ev.Update.Status
		if len(st.UUID) > 0 {
			go func() { _ = s.Acknowledge(ctx, st) }()
		}
		switch {
		case st.State == mesos.TaskRunning:
			if len(running) == 0 {
				res.FirstRunning = time.Since(start)
			}
			running[st.TaskID] = true
		case st.State.IsTerminal():
			return res, fmt.Errorf("task %s: %s %s: %s", st.TaskID, st.State, st.Reason, st.Message)
		}
	}
	res.ToRunning = time.Since(start)
	// Let the acknowledgements and checkpoint writes settle before
	// reading memory, as an idle busy agent would be.
	select {
	case <-time.After(cfg.Settle):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	if res.AgentBusy, err = rss(agentPID); err != nil {
		return res, err
	}
	if res.SupervisorBusy, err = pss(supPID); err != nil {
		return res, err
	}
	res.TaskPSS = meanTaskPSS(supPID)
	// The deferred teardown stops the agent first (its tasks keep
	// running, as on an agent restart) and then shuts its supervisor
	// down, which kills every task.
	return res, nil
}

func awaitOffer(ctx context.Context, s *client.Scheduler) (mesos.Offer, error) {
	for {
		ev, err := nextEvent(ctx, s, 60*time.Second)
		if err != nil {
			return mesos.Offer{}, fmt.Errorf("waiting for the agent's offer: %w", err)
		}
		if ev.Type == mesos.EventOffers && len(ev.Offers.Offers) > 0 {
			return ev.Offers.Offers[0], nil
		}
	}
}

func nextEvent(ctx context.Context, s *client.Scheduler, timeout time.Duration) (*mesos.Event, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case ev, ok := <-s.Events():
		if !ok {
			return nil, errors.New("the scheduler's event stream ended")
		}
		return ev, nil
	case <-t.C:
		return nil, fmt.Errorf("no event for %s", timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func mustResources(s string) mesos.Resources {
	r, err := mesos.ParseResources(s, "")
	if err != nil {
		panic(err)
	}
	return r
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

// rss is a process's resident set from /proc/<pid>/status.
func rss(pid int) (uint64, error) {
	m, err := supervise.MemoryOf(pid)
	if err != nil {
		return 0, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	return m.RSS, nil
}

func pss(pid int) (uint64, error) {
	m, err := supervise.MemoryOf(pid)
	if err != nil {
		return 0, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	return m.PSS, nil
}

// meanTaskPSS averages the PSS of the supervisor's children (the tasks):
// any of its threads may have forked one.
func meanTaskPSS(supPID int) uint64 {
	threads, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", supPID))
	var sum, n uint64
	for _, path := range threads {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err != nil {
				continue
			}
			if m, err := supervise.MemoryOf(pid); err == nil {
				sum += m.PSS
				n++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// stopSupervisor shuts the agent's supervisor down, killing whatever
// tasks are left, so a run leaves nothing behind.
func stopSupervisor(dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := supervise.Connect(ctx, dir)
	if err != nil {
		return
	}
	pid := c.Info().PID
	_ = c.Shutdown(ctx)
	c.Close()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
