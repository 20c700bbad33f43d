package marathon

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
	"github.com/strata-dc/strata/marathon/placement"
	"github.com/strata-dc/strata/master/mesos"
)

// benchState is a leader's state with n apps of 3 running instances each,
// built in memory (no coord, no master): what GET /v2/apps reads.
func benchState(b *testing.B, n int) (*Server, *leaderState) {
	b.Helper()
	s := &Server{events: newEventBus()}
	st := &leaderState{root: app.NewRoot(), deployments: map[string]*deployment{}, instances: map[string]*Instance{},
		byApp: map[app.PathID]map[string]*Instance{}, limiter: deploy.NewRateLimiter(),
		stats: map[app.PathID]*placement.Stats{}, lastFailure: map[app.PathID]*taskFailure{},
		readiness: map[string]deploy.ReadinessCheckResult{}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := range n {
		a, err := app.ParseApp(fmt.Appendf(nil, `{"id": "/bench/g%d/app-%d", "cmd": "sleep 1000", "instances": 3,
			"labels": {"team": "t%d"}, "portDefinitions": [{"port": 0}]}`, k%10, k, k%7), app.Root, app.Options{})
		if err != nil {
			b.Fatal(err)
		}
		app.StampVersion(nil, a, now, false)
		if err := st.root.PutApp(a); err != nil {
			b.Fatal(err)
		}
		for j := range 3 {
			st.add(&Instance{TaskID: newTaskID(a.ID), AppID: a.ID, Config: now, AppVersion: a.Version,
				State: mesos.TaskRunning, AgentID: fmt.Sprintf("agent-%d", j), Host: fmt.Sprintf("host-%d", j),
				Ports: []int{31000 + j}, StagedAt: now, StartedAt: now})
		}
	}
	return s, st
}

// BenchmarkListApps is GET /v2/apps with 1,000 apps (the target
// is ≤ 50 ms per call); a benchmark, not a timed assertion.
func BenchmarkListApps(b *testing.B) {
	s, st := benchState(b, 1000)
	req := httptest.NewRequest(http.MethodGet, "/v2/apps", nil)
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.listApps(st, w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
