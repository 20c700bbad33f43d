package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/chronos/bench"
)

func newBenchChronosCmd() *cobra.Command {
	var cfg bench.Config
	cmd := &cobra.Command{
		Use:   "chronos",
		Short: "Scheduled jobs on a local cluster: scheduled instant → TASK_RUNNING p50/p99, missed and duplicated runs",
		Long: `Start an embedded coord server, a master with its defaults, ` + "`strata agent`" + ` as its
own process and chronos; define --jobs jobs ("true") repeating every --period,
their starts spread over one period, for --duration. Report the time from
each run's scheduled instant to its TASK_RUNNING (p50, p99, max) and count
instants skipped, run twice, or failed. Everything is torn down afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "jobs\truns\tmeasured\tp50\tp99\tmax\tskipped\tduplicated\tfailed\t")
			fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t\n", r.Jobs, r.Runs, r.Measured, ms(r.P50), ms(r.P99), ms(r.Max),
				r.Skipped, r.Duplicates, r.Failed)
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Jobs, "jobs", 20, "jobs to define")
	f.DurationVar(&cfg.Period, "period", 5*time.Second, "each job's period (whole seconds)")
	f.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long the jobs run")
	return cmd
}
