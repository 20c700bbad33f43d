package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/term"
)

// wantDashboard: `strata up` opens the dashboard when a person is
// watching, that is when stdin and stdout are both terminals.
func wantDashboard() bool {
	return term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
}

// runDashboard runs `strata top` against the cluster's control socket in
// the foreground, then asks whether to stop the cluster. It returns true
// when the answer is to stop. The dashboard is this binary's own `top`,
// run as a child, so it is exactly what an operator gets in another
// shell, and `up`'s goroutines never write over its screen.
func runDashboard(ctx context.Context, socket string, in io.Reader, out io.Writer) (stop bool, err error) {
	self, err := os.Executable()
	if err != nil {
		return false, err
	}
	top := exec.CommandContext(ctx, self, "top", "--master", "unix://"+socket)
	top.Stdin, top.Stdout, top.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := top.Run(); err != nil && ctx.Err() == nil {
		fmt.Fprintf(out, "strata: the dashboard ended: %v\n", err)
	}
	if ctx.Err() != nil {
		return true, nil
	}
	fmt.Fprint(out, "Stop the cluster (its tasks are killed)? [y/N] ")
	answer, _ := bufio.NewReader(in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a == "y" || a == "yes" {
		return true, nil
	}
	fmt.Fprintln(out, "The cluster keeps running; Ctrl-C stops it, `strata top` reopens the dashboard.")
	return false, nil
}
