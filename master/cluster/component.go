package cluster

import (
	"context"
	"log/slog"
)

// Component is a daemon `strata up` runs beside coord, the master and the
// agents: marathon and chronos plug in here once they exist, each as a
// Component whose Start builds the daemon from Env, e.g.
//
//	cluster.Component{Name: "marathon", Start: func(e cluster.Env) (cluster.Runner, error) {
//		return marathon.New(marathon.Config{Master: e.ZK, WorkDir: e.DataDir, HTTPAddress: ...})
//	}}
//
// Components are started in order after the master and agents, and
// stopped (their Run's context ended) before them.
type Component struct {
	Name  string // also its dir under the data dir and its key in cluster.json
	Start func(Env) (Runner, error)
}

// Env is what the cluster gives a component.
type Env struct {
	ZK      string // the coord URL with the cluster's chroot: zk://127.0.0.1:port/strata
	Master  string // the master's base URL: http://127.0.0.1:port
	DataDir string // the component's own dir: <data-dir>/<name> (not created)
	IP      string // the address to listen on
	Port    int    // the port it had in the previous run (0: any); reuse it if free
	Token   string // the operator token, for calls to the master; never log it
	Version string
	Logger  *slog.Logger
}

// Runner is a started component: it serves until ctx ends and says where.
type Runner interface {
	Run(ctx context.Context) error
	// Endpoints lists where it listens; the first one's Port is saved for
	// the next run.
	Endpoints() []Endpoint
}

// Endpoint is one address a component serves, as `strata up` prints it.
type Endpoint struct {
	Name string // "marathon REST API"
	URL  string // http://127.0.0.1:8080
	Port int
	// Flag is how the CLI is pointed at it ("--marathon"), if at all.
	Flag string
	// Try is a CLI command that uses it ("apps ls"), for the summary.
	Try string
}
