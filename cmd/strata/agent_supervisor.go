package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/agent/supervise"
)

// newAgentSupervisorCmd is the hidden command the agent runs (through
// supervise.Start) to get its task supervisor: one long-lived process per
// agent that outlives agent restarts. Its flags are the ones Start passes.
func newAgentSupervisorCmd() *cobra.Command {
	var (
		cfg       supervise.Config
		isolation string
		logLevel  string
	)
	cmd := &cobra.Command{
		Use:    "agent-supervisor",
		Short:  "The agent's task supervisor (started by the agent; not for direct use)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			iso, err := supervise.ParseIsolation(isolation)
			if err != nil {
				return usageError{err}
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usageError{err}
			}
			cfg.Isolation = iso
			cfg.Logger = newLogger(cmd.ErrOrStderr(), level)
			return supervise.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "dir", "", "the supervisor's directory: socket, lock, log, runs' state")
	f.StringVar(&cfg.Name, "name", "", "names the cgroup subtree strata-<name> (the agent's)")
	f.StringVar(&isolation, "isolation", "posix", "posix or cgroups")
	f.BoolVar(&cfg.Detach, "detach", false, "start the supervisor in a session of its own and return once it serves")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}
