package marathon

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/master/auth"
)

// This file is who may call marathon's REST API and what they may do,
// with the master's machinery (package auth) so operators learn one set
// of flags:
//
//   - Authentication: every request passes the auth middleware first. With
//     --authenticate auto (the default) it is required when the API listens
//     outside loopback. Like Marathon, /ping never needs it; reads (GET)
//     need it with --authenticate-http-readonly, as on the master.
//   - Authorization: --acls in Mesos' JSON with marathon's actions,
//     update_apps and view_apps, whose object "app_ids" is an app ID or a
//     group path (a value covers that path and everything under it, see
//     auth.ACLs). A write names the apps it touches; a list, the event
//     stream and leader abdication name the root group "/". The leader
//     decides: a follower only authenticates, then proxies the request with
//     its Authorization header, so the leader sees the same caller.
//   - A refusal is 403 in Marathon's error shape, {"message": "..."}, the
//     message naming the rule that denied.

// securityOpen are the paths no caller authenticates for: Marathon's
// /ping is the load balancers' probe.
var securityOpen = []string{"/ping"}

// loadSecurity reads cfg.Auth for a listener on host.
func loadSecurity(cfg Config, host string) (*auth.Server, error) {
	return cfg.Auth.LoadAPI(host, "marathon", securityOpen...)
}

// proxyTLS is how a follower reaches an https leader: the roots of
// --master-ca (the cluster's CA, usually) or the system's, plus the
// certificates of this marathon's own --tls-cert, so marathons sharing a
// certificate, or whose certificate file carries its CA, trust each other.
func proxyTLS(cfg Config) (*tls.Config, error) {
	var pool *x509.CertPool
	if cfg.MasterTLS != nil && cfg.MasterTLS.RootCAs != nil {
		pool = cfg.MasterTLS.RootCAs.Clone()
	} else {
		p, err := x509.SystemCertPool()
		if err != nil {
			p = x509.NewCertPool()
		}
		pool = p
	}
	if f := cfg.Auth.TLSCert; f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert: %w", err)
		}
		for rest := data; ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				pool.AddCert(c)
			}
		}
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// authorize decides whether r's caller may make it; nil or a
// *auth.Denied. It runs where the request is answered (the leader, or any
// process for what every process answers).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) error {
	if s.sec == nil || s.sec.ACLs == nil {
		return nil // no --acls: every authenticated caller may do everything
	}
	act, objects := s.objectsOf(w, r)
	if act == "" {
		return nil
	}
	return s.sec.ACLs.Check(act, auth.PrincipalOf(r.Context()), objects...)
}

// writeDenied answers a refusal in Marathon's error shape.
func writeDenied(w http.ResponseWriter, err error) {
	writeError(w, http.StatusForbidden, err.Error())
}

// rootGroup is the object of requests over every app.
const rootGroup = string(app.Root)

// objectsOf names the action r performs and the apps or groups it
// touches. No action means nothing to authorize (/ping, /v2/info,
// /metrics, GET /v2/leader, the empty pod and plugin lists). An object
// "" is Mesos' ANY request (a body whose IDs cannot be read: only rules
// for any app match it); the handler refuses such a body anyway.
func (s *Server) objectsOf(w http.ResponseWriter, r *http.Request) (auth.Action, []string) {
	path := r.URL.Path
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case path == "/ping" || path == "/metrics" || path == "/v2/info" || path == "/v2/plugins" ||
		path == "/v2/pods" || strings.HasPrefix(path, "/v2/pods/"):
		return "", nil
	case path == "/v2/leader":
		if read {
			return "", nil
		}
		return auth.UpdateApps, []string{rootGroup} // abdication moves every app's scheduler
	}
	if read {
		switch {
		case strings.HasPrefix(path, "/v2/apps/"):
			id, _, _ := splitAppPath(strings.TrimPrefix(path, "/v2/apps/"))
			return auth.ViewApps, []string{string(id)}
		case strings.HasPrefix(path, "/v2/groups/"):
			return auth.ViewApps, []string{string(appID(strings.TrimPrefix(path, "/v2/groups/")))}
		}
		// Lists and the event stream show every app.
		return auth.ViewApps, []string{rootGroup}
	}
	switch {
	case path == "/v2/apps":
		return auth.UpdateApps, appsOfBody(w, r)
	case strings.HasPrefix(path, "/v2/apps/"):
		id, _, _ := splitAppPath(strings.TrimPrefix(path, "/v2/apps/"))
		return auth.UpdateApps, []string{string(id)}
	case path == "/v2/groups" || strings.HasPrefix(path, "/v2/groups/"):
		return auth.UpdateApps, groupsOfBody(w, r)
	case strings.HasPrefix(path, "/v2/queue/"):
		raw := strings.TrimSuffix(strings.Trim(strings.TrimPrefix(path, "/v2/queue/"), "/"), "/delay")
		return auth.UpdateApps, []string{string(appID(raw))}
	case strings.HasPrefix(path, "/v2/deployments/"):
		return auth.UpdateApps, s.deploymentApps(strings.TrimPrefix(path, "/v2/deployments/"))
	case path == "/v2/tasks/delete":
		apps := s.taskApps(w, r)
		if apps == nil {
			return "", nil // no known task: nothing is killed, the handler answers
		}
		return auth.UpdateApps, apps
	}
	// A write this file does not know: only who may change every app.
	return auth.UpdateApps, []string{rootGroup}
}

// peekTimeout bounds how long authorization waits for a body, so a
// client trickling one cannot hold its connection here.
const peekTimeout = 10 * time.Second

// peekBody reads r's body (as much as the handlers read) and puts it back
// for them, the part read and whatever follows, so their own limits and
// checks see the body as sent. A body that does not arrive in time is
// read as far as it came (its IDs then cannot be read: an ANY request).
func peekBody(w http.ResponseWriter, r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(peekTimeout))
	b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err == nil {
		_ = rc.SetReadDeadline(time.Time{})
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	return b
}

// appsOfBody is POST /v2/apps' app, or the apps of PUT/PATCH /v2/apps'
// list.
func appsOfBody(w http.ResponseWriter, r *http.Request) []string {
	body := peekBody(w, r)
	if r.Method == http.MethodPost {
		// Decoded as the handler decodes it, so both see the same ID.
		a, err := app.DecodeApp(body, app.Root)
		if err != nil || a.ID == "" {
			return []string{""}
		}
		return []string{string(a.ID)}
	}
	var heads []struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &heads) != nil || len(heads) == 0 {
		return []string{""}
	}
	var out []string
	for _, h := range heads {
		if strings.TrimSpace(h.ID) == "" {
			return []string{""}
		}
		out = append(out, string(appID(h.ID)))
	}
	return out
}

// groupsOfBody is every group and app a /v2/groups write touches: the
// group the body defines with its sub-groups and apps and, for changes
// of the URL's group itself (DELETE, scaleBy, version) or a body that
// cannot be read, the URL's group.
func groupsOfBody(w http.ResponseWriter, r *http.Request) []string {
	base := app.Root
	if raw := strings.TrimPrefix(r.URL.Path, "/v2/groups"); strings.Trim(raw, "/") != "" {
		base = appID(raw)
	}
	if r.Method == http.MethodDelete {
		return []string{string(base)}
	}
	body := peekBody(w, r)
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return []string{string(base)}
	}
	var out []string
	if _, ok := keys["scaleBy"]; ok {
		out = append(out, string(base))
	} else if _, ok := keys["version"]; ok {
		out = append(out, string(base))
	}
	g, err := app.DecodeGroup(body, base)
	if err != nil {
		return append(out, string(base))
	}
	g.Walk(func(x *app.Group) {
		out = append(out, string(x.ID))
		for _, a := range x.Apps {
			if a != nil {
				out = append(out, string(a.ID))
			}
		}
	})
	return out
}

// deploymentApps are the apps a deployment changes. An unknown deployment
// (or none loaded yet) is the root group's business: only who may change
// every app learns that it does not exist.
func (s *Server) deploymentApps(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil || s.st.deployments[id] == nil {
		return []string{rootGroup}
	}
	out := s.st.deployments[id].Plan.AffectedApps()
	if len(out) == 0 {
		return []string{rootGroup}
	}
	return out
}

// taskApps are the apps of POST /v2/tasks/delete's tasks.
func (s *Server) taskApps(w http.ResponseWriter, r *http.Request) []string {
	var body struct {
		IDs []string `json:"ids"`
	}
	if json.Unmarshal(peekBody(w, r), &body) != nil {
		return []string{""}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range body.IDs {
		if s.st != nil {
			if i := s.st.instances[id]; i != nil {
				out = append(out, string(i.AppID))
			}
		}
	}
	if len(out) == 0 {
		return nil // nothing to kill; the handler answers
	}
	return out
}
