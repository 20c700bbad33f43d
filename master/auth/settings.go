package auth

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/spf13/pflag"
)

// Settings are a daemon's security flags, shared by master, agent,
// marathon and chronos so operators learn them once. Register adds them to
// a command; Load turns them into a Server.
type Settings struct {
	// Authenticate is auto (""), true or false: auto requires
	// authentication when the TCP listener is not loopback.
	Authenticate string
	// NoAuthenticate is --no-authenticate, the same as
	// --authenticate=false.
	NoAuthenticate bool
	// AuthenticateReadOnly also authenticates GET /state, /metrics...
	// (Mesos' --authenticate_http_readonly).
	AuthenticateReadOnly bool
	// CredentialsFile is --credentials (Mesos' format, see LoadCredentials).
	CredentialsFile string
	// OperatorTokenFile holds one token for the principal "operator"
	// (what `strata up` generates); it adds to CredentialsFile.
	OperatorTokenFile string
	// ACLs and RateLimits are paths to (or the text of) Mesos' JSON.
	ACLs       string
	RateLimits string
	// TLSCert and TLSKey turn on TLS for the TCP listener; TLSClientCA
	// verifies client certificates against that CA (a certificate is
	// optional, and a verified one authenticates as its common name).
	TLSCert, TLSKey, TLSClientCA string
}

// Register adds the flags to fs with Strata's names.
func (s *Settings) Register(fs *pflag.FlagSet) {
	fs.StringVar(&s.Authenticate, "authenticate", "auto",
		"require authentication: auto (only when listening outside loopback), true or false; bare --authenticate means true")
	fs.Lookup("authenticate").NoOptDefVal = "true"
	fs.BoolVar(&s.NoAuthenticate, "no-authenticate", false, "same as --authenticate=false (anonymous callers allowed even outside loopback)")
	fs.BoolVar(&s.AuthenticateReadOnly, "authenticate-http-readonly", false, "also authenticate read-only GET endpoints (/state, /metrics...)")
	fs.StringVar(&s.CredentialsFile, "credentials", "", `principals and secrets: JSON {"credentials":[{"principal":"p","secret":"s"}]} or "principal secret" lines`)
	fs.StringVar(&s.OperatorTokenFile, "operator-token-file", "", `file holding the token of the principal "operator" (mode 0600)`)
	fs.StringVar(&s.ACLs, "acls", "", "ACLs in Mesos' JSON form (a path or the JSON itself)")
	fs.StringVar(&s.RateLimits, "rate-limits", "", `per-principal scheduler API limits, Mesos' JSON {"limits":[{"principal":"p","qps":10}]} (a path or the JSON)`)
	fs.StringVar(&s.TLSCert, "tls-cert", "", "PEM certificate: serve TCP with TLS")
	fs.StringVar(&s.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&s.TLSClientCA, "tls-client-ca", "", "PEM CA bundle verifying client certificates (a verified certificate authenticates as its CN)")
}

// Mode is the resolved --authenticate.
type Mode int

// Authentication modes.
const (
	ModeAuto Mode = iota
	ModeOn
	ModeOff
)

// ParseMode parses --authenticate.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return ModeAuto, nil
	case "true", "1", "yes", "on":
		return ModeOn, nil
	case "false", "0", "no", "off":
		return ModeOff, nil
	}
	return 0, fmt.Errorf("--authenticate: %q: want auto, true or false", s)
}

// IsLoopback reports whether a listen address (an IP or a host name) only
// reaches this machine. The unspecified address (0.0.0.0, ::) is not.
func IsLoopback(host string) bool {
	if host == "" || strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// Server is a daemon's loaded security: the middleware, ACLs, rate
// limiter and TLS configuration. A nil field means that part is off.
type Server struct {
	Settings    Settings
	Auth        *Authenticator
	Credentials *Credentials
	ACLs        *ACLs
	Limiter     *Limiter
	TLS         *tls.Config
	// Required is whether read-write requests must be authenticated.
	Required bool
}

// Load reads the files the settings name and resolves --authenticate for
// a TCP listener on listenIP. Authentication required with no credentials
// at all is an error: a daemon nobody can call is a misconfiguration.
func (s Settings) Load(listenIP string) (*Server, error) {
	mode, err := ParseMode(s.Authenticate)
	if err != nil {
		return nil, err
	}
	if s.NoAuthenticate {
		if mode == ModeOn {
			return nil, fmt.Errorf("--no-authenticate contradicts --authenticate=%s", s.Authenticate)
		}
		mode = ModeOff
	}
	srv := &Server{Settings: s, Credentials: &Credentials{}}
	if s.CredentialsFile != "" {
		c, err := LoadCredentials(s.CredentialsFile)
		if err != nil {
			return nil, fmt.Errorf("--credentials: %w", err)
		}
		srv.Credentials = c
	}
	if s.OperatorTokenFile != "" {
		tok, err := ReadTokenFile(s.OperatorTokenFile)
		if err != nil {
			return nil, fmt.Errorf("--operator-token-file: %w", err)
		}
		if err := srv.Credentials.Add(Credential{Principal: OperatorPrincipal, Secret: tok}); err != nil {
			return nil, fmt.Errorf("--operator-token-file: %w", err)
		}
	}
	switch mode {
	case ModeOn:
		srv.Required = true
	case ModeAuto:
		srv.Required = !IsLoopback(listenIP)
	}
	if srv.Required && srv.Credentials.Len() == 0 && s.TLSClientCA == "" {
		why := "--authenticate is on"
		if mode == ModeAuto {
			why = fmt.Sprintf("listening on %s (not loopback) requires authentication", listenIP)
		}
		return nil, fmt.Errorf("%s but no principal is known: pass --credentials, --operator-token-file or --tls-client-ca (or --authenticate=false to accept anonymous callers)", why)
	}
	if s.AuthenticateReadOnly && srv.Credentials.Len() == 0 {
		return nil, fmt.Errorf("--authenticate-http-readonly needs --credentials or --operator-token-file")
	}
	if s.ACLs != "" {
		if srv.ACLs, err = LoadACLs(s.ACLs); err != nil {
			return nil, fmt.Errorf("--acls: %w", err)
		}
	}
	if s.RateLimits != "" {
		rl, err := LoadRateLimits(s.RateLimits)
		if err != nil {
			return nil, fmt.Errorf("--rate-limits: %w", err)
		}
		srv.Limiter = NewLimiter(rl, nil)
	}
	if srv.TLS, err = ServerTLS(s.TLSCert, s.TLSKey, s.TLSClientCA); err != nil {
		return nil, err
	}
	srv.Auth = &Authenticator{Credentials: srv.Credentials, Required: srv.Required, ReadOnly: s.AuthenticateReadOnly,
		Open: []string{"/health", "/master/health"}}
	return srv, nil
}

// LoadAPI is Load for a framework's REST API (marathon, chronos): realm
// names it in WWW-Authenticate, and open are the paths no caller needs
// to authenticate for (the load balancers' probe).
func (s Settings) LoadAPI(listenIP, realm string, open ...string) (*Server, error) {
	srv, err := s.Load(listenIP)
	if err != nil {
		return nil, err
	}
	srv.Auth.Open = open
	srv.Auth.Realm = realm
	return srv, nil
}

// AllowWrite applies --rate-limits to a write (anything but GET and
// HEAD) by r's principal: over the limit it answers 429 and reports false.
func (s *Server) AllowWrite(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	p := PrincipalOf(r.Context())
	if ok, retry := s.Limiter.Allow(p); !ok {
		WriteRateLimited(w, p, retry)
		return false
	}
	return true
}

// Handler wraps h in the authentication middleware.
func (s *Server) Handler(h http.Handler) http.Handler { return s.Auth.Handler(h) }

// Listener wraps a TCP listener in TLS when it is configured; the
// control socket is never wrapped (its peer is known to the kernel).
func (s *Server) Listener(l net.Listener) net.Listener {
	if s.TLS == nil {
		return l
	}
	return tls.NewListener(l, s.TLS)
}

// Scheme is the TCP listener's URL scheme.
func (s *Server) Scheme() string {
	if s.TLS != nil {
		return "https"
	}
	return "http"
}

// Flags lists the settings for GET_FLAGS in Mesos' snake_case names.
// Only paths and modes appear; the secrets they lead to never do.
func (s *Server) Flags() [][2]string {
	st := s.Settings
	mode := st.Authenticate
	if mode == "" {
		mode = "auto"
	}
	if st.NoAuthenticate {
		mode = "false"
	}
	out := [][2]string{
		{"authenticate", mode},
		{"authenticate_http_readwrite", fmt.Sprint(s.Required)},
		{"authenticate_http_readonly", fmt.Sprint(st.AuthenticateReadOnly)},
	}
	for _, f := range [][2]string{{"credentials", st.CredentialsFile}, {"operator_token_file", st.OperatorTokenFile},
		{"acls", st.ACLs}, {"rate_limits", st.RateLimits}, {"tls_cert", st.TLSCert}, {"tls_key", st.TLSKey},
		{"tls_client_ca", st.TLSClientCA}} {
		if f[1] != "" {
			out = append(out, [2]string{f[0], RedactFlag(f[0], f[1])})
		}
	}
	return out
}
