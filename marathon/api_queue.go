package marathon

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
	"github.com/strata-dc/strata/marathon/placement"
)

// queueEntry is one app of GET /v2/queue.
type queueEntry struct {
	App                    json.RawMessage                  `json:"app"`
	Count                  int                              `json:"count"`
	Delay                  deploy.QueueDelay                `json:"delay"`
	Since                  string                           `json:"since"`
	ProcessedOffersSummary placement.ProcessedOffersSummary `json:"processedOffersSummary"`
	LastUnusedOffers       []any                            `json:"lastUnusedOffers,omitempty"`
}

// getQueue is GET /v2/queue: every app with instances waiting for an
// offer, how long its backoff still holds them, and why offers were
// refused (processedOffersSummary), so a deployment is never silently
// stuck.
func (s *Server) getQueue(st *leaderState, w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	out := []queueEntry{}
	for _, a := range st.root.Flatten() {
		n := 0
		for _, i := range st.byApp[a.ID] {
			if i.scheduled() {
				n++
			}
		}
		if n == 0 {
			continue
		}
		e := queueEntry{App: s.appView(st, a, nil), Count: n,
			Delay: st.limiter.QueueDelay(deploy.ConfigRef{AppID: string(a.ID), Version: configVersion(a)}, now)}
		if since, ok := st.queueSince[a.ID]; ok {
			e.Since = app.FormatVersion(since)
		} else {
			e.Since = app.FormatVersion(now)
		}
		if stats := st.stats[a.ID]; stats != nil {
			e.ProcessedOffersSummary = stats.Summary()
		} else {
			e.ProcessedOffersSummary = (&placement.Stats{}).Summary()
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"queue": out})
}

// resetDelay is DELETE /v2/queue/{id}/delay: launch at once, forgetting
// the app's backoff.
func (s *Server) resetDelay(st *leaderState, w http.ResponseWriter, r *http.Request) {
	raw := strings.TrimSuffix(strings.Trim(r.PathValue("id"), "/"), "/delay")
	if !strings.HasSuffix(strings.Trim(r.PathValue("id"), "/"), "/delay") {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	if err := checkPathID(raw); err != nil {
		respondErr(w, err)
		return
	}
	id := appID(raw)
	a, ok := st.root.App(id)
	if !ok {
		respondErr(w, appNotFound(id))
		return
	}
	st.limiter.ResetApp(string(a.ID), time.Time{})
	st.limiter.Reset(deploy.ConfigRef{AppID: string(a.ID), Version: configVersion(a)})
	s.offerInterest(st, true)
	w.WriteHeader(http.StatusNoContent)
}
