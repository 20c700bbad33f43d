package main

import (
	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/tui"
)

// newBenchTUICmd is `strata bench tui`: the dashboard's figures at the
// issue's size beside its targets and k9s' published ones.
func newBenchTUICmd() *cobra.Command {
	o := tui.DefaultBenchOptions
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "strata top's first frame, frame time, key latency and RSS on a big cluster",
		Long: `Load a cluster of --agents agents and --tasks tasks into the dashboard as
the master's SUBSCRIBED snapshot (its JSON, decoded here; no network) and
print the medians: first frame, a frame of the Tasks view, cursor, filter
and sort keys, and the process' RSS, beside the targets (first frame
≤ 200 ms, frame ≤ 16 ms, keys ≤ 50 ms, RSS ≤ 100 MB) and k9s' published
figures (≈ 7 s to start at 1,000 pods, minutes at 13,000).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := tui.RunBench(o)
			if err != nil {
				return usageError{err}
			}
			return tui.PrintBench(cmd.OutOrStdout(), r)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Agents, "agents", o.Agents, "agents in the cluster")
	f.IntVar(&o.Tasks, "tasks", o.Tasks, "tasks in the cluster")
	f.IntVar(&o.Width, "width", o.Width, "terminal columns")
	f.IntVar(&o.Height, "height", o.Height, "terminal rows")
	f.IntVar(&o.Runs, "runs", o.Runs, "samples per figure (first frame: at most 5)")
	return cmd
}
