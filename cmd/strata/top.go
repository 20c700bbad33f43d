package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/tui"
)

func newTopCmd() *cobra.Command {
	var (
		c        conn
		readonly bool
		color    string
		keysFile string
		mouse    bool
		ssh      sshFlags
	)
	cmd := &cobra.Command{
		Use:   "top",
		Short: "The live terminal dashboard: agents, frameworks, offers, roles, quota, tasks, events",
		Long: `strata top follows the cluster live through the master's operator event
stream (a snapshot, then deltas; no polling) and reconnects by itself when
the stream drops or the leader changes, saying so in the header.

Views: 1 Overview, 2 Agents, 3 Frameworks, 4 Offers, 5 Roles, 6 Quota,
7 Tasks, 8 Apps, 9 Jobs, 0 Events; or ":name". Everywhere: / filter (!x
inverts), s/S sort, enter or d describe, l logs, esc back, ? help.
Actions ask for confirmation first: K kill task, W set weight, Q set quota,
D drain agent, R reactivate agent; in Apps: A deploy (a file or "id cmd
[instances] [cpus] [mem]"), N scale, U restart, Z suspend, X destroy; in
Jobs: A add (a file or "name schedule command"), J run now, E enable or
disable, X delete. The same from anywhere as ":" commands: ":deploy FILE"
or ":deploy id cmd [instances] [cpus] [mem]", ":scale APP N", ":run JOB".
--readonly removes them.

Keys rebind in ~/.config/strata/keys.yaml (or keys.json; $XDG_CONFIG_HOME
is honoured), mapping action names (as listed by ?) to one key or a list:

  kill-task: ctrl+k
  describe: [enter, i]

Colours follow the terminal (truecolor, 256, 16) and NO_COLOR.

--serve-ssh ADDR serves the dashboard itself over SSH instead, so an
operator needs nothing installed: ssh -p 2222 host. Only the keys in
--authorized-keys (OpenSSH format, read again at each login) get in.
A key whose comment holds the word "strata-admin", or that is
listed in --admin-keys, gets the actions; every other key is read-only
(--readonly makes everyone read-only). The host key is generated on
first start into .strata/` + tui.HostKeyName + ` (mode 0600) unless
--host-key names another file.

  strata top --serve-ssh :2222 --authorized-keys ~/.ssh/authorized_keys`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, err := tui.ParseColorMode(color)
			if err != nil {
				return usageError{err}
			}
			keys := tui.DefaultKeyMap()
			if keysFile == "" {
				keysFile = tui.DefaultKeysFile()
			}
			if err := keys.LoadKeys(keysFile); err != nil {
				return usageError{err}
			}
			if ssh.addr == "" && (ssh.authorized != "" || ssh.admins != "" || ssh.hostKey != "") {
				return usageError{fmt.Errorf("--authorized-keys, --admin-keys and --host-key go with --serve-ssh")}
			}
			op, ep, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			live := &tui.Live{Op: op, AgentOptions: ep.AgentOptions()}
			defer startTopFrameworks(cmd, op, ep, live)() // Apps and Jobs: marathon, chronos (top_frameworks.go)
			if ssh.addr != "" {
				return serveTopSSH(cmd, ssh, tui.SSHOptions{Color: mode, Mouse: mouse,
					Dashboard: tui.Options{Backend: live, Cluster: ep.Display, ReadOnly: readonly, Keys: keys}})
			}
			model := tui.New(tui.Options{Backend: live, Cluster: ep.Display, ReadOnly: readonly, Keys: keys,
				Renderer: tui.NewRenderer(os.Stdout, mode, nil)})
			defer model.Close()
			popts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithContext(cmd.Context())}
			if mouse {
				popts = append(popts, tea.WithMouseCellMotion())
			}
			_, err = tea.NewProgram(model, popts...).Run()
			if cmd.Context().Err() != nil {
				return nil // interrupted: a normal way to leave
			}
			return err
		},
	}
	c.addFlags(cmd)
	addTopFrameworkFlags(cmd)
	cmd.Flags().BoolVar(&readonly, "readonly", false, "remove every action that changes the cluster")
	cmd.Flags().StringVar(&color, "color", "auto", "colours: auto, truecolor, 256, 16 or none (NO_COLOR also turns them off)")
	cmd.Flags().StringVar(&keysFile, "keys", "", "key bindings file (default ~/.config/strata/keys.yaml or keys.json)")
	cmd.Flags().BoolVar(&mouse, "mouse", false, "enable the mouse")
	cmd.Flags().StringVar(&ssh.addr, "serve-ssh", "", "serve the dashboard over SSH on this address (\":2222\") instead of this terminal")
	cmd.Flags().StringVar(&ssh.authorized, "authorized-keys", "", "with --serve-ssh: the keys allowed in (authorized_keys format; comment word strata-admin: admin)")
	cmd.Flags().StringVar(&ssh.admins, "admin-keys", "", "with --serve-ssh: more keys allowed in, as admins")
	cmd.Flags().StringVar(&ssh.hostKey, "host-key", "", "with --serve-ssh: the host key file, generated when missing (default .strata/"+tui.HostKeyName+")")
	return cmd
}

type sshFlags struct{ addr, authorized, admins, hostKey string }

// serveTopSSH serves the dashboard over SSH until interrupted.
func serveTopSSH(cmd *cobra.Command, f sshFlags, o tui.SSHOptions) error {
	if f.authorized == "" {
		return usageError{fmt.Errorf("--serve-ssh needs --authorized-keys: nobody could log in otherwise")}
	}
	o.Addr, o.AuthorizedKeys, o.AdminKeys, o.HostKey = f.addr, f.authorized, f.admins, f.hostKey
	if o.HostKey == "" {
		o.HostKey = filepath.Join(client.DefaultDataDir, tui.HostKeyName)
	}
	o.Logger = newLogger(cmd.ErrOrStderr(), slog.LevelInfo)
	srv, err := tui.NewSSHServer(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "strata top serving over ssh on %s (host key %s, %s)\n",
		srv.Addr(), o.HostKey, srv.HostKeyFingerprint())
	return tui.ServeSSH(cmd.Context(), srv)
}
