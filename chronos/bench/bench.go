// Package bench is `strata bench chronos`: scheduled jobs on a real local
// cluster — an embedded coord server, a master, `strata agent` as its own
// process and chronos — measuring the time from each run's scheduled
// instant to its TASK_RUNNING, and counting runs that were skipped or ran
// twice. Everything is torn down afterwards.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/chronos"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master"
)

// Config is one benchmark run.
type Config struct {
	// Jobs is how many jobs to define (default 20).
	Jobs int
	// Period is each job's ISO 8601 period (default 5 s); the jobs' starts
	// are spread evenly over one period.
	Period time.Duration
	// Duration is how long the jobs run (default 30 s).
	Duration time.Duration
	// Agent runs `strata agent`: a program and its leading arguments, to
	// which Run appends the agent's flags (default: this executable).
	Agent []string
	// Dir holds the cluster's files; "" makes (and removes) a temp dir.
	Dir string
	// Log receives the daemons' logs (nil: discarded).
	Log *slog.Logger
}

// Result is what one run measured.
type Result struct {
	// Runs is how many scheduled runs happened; Measured how many of them
	// were seen reaching TASK_RUNNING (a task that finishes at once may
	// report only TASK_FINISHED).
	Jobs, Runs, Measured int
	// P50, P99 and Max are scheduled instant → TASK_RUNNING.
	P50, P99, Max time.Duration
	// Skipped counts instants recorded skipped; Duplicates instants that
	// ran more than once; Failed runs that did not succeed.
	Skipped, Duplicates, Failed int
}

// Run starts a cluster and chronos, lets cfg.Jobs jobs run for
// cfg.Duration, measures, and tears everything down.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if cfg.Jobs <= 0 {
		cfg.Jobs = 20
	}
	if cfg.Period <= 0 {
		cfg.Period = 5 * time.Second
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 30 * time.Second
	}
	if cfg.Period%time.Second != 0 {
		return res, fmt.Errorf("bench chronos: --period %s: whole seconds only", cfg.Period)
	}
	if len(cfg.Agent) == 0 {
		cfg.Agent = []string{"/proc/self/exe", "agent"}
	}
	log, agentLevel := cfg.Log, "info"
	if log == nil {
		log, agentLevel = slog.New(slog.DiscardHandler), "error"
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "strata-bench-chronos-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	e, err := coord.Embed(server.Config{DataDir: filepath.Join(dir, "coord"), ClientAddress: "127.0.0.1:0", Logger: log}, "/strata")
	if err != nil {
		return res, fmt.Errorf("coord: %w", err)
	}
	defer e.Close()
	m, err := master.New(master.Config{ZK: e.URL().String(), WorkDir: filepath.Join(dir, "master"), Logger: log})
	if err != nil {
		return res, fmt.Errorf("master: %w", err)
	}
	mdone := make(chan error, 1)
	go func() { mdone <- m.Run(ctx) }()
	defer func() { cancel(); <-mdone }()

	workDir := filepath.Join(dir, "agent")
	resources := fmt.Sprintf("cpus:%d;mem:%d;disk:%d", cfg.Jobs+1, 16*cfg.Jobs+64, 16*cfg.Jobs+64)
	args := append(slices.Clone(cfg.Agent[1:]), "--master", e.URL().String(), "--work-dir", workDir,
		"--port", "0", "--resources", resources, "--allow-root-tasks", "--log-level", agentLevel)
	cmd := exec.Command(cfg.Agent[0], args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start the agent: %w", err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		stopSupervisor(filepath.Join(workDir, "supervisor"))
	}()

	s, err := chronos.New(chronos.Config{Master: e.URL().String(), HTTPAddress: "127.0.0.1:0",
		User: currentUser(), DefaultCPUs: 0.5, DefaultMem: 8, DefaultDisk: 8, Logger: log})
	if err != nil {
		return res, err
	}
	cctx, ccancel := context.WithCancel(ctx)
	cdone := make(chan error, 1)
	go func() { cdone <- s.Run(cctx) }()
	defer func() { ccancel(); <-cdone }()
	if err := waitFor(ctx, time.Minute, s.Leading); err != nil {
		return res, fmt.Errorf("chronos leadership: %w", err)
	}

	start := time.Now().Add(3 * time.Second).Truncate(time.Second)
	period := int(cfg.Period / time.Second)
	reps := int(cfg.Duration / cfg.Period)
	for i := range cfg.Jobs {
		at := start.Add(time.Duration(i) * cfg.Period / time.Duration(cfg.Jobs)).UTC()
		def := map[string]any{"name": fmt.Sprintf("bench-%04d", i), "command": "true", "epsilon": "PT30S",
			"schedule": fmt.Sprintf("R%d/%s/PT%dS", reps, at.Format("2006-01-02T15:04:05.000Z"), period)}
		if err := post(ctx, s.URL()+"/v1/scheduler/iso8601", def); err != nil {
			return res, err
		}
	}
	// Wait out the last instant, then for its run to finish.
	last := start.Add(cfg.Period * time.Duration(reps)).Add(cfg.Period)
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(time.Until(last)):
	}
	res.Jobs = cfg.Jobs
	for i := range cfg.Jobs {
		runs, err := history(ctx, s.URL(), fmt.Sprintf("bench-%04d", i))
		if err != nil {
			return res, err
		}
		seen := map[time.Time]bool{}
		for _, r := range runs {
			switch {
			case r.State == "skipped":
				res.Skipped += max(int(r.Count), 1)
			case r.Kind != "scheduled":
			case seen[r.ScheduledAt]:
				res.Duplicates++
			default:
				seen[r.ScheduledAt] = true
				res.Runs++
				if r.State != "succeeded" {
					res.Failed++
				}
			}
		}
	}
	lat := s.StartLatencies()
	slices.Sort(lat)
	res.Measured = len(lat)
	if len(lat) > 0 {
		res.P50 = lat[len(lat)/2]
		res.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
		res.Max = lat[len(lat)-1]
	}
	return res, nil
}

func post(ctx context.Context, url string, v any) error {
	body, _ := json.Marshal(v)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("POST %s: %s %s", url, resp.Status, msg)
	}
	return nil
}

func history(ctx context.Context, base, name string) ([]chronos.RunView, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/scheduler/history/"+name+"?limit=0", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", name, err)
	}
	defer resp.Body.Close()
	var out struct {
		Runs []chronos.RunView `json:"runs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("history of %s: %w", name, err)
	}
	return out.Runs, nil
}

func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			return fmt.Errorf("not within %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

// stopSupervisor shuts down the agent's detached supervisor, which
// outlives the agent by design.
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
