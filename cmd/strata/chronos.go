package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/chronos"
)

func newChronosCmd() *cobra.Command {
	var (
		cfg         chronos.Config
		logLevel    string
		masterFlags masterClientFlags
		zkTLS       zkTLSFlags
	)
	cmd := &cobra.Command{
		Use:   "chronos",
		Short: "Run chronos: scheduled and dependent batch jobs behind Chronos' REST API",
		Long: `Run the bundled chronos framework. Any number of chronos processes may run
against the same state (--zk); one is elected leader and runs the jobs, the
others redirect API calls to it (307) and take over when it goes. Chronos'
REST API (/v1/scheduler) is served on --http-address; the run history of a
job is at /v1/scheduler/history/<name>. Outside loopback the API requires
authentication (--credentials or --operator-token-file; --acls with the
actions update_jobs and view_jobs over "job_names").`,
		Example: `  strata chronos --master zk://127.0.0.1:2181/strata
  strata chronos --master zk://h1:2181,h2:2181/strata --http-address 0.0.0.0:4400 --failure-retry 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usageError{fmt.Errorf("--log-level: %w", err)}
			}
			cred, masterTLS, err := masterFlags.load()
			if err != nil {
				return err
			}
			cfg.Credential, cfg.MasterTLS = cred, masterTLS
			tc, err := zkTLS.config()
			if err != nil {
				return usageError{err}
			}
			cfg.ZKTLS = tc
			cfg.Logger = newLogger(cmd.ErrOrStderr(), level)
			s, err := chronos.New(cfg)
			if err != nil {
				return usageError{err}
			}
			return s.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Master, "master", "", "the masters: zk://host:port[,...]/chroot or http://host:5050 (required)")
	f.StringVar(&cfg.ZK, "zk", "", "where chronos keeps its jobs and history and elects its leader (default: <master zk>/chronos)")
	f.StringVar(&cfg.HTTPAddress, "http-address", chronos.DefaultHTTPAddress, "address the REST API listens on")
	f.StringVar(&cfg.Hostname, "hostname", "", "hostname to advertise (default: the host of --http-address)")
	f.StringVar(&cfg.FrameworkName, "framework-name", chronos.DefaultFrameworkName, "framework name registered with the master")
	f.StringVar(&cfg.MesosRole, "mesos-role", "*", "role chronos subscribes with")
	f.StringVar(&cfg.User, "user", "", "framework user, and the user of jobs without runAsUser (default: the user running chronos)")
	f.DurationVar(&cfg.FailoverTimeout, "failover-timeout", chronos.DefaultFailoverTimeout, "how long the master keeps chronos' tasks while no chronos is connected")
	f.DurationVar(&cfg.FailureRetry, "failure-retry", chronos.DefaultFailureRetry, "delay before a failed run is retried")
	f.IntVar(&cfg.DisableAfterFailures, "disable-after-failures", 0, "disable a job after this many consecutive failed runs (0: never)")
	f.Float64Var(&cfg.DefaultCPUs, "default-cpus", chronos.DefaultCPUs, "cpus of a job that names none")
	f.Float64Var(&cfg.DefaultMem, "default-mem", chronos.DefaultMem, "memory (MB) of a job that names none")
	f.Float64Var(&cfg.DefaultDisk, "default-disk", chronos.DefaultDisk, "disk (MB) of a job that names none")
	f.DurationVar(&cfg.DefaultEpsilon, "task-epsilon", chronos.DefaultEpsilon, "how late a run may start when its job names no epsilon")
	f.DurationVar(&cfg.OfferLead, "offer-lead", time.Second, "ask for offers this long before a run is due and keep them in hand (negative: only when due)")
	f.DurationVar(&cfg.ReconciliationInterval, "reconciliation-interval", time.Minute, "time between reconciliations of active runs with the master")
	f.DurationVar(&cfg.SettleTimeout, "settle-timeout", 5*time.Second, "how long a new leader waits for the master's word on runs left active before it schedules")
	f.DurationVar(&cfg.SessionTimeout, "zk-session-timeout", chronos.DefaultSessionTimeout, "coord session timeout")
	zkTLS.register(f)
	masterFlags.register(f, "credential for masters that authenticate frameworks")
	// --authenticate, --credentials, --operator-token-file, --acls
	// (update_jobs, view_jobs), --tls-cert/--tls-key/--tls-client-ca...:
	// the REST API's security, as the master's.
	cfg.Auth.Register(f)
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	_ = cmd.MarkFlagRequired("master")
	return cmd
}
