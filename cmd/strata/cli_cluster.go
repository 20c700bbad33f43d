package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/tui/table"
)

func newStatusCmd() *cobra.Command {
	var (
		c   conn
		out output
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster: leader, agents, frameworks, tasks, resources in use",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			op, ep, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			m, err := op.GetMaster(ctx)
			if err != nil {
				return err
			}
			st, err := op.GetState(ctx)
			if err != nil {
				return err
			}
			healthy := op.Health(ctx) == nil
			doc := map[string]any{"get_master": m, "get_state": st, "healthy": healthy}
			return out.renderKV(cmd.OutOrStdout(), doc, func() *table.KV {
				return table.StatusView(table.Status{Master: m, Health: healthy, State: st, ReachedVia: ep.Display}, time.Now())
			})
		},
	}
	c.addFlags(cmd)
	out.addFlag(cmd)
	return cmd
}

func newAgentsCmd() *cobra.Command {
	var c conn
	cmd := &cobra.Command{
		Use:     "agents",
		Aliases: []string{"agent", "ag"},
		Short:   "List and inspect agents",
	}
	c.addFlags(cmd)

	var (
		lsOut   output
		lsWatch watch
	)
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List agents with their resources (allocated/total) and live tasks",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			return lsWatch.run(cmd, op, false, func(w io.Writer) error {
				resp, err := op.Call(cmd.Context(), &mesos.OperatorCall{Type: mesos.OperatorGetAgents})
				if err != nil {
					return err
				}
				if resp == nil || resp.GetAgents == nil {
					return fmt.Errorf("operator GET_AGENTS: the master's answer has no get_agents")
				}
				return lsOut.render(w, resp, func() *table.Table {
					var tasks []mesos.Task
					if t, err := op.GetTasks(cmd.Context()); err == nil {
						tasks = t.Tasks
					}
					return table.Agents(resp.GetAgents, tasks, time.Now())
				})
			})
		},
	}
	lsOut.addFlag(ls)
	lsWatch.addFlag(ls)

	var showOut output
	show := &cobra.Command{
		Use:               "show AGENT_ID",
		Short:             "Show one agent (an ID or a unique suffix of one)",
		Args:              exactArgs(1),
		ValidArgsFunction: c.completeAgents,
		RunE: func(cmd *cobra.Command, args []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			agents, err := op.GetAgents(cmd.Context())
			if err != nil {
				return err
			}
			ag := table.FindAgent(agents, args[0])
			if ag == nil {
				return fmt.Errorf("agent %q: no such agent (or the suffix is ambiguous)", args[0])
			}
			var tasks []mesos.Task
			if t, err := op.GetTasks(cmd.Context()); err == nil {
				tasks = t.Tasks
			}
			return showOut.renderKV(cmd.OutOrStdout(), ag, func() *table.KV { return table.AgentShow(ag, tasks, time.Now()) })
		},
	}
	showOut.addFlag(show)
	cmd.AddCommand(ls, show)
	addAgentOps(cmd, &c)
	return cmd
}

// completeAgents completes agent IDs from the master (silently nothing
// when it cannot be reached: completion must not print errors).
func (c *conn) completeAgents(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	op, _, done, err := c.open(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer done()
	agents, err := op.GetAgents(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var ids []string
	for _, a := range agents.Agents {
		if a.AgentInfo != nil {
			ids = append(ids, string(a.AgentInfo.ID)+"\t"+a.AgentInfo.Hostname)
		}
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

func newMetricsCmd() *cobra.Command {
	var (
		c      conn
		out    output
		prefix string
	)
	cmd := &cobra.Command{
		Use:   "metrics [PREFIX]",
		Short: "Show the master's metrics (GET /metrics/snapshot, Mesos' names)",
		Example: `  strata metrics
  strata metrics master/tasks_
  strata metrics -o json | jq '."master/uptime_secs"'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("%s takes at most one PREFIX", cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				prefix = args[0]
			}
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			m, err := op.MetricsSnapshot(cmd.Context())
			if err != nil {
				return err
			}
			doc := m
			if prefix != "" {
				doc = map[string]float64{}
				for k, v := range m {
					if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
						doc[k] = v
					}
				}
			}
			return out.render(cmd.OutOrStdout(), doc, func() *table.Table { return table.Metrics(m, prefix) })
		},
	}
	c.addFlags(cmd)
	out.addFlag(cmd)
	return cmd
}

func newEventsCmd() *cobra.Command {
	var (
		c      conn
		out    output
		types  []string
		offers bool
	)
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Follow the master's event stream (operator SUBSCRIBE) until interrupted",
		Long: `Follow the master's operator event stream: SUBSCRIBED (a snapshot), then
TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED, FRAMEWORK_ADDED, ... as
they happen; --offers adds OFFER_SENT/ACCEPTED/DECLINED/RESCINDED. With -o json
each event is one line of the API's JSON (jq -c friendly). The stream follows
a new leader by itself; a gap is reported on stderr.`,
		Example: `  strata events
  strata events --type TASK_UPDATED --type TASK_ADDED
  strata events --offers -o json | jq -c 'select(.type=="OFFER_SENT")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := out.format()
			if err != nil {
				return err
			}
			want := map[mesos.OperatorEventType]bool{}
			for _, t := range types {
				want[mesos.OperatorEventType(t)] = true
			}
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			updates, err := op.Subscribe(cmd.Context(), &mesos.SubscribeOptions{OfferEvents: offers})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			var last error
			for u := range updates {
				if u.Err != nil {
					last = u.Err
					fmt.Fprintln(cmd.ErrOrStderr(), "strata: event stream interrupted (reconnecting):", u.Err)
					continue
				}
				last = nil
				ev := u.Event
				if ev.Type == mesos.OperatorEventHeartbeat && !want[mesos.OperatorEventHeartbeat] {
					continue
				}
				if len(want) > 0 && !want[ev.Type] {
					continue
				}
				switch f {
				case table.FormatJSON:
					err = writeJSONLine(w, ev)
				case table.FormatYAML:
					_, err = fmt.Fprintln(w, "---")
					if err == nil {
						err = table.WriteYAML(w, ev)
					}
				default:
					_, err = fmt.Fprintln(w, table.EventLine(ev, time.Now()))
				}
				if err != nil {
					return err
				}
			}
			if cmd.Context().Err() != nil {
				return nil
			}
			return last
		},
	}
	c.addFlags(cmd)
	out.addFlag(cmd)
	cmd.Flags().StringArrayVar(&types, "type", nil, "only events of this type (repeatable), e.g. TASK_UPDATED")
	cmd.Flags().BoolVar(&offers, "offers", false, "also stream offer events (OFFER_SENT, ...)")
	return cmd
}
