package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/tui/table"
)

func newRolesCmd() *cobra.Command {
	var c conn
	cmd := &cobra.Command{
		Use:     "roles",
		Aliases: []string{"role"},
		Short:   "List roles: weights, frameworks, allocations (and quotas with -o wide)",
	}
	c.addFlags(cmd)
	var out output
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List roles",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			resp, err := op.Call(cmd.Context(), &mesos.OperatorCall{Type: mesos.OperatorGetRoles})
			if err != nil {
				return err
			}
			if resp == nil || resp.GetRoles == nil {
				return fmt.Errorf("operator GET_ROLES: the master's answer has no get_roles")
			}
			return out.render(cmd.OutOrStdout(), resp, func() *table.Table {
				q, _ := op.GetQuota(cmd.Context()) // quotas are extra columns: none if unreadable
				return table.Roles(resp.GetRoles, q)
			})
		},
	}
	out.addFlag(ls)
	cmd.AddCommand(ls)
	return cmd
}

func newWeightsCmd() *cobra.Command {
	var c conn
	cmd := &cobra.Command{
		Use:     "weights",
		Aliases: []string{"weight"},
		Short:   "Set the weights of roles (their share in DRF)",
	}
	c.addFlags(cmd)
	set := &cobra.Command{
		Use:     "set ROLE=WEIGHT...",
		Short:   "Set role weights (operator UPDATE_WEIGHTS), all at once",
		Example: "  strata weights set prod=3 dev=0.5",
		Args:    minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var infos []mesos.WeightInfo
			for _, a := range args {
				role, w, ok := strings.Cut(a, "=")
				if !ok || role == "" {
					return usageError{fmt.Errorf("%q: want ROLE=WEIGHT", a)}
				}
				v, err := strconv.ParseFloat(w, 64)
				if err != nil || v <= 0 {
					return usageError{fmt.Errorf("%q: weight %q must be a positive number", a, w)}
				}
				infos = append(infos, mesos.WeightInfo{Role: role, Weight: v})
			}
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := op.UpdateWeights(cmd.Context(), infos...); err != nil {
				return err
			}
			for _, w := range infos {
				fmt.Fprintf(cmd.OutOrStdout(), "role %s: weight %s\n", w.Role, table.Number(w.Weight))
			}
			return nil
		},
	}
	cmd.AddCommand(set)
	return cmd
}

func newQuotaCmd() *cobra.Command {
	var c conn
	cmd := &cobra.Command{
		Use:     "quota",
		Aliases: []string{"quotas"},
		Short:   "List, set and remove role quotas (guarantees and limits)",
	}
	c.addFlags(cmd)

	var out output
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List every role's quota",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			resp, err := op.Call(cmd.Context(), &mesos.OperatorCall{Type: mesos.OperatorGetQuota})
			if err != nil {
				return err
			}
			if resp == nil || resp.GetQuota == nil {
				return fmt.Errorf("operator GET_QUOTA: the master's answer has no get_quota")
			}
			return out.render(cmd.OutOrStdout(), resp, func() *table.Table { return table.Quotas(resp.GetQuota) })
		},
	}
	out.addFlag(ls)

	var (
		cpus, mem, disk          string
		limCPUs, limMem, limDisk string
		force                    bool
	)
	set := &cobra.Command{
		Use:   "set ROLE",
		Short: "Set a role's quota (operator UPDATE_QUOTA); limits default to the guarantees",
		Long: `Set a role's quota: --cpus, --mem and --disk are guarantees (resources the
role is sure to get); --limit-* cap what it may hold, and default to the
guarantee of the same resource. Sizes are megabytes unless a unit says
otherwise (512, 512MiB, 2GiB). The master refuses guarantees the cluster
cannot hold unless --force.`,
		Example: `  strata quota set prod --cpus 4 --mem 8GiB
  strata quota set batch --cpus 1 --limit-cpus 8`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := mesos.QuotaConfig{Role: args[0], Guarantees: map[string]mesos.Scalar{}, Limits: map[string]mesos.Scalar{}}
			for _, f := range []struct {
				flag, res, guarantee, limit string
				size                        bool
			}{
				{"cpus", "cpus", cpus, limCPUs, false},
				{"mem", "mem", mem, limMem, true},
				{"disk", "disk", disk, limDisk, true},
			} {
				g, err := quantity("--"+f.flag, f.guarantee, f.size)
				if err != nil {
					return err
				}
				l, err := quantity("--limit-"+f.flag, f.limit, f.size)
				if err != nil {
					return err
				}
				if g != nil {
					q.Guarantees[f.res] = *g
				}
				switch {
				case l != nil:
					q.Limits[f.res] = *l
				case g != nil:
					q.Limits[f.res] = *g
				}
			}
			if len(q.Guarantees) == 0 && len(q.Limits) == 0 {
				return usageError{fmt.Errorf("quota set %s: give at least one of --cpus, --mem, --disk or --limit-*", args[0])}
			}
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := op.UpdateQuota(cmd.Context(), force, q); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "role %s: quota set\n", args[0])
			return nil
		},
	}
	fl := set.Flags()
	fl.StringVar(&cpus, "cpus", "", "guaranteed cpus")
	fl.StringVar(&mem, "mem", "", "guaranteed memory (MB, or with a unit)")
	fl.StringVar(&disk, "disk", "", "guaranteed disk (MB, or with a unit)")
	fl.StringVar(&limCPUs, "limit-cpus", "", "cpus limit (default: --cpus)")
	fl.StringVar(&limMem, "limit-mem", "", "memory limit (default: --mem)")
	fl.StringVar(&limDisk, "limit-disk", "", "disk limit (default: --disk)")
	fl.BoolVar(&force, "force", false, "skip the master's check that guarantees fit the cluster")

	rm := &cobra.Command{
		Use:   "rm ROLE...",
		Short: "Remove roles' quotas (UPDATE_QUOTA with no guarantees or limits)",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			configs := make([]mesos.QuotaConfig, len(args))
			for i, r := range args {
				configs[i] = mesos.QuotaConfig{Role: r}
			}
			if err := op.UpdateQuota(cmd.Context(), false, configs...); err != nil {
				return err
			}
			for _, r := range args {
				fmt.Fprintf(cmd.OutOrStdout(), "role %s: quota removed\n", r)
			}
			return nil
		},
	}
	cmd.AddCommand(ls, set, rm)
	return cmd
}

// quantity parses a quota flag: nil when unset.
func quantity(flag, s string, size bool) (*mesos.Scalar, error) {
	if s == "" {
		return nil, nil
	}
	var v float64
	var err error
	if size {
		v, err = table.ParseSizeMB(s)
	} else {
		v, err = strconv.ParseFloat(s, 64)
		if err == nil && v < 0 {
			err = fmt.Errorf("negative")
		}
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("%s %q: %v", flag, s, err)}
	}
	sc := mesos.ScalarOf(v)
	return &sc, nil
}
