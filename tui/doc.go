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
// store), backend.go (Live), theme.go and styles.go (colour profiles),
// model_frameworkapps.go (the AppsSource and JobsSource extension points),
// model_apps.go and model_jobs.go (marathon's and chronos' views and
// actions), frameworks_live.go (their live sources).
//
// Apps and Jobs: a MarathonSource follows marathon's /v2/events stream
// (any event makes it re-read apps, deployments and /v2/queue; a 30 s
// safety read covers a missed event) and a ChronosSource polls chronos
// (every 2 s, and right after an action). Each publishes versioned
// snapshots; the views rebuild when the version moves. Set them on
// Live.Apps and Live.Jobs (every dashboard on that backend, SSH sessions
// included, shares them) and their KillTask in Live.Killers under
// "marathon" and "chronos", so K in the Tasks view kills through them.
package tui
