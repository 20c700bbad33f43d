package chronos

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/user"
	"strings"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/auth"
)

// Config is what `strata chronos` is started with. Only Master is
// required; the rest take Chronos' defaults.
type Config struct {
	// Master finds the leading master: zk://host:port[,…]/chroot (followed
	// through coord's leader detection) or http://host:5050.
	Master string
	// ZK is where chronos keeps its jobs and run history and elects its
	// leader; default <Master's zk URL>/chronos. Required when Master is
	// not zk://.
	ZK string
	// HTTPAddress is where the REST API listens (default 127.0.0.1:4400;
	// port 0 picks one, see Server.Addr).
	HTTPAddress string
	// Hostname is advertised to the master (webui_url) and to followers
	// (default: the host of HTTPAddress).
	Hostname string
	// FrameworkName is FrameworkInfo.name (default "chronos").
	FrameworkName string
	// MesosRole is the role chronos subscribes with (default "*").
	MesosRole string
	// User is FrameworkInfo.user and the task user of jobs without
	// runAsUser. Default: the user running chronos (Chronos defaulted to
	// root, which Strata's agents refuse unless --allow-root-tasks).
	User string
	// FailoverTimeout is how long the master keeps chronos' tasks while no
	// chronos is connected (default one week, as Chronos).
	FailoverTimeout time.Duration
	// FailureRetry is the delay before a failed run is retried (60 s).
	FailureRetry time.Duration
	// DisableAfterFailures disables a job after this many consecutive
	// failed runs; 0 never does.
	DisableAfterFailures int
	// DefaultCPUs, DefaultMem and DefaultDisk are a job's resources when
	// it names none (0.1 cpus, 128 MB, 256 MB).
	DefaultCPUs, DefaultMem, DefaultDisk float64
	// DefaultEpsilon is a job's epsilon when it names none (60 s, Chronos'
	// --task_epsilon).
	DefaultEpsilon time.Duration
	// HistoryLimit is how many finished runs are kept per job (100).
	HistoryLimit int
	// ReconciliationInterval is how often runs that are waiting for the
	// master's word are reconciled again (default 1 minute).
	ReconciliationInterval time.Duration
	// OfferLead is how long before a run is due chronos asks for offers
	// and keeps them in hand, so a run launches at its instant instead of
	// waiting for an allocation (default 1 s; negative: only when due).
	OfferLead time.Duration
	// SettleTimeout bounds how long a new leader waits, after subscribing,
	// for the master's word on the runs the old leader left active before
	// it schedules anything (default 5 s; keep it well under epsilon).
	SettleTimeout time.Duration
	// SessionTimeout is the coord session timeout (default 10 s).
	SessionTimeout time.Duration
	// Credential is presented to masters that authenticate frameworks:
	// the principal goes in FrameworkInfo, the secret as a bearer token.
	Credential *auth.Credential
	// MasterTLS reaches https masters (nil: the system's roots).
	MasterTLS *tls.Config
	// ZKTLS, when set, reaches coord's secure client port over TLS (the
	// --zk-tls-* flags), for --zk and a zk:// --master; see coord.Config.TLS.
	ZKTLS *tls.Config
	// Auth secures the REST API as the master's flags secure the master:
	// --authenticate (auto: required outside loopback), --credentials,
	// --operator-token-file, --acls (update_jobs, view_jobs), --tls-*.
	// See auth.go.
	Auth auth.Settings
	// Now is the clock (default time.Now); tests and benchmarks may shift
	// it but it must move forward.
	Now    func() time.Time
	Logger *slog.Logger
}

// Defaults of Config, as Chronos' command line has them.
const (
	DefaultHTTPAddress     = "127.0.0.1:4400"
	DefaultFrameworkName   = "chronos"
	DefaultFailoverTimeout = 7 * 24 * time.Hour
	DefaultFailureRetry    = 60 * time.Second
	DefaultCPUs            = 0.1
	DefaultMem             = 128.0
	DefaultDisk            = 256.0
	DefaultEpsilon         = 60 * time.Second
	DefaultSessionTimeout  = 10 * time.Second
)

// withDefaults fills unset fields and checks the rest; errors name the
// flag's field.
func (c Config) withDefaults() (Config, error) {
	if strings.TrimSpace(c.Master) == "" {
		return c, errors.New("master: required (zk://host:port/chroot or http://host:5050)")
	}
	if c.ZK == "" {
		if !strings.HasPrefix(c.Master, "zk://") {
			return c, fmt.Errorf("zk: required when master %q is not a zk:// URL", c.Master)
		}
		u, err := coord.ParseURL(c.Master)
		if err != nil {
			return c, fmt.Errorf("master: %w", err)
		}
		u.Chroot = strings.TrimSuffix(u.Chroot, "/") + "/chronos"
		c.ZK = u.String()
	}
	if _, err := coord.ParseURL(c.ZK); err != nil {
		return c, fmt.Errorf("zk: %w", err)
	}
	if c.HTTPAddress == "" {
		c.HTTPAddress = DefaultHTTPAddress
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddress); err != nil {
		return c, fmt.Errorf("http-address %q: %w", c.HTTPAddress, err)
	}
	if c.FrameworkName == "" {
		c.FrameworkName = DefaultFrameworkName
	}
	if c.MesosRole == "" {
		c.MesosRole = "*"
	}
	if c.User == "" {
		c.User = "root"
		if u, err := user.Current(); err == nil && u.Username != "" {
			c.User = u.Username
		}
	}
	if c.FailoverTimeout <= 0 {
		c.FailoverTimeout = DefaultFailoverTimeout
	}
	if c.FailureRetry <= 0 {
		c.FailureRetry = DefaultFailureRetry
	}
	if c.DisableAfterFailures < 0 {
		return c, fmt.Errorf("disable-after-failures: %d: must be 0 (never) or more", c.DisableAfterFailures)
	}
	if c.DefaultCPUs <= 0 {
		c.DefaultCPUs = DefaultCPUs
	}
	if c.DefaultMem <= 0 {
		c.DefaultMem = DefaultMem
	}
	if c.DefaultDisk <= 0 {
		c.DefaultDisk = DefaultDisk
	}
	if c.DefaultEpsilon <= 0 {
		c.DefaultEpsilon = DefaultEpsilon
	}
	if c.HistoryLimit <= 0 {
		c.HistoryLimit = 100
	}
	if c.ReconciliationInterval <= 0 {
		c.ReconciliationInterval = time.Minute
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.SettleTimeout <= 0 {
		c.SettleTimeout = 5 * time.Second
	}
	if c.OfferLead == 0 {
		c.OfferLead = time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
