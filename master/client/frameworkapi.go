package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// The bundled frameworks' REST APIs (Marathon's /v2, Chronos'
// /v1/scheduler) are reached the way an operator reaches the master: by
// default through the master, which knows each framework's webui_url
// (GET_FRAMEWORKS), or at an address given with --marathon / --chronos in
// the same forms as --master:
//
//	""                               the webui_url of the active framework of that name
//	http(s)://host:port              the API itself
//	host:port                        as http://
//	unix:///path/api.sock            a Unix socket serving the API
//	ssh://[user@]host[:port][/H:P]   H:P (default the framework's default
//	                                 address) dialled on the far side through
//	                                 `strata dial-stdio --tcp`
//
// When the master itself is reached over ssh://, a discovered webui_url is
// dialled on the far side too, since it names the far side's loopback.

// Doc is an API answer: the decoded Value and the document as the server
// sent it. It marshals as the document, so -o json prints exactly what
// the API answered, unknown fields included.
type Doc[T any] struct {
	Value T
	Raw   json.RawMessage
}

// MarshalJSON returns the document as sent (or Value when there is none).
func (d Doc[T]) MarshalJSON() ([]byte, error) {
	if len(bytes.TrimSpace(d.Raw)) > 0 {
		return d.Raw, nil
	}
	return json.Marshal(d.Value)
}

// ErrNoFramework: the master knows no active framework of that name (or
// it advertises no webui_url), so its API cannot be found that way.
var ErrNoFramework = errors.New("framework not registered with the master")

// FrameworkURL returns the webui_url of the active framework called name
// (an inactive one, failing over, only if no active one has a URL).
func FrameworkURL(fws *mesos.GetFrameworks, name string) (string, error) {
	if fws == nil {
		return "", fmt.Errorf("%s: %w", name, ErrNoFramework)
	}
	var fallback string
	for _, f := range fws.Frameworks {
		if f.FrameworkInfo == nil || f.FrameworkInfo.Name != name || f.FrameworkInfo.WebUIURL == "" {
			continue
		}
		if f.Active {
			return strings.TrimRight(f.FrameworkInfo.WebUIURL, "/"), nil
		}
		if fallback == "" {
			fallback = strings.TrimRight(f.FrameworkInfo.WebUIURL, "/")
		}
	}
	if fallback != "" {
		return fallback, nil
	}
	return "", fmt.Errorf("%s: %w (is it running? or pass its address)", name, ErrNoFramework)
}

// FrameworkEndpoint says where a framework's API is and how to dial it.
type FrameworkEndpoint struct {
	// URL is the API's base URL ("unix:///…" for a socket).
	URL string
	// Options carry the dialer (ssh) and the token; Master is unused.
	Options Options
	// Display is the address as the user should see it.
	Display string
}

// ResolveFramework finds the API of framework name (e.g. "marathon"):
// at addr when given (the forms above), else through the master op
// answers for (GET_FRAMEWORKS); master is the resolved --master, whose
// ssh transport and token are reused. defaultAddr is the framework's own
// default listen address, used by ssh:// addresses without one.
func ResolveFramework(ctx context.Context, op *Operator, master *Endpoint, name, addr, defaultAddr string) (*FrameworkEndpoint, error) {
	base := Options{}
	if master != nil {
		base = master.AgentOptions()
	}
	// The operator token is the master's; a framework's API is not sent it.
	base.Token = ""
	addr = strings.TrimSpace(addr)
	if addr == "" {
		if op == nil {
			return nil, fmt.Errorf("%s: no master to ask and no address given", name)
		}
		fws, err := op.GetFrameworks(ctx)
		if err != nil {
			return nil, fmt.Errorf("find %s through the master: %w", name, err)
		}
		u, err := FrameworkURL(fws, name)
		if err != nil {
			return nil, err
		}
		return &FrameworkEndpoint{URL: u, Options: base, Display: u}, nil
	}
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		scheme = ""
	}
	switch scheme {
	case "", "http", "https", "unix":
		// A bare host:port, URL or socket; the ssh dialer (if the master
		// is reached over ssh) is not used for an explicit address.
		base.DialContext = nil
		t := newTransport(base.withDefaults())
		if _, err := t.parseBase(addr); err != nil {
			return nil, badAddress{fmt.Errorf("--%s: %w", name, err)}
		}
		return &FrameworkEndpoint{URL: addr, Options: base, Display: addr}, nil
	case "ssh":
		target, hostPort := rest, defaultAddr
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			target, hostPort = rest[:i], strings.Trim(rest[i+1:], "/")
			if hostPort == "" {
				hostPort = defaultAddr
			}
		}
		t, err := ParseSSH("ssh://" + target)
		if err != nil {
			return nil, badAddress{fmt.Errorf("--%s: %w", name, err)}
		}
		if _, err := url.Parse("http://" + hostPort); err != nil || !strings.Contains(hostPort, ":") {
			return nil, badAddress{fmt.Errorf("--%s %q: want ssh://[user@]host[:port][/host:port]", name, addr)}
		}
		base.DialContext = t.Dialer()
		return &FrameworkEndpoint{URL: "http://" + hostPort, Options: base, Display: t.String() + "/" + hostPort}, nil
	}
	return nil, badAddress{fmt.Errorf("--%s %q: unsupported scheme %q (want http, https, unix or ssh)", name, addr, scheme)}
}

// restClient is the HTTP plumbing the Marathon and Chronos clients share:
// the master client's transport (Unix sockets, ssh, TLS, the token), JSON
// bodies, redirects to a leader followed, and errors as *APIError with
// the server's message and the fields it names.
type restClient struct {
	t    *transport
	base *url.URL
	name string // "marathon", for messages
}

func newRESTClient(name, addr string, opts Options) (*restClient, error) {
	opts = opts.withDefaults()
	t := newTransport(opts)
	base, err := t.parseBase(addr)
	if err != nil {
		return nil, fmt.Errorf("%s client: %w", name, err)
	}
	return &restClient{t: t, base: base, name: name}, nil
}

func (c *restClient) close() { c.t.close() }

// addr is the API's address as given.
func (c *restClient) addr() string { return c.t.displayURL(c.base) }

// url builds the URL of path (already escaped) with query.
func (c *restClient) url(path string, q url.Values) *url.URL {
	u := endpoint(c.base, path)
	u.RawPath = u.Path
	if p, err := url.PathUnescape(u.Path); err == nil {
		u.Path = p
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u
}

// do sends one request and returns the answer's body (nil for 204) and
// status; non-2xx answers become *APIError.
func (c *restClient) do(ctx context.Context, method, path string, q url.Values, body []byte) ([]byte, int, http.Header, error) {
	ctx, cancel := c.t.withTimeout(ctx)
	defer cancel()
	what := c.name + " " + method + " " + path
	resp, final, err := c.t.send(ctx, request{method: method, url: c.url(path, q), body: body, follow: true})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%s at %s: %w", what, c.t.displayURL(final), err)
	}
	if resp.StatusCode/100 != 2 {
		e := readAPIError(resp, what, c.t.displayURL(final), false)
		// Details the message already says are dropped, so the one-line
		// error says each thing once.
		var details []string
		for _, d := range readableDetails(e.Details) {
			if !strings.Contains(e.Message, d) {
				details = append(details, d)
			}
		}
		e.Details = details
		return nil, resp.StatusCode, resp.Header, e
	}
	defer drainClose(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, resp.StatusCode, resp.Header, fmt.Errorf("%s: read answer from %s: %w", what, c.t.displayURL(final), err)
	}
	return b, resp.StatusCode, resp.Header, nil
}

// getDoc GETs path and decodes it into a Doc.
func getDoc[T any](ctx context.Context, c *restClient, path string, q url.Values) (Doc[T], error) {
	var d Doc[T]
	b, _, _, err := c.do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d.Value); err != nil {
		return d, fmt.Errorf("%s GET %s: decode answer: %w", c.name, path, err)
	}
	d.Raw = json.RawMessage(b)
	return d, nil
}

// readableDetails turns the error details Marathon ({"path", "errors"})
// and Chronos ({"Field", "Message"}) send as objects into "field: message"
// strings, so the CLI's one-line error names the field.
func readableDetails(details []string) []string {
	for i, d := range details {
		var m struct {
			Path    string   `json:"path"`
			Errors  []string `json:"errors"`
			Field   string   `json:"field"`
			Message string   `json:"message"`
		}
		if !strings.HasPrefix(d, "{") || json.Unmarshal([]byte(d), &m) != nil {
			continue
		}
		switch {
		case m.Path != "" || len(m.Errors) > 0:
			details[i] = strings.TrimSpace(m.Path + ": " + strings.Join(m.Errors, ", "))
		case m.Field != "" || m.Message != "":
			details[i] = strings.TrimSpace(m.Field + ": " + m.Message)
		}
	}
	return details
}

// escapePath escapes each segment of an app id or job name for a URL path,
// keeping the slashes of app ids.
func escapePath(id string) string {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
