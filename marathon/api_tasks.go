package marathon

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/master/mesos"
)

// listTasks is GET /v2/tasks (?status=running|staging|…).
func (s *Server) listTasks(st *leaderState, w http.ResponseWriter, r *http.Request) {
	want := strings.ToLower(r.URL.Query().Get("status"))
	tasks := []taskView{}
	for _, a := range st.root.Flatten() {
		for _, i := range st.appInstances(a.ID) {
			if i.scheduled() {
				continue
			}
			if want != "" && !strings.EqualFold(strings.TrimPrefix(string(i.State), "TASK_"), want) &&
				!(want == "staging" && i.State == mesos.TaskStarting) {
				continue
			}
			tasks = append(tasks, i.view(a))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks})
}

// deleteTasks is POST /v2/tasks/delete {"ids": […]} (?scale=true,
// ?force=true).
func (s *Server) deleteTasks(st *leaderState, w http.ResponseWriter, r *http.Request) {
	var body struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(readBody(r), &body); err != nil {
		writeJSON(w, http.StatusBadRequest, &app.Error{Status: 400, Message: app.MessageInvalidJSON,
			Details: []app.Violation{{Path: "/ids", Errors: []string{"error.expected.jsarray"}}}})
		return
	}
	byApp := map[app.PathID][]*Instance{}
	for _, id := range body.IDs {
		i := st.instances[id]
		if i == nil || i.scheduled() {
			continue
		}
		byApp[i.AppID] = append(byApp[i.AppID], i)
	}
	s.killTasks(st, w, r, byApp, false)
}
