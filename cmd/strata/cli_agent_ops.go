package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/tui/table"
)

// addAgentOps adds drain, reactivate, gone, reserve and unreserve to
// `strata agents`; c is the noun's connection.
func addAgentOps(agents *cobra.Command, c *conn) {
	// resolve turns an ID or unique suffix into the agent's full ID.
	resolve := func(cmd *cobra.Command, op *client.Operator, id string) (mesos.AgentID, error) {
		list, err := op.GetAgents(cmd.Context())
		if err != nil {
			return "", err
		}
		ag := table.FindAgent(list, id)
		if ag == nil || ag.AgentInfo == nil {
			return "", fmt.Errorf("agent %q: no such agent (or the suffix is ambiguous)", id)
		}
		return ag.AgentInfo.ID, nil
	}
	var (
		grace    time.Duration
		markGone bool
	)
	drain := &cobra.Command{
		Use:               "drain AGENT_ID",
		Short:             "Drain an agent: kill its tasks, offer nothing from it (DRAIN_AGENT)",
		Args:              exactArgs(1),
		ValidArgsFunction: c.completeAgents,
		RunE: func(cmd *cobra.Command, args []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			id, err := resolve(cmd, op, args[0])
			if err != nil {
				return err
			}
			if err := op.DrainAgent(cmd.Context(), id, grace, markGone); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "agent %s draining\n", id)
			return nil
		},
	}
	drain.Flags().DurationVar(&grace, "max-grace-period", 0, "kill tasks within this (0: their own kill policies)")
	drain.Flags().BoolVar(&markGone, "mark-gone", false, "mark the agent gone once drained")

	simple := func(use, short, done string, call func(*client.Operator, *cobra.Command, mesos.AgentID) error) *cobra.Command {
		return &cobra.Command{
			Use:               use + " AGENT_ID",
			Short:             short,
			Args:              exactArgs(1),
			ValidArgsFunction: c.completeAgents,
			RunE: func(cmd *cobra.Command, args []string) error {
				op, _, closeAll, err := c.open(cmd)
				if err != nil {
					return err
				}
				defer closeAll()
				id, err := resolve(cmd, op, args[0])
				if err != nil {
					return err
				}
				if err := call(op, cmd, id); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "agent %s %s\n", id, done)
				return nil
			},
		}
	}
	reactivate := simple("reactivate", "End a drain or deactivation (REACTIVATE_AGENT)", "reactivated",
		func(op *client.Operator, cmd *cobra.Command, id mesos.AgentID) error {
			return op.ReactivateAgent(cmd.Context(), id)
		})
	gone := simple("gone", "Declare an agent gone for good: its tasks become TASK_GONE_BY_OPERATOR (MARK_AGENT_GONE)", "marked gone",
		func(op *client.Operator, cmd *cobra.Command, id mesos.AgentID) error {
			return op.MarkAgentGone(cmd.Context(), id)
		})

	reservation := func(use, short string, call func(*client.Operator, *cobra.Command, mesos.AgentID, mesos.Resources) error) *cobra.Command {
		var role, principal string
		cmd := &cobra.Command{
			Use:               use + " AGENT_ID RESOURCES --role ROLE",
			Short:             short,
			Example:           "  strata agents " + use + " S1 'cpus:1;mem:512' --role prod",
			Args:              exactArgs(2),
			ValidArgsFunction: c.completeAgents,
			RunE: func(cmd *cobra.Command, args []string) error {
				res, err := client.DynamicReservation(args[1], role, principal)
				if err != nil {
					return usageError{err}
				}
				op, _, closeAll, err := c.open(cmd)
				if err != nil {
					return err
				}
				defer closeAll()
				id, err := resolve(cmd, op, args[0])
				if err != nil {
					return err
				}
				if err := call(op, cmd, id, res); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "agent %s: %s %s for role %s\n", id, use+"d", args[1], role)
				return nil
			},
		}
		cmd.Flags().StringVar(&role, "role", "", "the role the resources are reserved for (required)")
		cmd.Flags().StringVar(&principal, "principal", "", "the reserving principal")
		_ = cmd.MarkFlagRequired("role")
		return cmd
	}
	reserve := reservation("reserve", "Reserve an agent's resources for a role (RESERVE_RESOURCES)",
		func(op *client.Operator, cmd *cobra.Command, id mesos.AgentID, r mesos.Resources) error {
			return op.ReserveResources(cmd.Context(), id, r)
		})
	unreserve := reservation("unreserve", "Remove a dynamic reservation (UNRESERVE_RESOURCES)",
		func(op *client.Operator, cmd *cobra.Command, id mesos.AgentID, r mesos.Resources) error {
			return op.UnreserveResources(cmd.Context(), id, r)
		})
	agents.AddCommand(drain, reactivate, gone, reserve, unreserve)
}
