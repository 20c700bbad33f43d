package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Paths and headers of the Mesos v1 HTTP API.
const (
	schedulerPath  = "/api/v1/scheduler"
	operatorPath   = "/api/v1"
	contentJSON    = "application/json"
	headerStreamID = "Mesos-Stream-Id"
	userAgent      = "strata-client"

	// maxRedirects bounds a chain of standbys pointing at each other while
	// an election settles.
	maxRedirects = 5
)

// unixHostSuffix marks the made-up host names that stand for Unix sockets
// in request URLs; ".invalid" can never resolve, so such a name can only
// ever reach the socket.
const unixHostSuffix = ".sock.invalid"

// transport sends requests to masters over TCP, TLS, a Unix socket or a
// caller's dialer, following redirects itself so it can re-send the body,
// keep the token and report where the request landed.
type transport struct {
	client  *http.Client
	rt      *http.Transport
	dialer  net.Dialer
	custom  func(ctx context.Context, network, addr string) (net.Conn, error)
	token   string
	timeout time.Duration

	mu          sync.Mutex
	socketHosts map[string]string // socket path -> made-up host
	hostSockets map[string]string // made-up host -> socket path
}

func newTransport(o Options) *transport {
	t := &transport{
		dialer:      net.Dialer{Timeout: o.Timeout, KeepAlive: 15 * time.Second},
		custom:      o.DialContext,
		token:       o.Token,
		timeout:     o.Timeout,
		socketHosts: map[string]string{},
		hostSockets: map[string]string{},
	}
	var tlsConfig = o.TLSConfig
	if tlsConfig != nil {
		tlsConfig = tlsConfig.Clone()
	}
	t.rt = &http.Transport{
		// No proxy: masters are cluster-internal, and a proxy could not
		// reach a Unix socket anyway.
		Proxy:               nil,
		DialContext:         t.dial,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: o.Timeout,
		MaxIdleConnsPerHost: 16, // a busy scheduler sends calls concurrently
		IdleConnTimeout:     90 * time.Second,
	}
	t.client = &http.Client{
		Transport: t.rt,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // send follows redirects itself
		},
	}
	return t
}

// close drops idle connections; connections still in use end with their
// requests' contexts.
func (t *transport) close() { t.rt.CloseIdleConnections() }

// dial routes made-up Unix hosts to their sockets, and everything else to
// the caller's dialer or TCP.
func (t *transport) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.HasSuffix(host, unixHostSuffix) {
		t.mu.Lock()
		path, ok := t.hostSockets[host]
		t.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("no Unix socket registered for %s", host)
		}
		return t.dialer.DialContext(ctx, "unix", path)
	}
	if t.custom != nil {
		return t.custom(ctx, network, addr)
	}
	return t.dialer.DialContext(ctx, network, addr)
}

// parseBase turns a master address into the base URL requests are built
// on. A Unix socket becomes http://<made-up host>, which dial maps back to
// the socket.
func (t *transport) parseBase(addr string) (*url.URL, error) {
	s := strings.TrimSpace(addr)
	if s == "" {
		return nil, errors.New("master address is empty")
	}
	if !strings.Contains(s, "://") && !strings.HasPrefix(s, "unix:") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("master address %q: %w", addr, err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("master address %q has no host", addr)
		}
		if u.User != nil {
			return nil, fmt.Errorf("master address %q: credentials in the URL are not supported; use a token", addr)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("master address %q: a base URL takes no query or fragment", addr)
		}
		return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimRight(u.Path, "/")}, nil
	case "unix":
		path := u.Path
		if u.Opaque != "" {
			path = u.Opaque // unix:relative/master.sock
		} else if u.Host != "" {
			path = u.Host + u.Path // unix://relative/master.sock
		}
		if path == "" {
			return nil, fmt.Errorf("master address %q names no socket", addr)
		}
		return &url.URL{Scheme: "http", Host: t.socketHost(path)}, nil
	case "zk":
		return nil, fmt.Errorf("master address %q names a coord ensemble, not a master: detect the leader with coord and pass a Detector (see Follow and MasterInfoURL)", addr)
	case "ssh":
		return nil, fmt.Errorf("master address %q: reach a master over ssh with a DialContext that runs `strata dial-stdio` on the far side", addr)
	}
	return nil, fmt.Errorf("master address %q: unsupported scheme %q (want http, https or unix)", addr, u.Scheme)
}

// socketHost returns the made-up host standing for a socket path, the same
// one every time for the same path.
func (t *transport) socketHost(path string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h, ok := t.socketHosts[path]; ok {
		return h
	}
	h := fmt.Sprintf("unix-%d%s", len(t.socketHosts)+1, unixHostSuffix)
	t.socketHosts[path] = h
	t.hostSockets[h] = path
	return h
}

// displayURL shows a URL the way the user gave it: a made-up Unix host is
// shown as its socket.
func (t *transport) displayURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	if strings.HasSuffix(u.Hostname(), unixHostSuffix) {
		t.mu.Lock()
		path := t.hostSockets[u.Hostname()]
		t.mu.Unlock()
		return "unix://" + path + u.Path
	}
	return u.String()
}

// request is one HTTP exchange with a master.
type request struct {
	method   string
	url      *url.URL
	body     []byte // nil for GET
	streamID string // Mesos-Stream-Id, for scheduler calls
	follow   bool   // follow 307/308 to the leader
}

// send performs req and returns the response (whose body the caller must
// close) and the URL that answered it. Redirects are followed here rather
// than by net/http so that the body is re-sent, the token survives a move to
// another master (but never a downgrade from https), and the caller learns
// the leader's address.
func (t *transport) send(ctx context.Context, req request) (*http.Response, *url.URL, error) {
	u := req.url
	token := t.token
	for hop := 0; ; hop++ {
		var body *bytes.Reader
		if req.body != nil {
			body = bytes.NewReader(req.body)
		}
		hreq, err := newHTTPRequest(ctx, req.method, u, body)
		if err != nil {
			return nil, u, err
		}
		hreq.Header.Set("Accept", contentJSON)
		hreq.Header.Set("User-Agent", userAgent)
		if req.body != nil {
			hreq.Header.Set("Content-Type", contentJSON)
		}
		if req.streamID != "" {
			hreq.Header.Set(headerStreamID, req.streamID)
		}
		if token != "" {
			hreq.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := t.client.Do(hreq)
		if err != nil {
			return nil, u, err
		}
		if !req.follow || (resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect) {
			return resp, u, nil
		}
		loc := resp.Header.Get("Location")
		drainClose(resp.Body)
		if loc == "" {
			return nil, u, fmt.Errorf("%s answered %d without a Location", t.displayURL(u), resp.StatusCode)
		}
		if hop >= maxRedirects {
			return nil, u, fmt.Errorf("more than %d redirects, last to %s", maxRedirects, loc)
		}
		next, err := u.Parse(loc) // Mesos sends scheme-relative "//host:port/path"
		if err != nil {
			return nil, u, fmt.Errorf("redirect from %s to %q: %w", t.displayURL(u), loc, err)
		}
		if next.Scheme != "http" && next.Scheme != "https" {
			return nil, u, fmt.Errorf("redirect from %s to unsupported %q", t.displayURL(u), loc)
		}
		if u.Scheme == "https" && next.Scheme == "http" {
			token = ""
		}
		u = next
	}
}

// newHTTPRequest avoids handing net/http a typed-nil body.
func newHTTPRequest(ctx context.Context, method string, u *url.URL, body *bytes.Reader) (*http.Request, error) {
	if body == nil {
		return http.NewRequestWithContext(ctx, method, u.String(), nil)
	}
	return http.NewRequestWithContext(ctx, method, u.String(), body)
}

// endpoint joins a base URL and an API path.
func endpoint(base *url.URL, path string) *url.URL {
	u := *base
	u.Path = base.Path + path
	return &u
}

// baseOf recovers the base URL from the URL that answered a request for
// path, i.e. the leader's base after redirects.
func baseOf(final *url.URL, path string) *url.URL {
	return &url.URL{Scheme: final.Scheme, Host: final.Host, Path: strings.TrimSuffix(final.Path, path)}
}

// withTimeout bounds a synchronous call by the configured timeout.
func (t *transport) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, t.timeout)
}

// isDialError reports whether err happened before anything was sent, so
// trying another master cannot run a call twice.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
