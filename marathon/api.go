package marathon

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
)

// routes is the REST v2 API. App ids contain slashes, so /v2/apps/{id...}
// takes the rest of the path and the handlers split off /restart, /tasks
// and /versions themselves.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "pong\n")
	})
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("GET /v2/info", s.handleInfo)
	mux.HandleFunc("GET /v2/leader", s.handleLeader)
	mux.HandleFunc("DELETE /v2/leader", s.handleAbdicate)
	mux.HandleFunc("GET /v2/events", s.handleEvents)

	mux.HandleFunc("GET /v2/apps", s.leader(s.listApps))
	mux.HandleFunc("POST /v2/apps", s.leader(s.createApp))
	mux.HandleFunc("PUT /v2/apps", s.leader(s.updateApps))
	mux.HandleFunc("PATCH /v2/apps", s.leader(s.updateApps))
	mux.HandleFunc("GET /v2/apps/{id...}", s.leader(s.getAppPath))
	mux.HandleFunc("PUT /v2/apps/{id...}", s.leader(s.putApp))
	mux.HandleFunc("PATCH /v2/apps/{id...}", s.leader(s.patchApp))
	mux.HandleFunc("POST /v2/apps/{id...}", s.leader(s.postAppPath))
	mux.HandleFunc("DELETE /v2/apps/{id...}", s.leader(s.deleteAppPath))

	mux.HandleFunc("GET /v2/groups", s.leader(s.getGroup))
	mux.HandleFunc("GET /v2/groups/{id...}", s.leader(s.getGroup))
	mux.HandleFunc("POST /v2/groups", s.leader(s.postGroup))
	mux.HandleFunc("POST /v2/groups/{id...}", s.leader(s.postGroup))
	mux.HandleFunc("PUT /v2/groups", s.leader(s.putGroup))
	mux.HandleFunc("PUT /v2/groups/{id...}", s.leader(s.putGroup))
	mux.HandleFunc("PATCH /v2/groups", s.leader(s.putGroup))
	mux.HandleFunc("PATCH /v2/groups/{id...}", s.leader(s.putGroup))
	mux.HandleFunc("DELETE /v2/groups/{id...}", s.leader(s.deleteGroup))

	mux.HandleFunc("GET /v2/deployments", s.leader(s.listDeployments))
	mux.HandleFunc("DELETE /v2/deployments/{id}", s.leader(s.deleteDeployment))

	mux.HandleFunc("GET /v2/tasks", s.leader(s.listTasks))
	mux.HandleFunc("POST /v2/tasks/delete", s.leader(s.deleteTasks))

	// Strata runs no pods and no plugins; clients that list them get
	// empty lists rather than errors.
	mux.HandleFunc("GET /v2/pods", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, []any{}) })
	mux.HandleFunc("GET /v2/pods/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("rest") == "::status" {
			writeJSON(w, http.StatusOK, []any{})
			return
		}
		writeError(w, http.StatusNotFound, "Pod '"+string(appID(r.PathValue("rest")))+"' does not exist")
	})
	mux.HandleFunc("GET /v2/plugins", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"plugins": []any{}})
	})

	mux.HandleFunc("GET /v2/queue", s.leader(s.getQueue))
	mux.HandleFunc("DELETE /v2/queue/{id...}", s.leader(s.resetDelay))
	return mux
}

// leader wraps a handler that needs the leader's state: it runs with s.mu
// held, or answers 503 while the state is not loaded.
func (s *Server) leader(h func(st *leaderState, w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if msg := checkQuery(r); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		// Read the body before taking the lock: a slow client must not
		// stall the scheduler.
		if r.Body != nil && r.Method != http.MethodGet {
			body, status, msg := readRequestBody(w, r)
			if status != 0 {
				if status == http.StatusBadRequest {
					writeJSON(w, status, &app.Error{Status: status, Message: app.MessageInvalidJSON,
						Details: []app.Violation{{Path: "/", Errors: []string{msg}}}})
				} else {
					writeError(w, status, msg)
				}
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.st == nil {
			writeError(w, http.StatusServiceUnavailable, "Leader is not ready: state is loading or leadership is changing")
			return
		}
		h(s.st, w, r)
	}
}

// maxBody bounds a request body. Bodies are buffered before the leader's
// lock is taken, and real definitions (even a group of hundreds of apps)
// are far smaller.
const maxBody = 8 << 20

// bodyReadTimeout bounds how long a client may take to send its body
// once its headers are in (the server bounds the headers), so a client
// trickling a body cannot hold a connection and its goroutine forever.
const bodyReadTimeout = 10 * time.Second

// readRequestBody buffers the body of a request that may change state. It
// answers a non-zero status with a message when the body is refused: 415
// for a Content-Type other than JSON (a body without one is read as JSON,
// as Marathon's clients often send none), 413 over maxBody, 408 when the
// client is too slow, 400 when the body cannot be read or is not UTF-8.
// encoding/json would turn invalid UTF-8 into U+FFFD and store an app the
// client never sent; Marathon's reader refuses it.
func readRequestBody(w http.ResponseWriter, r *http.Request) (body []byte, status int, msg string) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONMediaType(ct) {
		return nil, http.StatusUnsupportedMediaType, "Unsupported Content-Type " + strconv.Quote(ct) + ": send application/json"
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, http.StatusRequestTimeout, "request body not received within " + bodyReadTimeout.String()
	case err != nil:
		return nil, http.StatusBadRequest, "read body: " + err.Error()
	case len(body) > maxBody:
		return nil, http.StatusRequestEntityTooLarge, "request body over " + strconv.Itoa(maxBody) + " bytes"
	case !utf8.Valid(body):
		return nil, http.StatusBadRequest, "invalid UTF-8 in the request body"
	}
	_ = rc.SetReadDeadline(time.Time{})
	return body, 0, ""
}

// isJSONMediaType accepts application/json and structured-syntax JSON
// types (application/vnd.x+json), with any parameters.
func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// strictBoolParams are query parameters that change what a request does.
// A value that is not a boolean is refused rather than read as false
// (force=ture must not quietly mean "not forced", nor scale=1 "don't
// scale"), and so is a parameter given twice.
var strictBoolParams = []string{"force", "scale"}

// checkQuery refuses a query string that does not decode and strict
// boolean parameters with other values; "" when the query is acceptable.
func checkQuery(r *http.Request) string {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "invalid query string: " + err.Error()
	}
	for _, name := range strictBoolParams {
		vs, ok := q[name]
		if !ok {
			continue
		}
		if len(vs) != 1 {
			return "query parameter " + name + " given " + strconv.Itoa(len(vs)) + " times"
		}
		if _, err := strconv.ParseBool(vs[0]); err != nil {
			return "query parameter " + name + "=" + strconv.Quote(vs[0]) + " is not a boolean (true or false)"
		}
	}
	return ""
}

// apiError is a refusal with a status and Marathon's {"message"} body.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string { return e.message }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // messages quote '<DEPLOYMENT_ID>' and the like verbatim
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// respondErr answers an error with Marathon's status and body: 400/422
// from the app model, 409 for a locked app, the apiError's own status, 413
// for a change coord refuses as too large, and 503 for another store
// failure (the leader may be changing).
func respondErr(w http.ResponseWriter, err error) {
	var ae *app.Error
	var le *deploy.LockedError
	var pe *apiError
	switch {
	case errors.As(err, &ae):
		writeJSON(w, ae.Status, ae)
	case errors.As(err, &le):
		writeJSON(w, http.StatusConflict, le.Body())
	case errors.As(err, &pe):
		writeError(w, pe.status, pe.message)
	case errors.Is(err, coord.ErrTooLarge):
		// The change was refused by coord as a whole, before the leader's
		// state moved: it is the request that is too big, not the leader
		// that is failing.
		writeError(w, http.StatusRequestEntityTooLarge, "the change is too large to store (a node holds at most "+
			strconv.Itoa(coord.MaxValueSize)+" bytes): "+err.Error())
	default:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	}
}

// deploymentResult is what deploying calls answer.
func writeDeployment(w http.ResponseWriter, status int, plan deploy.DeploymentPlan) {
	w.Header().Set("Marathon-Deployment-Id", plan.ID)
	writeJSON(w, status, map[string]string{"deploymentId": plan.ID, "version": app.FormatVersion(plan.Version)})
}

func boolParam(r *http.Request, name string) bool {
	v, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return v
}

// readBody returns the request body (already buffered by leader).
func readBody(r *http.Request) []byte {
	if r.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(r.Body)
	return b
}

// notFound is Marathon's 404 for an unknown app.
func appNotFound(id app.PathID) error {
	return &apiError{status: http.StatusNotFound, message: "App '" + string(id) + "' does not exist"}
}

// appID reads an app id from a URL path remainder.
func appID(raw string) app.PathID {
	return app.PathID("/" + strings.Trim(raw, "/")).Canonical(app.Root)
}

// checkPathID refuses an id taken from a URL path whose segments are not
// Marathon id segments. Unlike an id in a body, which may be relative, an
// id in a path names one app or group as it is: a dot segment ("..", also
// sent as %2e%2e or inside %2F) would otherwise resolve to another app or
// to the root group, and a segment Marathon's pattern refuses (upper case,
// "*") would create a group no definition could name.
func checkPathID(raw string) error {
	for _, seg := range strings.Split(strings.Trim(raw, "/"), "/") {
		if seg == "" && strings.Trim(raw, "/") == "" {
			return nil // the root group
		}
		if !app.ValidSegment(seg) {
			return &app.Error{Status: http.StatusBadRequest, Message: "Invalid path id",
				Details: []app.Violation{{Path: "/id", Errors: []string{"segment " + strconv.Quote(seg) + " of '" + raw + "' " + app.SegmentRule}}}}
		}
	}
	if n := len(appID(raw).SafeName()); n > app.MaxIDLength {
		return &app.Error{Status: http.StatusBadRequest, Message: "Invalid path id",
			Details: []app.Violation{{Path: "/id", Errors: []string{"must be at most " + strconv.Itoa(app.MaxIDLength) + " characters, got " + strconv.Itoa(n)}}}}
	}
	return nil
}

// appPath is splitAppPath for a route's {id...}, with the id's segments
// checked by checkPathID (the task id or version after it is not an id).
func appPath(raw string) (id app.PathID, verb, arg string, err error) {
	id, verb, arg = splitAppPath(raw)
	segs := strings.Split(strings.Trim(raw, "/"), "/")
	n := len(segs)
	if verb != "" {
		n--
	}
	if arg != "" {
		n--
	}
	return id, verb, arg, checkPathID(strings.Join(segs[:max(n, 0)], "/"))
}

// now is the time API changes are stamped with.
func (st *leaderState) now() time.Time { return st.stamp(time.Now()) }

// appExtras are the fields GET /v2/apps adds to an app's definition.
// Pointers to slices print [] when embedded and empty, and nothing when
// not asked for.
type appExtras struct {
	TasksStaged           int                            `json:"tasksStaged"`
	TasksRunning          int                            `json:"tasksRunning"`
	TasksHealthy          int                            `json:"tasksHealthy"`
	TasksUnhealthy        int                            `json:"tasksUnhealthy"`
	Deployments           []map[string]string            `json:"deployments"`
	Tasks                 *[]taskView                    `json:"tasks,omitempty"`
	LastTaskFailure       *taskFailure                   `json:"lastTaskFailure,omitempty"`
	ReadinessCheckResults *[]deploy.ReadinessCheckResult `json:"readinessCheckResults,omitempty"`
}

// appView is an app as GET /v2/apps prints it: the definition plus task
// counters, running deployments and what embed= asks for. The two JSON
// objects are joined as text, which keeps listing 1,000 apps cheap.
func (s *Server) appView(st *leaderState, a *app.App, embed map[string]bool) json.RawMessage {
	return s.appViewWith(st, a, embed, nil)
}

// appViewWith is appView with the deployments list given (POST /v2/apps
// names the deployment it just started).
func (s *Server) appViewWith(st *leaderState, a *app.App, embed map[string]bool, deps []map[string]string) json.RawMessage {
	raw, err := json.Marshal(a)
	if err != nil || len(raw) < 2 {
		return raw
	}
	insts := st.appInstances(a.ID)
	hasHealth := len(a.HealthChecks) > 0
	c := countOf(insts, hasHealth)
	x := appExtras{TasksStaged: c.Staged, TasksRunning: c.Running, TasksHealthy: c.Healthy, TasksUnhealthy: c.Unhealthy,
		Deployments: deps}
	if x.Deployments == nil {
		x.Deployments = []map[string]string{}
		for _, d := range st.deployments {
			if d.Plan.Affects(string(a.ID)) {
				x.Deployments = append(x.Deployments, map[string]string{"id": d.Plan.ID})
			}
		}
	}
	if embed["tasks"] {
		tasks := []taskView{}
		for _, i := range insts {
			if !i.scheduled() {
				tasks = append(tasks, i.view(a))
			}
		}
		x.Tasks = &tasks
	}
	if embed["lastTaskFailure"] {
		x.LastTaskFailure = st.lastFailure[a.ID]
	}
	if embed["readiness"] {
		rs := st.readinessOf()[string(a.ID)]
		if rs == nil {
			rs = []deploy.ReadinessCheckResult{}
		}
		x.ReadinessCheckResults = &rs
	}
	extra, err := json.Marshal(x)
	if err != nil {
		return raw
	}
	out := make([]byte, 0, len(raw)+len(extra))
	out = append(out, raw[:len(raw)-1]...)
	out = append(out, ',')
	return append(out, extra[1:]...)
}

// embeds reads embed=apps.tasks / app.tasks … into a set of suffixes.
func embeds(r *http.Request) map[string]bool {
	out := map[string]bool{}
	for _, e := range r.URL.Query()["embed"] {
		for _, part := range strings.Split(e, ",") {
			part = strings.TrimSpace(part)
			if i := strings.IndexByte(part, '.'); i >= 0 {
				part = part[i+1:]
			}
			out[part] = true
		}
	}
	return out
}
