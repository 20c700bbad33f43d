package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/tui/table"
)

// addOperatorCommands registers `strata up`, `dial-stdio` and the
// operator verbs, and adds the coord browsing verbs to `strata coord`.
func addOperatorCommands(root *cobra.Command) {
	top := []*cobra.Command{
		newUpCmd(), newDialStdioCmd(),
		newStatusCmd(), newAgentsCmd(), newFrameworksCmd(), newOffersCmd(), newRolesCmd(),
		newWeightsCmd(), newQuotaCmd(), newTasksCmd(), newLogsCmd(), newEventsCmd(), newMetricsCmd(),
		newAppsCmd(), newDeploymentsCmd(), newQueueCmd(), newJobsCmd(), // cli_apps.go, cli_jobs.go
	}
	for _, c := range top {
		if c.Name() == "tasks" {
			c.AddCommand(newTasksKillCmd()) // through the owning framework (cli_apps.go)
		}
	}
	var coordVerbs []*cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "coord" {
			coordVerbs = addCoordBrowseCmds(c)
		}
	}
	for _, c := range append(top, coordVerbs...) {
		explainErrors(c)
	}
	root.AddCommand(top...)
}

// explainErrors makes the errors of c and its subcommands one short line
// (client.Explain); exit codes are unchanged.
func explainErrors(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error { return client.Explain(run(cmd, args)) }
	}
	for _, sub := range c.Commands() {
		explainErrors(sub)
	}
}

// conn is how an operator verb reaches its cluster: --master (or
// STRATA_MASTER), resolved into a client.
type conn struct {
	master string
}

const masterHelp = `the master: unix:///path/master.sock, http(s)://host:port, zk://host:port/strata or
ssh://[user@]host[:port][/path/master.sock] (env STRATA_MASTER; default: ./.strata/master.sock
if it exists, else /run/strata/master.sock)`

// addConnFlags puts --master on a noun command and its verbs.
func (c *conn) addFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&c.master, "master", "", masterHelp)
}

// open resolves the master and returns an operator client; the caller
// closes both (close does).
func (c *conn) open(cmd *cobra.Command) (*client.Operator, *client.Endpoint, func(), error) {
	addr := c.master
	if addr == "" {
		addr = os.Getenv("STRATA_MASTER")
	}
	ep, err := client.Resolve(cmd.Context(), addr, client.Options{Timeout: 30 * time.Second})
	if errors.Is(err, client.ErrBadAddress) {
		return nil, nil, nil, usageError{err}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	tok, err := ep.Token(os.Getenv)
	if err != nil && !errors.Is(err, client.ErrNoToken) {
		ep.Close()
		return nil, nil, nil, err
	}
	ep.Options.Token = tok
	op, err := client.NewOperator(ep.Options)
	if err != nil {
		ep.Close()
		return nil, nil, nil, usageError{err}
	}
	return op, ep, func() { op.Close(); ep.Close() }, nil
}

// output is the -o flag of a read verb.
type output struct {
	raw string
}

func (o *output) addFlag(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.raw, "output", "o", "table", "output format: table, wide, json or yaml (json is the API's own document)")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return table.Formats, cobra.ShellCompDirectiveNoFileComp
	})
}

func (o *output) format() (table.Format, error) {
	f, err := table.ParseFormat(o.raw)
	if err != nil {
		return "", usageError{err}
	}
	return f, nil
}

// render writes doc (json/yaml) or the table view, per -o.
func (o *output) render(w io.Writer, doc any, view func() *table.Table) error {
	f, err := o.format()
	if err != nil {
		return err
	}
	if f.Structured() {
		return table.WriteDoc(w, f, doc)
	}
	return view().Render(w, f == table.FormatWide, table.StyleFor(w))
}

// renderKV is render for show verbs.
func (o *output) renderKV(w io.Writer, doc any, view func() *table.KV) error {
	f, err := o.format()
	if err != nil {
		return err
	}
	if f.Structured() {
		return table.WriteDoc(w, f, doc)
	}
	return view().Render(w, table.StyleFor(w))
}

// writeJSONLine writes v as one line of JSON (streams: one event a line).
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// exactArgs is cobra.ExactArgs with a usage error (exit 2).
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))}
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError{fmt.Errorf("%s takes at least %d argument(s)", cmd.CommandPath(), n)}
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])}
	}
	return nil
}

// watch is the --watch flag of list verbs.
type watch struct{ on bool }

func (wf *watch) addFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&wf.on, "watch", "w", false, "keep the list current: redraw it whenever the master reports a change")
}

// run calls once to print the list, and with --watch again after every
// change the master's event stream reports (offers: with offer events),
// until interrupted.
func (wf *watch) run(cmd *cobra.Command, op *client.Operator, offers bool, once func(io.Writer) error) error {
	w := cmd.OutOrStdout()
	if !wf.on {
		return once(w)
	}
	return table.Watch(cmd.Context(), w, cmd.ErrOrStderr(), op, offers, once)
}
