package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-dc/strata/coord"
)

// Where the CLI looks for a cluster when --master and STRATA_MASTER are
// unset: the control socket of a `strata up` data dir in the current
// directory, else the system master's.
const (
	// DefaultDataDir is `strata up`'s data dir, relative to the cwd.
	DefaultDataDir = ".strata"
	// SystemSocket is where a packaged master puts its control socket.
	SystemSocket = "/run/strata/master.sock"
	// SocketName is the master's control socket in its work dir.
	SocketName = "master.sock"
	// TokenName is the operator token file in a data dir (mode 0600).
	TokenName = "token"
	// leaderGroup is the masters' election group under the coord chroot
	// (master.LeaderGroup; repeated here since the client must not import
	// the daemon).
	leaderGroup = "master/leader"
)

// DefaultSocket is the control socket the CLI uses by default:
// ./.strata/master.sock (absolute) when it exists, else SystemSocket.
func DefaultSocket() string {
	local := filepath.Join(DefaultDataDir, SocketName)
	if _, err := os.Stat(local); err == nil {
		if abs, err := filepath.Abs(local); err == nil {
			return abs
		}
		return local
	}
	return SystemSocket
}

// ErrBadAddress matches errors of Resolve that are the address's fault
// (a bad scheme, URL or port) rather than the network's.
var ErrBadAddress = errors.New("bad master address")

// badAddress marks err as an ErrBadAddress without changing its message.
type badAddress struct{ error }

func (b badAddress) Unwrap() error        { return b.error }
func (b badAddress) Is(target error) bool { return target == ErrBadAddress }

// Endpoint is a resolved --master: Options ready for NewOperator (Master,
// or a Detector, or a DialContext for ssh) and what to show the user.
// Close releases what resolving took (a coord session for zk://).
type Endpoint struct {
	Options Options
	// Display is the address as the user should see it, without secrets.
	Display string
	// Socket is the Unix socket reached, when the endpoint is one (the
	// token beside it is read from its directory).
	Socket string
	// SSH is the ssh target, when the endpoint goes through ssh; its
	// Dialer also reaches agents' addresses on the far side.
	SSH *SSHTarget

	close func() error
}

// Close ends the coord session of a zk:// endpoint; others hold nothing.
func (e *Endpoint) Close() error {
	if e == nil || e.close == nil {
		return nil
	}
	return e.close()
}

// Resolve turns an operator's --master into an Endpoint, keeping base's
// other settings (Token, Timeout, TLS):
//
//	""                              DefaultSocket()
//	unix:///path/master.sock        the control socket
//	http(s)://host:port[,...]       masters over TCP; a standby redirects
//	host:port                       as http://
//	zk://host:port[,...]/chroot     the leader, found in coord (master/leader)
//	ssh://[user@]host[:port][/sock] `ssh ... strata dial-stdio [--socket sock]`
//
// A zk:// endpoint holds a coord session until Close; the leader is read
// again whenever the master in use fails.
func Resolve(ctx context.Context, addr string, base Options) (*Endpoint, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		addr = "unix://" + DefaultSocket()
	}
	scheme, _, hasScheme := strings.Cut(addr, "://")
	if !hasScheme {
		scheme = ""
	}
	opts := base
	switch scheme {
	case "unix":
		path := strings.TrimPrefix(addr, "unix://")
		if path == "" {
			return nil, badAddress{fmt.Errorf("--master %q names no socket", addr)}
		}
		opts.Master = "unix://" + path
		return &Endpoint{Options: opts, Display: opts.Master, Socket: path}, nil
	case "zk":
		u, err := coord.ParseURL(addr)
		if err != nil {
			return nil, badAddress{fmt.Errorf("--master: %w", err)}
		}
		log := base.Logger
		if log == nil {
			log = slog.New(slog.DiscardHandler) // the CLI's output is its own
		}
		timeout := base.Timeout
		if timeout <= 0 {
			timeout = defaultTimeout
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		sess, err := coord.Dial(dctx, coord.Config{URL: u, Logger: log, TLS: base.ZKTLS})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("--master %s: %w", u.Redacted(), err)
		}
		opts.Master = ""
		opts.Detector = func(ctx context.Context) (string, error) {
			l, err := sess.Leader(ctx, leaderGroup)
			if errors.Is(err, coord.ErrNoLeader) {
				return "", fmt.Errorf("no master leads in %s: %w", u.Redacted(), ErrUnavailable)
			}
			if err != nil {
				return "", fmt.Errorf("find the leader in %s: %w", u.Redacted(), err)
			}
			return MasterInfoURL(l.Info, "http")
		}
		return &Endpoint{Options: opts, Display: u.Redacted(), close: sess.Close}, nil
	case "ssh":
		t, err := ParseSSH(addr)
		if err != nil {
			return nil, badAddress{fmt.Errorf("--master: %w", err)}
		}
		opts.Master = "http://" + sshMasterHost
		opts.DialContext = t.Dialer()
		return &Endpoint{Options: opts, Display: t.String(), SSH: &t}, nil
	case "", "http", "https":
		opts.Master = addr
		// Check now, so a typo is a usage error rather than a failed call.
		if _, err := newResolver(newTransport(opts.withDefaults()), opts); err != nil {
			return nil, badAddress{fmt.Errorf("--master: %w", err)}
		}
		return &Endpoint{Options: opts, Display: addr}, nil
	}
	return nil, badAddress{fmt.Errorf("--master %q: unsupported scheme %q (want unix, http, https, zk or ssh)", addr, scheme)}
}

// AgentOptions are the options for reaching an agent of this cluster
// (`strata logs`): through ssh when the master is reached that way, so
// the agent's loopback address is dialled on the far side.
func (e *Endpoint) AgentOptions() Options {
	o := Options{Token: e.Options.Token, TLSConfig: e.Options.TLSConfig, Timeout: e.Options.Timeout, Logger: e.Options.Logger}
	if e.SSH != nil {
		o.DialContext = e.SSH.Dialer()
	}
	return o
}

// Token finds the operator token for this endpoint: LoadToken's rules,
// except that an ssh:// endpoint only takes STRATA_TOKEN. Local token
// files belong to local clusters, and the far side's control socket
// authenticates by the ssh user's uid anyway.
func (e *Endpoint) Token(env func(string) string) (string, error) {
	if env == nil {
		env = os.Getenv
	}
	if e.SSH != nil {
		if t := strings.TrimSpace(env("STRATA_TOKEN")); t != "" {
			return t, nil
		}
		return "", ErrNoToken
	}
	return LoadToken(env, e.Socket)
}

// ErrNoToken: no operator token was found (which is fine while masters do
// not ask for one).
var ErrNoToken = errors.New("no operator token")

// LoadToken finds the operator token: STRATA_TOKEN (env, as given), else
// the token file beside the control socket in use (a `strata up` data
// dir), else ./.strata/token. The token is only ever sent, never shown.
func LoadToken(env func(string) string, socket string) (string, error) {
	if env == nil {
		env = os.Getenv
	}
	if t := strings.TrimSpace(env("STRATA_TOKEN")); t != "" {
		return t, nil
	}
	var candidates []string
	if socket != "" {
		candidates = append(candidates, filepath.Join(filepath.Dir(socket), TokenName))
	}
	candidates = append(candidates, filepath.Join(DefaultDataDir, TokenName))
	for _, p := range candidates {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("operator token %s: %w", p, err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
	}
	return "", ErrNoToken
}

// Explain shortens err for a one-line CLI message: net/http's `Post
// "URL": ` wrapper goes (the call and the address are named already) and
// the ssh transport's made-up host is shown as ssh://. errors.Is and As
// still see the original.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		msg = strings.Replace(msg, ue.Error(), ue.Err.Error(), 1)
	}
	msg = strings.ReplaceAll(msg, "http://"+sshMasterHost, "ssh://(master socket)")
	if msg == err.Error() {
		return err
	}
	return &explained{msg: msg, err: err}
}

type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }
