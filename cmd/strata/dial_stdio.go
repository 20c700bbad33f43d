package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/client"
)

func newDialStdioCmd() *cobra.Command {
	var socket, tcp string
	cmd := &cobra.Command{
		Use:   "dial-stdio",
		Short: "Relay stdin/stdout to the master's control socket (the far end of ssh://)",
		Long: `Relay stdin and stdout to the local master's control socket (default:
./.strata/master.sock if it exists, else /run/strata/master.sock), or with
--tcp to a local TCP address such as an agent's API. The CLI runs it on the
far side of --master ssh://host, the way docker -H ssh:// runs
"docker system dial-stdio".`,
		Hidden: false,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if tcp != "" {
				return client.RelayStdio(cmd.Context(), "tcp", tcp, os.Stdin, os.Stdout)
			}
			if socket == "" {
				socket = client.DefaultSocket()
			}
			return client.RelayStdio(cmd.Context(), "unix", socket, os.Stdin, os.Stdout)
		},
	}
	cmd.Flags().StringVar(&socket, "socket", "", "the control socket to relay to")
	cmd.Flags().StringVar(&tcp, "tcp", "", "relay to this host:port instead (e.g. an agent's API)")
	cmd.MarkFlagsMutuallyExclusive("socket", "tcp")
	return cmd
}
