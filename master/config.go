package master

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/strata-dc/strata/master/allocator"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/state"
)

// Config configures a master. Zero durations take the defaults below
// (Mesos' flag defaults, except where DESIGN.md chose safer ones).
type Config struct {
	// ZK is the coord URL, zk://host:port,.../chroot (Mesos' --zk).
	ZK string
	// WorkDir holds the control socket master.sock (mode 0600).
	WorkDir string
	// IP and Port are the TCP listener's address. IP defaults to
	// 127.0.0.1; Port 0 picks a free port (`strata master` defaults it to
	// DefaultPort, 5050).
	IP   string
	Port int
	// Hostname is advertised in MasterInfo; defaults to IP.
	Hostname string

	AllocationInterval time.Duration // 1 s
	OfferTimeout       time.Duration // 60 s; negative: offers never time out
	AgentPingTimeout   time.Duration // 15 s
	MaxAgentPingMisses int           // 5
	FailoverTimeout    time.Duration // for frameworks that set none: 1 week
	HeartbeatInterval  time.Duration // 15 s: framework HEARTBEATs and agent PINGs
	StatusRetry        time.Duration // 10 s: unacknowledged updates resent
	ReregisterTimeout  time.Duration // 10 min

	// SessionTimeout is the coord session timeout asked for; the leader
	// stops leading when its session is lost.
	SessionTimeout time.Duration
	// ZKTLS, when set, reaches coord's secure client port over TLS (the
	// --zk-tls-* flags); see coord.Config.TLS.
	ZKTLS *tls.Config

	// MinAllocatable is --min-allocatable-resources (nil: Mesos' default,
	// cpus:0.01 or mem:32); FairnessExcluded is
	// --fair-sharing-excluded-resource-names.
	MinAllocatable   []allocator.Quantities
	FairnessExcluded []string

	// Auth is the security configuration: authentication (on by default
	// when IP is not loopback), ACLs, rate limits on the scheduler API and
	// TLS on the TCP listener; see package auth.
	Auth auth.Settings
	// AuthenticateAgents requires every agent call to come from an
	// authenticated principal (Mesos' --authenticate_agents), even on
	// loopback; agents send their credential (agent.Config.Credential) or
	// a client certificate.
	AuthenticateAgents bool

	// TickInterval is how often the state machine is ticked (100 ms).
	TickInterval time.Duration

	// RequestTimeout bounds how long a client may take to send a request's
	// headers, and again its body (10 s each), so that slow or stalled
	// clients (slowloris) cannot hold connections and handlers open.
	// Streams are not bounded once their request has arrived.
	RequestTimeout time.Duration

	// Version is reported by GET_VERSION and MasterInfo.
	Version string
	Logger  *slog.Logger
}

func (c *Config) defaults() error {
	if c.ZK == "" {
		return fmt.Errorf("master: --zk is required")
	}
	if c.WorkDir == "" {
		return fmt.Errorf("master: --work-dir is required")
	}
	if c.IP == "" {
		c.IP = "127.0.0.1"
	}
	if c.Hostname == "" {
		c.Hostname = c.IP
	}
	if c.TickInterval <= 0 {
		c.TickInterval = 100 * time.Millisecond
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// DefaultPort is Mesos' master port.
const DefaultPort = 5050

func (c *Config) stateConfig() state.Config {
	return state.Config{
		AllocationInterval: c.AllocationInterval,
		OfferTimeout:       c.OfferTimeout,
		HeartbeatInterval:  c.HeartbeatInterval,
		PingTimeout:        c.AgentPingTimeout,
		MaxPingMisses:      c.MaxAgentPingMisses,
		FailoverTimeout:    c.FailoverTimeout,
		StatusRetry:        c.StatusRetry,
		ReregisterTimeout:  c.ReregisterTimeout,
		Allocator: allocator.Options{MinAllocatable: c.MinAllocatable,
			FairnessExcludeResourceNames: c.FairnessExcluded},
	}
}
