package marathon

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

// Config is what `strata marathon` is started with. Only Master is
// required; the rest take Marathon's defaults.
type Config struct {
	// Master finds the leading master: zk://host:port[,…]/chroot (followed
	// through coord's leader detection) or http://host:5050.
	Master string
	// ZK is where marathon keeps its state and elects its leader; default
	// <Master's zk URL>/marathon. Required when Master is not zk://.
	ZK string
	// HTTPAddress is where the REST API listens (default 127.0.0.1:8080;
	// port 0 picks one, see Server.Addr).
	HTTPAddress string
	// Hostname is advertised to the master and to followers (default: the
	// host of HTTPAddress, or the machine's name when that is unspecified).
	Hostname string
	// FrameworkName is FrameworkInfo.name (default "marathon").
	FrameworkName string
	// MesosRole is the role marathon subscribes with (default "*").
	MesosRole string
	// User is FrameworkInfo.user, the user tasks run as unless the app names
	// one (default: the user running marathon, as Marathon's --mesos_user).
	User string
	// FailoverTimeout is how long the master keeps marathon's tasks while
	// no marathon is connected (default one week).
	FailoverTimeout time.Duration
	// ReconciliationInterval is how often task states are reconciled with
	// the master (default 10 minutes, as Marathon).
	ReconciliationInterval time.Duration
	// TaskLaunchTimeout is how long a launched task may stay staged before
	// it is killed and replaced (default 5 minutes, as Marathon).
	TaskLaunchTimeout time.Duration
	// ZKMaxVersions is how many versions of each app are kept (default 50).
	ZKMaxVersions int
	// MaxInstancesPerApp caps an app's instances (default 100,000): each
	// one is a record in memory and in coord.
	MaxInstancesPerApp int
	// DeclineOfferDuration is the refuse filter for offers declined while
	// nothing waits (default 120 s, Marathon's --decline_offer_duration).
	// Offers that fit nothing waiting are declined for 5 s so new demand is
	// matched quickly.
	DeclineOfferDuration time.Duration
	// Credential is presented to masters that authenticate frameworks
	// (Marathon's --mesos_authentication_principal and secret file): the
	// principal goes in FrameworkInfo, the secret as a bearer token.
	Credential *auth.Credential
	// MasterTLS reaches https masters (nil: the system's roots).
	MasterTLS *tls.Config
	// ZKTLS, when set, reaches coord's secure client port over TLS (the
	// --zk-tls-* flags), for --zk and a zk:// --master; see coord.Config.TLS.
	ZKTLS *tls.Config
	// Auth secures the REST API as the master's flags secure the master:
	// --authenticate (auto: required outside loopback), --credentials,
	// --operator-token-file, --acls (update_apps, view_apps), --tls-*.
	// See auth.go.
	Auth auth.Settings
	// Features are Marathon's --enable_features (e.g. "secrets").
	Features []string
	// SessionTimeout is the coord session timeout (default 10 s).
	SessionTimeout time.Duration
	// TickInterval paces the deployment driver between events (default 1 s).
	TickInterval time.Duration
	// Version is reported by /v2/info.
	Version string
	Logger  *slog.Logger
}

// Defaults of Config, as Marathon's command line has them.
const (
	DefaultHTTPAddress            = "127.0.0.1:8080"
	DefaultFrameworkName          = "marathon"
	DefaultFailoverTimeout        = 7 * 24 * time.Hour
	DefaultReconciliationInterval = 10 * time.Minute
	DefaultTaskLaunchTimeout      = 5 * time.Minute
	DefaultZKMaxVersions          = 50
	DefaultMaxInstancesPerApp     = 100_000
	DefaultDeclineOfferDuration   = 120 * time.Second
	DefaultSessionTimeout         = 10 * time.Second
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
		u.Chroot = strings.TrimSuffix(u.Chroot, "/") + "/marathon"
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
	if c.ReconciliationInterval <= 0 {
		c.ReconciliationInterval = DefaultReconciliationInterval
	}
	if c.TaskLaunchTimeout <= 0 {
		c.TaskLaunchTimeout = DefaultTaskLaunchTimeout
	}
	if c.ZKMaxVersions <= 0 {
		c.ZKMaxVersions = DefaultZKMaxVersions
	}
	if c.MaxInstancesPerApp <= 0 {
		c.MaxInstancesPerApp = DefaultMaxInstancesPerApp
	}
	if c.DeclineOfferDuration <= 0 {
		c.DeclineOfferDuration = DefaultDeclineOfferDuration
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.TickInterval <= 0 {
		c.TickInterval = time.Second
	}
	if c.Version == "" {
		c.Version = "1.10.0-strata"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
