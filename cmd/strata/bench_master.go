package main

import (
	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/allocator"
)

func newBenchMasterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "master",
		Short: "Benchmark the master's parts",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "allocator",
		Short: "Allocation cycle times at Mesos' benchmark sizes, beside Mesos' published figures",
		Long: `Run the allocator alone (no I/O) at the sizes of Apache Mesos' allocator
benchmarks — 1k agents × 100 frameworks up to 20k × 2k, every framework
wanting everything, and the quota-heavy 3k agents × 3k roles × 3k
frameworks — and print the first cycle, a steady cycle after all offers
came back, a cycle after one framework revives, and an idle cycle.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return allocator.RunBenchmarks(cmd.OutOrStdout())
		},
	})
	cmd.AddCommand(newBenchMasterStateCmds(cmd)...)
	return cmd
}
