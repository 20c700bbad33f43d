package deploy

import (
	"fmt"
	"sort"
	"strings"
)

// depGraph maps each app id to the app ids it depends on, with Marathon's
// rules: an app's dependency names an app or a group (meaning every app in
// it), and a group's dependency makes every app inside the group depend on
// every app inside the named group.
type depGraph map[string][]string

func buildGraph(r RootState) depGraph {
	ids := make([]string, 0, len(r.Apps))
	for _, a := range r.Apps {
		ids = append(ids, a.ID)
	}
	appsUnder := func(target string) []string {
		if _, ok := r.App(target); ok {
			return []string{target}
		}
		var out []string
		for _, id := range ids {
			if inGroup(id, target) {
				out = append(out, id)
			}
		}
		return out
	}
	sets := map[string]map[string]bool{}
	add := func(from, to string) {
		if from == to {
			return
		}
		if sets[from] == nil {
			sets[from] = map[string]bool{}
		}
		sets[from][to] = true
	}
	for _, a := range r.Apps {
		for _, d := range a.Dependencies {
			for _, to := range appsUnder(resolveID(parentGroup(a.ID), d)) {
				add(a.ID, to)
			}
		}
	}
	for _, g := range r.Groups {
		for _, d := range g.Dependencies {
			targets := appsUnder(resolveID(parentGroup(g.ID), d))
			for _, id := range ids {
				if !inGroup(id, g.ID) {
					continue
				}
				for _, to := range targets {
					add(id, to)
				}
			}
		}
	}
	g := depGraph{}
	for _, id := range ids {
		var deps []string
		for to := range sets[id] {
			deps = append(deps, to)
		}
		sort.Strings(deps)
		g[id] = deps
	}
	return g
}

// CycleError reports a dependency cycle, which would leave the planner no
// order to start the apps in.
type CycleError struct {
	Path []string // the cycle, first id repeated at the end
}

func (e *CycleError) Error() string {
	return "dependencies: cycle " + strings.Join(e.Path, " -> ")
}

// layers computes, for every app, the number of apps on the longest
// dependency chain that starts at it (1 for an app without dependencies).
// Apps in the same layer have no dependency on each other, so Marathon runs
// them in one step; lower layers start first.
func (g depGraph) layers() (map[string]int, error) {
	depth := map[string]int{}
	onPath := map[string]bool{}
	var stack []string
	var visit func(id string) error
	visit = func(id string) error {
		if _, ok := depth[id]; ok {
			return nil
		}
		if onPath[id] {
			i := len(stack) - 1
			for stack[i] != id {
				i--
			}
			cycle := append(append([]string{}, stack[i:]...), id)
			return &CycleError{Path: cycle}
		}
		onPath[id] = true
		stack = append(stack, id)
		best := 0
		for _, d := range g[id] {
			if _, known := g[d]; !known {
				continue // a dependency on something absent orders nothing
			}
			if err := visit(d); err != nil {
				return err
			}
			best = max(best, depth[d])
		}
		stack = stack[:len(stack)-1]
		onPath[id] = false
		depth[id] = best + 1
		return nil
	}
	ids := make([]string, 0, len(g))
	for id := range g {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := visit(id); err != nil {
			return nil, err
		}
	}
	return depth, nil
}

// groupByLayer returns the given ids grouped by layer, lowest layer first,
// each group sorted by id so plans are deterministic.
func groupByLayer(ids []string, depth map[string]int) [][]string {
	by := map[int][]string{}
	var keys []int
	for _, id := range ids {
		d := depth[id]
		if _, ok := by[d]; !ok {
			keys = append(keys, d)
		}
		by[d] = append(by[d], id)
	}
	sort.Ints(keys)
	out := make([][]string, 0, len(keys))
	for _, k := range keys {
		sort.Strings(by[k])
		out = append(out, by[k])
	}
	return out
}

// Dependencies returns the app ids the given app depends on in r, directly
// or through groups, resolved and sorted; the daemon shows it and tests use it.
func Dependencies(r RootState, appID string) []string {
	return append([]string(nil), buildGraph(r)[appID]...)
}

// CheckDependencies reports a dependency cycle in r, naming the apps on it.
func CheckDependencies(r RootState) error {
	_, err := buildGraph(r).layers()
	if err != nil {
		return fmt.Errorf("check dependencies: %w", err)
	}
	return nil
}
