package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/tui/table"
)

// deployFlags are the flags of verbs that start a deployment.
type deployFlags struct {
	detach  bool
	force   bool
	timeout time.Duration
}

func (d *deployFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&d.detach, "detach", "d", false, "return once the deployment has started instead of following it")
	cmd.Flags().BoolVar(&d.force, "force", false, "override a deployment that holds the app (it is cancelled)")
	cmd.Flags().DurationVar(&d.timeout, "timeout", 0, "give up following after this long (0: follow until it ends)")
}

// deploy starts a deployment with start and, unless --detach, follows it
// with a progress bar until it ends; a failed deployment is an error.
func (d *deployFlags) deploy(cmd *cobra.Command, m *client.Marathon, what string, start func(context.Context) (client.DeploymentResult, error)) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	var w *client.DeploymentWatch
	if !d.detach {
		var err error
		if w, err = m.WatchDeployments(ctx); err != nil {
			return err
		}
		defer w.Close()
	}
	res, err := start(ctx)
	if errors.Is(err, client.ErrConflict) && !d.force {
		return fmt.Errorf("%w (--force cancels the deployment in the way)", err)
	}
	if err != nil {
		return err
	}
	if res.DeploymentID == "" {
		fmt.Fprintf(out, "%s: done\n", what)
		return nil
	}
	fmt.Fprintf(out, "%s: deployment %s\n", what, res.DeploymentID)
	if d.detach {
		return nil
	}
	if d.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.timeout)
		defer cancel()
	}
	tty := isTTY(out)
	last := ""
	err = w.Wait(ctx, res.DeploymentID, time.Second, func(dep client.MarathonDeployment) {
		line := table.DeploymentProgress(dep, 30)
		switch {
		case tty:
			fmt.Fprintf(out, "\r\033[K%s", line)
		case line != last:
			fmt.Fprintln(out, line)
		}
		last = line
	})
	if tty && last != "" {
		fmt.Fprint(out, "\r\033[K")
	}
	switch {
	case err == nil:
		fmt.Fprintf(out, "deployment %s finished\n", res.DeploymentID)
		return nil
	case errors.Is(err, context.DeadlineExceeded) && cmd.Context().Err() == nil:
		return fmt.Errorf("deployment %s still running after --timeout %s (see strata queue)", res.DeploymentID, d.timeout)
	case cmd.Context().Err() != nil:
		fmt.Fprintf(out, "stopped following deployment %s; it goes on (strata deployments ls)\n", res.DeploymentID)
		return nil
	}
	return err
}

func newAppsCmd() *cobra.Command {
	var c conn
	fw := newFwConn("marathon", "STRATA_MARATHON", client.MarathonDefaultAddr)
	cmd := &cobra.Command{
		Use:     "apps",
		Aliases: []string{"app"},
		Short:   "Long-running services in marathon: list, deploy, scale, restart, roll back",
	}
	c.addFlags(cmd)
	fw.addFlags(cmd)

	var (
		lsOut   output
		lsWatch watch
	)
	ls := &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List apps with their instances and health", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			return fw.watch(cmd, &lsWatch, func(w io.Writer) error {
				apps, err := m.Apps(cmd.Context())
				if err != nil {
					return err
				}
				return lsOut.render(w, apps, func() *table.Table { return table.Apps(apps.Value.Apps, time.Now()) })
			})
		},
	}
	lsOut.addFlag(ls)
	lsWatch.addFlag(ls)

	var showOut output
	show := &cobra.Command{
		Use: "show APP", Short: "Show one app and its tasks", Args: exactArgs(1), ValidArgsFunction: fw.completeApps,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			a, err := m.App(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			f, err := showOut.format()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if f.Structured() {
				return table.WriteDoc(w, f, a)
			}
			now := time.Now()
			st := table.StyleFor(w)
			if err := table.AppShow(&a.Value.App, now).Render(w, st); err != nil {
				return err
			}
			if len(a.Value.App.Tasks) == 0 {
				return nil
			}
			fmt.Fprintln(w)
			return table.AppTasks(a.Value.App.Tasks, now).Render(w, f == table.FormatWide, st)
		},
	}
	showOut.addFlag(show)

	var (
		deployFile string
		deployF    deployFlags
	)
	deploy := &cobra.Command{
		Use:   "deploy -f FILE",
		Short: "Create or update apps from Marathon JSON (an app, an array of apps or a group) and follow the deployment",
		Long: `Create or update an app from its Marathon JSON definition (an array, or a
group with "apps" and "groups", deploys several apps in one deployment).
An existing app takes the fields given.
The deployment is followed with a progress bar until it ends (--detach to
return at once); a deployment that is cancelled or replaced exits 1.`,
		Example: `  strata apps deploy -f web.json
  cat web.json | strata apps deploy -f - --detach`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			def, err := readDefinition(cmd, deployFile)
			if err != nil {
				return err
			}
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			array := bytes.HasPrefix(bytes.TrimSpace(def), []byte("["))
			return deployF.deploy(cmd, m, "deploy "+deployFile, func(ctx context.Context) (client.DeploymentResult, error) {
				if array {
					return m.PutApps(ctx, def, deployF.force)
				}
				if client.IsGroup(def) {
					return m.PutGroup(ctx, def, deployF.force)
				}
				return m.PutApp(ctx, def, deployF.force)
			})
		},
	}
	deploy.Flags().StringVarP(&deployFile, "file", "f", "", "the app definition (JSON; - for stdin)")
	deployF.add(deploy)

	var scaleF deployFlags
	scale := &cobra.Command{
		Use: "scale APP INSTANCES", Short: "Set an app's number of instances", Args: exactArgs(2),
		ValidArgsFunction: fw.completeApps,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[1])
			if err != nil || n < 0 {
				return usageError{fmt.Errorf("INSTANCES %q: want a whole number ≥ 0", args[1])}
			}
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			return scaleF.deploy(cmd, m, fmt.Sprintf("scale %s to %d", args[0], n), func(ctx context.Context) (client.DeploymentResult, error) {
				return m.Scale(ctx, args[0], n, scaleF.force)
			})
		},
	}
	scaleF.add(scale)

	var restartF deployFlags
	restart := &cobra.Command{
		Use: "restart APP", Short: "Replace every instance of an app (rolling, by its upgrade strategy)", Args: exactArgs(1),
		ValidArgsFunction: fw.completeApps,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			return restartF.deploy(cmd, m, "restart "+args[0], func(ctx context.Context) (client.DeploymentResult, error) {
				return m.Restart(ctx, args[0], restartF.force)
			})
		},
	}
	restartF.add(restart)

	var rmF deployFlags
	rm := &cobra.Command{
		Use: "rm APP", Aliases: []string{"delete", "destroy"}, Short: "Remove an app and kill its tasks", Args: exactArgs(1),
		ValidArgsFunction: fw.completeApps,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			return rmF.deploy(cmd, m, "remove "+args[0], func(ctx context.Context) (client.DeploymentResult, error) {
				return m.DeleteApp(ctx, args[0], rmF.force)
			})
		},
	}
	rmF.add(rm)

	var versionsOut output
	versions := &cobra.Command{
		Use: "versions APP", Short: "List an app's stored versions, newest first", Args: exactArgs(1),
		ValidArgsFunction: fw.completeApps,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			vs, err := m.Versions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cur := ""
			if a, err := m.App(cmd.Context(), args[0]); err == nil {
				cur = a.Value.App.Version
			}
			return versionsOut.render(cmd.OutOrStdout(), vs, func() *table.Table {
				return table.Versions(vs.Value.Versions, cur, time.Now())
			})
		},
	}
	versionsOut.addFlag(versions)

	var rollbackF deployFlags
	rollback := &cobra.Command{
		Use:   "rollback APP [VERSION]",
		Short: "Deploy an earlier version of an app again (default: the one before the current)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError{fmt.Errorf("%s takes APP and an optional VERSION", cmd.CommandPath())}
			}
			return nil
		},
		ValidArgsFunction: fw.completeApps,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			version := ""
			if len(args) == 2 {
				version = args[1]
			} else {
				vs, err := m.Versions(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				a, err := m.App(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				version = previousVersion(vs.Value.Versions, a.Value.App.Version)
				if version == "" {
					return fmt.Errorf("app %s has no earlier version to roll back to", args[0])
				}
			}
			return rollbackF.deploy(cmd, m, "roll "+args[0]+" back to "+version, func(ctx context.Context) (client.DeploymentResult, error) {
				return m.Rollback(ctx, args[0], version, rollbackF.force)
			})
		},
	}
	rollbackF.add(rollback)

	cmd.AddCommand(ls, show, deploy, scale, restart, rm, versions, rollback)
	return cmd
}

// previousVersion is the version before current in a newest-first list
// whose definition differs; Marathon stores a version per change, so it
// is simply the next one down.
func previousVersion(versions []string, current string) string {
	for i, v := range versions {
		if v == current && i+1 < len(versions) {
			return versions[i+1]
		}
	}
	if len(versions) >= 2 && current == "" {
		return versions[1]
	}
	return ""
}

func newDeploymentsCmd() *cobra.Command {
	var c conn
	fw := newFwConn("marathon", "STRATA_MARATHON", client.MarathonDefaultAddr)
	cmd := &cobra.Command{
		Use:     "deployments",
		Aliases: []string{"deployment", "deploys"},
		Short:   "Marathon's running deployments: list, cancel",
	}
	c.addFlags(cmd)
	fw.addFlags(cmd)
	var out output
	ls := &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List running deployments and their current step", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			deps, err := m.Deployments(cmd.Context())
			if err != nil {
				return err
			}
			return out.render(cmd.OutOrStdout(), deps, func() *table.Table { return table.Deployments(deps.Value, time.Now()) })
		},
	}
	out.addFlag(ls)
	var force bool
	rm := &cobra.Command{
		Use:   "rm DEPLOYMENT_ID",
		Short: "Cancel a deployment: roll its apps back (--force: just stop it where it is)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			res, err := m.CancelDeployment(cmd.Context(), args[0], force)
			if err != nil {
				return err
			}
			if res.DeploymentID != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "deployment %s cancelled; rolling back in deployment %s\n", args[0], res.DeploymentID)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deployment %s stopped\n", args[0])
			return nil
		},
	}
	rm.Flags().BoolVar(&force, "force", false, "stop the deployment without rolling back")
	cmd.AddCommand(ls, rm)
	return cmd
}

func newQueueCmd() *cobra.Command {
	var (
		c   conn
		out output
	)
	fw := newFwConn("marathon", "STRATA_MARATHON", client.MarathonDefaultAddr)
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "Why marathon's instances wait: the launch queue and the offers it declined",
		Long: `List the apps whose instances wait for resource offers, with the backoff
delay still holding them and why offers were declined (Marathon's
processedOffersSummary: the funnel step that refused most of the last
offers; -o wide lists every reason).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer done()
			q, err := m.Queue(cmd.Context())
			if err != nil {
				return err
			}
			return out.render(cmd.OutOrStdout(), q, func() *table.Table { return table.Queue(q.Value.Queue, time.Now()) })
		},
	}
	c.addFlags(cmd)
	fw.addFlags(cmd)
	out.addFlag(cmd)
	return cmd
}

// newTasksKillCmd is `strata tasks kill`: the operator API has no kill, so
// a task is killed through the framework that owns it (marathon).
func newTasksKillCmd() *cobra.Command {
	var scale bool
	fw := newFwConn("marathon", "STRATA_MARATHON", client.MarathonDefaultAddr)
	chronosFw := newFwConn("chronos", "STRATA_CHRONOS", client.ChronosDefaultAddr)
	cmd := &cobra.Command{
		Use:   "kill TASK_ID",
		Short: "Kill a task through its framework: marathon replaces it unless --scale; chronos kills its job's running tasks",
		Args:  exactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			c := masterConn(cmd)
			return c.completeTasks(cmd, args, prefix)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c := masterConn(cmd)
			op, _, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			tasks, err := op.GetTasks(cmd.Context())
			if err != nil {
				return err
			}
			tk := table.FindTask(table.AllTasks(tasks, false), args[0])
			if tk == nil {
				return fmt.Errorf("task %q: no such live task (or the suffix is ambiguous)", args[0])
			}
			fws, err := op.GetFrameworks(cmd.Context())
			if err != nil {
				return err
			}
			name := table.FrameworkNames(fws)[tk.FrameworkID]
			switch name {
			case "marathon":
			case "chronos":
				// Chronos kills by job: every running task of the task's job.
				job, ok := client.ChronosTaskJob(string(tk.TaskID))
				if !ok {
					return fmt.Errorf("task %s: not a chronos task id (ct:<instant>:<attempt>:<job>:<n>)", tk.TaskID)
				}
				ch, cdone, err := chronosFw.chronos(cmd)
				if err != nil {
					return err
				}
				defer cdone()
				if err := ch.KillJobTasks(cmd.Context(), job); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "task %s killed with the other running tasks of job %s\n", tk.TaskID, job)
				return nil
			default:
				return fmt.Errorf("task %s belongs to framework %q: only marathon's and chronos' tasks can be killed from here; ask that framework", tk.TaskID, orName(name, tk.FrameworkID))
			}
			app, ok := client.TaskApp(string(tk.TaskID))
			if !ok {
				return fmt.Errorf("task %s: not a marathon task id (<app>.<uuid>)", tk.TaskID)
			}
			m, mdone, err := fw.marathon(cmd)
			if err != nil {
				return err
			}
			defer mdone()
			if err := m.KillTask(cmd.Context(), app, string(tk.TaskID), scale); err != nil {
				return err
			}
			what := "marathon starts a replacement"
			if scale {
				what = "app " + app + " scaled down by one"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %s killed; %s\n", tk.TaskID, what)
			return nil
		},
	}
	fw.addFlags(cmd)
	chronosFw.addFlags(cmd)
	cmd.Flags().BoolVar(&scale, "scale", false, "marathon: lower the app's instance count instead of replacing the task")
	return cmd
}

func orName(name string, id mesos.FrameworkID) string {
	if name != "" {
		return name
	}
	return string(id)
}

// completeApps completes app IDs from marathon.
func (f *fwConn) completeApps(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	m, done, err := f.marathon(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer done()
	apps, err := m.Apps(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var ids []string
	for _, a := range apps.Value.Apps {
		ids = append(ids, a.ID+"\t"+strings.TrimSpace(fmt.Sprintf("%d instances", a.Instances)))
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}
