// Package tui is `strata top`, the operator's terminal dashboard
// (bubbletea, lipgloss, bubbles). It talks to the daemons only through the
// same public clients as the CLI (master/client), never their internals.
//
// The loop:
//
//	op, _ := client.NewOperator(ep.Options)              // as the CLI connects
//	m := tui.New(tui.Options{Backend: &tui.Live{Op: op, AgentOptions: ep.AgentOptions()}})
//	defer m.Close()
//	tea.NewProgram(m, tea.WithAltScreen()).Run()
//
//	Init → Backend.Subscribe (operator SUBSCRIBE with offer events)
//	     → updates (SUBSCRIBED snapshot, then deltas; Err = a gap)
//	     → Cluster.Apply (pure store, Version++)
//	     → the active view's rows rebuilt once per Version (at most every
//	       250 ms for lists over 2,000 rows), filtered and sorted once
//	     → View renders the header and only the visible rows.
//
// A gap in the stream shows "reconnecting" in the header; the client
// resubscribes by itself (following a new leader) and the next SUBSCRIBED
// rebuilds the store. Roles and quota have no events: they are read at
// each subscription, after the dashboard's own changes, and every
// Options.RolesEvery. Drain state has no event either: agents are re-read
// after a drain or reactivation.
//
// Files: app.go (model, messages), keys.go (key routing), keymap.go (the
// one keymap and keys.yaml), render.go (header, tabs, footer, help),
// grid.go (the virtualised list), model_*.go (one per view), describe.go,
// logs.go, actions.go (confirmations), state.go and allocation.go (the
// store), backend.go (Live), theme.go and styles.go (colour profiles).
package tui
