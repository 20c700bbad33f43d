package cluster

import (
	"fmt"
	"io"
	"strings"
)

// WriteSummary prints where everything listens and the exact commands to
// reach the cluster, for `strata up`. The token is referred to by its
// file, never printed. The "master" line is what scripts wait for.
func (in Info) WriteSummary(w io.Writer, binary string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "strata cluster up (data dir %s)\n", in.DataDir)
	fmt.Fprintf(&b, "  coord        %s\n", in.Coord)
	fmt.Fprintf(&b, "  master       %s  (socket unix://%s)\n", in.Master, in.Socket)
	for i, a := range in.Agents {
		id := a.ID
		if id == "" {
			id = "(registering)"
		}
		fmt.Fprintf(&b, "  agent %-6d %s  %s\n", i, a.Addr, id)
	}
	for _, e := range in.Components {
		fmt.Fprintf(&b, "  %-12s %s\n", e.Name, e.URL)
	}
	fmt.Fprintf(&b, "  token        %s (mode 0600; or set STRATA_TOKEN)\n", in.TokenPath)
	if in.LogPath != "" {
		fmt.Fprintf(&b, "  logs         %s\n", in.LogPath)
	}
	fmt.Fprintf(&b, "\nIn another shell:\n")
	fmt.Fprintf(&b, "  %s status                      # from this directory (./.strata/master.sock)\n", binary)
	fmt.Fprintf(&b, "  %s agents ls --master unix://%s\n", binary, in.Socket)
	fmt.Fprintf(&b, "  %s tasks ls --master %s\n", binary, in.Coord)
	fmt.Fprintf(&b, "  %s events --master %s\n", binary, in.Master)
	for _, e := range in.Components {
		if e.Try != "" && e.Flag != "" {
			fmt.Fprintf(&b, "  %s %s                     # %s, found through the master (or %s %s)\n", binary, e.Try, e.Name, e.Flag, e.URL)
		}
	}
	fmt.Fprintf(&b, "  %s status --master ssh://$USER@this-host%s   # from another machine\n", binary, in.Socket)
	fmt.Fprintf(&b, "\nCtrl-C stops the cluster (tasks are killed); run it again to bring it back.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
