package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/chaos"
)

// errViolations makes `strata chaos` exit 1 after printing its report.
var errViolations = errors.New("invariant violations")

func newChaosCmd() *cobra.Command {
	var (
		cfg     chaos.Config
		coord   string
		kinds   []string
		asJSON  bool
		seed    int64
		keepDir bool
	)
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Kill -9 random components of an HA cluster under load and check that nothing is lost",
		Long: `Run an HA cluster of real processes on loopback — a coord (a 3-node Apache
ZooKeeper ensemble from Debian's zookeeper package, or the embedded coord
server), 3 masters, 3 agents, 2 marathons and 2 chronos — with a workload
of apps (several instances, health checks), jobs every few seconds and a
dependency chain. Every --interval a random component (leading or standby
master, agent, marathon, chronos, a ZooKeeper node) is killed with
SIGKILL and started again after --restart-delay, as systemd would. The
invariants are checked all along and once more at the end:

  apps return to their instance count within --bound, and so does the cluster
  no job run (job, instant, attempt) starts twice
  no scheduled instant is silently missed (it ran, or was recorded late/skipped)
  each success of a parent job triggers its dependent once
  every status update reaches its framework
  no task process outlives its task
  every write coord acknowledged is still there

The report gives the faults injected, recovery times (p50/p99/max) and
the violations; the exit status is 1 when there is any. Process logs are
kept in --dir. Tasks run as the user running strata chaos (the agents
get --allow-root-tasks, so that may be root).`,
		Example: `  strata chaos                                  # 2 minutes on the Apache ZooKeeper ensemble
  strata chaos --duration 30m --interval 20s     # the long run of the README
  strata chaos --coord embedded --duration 10m --json > report.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Coord = chaos.CoordMode(coord)
			cfg.Seed = uint64(seed)
			for _, k := range kinds {
				cfg.Kinds = append(cfg.Kinds, chaos.Kind(k))
			}
			if cfg.Coord == chaos.CoordEnsemble {
				if why := chaos.JavaAvailable(); why != "" {
					return usageError{fmt.Errorf("--coord ensemble: %s (or use --coord embedded)", why)}
				}
			}
			if cfg.Dir == "" {
				dir, err := os.MkdirTemp("", "strata-chaos-")
				if err != nil {
					return err
				}
				cfg.Dir = dir
				if !keepDir {
					defer os.RemoveAll(dir)
				}
			}
			abs, err := filepath.Abs(cfg.Dir)
			if err != nil {
				return err
			}
			cfg.Dir = abs
			cfg.Log = cmd.ErrOrStderr()
			rep, err := chaos.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				rep.WriteText(cmd.OutOrStdout())
			}
			if !rep.OK() {
				return errViolations
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&coord, "coord", string(chaos.CoordEnsemble), "ensemble (3 Apache ZooKeeper nodes) or embedded (one strata coord)")
	f.DurationVar(&cfg.Duration, "duration", 2*time.Minute, "how long faults are injected")
	f.DurationVar(&cfg.Interval, "interval", 20*time.Second, "time between faults (a fault also waits for the last one's recovery)")
	f.DurationVar(&cfg.RestartDelay, "restart-delay", time.Second, "how long a killed process stays down")
	f.DurationVar(&cfg.Bound, "bound", 2*time.Minute, "recovery longer than this is a violation")
	f.DurationVar(&cfg.SessionTimeout, "zk-session-timeout", 10*time.Second, "every daemon's coord session timeout")
	f.StringSliceVar(&kinds, "kill", nil, "kinds that may be killed: zookeeper, coord, master, agent, marathon, chronos (default all)")
	f.Int64Var(&seed, "seed", time.Now().UnixNano()%1_000_000, "seed of the choice of victims")
	f.StringVar(&cfg.Dir, "dir", "", "directory for the processes' work dirs and logs (default: a temp dir, removed unless --keep)")
	f.BoolVar(&keepDir, "keep", false, "keep the default temp dir and its logs")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
