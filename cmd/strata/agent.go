package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-dc/strata/agent"
	"github.com/strata-dc/strata/agent/supervise"
)

func newAgentCmd() *cobra.Command {
	var (
		cfg         agent.Config
		isolation   string
		logLevel    string
		masterFlags masterClientFlags
		allowRoot   bool
		zkTLS       zkTLSFlags
	)
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run an agent: register with the leading master and run its tasks",
		Long: `Run a Mesos-style agent. It follows the leading master through coord
(--master zk://...) or talks to one master (--master host:port), offers this
host's resources, and runs tasks under one supervisor process that outlives
agent restarts: restart the agent and its tasks keep running. The agent's
API is served on --ip:--port and on the control socket
<work-dir>/agent.sock (mode 0600), which trusts its owner without a token.

Security: the API is secured like the master's (--authenticate auto:
required outside loopback; --credentials, --operator-token-file, --acls
with access_sandboxes for sandbox reads, --tls-cert/--tls-key). The agent
presents --credential to masters that run with --authenticate-agents, and
reaches https masters with --master-ca. Tasks that would run as root fail
with TASK_ERROR unless --allow-root-tasks.`,
		Example: `  strata agent --master zk://127.0.0.1:2181/strata --work-dir /var/lib/strata/agent
  strata agent --master zk://h:2181/strata --work-dir D --ip 10.0.0.7 --port 5051 \
      --resources 'cpus:4;mem:4096;ports:[31000-32000]' --attributes 'rack:r1'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usageError{fmt.Errorf("--log-level: %w", err)}
			}
			iso, err := supervise.ParseIsolation(isolation)
			if err != nil {
				return usageError{fmt.Errorf("--isolation: %w", err)}
			}
			cfg.Isolation = iso
			cred, masterTLS, err := masterFlags.load()
			if err != nil {
				return err
			}
			cfg.Credential, cfg.MasterTLS = cred, masterTLS
			if cfg.ZKTLS, err = zkTLS.config(); err != nil {
				return usageError{err}
			}
			cfg.RefuseRootTasks = !allowRoot
			cfg.Logger = newLogger(cmd.ErrOrStderr(), level)
			cfg.Version = buildVersion()
			a, err := agent.New(cfg)
			if err != nil {
				return usageError{err}
			}
			return a.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Master, "master", "", "zk://host:port[,host:port...]/chroot, or a master's host:port (required)")
	f.StringVar(&cfg.WorkDir, "work-dir", "", "directory for the checkpoint, sandboxes, supervisor and agent.sock (required)")
	f.StringVar(&cfg.IP, "ip", "127.0.0.1", "IP address to listen on")
	f.IntVar(&cfg.Port, "port", agent.DefaultPort, "port to listen on")
	f.StringVar(&cfg.Hostname, "hostname", "", "hostname to advertise (default: the machine's)")
	f.StringVar(&cfg.Resources, "resources", "", `resources in Mesos syntax, e.g. "cpus:4;mem:4096;ports:[31000-32000]" (missing ones are detected)`)
	f.StringVar(&cfg.Attributes, "attributes", "", `attributes, e.g. "rack:r1;zone:a"`)
	f.StringVar(&isolation, "isolation", "posix", "posix or cgroups")
	f.DurationVar(&cfg.RecoveryTimeout, "recovery-timeout", 15*time.Minute, "how long tasks wait for the agent to come back")
	f.BoolVar(&cfg.SwitchUser, "switch-user", true, "run tasks as their framework's (or command's) user; off: as the agent's user")
	f.DurationVar(&cfg.GCDelay, "gc-delay", 7*24*time.Hour, "how long sandboxes of finished runs are kept (less under disk pressure)")
	f.DurationVar(&cfg.SessionTimeout, "zk-session-timeout", 10*time.Second, "coord session timeout")
	zkTLS.register(f)
	cfg.Auth.Register(f)
	masterFlags.register(f, "this agent's credential for masters that run with --authenticate-agents")
	f.BoolVar(&allowRoot, "allow-root-tasks", false, "let tasks run as root (refused with TASK_ERROR otherwise)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	_ = cmd.MarkFlagRequired("master")
	_ = cmd.MarkFlagRequired("work-dir")
	return cmd
}
