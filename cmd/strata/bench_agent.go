package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/agent/bench"
)

func newBenchAgentCmd() *cobra.Command {
	var (
		counts    string
		isolation string
	)
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Launch N sleep tasks through a real master and agent; time to RUNNING and memory per task",
		Long: `Start an embedded coord server, a master, and ` + "`strata agent`" + ` as its own
process; subscribe a framework and launch N "sleep 3600" tasks in one
ACCEPT. Report the time from the ACCEPT to the first and to the last
TASK_RUNNING, the agent's RSS idle and with every task running, the
supervisor's PSS, and the memory supervision costs per task (the growth
of both, divided by N). Everything is torn down afterwards.

Anchors on this 2-core machine: Nomad's dev agent with raw_exec took
3.1-3.8 s for 100 tasks and 23 s for 400; Apache Mesos 1.7 published about
30 s for 1,000 containers on one agent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ns []int
			for _, f := range strings.Split(counts, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n <= 0 {
					return usageError{fmt.Errorf("--tasks: %q is not a positive number", f)}
				}
				ns = append(ns, n)
			}
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "tasks\tfirst RUNNING\tall RUNNING\tagent RSS idle\tagent RSS busy\tsupervisor PSS idle\tsupervisor PSS busy\toverhead/task\ttask PSS\t")
			for _, n := range ns {
				r, err := bench.Run(cmd.Context(), bench.Config{Tasks: n, Isolation: isolation})
				if err != nil {
					tw.Flush()
					return err
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", n, ms(r.FirstRunning), ms(r.ToRunning),
					mib(float64(r.AgentIdle)), mib(float64(r.AgentBusy)), mib(float64(r.SupervisorIdle)),
					mib(float64(r.SupervisorBusy)), kib(r.PerTask()), kib(float64(r.TaskPSS)))
				tw.Flush()
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&counts, "tasks", "100,1000", "comma-separated task counts, one fresh cluster each")
	cmd.Flags().StringVar(&isolation, "isolation", "posix", "the agent's --isolation (posix or cgroups)")
	return cmd
}

func ms(d interface{ Seconds() float64 }) string { return fmt.Sprintf("%.0f ms", d.Seconds()*1000) }
func mib(b float64) string                       { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
func kib(b float64) string                       { return fmt.Sprintf("%.0f KiB", b/(1<<10)) }
