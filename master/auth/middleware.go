package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Authenticator is the HTTP middleware: it establishes each request's
// Identity and refuses (401) requests that must be authenticated and are
// not.
type Authenticator struct {
	// Credentials are the known principals (nil: none).
	Credentials *Credentials
	// Required makes read-write requests (anything but GET/HEAD)
	// authenticated, as Mesos' --authenticate_http_readwrite and
	// --authenticate_frameworks do.
	Required bool
	// ReadOnly makes GET/HEAD requests authenticated as well (Mesos'
	// --authenticate_http_readonly).
	ReadOnly bool
	// Protected lists path prefixes whose GETs are authenticated like
	// read-write requests (the agent's /files/: sandboxes hold secrets).
	Protected []string
	// Open lists paths that never need authentication (/health, so load
	// balancers and `strata up` can probe).
	Open []string
	// Operator is the principal of the control socket's owner
	// (OperatorPrincipal when empty).
	Operator string
	// Realm is WWW-Authenticate's realm ("strata" when empty).
	Realm string
}

// OperatorPrincipal is the principal of the operator token and of the
// control socket's owner.
const OperatorPrincipal = "operator"

// errBadCredentials never says which part was wrong.
var errBadCredentials = errors.New("invalid credentials")

// Handler wraps next: every request reaching next carries an Identity
// (IdentityOf(r.Context())).
func (a *Authenticator) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Identify(r)
		if err != nil {
			a.Challenge(w, err.Error())
			return
		}
		if id.Principal == "" && a.needs(r) {
			a.Challenge(w, "authentication required: send Authorization: Bearer <token>")
			return
		}
		next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
	})
}

// needs reports whether r must come from a principal.
func (a *Authenticator) needs(r *http.Request) bool {
	for _, p := range a.Open {
		if r.URL.Path == p {
			return false
		}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		for _, p := range a.Protected {
			if strings.HasPrefix(r.URL.Path, p) {
				return a.Required || a.ReadOnly
			}
		}
		return a.ReadOnly
	}
	return a.Required
}

// Identify finds who r comes from. A presented credential must be valid
// (an error otherwise), even where authentication is optional: a wrong
// token is refused, never downgraded to anonymous.
func (a *Authenticator) Identify(r *http.Request) (Identity, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToLower(scheme) {
		case "bearer":
			if p, ok := a.Credentials.Token(rest); ok {
				return Identity{Principal: p, Method: Bearer}, nil
			}
			return Identity{}, errBadCredentials
		case "basic":
			raw, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return Identity{}, errBadCredentials
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if ok && a.Credentials.Basic(user, pass) {
				return Identity{Principal: user, Method: Basic}, nil
			}
			return Identity{}, errBadCredentials
		default:
			return Identity{}, fmt.Errorf("unsupported Authorization scheme %q: use Bearer or Basic", scheme)
		}
	}
	if pc, ok := PeerOf(r.Context()); ok && trustedPeer(pc) {
		op := a.Operator
		if op == "" {
			op = OperatorPrincipal
		}
		return Identity{Principal: op, Method: Peer}, nil
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		if cn := r.TLS.VerifiedChains[0][0].Subject.CommonName; cn != "" {
			return Identity{Principal: cn, Method: Certificate}, nil
		}
	}
	return Identity{}, nil
}

// Challenge answers 401 with a WWW-Authenticate header offering Bearer
// and Basic.
func (a *Authenticator) Challenge(w http.ResponseWriter, msg string) {
	realm := a.Realm
	if realm == "" {
		realm = "strata"
	}
	w.Header().Add("WWW-Authenticate", fmt.Sprintf("Bearer realm=%q", realm))
	w.Header().Add("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", realm))
	writeJSONError(w, http.StatusUnauthorized, msg)
}

// errorBody is Strata's JSON error body (DESIGN.md §4).
type errorBody struct {
	Message string   `json:"message"`
	Details []string `json:"details,omitempty"`
}

func writeJSONError(w http.ResponseWriter, status int, msg string, details ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorBody{Message: msg, Details: details})
}

// WriteError answers an authorization error: 403 for a *Denied (the body
// names the rule in message and details), 401 for an unauthenticated
// caller (ErrUnauthenticated), 500 otherwise.
func WriteError(w http.ResponseWriter, err error) {
	var d *Denied
	switch {
	case errors.As(err, &d):
		details := []string{"action: " + string(d.Action)}
		if d.Rule != "" {
			details = append(details, "rule: "+d.Rule)
		}
		writeJSONError(w, http.StatusForbidden, d.Error(), details...)
	case errors.Is(err, ErrUnauthenticated):
		(&Authenticator{}).Challenge(w, err.Error())
	default:
		writeJSONError(w, http.StatusInternalServerError, err.Error())
	}
}

// ErrUnauthenticated is returned by checks that need a principal and have
// none (e.g. an agent registering where --authenticate-agents is set).
var ErrUnauthenticated = errors.New("authentication required")

// WriteRateLimited answers 429 with Retry-After (whole seconds, at least 1).
func WriteRateLimited(w http.ResponseWriter, principal string, retry time.Duration) {
	secs := max(1, int((retry+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	who := "anonymous callers"
	if principal != "" {
		who = fmt.Sprintf("principal %q", principal)
	}
	writeJSONError(w, http.StatusTooManyRequests, fmt.Sprintf("rate limit of %s exceeded; retry in %v", who, retry.Round(time.Millisecond)))
}
