package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/strata-dc/strata/chronos"
	"github.com/strata-dc/strata/marathon"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/cluster"
)

// The frameworks `strata up` runs beside the master and agents. They are
// wired here, not in master/cluster, which must not import them. Both keep
// their state in the cluster's coord (<zk>/marathon, <zk>/chronos: their
// defaults under the cluster's chroot), so a restart brings apps and jobs
// back; they need no dir of their own.

// frameworkRunner adapts a framework daemon to cluster.Runner.
type frameworkRunner struct {
	run       func(context.Context) error
	endpoints []cluster.Endpoint
}

func (r *frameworkRunner) Run(ctx context.Context) error { return r.run(ctx) }
func (r *frameworkRunner) Endpoints() []cluster.Endpoint { return r.endpoints }

// listenAddr is the address a component listens on: its port of the last
// run when there was one (try is called again with port 0 when that one
// is taken).
func listenAddr(e cluster.Env, port int) string {
	return net.JoinHostPort(e.IP, strconv.Itoa(port))
}

// withPortRetry builds a daemon on e.Port, or on any free port when that
// one is taken.
func withPortRetry[T any](e cluster.Env, build func(addr string) (T, error)) (T, error) {
	if e.Port > 0 {
		if v, err := build(listenAddr(e, e.Port)); err == nil {
			return v, nil
		}
	}
	return build(listenAddr(e, 0))
}

func endpointOf(name, url string, addr net.Addr, flag, try string) cluster.Endpoint {
	port := 0
	if t, ok := addr.(*net.TCPAddr); ok {
		port = t.Port
	}
	return cluster.Endpoint{Name: name, URL: url, Port: port, Flag: flag, Try: try}
}

// frameworkAuth secures a framework's API the way the cluster secures the
// master: the cluster's operator token (<data-dir>/token, beside the
// component's own dir) is accepted, so the CLI's token works everywhere,
// and --authenticate stays auto, so on up's loopback address anonymous
// local callers keep working while a wrong token is refused.
func frameworkAuth(e cluster.Env) auth.Settings {
	return auth.Settings{OperatorTokenFile: filepath.Join(filepath.Dir(e.DataDir), client.TokenName)}
}

func marathonComponent() cluster.Component {
	return cluster.Component{Name: "marathon", Start: func(e cluster.Env) (cluster.Runner, error) {
		s, err := withPortRetry(e, func(addr string) (*marathon.Server, error) {
			return marathon.New(marathon.Config{Master: e.ZK, HTTPAddress: addr, Version: e.Version, Logger: e.Logger,
				Auth: frameworkAuth(e)})
		})
		if err != nil {
			return nil, err
		}
		return &frameworkRunner{run: s.Run,
			endpoints: []cluster.Endpoint{endpointOf("marathon", s.URL(), s.Addr(), "--marathon", "apps ls")}}, nil
	}}
}

func chronosComponent() cluster.Component {
	return cluster.Component{Name: "chronos", Start: func(e cluster.Env) (cluster.Runner, error) {
		s, err := withPortRetry(e, func(addr string) (*chronos.Server, error) {
			return chronos.New(chronos.Config{Master: e.ZK, HTTPAddress: addr, Logger: e.Logger,
				Auth: frameworkAuth(e)})
		})
		if err != nil {
			return nil, err
		}
		return &frameworkRunner{run: s.Run,
			endpoints: []cluster.Endpoint{endpointOf("chronos", s.URL(), s.Addr(), "--chronos", "jobs ls")}}, nil
	}}
}

// The sample workload of `strata up --demo`.
const (
	demoAppID   = "/demo"
	demoJobName = "demo-job"
	demoApp     = `{
  "id": "/demo",
  "cmd": "i=0; while true; do echo \"demo $i: hello from marathon on $(hostname) at $(date -u +%H:%M:%S)\"; i=$((i+1)); sleep 2; done",
  "instances": 2,
  "cpus": 0.1,
  "mem": 32,
  "portDefinitions": [],
  "labels": {"strata.demo": "true"},
  "healthChecks": [{"protocol": "COMMAND", "command": {"value": "true"},
    "delaySeconds": 1, "gracePeriodSeconds": 10, "intervalSeconds": 5, "timeoutSeconds": 5, "maxConsecutiveFailures": 3}]
}`
)

// demoJob is the sample job: every 30 s from a moment from now (an
// instant already past when chronos reads it would wait a whole period).
func demoJob(now time.Time) string {
	return fmt.Sprintf(`{
  "name": %q,
  "command": "echo hello from chronos",
  "schedule": "R/%s/PT30S",
  "epsilon": "PT30S",
  "cpus": 0.1,
  "mem": 32,
  "owner": "demo@strata.local",
  "description": "strata up --demo: says hello every 30 seconds"
}`, demoJobName, now.UTC().Format("2006-01-02T15:04:05Z"))
}

// deployDemo deploys the sample app and job once marathon and chronos
// answer, skipping what already exists (a second `up --demo` changes
// nothing).
func deployDemo(ctx context.Context, in cluster.Info, out io.Writer) error {
	var mURL, cURL string
	for _, e := range in.Components {
		switch e.Name {
		case "marathon":
			mURL = e.URL
		case "chronos":
			cURL = e.URL
		}
	}
	if mURL == "" || cURL == "" {
		return errors.New("marathon and chronos are not running")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// The operator token, which both frameworks accept (frameworkAuth).
	opts := client.Options{Timeout: 10 * time.Second}
	if in.TokenPath != "" {
		tok, err := auth.ReadTokenFile(in.TokenPath)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		opts.Token = tok.Reveal()
	}
	m, err := client.NewMarathon(mURL, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	ch, err := client.NewChronos(cURL, opts)
	if err != nil {
		return err
	}
	defer ch.Close()

	// Both answer 503 until their leader has loaded its state.
	var apps client.Doc[client.MarathonApps]
	if err := retry(ctx, func() (err error) { apps, err = m.Apps(ctx); return err }); err != nil {
		return fmt.Errorf("marathon did not answer: %w", err)
	}
	have := false
	for _, a := range apps.Value.Apps {
		have = have || a.ID == demoAppID
	}
	if have {
		fmt.Fprintf(out, "demo: app %s is already deployed\n", demoAppID)
	} else {
		if _, err := m.PutApp(ctx, []byte(demoApp), false); err != nil {
			return fmt.Errorf("deploy app %s: %w", demoAppID, err)
		}
		fmt.Fprintf(out, "demo: deployed app %s (2 instances): strata apps show %s\n", demoAppID, demoAppID)
	}

	var jobs client.Doc[[]client.ChronosJob]
	if err := retry(ctx, func() (err error) { jobs, err = ch.Jobs(ctx); return err }); err != nil {
		return fmt.Errorf("chronos did not answer: %w", err)
	}
	have = false
	for _, j := range jobs.Value {
		have = have || j.Name == demoJobName
	}
	if have {
		fmt.Fprintf(out, "demo: job %s already exists\n", demoJobName)
		return nil
	}
	if err := ch.PutJob(ctx, []byte(demoJob(time.Now().Add(5*time.Second)))); err != nil {
		return fmt.Errorf("add job %s: %w", demoJobName, err)
	}
	fmt.Fprintf(out, "demo: added job %s (every 30 s): strata jobs history %s\n", demoJobName, demoJobName)
	return nil
}

// retry calls f until it succeeds or ctx ends, returning f's last error.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}
