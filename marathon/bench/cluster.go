package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/marathon"
	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/simagent"
)

// agentResources is what each simulated agent offers: room for far more
// 0.01-cpu, 1 MB instances (with one host port each) than any size asks
// of one agent.
const agentResources = "cpus:8;mem:8192;disk:10240;ports:[31000-33000]"

// cluster is one benchmark's world, all in this process and on loopback:
// an embedded coord server, a master, simulated agents and a marathon.
// close tears it down in the reverse order.
type cluster struct {
	dir      string
	ownDir   bool
	coord    *coord.Embedded
	cancel   context.CancelFunc
	mdone    chan error // the master's Run
	agents   []*simagent.Agent
	mctx     context.CancelFunc
	mrdone   chan error // marathon's Run
	marathon *marathon.Server
	api      string       // marathon's base URL
	http     *http.Client // the benchmark's calls to marathon
}

// startCluster starts a cluster with n agents (reporting TASK_STARTING
// before TASK_RUNNING when starting is set) and waits until every agent
// is subscribed and marathon leads.
func startCluster(ctx context.Context, dir string, n int, starting bool, log *slog.Logger) (c *cluster, err error) {
	c = &cluster{}
	defer func() {
		if err != nil {
			c.close()
			c = nil
		}
	}()
	// A directory of its own, under dir when given, so no cluster sees
	// another's state.
	if c.dir, err = os.MkdirTemp(dir, "strata-bench-marathon-"); err != nil {
		return c, err
	}
	c.ownDir = dir == ""
	if c.coord, err = coord.Embed(server.Config{DataDir: filepath.Join(c.dir, "coord"), ClientAddress: "127.0.0.1:0",
		Logger: log}, "/strata"); err != nil {
		return c, fmt.Errorf("coord: %w", err)
	}
	zk := c.coord.URL().String()
	mctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	m, err := master.New(master.Config{ZK: zk, WorkDir: filepath.Join(c.dir, "master"),
		AllocationInterval: 50 * time.Millisecond, Logger: log})
	if err != nil {
		return c, fmt.Errorf("master: %w", err)
	}
	c.mdone = make(chan error, 1)
	go func() { c.mdone <- m.Run(mctx) }()
	if err := waitFor(ctx, 30*time.Second, "the master to lead", m.Leading); err != nil {
		return c, err
	}

	masterURL := "http://" + m.Addr().String()
	client := simagent.NewClient(n)
	for i := range n {
		c.agents = append(c.agents, simagent.Start(simagent.Config{Masters: []string{masterURL},
			Hostname: fmt.Sprintf("sim-%d", i), Resources: agentResources, Starting: starting, Client: client, Logger: log}))
	}
	if err := waitFor(ctx, 60*time.Second, fmt.Sprintf("%d agents to subscribe", n), func() bool {
		for _, a := range c.agents {
			if a.ID() == "" {
				return false
			}
		}
		return true
	}); err != nil {
		return c, err
	}

	if c.marathon, err = marathon.New(marathon.Config{Master: zk, HTTPAddress: "127.0.0.1:0", Logger: log}); err != nil {
		return c, err
	}
	rctx, rcancel := context.WithCancel(context.Background())
	c.mctx = rcancel
	c.mrdone = make(chan error, 1)
	go func() { c.mrdone <- c.marathon.Run(rctx) }()
	c.api = "http://" + c.marathon.Addr().String()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c.http = &http.Client{Transport: tr}
	if err := waitFor(ctx, 60*time.Second, "marathon to lead", c.marathon.Leading); err != nil {
		return c, err
	}
	return c, nil
}

// close stops marathon, the agents, the master and coord, and removes the
// cluster's files when it made the directory.
func (c *cluster) close() {
	if c.mctx != nil {
		c.mctx()
		<-c.mrdone
	}
	if c.http != nil {
		c.http.CloseIdleConnections()
	}
	var wg sync.WaitGroup
	for _, a := range c.agents {
		wg.Go(a.Close)
	}
	wg.Wait()
	if c.cancel != nil {
		c.cancel()
		if c.mdone != nil {
			<-c.mdone
		}
	}
	if c.coord != nil {
		c.coord.Close()
	}
	if c.ownDir {
		os.RemoveAll(c.dir)
	}
}

// waitFor polls cond until it holds, ctx ends or limit passes.
func waitFor(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", limit, what)
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("waiting for %s", what), ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}
