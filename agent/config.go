package agent

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/auth"
)

// DefaultPort is Mesos' agent port.
const DefaultPort = 5051

// Config configures an agent. Zero values take the defaults documented on
// each field (Mesos' flag defaults).
type Config struct {
	// Master is a coord URL, zk://host:port,.../chroot (the agent follows
	// the leading master through coord), or a master's http://host:port
	// (a standby redirects to the leader).
	Master string
	// WorkDir holds the checkpoint (meta/), the supervisor's directory,
	// the sandboxes (slaves/...) and the control socket agent.sock.
	WorkDir string
	// IP and Port are the HTTP API's address: IP defaults to 127.0.0.1;
	// Port 0 picks a free port (`strata agent` defaults it to 5051).
	IP   string
	Port int
	// Hostname is advertised to the master and exported to tasks as HOST;
	// defaults to the machine's hostname.
	Hostname string
	// Resources in Mesos' syntax ("cpus:4;mem:4096;ports:[31000-32000]");
	// what it leaves out of cpus, mem, disk and ports is detected.
	Resources string
	// Attributes in Mesos' syntax ("rack:r1;zone:a").
	Attributes string
	// Isolation is posix (default) or cgroups.
	Isolation supervise.Isolation
	// RecoveryTimeout is how long tasks may wait for an agent to come back
	// (15 min): an agent that starts later kills them (see doc.go).
	RecoveryTimeout time.Duration
	// SwitchUser runs each task as its CommandInfo.user, or else its
	// framework's user (Mesos' --switch_user, on in `strata agent`); off,
	// tasks run as the agent's own user. A user the host does not know
	// fails the launch with TASK_FAILED naming the user.
	SwitchUser bool
	// GCDelay is how long the sandboxes of finished runs are kept (Mesos'
	// --gc_delay, 1 week); disk pressure shortens it (see gc.go).
	GCDelay time.Duration
	// StatusRetry is the first resend interval of an unacknowledged status
	// update (10 s); it doubles up to StatusRetryMax (10 min).
	StatusRetry    time.Duration
	StatusRetryMax time.Duration
	// SupervisorCommand runs the task supervisor (supervise.Options.Command);
	// nil means this binary's hidden `agent-supervisor` command.
	SupervisorCommand []string
	// Auth secures the agent's API like the master's: authentication
	// required outside loopback (--credentials, --operator-token-file),
	// the control socket trusting its owner, access_sandboxes from --acls
	// for sandbox reads, TLS with --tls-cert/--tls-key.
	Auth auth.Settings
	// Credential is what the agent presents to masters (Mesos' agent
	// --credential): its secret as a bearer token on every call. Masters
	// run with --authenticate-agents refuse agents without one.
	Credential *auth.Credential
	// MasterTLS reaches masters over https (roots, and a client
	// certificate for masters with --tls-client-ca); masters found through
	// zk:// are then addressed as https.
	MasterTLS *tls.Config
	// RefuseRootTasks fails tasks that would run as root with TASK_ERROR
	// (REASON_TASK_UNAUTHORIZED). `strata agent` sets it unless
	// --allow-root-tasks; the zero value allows root so an embedded agent
	// (tests, running as root) keeps its old behaviour.
	RefuseRootTasks bool
	// SessionTimeout is the coord session timeout when Master is zk://.
	SessionTimeout time.Duration
	// ZKTLS, when set, reaches coord's secure client port over TLS (the
	// --zk-tls-* flags); see coord.Config.TLS.
	ZKTLS *tls.Config
	// RequestTimeout bounds how long a client may take to send a request's
	// headers, and again an operator call's body (10 s each), so that slow
	// or stalled clients (slowloris) cannot hold connections open.
	RequestTimeout time.Duration
	// Version is reported to the master.
	Version string
	Logger  *slog.Logger
}

func (c *Config) defaults() error {
	if c.Master == "" {
		return fmt.Errorf("agent: --master is required")
	}
	switch {
	case strings.HasPrefix(c.Master, "zk://"):
		if _, err := coord.ParseURL(c.Master); err != nil {
			return fmt.Errorf("agent: --master: %w", err)
		}
	case strings.HasPrefix(c.Master, "http://"), strings.HasPrefix(c.Master, "https://"):
		c.Master = strings.TrimRight(c.Master, "/")
	default:
		// host:port, as Mesos accepts it.
		if !strings.Contains(c.Master, ":") {
			return fmt.Errorf("agent: --master %q: want zk://host:port/chroot, http://host:port or host:port", c.Master)
		}
		if c.MasterTLS != nil {
			c.Master = "https://" + c.Master
		} else {
			c.Master = "http://" + c.Master
		}
	}
	if c.WorkDir == "" {
		return fmt.Errorf("agent: --work-dir is required")
	}
	abs, err := filepath.Abs(c.WorkDir)
	if err != nil {
		return fmt.Errorf("agent: --work-dir: %w", err)
	}
	c.WorkDir = abs
	if c.IP == "" {
		c.IP = "127.0.0.1"
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = c.IP
		}
		c.Hostname = h
	}
	iso, err := supervise.ParseIsolation(string(c.Isolation))
	if err != nil {
		return fmt.Errorf("agent: --isolation: %w", err)
	}
	c.Isolation = iso
	if c.RecoveryTimeout <= 0 {
		c.RecoveryTimeout = 15 * time.Minute
	}
	if c.GCDelay <= 0 {
		c.GCDelay = 7 * 24 * time.Hour
	}
	if c.StatusRetry <= 0 {
		c.StatusRetry = 10 * time.Second
	}
	if c.StatusRetryMax <= 0 {
		c.StatusRetryMax = 10 * time.Minute
	}
	if c.StatusRetryMax < c.StatusRetry {
		c.StatusRetryMax = c.StatusRetry
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// supervisorName names the agent's supervisor and its cgroup subtree. It
// must be known before the agent has an ID and stay the same across
// restarts, so it derives from the work dir.
func supervisorName(workDir string) string {
	sum := sha256.Sum256([]byte(workDir))
	return "agent-" + hex.EncodeToString(sum[:6])
}

// readBootID is the kernel's boot ID: a new one means the host rebooted,
// its tasks are gone, and the agent is a new agent.
func readBootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
