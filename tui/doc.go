// Package tui is `strata top`, the operator's terminal dashboard
// (bubbletea, lipgloss, bubbles). It talks to the daemons only through the
// same public clients as the CLI. Built by the `strata top` issue.
package tui
