package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/marathon/bench"
)

func newBenchMarathonCmd() *cobra.Command {
	var (
		sizes, dir string
		apps       int
		instances  int
		calls      int
		timeout    time.Duration
		cpuProfile string
		logLevel   string
		noStarting bool
	)
	cmd := &cobra.Command{
		Use:   "marathon",
		Short: "Deploy an app of N instances on M simulated agents through marathon's API; time to all RUNNING and GET /v2/apps",
		Long: `For each --sizes INSTANCESxAGENTS, start (in this process, on loopback) an
embedded coord server, a master (allocation interval 50 ms), AGENTS simulated
agents that speak the real agent API over HTTP but run no processes, and
marathon; POST /v2/apps one app of INSTANCES instances (0.01 cpus, 1 MB) and
time it from the POST to the last TASK_RUNNING seen on /v2/events. Then, on a
fresh cluster, define --apps apps and time GET /v2/apps (median and p99).
RSS is this whole process's: coord, master, agents and marathon together.
Everything is torn down afterwards.

Anchor: Marathon 0.15 deployed 500 instances on 189 agents in 14.2 s
(published). Targets: 500x200 ≤ 1 s, 10000x1000 ≤ 10 s, GET /v2/apps with
1,000 apps ≤ 50 ms.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ss, err := bench.ParseSizes(sizes)
			if err != nil {
				return usageError{err}
			}
			if apps < 0 || instances < 0 {
				return usageError{fmt.Errorf("--apps and --app-instances must not be negative")}
			}
			cfg := bench.Config{Sizes: ss, Apps: apps, AppInstances: instances,
				ListCalls: calls, Timeout: timeout, NoStarting: noStarting, Dir: dir, Progress: cmd.ErrOrStderr()}
			if logLevel != "" {
				var lvl slog.Level
				if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
					return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)}
				}
				cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: lvl}))
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			r, err := bench.Run(cmd.Context(), cfg)
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
			if len(r.Deploys) > 0 {
				fmt.Fprintln(tw, "instances\tagents\tsetup\tfirst RUNNING\thalf RUNNING\tall RUNNING\ttarget\tmet\tanchor (Marathon 0.15)\tRSS\t")
				for _, d := range r.Deploys {
					target, met := "-", "-"
					if t := bench.Target(d.Size); t > 0 {
						target, met = ms(t), yesNo(d.AllRunning <= t)
					}
					anchor := "-"
					if d.Instances == bench.AnchorInstances {
						anchor = fmt.Sprintf("%s on %d agents", ms(bench.Anchor), bench.AnchorAgents)
					}
					all := ms(d.AllRunning) + " (" + d.Via + ")"
					if d.Err != nil {
						all, met = fmt.Sprintf("only %d after %s", d.Running, timeout), yesNo(false)
					}
					fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", d.Instances, d.Agents, ms(d.Setup),
						msOrDash(d.FirstRunning), msOrDash(d.HalfRunning), all, target, met, anchor, mib(float64(d.RSS)))
				}
				tw.Flush()
			}
			if l := r.List; l != nil {
				if len(r.Deploys) > 0 {
					fmt.Fprintln(out)
				}
				fmt.Fprintln(tw, "apps\tinstances/app\tdefine\tGET /v2/apps median\tp99\tcalls\tresponse\ttarget\tmet\tRSS\t")
				target, met := "-", "-"
				if l.Apps == 1000 {
					target, met = ms(bench.ListTarget), yesNo(l.P99 <= bench.ListTarget)
				}
				fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f ms\t%.1f ms\t%d\t%s\t%s\t%s\t%s\t\n", l.Apps, l.AppInstances, ms(l.Create),
					l.Median.Seconds()*1000, l.P99.Seconds()*1000, l.Calls, kib(float64(l.Bytes)), target, met, mib(float64(l.RSS)))
				tw.Flush()
			}
			if r.PeakRSS > 0 {
				fmt.Fprintf(out, "\npeak RSS of the whole process: %s\n", mib(float64(r.PeakRSS)))
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&sizes, "sizes", "500x200,10000x1000", "deployments to time: INSTANCESxAGENTS[,...], a fresh cluster each")
	f.IntVar(&apps, "apps", 1000, "apps to define before timing GET /v2/apps (0 skips)")
	f.IntVar(&instances, "app-instances", 0, "instances of each listed app")
	f.IntVar(&calls, "calls", 20, "timed GET /v2/apps calls")
	f.DurationVar(&timeout, "timeout", 3*time.Minute, "give up on a deployment after this long")
	f.StringVar(&dir, "dir", "", "keep the clusters' files under this directory (default: temp dirs, removed)")
	f.BoolVar(&noStarting, "no-starting", false, "agents report only TASK_RUNNING, without TASK_STARTING first (half the updates)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (every component) to this `file`")
	f.StringVar(&logLevel, "log-level", "", "print the components' logs at this level to stderr (default: none)")
	cmd.Flags().SortFlags = false
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// msOrDash is ms, or "-" for what was not seen.
func msOrDash(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return ms(d)
}
