package marathon

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/strata-dc/strata/marathon/app"
)

// groupView is a group as GET /v2/groups prints it: every app with its
// instances and deployments.
func (s *Server) groupView(st *leaderState, g *app.Group) map[string]any {
	apps := []json.RawMessage{}
	version := g.Version
	for _, a := range g.Apps {
		apps = append(apps, s.appView(st, a, nil))
		if a.Version > version {
			version = a.Version
		}
	}
	groups := []map[string]any{}
	for _, sub := range g.Groups {
		v := s.groupView(st, sub)
		groups = append(groups, v)
		if sv, _ := v["version"].(string); sv > version {
			version = sv
		}
	}
	deps := g.Dependencies
	if deps == nil {
		deps = []app.PathID{}
	}
	if version == "" {
		version = app.FormatVersion(st.lastStamp)
	}
	return map[string]any{"id": g.ID, "apps": apps, "groups": groups, "pods": []any{}, "dependencies": deps,
		"version": version, "enforceRole": g.EnforceRole}
}

// groupID reads the group id of a /v2/groups/{id} route; "/" without one.
func groupID(r *http.Request) (app.PathID, error) {
	raw := r.PathValue("id")
	if raw == "" {
		return app.Root, nil
	}
	if err := checkPathID(raw); err != nil {
		return "", err
	}
	return appID(raw), nil
}

func groupNotFound(id app.PathID) error {
	return &apiError{status: http.StatusNotFound, message: "Group '" + string(id) + "' does not exist"}
}

// getGroup is GET /v2/groups and /v2/groups/{id}.
func (s *Server) getGroup(st *leaderState, w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		respondErr(w, err)
		return
	}
	g := st.root.Group(id)
	if g == nil {
		respondErr(w, groupNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, s.groupView(st, g))
}

// postGroup is POST /v2/groups: create a group with its apps.
func (s *Server) postGroup(st *leaderState, w http.ResponseWriter, r *http.Request) {
	base, err := groupID(r)
	if err != nil {
		respondErr(w, err)
		return
	}
	g, err := app.DecodeGroup(readBody(r), base)
	if err != nil {
		respondErr(w, err)
		return
	}
	if verr := g.Validate(s.opts()); verr != nil {
		respondErr(w, verr)
		return
	}
	if existing := st.root.Group(g.ID); existing != nil && (!g.ID.IsRoot() || len(st.root.Flatten()) > 0) {
		writeError(w, http.StatusConflict, "Group "+string(g.ID)+" is already created. Use PUT to change this group.")
		return
	}
	now := st.now()
	target := cloneGroup(st.root)
	if err := s.mergeGroup(st, target, g, now); err != nil {
		respondErr(w, err)
		return
	}
	plan, err := s.apply(st, deployChange{target: target, force: boolParam(r, "force"), now: now})
	if err != nil {
		respondErr(w, err)
		return
	}
	writeDeployment(w, http.StatusCreated, plan)
}

// putGroup is PUT/PATCH /v2/groups/{id}: scaleBy, or a new definition of
// the group; apps, groups and dependencies absent from the body are kept.
func (s *Server) putGroup(st *leaderState, w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		respondErr(w, err)
		return
	}
	body := readBody(r)
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		_, derr := app.DecodeGroup(body, id)
		respondErr(w, derr)
		return
	}
	now := st.now()
	target := cloneGroup(st.root)
	if raw, ok := keys["scaleBy"]; ok {
		var by float64
		if err := json.Unmarshal(raw, &by); err != nil || by < 0 {
			respondErr(w, &app.Error{Status: 422, Message: app.MessageNotValid,
				Details: []app.Violation{{Path: "/scaleBy", Errors: []string{"must be a non-negative number"}}}})
			return
		}
		g := target.Group(id)
		if g == nil {
			respondErr(w, groupNotFound(id))
			return
		}
		for _, a := range g.Flatten() {
			cur, _ := st.root.App(a.ID)
			scaled := float64(cur.Instances)*by + 0.5
			if limit := min(math.MaxInt32, s.cfg.MaxInstancesPerApp); scaled > float64(limit) { // as an app's instances may not be
				respondErr(w, &app.Error{Status: 422, Message: app.MessageNotValid,
					Details: []app.Violation{{Path: "/scaleBy", Errors: []string{fmt.Sprintf("scales %s above %d instances (--max-instances-per-app)", a.ID, limit)}}}})
				return
			}
			next := cur.Clone()
			next.Instances = int(scaled)
			app.StampVersion(cur, next, now, false)
			_ = target.PutApp(next)
		}
	} else {
		g, err := app.DecodeGroup(body, id.Parent())
		if err != nil {
			respondErr(w, err)
			return
		}
		if _, has := keys["id"]; !has {
			g, err = app.DecodeGroup(body, id)
			if err != nil {
				respondErr(w, err)
				return
			}
		}
		if verr := g.Validate(s.opts()); verr != nil {
			respondErr(w, verr)
			return
		}
		if old := st.root.Group(g.ID); old != nil {
			o := cloneGroup(old)
			if _, ok := keys["apps"]; !ok {
				g.Apps = o.Apps
			}
			if _, ok := keys["groups"]; !ok {
				g.Groups = o.Groups
			}
			if _, ok := keys["dependencies"]; !ok {
				g.Dependencies = o.Dependencies
			}
		}
		if g.ID.IsRoot() {
			target = app.NewRoot()
		} else {
			target.RemoveGroup(g.ID)
		}
		if err := s.mergeGroup(st, target, g, now); err != nil {
			respondErr(w, err)
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

// mergeGroup puts g's apps and groups into target, stamping versions of
// apps that changed and keeping unchanged ones as they are.
func (s *Server) mergeGroup(st *leaderState, target, g *app.Group, now time.Time) error {
	var err error
	g.Walk(func(sub *app.Group) {
		// A group cannot take an app's id or sit inside an app.
		for p := sub.ID; !p.IsRoot(); p = p.Parent() {
			if _, isApp := target.App(p); isApp && err == nil {
				err = &apiError{status: http.StatusUnprocessableEntity, message: "group " + string(sub.ID) + ": " + string(p) + " is an app, not a group"}
			}
		}
		if err != nil {
			return
		}
		dst := ensureGroup(target, sub.ID)
		dst.Dependencies = slices.Clone(sub.Dependencies)
		dst.EnforceRole = sub.EnforceRole
		for _, a := range sub.Apps {
			next := a
			if old, ok := st.root.App(a.ID); ok {
				if app.Classify(old, a) == app.NoChange {
					next = old.Clone()
				} else {
					app.StampVersion(old, next, now, false)
				}
			} else {
				app.StampVersion(nil, next, now, false)
			}
			if perr := target.PlaceApp(next); perr != nil && err == nil {
				err = &apiError{status: http.StatusUnprocessableEntity, message: perr.Error()}
			}
		}
	})
	if err == nil {
		if _, oerr := target.StartOrder(); oerr != nil {
			err = &apiError{status: http.StatusUnprocessableEntity, message: oerr.Error()}
		}
	}
	return err
}

// deleteGroup is DELETE /v2/groups/{id}.
func (s *Server) deleteGroup(st *leaderState, w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		respondErr(w, err)
		return
	}
	if st.root.Group(id) == nil {
		respondErr(w, groupNotFound(id))
		return
	}
	target := cloneGroup(st.root)
	if id.IsRoot() {
		target = app.NewRoot()
	} else {
		target.RemoveGroup(id)
	}
	plan, err := s.apply(st, deployChange{target: target, force: boolParam(r, "force"), now: st.now()})
	if err != nil {
		respondErr(w, err)
		return
	}
	writeDeployment(w, http.StatusOK, plan)
}
