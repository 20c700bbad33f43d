// Command strata is the one binary of Strata: every daemon, the dashboard,
// the benchmarks and the operator verbs are subcommands of it. This package
// only parses flags and environment, wires components and maps errors to
// exit codes; the logic lives in the packages it calls.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		var ue usageError
		// Cobra reports unknown commands and wrong argument counts as
		// plain errors; they are usage errors all the same.
		msg := err.Error()
		if errors.As(err, &ue) || strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
			strings.Contains(msg, "arg(s), received") {
			fmt.Fprintln(os.Stderr, "strata:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "strata:", err)
		os.Exit(1)
	}
}

// usageError marks errors that are the caller's fault (bad flags or
// arguments): they exit 2, like cobra's own flag errors.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }
