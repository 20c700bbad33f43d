package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/coord/bench"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Strata's components and the servers it talks to",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newBenchCoordCmd(), newBenchMasterCmd(), newBenchAgentCmd(), newBenchChronosCmd(), newBenchMarathonCmd(), newBenchTUICmd())
	return cmd
}

func newBenchCoordCmd() *cobra.Command {
	var (
		servers, compare, label, output string
		pids                            []int
		cfg                             bench.Config
	)
	cmd := &cobra.Command{
		Use:   "coord (--servers HOST:PORT[,…] | --compare NAME=HOST:PORT[,…])",
		Short: "Benchmark a ZooKeeper-protocol server (Apache ZooKeeper or strata coord serve)",
		Long: `Benchmark a ZooKeeper-protocol server over the wire: sequential creates
(p50/p99, ops/s); async create/set/get/delete with 32 requests in flight on
one session and with 64 spread over 8 sessions; data-watch latency; and,
with --znodes and --pid, the server's RSS holding that many small znodes.
Everything is created under a fresh --root, which is deleted afterwards.

--compare runs the same phases against several servers one after the other
and prints one table with a column per server and ratios to the first:

  strata bench coord --compare zookeeper=127.0.0.1:2181,strata=127.0.0.1:2182`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var targets []bench.Target
			switch {
			case servers != "" && compare != "":
				return usageError{fmt.Errorf("--servers and --compare: give one of them")}
			case servers != "":
				addrs, err := bench.ParseServers(servers)
				if err != nil {
					return usageError{err}
				}
				if label == "" {
					label = servers
				}
				targets = []bench.Target{{Label: label, Servers: addrs}}
			case compare != "":
				if label != "" {
					return usageError{fmt.Errorf("--label: names come from --compare NAME=ADDR")}
				}
				var err error
				if targets, err = bench.ParseTargets(compare); err != nil {
					return usageError{err}
				}
			default:
				return usageError{fmt.Errorf("--servers or --compare is required")}
			}
			if len(pids) > 0 && len(pids) != len(targets) {
				return usageError{fmt.Errorf("--pid: %d given for %d server(s); give one per server, in order", len(pids), len(targets))}
			}
			for i, pid := range pids {
				targets[i].PID = pid
			}
			writers := map[string]func(io.Writer, bench.Config, []*bench.Result) error{
				"table": bench.WriteTable, "json": bench.WriteJSON, "markdown": bench.WriteMarkdown,
			}
			write, ok := writers[output]
			if !ok {
				return usageError{fmt.Errorf("-o %q: want table, json or markdown", output)}
			}
			cfg.Progress = cmd.ErrOrStderr()

			results, err := bench.RunAll(cmd.Context(), cfg, targets)
			if len(results) > 0 {
				if werr := write(cmd.OutOrStdout(), cfg, results); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&servers, "servers", "", "`addrs` of the server (or ensemble) to measure: HOST:PORT[,HOST:PORT...]")
	f.StringVar(&compare, "compare", "", "`targets` to measure in turn and print side by side: NAME=HOST:PORT[,HOST:PORT...][,NAME=...]")
	f.StringVar(&label, "label", "", "column name for --servers (default: the address)")
	f.IntSliceVar(&pids, "pid", nil, "server process `pids`, one per server in order, for RSS and CPU figures")
	f.IntVar(&cfg.Ops, "ops", bench.DefaultOps, "operations per async phase (0 skips them)")
	f.IntVar(&cfg.SeqOps, "seq-ops", bench.DefaultSeqOps, "sequential creates, and watch rounds (0 skips them)")
	f.IntVar(&cfg.Warmup, "warmup", bench.DefaultWarmup, "znodes created, set, read and deleted untimed before measuring (0 skips)")
	f.IntVar(&cfg.ValueSize, "value-size", bench.DefaultValueSize, "bytes per value")
	f.IntVar(&cfg.InFlight, "in-flight", bench.DefaultInFlight, "requests in flight on one session")
	f.IntVar(&cfg.Sessions, "sessions", bench.DefaultSessions, "sessions of the spread async phases")
	f.IntVar(&cfg.SessionsInFlight, "sessions-in-flight", bench.DefaultSessionsInFlight, "requests in flight over all sessions of the spread phases")
	f.StringVar(&cfg.Root, "root", "", "znode to work under; must not exist, deleted afterwards (default: a unique /strata-bench-…)")
	f.IntVar(&cfg.Rounds, "rounds", 1, "run every target this many times, alternating their order, and report medians")
	f.IntVar(&cfg.Znodes, "znodes", 0, "create this many small znodes first and report the server's RSS (needs --pid)")
	f.DurationVar(&cfg.SessionTimeout, "session-timeout", bench.DefaultSessionTimeout, "session timeout asked of the server")
	f.StringVarP(&output, "output", "o", "table", "output format: table, json or markdown")
	cmd.Flags().SortFlags = false
	return cmd
}
