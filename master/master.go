package master

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/mesos"
)

// LeaderGroup is the election group under the coord chroot; candidates'
// nodes are json.info_NNNNNNNNNN holding MasterInfo JSON, as Mesos lays
// them out, so Mesos-aware clients find the leader.
const LeaderGroup = "master/leader"

// RegistryRoot is where the leader keeps what survives failover.
const RegistryRoot = "master/registry"

// Master is one master process: it serves HTTP on TCP and on its control
// socket whether it leads or not, contends for leadership, and runs the
// leader loop while it holds a term.
type Master struct {
	cfg   Config
	log   *slog.Logger
	id    string
	info  mesos.MasterInfo
	tcp   net.Listener
	unix  net.Listener
	start time.Time
	sec   *auth.Server // authentication, ACLs, rate limits, TLS

	leading  atomic.Pointer[leaderLoop] // nil unless leading
	leader   atomic.Pointer[mesos.MasterInfo]
	snapshot atomic.Pointer[published]
	reqSeq   atomic.Uint64
	elected  atomic.Int64 // unix nanos of the current term's start, 0 if none
	terms    atomic.Int64 // terms led so far
}

// New binds the master's listeners; Run serves them.
func New(cfg Config) (*Master, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if _, err := coord.ParseURL(cfg.ZK); err != nil {
		return nil, fmt.Errorf("master: --zk: %w", err)
	}
	sec, err := cfg.Auth.Load(cfg.IP)
	if err != nil {
		return nil, fmt.Errorf("master: %w", err)
	}
	if cfg.AuthenticateAgents && sec.Credentials.Len() == 0 && cfg.Auth.TLSClientCA == "" {
		return nil, fmt.Errorf("master: --authenticate-agents needs agent credentials in --credentials (or --tls-client-ca)")
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o750); err != nil {
		return nil, fmt.Errorf("master: work dir: %w", err)
	}
	plain, err := net.Listen("tcp", net.JoinHostPort(cfg.IP, fmt.Sprint(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("master: listen: %w", err)
	}
	tcp := sec.Listener(plain)
	sock := filepath.Join(cfg.WorkDir, "master.sock")
	_ = os.Remove(sock) // a stale socket from a previous run
	unix, err := net.Listen("unix", sock)
	if err != nil {
		tcp.Close()
		return nil, fmt.Errorf("master: control socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		tcp.Close()
		unix.Close()
		return nil, fmt.Errorf("master: control socket: %w", err)
	}
	port := tcp.Addr().(*net.TCPAddr).Port
	m := &Master{cfg: cfg, log: cfg.Logger, id: newID(), tcp: tcp, unix: unix, start: time.Now(), sec: sec}
	m.info = mesos.MasterInfo{ID: m.id, Port: uint32(port), Hostname: cfg.Hostname, Version: cfg.Version,
		PID:          fmt.Sprintf("master@%s:%d", cfg.IP, port),
		Address:      &mesos.Address{Hostname: cfg.Hostname, IP: cfg.IP, Port: int32(port)},
		Capabilities: []mesos.MasterCapability{{Type: mesos.MasterCapabilityQuotaV2}}}
	if ip, err := netip.ParseAddr(cfg.IP); err == nil && ip.Is4() {
		m.info.IP = mesos.PackIPv4(ip)
	}
	m.log = m.log.With("master", m.id)
	return m, nil
}

// Run starts a master with cfg and serves until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	m, err := New(cfg)
	if err != nil {
		return err
	}
	return m.Run(ctx)
}

// Addr is the TCP listener's address.
func (m *Master) Addr() net.Addr { return m.tcp.Addr() }

// ID is this master's ID, the prefix of every ID it hands out as leader.
func (m *Master) ID() string { return m.id }

// Info is the MasterInfo this master publishes.
func (m *Master) Info() mesos.MasterInfo { return m.info }

// Leading reports whether this master currently runs the leader loop.
func (m *Master) Leading() bool { return m.leading.Load() != nil }

// Run serves HTTP, joins the election and leads when elected, until ctx
// ends. It closes the listeners before returning.
func (m *Master) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// ConnContext records the control socket's peer, whom the middleware
	// trusts as the operator when it is this user or root.
	// Headers must arrive within RequestTimeout (bodies too: readCall);
	// an idle keep-alive connection is closed after idleTimeout.
	srv := &http.Server{Handler: m.sec.Handler(m.mux()), ReadHeaderTimeout: m.cfg.RequestTimeout, IdleTimeout: idleTimeout,
		ConnContext: auth.ConnContext,
		// Failed TLS handshakes and the like are the caller's problem:
		// debug, not stderr.
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelDebug)}
	var wg sync.WaitGroup
	serveErr := make(chan error, 2)
	for _, l := range []net.Listener{m.tcp, m.unix} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				serveErr <- err
			}
		}()
	}
	defer func() {
		shut, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(shut)
		_ = srv.Close()
		wg.Wait()
		_ = os.Remove(filepath.Join(m.cfg.WorkDir, "master.sock"))
	}()

	url, _ := coord.ParseURL(m.cfg.ZK)
	sess, err := coord.Dial(ctx, coord.Config{URL: url, SessionTimeout: m.cfg.SessionTimeout, Logger: m.log, TLS: m.cfg.ZKTLS})
	if err != nil {
		return fmt.Errorf("master: coord: %w", err)
	}
	defer sess.Close()
	info, _ := json.Marshal(m.info)
	cand, err := sess.Elect(LeaderGroup, info)
	if err != nil {
		return fmt.Errorf("master: election: %w", err)
	}
	leaders, err := sess.WatchLeader(ctx, LeaderGroup)
	if err != nil {
		return fmt.Errorf("master: watch leader: %w", err)
	}
	wg.Add(1)
	go func() { // owned by Run: ends when ctx ends or the session closes
		defer wg.Done()
		for l := range leaders {
			if l.Node == "" {
				m.leader.Store(nil)
				continue
			}
			mi, err := mesos.ParseMasterInfo(l.Info)
			if err != nil {
				m.log.Warn("unreadable leader info", "node", l.Node, "err", err)
				m.leader.Store(nil)
				continue
			}
			m.leader.Store(mi)
		}
	}()
	m.log.Info("master started", "addr", m.tcp.Addr().String(), "scheme", m.sec.Scheme(), "zk", url.Redacted(),
		"authenticate", m.sec.Required, "principals", m.sec.Credentials.Len(), "acls", m.sec.ACLs != nil)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-serveErr:
			return fmt.Errorf("master: serve: %w", err)
		case term, ok := <-cand.Terms():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("master: election ended")
			}
			m.lead(ctx, term)
		}
	}
}

// lead runs leader loops for one term and returns when the term (or ctx)
// ends, with every stream closed. A loop that stops while the term lasts
// (a registry write failed without the term ending) is replaced by a new
// one built from the registry, as a new leader would be.
func (m *Master) lead(ctx context.Context, term *coord.Term) {
	tctx, cancel := context.WithCancel(term.Context())
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	m.log.Info("elected leader", "node", term.Node())
	for tctx.Err() == nil {
		l, err := newLeaderLoop(tctx, m, term.Store())
		if err != nil {
			m.log.Error("leader loop could not start; retrying", "err", err)
		} else {
			m.elected.Store(time.Now().UnixNano())
			m.leading.Store(l)
			l.run(tctx)
			m.leading.Store(nil)
			m.snapshot.Store(nil)
			m.elected.Store(0)
		}
		select {
		case <-tctx.Done():
		case <-time.After(time.Second):
		}
	}
	m.log.Info("leadership ended", "cause", context.Cause(tctx))
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
