package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/tui/table"
)

func newJobsCmd() *cobra.Command {
	var c conn
	fw := newFwConn("chronos", "STRATA_CHRONOS", client.ChronosDefaultAddr)
	cmd := &cobra.Command{
		Use:     "jobs",
		Aliases: []string{"job"},
		Short:   "Scheduled and dependent jobs in chronos: list, add, run, history, graph",
	}
	c.addFlags(cmd)
	fw.addFlags(cmd)

	var (
		lsOut   output
		lsWatch watch
	)
	ls := &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List jobs with their schedule, state and last outcome", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ch, done, err := fw.chronos(cmd)
			if err != nil {
				return err
			}
			defer done()
			return fw.watch(cmd, &lsWatch, func(w io.Writer) error {
				jobs, err := ch.Jobs(cmd.Context())
				if err != nil {
					return err
				}
				return lsOut.render(w, jobs, func() *table.Table {
					return table.Jobs(jobs.Value, jobStates(cmd, ch), time.Now())
				})
			})
		},
	}
	lsOut.addFlag(ls)
	lsWatch.addFlag(ls)

	var showOut output
	show := &cobra.Command{
		Use: "show JOB", Short: "Show one job", Args: exactArgs(1), ValidArgsFunction: fw.completeJobs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, done, err := fw.chronos(cmd)
			if err != nil {
				return err
			}
			defer done()
			j, err := ch.Job(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return showOut.renderKV(cmd.OutOrStdout(), j, func() *table.KV {
				return table.JobShow(&j.Value, jobStates(cmd, ch)[j.Value.Name], time.Now())
			})
		},
	}
	showOut.addFlag(show)

	var (
		file string
		nj   client.ChronosJob
		nl   struct {
			parents []string
		}
	)
	add := &cobra.Command{
		Use:   "add (-f FILE | --name NAME (--schedule ISO8601 | --parents A,B) --command CMD)",
		Short: "Create or replace a job from Chronos JSON, or from flags",
		Long: `Create or replace a job: from its Chronos JSON with -f (a job with
"parents" is a dependent job), or from flags. The schedule is Chronos'
ISO 8601 repeating interval, R[n]/<start>/<period> (an empty start means
now), or a cron expression.`,
		Example: `  strata jobs add -f backup.json
  strata jobs add --name hello --schedule R/2026-01-01T00:00:00Z/PT1M --command 'echo hello'
  strata jobs add --name report --parents hello --command ./report.sh`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var def []byte
			switch {
			case file != "" && nj.Name != "":
				return usageError{errors.New("give -f FILE or --name and the other flags, not both")}
			case file != "":
				b, err := readDefinition(cmd, file)
				if err != nil {
					return err
				}
				def = b
			case nj.Name == "" || nj.Command == "":
				return usageError{errors.New("-f FILE, or --name and --command (with --schedule or --parents), are required")}
			case (nj.Schedule == "") == (len(nl.parents) == 0):
				return usageError{errors.New("a job needs either --schedule or --parents")}
			default:
				m := map[string]any{"name": nj.Name, "command": nj.Command}
				if nj.Schedule != "" {
					m["schedule"] = nj.Schedule
				}
				if len(nl.parents) > 0 {
					m["parents"] = nl.parents
				}
				for k, v := range map[string]string{"epsilon": nj.Epsilon, "owner": nj.Owner, "description": nj.Description,
					"scheduleTimeZone": nj.ScheduleTimeZone, "runAsUser": nj.RunAsUser} {
					if v != "" {
						m[k] = v
					}
				}
				for k, v := range map[string]float64{"cpus": nj.CPUs, "mem": nj.Mem, "disk": nj.Disk} {
					if v > 0 {
						m[k] = v
					}
				}
				if cmd.Flags().Changed("retries") {
					m["retries"] = nj.Retries
				}
				if nj.Concurrent {
					m["concurrent"] = true
				}
				if nj.Disabled {
					m["disabled"] = true
				}
				def, _ = json.Marshal(m)
			}
			ch, done, err := fw.chronos(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := ch.PutJob(cmd.Context(), def); err != nil {
				return err
			}
			var head struct{ Name string }
			_ = json.Unmarshal(def, &head)
			fmt.Fprintf(cmd.OutOrStdout(), "job %s saved\n", head.Name)
			return nil
		},
	}
	af := add.Flags()
	af.StringVarP(&file, "file", "f", "", "the job definition (Chronos JSON; - for stdin)")
	af.StringVar(&nj.Name, "name", "", "job name")
	af.StringVar(&nj.Command, "command", "", "shell command to run")
	af.StringVar(&nj.Schedule, "schedule", "", "ISO 8601 repeating interval (R/2026-01-01T00:00:00Z/PT1H) or cron")
	af.StringVar(&nj.ScheduleTimeZone, "schedule-time-zone", "", "IANA time zone of the schedule")
	af.StringSliceVar(&nl.parents, "parents", nil, "run after these jobs succeed (a dependent job)")
	af.StringVar(&nj.Epsilon, "epsilon", "", "how late a missed run may still start (ISO 8601 duration, e.g. PT1M)")
	af.Float64Var(&nj.CPUs, "cpus", 0, "cpus (default: chronos' default)")
	af.Float64Var(&nj.Mem, "mem", 0, "memory in MB (default: chronos' default)")
	af.Float64Var(&nj.Disk, "disk", 0, "disk in MB (default: chronos' default)")
	af.IntVar(&nj.Retries, "retries", 2, "attempts after a failed run")
	af.StringVar(&nj.Owner, "owner", "", "owner's email")
	af.StringVar(&nj.Description, "description", "", "what the job does")
	af.StringVar(&nj.RunAsUser, "run-as-user", "", "user the job runs as")
	af.BoolVar(&nj.Concurrent, "concurrent", false, "a run may start while the previous one runs")
	af.BoolVar(&nj.Disabled, "disabled", false, "add the job disabled")

	run := &cobra.Command{
		Use: "run JOB [ARG...]", Short: "Run a job now (a manual run, with extra arguments if given)", Args: minArgs(1),
		ValidArgsFunction: fw.completeJobs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, done, err := fw.chronos(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := ch.RunJob(cmd.Context(), args[0], args[1:]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s started (strata jobs history %s)\n", args[0], args[0])
			return nil
		},
	}

	rm := &cobra.Command{
		Use: "rm JOB", Aliases: []string{"delete"}, Short: "Remove a job (its running tasks are killed)", Args: exactArgs(1),
		ValidArgsFunction: fw.completeJobs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, done, err := fw.chronos(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := ch.DeleteJob(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s removed\n", args[0])
			return nil
		},
	}

	kill := &cobra.Command{
		Use: "kill JOB", Short: "Kill a job's running tasks", Args: exactArgs(1), ValidArgsFunction: fw.completeJobs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, done, err := fw.chronos(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := ch.KillJobTasks(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job %s: its tasks are being killed\n", args[0])
			return nil
		},
	}

	var (
		histOut output
		limit   int
	)
	history := &cobra.Command{
		Use: "history JOB", Short: "A job's runs, newest first: scheduled instant, state, exit, duration", Args: exactArgs(1),
		ValidArgsFunction: fw.completeJobs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, done, err := fw.chronos(cmd)
			if err != nil {
				return err
			}
			defer done()
			h, err := ch.History(cmd.Context(), args[0], limit)
			if err != nil {
				return err
			}
			return histOut.render(cmd.OutOrStdout(), h, func() *table.Table { return table.JobHistory(h.Value.Runs, time.Now()) })
		},
	}
	histOut.addFlag(history)
	history.Flags().IntVarP(&limit, "limit", "n", 20, "show at most N runs (0: every run kept)")

	var format string
	graph := &cobra.Command{
		Use: "graph", Short: "The job dependency graph (DOT for graphviz, or Chronos' CSV)", Args: noArgs,
		Example: `  strata jobs graph | dot -Tsvg > jobs.svg`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "dot" && format != "csv" {
				return usageError{fmt.Errorf("--format %q: want dot or csv", format)}
			}
			ch, done, err := fw.chronos(cmd)
			if err != nil {
				return err
			}
			defer done()
			g, err := ch.Graph(cmd.Context(), format)
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), g)
			return err
		},
	}
	graph.Flags().StringVar(&format, "format", "dot", "dot or csv")

	cmd.AddCommand(ls, show, add, run, rm, kill, history, graph)
	return cmd
}

// jobStates maps job names to what they do now (idle, queued, running);
// nil when chronos cannot say (the table then shows "-").
func jobStates(cmd *cobra.Command, ch *client.Chronos) map[string]string {
	s, err := ch.Summaries(cmd.Context())
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, j := range s.Value.Jobs {
		out[j.Name] = j.State
	}
	return out
}

// completeJobs completes job names from chronos.
func (f *fwConn) completeJobs(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ch, done, err := f.chronos(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer done()
	jobs, err := ch.Jobs(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, j := range jobs.Value {
		names = append(names, j.Name+"\t"+j.Command)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
