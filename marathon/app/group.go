package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Group is a node of Marathon's group tree: apps and sub-groups under one
// id, with dependencies that order how its apps start and stop. The JSON is
// what /v2/groups serves (pods are carried but Strata runs none).
type Group struct {
	ID           PathID            `json:"id"`
	Apps         []*App            `json:"apps"`
	Groups       []*Group          `json:"groups"`
	Pods         []json.RawMessage `json:"pods"`
	Dependencies []PathID          `json:"dependencies"`
	Version      string            `json:"version,omitempty"`
	EnforceRole  bool              `json:"enforceRole"`

	rawID PathID
	// climbs records that rawID, resolved against the group it was sent
	// under, climbed above the root (see climbsAboveRoot).
	climbs bool
	// rawDeps are the dependencies as sent, which the schema checks.
	rawDeps []PathID
}

// MarshalJSON prints empty collections as [].
func (g Group) MarshalJSON() ([]byte, error) {
	type plain Group
	if g.Apps == nil {
		g.Apps = []*App{}
	}
	if g.Groups == nil {
		g.Groups = []*Group{}
	}
	if g.Pods == nil {
		g.Pods = []json.RawMessage{}
	}
	if g.Dependencies == nil {
		g.Dependencies = []PathID{}
	}
	return json.Marshal(plain(g))
}

// NewRoot returns an empty root group.
func NewRoot() *Group { return &Group{ID: Root} }

// DecodeGroup reads a group sent to POST/PUT /v2/groups (under base, the
// group named in the URL, "/" for the root) and normalizes it: relative ids
// of the group, its apps and sub-groups, and all dependencies are resolved
// against the enclosing group, as Marathon does.
func DecodeGroup(data []byte, base PathID) (*Group, error) {
	stripped, err := stripNulls(data)
	if err != nil {
		return nil, decodeError(err)
	}
	var g Group
	if err := json.Unmarshal(stripped, &g); err != nil {
		return nil, decodeError(err)
	}
	var v violations
	g.normalize(base, "", &v)
	if err := v.err(422, MessageNotValid); err != nil {
		return nil, err
	}
	return &g, nil
}

// normalize resolves ids against base; path is the JSON path of g for
// reporting the deprecated-field checks of nested apps.
func (g *Group) normalize(base PathID, path string, v *violations) {
	if base == "" {
		base = Root
	}
	g.rawID = g.ID
	g.climbs = climbsAboveRoot(g.ID, base)
	g.rawDeps = slices.Clone(g.Dependencies)
	if g.ID == "" {
		g.ID = base
	} else {
		g.ID = g.ID.Canonical(base)
	}
	for i, d := range g.Dependencies {
		g.Dependencies[i] = d.Canonical(g.ID)
	}
	for i, a := range g.Apps {
		if a == nil {
			continue
		}
		if err := a.checkDeprecated(); err != nil {
			for _, d := range err.Details {
				for _, m := range d.Errors {
					v.add(fmt.Sprintf("%s/apps(%d)%s", path, i, strings.TrimSuffix(d.Path, "/")), m)
				}
			}
		}
		a.Normalize(g.ID)
	}
	for i, sub := range g.Groups {
		if sub != nil {
			sub.normalize(g.ID, fmt.Sprintf("%s/groups(%d)", path, i), v)
		}
	}
}

// Validate checks the tree as Marathon does for a group update: every app
// (relative to its group), ids children of their group, no app and group
// sharing an id, dependencies that exist and form no cycle.
func (g *Group) Validate(opts Options) *Error {
	var schema, v violations
	g.validate("", opts, &schema, &v)
	if err := schema.err(422, MessageInvalidJSON); err != nil {
		return err
	}
	if len(v.list) == 0 {
		if err := g.checkDependencies(); err != nil {
			v.add("/", err.Error())
		}
	}
	return v.err(422, MessageNotValid)
}

func (g *Group) validate(path string, opts Options, schema, v *violations) {
	if g.rawID != "" && !g.ID.IsRoot() {
		raw := g.rawID
		for _, m := range ValidatePathID(raw) {
			v.add(path+"/id", m)
		}
	}
	if g.climbs {
		v.add(path+"/id", "Path climbs above the root group")
	}
	for i, d := range g.rawDeps {
		if !pathIDPattern.MatchString(string(d)) {
			schema.add(fmt.Sprintf("%s/dependencies(%d)", path, i), "error.pattern")
		}
	}
	names := map[PathID]string{}
	for i, a := range g.Apps {
		p := fmt.Sprintf("%s/apps(%d)", path, i)
		if a == nil {
			v.add(p, "must not be null")
			continue
		}
		if err := a.Validate(g.ID, opts); err != nil {
			into := v
			if err.Message == MessageInvalidJSON {
				into = schema
			}
			for _, d := range err.Details {
				for _, m := range d.Errors {
					into.add(p+strings.TrimSuffix(d.Path, "/"), m)
				}
			}
		}
		names[a.ID] = "app"
	}
	for i, sub := range g.Groups {
		p := fmt.Sprintf("%s/groups(%d)", path, i)
		if sub == nil {
			v.add(p, "must not be null")
			continue
		}
		if sub.ID.Parent() != g.ID || sub.ID.IsRoot() {
			v.add(p+"/id", "Group has to be child of groups with parent id")
		}
		if names[sub.ID] == "app" {
			v.add(path, "Groups and Applications may not have the same identifier.")
		}
		sub.validate(p, opts, schema, v)
	}
}

// Walk calls fn for g and every group below it, parents first.
func (g *Group) Walk(fn func(*Group)) {
	fn(g)
	for _, s := range g.Groups {
		if s != nil {
			s.Walk(fn)
		}
	}
}

// Flatten returns every app in the tree, sorted by id.
func (g *Group) Flatten() []*App {
	var out []*App
	g.Walk(func(x *Group) {
		for _, a := range x.Apps {
			if a != nil {
				out = append(out, a)
			}
		}
	})
	slices.SortFunc(out, func(a, b *App) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// App finds an app by canonical id.
func (g *Group) App(id PathID) (*App, bool) {
	parent := g.Group(id.Parent())
	if parent == nil {
		return nil, false
	}
	for _, a := range parent.Apps {
		if a != nil && a.ID == id {
			return a, true
		}
	}
	return nil, false
}

// Group finds a group by canonical id (g itself for g.ID), or nil.
func (g *Group) Group(id PathID) *Group {
	if id == g.ID {
		return g
	}
	if !g.ID.IsAncestorOf(id) {
		return nil
	}
	for _, s := range g.Groups {
		if s != nil && (s.ID == id || s.ID.IsAncestorOf(id)) {
			return s.Group(id)
		}
	}
	return nil
}

// ensureGroup returns the group with id, creating it and any missing
// intermediate groups, as Marathon's RootGroup.updateApp does.
func (g *Group) ensureGroup(id PathID) *Group {
	cur := g
	for _, seg := range id.Segments()[len(g.ID.Segments()):] {
		next := cur.ID.Child(seg)
		var found *Group
		for _, s := range cur.Groups {
			if s != nil && s.ID == next {
				found = s
				break
			}
		}
		if found == nil {
			found = &Group{ID: next}
			cur.Groups = append(cur.Groups, found)
		}
		cur = found
	}
	return cur
}

// PutApp adds or replaces an app, creating its parent groups; g must be an
// ancestor of the app's id (normally the root).
func (g *Group) PutApp(a *App) error {
	if !g.ID.IsAncestorOf(a.ID) {
		return fmt.Errorf("put app %s: not under group %s", a.ID, g.ID)
	}
	parent := g.ensureGroup(a.ID.Parent())
	for i, x := range parent.Apps {
		if x != nil && x.ID == a.ID {
			parent.Apps[i] = a
			return nil
		}
	}
	parent.Apps = append(parent.Apps, a)
	return nil
}

// PlaceApp is PutApp for a definition a client sends: it also refuses an
// id that would make one id both an app and a group (an app inside an app,
// or an app taking a group's id), which Marathon's root group validation
// forbids. Stored trees are loaded with PutApp, which does not judge them,
// so state written before this check still loads.
func (g *Group) PlaceApp(a *App) error {
	for p := a.ID.Parent(); g.ID.IsAncestorOf(p); p = p.Parent() {
		if _, isApp := g.App(p); isApp {
			return fmt.Errorf("put app %s: %s is an app, not a group", a.ID, p)
		}
	}
	if g.Group(a.ID) != nil {
		return fmt.Errorf("put app %s: a group with this id exists", a.ID)
	}
	return g.PutApp(a)
}

// RemoveApp deletes an app; it reports whether the app existed. Groups
// left empty are kept, as in Marathon.
func (g *Group) RemoveApp(id PathID) bool {
	parent := g.Group(id.Parent())
	if parent == nil {
		return false
	}
	for i, x := range parent.Apps {
		if x != nil && x.ID == id {
			parent.Apps = slices.Delete(parent.Apps, i, i+1)
			return true
		}
	}
	return false
}

// RemoveGroup deletes a group and everything under it.
func (g *Group) RemoveGroup(id PathID) bool {
	parent := g.Group(id.Parent())
	if parent == nil || id.IsRoot() {
		return false
	}
	for i, x := range parent.Groups {
		if x != nil && x.ID == id {
			parent.Groups = slices.Delete(parent.Groups, i, i+1)
			return true
		}
	}
	return false
}

// appsUnder lists the ids of the apps at or below id (an app id gives
// itself).
func (g *Group) appsUnder(id PathID) []PathID {
	if a, ok := g.App(id); ok {
		return []PathID{a.ID}
	}
	sub := g.Group(id)
	if sub == nil {
		return nil
	}
	var out []PathID
	for _, a := range sub.Flatten() {
		out = append(out, a.ID)
	}
	return out
}

// AppDependencies expands dependencies to apps: an app depends on the apps
// it names, on every app under a group it names, and likewise for what its
// enclosing groups name. Unknown ids are returned in missing.
func (g *Group) AppDependencies() (deps map[PathID][]PathID, missing map[PathID][]PathID) {
	deps = map[PathID][]PathID{}
	missing = map[PathID][]PathID{}
	for _, a := range g.Flatten() {
		var named []PathID
		named = append(named, a.Dependencies...)
		for p := a.ID.Parent(); ; p = p.Parent() {
			if pg := g.Group(p); pg != nil {
				named = append(named, pg.Dependencies...)
			}
			if p.IsRoot() {
				break
			}
		}
		set := []PathID{}
		for _, d := range named {
			under := g.appsUnder(d)
			if under == nil && g.Group(d) == nil {
				missing[a.ID] = append(missing[a.ID], d)
				continue
			}
			for _, u := range under {
				if u != a.ID && !slices.Contains(set, u) {
					set = append(set, u)
				}
			}
		}
		slices.Sort(set)
		deps[a.ID] = set
	}
	return deps, missing
}

// CycleError names a dependency cycle: Path starts and ends with the same
// id.
type CycleError struct {
	Path []PathID
}

func (e *CycleError) Error() string {
	parts := make([]string, len(e.Path))
	for i, p := range e.Path {
		parts[i] = string(p)
	}
	return "Dependency graph has cyclic dependencies: " + strings.Join(parts, " -> ")
}

// checkDependencies reports dependencies on ids that do not exist and the
// first cycle found.
func (g *Group) checkDependencies() error {
	_, missing := g.AppDependencies()
	for _, a := range g.Flatten() {
		if m := missing[a.ID]; len(m) > 0 {
			return fmt.Errorf("app %s depends on %s, which does not exist", a.ID, m[0])
		}
	}
	_, err := g.StartOrder()
	return err
}

// StartOrder returns the app ids in an order where every app comes after
// the apps it depends on (ties broken by id, so the order is stable), or a
// *CycleError naming a cycle. Stopping goes in the reverse order.
func (g *Group) StartOrder() ([]PathID, error) {
	deps, _ := g.AppDependencies()
	ids := make([]PathID, 0, len(deps))
	for id := range deps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	const (
		white = iota
		grey
		black
	)
	color := map[PathID]int{}
	var order []PathID
	var stack []PathID
	var visit func(id PathID) error
	visit = func(id PathID) error {
		switch color[id] {
		case black:
			return nil
		case grey:
			i := slices.Index(stack, id)
			cycle := append(append([]PathID(nil), stack[i:]...), id)
			return &CycleError{Path: cycle}
		}
		color[id] = grey
		stack = append(stack, id)
		for _, d := range deps[id] {
			if err := visit(d); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
		order = append(order, id)
		return nil
	}
	for _, id := range ids {
		if err := visit(id); err != nil {
			return nil, err
		}
	}
	return order, nil
}
