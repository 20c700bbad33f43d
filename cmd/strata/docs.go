package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newDocsCmd writes the reference documentation generated from the
// commands themselves, so it never drifts from --help.
func newDocsCmd() *cobra.Command {
	docs := &cobra.Command{
		Use:   "docs",
		Short: "Write Strata's reference documentation",
		Args:  noArgs,
	}
	docs.AddCommand(&cobra.Command{
		Use:     "man DIR",
		Short:   "Write a man page for every command into DIR",
		Example: "  strata docs man /usr/local/share/man/man1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			header := &doc.GenManHeader{Title: "STRATA", Section: "1", Source: "Strata " + buildVersion()}
			if err := doc.GenManTree(cmd.Root(), header, args[0]); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "man pages written to %s\n", args[0])
			return nil
		},
	})
	return docs
}
