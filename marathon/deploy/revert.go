package deploy

import (
	"fmt"
	"slices"
	"sort"
)

// specEqual reports whether two app specs are identical in every field the
// core knows.
func specEqual(a, b AppSpec) bool {
	return a.ID == b.ID && a.Version.Equal(b.Version) && a.Instances == b.Instances &&
		slices.Equal(a.Dependencies, b.Dependencies) && a.UpgradeStrategy == b.UpgradeStrategy &&
		a.KillSelection == b.KillSelection && a.HasHealthChecks == b.HasHealthChecks &&
		a.HasReadinessChecks == b.HasReadinessChecks && a.Unreachable == b.Unreachable && a.Backoff == b.Backoff
}

// Revert applies the reverse of the plan's changes to current, the tree as
// it is now (which may hold changes of other deployments since), as
// Marathon's DeploymentPlanReverter does: apps the plan created are
// removed, apps it removed come back, apps it changed get their original
// spec; groups it added are removed once empty, groups it removed come back,
// and group dependencies it changed are restored. The daemon maps a
// reverted app back to its stored definition by id and Version.
func Revert(p DeploymentPlan, current RootState) RootState {
	apps := map[string]AppSpec{}
	for _, a := range current.Apps {
		apps[a.ID] = a
	}
	ids := map[string]bool{}
	for _, a := range p.Original.Apps {
		ids[a.ID] = true
	}
	for _, a := range p.Target.Apps {
		ids[a.ID] = true
	}
	for id := range ids {
		orig, hadOrig := p.Original.App(id)
		tgt, hadTgt := p.Target.App(id)
		switch {
		case hadOrig && hadTgt && specEqual(orig, tgt):
		case hadOrig:
			apps[id] = orig
		case hadTgt:
			delete(apps, id)
		}
	}
	out := RootState{}
	for _, a := range apps {
		out.Apps = append(out.Apps, a)
	}
	sort.Slice(out.Apps, func(i, j int) bool { return out.Apps[i].ID < out.Apps[j].ID })

	groups := map[string]GroupSpec{}
	for _, g := range current.Groups {
		groups[g.ID] = g
	}
	gids := map[string]bool{}
	for _, g := range p.Original.Groups {
		gids[g.ID] = true
	}
	for _, g := range p.Target.Groups {
		gids[g.ID] = true
	}
	for id := range gids {
		orig, hadOrig := p.Original.Group(id)
		tgt, hadTgt := p.Target.Group(id)
		switch {
		case hadOrig && hadTgt && slices.Equal(orig.Dependencies, tgt.Dependencies):
		case hadOrig:
			groups[id] = orig
		case hadTgt:
			cur, ok := groups[id]
			if !ok {
				continue
			}
			empty := true
			for _, a := range out.Apps {
				if inGroup(a.ID, id) {
					empty = false
					break
				}
			}
			if empty && slices.Equal(cur.Dependencies, tgt.Dependencies) {
				delete(groups, id)
			} else {
				// Still holds others' apps: keep it, but take back the
				// dependencies this deployment added.
				cur.Dependencies = slices.DeleteFunc(slices.Clone(cur.Dependencies), func(d string) bool {
					return slices.Contains(tgt.Dependencies, d)
				})
				groups[id] = cur
			}
		}
	}
	for _, g := range groups {
		out.Groups = append(out.Groups, g)
	}
	sort.Slice(out.Groups, func(i, j int) bool { return out.Groups[i].ID < out.Groups[j].ID })
	return out
}

// RollbackPlan is what DELETE /v2/deployments/{id} without force starts: a
// new deployment from current back to the reverted tree. The daemon cancels
// the running plan first (its apps are then unlocked), then runs this one.
// With force=true the daemon just abandons the running plan and computes
// nothing: instances stay as they are.
func RollbackPlan(p DeploymentPlan, current RootState, meta PlanMeta) (DeploymentPlan, error) {
	rp, err := Plan(current, Revert(p, current), meta)
	if err != nil {
		return DeploymentPlan{}, fmt.Errorf("roll back deployment %s: %w", p.ID, err)
	}
	return rp, nil
}
