// Package bench measures marathon the way a user meets it: through its
// real HTTP API, in front of a real master and coord, with simulated
// agents (master/simagent) that speak the agent API over HTTP but run no
// processes, so a thousand agents fit in one process. Everything runs in
// this process on loopback; each size gets a fresh cluster.
//
// Two things are timed. Deploying: from the POST /v2/apps of an app with
// I instances to the moment all I are TASK_RUNNING, as seen on the
// /v2/events stream (status_update_event) or, should that stream drop the
// benchmark as a slow subscriber, by polling /v2/apps/{id}. Listing: GET
// /v2/apps with many apps defined (median and p99 of repeated calls).
//
// Issue 5's targets: 500 instances on 200 agents in ≤ 1 s, 10,000 on
// 1,000 in ≤ 10 s, GET /v2/apps with 1,000 apps in ≤ 50 ms. Anchor:
// Marathon 0.15 deployed 500 instances on 189 agents in 14.2 s.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Size is one deployment to time: Instances on Agents simulated agents.
type Size struct {
	Instances, Agents int
}

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.Instances, s.Agents) }

// DefaultSizes are issue 5's two deployment targets.
var DefaultSizes = []Size{{500, 200}, {10000, 1000}}

// Targets and the anchor the command prints beside the figures.
const (
	// AnchorInstances, AnchorAgents and Anchor: Marathon 0.15's published
	// deployment of 500 instances on 189 agents.
	AnchorInstances = 500
	AnchorAgents    = 189
	Anchor          = 14200 * time.Millisecond
	// ListTarget is the target for GET /v2/apps with 1,000 apps.
	ListTarget = 50 * time.Millisecond
)

// Target is issue 5's target for a size, 0 when it sets none.
func Target(s Size) time.Duration {
	switch s {
	case Size{500, 200}:
		return time.Second
	case Size{10000, 1000}:
		return 10 * time.Second
	}
	return 0
}

// ParseSizes reads "500x200,10000x1000" (instances x agents, comma
// separated).
func ParseSizes(s string) ([]Size, error) {
	var out []Size
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		is, as, ok := strings.Cut(f, "x")
		i, err1 := strconv.Atoi(is)
		a, err2 := strconv.Atoi(as)
		if !ok || err1 != nil || err2 != nil || i <= 0 || a <= 0 {
			return nil, fmt.Errorf("--sizes: %q is not INSTANCESxAGENTS with both positive, e.g. 500x200", f)
		}
		out = append(out, Size{Instances: i, Agents: a})
	}
	return out, nil
}

// Config is one benchmark run.
type Config struct {
	// Sizes are the deployments to time, one fresh cluster each.
	Sizes []Size
	// Apps is how many apps to define before timing GET /v2/apps (0
	// skips the listing phase).
	Apps int
	// ListAgents is how many agents the listing cluster has (default 5);
	// AppInstances how many instances each listed app runs (default 0).
	ListAgents, AppInstances int
	// ListCalls is how many timed GET /v2/apps calls to make (default 20).
	ListCalls int
	// NoStarting has the agents report only TASK_RUNNING, not
	// TASK_STARTING first as real agents do: half the status updates, to
	// see what they cost.
	NoStarting bool
	// Timeout bounds one deployment (default 3 minutes).
	Timeout time.Duration
	// Dir holds the clusters' files, a fresh directory each (kept);
	// "" makes temp dirs and removes them afterwards.
	Dir string
	// Progress, when set, hears what the benchmark is doing.
	Progress io.Writer
	// Logger receives the components' logs (default: discarded).
	Logger *slog.Logger
}

// Deploy is what one deployment measured.
type Deploy struct {
	Size
	// Setup is the time to start the cluster (all agents subscribed,
	// marathon leading); not part of the timed figure.
	Setup time.Duration
	// FirstRunning, HalfRunning and AllRunning are from the POST to the
	// first, the middle and the last instance's TASK_RUNNING (the first
	// two as seen on the event stream; zero if it dropped the benchmark).
	FirstRunning, HalfRunning, AllRunning time.Duration
	// Via says what saw the last RUNNING: "events" or "poll".
	Via string
	// Running is how many instances were running at the end: Instances,
	// unless Err says the deployment did not finish.
	Running int
	// RSS is this process's resident memory (coord, master, agents and
	// marathon together) at the end.
	RSS uint64
	// Err is why the deployment did not finish (nil when it did).
	Err error
}

// List is what the listing phase measured.
type List struct {
	Apps, AppInstances int
	// Create is the time to define the apps (POST /v2/groups, 100 apps
	// each).
	Create time.Duration
	// Median and P99 of the timed GET /v2/apps calls; Bytes is the size
	// of one response.
	Median, P99 time.Duration
	Calls       int
	Bytes       int
	// RSS is this process's resident memory after the calls.
	RSS uint64
}

// Result is one run's measurements.
type Result struct {
	Deploys []Deploy
	List    *List // nil when skipped
	// PeakRSS is this process's peak resident memory over the run.
	PeakRSS uint64
}

// Run runs the deployments, then the listing phase, each on a fresh
// cluster that is torn down before the next starts. A deployment that
// fails (or does not finish within Timeout) is recorded with its Err and
// the run goes on; the errors are returned joined, with every result.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ListAgents <= 0 {
		cfg.ListAgents = 5
	}
	if cfg.ListCalls <= 0 {
		cfg.ListCalls = 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Minute
	}
	if cfg.Apps < 0 || cfg.AppInstances < 0 {
		return res, errors.New("bench marathon: --apps must not be negative")
	}
	defer func() { res.PeakRSS, _ = readStatus("VmHWM") }()
	var errs []error
	for _, s := range cfg.Sizes {
		if s.Instances <= 0 || s.Agents <= 0 {
			return res, fmt.Errorf("bench marathon: size %s: instances and agents must be positive", s)
		}
		d, err := runDeploy(ctx, cfg, s)
		if err != nil {
			d.Err = fmt.Errorf("bench marathon: %s instances x agents: %w", s, err)
			errs = append(errs, d.Err)
			if ctx.Err() != nil {
				return res, errors.Join(errs...)
			}
		}
		res.Deploys = append(res.Deploys, d)
	}
	if cfg.Apps > 0 {
		l, err := runList(ctx, cfg)
		if err != nil {
			return res, errors.Join(append(errs, fmt.Errorf("bench marathon: list %d apps: %w", cfg.Apps, err))...)
		}
		res.List = &l
	}
	return res, errors.Join(errs...)
}

func (cfg Config) progress(format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, format+"\n", args...)
	}
}

// readStatus reads a "kB" field of /proc/self/status in bytes.
func readStatus(field string) (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/self/status %s: %w", field, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/self/status: no %s", field)
}
