package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/master"
	"github.com/strata-dc/strata/master/allocator"
)

func newMasterCmd() *cobra.Command {
	var (
		cfg         master.Config
		logLevel    string
		minAlloc    string
		fairExclude []string
		zkTLS       zkTLSFlags
	)
	cmd := &cobra.Command{
		Use:   "master",
		Short: "Run a master: resource offers, DRF allocation, scheduler and operator APIs",
		Long: `Run a Mesos-style master. Any number of masters may run against the same
coord (--zk); one is elected leader and serves the scheduler, agent and
operator APIs, the others redirect to it (307) and take over when it goes.
The API is served on --ip:--port and on the control socket
<work-dir>/master.sock (mode 0600), which trusts its owner (same uid or
root) as the principal "operator" without a token.

Security (as Mesos): --authenticate is auto by default: callers must
authenticate when --ip is not loopback, and may on loopback (a presented
token is always checked). Principals and secrets come from --credentials
and --operator-token-file; clients send "Authorization: Bearer <secret>"
(or Basic principal:secret). --acls authorizes framework registration in
roles, tasks' users, reservations, quota, weights, draining, teardown;
--rate-limits limits the scheduler API per principal (429); --tls-cert and
--tls-key serve TCP over TLS.`,
		Example: `  strata master --zk zk://127.0.0.1:2181/strata --work-dir /var/lib/strata/master
  strata master --zk zk://h1:2181,h2:2181,h3:2181/strata --work-dir D --ip 10.0.0.5 --port 5050 \
      --credentials /etc/strata/credentials.json --acls /etc/strata/acls.json \
      --tls-cert /etc/strata/tls.crt --tls-key /etc/strata/tls.key --authenticate-agents`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usageError{fmt.Errorf("--log-level: %w", err)}
			}
			if minAlloc != "" {
				alts, err := allocator.ParseMinAllocatable(minAlloc)
				if err != nil {
					return usageError{fmt.Errorf("--min-allocatable-resources: %w", err)}
				}
				cfg.MinAllocatable = alts
			}
			cfg.FairnessExcluded = fairExclude
			tc, err := zkTLS.config()
			if err != nil {
				return usageError{err}
			}
			cfg.ZKTLS = tc
			cfg.Logger = newLogger(cmd.ErrOrStderr(), level)
			cfg.Version = buildVersion()
			m, err := master.New(cfg)
			if err != nil {
				return usageError{err}
			}
			return m.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.ZK, "zk", "", "coord URL: zk://host:port[,host:port...]/chroot (required)")
	f.StringVar(&cfg.WorkDir, "work-dir", "", "directory for the control socket master.sock (required)")
	f.StringVar(&cfg.IP, "ip", "127.0.0.1", "IP address to listen on")
	f.IntVar(&cfg.Port, "port", master.DefaultPort, "port to listen on")
	f.StringVar(&cfg.Hostname, "hostname", "", "hostname to advertise (default: --ip)")
	f.DurationVar(&cfg.AllocationInterval, "allocation-interval", time.Second, "time between allocation cycles")
	f.DurationVar(&cfg.OfferTimeout, "offer-timeout", time.Minute, "rescind offers held longer than this (negative: never)")
	f.DurationVar(&cfg.AgentPingTimeout, "agent-ping-timeout", 15*time.Second, "time to wait for an agent's PONG")
	f.IntVar(&cfg.MaxAgentPingMisses, "max-agent-ping-timeouts", 5, "missed PONGs before an agent is unreachable")
	f.DurationVar(&cfg.FailoverTimeout, "framework-failover-timeout", 7*24*time.Hour, "failover timeout for frameworks that set none")
	f.DurationVar(&cfg.ReregisterTimeout, "agent-reregister-timeout", 10*time.Minute, "time agents have to come back after a failover")
	f.DurationVar(&cfg.SessionTimeout, "zk-session-timeout", 10*time.Second, "coord session timeout")
	zkTLS.register(f)
	f.StringVar(&minAlloc, "min-allocatable-resources", "", `offers must hold one of these alternatives, e.g. "cpus:0.1|mem:64" (default: cpus:0.01|mem:32)`)
	f.StringSliceVar(&fairExclude, "fair-sharing-excluded-resource-names", nil, "resources left out of dominant shares, e.g. gpus")
	cfg.Auth.Register(f)
	f.BoolVar(&cfg.AuthenticateAgents, "authenticate-agents", false, "agents must authenticate (their --credential, or a client certificate)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	_ = cmd.MarkFlagRequired("zk")
	_ = cmd.MarkFlagRequired("work-dir")
	return cmd
}
