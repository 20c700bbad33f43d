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
		dashboard bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a whole cluster in this process: coord, a master, agents, marathon and chronos",
		Long: `Run a whole Strata cluster in one process, on loopback, under one data dir:
an embedded coord server, a master and --agents agents (the host's cpus,
memory and disk split between them; each agent with its own work dir and
port range). The parts talk over their real protocols, as separate hosts
would. An operator token is generated into <data-dir>/token (mode 0600) on
first start. Logs go to <data-dir>/up.log.

Marathon (Marathon's /v2 REST API) and chronos (Chronos' /v1/scheduler)
run beside them as frameworks of the master, keeping their state in coord
under /strata/marathon and /strata/chronos; the CLI finds them through the
master (strata apps, strata jobs).

It prints where everything listens and the commands to reach it. Ctrl-C
stops everything: tasks are killed, supervisors and daemons stopped,
sockets removed. Running it again on the same data dir brings the same
cluster back: the same agent IDs, coord's data (so the same apps and
jobs), and (when free) ports.

On a terminal it then opens the dashboard (strata top); quitting the
dashboard asks whether to stop the cluster (--dashboard=false keeps the
summary on screen instead).

--demo deploys a sample app (/demo, two instances printing a line every
2 s, with a command health check) through marathon and a sample job
(demo-job, every 30 s) through chronos, unless they already exist.`,
		Example: `  strata up
  strata up --demo
  strata up --agents 3 --data-dir /tmp/strata`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			iso, err := supervise.ParseIsolation(isolation)
			if err != nil {
				return usageError{fmt.Errorf("--isolation: %w", err)}
			}
			cfg.Isolation = iso
			cfg.Version = buildVersion()
			cfg.Components = []cluster.Component{chronosComponent(), marathonComponent()}
			c, err := cluster.New(cfg)
			if err != nil {
				return err
			}
			ctx, cancelRun := context.WithCancel(cmd.Context())
			defer cancelRun()
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
			dctx, dcancel := context.WithCancel(ctx)
			demoDone := make(chan struct{})
			if demo && ctx.Err() == nil {
				go func() { // owned here: cancelled and waited for below
					defer close(demoDone)
					if err := deployDemo(dctx, c.Info(), cmd.OutOrStdout()); err != nil && dctx.Err() == nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "strata: demo: %v\n", client.Explain(err))
					}
				}()
			} else {
				close(demoDone)
			}
			if dashboard && ctx.Err() == nil && wantDashboard() {
				// The demo prints what it deployed first; the dashboard
				// then owns the screen.
				select {
				case <-demoDone:
				case <-ctx.Done():
				}
				stop, derr := runDashboard(ctx, c.Info().Socket, cmd.InOrStdin(), cmd.OutOrStdout())
				if derr != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "strata: dashboard: %v\n", derr)
				}
				if stop {
					cancelRun()
				}
			}
			err = <-runErr
			dcancel()
			<-demoDone
			fmt.Fprintln(cmd.ErrOrStderr(), "strata: cluster stopped")
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", client.DefaultDataDir, "directory for coord data, work dirs, sockets, token and logs")
	f.IntVar(&cfg.Agents, "agents", 2, "number of agents")
	f.StringVar(&cfg.IP, "ip", "127.0.0.1", "address every daemon listens on")
	f.StringVar(&isolation, "isolation", "posix", "task isolation: posix or cgroups")
	f.BoolVar(&dashboard, "dashboard", true, "open the dashboard (strata top) when attached to a terminal; quitting it asks whether to stop the cluster")
	f.BoolVar(&demo, "demo", false, "deploy a sample app (/demo) through marathon and a sample job (demo-job) through chronos, unless they exist")
	return cmd
}
