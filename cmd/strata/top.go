package main

import (
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/tui"
)

func newTopCmd() *cobra.Command {
	var (
		c        conn
		readonly bool
		color    string
		keysFile string
		mouse    bool
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
D drain agent, R reactivate agent. --readonly removes them.

Keys rebind in ~/.config/strata/keys.yaml (or keys.json; $XDG_CONFIG_HOME
is honoured), mapping action names (as listed by ?) to one key or a list:

  kill-task: ctrl+k
  describe: [enter, i]

Colours follow the terminal (truecolor, 256, 16) and NO_COLOR.`,
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
			op, ep, done, err := c.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			live := &tui.Live{Op: op, AgentOptions: ep.AgentOptions()}
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
	cmd.Flags().BoolVar(&readonly, "readonly", false, "remove every action that changes the cluster")
	cmd.Flags().StringVar(&color, "color", "auto", "colours: auto, truecolor, 256, 16 or none (NO_COLOR also turns them off)")
	cmd.Flags().StringVar(&keysFile, "keys", "", "key bindings file (default ~/.config/strata/keys.yaml or keys.json)")
	cmd.Flags().BoolVar(&mouse, "mouse", false, "enable the mouse")
	return cmd
}
