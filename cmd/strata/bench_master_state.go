package main

import (
	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/allocator"
	"github.com/strata-dc/strata/master/state"
)

// newBenchMasterStateCmds returns `bench master failover` and `bench master
// state`, and makes `bench master` alone run everything (the allocator's
// table too). Their sizes are flags of `bench master`, shared by both.
func newBenchMasterStateCmds(master *cobra.Command) []*cobra.Command {
	o := state.BenchOptions{}
	f := master.PersistentFlags()
	f.IntVar(&o.Agents, "agents", state.DefaultBenchAgents, "simulated agents (failover and state)")
	f.IntVar(&o.Tasks, "tasks", state.DefaultBenchTasks, "tasks, spread over the agents (failover and state)")
	f.IntVar(&o.Runs, "runs", state.DefaultBenchRuns, "runs per figure; the median is printed (failover and state)")
	master.RunE = func(cmd *cobra.Command, _ []string) error {
		w := cmd.OutOrStdout()
		if err := allocator.RunBenchmarks(w); err != nil {
			return err
		}
		return state.RunBenchmarks(w, o, true, true)
	}
	failover := &cobra.Command{
		Use:   "failover",
		Short: "A new leader taking back every agent and its tasks, beside Mesos' figure",
		Long: `Build a master state machine from a registry of --agents agents and feed it
every agent's reregistration carrying --tasks running tasks in all (the
state machine and allocator alone: no HTTP, no JSON), and print the
median time beside the target (≤ 0.5 s) and Mesos 1.5's ≈ 4.5 s.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return state.RunBenchmarks(cmd.OutOrStdout(), o, true, false)
		},
	}
	get := &cobra.Command{
		Use:   "state",
		Short: "GET_STATE and memory per task on a big cluster, beside Mesos' figure",
		Long: `Build a master holding --agents agents and --tasks tasks and time the
operator API's GET_STATE: the snapshot the master loop takes plus the JSON
encoding of the response, also after one task changed; print the medians
beside the target (≤ 300 ms) and Mesos' /state (≈ 3.3 s), and the live
heap the master state keeps per task (target ≤ 2 KB).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return state.RunBenchmarks(cmd.OutOrStdout(), o, false, true)
		},
	}
	return []*cobra.Command{failover, get}
}
