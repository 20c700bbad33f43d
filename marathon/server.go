package marathon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/client"
)

// Server is one `strata marathon` process: it always serves the REST API
// (proxying to the leader while it is not the leader) and, while coord
// elects it, runs the framework: the scheduler connection, the launch queue
// and the deployments.
type Server struct {
	cfg     Config
	log     *slog.Logger
	ln      net.Listener
	base    string // this process's API base URL
	events  *eventBus
	mux     *http.ServeMux
	started time.Time

	// elected is set while this process holds a term (even before its
	// state is loaded), so it never proxies to itself.
	elected atomic.Bool
	// leaderURL is the API base URL of the current leader ("" if none).
	leaderURL atomic.Pointer[string]
	metrics   metrics

	// mu guards st, the leader's state; nil while not leading.
	mu sync.Mutex
	st *leaderState

	runOnce  atomic.Bool
	abdicate chan struct{} // DELETE /v2/leader asks the leader loop to step down

	// sec is the API's security (auth.go); handler is route behind its
	// authentication middleware.
	sec     *auth.Server
	handler http.Handler
	// proxyTransport reaches an https leader (nil: plain HTTP).
	proxyTransport http.RoundTripper
}

// leaderInfo is what a marathon stores in its election node, for
// followers to proxy to and for /v2/leader.
type leaderInfo struct {
	Hostname string `json:"hostname"`
	Port     int    `json:"port"`
	Address  string `json:"address"`
	URL      string `json:"url"`
}

// Run starts a marathon with cfg and runs it until ctx ends.
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
		return nil, fmt.Errorf("marathon: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddress)
	if err != nil {
		return nil, fmt.Errorf("marathon: http-address: %w", err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	sec, err := loadSecurity(cfg, host)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("marathon: %w", err)
	}
	var proxyTransport http.RoundTripper
	if sec.TLS != nil {
		tc, err := proxyTLS(cfg)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("marathon: %w", err)
		}
		proxyTransport = &http.Transport{TLSClientConfig: tc, Proxy: nil, MaxIdleConnsPerHost: 16}
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
		events: newEventBus(), started: time.Now(), abdicate: make(chan struct{}, 1), sec: sec, proxyTransport: proxyTransport}
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
// another marathon takes over at once.
func (s *Server) Run(ctx context.Context) error {
	if s.runOnce.Swap(true) {
		return errors.New("marathon: Run called twice")
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
		return fmt.Errorf("marathon: %w", err)
	}
	defer ep.Close()
	zkURL, _ := coord.ParseURL(s.cfg.ZK)
	sess, err := coord.Dial(ctx, coord.Config{URL: zkURL, SessionTimeout: s.cfg.SessionTimeout, Logger: s.log, TLS: s.cfg.ZKTLS})
	if err != nil {
		return fmt.Errorf("marathon: zk %s: %w", zkURL.Redacted(), err)
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
			s.log.Error("marathon API stopped", "err", err)
			cancel()
		}
	}()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		s.events.close()
		_ = srv.Shutdown(sctx)
		if t, ok := s.proxyTransport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
	}()

	leaders, err := sess.WatchLeader(ctx, leaderGroup)
	if err != nil {
		return fmt.Errorf("marathon: watch leader: %w", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for l := range leaders {
			u := ""
			var li leaderInfo
			if l.Node != "" && json.Unmarshal(l.Info, &li) == nil {
				u = li.URL
			}
			s.leaderURL.Store(&u)
		}
	}()

	_, portText, _ := net.SplitHostPort(s.ln.Addr().String())
	port, _ := strconv.Atoi(portText)
	info, _ := json.Marshal(leaderInfo{Hostname: s.cfg.Hostname, Port: port,
		Address: net.JoinHostPort(s.cfg.Hostname, portText), URL: s.base})
	s.log.Info("marathon started", "api", s.base, "zk", zkURL.Redacted(), "master", ep.Display)
	for {
		abdicated, err := s.campaign(ctx, sess, info, ep.Options)
		if err != nil || !abdicated {
			return err
		}
		// Stand back a moment so another marathon takes the lead.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// errAbdicated ends a term on DELETE /v2/leader.
var errAbdicated = errors.New("leadership abdicated")

// campaign enters the election and leads each term it wins, until ctx
// ends or the leader abdicates; it resigns before returning so a successor
// takes over at once.
func (s *Server) campaign(ctx context.Context, sess *coord.Session, info []byte, opts client.Options) (abdicated bool, err error) {
	cand, err := sess.Elect(leaderGroup, info)
	if err != nil {
		return false, fmt.Errorf("marathon: elect: %w", err)
	}
	defer func() {
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		_ = cand.Resign(rctx)
	}()
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case term, ok := <-cand.Terms():
			if !ok {
				return false, nil
			}
			err := s.lead(ctx, term, opts)
			if errors.Is(err, errAbdicated) {
				return true, nil
			}
			if err != nil {
				return false, fmt.Errorf("marathon: %w", err)
			}
		}
	}
}

// ServeHTTP authenticates the caller (401 otherwise, see auth.go), then
// answers locally what every process knows and the rest on the leader:
// here when leading, else through a proxy to the leader.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.metrics.requests.Add(1)
	s.handler.ServeHTTP(w, r)
}

// route is ServeHTTP past authentication.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/ping", "/metrics", "/v2/info":
		s.serveLocal(w, r)
		return
	case "/v2/leader":
		if r.Method == http.MethodGet {
			s.serveLocal(w, r)
			return
		}
	}
	if s.elected.Load() {
		s.serveLocal(w, r)
		return
	}
	target := ""
	if p := s.leaderURL.Load(); p != nil {
		target = *p
	}
	if target == "" || target == s.base || r.Header.Get("X-Marathon-Via") != "" {
		writeError(w, http.StatusServiceUnavailable, "Could not determine the current leader")
		return
	}
	u, err := url.Parse(target)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "leader address "+target+": "+err.Error())
		return
	}
	// The caller's Authorization header goes along (Rewrite keeps every
	// end-to-end header), so the leader authenticates and authorizes the
	// same caller. A caller known here only by its TLS client certificate
	// arrives at the leader anonymous: such callers should call the leader.
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set("X-Marathon-Via", s.base)
		},
		Transport:     s.proxyTransport,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, http.StatusServiceUnavailable, "leader "+target+" unreachable: "+err.Error())
		},
	}
	w.Header().Set("X-Marathon-Leader", target)
	proxy.ServeHTTP(w, r)
}

// serveLocal answers r here, once its caller is authorized (403 in
// Marathon's shape otherwise) and within its --rate-limits (429).
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

// metrics are counters /metrics reports.
type metrics struct {
	requests       atomic.Int64
	launched       atomic.Int64
	killed         atomic.Int64
	failed         atomic.Int64
	offersDeclined atomic.Int64
	updates        atomic.Int64
	deployments    atomic.Int64
}
