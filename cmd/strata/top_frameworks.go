package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/tui"
)

// strata top's Apps and Jobs views: marathon and chronos are found like
// the CLI finds them (--marathon / --chronos, $STRATA_MARATHON /
// $STRATA_CHRONOS, else through the master by their webui_url, retried
// until they register), and followed for as long as the dashboard runs.

// addTopFrameworkFlags puts --marathon and --chronos on strata top.
func addTopFrameworkFlags(cmd *cobra.Command) {
	cmd.Flags().String("marathon", "", `marathon's API for the Apps view: http(s)://host:port, unix:///path or ssh://[user@]host[:port][/host:port]
(env STRATA_MARATHON; default: found through the master, by its webui_url)`)
	cmd.Flags().String("chronos", "", `chronos' API for the Jobs view (same forms; env STRATA_CHRONOS; default: through the master)`)
}

// startTopFrameworks starts the marathon and chronos sources on live
// (its Apps, Jobs and task killers) and returns what stops them.
func startTopFrameworks(cmd *cobra.Command, op *client.Operator, ep *client.Endpoint, live *tui.Live) func() {
	resolver := func(name, env, defaultAddr string) tui.Resolver {
		addr, _ := cmd.Flags().GetString(name)
		if addr == "" {
			addr = os.Getenv(env)
		}
		return func(ctx context.Context) (*client.FrameworkEndpoint, error) {
			var mep *client.Endpoint
			if addr == "" {
				mep = ep
			}
			fep, err := client.ResolveFramework(ctx, op, mep, name, addr, defaultAddr)
			if err != nil {
				return nil, err
			}
			return fep, frameworkToken(fep, mep)
		}
	}
	apps := tui.StartMarathon(resolver("marathon", "STRATA_MARATHON", client.MarathonDefaultAddr), 0)
	jobs := tui.StartChronos(resolver("chronos", "STRATA_CHRONOS", client.ChronosDefaultAddr), 0)
	live.Apps, live.Jobs = apps, jobs
	if live.Killers == nil {
		live.Killers = map[string]func(context.Context, *mesos.Task) error{}
	}
	live.Killers["marathon"] = apps.KillTask
	live.Killers["chronos"] = jobs.KillTask
	return func() { apps.Close(); jobs.Close() }
}
