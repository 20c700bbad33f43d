package chronos

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/strata-dc/strata/chronos/job"
	"github.com/strata-dc/strata/master/auth"
)

// This file is who may call chronos' REST API and what they may do, with
// the master's machinery (package auth):
//
//   - Authentication: every request passes the auth middleware first, on
//     followers too (before the 307 to the leader). With --authenticate
//     auto (the default) it is required when the API listens outside
//     loopback; /ping never needs it; reads (GET) need it with
//     --authenticate-http-readonly, as on the master.
//   - Authorization: --acls in Mesos' JSON with chronos' actions,
//     update_jobs and view_jobs, whose object "job_names" is a job's name
//     (matched exactly). Requests over every job (lists, search, the
//     graph, stats) are Mesos' ANY request, which only rules for any job
//     match. The leader decides.
//   - A refusal is 403 with {"message": "..."} naming the rule that denied.

// securityOpen are the paths no caller authenticates for (the probe).
var securityOpen = []string{"/ping"}

// loadSecurity reads cfg.Auth for a listener on host.
func loadSecurity(cfg Config, host string) (*auth.Server, error) {
	return cfg.Auth.LoadAPI(host, "chronos", securityOpen...)
}

// authorize decides whether r's caller may make it: nil or a *auth.Denied.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) error {
	if s.sec == nil || s.sec.ACLs == nil {
		return nil // no --acls: every authenticated caller may do everything
	}
	act, objects := objectsOf(w, r)
	if act == "" {
		return nil
	}
	return s.sec.ACLs.Check(act, auth.PrincipalOf(r.Context()), objects...)
}

// Paths whose last segment is a job's name.
var (
	readJobPaths  = []string{"/v1/scheduler/job/stat/", "/v1/scheduler/history/"}
	writeJobPaths = []string{"/v1/scheduler/job/success/", "/v1/scheduler/task/kill/", "/v1/scheduler/job/"}
)

// objectsOf names the action r performs and the jobs it touches ("" is a
// request over every job, or a body whose name cannot be read). No
// action: nothing to authorize.
func objectsOf(w http.ResponseWriter, r *http.Request) (auth.Action, []string) {
	path := r.URL.Path
	switch path {
	case "/ping", "/metrics", "/v1/scheduler/leader":
		return "", nil
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		for _, p := range readJobPaths {
			if name, ok := strings.CutPrefix(path, p); ok {
				return auth.ViewJobs, []string{name}
			}
		}
		return auth.ViewJobs, []string{""}
	}
	switch path {
	case "/v1/scheduler/iso8601", "/v1/scheduler/dependency":
		return auth.UpdateJobs, []string{jobOfBody(w, r)}
	}
	for _, p := range writeJobPaths {
		if name, ok := strings.CutPrefix(path, p); ok {
			return auth.UpdateJobs, []string{name}
		}
	}
	return auth.UpdateJobs, []string{""}
}

// peekTimeout bounds how long authorization waits for a body, so a
// client trickling one cannot hold its connection here.
const peekTimeout = 10 * time.Second

// jobOfBody is the name of the job a body defines, read as the handler
// reads it; the body is put back for the handler (the part read and
// whatever follows, so its own checks see the body as sent). A body that
// does not arrive in time names no job.
func jobOfBody(w http.ResponseWriter, r *http.Request) string {
	if r.Body == nil {
		return ""
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(peekTimeout))
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err == nil {
		_ = rc.SetReadDeadline(time.Time{})
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	j, derr := job.Decode(b)
	if err != nil || derr != nil {
		return ""
	}
	return j.Name
}

// writeDenied answers a refusal in chronos' error shape.
func writeDenied(w http.ResponseWriter, err error) {
	writeError(w, http.StatusForbidden, err.Error())
}
