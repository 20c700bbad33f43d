package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/mesos"
)

// This file is the agent's share of package auth: its API is
// authenticated like the master's (required outside loopback, the control
// socket trusting its owner), sandbox reads are authorized by
// access_sandboxes, it presents its own credential to the master, and it
// refuses tasks that would run as root unless allowed.

// secure loads cfg.Auth for the TCP listener and wraps it in TLS when
// configured.
func (a *Agent) secure(tcp net.Listener) (net.Listener, error) {
	sec, err := a.cfg.Auth.Load(a.cfg.IP)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	sec.Auth.Protected = []string{"/files/"}
	a.sec = sec
	return sec.Listener(tcp), nil
}

// handler is the agent's API behind the authentication middleware.
func (a *Agent) handler() http.Handler {
	if a.sec == nil { // an Agent built without New (tests of parts)
		return a.mux()
	}
	return a.sec.Handler(a.mux())
}

// sandboxGuard authorizes reads of sandboxes (access_sandboxes, the object
// being the user the task runs as) before the files API serves them.
func (a *Agent) sandboxGuard(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// A query that does not parse is refused rather than read with
		// its bad parts dropped.
		if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
			writeError(w, http.StatusBadRequest, "query: "+err.Error())
			return
		}
		if err := a.authorizeSandbox(r, r.URL.Query().Get("path")); err != nil {
			auth.WriteError(w, err)
			return
		}
		next(w, r)
	}
}

// operatorGuard authorizes the operator API's LIST_FILES and READ_FILE the
// same way; the body is read once and handed on unchanged.
func (a *Agent) operatorGuard(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.sec == nil || a.sec.ACLs == nil {
			next(w, r)
			return
		}
		body, ok := a.readCallBody(w, r)
		if !ok {
			return
		}
		var call mesos.AgentOperatorCall
		if json.Unmarshal(body, &call) == nil {
			p := ""
			switch {
			case call.Type == mesos.OperatorListFiles && call.ListFiles != nil:
				p = call.ListFiles.Path
			case call.Type == mesos.OperatorReadFile && call.ReadFile != nil:
				p = call.ReadFile.Path
			}
			if p != "" {
				if err := a.authorizeSandbox(r, p); err != nil {
					auth.WriteError(w, err)
					return
				}
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r)
	}
}

// authorizeSandbox checks access_sandboxes for the sandbox holding p. A
// path that does not resolve is left to the files API to refuse.
func (a *Agent) authorizeSandbox(r *http.Request, p string) error {
	if a.sec == nil || a.sec.ACLs == nil || p == "" {
		return nil
	}
	sp, err := a.resolveFile(p)
	if err != nil {
		return nil
	}
	return a.sec.ACLs.Check(auth.AccessSandboxes, auth.PrincipalOf(r.Context()), a.sandboxUser(sp.sandbox))
}

// sandboxUser is the user a sandbox's task runs as: its command's user or
// its framework's, as Mesos names the executor's user; failing that, the
// sandbox directory's owner.
func (a *Agent) sandboxUser(sandbox string) string {
	container := filepath.Base(sandbox)
	a.mu.Lock()
	rec := a.tasks[container]
	u := ""
	if rec != nil {
		if rec.Task.Command != nil {
			u = rec.Task.Command.User
		}
		if u == "" {
			u = a.frameworks[rec.FrameworkID].User
		}
	}
	a.mu.Unlock()
	if u != "" {
		return u
	}
	if fi, err := os.Stat(sandbox); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			return userName(st.Uid)
		}
	}
	return ""
}

// refuseRoot stops a task that would run as root unless the agent allows
// it (`strata agent --allow-root-tasks`). The user is the one the
// supervisor would switch to, or the agent's own when it does not switch.
// A user the host does not know is left to fail the launch as before.
func (a *Agent) refuseRoot(spec supervise.Spec) error {
	if !a.cfg.RefuseRootTasks {
		return nil
	}
	uid := os.Getuid()
	name := spec.User
	if name != "" {
		u, err := user.Lookup(name)
		if err != nil {
			return nil
		}
		n, err := strconv.Atoi(u.Uid)
		if err != nil {
			return nil
		}
		uid = n
	}
	if uid != 0 {
		return nil
	}
	if name == "" {
		return fmt.Errorf("the task would run as root (the agent's own user; it runs without --switch-user or the task names no user): refused; start the agent with --allow-root-tasks to allow it")
	}
	return fmt.Errorf("the task would run as root (user %q): refused; start the agent with --allow-root-tasks to allow it", name)
}

// masterScheme is how masters are reached: https when MasterTLS is set.
func (a *Agent) masterScheme() string {
	if a.cfg.MasterTLS != nil {
		return "https"
	}
	return "http"
}

// masterClient is the HTTP client for calls to masters: MasterTLS for
// https, and the agent's credential as a bearer token on every request,
// redirects to the leader included (http.Client drops Authorization
// when a redirect changes host, which is exactly a standby's redirect),
// but never on a plain-http request when the agent was told to use TLS.
func (a *Agent) masterClient(timeout time.Duration) *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = a.cfg.MasterTLS
	var rt http.RoundTripper = base
	if a.cfg.Credential != nil {
		rt = &bearerTransport{base: base, token: a.cfg.Credential.Secret, tlsOnly: a.cfg.MasterTLS != nil}
	}
	return &http.Client{Transport: rt, Timeout: timeout}
}

type bearerTransport struct {
	base    http.RoundTripper
	token   auth.Secret
	tlsOnly bool
}

func (t *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.tlsOnly && !strings.EqualFold(r.URL.Scheme, "https") {
		return t.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token.Reveal())
	return t.base.RoundTrip(r)
}

// securityFlags are GET_FLAGS' security entries: modes and paths, never a
// secret (the credential shows its principal only).
func (a *Agent) securityFlags() []mesos.Flag {
	var out []mesos.Flag
	if a.sec != nil {
		for _, f := range a.sec.Flags() {
			out = append(out, mesos.Flag{Name: f[0], Value: f[1]})
		}
	}
	if c := a.cfg.Credential; c != nil {
		out = append(out, mesos.Flag{Name: "credential_principal", Value: c.Principal})
	}
	return append(out, mesos.Flag{Name: "allow_root_tasks", Value: strconv.FormatBool(!a.cfg.RefuseRootTasks)})
}
