package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-dc/strata/coord/server/storage"
	"github.com/strata-dc/strata/coord/server/tree"
)

// Server is one embedded coordination server. Start it, then either Run
// it under a context or Close it.
type Server struct {
	cfg  Config
	log  *slog.Logger
	x509 bool // client certificates are verified: the x509 scheme exists

	ln       net.Listener // plaintext client port; nil when only the secure one is served
	sln      net.Listener // secure client port (TLS); nil without one
	admin    *adminServer
	reqs     chan *request
	calls    chan func() // run on the processor goroutine (4lw, metrics)
	stopping chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	failed   chan error
	started  time.Time

	// Owned by the processor goroutine after Start. treeMu lets readers
	// run pure reads on their own goroutines: the processor holds it for
	// writing while it handles anything, readers hold it for reading.
	treeMu      sync.RWMutex
	tree        *tree.Tree
	sessions    map[int64]*session
	nextSession int64
	sinceSnap   int
	snapAt      int
	snapping    atomic.Bool

	wal *storage.Log
	rel releaser

	connMu sync.Mutex
	conns  map[*conn]struct{}
	perIP  map[string]int
	nextID int64

	stats serverStats
}

// New checks the configuration; Start does the work.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "coord"),
		reqs:     make(chan *request, 4096),
		calls:    make(chan func()),
		stopping: make(chan struct{}),
		failed:   make(chan error, 1),
		sessions: make(map[int64]*session),
		conns:    make(map[*conn]struct{}),
		perIP:    make(map[string]int),
	}
	s.rel.s = s
	s.x509 = s.cfg.verifiesClientCerts()
	s.stats.init()
	return s, nil
}

// Start recovers state from the data directories, opens the log and binds
// the client port. When it returns nil the server is serving.
func (s *Server) Start() error {
	s.started = time.Now()
	wal, err := storage.Open(storage.Options{
		FS:           s.cfg.FS,
		Dir:          s.cfg.DataLogDir,
		SnapDir:      s.cfg.DataDir,
		NoSync:       !s.cfg.ForceSync,
		OnDurable:    s.rel.advance,
		PreallocSize: s.cfg.PreAllocSize,
		// A failed fsync stops the log for good (retrying could claim
		// durability it doesn't have); the server stops with it rather
		// than leave writers waiting forever. ZooKeeper exits likewise.
		OnFailure: s.fatal,
		Logger:    s.log,
	})
	if err != nil {
		return fmt.Errorf("open transaction log in %s: %w", s.cfg.DataLogDir, err)
	}
	t := tree.New()
	last, err := wal.Recover(func(zxid int64, r io.Reader) error {
		if r == nil {
			return nil // no snapshot yet: start from an empty tree
		}
		loaded, err := tree.ReadSnapshot(r)
		if err != nil {
			return fmt.Errorf("snapshot %#x: %w", zxid, err)
		}
		t = loaded
		return nil
	}, func(zxid int64, rec []byte) error {
		return t.Replay(rec)
	})
	if err != nil {
		wal.Close()
		return fmt.Errorf("recover from %s: %w", s.cfg.DataLogDir, err)
	}
	s.tree, s.wal = t, wal
	s.rel.durable = t.LastZxid()
	now := time.Now()
	for _, id := range t.Sessions() {
		ms, _, _ := t.Session(id)
		to := time.Duration(ms) * time.Millisecond
		// Every session gets its whole timeout to find us again.
		s.sessions[id] = &session{timeout: to, deadline: now.Add(to)}
	}
	s.snapAt = s.nextSnapAt()
	s.log.Info("recovered", "zxid", hexID(last), "nodes", t.Stats().Nodes, "sessions", len(s.sessions))

	if err := s.listen(); err != nil {
		wal.Close()
		return err
	}
	if s.cfg.AdminAddress != "" {
		s.admin, err = startAdmin(s, s.cfg.AdminAddress)
		if err != nil {
			s.closeListeners()
			wal.Close()
			return err
		}
	}
	s.wg.Add(1)
	go s.process()
	attrs := []any{"data_dir", s.cfg.DataDir, "tick", s.cfg.TickTime.String(), "force_sync", s.cfg.ForceSync}
	if s.ln != nil {
		s.wg.Add(1)
		go s.accept(s.ln, nil)
		attrs = append(attrs, "client_address", s.ln.Addr().String())
	}
	if s.sln != nil {
		s.wg.Add(1)
		go s.accept(s.sln, s.cfg.TLS)
		attrs = append(attrs, "secure_client_address", s.sln.Addr().String(), "client_auth", clientAuthName(s.cfg.TLS.ClientAuth))
	}
	s.log.Info("serving", attrs...)
	return nil
}

// listen binds the plaintext and secure client ports that are configured.
func (s *Server) listen() error {
	if s.cfg.ClientAddress != "" {
		ln, err := net.Listen("tcp", s.cfg.ClientAddress)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", s.cfg.ClientAddress, err)
		}
		s.ln = ln
	}
	if s.cfg.SecureClientAddress != "" {
		ln, err := net.Listen("tcp", s.cfg.SecureClientAddress)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen on secure client address %s: %w", s.cfg.SecureClientAddress, err)
		}
		s.sln = ln
	}
	return nil
}

func (s *Server) closeListeners() {
	if s.ln != nil {
		s.ln.Close()
	}
	if s.sln != nil {
		s.sln.Close()
	}
}

// Addr is the bound plaintext client address (useful with port 0), or nil
// when only a secure client port is served.
func (s *Server) Addr() *net.TCPAddr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr().(*net.TCPAddr)
}

// SecureAddr is the bound secure (TLS) client address, or nil without one.
func (s *Server) SecureAddr() *net.TCPAddr {
	if s.sln == nil {
		return nil
	}
	return s.sln.Addr().(*net.TCPAddr)
}

// clientPort is the port conf reports: the plaintext one, or the secure
// one when that is all there is.
func (s *Server) clientPort() int {
	if a := s.Addr(); a != nil {
		return a.Port
	}
	if a := s.SecureAddr(); a != nil {
		return a.Port
	}
	return 0
}

// AdminAddr is the bound admin address, or nil.
func (s *Server) AdminAddr() net.Addr {
	if s.admin == nil {
		return nil
	}
	return s.admin.addr()
}

// Run serves until ctx is done or the server fails, then shuts down.
func (s *Server) Run(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.failed:
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close stops serving: no new connections, every connection closed, the
// processor stopped and the log flushed and closed. Sessions survive in
// the log, so a restart gives clients their timeout to come back.
func (s *Server) Close() error {
	var err error
	s.stopOnce.Do(func() {
		close(s.stopping)
		s.closeListeners()
		if s.admin != nil {
			s.admin.close()
		}
		s.connMu.Lock()
		for c := range s.conns {
			c.close()
		}
		s.connMu.Unlock()
		s.wg.Wait()
		for s.snapping.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		err = s.wal.Close()
		s.log.Info("stopped")
	})
	return err
}

// fatal stops the server after an error it cannot serve through (the log
// failed): nothing more is acknowledged.
func (s *Server) fatal(err error) {
	s.log.Error("coordination server failing", "err", err)
	select {
	case s.failed <- err:
	default:
	}
	go s.Close()
}

func (s *Server) submit(r *request) {
	if r.start.IsZero() {
		r.start = time.Now()
	}
	select {
	case s.reqs <- r:
	case <-s.stopping:
	}
}

// accept serves one client port; with tlsCfg every connection is wrapped
// in TLS, whose handshake the connection's reader runs (see tls.go).
func (s *Server) accept(ln net.Listener, tlsCfg *tls.Config) {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.stopping:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				delay = min(max(delay*2, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			s.log.Error("accept", "err", err)
			delay = min(max(delay*2, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		if tlsCfg != nil {
			nc = tls.Server(nc, tlsCfg)
		}
		c, ok := s.track(nc)
		if !ok {
			nc.Close()
			continue
		}
		s.wg.Add(2)
		go func() { defer s.wg.Done(); c.writeLoop() }()
		go func() { defer s.wg.Done(); c.readLoop() }()
	}
}

// track registers a new connection, enforcing maxClientCnxns per IP.
func (s *Server) track(nc net.Conn) (*conn, bool) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	s.nextID++
	c := newConn(s, nc, s.nextID)
	ip := c.remoteIP()
	if lim := s.cfg.MaxClientCnxns; lim > 0 && s.perIP[ip] >= lim {
		s.log.Warn("too many connections from one address", "ip", ip, "max", lim)
		return nil, false
	}
	s.perIP[ip]++
	s.conns[c] = struct{}{}
	return c, true
}

func (s *Server) untrack(c *conn) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if _, ok := s.conns[c]; !ok {
		return
	}
	delete(s.conns, c)
	ip := c.remoteIP()
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
}

// nextSnapAt randomizes the snapshot interval around SnapCount, as
// ZooKeeper does, so a fleet doesn't snapshot in lockstep.
func (s *Server) nextSnapAt() int {
	half := s.cfg.SnapCount / 2
	if half < 1 {
		return 1
	}
	return half + rand.IntN(half+1)
}

// snapshot serializes the tree in the processor (consistent, no locks)
// and writes it out in the background. One at a time; a snapshot due
// while another is still writing waits for the next interval.
func (s *Server) snapshot() {
	s.sinceSnap = 0
	s.snapAt = s.nextSnapAt()
	if !s.snapping.CompareAndSwap(false, true) {
		return
	}
	var buf bytes.Buffer
	if err := s.tree.WriteSnapshot(&buf); err != nil {
		s.snapping.Store(false)
		s.log.Error("serialize snapshot", "err", err)
		return
	}
	zxid := s.tree.LastZxid()
	go func() {
		defer s.snapping.Store(false)
		start := time.Now()
		err := s.wal.Snapshot(zxid, s.cfg.SnapRetainCount, func(w io.Writer) error {
			_, err := w.Write(buf.Bytes())
			return err
		})
		if err != nil {
			s.log.Error("write snapshot", "zxid", hexID(zxid), "err", err)
			return
		}
		s.log.Info("snapshot written", "zxid", hexID(zxid), "bytes", buf.Len(), "took", time.Since(start))
	}()
}
