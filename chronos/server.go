package chronos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-dc/strata/chronos/core"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/client"
)

// Server is one `strata chronos` process: it always serves the REST API
// (redirecting to the leader while it does not lead, as Chronos does)
// and, while coord elects it, runs the framework.
type Server struct {
	cfg  Config
	log  *slog.Logger
	ln   net.Listener
	base string // this process's API base URL
	mux  *http.ServeMux

	// elected is set while this process holds a term, so it never
	// redirects to itself.
	elected atomic.Bool
	// leader is the current leader's leaderInfo ("" host if none).
	leader  atomic.Pointer[leaderInfo]
	metrics metrics
	wake    chan struct{}

	// mu guards st, the leader's state; nil while not leading.
	mu sync.Mutex
	st *leaderState

	runOnce atomic.Bool

	// sec is the API's security (auth.go); handler is route behind its
	// authentication middleware.
	sec     *auth.Server
	handler http.Handler
}

// leaderInfo is what a chronos stores in its election node, for
// followers to redirect to and for /v1/scheduler/leader.
type leaderInfo struct {
	Hostname string `json:"hostname"`
	Port     int    `json:"port"`
	Address  string `json:"address"` // host:port
	URL      string `json:"url"`
}

// Run starts a chronos with cfg and runs it until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// New checks cfg and opens the API listener (so Addr is known before Run).
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("chronos: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddress)
	if err != nil {
		return nil, fmt.Errorf("chronos: http-address: %w", err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	sec, err := loadSecurity(cfg, host)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("chronos: %w", err)
	}
	if cfg.Hostname == "" {
		cfg.Hostname = host
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			if h, err := os.Hostname(); err == nil {
				cfg.Hostname = h
			}
		}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, ln: sec.Listener(ln), base: sec.Scheme() + "://" + net.JoinHostPort(cfg.Hostname, port),
		wake: make(chan struct{}, 1), sec: sec}
	s.mux = s.routes()
	s.handler = sec.Handler(http.HandlerFunc(s.route))
	return s, nil
}

// Addr is the API's listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL is the API's base URL as advertised (the framework's webui_url).
func (s *Server) URL() string { return s.base }

// Leading reports whether this process leads and has loaded its state.
func (s *Server) Leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st != nil
}

// Run serves the API, campaigns for leadership in coord and runs the
// framework while leading, until ctx ends. A leader that stops resigns, so
// another chronos takes over at once.
func (s *Server) Run(ctx context.Context) error {
	if s.runOnce.Swap(true) {
		return errors.New("chronos: Run called twice")
	}
	defer s.ln.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	opts := client.Options{Logger: s.log, Timeout: 15 * time.Second, TLSConfig: s.cfg.MasterTLS, ZKTLS: s.cfg.ZKTLS}
	if s.cfg.Credential != nil {
		opts.Token = s.cfg.Credential.Secret.Reveal()
	}
	ep, err := client.Resolve(ctx, s.cfg.Master, opts)
	if err != nil {
		return fmt.Errorf("chronos: %w", err)
	}
	defer ep.Close()
	zkURL, _ := coord.ParseURL(s.cfg.ZK)
	sess, err := coord.Dial(ctx, coord.Config{URL: zkURL, SessionTimeout: s.cfg.SessionTimeout, Logger: s.log, TLS: s.cfg.ZKTLS})
	if err != nil {
		return fmt.Errorf("chronos: zk %s: %w", zkURL.Redacted(), err)
	}
	defer sess.Close()

	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	var wg sync.WaitGroup
	defer func() {
		cancel() // the goroutines below end with ctx (Run may return on an error)
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("chronos API stopped", "err", err)
			cancel()
		}
	}()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()

	leaders, err := sess.WatchLeader(ctx, leaderGroup)
	if err != nil {
		return fmt.Errorf("chronos: watch leader: %w", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for l := range leaders {
			li := &leaderInfo{}
			if l.Node == "" || json.Unmarshal(l.Info, li) != nil {
				li = &leaderInfo{}
			}
			s.leader.Store(li)
		}
	}()

	_, portText, _ := net.SplitHostPort(s.ln.Addr().String())
	port, _ := strconv.Atoi(portText)
	info, _ := json.Marshal(leaderInfo{Hostname: s.cfg.Hostname, Port: port,
		Address: net.JoinHostPort(s.cfg.Hostname, portText), URL: s.base})
	s.log.Info("chronos started", "api", s.base, "zk", zkURL.Redacted(), "master", ep.Display)
	for {
		err := s.campaign(ctx, sess, info, ep.Options)
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, errAbdicated) {
			return err
		}
		// This process gave leadership up after a failure of its own;
		// let another chronos take over, then stand again.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// errAbdicated: the leader ended its term itself (its state could not be
// written), resigned, and may stand again.
var errAbdicated = errors.New("chronos: leadership given up")

// campaign stands for election once and leads each term it is given,
// until ctx ends, a term ends by the leader's own failure (errAbdicated),
// or the framework fails for good.
func (s *Server) campaign(ctx context.Context, sess *coord.Session, info []byte, opts client.Options) error {
	cand, err := sess.Elect(leaderGroup, info)
	if err != nil {
		return fmt.Errorf("chronos: elect: %w", err)
	}
	defer func() {
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		_ = cand.Resign(rctx)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case term, ok := <-cand.Terms():
			if !ok {
				return nil
			}
			if err := s.lead(ctx, term, opts); err != nil {
				if errors.Is(err, errAbdicated) {
					return err
				}
				return fmt.Errorf("chronos: %w", err)
			}
		}
	}
}

// ServeHTTP authenticates the caller (401 otherwise, see auth.go) and
// answers the API here while leading; a follower redirects (307, keeping
// method and body) to the leader, as Chronos does, except for
// /v1/scheduler/leader, which every process answers. Clients re-send
// their Authorization header on a redirect to the same host only (Go's
// net/http, curl without --location-trusted); Strata's client keeps it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.metrics.requests.Add(1)
	s.handler.ServeHTTP(w, r)
}

// route is ServeHTTP past authentication.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if s.elected.Load() || r.URL.Path == "/v1/scheduler/leader" || r.URL.Path == "/ping" || r.URL.Path == "/metrics" {
		s.serveLocal(w, r)
		return
	}
	li := s.leader.Load()
	if li == nil || li.URL == "" || li.URL == s.base {
		writeError(w, http.StatusServiceUnavailable, "no chronos leads at the moment; try again shortly")
		return
	}
	target := li.URL + r.URL.RequestURI()
	http.Redirect(w, r, target, http.StatusTemporaryRedirect)
}

// serveLocal answers r here, once its caller is authorized (403
// otherwise) and within its --rate-limits (429).
func (s *Server) serveLocal(w http.ResponseWriter, r *http.Request) {
	if err := s.authorize(w, r); err != nil {
		writeDenied(w, err)
		return
	}
	if !s.sec.AllowWrite(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// metrics are counters /metrics reports, and the launch latency that
// `strata bench chronos` reads.
type metrics struct {
	requests atomic.Int64
	queued   atomic.Int64
	launched atomic.Int64
	started  atomic.Int64

	mu      sync.Mutex
	latency []time.Duration // scheduled instant → TASK_RUNNING, scheduled runs only
}

// observeStarted records, for a scheduled run that just started, how long
// after its instant it reached TASK_RUNNING.
func (s *Server) observeStarted(ds []core.Decision, taskID string, now time.Time) {
	for _, d := range ds {
		for _, w := range d.Writes {
			if w.Run != nil && w.Run.TaskID == taskID && w.Run.Kind == core.KindScheduled {
				s.metrics.started.Add(1)
				s.metrics.mu.Lock()
				if len(s.metrics.latency) < 1<<20 {
					s.metrics.latency = append(s.metrics.latency, now.Sub(w.Run.ScheduledAt))
				}
				s.metrics.mu.Unlock()
			}
		}
	}
}

// StartLatencies returns, for every scheduled run started while this
// process led, the time from its scheduled instant to TASK_RUNNING.
func (s *Server) StartLatencies() []time.Duration {
	s.metrics.mu.Lock()
	defer s.metrics.mu.Unlock()
	return append([]time.Duration(nil), s.metrics.latency...)
}
