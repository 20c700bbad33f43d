package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/marathon"
)

func newMarathonCmd() *cobra.Command {
	var (
		cfg         marathon.Config
		logLevel    string
		masterFlags masterClientFlags
		zkTLS       zkTLSFlags
	)
	cmd := &cobra.Command{
		Use:   "marathon",
		Short: "Run marathon: long-running services behind Marathon's v2 REST API",
		Long: `Run the bundled marathon framework. Any number of marathons may run against
the same state (--zk); one is elected leader and runs the framework, the
others proxy API calls to it and take over when it goes. The REST API
(Marathon's /v2) is served on --http-address; outside loopback it requires
authentication (--credentials or --operator-token-file; --acls with the
actions update_apps and view_apps over "app_ids", app IDs or group paths).`,
		Example: `  strata marathon --master zk://127.0.0.1:2181/strata
  strata marathon --master zk://h1:2181,h2:2181/strata --http-address 0.0.0.0:8080 --mesos-role web`,
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
			cfg.Version = buildVersion()
			s, err := marathon.New(cfg)
			if err != nil {
				return usageError{err}
			}
			return s.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Master, "master", "", "the masters: zk://host:port[,...]/chroot or http://host:5050 (required)")
	f.StringVar(&cfg.ZK, "zk", "", "where marathon keeps its state and elects its leader (default: <master zk>/marathon)")
	f.StringVar(&cfg.HTTPAddress, "http-address", marathon.DefaultHTTPAddress, "address the REST API listens on")
	f.StringVar(&cfg.Hostname, "hostname", "", "hostname to advertise (default: the host of --http-address)")
	f.StringVar(&cfg.FrameworkName, "framework-name", marathon.DefaultFrameworkName, "framework name registered with the master")
	f.StringVar(&cfg.MesosRole, "mesos-role", "*", "role marathon subscribes with")
	f.StringVar(&cfg.User, "mesos-user", "", "user tasks run as unless the app names one (default: the user running marathon)")
	f.DurationVar(&cfg.FailoverTimeout, "failover-timeout", marathon.DefaultFailoverTimeout, "how long the master keeps marathon's tasks while no marathon is connected")
	f.DurationVar(&cfg.ReconciliationInterval, "reconciliation-interval", marathon.DefaultReconciliationInterval, "time between task reconciliations")
	f.DurationVar(&cfg.TaskLaunchTimeout, "task-launch-timeout", marathon.DefaultTaskLaunchTimeout, "staged tasks older than this are killed and replaced")
	f.IntVar(&cfg.ZKMaxVersions, "zk-max-versions", marathon.DefaultZKMaxVersions, "versions kept per app")
	f.IntVar(&cfg.MaxInstancesPerApp, "max-instances-per-app", marathon.DefaultMaxInstancesPerApp, "apps asking for more instances are refused (422)")
	f.DurationVar(&cfg.DeclineOfferDuration, "decline-offer-duration", marathon.DefaultDeclineOfferDuration, "refuse filter for offers declined while nothing waits")
	f.StringSliceVar(&cfg.Features, "enable-features", nil, "Marathon features to enable, e.g. secrets")
	f.DurationVar(&cfg.SessionTimeout, "zk-session-timeout", marathon.DefaultSessionTimeout, "coord session timeout")
	zkTLS.register(f)
	masterFlags.register(f, "credential for masters that authenticate frameworks")
	// --authenticate, --credentials, --operator-token-file, --acls
	// (update_apps, view_apps), --tls-cert/--tls-key/--tls-client-ca...:
	// the REST API's security, as the master's.
	cfg.Auth.Register(f)
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	_ = cmd.MarkFlagRequired("master")
	return cmd
}
