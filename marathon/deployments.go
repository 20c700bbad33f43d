package marathon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
)

// configVersion is the app's config version: versionInfo.lastConfigChangeAt
// (which a restart moves too), else its version.
func configVersion(a *app.App) time.Time {
	if a.VersionInfo != nil && a.VersionInfo.LastConfigChangeAt != "" {
		if t, err := app.ParseVersion(a.VersionInfo.LastConfigChangeAt); err == nil {
			return t
		}
	}
	t, _ := app.ParseVersion(a.Version)
	return t
}

// specOf maps an app onto what the deployment core needs.
func specOf(a *app.App) deploy.AppSpec {
	deps := make([]string, 0, len(a.Dependencies))
	for _, d := range a.Dependencies {
		deps = append(deps, string(d))
	}
	ks := deploy.KillSelection(a.KillSelection)
	return deploy.AppSpec{
		ID:                 string(a.ID),
		Version:            configVersion(a),
		Instances:          a.Instances,
		Dependencies:       deps,
		UpgradeStrategy:    deploy.UpgradeStrategy{MinimumHealthCapacity: a.UpgradeStrategy.MinimumHealthCapacity, MaximumOverCapacity: a.UpgradeStrategy.MaximumOverCapacity},
		KillSelection:      ks,
		HasHealthChecks:    len(a.HealthChecks) > 0,
		HasReadinessChecks: len(a.ReadinessChecks) > 0,
		Unreachable: deploy.UnreachableStrategy{Disabled: a.UnreachableStrategy.Disabled,
			InactiveAfterSeconds: a.UnreachableStrategy.InactiveAfterSeconds, ExpungeAfterSeconds: a.UnreachableStrategy.ExpungeAfterSeconds},
		Backoff: deploy.BackoffStrategy{BackoffSeconds: float64(a.BackoffSeconds), BackoffFactor: a.BackoffFactor,
			MaxLaunchDelaySeconds: float64(a.MaxLaunchDelaySeconds)},
	}
}

// rootState is the tree as the deployment core sees it.
func rootState(root *app.Group) deploy.RootState {
	var rs deploy.RootState
	for _, a := range root.Flatten() {
		rs.Apps = append(rs.Apps, specOf(a))
	}
	root.Walk(func(g *app.Group) {
		if len(g.Dependencies) > 0 {
			deps := make([]string, 0, len(g.Dependencies))
			for _, d := range g.Dependencies {
				deps = append(deps, string(d))
			}
			rs.Groups = append(rs.Groups, deploy.GroupSpec{ID: string(g.ID), Dependencies: deps})
		}
	})
	return rs
}

// trimPlan keeps in the plan's trees only the apps it touches, so a stored
// deployment stays small however many apps the tree holds.
func trimPlan(p deploy.DeploymentPlan) deploy.DeploymentPlan {
	keep := func(rs deploy.RootState) deploy.RootState {
		out := deploy.RootState{Groups: rs.Groups}
		for _, a := range rs.Apps {
			if p.Affects(a.ID) {
				out.Apps = append(out.Apps, a)
			}
		}
		return out
	}
	p.Original, p.Target = keep(p.Original), keep(p.Target)
	return p
}

// deployment is a running deployment as stored: the core's plan and step,
// and the full definitions of the apps it changes as they were before.
type deployment struct {
	deploy.Deployment
	Original map[app.PathID]*app.App `json:"originalApps,omitempty"`
}

// runningPlans lists the running deployments' plans, oldest first.
func (st *leaderState) runningPlans() []deploy.DeploymentPlan {
	out := make([]deploy.DeploymentPlan, 0, len(st.deployments))
	for _, d := range st.deployments {
		out = append(out, d.Plan)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Version.Equal(out[j].Version) {
			return out[i].Version.Before(out[j].Version)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// deployChange is a change of the tree asked for by the API.
type deployChange struct {
	target *app.Group
	force  bool
	toKill map[string][]string // instances to kill first when scaling down
	now    time.Time
}

// apply plans the change from the current tree to target, refuses it when
// a running deployment holds one of its apps (unless forced, which cancels
// those deployments), stores the new app versions and the deployment, and
// starts driving it. s.mu is held.
func (s *Server) apply(st *leaderState, c deployChange) (deploy.DeploymentPlan, error) {
	if err := assignServicePorts(st.root, c.target); err != nil {
		return deploy.DeploymentPlan{}, err
	}
	plan, err := deploy.Plan(rootState(st.root), rootState(c.target),
		deploy.PlanMeta{ID: st.newID(), Version: c.now, ToKill: c.toKill})
	if err != nil {
		return plan, &apiError{status: 422, message: err.Error()}
	}
	conflicts := deploy.Conflicting(plan, st.runningPlans())
	if len(conflicts) > 0 && !c.force {
		return plan, deploy.CheckConflicts(plan, conflicts)
	}
	// Keep the definitions being replaced, so DELETE
	// /v2/deployments/{id} can roll back to them.
	original := map[app.PathID]*app.App{}
	for _, id := range plan.AffectedApps() {
		if a, ok := st.root.App(app.PathID(id)); ok {
			original[a.ID] = a
		}
	}
	plan = trimPlan(plan)
	var dep *deployment
	if !plan.IsEmpty() {
		dep = &deployment{Deployment: *deploy.NewDeployment(plan), Original: original}
	}
	// One commit (atomic unless the change is huge): the cancelled
	// deployments, the new app versions, and the new deployment, so a new
	// leader never finds a changed app without the deployment carrying it.
	ctx, cancel := st.opCtx()
	defer cancel()
	var ops []coord.Op
	for _, d := range conflicts {
		ops = append(ops, coord.DeleteOp(deploymentsDir+"/"+d.ID, coord.Any))
	}
	tree, err := s.treeOps(ctx, st, c.target)
	if err != nil {
		return plan, err
	}
	ops = append(ops, tree.ops...)
	if dep != nil {
		ops = append(ops, coord.SetOp(deploymentsDir+"/"+plan.ID, dep, coord.Absent))
	}
	if err := commit(ctx, st.store, ops); err != nil {
		return plan, fmt.Errorf("store deployment %s: %w", plan.ID, err)
	}
	for _, d := range conflicts {
		delete(st.deployments, d.ID)
		s.events.publish(event{"eventType": "deployment_failed", "id": d.ID, "plan": d.View()})
	}
	for id, vs := range tree.versions {
		st.versions[id] = vs
	}
	for _, id := range tree.removed {
		delete(st.versions, id)
		// Best effort: a stale failure record is harmless.
		if err := st.store.Delete(ctx, failuresDir+"/"+safeName(id), coord.Any); err != nil && !errors.Is(err, coord.ErrNotFound) {
			s.log.Warn("delete last task failure", "app", id, "err", err)
		}
		delete(st.lastFailure, id)
	}
	st.root = c.target
	s.metrics.deployments.Add(1)
	if dep == nil {
		s.events.publish(event{"eventType": "deployment_success", "id": plan.ID, "plan": plan.View()})
		return plan, nil
	}
	st.deployments[plan.ID] = dep
	s.events.publish(event{"eventType": "deployment_info", "plan": plan.View(), "currentStep": plan.StepView(0)})
	s.drive(st, c.now)
	return plan, nil
}

// Service ports are assigned from this range, as Marathon's
// --local_port_min/--local_port_max default.
const (
	servicePortMin = 10000
	servicePortMax = 20000
)

// assignServicePorts gives every port definition declared with port 0 in
// a new or changed app of target a service port no other app uses, as
// Marathon does (load balancers route by them; with requirePorts they are
// the host ports too).
func assignServicePorts(cur, target *app.Group) error {
	used := map[int]bool{}
	var pending []*app.App
	for _, a := range target.Flatten() {
		for _, pd := range a.PortDefinitions {
			if pd.Port != 0 {
				used[pd.Port] = true
			}
		}
		if old, ok := cur.App(a.ID); !ok || old.Version != a.Version {
			pending = append(pending, a)
		}
	}
	next := servicePortMin
	for _, a := range pending {
		for i := range a.PortDefinitions {
			if a.PortDefinitions[i].Port != 0 {
				continue
			}
			for next < servicePortMax && used[next] {
				next++
			}
			if next >= servicePortMax {
				return &apiError{status: http.StatusUnprocessableEntity,
					message: fmt.Sprintf("app %s: portDefinitions[%d]: no free service port left in [%d, %d)", a.ID, i, servicePortMin, servicePortMax)}
			}
			a.PortDefinitions[i].Port = next
			used[next] = true
		}
	}
	return nil
}

// treeChange is what storing a new tree takes: the ops, and the version
// lists and removed apps to apply in memory once they are committed.
type treeChange struct {
	ops      []coord.Op
	versions map[app.PathID][]string
	removed  []app.PathID
}

// treeOps computes the writes that make target the stored tree: new app
// versions (keeping the last ZKMaxVersions), removed apps, groups.
func (s *Server) treeOps(ctx context.Context, st *leaderState, target *app.Group) (treeChange, error) {
	tc := treeChange{versions: map[app.PathID][]string{}}
	next := map[app.PathID]*app.App{}
	for _, a := range target.Flatten() {
		next[a.ID] = a
	}
	for _, a := range st.root.Flatten() {
		if _, ok := next[a.ID]; ok {
			continue
		}
		for _, v := range st.versions[a.ID] {
			tc.ops = append(tc.ops, coord.DeleteOp(appDir(a.ID)+"/"+v, coord.Any))
		}
		if len(st.versions[a.ID]) > 0 {
			tc.ops = append(tc.ops, coord.DeleteOp(appDir(a.ID), coord.Any))
		}
		tc.removed = append(tc.removed, a.ID)
	}
	for _, a := range target.Flatten() {
		id := a.ID
		if old, ok := st.root.App(id); ok && old.Version == a.Version {
			continue
		}
		node := versionNode(a.Version)
		vs := slices.Clone(st.versions[id])
		if slices.Contains(vs, node) {
			continue
		}
		tc.ops = append(tc.ops, coord.SetOp(appDir(id)+"/"+node, a, coord.Absent))
		vs = append(vs, node)
		for len(vs) > s.cfg.ZKMaxVersions {
			tc.ops = append(tc.ops, coord.DeleteOp(appDir(id)+"/"+vs[0], coord.Any))
			vs = vs[1:]
		}
		tc.versions[id] = vs
	}
	groups, err := groupOps(ctx, st.store, st.root, target)
	if err != nil {
		return tc, err
	}
	tc.ops = append(tc.ops, groups...)
	return tc, nil
}

// drive advances every running deployment and keeps apps without one at
// their instance count (replacing failed and inactive unreachable
// instances), then sets offer interest. s.mu is held.
func (s *Server) drive(st *leaderState, now time.Time) {
	if !st.subscribed {
		return
	}
	start := time.Now()
	defer func() {
		st.lastDrive, st.driveCost, st.driveDue = start, time.Since(start), false
	}()
	cores := func(id string) []deploy.Instance {
		list := st.appInstances(app.PathID(id))
		out := make([]deploy.Instance, 0, len(list))
		for _, i := range list {
			out = append(out, i.core())
		}
		return out
	}
	locked := map[string]bool{}
	for _, plan := range st.runningPlans() {
		d := st.deployments[plan.ID]
		before := d.Step
		pr := d.Advance(cores, now)
		for _, ad := range pr.Decisions {
			victims := make([]*Instance, 0, len(ad.Decision.Kill))
			for _, id := range ad.Decision.Kill {
				if i := st.instances[id]; i != nil {
					victims = append(victims, i)
				}
			}
			s.killAll(st, victims)
			s.schedule(st, app.PathID(ad.App.ID), ad.App.Version, ad.Decision.Launch, now)
		}
		for _, n := range pr.StepsDone {
			s.events.publish(event{"eventType": "deployment_step_success", "plan": d.Plan.View(), "currentStep": d.Plan.StepView(n - 1)})
		}
		ctx, cancel := st.opCtx()
		switch {
		case pr.Finished:
			if err := st.store.Delete(ctx, deploymentsDir+"/"+plan.ID, coord.Any); err != nil && !errors.Is(err, coord.ErrNotFound) {
				s.log.Error("finish deployment", "id", plan.ID, "err", err)
				cancel()
				continue
			}
			delete(st.deployments, plan.ID)
			s.events.publish(event{"eventType": "deployment_success", "id": plan.ID, "plan": d.Plan.View()})
			for _, a := range d.Plan.Steps {
				for _, act := range a.Actions {
					if act.Action == deploy.StopApplication {
						s.events.publish(event{"eventType": "app_terminated_event", "appId": act.App})
					}
				}
			}
		case d.Step != before:
			if _, err := st.store.Put(ctx, deploymentsDir+"/"+plan.ID, d); err != nil {
				s.log.Error("store deployment step", "id", plan.ID, "err", err)
			}
			s.events.publish(event{"eventType": "deployment_info", "plan": d.Plan.View(), "currentStep": d.Plan.StepView(d.Step - 1)})
		}
		cancel()
		if !pr.Finished {
			for _, id := range d.Plan.AffectedApps() {
				locked[id] = true
			}
		}
	}
	for _, a := range st.root.Flatten() {
		if locked[string(a.ID)] {
			continue
		}
		spec := specOf(a)
		// Instances queued for a config the app no longer has (a
		// deployment was stopped half way) would never launch: drop
		// them, and the count is made up with the current config.
		for _, i := range st.appInstances(a.ID) {
			if i.scheduled() && !i.Config.Equal(spec.Version) {
				s.kill(st, i)
			}
		}
		ud := deploy.DecideUnreachable(spec, cores(string(a.ID)), now)
		for _, id := range ud.Expunge {
			if i := st.instances[id]; i != nil {
				s.kill(st, i)
				ctx, cancel := st.opCtx()
				if err := deleteInstance(ctx, st.store, id, st.known); err == nil {
					st.remove(i)
				}
				cancel()
			}
		}
		for _, id := range ud.Kill {
			if i := st.instances[id]; i != nil {
				s.kill(st, i)
			}
		}
		s.schedule(st, a.ID, spec.Version, ud.Launch, now)
	}
	// Instances of apps that no longer exist and no deployment stops.
	for id := range st.byApp {
		if _, ok := st.root.App(id); ok || locked[string(id)] {
			continue
		}
		var victims []*Instance
		for _, i := range st.appInstances(id) {
			if !i.Killing {
				victims = append(victims, i)
			}
		}
		s.killAll(st, victims)
	}
	// The queue forgets apps with nothing waiting.
	for id := range st.queueSince {
		if !st.waiting(id) {
			delete(st.stats, id)
			delete(st.queueSince, id)
		}
	}
	for id := range st.stats {
		if !st.waiting(id) {
			delete(st.stats, id)
		}
	}
	s.offerInterest(st, false)
}

// waiting reports whether an app has instances in the launch queue.
func (st *leaderState) waiting(id app.PathID) bool {
	for _, i := range st.byApp[id] {
		if i.scheduled() {
			return true
		}
	}
	return false
}

// cloneGroup deep-copies a tree so a change can be planned against the
// current one.
func cloneGroup(g *app.Group) *app.Group {
	out := *g
	out.Apps = make([]*app.App, 0, len(g.Apps))
	for _, a := range g.Apps {
		out.Apps = append(out.Apps, a.Clone())
	}
	out.Groups = make([]*app.Group, 0, len(g.Groups))
	for _, sub := range g.Groups {
		out.Groups = append(out.Groups, cloneGroup(sub))
	}
	out.Dependencies = slices.Clone(g.Dependencies)
	return &out
}
