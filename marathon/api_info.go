package marathon

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// leaderAddress is host:port of the current leader, "" when none is known.
func (s *Server) leaderAddress() string {
	if s.elected.Load() {
		return strings.TrimPrefix(s.base, "http://")
	}
	if p := s.leaderURL.Load(); p != nil && *p != "" {
		if u, err := url.Parse(*p); err == nil {
			return u.Host
		}
	}
	return ""
}

// handleLeader is GET /v2/leader.
func (s *Server) handleLeader(w http.ResponseWriter, _ *http.Request) {
	l := s.leaderAddress()
	if l == "" {
		writeError(w, http.StatusNotFound, "There is no leader")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"leader": l})
}

// handleAbdicate is DELETE /v2/leader: the leader steps down and enters
// the election again behind the others.
func (s *Server) handleAbdicate(w http.ResponseWriter, _ *http.Request) {
	select {
	case s.abdicate <- struct{}{}:
	default:
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Leadership abdicated"})
}

// handleInfo is GET /v2/info.
func (s *Server) handleInfo(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	fw := ""
	if s.st != nil {
		fw = s.st.frameworkID
	}
	s.mu.Unlock()
	zk, _ := url.Parse(s.cfg.ZK)
	zkState := ""
	if zk != nil {
		zkState = zk.Redacted()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":        "marathon",
		"version":     s.cfg.Version,
		"buildref":    "strata",
		"elected":     s.elected.Load(),
		"leader":      s.leaderAddress(),
		"frameworkId": fw,
		"marathon_config": map[string]any{
			"master":                            s.cfg.Master,
			"framework_name":                    s.cfg.FrameworkName,
			"mesos_role":                        s.cfg.MesosRole,
			"mesos_user":                        s.cfg.User,
			"failover_timeout":                  int64(s.cfg.FailoverTimeout / time.Second),
			"checkpoint":                        true,
			"hostname":                          s.cfg.Hostname,
			"reconciliation_interval":           s.cfg.ReconciliationInterval.Milliseconds(),
			"task_launch_timeout":               s.cfg.TaskLaunchTimeout.Milliseconds(),
			"decline_offer_duration":            s.cfg.DeclineOfferDuration.Milliseconds(),
			"features":                          nonNil(s.cfg.Features),
			"webui_url":                         s.base,
			"mesos_leader_ui_url":               "",
			"local_port_min":                    10000,
			"local_port_max":                    20000,
			"executor":                          "//cmd",
			"max_instances_per_offer":           nil,
			"mesos_heartbeat_interval":          15000,
			"mesos_heartbeat_failure_threshold": 5,
		},
		"zookeeper_config": map[string]any{"zk": zkState, "zk_max_versions": s.cfg.ZKMaxVersions,
			"zk_session_timeout": s.cfg.SessionTimeout.Milliseconds()},
		"http_config": map[string]any{"http_port": portOf(s.Addr().String())},
	})
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func portOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

// handleMetrics is GET /metrics: counters and gauges in the shape of
// Marathon's Dropwizard JSON.
func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	gauges := map[string]any{}
	s.mu.Lock()
	if st := s.st; st != nil {
		running, staged, waiting := 0, 0, 0
		for _, i := range st.instances {
			switch {
			case i.scheduled():
				waiting++
			case i.State == "TASK_RUNNING":
				running++
			default:
				staged++
			}
		}
		gauges["marathon.apps.active.gauge"] = map[string]int{"value": len(st.root.Flatten())}
		gauges["marathon.deployments.active.gauge"] = map[string]int{"value": len(st.deployments)}
		gauges["marathon.instances.running.gauge"] = map[string]int{"value": running}
		gauges["marathon.instances.staged.gauge"] = map[string]int{"value": staged}
		gauges["marathon.instances.launch-overdue.gauge"] = map[string]int{"value": waiting}
	}
	s.mu.Unlock()
	elected := 0
	if s.elected.Load() {
		elected = 1
	}
	gauges["marathon.leadership.current.gauge"] = map[string]int{"value": elected}
	gauges["marathon.uptime.gauge"] = map[string]int64{"value": time.Since(s.started).Milliseconds()}
	c := func(v int64) map[string]int64 { return map[string]int64{"count": v} }
	writeJSON(w, http.StatusOK, map[string]any{
		"version": "4.0.0",
		"gauges":  gauges,
		"counters": map[string]any{
			"marathon.http.requests.counter":         c(s.metrics.requests.Load()),
			"marathon.tasks.launched.counter":        c(s.metrics.launched.Load()),
			"marathon.tasks.killed.counter":          c(s.metrics.killed.Load()),
			"marathon.tasks.failed.counter":          c(s.metrics.failed.Load()),
			"marathon.mesos.offers.declined.counter": c(s.metrics.offersDeclined.Load()),
			"marathon.mesos.task-updates.counter":    c(s.metrics.updates.Load()),
			"marathon.deployments.counter":           c(s.metrics.deployments.Load()),
		},
		"histograms": map[string]any{}, "meters": map[string]any{}, "timers": map[string]any{},
	})
}
