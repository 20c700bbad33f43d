package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/tui/table"
)

func newLogsCmd() *cobra.Command {
	var (
		c      conn
		follow bool
		stderr bool
		tail   int
	)
	cmd := &cobra.Command{
		Use:   "logs TASK_ID",
		Short: "Print a task's stdout (or stderr) from its agent's sandbox",
		Long: `Print a task's stdout or stderr, read from the sandbox of its latest run
through the agent's files API. The agent's address comes from the master;
over ssh:// it is dialled on the far side. -f follows the file as it grows.`,
		Example: `  strata logs web.1a2b3c
  strata logs web.1a2b3c -f --tail 20
  strata logs job-42 --stderr`,
		Args:              exactArgs(1),
		ValidArgsFunction: c.completeTasks,
		RunE: func(cmd *cobra.Command, args []string) error {
			op, ep, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			tasks, err := op.GetTasks(ctx)
			if err != nil {
				return err
			}
			tk := table.FindTask(table.AllTasks(tasks, true), args[0])
			if tk == nil {
				return fmt.Errorf("task %q: no such task (or the suffix is ambiguous)", args[0])
			}
			agents, err := op.GetAgents(ctx)
			if err != nil {
				return err
			}
			ag := table.FindAgent(agents, string(tk.AgentID))
			if ag == nil {
				return fmt.Errorf("task %s: its agent %s is not registered with the master", tk.TaskID, tk.AgentID)
			}
			ac, err := client.NewAgent(client.AgentURL(ag), ep.AgentOptions())
			if err != nil {
				return err
			}
			defer ac.Close()
			name := "stdout"
			if stderr {
				name = "stderr"
			}
			path := client.TaskSandboxFile(tk, name)
			data, size, err := ac.LastLines(ctx, path, tail)
			if err != nil {
				return fmt.Errorf("task %s %s: %w", tk.TaskID, name, err)
			}
			w := cmd.OutOrStdout()
			if _, err := w.Write(data); err != nil {
				return err
			}
			if !follow {
				return nil
			}
			_, err = ac.Tail(ctx, path, int64(size), 500*time.Millisecond, func(b []byte) error {
				_, err := w.Write(b)
				return err
			})
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil
			}
			return err
		},
	}
	c.addFlags(cmd)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing what the task writes")
	cmd.Flags().BoolVar(&stderr, "stderr", false, "show stderr instead of stdout")
	cmd.Flags().IntVar(&tail, "tail", -1, "show only the last N lines (-1: all)")
	return cmd
}
