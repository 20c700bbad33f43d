package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/client"
)

// fwConn is how `strata apps` and `strata jobs` reach marathon or
// chronos: --marathon / --chronos (or STRATA_MARATHON / STRATA_CHRONOS)
// when given, else through the master (--master), which knows the
// framework's webui_url.
type fwConn struct {
	name        string // "marathon"
	env         string // "STRATA_MARATHON"
	defaultAddr string // the far side's address of a bare ssh://host
	addr        string
}

func newFwConn(name, env, defaultAddr string) *fwConn {
	return &fwConn{name: name, env: env, defaultAddr: defaultAddr}
}

// addFlags puts --<name> on cmd and its verbs (--master comes from conn).
func (f *fwConn) addFlags(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.addr, f.name, "", fmt.Sprintf(`%s's API: http(s)://host:port, unix:///path or ssh://[user@]host[:port][/host:port]
(env %s; default: found through the master, by the framework's webui_url)`, f.name, f.env))
}

// open resolves the framework's API. The master is only asked when no
// address is given; its ssh transport is then reused to reach the API on
// the far side. done closes whatever was opened.
func (f *fwConn) open(cmd *cobra.Command) (*client.FrameworkEndpoint, func(), error) {
	addr := f.addr
	if addr == "" {
		addr = os.Getenv(f.env)
	}
	ctx := cmd.Context()
	if addr != "" {
		ep, err := client.ResolveFramework(ctx, nil, nil, f.name, addr, f.defaultAddr)
		if errors.Is(err, client.ErrBadAddress) {
			return nil, nil, usageError{err}
		}
		if err != nil {
			return nil, nil, err
		}
		if err := frameworkToken(ep, nil); err != nil {
			return nil, nil, err
		}
		return ep, func() {}, nil
	}
	c := masterConn(cmd)
	op, mep, done, err := c.open(cmd)
	if err != nil {
		return nil, nil, err
	}
	ep, err := client.ResolveFramework(ctx, op, mep, f.name, "", f.defaultAddr)
	if err != nil {
		done()
		return nil, nil, err
	}
	_ = frameworkToken(ep, mep) // cannot fail with a master endpoint
	// The master client (and a zk:// master's coord session) is kept until
	// the verb ends: verbs like tasks kill use both.
	return ep, done, nil
}

// frameworkToken sets the token a framework client presents. An address
// the user gave (mep nil) is trusted with the operator token
// (STRATA_TOKEN or ./.strata/token), as --master is. A framework found
// through the master gets the master's token only when it is beside the
// master (`strata up`, or the far side of an ssh:// master): a webui_url
// elsewhere is only the framework's word, and is not trusted with it.
func frameworkToken(ep *client.FrameworkEndpoint, mep *client.Endpoint) error {
	if mep != nil {
		if localURL(ep.URL) {
			ep.Options.Token = mep.Options.Token
		}
		return nil
	}
	tok, err := client.LoadToken(os.Getenv, "")
	if err != nil && !errors.Is(err, client.ErrNoToken) {
		return err
	}
	ep.Options.Token = tok
	return nil
}

// localURL reports whether a framework's API URL is on the master's host:
// a Unix socket or a loopback address.
func localURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Scheme == "unix" {
		return true
	}
	return u.Hostname() != "" && auth.IsLoopback(u.Hostname())
}

// marathon opens a Marathon client.
func (f *fwConn) marathon(cmd *cobra.Command) (*client.Marathon, func(), error) {
	ep, done, err := f.open(cmd)
	if err != nil {
		return nil, nil, err
	}
	m, err := client.NewMarathon(ep.URL, ep.Options)
	if err != nil {
		done()
		return nil, nil, usageError{err}
	}
	return m, func() { m.Close(); done() }, nil
}

// chronos opens a Chronos client.
func (f *fwConn) chronos(cmd *cobra.Command) (*client.Chronos, func(), error) {
	ep, done, err := f.open(cmd)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.NewChronos(ep.URL, ep.Options)
	if err != nil {
		done()
		return nil, nil, usageError{err}
	}
	return c, func() { c.Close(); done() }, nil
}

// masterConn is the --master of cmd's noun.
func masterConn(cmd *cobra.Command) conn {
	c := conn{}
	if fl := cmd.Flags().Lookup("master"); fl != nil {
		c.master = fl.Value.String()
	}
	return c
}

// watch runs once, and with --watch again after every change the
// master reports: a framework's tasks change as the master sees them, so
// its lists are redrawn from the master's event stream rather than by
// polling the framework.
func (f *fwConn) watch(cmd *cobra.Command, wf *watch, once func(io.Writer) error) error {
	if !wf.on {
		return once(cmd.OutOrStdout())
	}
	c := masterConn(cmd)
	op, _, done, err := c.open(cmd)
	if err != nil {
		return err
	}
	defer done()
	return wf.run(cmd, op, false, once)
}

// readDefinition reads a -f file ("-": stdin).
func readDefinition(cmd *cobra.Command, path string) ([]byte, error) {
	if path == "" {
		return nil, usageError{errors.New("-f FILE is required (- reads stdin)")}
	}
	var (
		b   []byte
		err error
	)
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 8<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("-f %s: %w", path, err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return nil, usageError{fmt.Errorf("-f %s: the file is empty", path)}
	}
	return b, nil
}

// isTTY reports whether w is a terminal (progress is redrawn in place).
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
