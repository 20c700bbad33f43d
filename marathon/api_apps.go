package marathon

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
)

func (s *Server) opts() app.Options {
	return app.Options{Features: s.cfg.Features, MaxInstances: s.cfg.MaxInstancesPerApp}
}

// listApps is GET /v2/apps (?id= substring, ?cmd= substring, ?label=k or
// k==v, ?embed=apps.tasks|apps.counts|apps.deployments|apps.lastTaskFailure|apps.readiness).
func (s *Server) listApps(st *leaderState, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	embed := embeds(r)
	out := []json.RawMessage{}
	for _, a := range st.root.Flatten() {
		if v := q.Get("id"); v != "" && !strings.Contains(string(a.ID), v) {
			continue
		}
		if v := q.Get("cmd"); v != "" && !strings.Contains(a.Cmd, v) {
			continue
		}
		if v := q.Get("label"); v != "" && !matchLabel(a.Labels, v) {
			continue
		}
		out = append(out, s.appView(st, a, embed))
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": out})
}

// matchLabel understands Marathon's simplest label selectors: "k", "k==v"
// and "k!=v".
func matchLabel(labels map[string]string, sel string) bool {
	if k, v, ok := strings.Cut(sel, "!="); ok {
		got, has := labels[strings.TrimSpace(k)]
		return !has || got != strings.TrimSpace(v)
	}
	if k, v, ok := strings.Cut(sel, "=="); ok {
		got, has := labels[strings.TrimSpace(k)]
		return has && got == strings.TrimSpace(v)
	}
	_, has := labels[strings.TrimSpace(sel)]
	return has
}

// createApp is POST /v2/apps: 201 with the app and its deployment.
func (s *Server) createApp(st *leaderState, w http.ResponseWriter, r *http.Request) {
	a, err := app.ParseApp(readBody(r), app.Root, s.opts())
	if err != nil {
		respondErr(w, err)
		return
	}
	if _, exists := st.root.App(a.ID); exists {
		writeError(w, http.StatusConflict, "An app with id ["+string(a.ID)+"] already exists.")
		return
	}
	if g := st.root.Group(a.ID); g != nil {
		writeError(w, http.StatusConflict, "A group with id ["+string(a.ID)+"] already exists.")
		return
	}
	now := st.now()
	app.StampVersion(nil, a, now, false)
	target := cloneGroup(st.root)
	if err := target.PlaceApp(a); err != nil {
		respondErr(w, &apiError{status: http.StatusUnprocessableEntity, message: err.Error()})
		return
	}
	plan, err := s.apply(st, deployChange{target: target, force: boolParam(r, "force"), now: now})
	if err != nil {
		respondErr(w, err)
		return
	}
	s.events.publish(event{"eventType": "api_post_event", "clientIp": r.RemoteAddr, "uri": r.URL.Path, "appDefinition": a})
	view := s.appViewWith(st, a, map[string]bool{"tasks": true}, []map[string]string{{"id": plan.ID}})
	w.Header().Set("Location", "/v2/apps"+string(a.ID))
	w.Header().Set("Marathon-Deployment-Id", plan.ID)
	writeJSON(w, http.StatusCreated, view)
}

// splitAppPath separates an app id from a trailing /restart, /tasks[/id]
// or /versions[/v]. App ids never end in those words (Marathon reserves
// them), so the split is unambiguous.
func splitAppPath(raw string) (id app.PathID, verb, arg string) {
	segs := strings.Split(strings.Trim(raw, "/"), "/")
	n := len(segs)
	switch {
	case n >= 2 && (segs[n-1] == "restart" || segs[n-1] == "tasks" || segs[n-1] == "versions"):
		return appID(strings.Join(segs[:n-1], "/")), segs[n-1], ""
	case n >= 3 && (segs[n-2] == "tasks" || segs[n-2] == "versions"):
		return appID(strings.Join(segs[:n-2], "/")), segs[n-2], segs[n-1]
	}
	return appID(raw), "", ""
}

// getAppPath is GET /v2/apps/{id}, …/tasks, …/versions, …/versions/{v}.
func (s *Server) getAppPath(st *leaderState, w http.ResponseWriter, r *http.Request) {
	id, verb, arg, err := appPath(r.PathValue("id"))
	if err != nil {
		respondErr(w, err)
		return
	}
	a, ok := st.root.App(id)
	if !ok {
		respondErr(w, appNotFound(id))
		return
	}
	switch {
	case verb == "":
		embed := embeds(r)
		embed["tasks"], embed["lastTaskFailure"] = true, true
		writeJSON(w, http.StatusOK, map[string]any{"app": s.appView(st, a, embed)})
	case verb == "tasks" && arg == "":
		tasks := []taskView{}
		for _, i := range st.appInstances(id) {
			if !i.scheduled() {
				tasks = append(tasks, i.view(a))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks})
	case verb == "tasks":
		i := st.instances[arg]
		if i == nil || i.AppID != id || i.scheduled() {
			writeError(w, http.StatusNotFound, "Task '"+arg+"' does not exist")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"task": i.view(a)})
	case verb == "versions" && arg == "":
		vs := slices.Clone(st.versions[id])
		slices.Reverse(vs)
		if vs == nil {
			vs = []string{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
	case verb == "versions":
		v, err := s.appVersion(st, id, arg)
		if err != nil {
			respondErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

// appVersion reads one stored version of an app.
func (s *Server) appVersion(st *leaderState, id app.PathID, version string) (*app.App, error) {
	if t, err := app.ParseVersion(version); err == nil {
		version = app.FormatVersion(t)
	}
	if !slices.Contains(st.versions[id], versionNode(version)) {
		return nil, &apiError{status: http.StatusNotFound, message: "App '" + string(id) + "' does not exist in version " + version}
	}
	ctx, cancel := st.opCtx()
	defer cancel()
	return readAppVersion(ctx, st.store, appDir(id)+"/"+versionNode(version))
}

// putApp is PUT /v2/apps/{id}: a partial update of an existing app (or a
// rollback to {"version": …}), or the creation of a new one.
func (s *Server) putApp(st *leaderState, w http.ResponseWriter, r *http.Request) {
	s.updateApp(st, w, r, true)
}

// patchApp is PATCH /v2/apps/{id}: a partial update of an existing app.
func (s *Server) patchApp(st *leaderState, w http.ResponseWriter, r *http.Request) {
	s.updateApp(st, w, r, false)
}

func (s *Server) updateApp(st *leaderState, w http.ResponseWriter, r *http.Request, mayCreate bool) {
	id, verb, _, err := appPath(r.PathValue("id"))
	if err != nil {
		respondErr(w, err)
		return
	}
	if verb != "" {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	now := st.now()
	next, created, err := s.updated(st, id, readBody(r), mayCreate, now)
	if err != nil {
		respondErr(w, err)
		return
	}
	target := cloneGroup(st.root)
	if err := target.PlaceApp(next); err != nil {
		respondErr(w, &apiError{status: http.StatusUnprocessableEntity, message: err.Error()})
		return
	}
	plan, err := s.apply(st, deployChange{target: target, force: boolParam(r, "force"), now: now})
	if err != nil {
		respondErr(w, err)
		return
	}
	s.events.publish(event{"eventType": "api_post_event", "clientIp": r.RemoteAddr, "uri": r.URL.Path, "appDefinition": next})
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeDeployment(w, status, plan)
}

// updated computes the new definition of app id from an update body.
func (s *Server) updated(st *leaderState, id app.PathID, body []byte, mayCreate bool, now time.Time) (*app.App, bool, error) {
	cur, exists := st.root.App(id)
	if v, ok, err := app.RollbackVersion(body); err != nil {
		return nil, false, err
	} else if ok {
		if !exists {
			return nil, false, appNotFound(id)
		}
		old, err := s.appVersion(st, id, v)
		if err != nil {
			return nil, false, err
		}
		app.StampVersion(cur, old, now, false)
		return old, false, nil
	}
	if !exists {
		if !mayCreate {
			return nil, false, appNotFound(id)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err == nil && m != nil {
			if _, has := m["id"]; !has {
				m["id"], _ = json.Marshal(string(id))
				body, _ = json.Marshal(m)
			}
		}
		a, err := app.ParseApp(body, app.Root, s.opts())
		if err != nil {
			return nil, false, err
		}
		if a.ID != id {
			return nil, false, &apiError{status: http.StatusUnprocessableEntity, message: "The id in the body (" + string(a.ID) + ") does not match the path (" + string(id) + ")"}
		}
		app.StampVersion(nil, a, now, false)
		return a, true, nil
	}
	next, err := cur.Patch(body)
	if err != nil {
		return nil, false, err
	}
	if verr := next.Validate(app.Root, s.opts()); verr != nil {
		return nil, false, verr
	}
	app.StampVersion(cur, next, now, false)
	return next, false, nil
}

// updateApps is PUT/PATCH /v2/apps: several updates (each with its id) in
// one deployment.
func (s *Server) updateApps(st *leaderState, w http.ResponseWriter, r *http.Request) {
	var bodies []json.RawMessage
	if err := json.Unmarshal(readBody(r), &bodies); err != nil {
		writeJSON(w, http.StatusBadRequest, &app.Error{Status: 400, Message: app.MessageInvalidJSON,
			Details: []app.Violation{{Path: "/", Errors: []string{"error.expected.jsarray"}}}})
		return
	}
	now := st.now()
	target := cloneGroup(st.root)
	for _, b := range bodies {
		var head struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(b, &head)
		if head.ID == "" {
			respondErr(w, &apiError{status: http.StatusUnprocessableEntity, message: "every app update needs an id"})
			return
		}
		next, _, err := s.updated(st, appID(head.ID), b, r.Method == http.MethodPut, now)
		if err != nil {
			respondErr(w, err)
			return
		}
		if err := target.PlaceApp(next); err != nil {
			respondErr(w, &apiError{status: http.StatusUnprocessableEntity, message: err.Error()})
			return
		}
	}
	plan, err := s.apply(st, deployChange{target: target, force: boolParam(r, "force"), now: now})
	if err != nil {
		respondErr(w, err)
		return
	}
	writeDeployment(w, http.StatusOK, plan)
}

// postAppPath is POST /v2/apps/{id}/restart.
func (s *Server) postAppPath(st *leaderState, w http.ResponseWriter, r *http.Request) {
	id, verb, _, err := appPath(r.PathValue("id"))
	if err != nil {
		respondErr(w, err)
		return
	}
	if verb != "restart" {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	cur, ok := st.root.App(id)
	if !ok {
		respondErr(w, appNotFound(id))
		return
	}
	now := st.now()
	next := cur.Clone()
	app.StampVersion(cur, next, now, true)
	// A restart replaces every instance: it moves the config version, as
	// Marathon's markedForRestarting does.
	next.VersionInfo.LastConfigChangeAt = next.Version
	target := cloneGroup(st.root)
	_ = target.PutApp(next)
	plan, err := s.apply(st, deployChange{target: target, force: boolParam(r, "force"), now: now})
	if err != nil {
		respondErr(w, err)
		return
	}
	writeDeployment(w, http.StatusOK, plan)
}

// deleteAppPath is DELETE /v2/apps/{id}, …/tasks and …/tasks/{taskId}.
func (s *Server) deleteAppPath(st *leaderState, w http.ResponseWriter, r *http.Request) {
	id, verb, arg, err := appPath(r.PathValue("id"))
	if err != nil {
		respondErr(w, err)
		return
	}
	cur, ok := st.root.App(id)
	if !ok {
		respondErr(w, appNotFound(id))
		return
	}
	switch verb {
	case "":
		target := cloneGroup(st.root)
		target.RemoveApp(id)
		plan, err := s.apply(st, deployChange{target: target, force: boolParam(r, "force"), now: st.now()})
		if err != nil {
			respondErr(w, err)
			return
		}
		writeDeployment(w, http.StatusOK, plan)
	case "tasks":
		var victims []*Instance
		host := r.URL.Query().Get("host")
		for _, i := range st.appInstances(id) {
			if (arg == "" || i.TaskID == arg) && (host == "" || i.Host == host) {
				victims = append(victims, i)
			}
		}
		if arg != "" && len(victims) == 0 {
			writeError(w, http.StatusNotFound, "Task '"+arg+"' does not exist")
			return
		}
		s.killTasks(st, w, r, map[app.PathID][]*Instance{cur.ID: victims}, arg != "")
	default:
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

// killTasks kills instances; with ?scale=true the apps are scaled down by
// as many in one deployment (answering it), else the instances are
// replaced as failed ones are (answering the killed tasks).
func (s *Server) killTasks(st *leaderState, w http.ResponseWriter, r *http.Request, byApp map[app.PathID][]*Instance, single bool) {
	if boolParam(r, "scale") {
		now := st.now()
		target := cloneGroup(st.root)
		toKill := map[string][]string{}
		for id, list := range byApp {
			a, ok := st.root.App(id)
			if !ok {
				continue
			}
			if err := deploy.LockedApp(string(id), st.runningPlans()); err != nil && !boolParam(r, "force") {
				respondErr(w, err)
				return
			}
			next := a.Clone()
			next.Instances = max(0, a.Instances-len(list))
			app.StampVersion(a, next, now, false)
			_ = target.PutApp(next)
			for _, i := range list {
				toKill[string(id)] = append(toKill[string(id)], i.TaskID)
			}
		}
		plan, err := s.apply(st, deployChange{target: target, force: boolParam(r, "force"), toKill: toKill, now: now})
		if err != nil {
			respondErr(w, err)
			return
		}
		writeDeployment(w, http.StatusOK, plan)
		return
	}
	views := []taskView{}
	for id, list := range byApp {
		a, _ := st.root.App(id)
		for _, i := range list {
			if a != nil {
				views = append(views, i.view(a))
			}
			s.kill(st, i)
		}
	}
	s.drive(st, time.Now())
	if single && len(views) == 1 {
		writeJSON(w, http.StatusOK, map[string]any{"task": views[0]})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": views})
}
