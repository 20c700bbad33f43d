package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/tui/table"
)

func newFrameworksCmd() *cobra.Command {
	var c conn
	cmd := &cobra.Command{
		Use:     "frameworks",
		Aliases: []string{"framework", "fw"},
		Short:   "List, inspect and tear down frameworks",
	}
	c.addFlags(cmd)

	var (
		lsOut   output
		lsWatch watch
	)
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List frameworks with what they hold and are offered",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			return lsWatch.run(cmd, op, false, func(w io.Writer) error {
				resp, err := op.Call(cmd.Context(), &mesos.OperatorCall{Type: mesos.OperatorGetFrameworks})
				if err != nil {
					return err
				}
				if resp == nil || resp.GetFrameworks == nil {
					return fmt.Errorf("operator GET_FRAMEWORKS: the master's answer has no get_frameworks")
				}
				return lsOut.render(w, resp, func() *table.Table {
					var tasks []mesos.Task
					if t, err := op.GetTasks(cmd.Context()); err == nil {
						tasks = t.Tasks
					}
					return table.Frameworks(resp.GetFrameworks, tasks, time.Now())
				})
			})
		},
	}
	lsOut.addFlag(ls)
	lsWatch.addFlag(ls)

	var showOut output
	show := &cobra.Command{
		Use:   "show FRAMEWORK",
		Short: "Show one framework (by ID or name)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			fws, err := op.GetFrameworks(cmd.Context())
			if err != nil {
				return err
			}
			f := table.FindFramework(fws, args[0])
			if f == nil {
				return fmt.Errorf("framework %q: no such framework (or the name is ambiguous)", args[0])
			}
			return showOut.renderKV(cmd.OutOrStdout(), f, func() *table.KV { return table.FrameworkShow(f, time.Now()) })
		},
	}
	showOut.addFlag(show)

	teardown := &cobra.Command{
		Use:   "teardown FRAMEWORK_ID",
		Short: "Remove a framework and kill all its tasks (operator TEARDOWN)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			id := args[0]
			if fws, err := op.GetFrameworks(cmd.Context()); err == nil {
				if f := table.FindFramework(fws, id); f != nil && f.FrameworkInfo != nil {
					id = string(f.FrameworkInfo.ID)
				}
			}
			if err := op.Teardown(cmd.Context(), mesos.FrameworkID(id)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "framework %s torn down\n", id)
			return nil
		},
	}
	cmd.AddCommand(ls, show, teardown)
	return cmd
}

func newOffersCmd() *cobra.Command {
	var c conn
	cmd := &cobra.Command{
		Use:     "offers",
		Aliases: []string{"offer"},
		Short:   "List outstanding resource offers",
	}
	c.addFlags(cmd)
	var (
		out     output
		lsWatch watch
	)
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the offers frameworks hold now (-o json: the offers of GET_FRAMEWORKS)",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			return lsWatch.run(cmd, op, true, func(w io.Writer) error {
				fws, err := op.GetFrameworks(cmd.Context())
				if err != nil {
					return err
				}
				offers := []mesos.Offer{}
				for _, f := range fws.Frameworks {
					offers = append(offers, f.Offers...)
				}
				return out.render(w, offers, func() *table.Table { return table.Offers(fws) })
			})
		},
	}
	out.addFlag(ls)
	lsWatch.addFlag(ls)
	cmd.AddCommand(ls)
	return cmd
}

func newTasksCmd() *cobra.Command {
	var c conn
	cmd := &cobra.Command{
		Use:     "tasks",
		Aliases: []string{"task", "t"},
		Short:   "List and inspect tasks",
	}
	c.addFlags(cmd)

	var (
		lsOut   output
		lsWatch watch
		all     bool
	)
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List live tasks (--all: completed ones too)",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			return lsWatch.run(cmd, op, false, func(w io.Writer) error {
				resp, err := op.Call(cmd.Context(), &mesos.OperatorCall{Type: mesos.OperatorGetTasks})
				if err != nil {
					return err
				}
				if resp == nil || resp.GetTasks == nil {
					return fmt.Errorf("operator GET_TASKS: the master's answer has no get_tasks")
				}
				return lsOut.render(w, resp, func() *table.Table {
					var names map[mesos.FrameworkID]string
					if fws, err := op.GetFrameworks(cmd.Context()); err == nil {
						names = table.FrameworkNames(fws)
					}
					return table.Tasks(table.AllTasks(resp.GetTasks, all), names, time.Now())
				})
			})
		},
	}
	lsOut.addFlag(ls)
	lsWatch.addFlag(ls)
	ls.Flags().BoolVarP(&all, "all", "a", false, "include completed tasks")

	var showOut output
	show := &cobra.Command{
		Use:               "show TASK_ID",
		Short:             "Show one task with its status history",
		Args:              exactArgs(1),
		ValidArgsFunction: c.completeTasks,
		RunE: func(cmd *cobra.Command, args []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			tasks, err := op.GetTasks(cmd.Context())
			if err != nil {
				return err
			}
			tk := table.FindTask(table.AllTasks(tasks, true), args[0])
			if tk == nil {
				return fmt.Errorf("task %q: no such task (or the suffix is ambiguous)", args[0])
			}
			var name string
			if fws, err := op.GetFrameworks(cmd.Context()); err == nil {
				name = table.FrameworkNames(fws)[tk.FrameworkID]
			}
			return showOut.renderKV(cmd.OutOrStdout(), tk, func() *table.KV { return table.TaskShow(tk, name, time.Now()) })
		},
	}
	showOut.addFlag(show)
	cmd.AddCommand(ls, show)
	return cmd
}

// completeTasks completes live task IDs from the master.
func (c *conn) completeTasks(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	op, _, done, err := c.open(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer done()
	tasks, err := op.GetTasks(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var ids []string
	for _, t := range tasks.Tasks {
		ids = append(ids, string(t.TaskID)+"\t"+t.Name)
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}
