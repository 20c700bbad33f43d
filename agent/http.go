package agent

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/strata-dc/strata/master/mesos"
)

// State is what GET /state shows: the agent, its frameworks and tasks.
type State struct {
	ID         mesos.AgentID         `json:"id,omitempty"`
	Hostname   string                `json:"hostname"`
	Version    string                `json:"version"`
	Master     string                `json:"master,omitempty"` // the master of the current subscription
	Resources  mesos.Resources       `json:"resources"`
	Attributes mesos.Attributes      `json:"attributes,omitempty"`
	Isolation  string                `json:"isolation"`
	Frameworks []mesos.FrameworkInfo `json:"frameworks,omitempty"`
	Tasks      []TaskState           `json:"tasks,omitempty"`
}

// TaskState is one task in State.
type TaskState struct {
	TaskID      mesos.TaskID      `json:"task_id"`
	FrameworkID mesos.FrameworkID `json:"framework_id"`
	Name        string            `json:"name,omitempty"`
	ContainerID string            `json:"container_id"`
	State       mesos.TaskState   `json:"state"`
	// Unacknowledged counts the updates the framework has not
	// acknowledged yet.
	Unacknowledged int `json:"unacknowledged,omitempty"`
	// Healthy is the task's last health check result (absent: unchecked
	// or no result yet).
	Healthy *bool  `json:"healthy,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Sandbox string `json:"sandbox,omitempty"`
}

// State returns a snapshot of the agent.
func (a *Agent) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := State{ID: a.id, Hostname: a.cfg.Hostname, Version: a.cfg.Version, Master: a.master,
		Resources: a.total, Attributes: a.attrs, Isolation: string(a.cfg.Isolation)}
	for _, id := range slices.Sorted(maps.Keys(a.frameworks)) {
		s.Frameworks = append(s.Frameworks, a.frameworks[id])
	}
	for _, c := range slices.Sorted(maps.Keys(a.tasks)) {
		t := a.tasks[c]
		ts := TaskState{TaskID: t.Task.TaskID, FrameworkID: t.FrameworkID, Name: t.Task.Name, ContainerID: c,
			State: t.State, Unacknowledged: len(t.Pending), Healthy: t.Healthy}
		if a.sup != nil {
			if st, ok := a.sup.Task(c); ok {
				ts.PID, ts.Sandbox = st.PID, st.Spec.Sandbox
			}
		}
		s.Tasks = append(s.Tasks, ts)
	}
	return s
}

// mux routes the agent's HTTP API, served alike on TCP and on the
// control socket.
func (a *Agent) mux() *http.ServeMux {
	a.counters.started()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]bool{"healthy": true})
	})
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, a.State())
	})
	// Sandbox reads are authorized by access_sandboxes (auth.go).
	mux.HandleFunc("POST /api/v1", a.operatorGuard(a.serveOperator))
	mux.HandleFunc("GET /files/browse", a.sandboxGuard(a.serveBrowse))
	mux.HandleFunc("GET /files/read", a.sandboxGuard(a.serveRead))
	mux.HandleFunc("GET /files/download", a.sandboxGuard(a.serveDownload))
	mux.HandleFunc("GET /monitor/statistics", a.serveStatistics)
	mux.HandleFunc("GET /metrics/snapshot", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, a.Metrics())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode answer: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

// apiError is Strata's JSON error body.
type apiError struct {
	Message string   `json:"message"`
	Details []string `json:"details,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Message: msg})
}
