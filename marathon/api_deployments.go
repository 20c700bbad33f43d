package marathon

import (
	"errors"
	"net/http"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
)

// listDeployments is GET /v2/deployments.
func (s *Server) listDeployments(st *leaderState, w http.ResponseWriter, _ *http.Request) {
	out := []deploy.DeploymentInfo{}
	readiness := st.readinessOf()
	for _, p := range st.runningPlans() {
		out = append(out, st.deployments[p.ID].Info(readiness))
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteDeployment is DELETE /v2/deployments/{id}: without force the
// deployment is rolled back (a new deployment restores the definitions it
// replaced, answered as a deploying call); with ?force=true it is just
// stopped where it is (202).
func (s *Server) deleteDeployment(st *leaderState, w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d := st.deployments[id]
	if d == nil {
		writeError(w, http.StatusNotFound, "DeploymentPlan "+id+" does not exist")
		return
	}
	if boolParam(r, "force") {
		ctx, cancel := st.opCtx()
		err := st.store.Delete(ctx, deploymentsDir+"/"+id, coord.Any)
		cancel()
		if err != nil && !errors.Is(err, coord.ErrNotFound) {
			respondErr(w, err)
			return
		}
		delete(st.deployments, id)
		s.events.publish(event{"eventType": "deployment_failed", "id": id, "plan": d.Plan.View()})
		s.drive(st, st.now())
		w.WriteHeader(http.StatusAccepted)
		return
	}
	now := st.now()
	target := cloneGroup(st.root)
	for _, appID := range d.Plan.AffectedApps() {
		pid := app.PathID(appID)
		orig, had := d.Original[pid]
		_, has := st.root.App(pid)
		switch {
		case had:
			// The original definition comes back with its own config
			// version, so instances still running it are kept and only
			// those of the cancelled change are replaced.
			next := orig.Clone()
			next.Version = app.FormatVersion(now)
			cfg := next.Version
			if orig.VersionInfo != nil {
				cfg = orig.VersionInfo.LastConfigChangeAt
			}
			next.VersionInfo = &app.VersionInfo{LastScalingAt: next.Version, LastConfigChangeAt: cfg}
			_ = target.PutApp(next)
		case has:
			target.RemoveApp(pid)
		}
	}
	plan, err := s.apply(st, deployChange{target: target, force: true, now: now})
	if err != nil {
		respondErr(w, err)
		return
	}
	writeDeployment(w, http.StatusOK, plan)
}
