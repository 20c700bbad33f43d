// Package agent runs and supervises tasks on one host for the master.
// Built by the agent issue.
package agent
