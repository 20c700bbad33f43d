package marathon

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

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
		// Read the body before taking the lock: a slow client must not
		// stall the scheduler.
		if r.Body != nil && r.Method != http.MethodGet {
			body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
			if err != nil {
				writeError(w, http.StatusBadRequest, "read body: "+err.Error())
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
// from the app model, 409 for a locked app, the apiError's own status, and
// 503 for a store failure (the leader may be changing).
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
