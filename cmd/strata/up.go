package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/cluster"
)

func newUpCmd() *cobra.Command {
	var (
		cfg       cluster.Config
		isolation string
		demo      bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a whole cluster in this process: coord, a master and agents",
		Long: `Run a whole Strata cluster in one process, on loopback, under one data dir:
an embedded coord server, a master and --agents agents (the host's cpus,
memory and disk split between them; each agent with its own work dir and
port range). The parts talk over their real protocols, as separate hosts
would. An operator token is generated into <data-dir>/token (mode 0600) on
first start. Logs go to <data-dir>/up.log.

It prints where everything listens and the commands to reach it. Ctrl-C
stops everything: tasks are killed, supervisors and daemons stopped,
sockets removed. Running it again on the same data dir brings the same
cluster back: the same agent IDs, coord's data, and (when free) ports.

Marathon and chronos join once they exist; --demo (a sample app and job)
needs them and is not available yet.`,
		Example: `  strata up
  strata up --agents 3 --data-dir /tmp/strata`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if demo {
				return usageError{fmt.Errorf("--demo needs marathon and chronos, which strata up does not run yet")}
			}
			iso, err := supervise.ParseIsolation(isolation)
			if err != nil {
				return usageError{fmt.Errorf("--isolation: %w", err)}
			}
			cfg.Isolation = iso
			cfg.Version = buildVersion()
			c, err := cluster.New(cfg)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			runErr := make(chan error, 1)
			go func() { runErr <- c.Run(ctx) }() // owned here: waited for below
			rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			err = c.WaitReady(rctx)
			cancel()
			if err != nil {
				select {
				case rerr := <-runErr:
					return rerr
				default:
				}
				if ctx.Err() == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "strata: %v (see %s); still starting\n", err, c.LogPath())
				}
			}
			if ctx.Err() == nil {
				if err := c.Info().WriteSummary(cmd.OutOrStdout(), "strata"); err != nil {
					return err
				}
			}
			err = <-runErr
			fmt.Fprintln(cmd.ErrOrStderr(), "strata: cluster stopped")
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", client.DefaultDataDir, "directory for coord data, work dirs, sockets, token and logs")
	f.IntVar(&cfg.Agents, "agents", 2, "number of agents")
	f.StringVar(&cfg.IP, "ip", "127.0.0.1", "address every daemon listens on")
	f.StringVar(&isolation, "isolation", "posix", "task isolation: posix or cgroups")
	f.BoolVar(&demo, "demo", false, "deploy a sample app and job (needs marathon and chronos: not yet available)")
	return cmd
}
