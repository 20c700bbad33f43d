package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "strata",
		Short: "Strata: a terminal-first data-center kernel",
		Long: `Strata runs Mesos-style masters and agents with two-level scheduling and
hierarchical DRF, coordinated through ZooKeeper (embedded or an Apache
ZooKeeper ensemble), with bundled marathon and chronos frameworks.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err}
	})
	root.AddCommand(
		newVersionCmd(), newCoordCmd(), newBenchCmd(), newMasterCmd(), newAgentCmd(), newAgentSupervisorCmd(),
	)
	root.AddCommand(newMarathonCmd())
	root.AddCommand(newChronosCmd())
	root.AddCommand(newTopCmd(), newDocsCmd(), newChaosCmd())
	addOperatorCommands(root) // strata up, dial-stdio, the operator verbs and coord browsing (cli_*.go)
	return root
}
