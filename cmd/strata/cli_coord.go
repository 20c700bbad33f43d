package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/cluster"
	"github.com/strata-dc/strata/tui/table"
)

// coordTarget is the --zk flag of the coord browsing verbs.
type coordTarget struct{ zk string }

func (t *coordTarget) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.zk, "zk", "", "server: host:port[,host:port] or zk://host:port/chroot (env STRATA_ZK; default: the ./.strata cluster's coord, else 127.0.0.1:2181)")
}

// dial connects to any ZooKeeper-compatible server.
func (t *coordTarget) dial(cmd *cobra.Command) (*coord.Session, error) {
	addr := t.zk
	if addr == "" {
		addr = os.Getenv("STRATA_ZK")
	}
	if addr == "" {
		if a, ok := cluster.LocalCoord(client.DefaultDataDir); ok {
			addr = a
		} else {
			addr = "127.0.0.1:2181"
		}
	}
	if !strings.HasPrefix(addr, "zk://") {
		addr = "zk://" + addr
	}
	u, err := coord.ParseURL(addr)
	if err != nil {
		return nil, usageError{fmt.Errorf("--zk: %w", err)}
	}
	ctx := cmd.Context()
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	sess, err := coord.Dial(dctx, coord.Config{URL: u, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("coord %s: %w", u.Redacted(), err)
	}
	return sess, nil
}

// addCoordBrowseCmds adds ls, get, stat, tree and rm to `strata coord`
// and returns them.
func addCoordBrowseCmds(parent *cobra.Command) []*cobra.Command {
	pathArg := func(args []string) string {
		if len(args) == 0 {
			return "/"
		}
		return args[0]
	}
	optPath := func(cmd *cobra.Command, args []string) error {
		if len(args) > 1 {
			return usageError{fmt.Errorf("%s takes at most one PATH", cmd.CommandPath())}
		}
		return nil
	}

	var lsT coordTarget
	ls := &cobra.Command{
		Use:   "ls [PATH]",
		Short: "List a znode's children on any ZooKeeper-compatible server",
		Args:  optPath,
		RunE: func(cmd *cobra.Command, args []string) error {
			sess, err := lsT.dial(cmd)
			if err != nil {
				return err
			}
			defer sess.Close()
			kids, _, err := sess.Conn().Children(pathArg(args))
			if err != nil {
				return coordErr(pathArg(args), err)
			}
			slices.Sort(kids)
			for _, k := range kids {
				fmt.Fprintln(cmd.OutOrStdout(), k)
			}
			return nil
		},
	}
	lsT.addFlags(ls)

	var getT coordTarget
	get := &cobra.Command{
		Use:   "get PATH",
		Short: "Print a znode's data",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sess, err := getT.dial(cmd)
			if err != nil {
				return err
			}
			defer sess.Close()
			data, _, err := sess.Conn().Get(args[0])
			if err != nil {
				return coordErr(args[0], err)
			}
			w := cmd.OutOrStdout()
			if _, err := w.Write(data); err != nil {
				return err
			}
			if len(data) > 0 && data[len(data)-1] != '\n' {
				fmt.Fprintln(w)
			}
			return nil
		},
	}
	getT.addFlags(get)

	var (
		statT   coordTarget
		statOut output
	)
	stat := &cobra.Command{
		Use:   "stat PATH",
		Short: "Show a znode's Stat (versions, zxids, owner)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sess, err := statT.dial(cmd)
			if err != nil {
				return err
			}
			defer sess.Close()
			ok, st, err := sess.Conn().Exists(args[0])
			if err != nil {
				return coordErr(args[0], err)
			}
			if !ok {
				return coordErr(args[0], zk.ErrNoNode)
			}
			return statOut.renderKV(cmd.OutOrStdout(), st, func() *table.KV { return table.CoordStat(args[0], st) })
		},
	}
	statT.addFlags(stat)
	statOut.addFlag(stat)

	var (
		treeT coordTarget
		depth int
	)
	tree := &cobra.Command{
		Use:   "tree [PATH]",
		Short: "Print the znode tree under PATH",
		Args:  optPath,
		RunE: func(cmd *cobra.Command, args []string) error {
			sess, err := treeT.dial(cmd)
			if err != nil {
				return err
			}
			defer sess.Close()
			lines, err := table.Tree(pathArg(args), depth, func(p string) ([]string, error) {
				kids, _, err := sess.Conn().Children(p)
				if errors.Is(err, zk.ErrNoNode) && p != pathArg(args) {
					return nil, nil // went while we walked
				}
				return kids, err
			})
			for _, l := range lines {
				fmt.Fprintln(cmd.OutOrStdout(), l)
			}
			if err != nil {
				return coordErr(pathArg(args), err)
			}
			return nil
		},
	}
	treeT.addFlags(tree)
	tree.Flags().IntVar(&depth, "depth", -1, "levels to descend (-1: all)")

	var (
		rmT       coordTarget
		recursive bool
		version   int32
	)
	rm := &cobra.Command{
		Use:   "rm PATH",
		Short: "Delete a znode (-r: with everything below it)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "/" || args[0] == "/zookeeper" {
				return usageError{fmt.Errorf("refusing to delete %s", args[0])}
			}
			sess, err := rmT.dial(cmd)
			if err != nil {
				return err
			}
			defer sess.Close()
			conn := sess.Conn()
			var del func(p string) error
			del = func(p string) error {
				if recursive {
					kids, _, err := conn.Children(p)
					if err != nil && !errors.Is(err, zk.ErrNoNode) {
						return coordErr(p, err)
					}
					for _, k := range kids {
						if err := del(strings.TrimSuffix(p, "/") + "/" + k); err != nil {
							return err
						}
					}
				}
				v := int32(-1)
				if p == args[0] {
					v = version
				}
				if err := conn.Delete(p, v); err != nil && !(recursive && p != args[0] && errors.Is(err, zk.ErrNoNode)) {
					return coordErr(p, err)
				}
				return nil
			}
			return del(args[0])
		},
	}
	rmT.addFlags(rm)
	rm.Flags().BoolVarP(&recursive, "recursive", "r", false, "delete the children too")
	rm.Flags().Int32Var(&version, "version", -1, "delete only at this data version (-1: any)")

	parent.AddCommand(ls, get, stat, tree, rm)
	return []*cobra.Command{ls, get, stat, tree, rm}
}

// coordErr names the node in a server's refusal ("zk: node does not exist").
func coordErr(p string, err error) error {
	return fmt.Errorf("coord %s: %w", p, err)
}
