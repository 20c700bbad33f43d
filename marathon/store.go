package marathon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/marathon/app"
)

// Coord layout under the --zk chroot (default <master chroot>/marathon).
// Every object has its own node, so no node grows with the cluster:
//
//	leader/json.info_N             election (ephemeral, leaderInfo)
//	framework-id                   {"id": …}
//	apps/<app_path>/<version>      one app definition per version
//	groups/<group_path>            a group's own fields (dependencies)
//	deployments/<id>               a running deployment (plan + step)
//	instances/<task id>            one instance
//	failures/<app_path>            the app's last task failure
//
// <app_path> is the app id with / as _ (Marathon's safe name; ids never
// contain _, so it is reversible); the root group is "_".
const (
	leaderGroup    = "leader"
	frameworkIDKey = "framework-id"
	appsDir        = "apps"
	groupsDir      = "groups"
	deploymentsDir = "deployments"
	instancesDir   = "instances"
	failuresDir    = "failures"
)

// commitChunk bounds the ops of one multi so a large scale-up never comes
// near ZooKeeper's request limit.
const commitChunk = 100

type frameworkRecord struct {
	ID string `json:"id"`
}

// groupRecord is what a group holds besides its apps and sub-groups.
type groupRecord struct {
	ID           app.PathID   `json:"id"`
	Dependencies []app.PathID `json:"dependencies,omitempty"`
	EnforceRole  bool         `json:"enforceRole,omitempty"`
}

func safeName(id app.PathID) string {
	if id.IsRoot() || id == "" {
		return "_"
	}
	return id.SafeName()
}

func appDir(id app.PathID) string { return appsDir + "/" + safeName(id) }

// loaded is everything a new leader reads from coord.
type loaded struct {
	frameworkID string
	root        *app.Group
	versions    map[app.PathID][]string // ascending
	deployments []*deployment
	instances   []*Instance
	failures    []*taskFailure
}

// load reads the whole state: the newest version of each app makes the
// current tree.
func load(ctx context.Context, st *coord.Store) (*loaded, error) {
	l := &loaded{root: app.NewRoot(), versions: map[app.PathID][]string{}}
	fw, _, err := coord.Get[frameworkRecord](ctx, st, frameworkIDKey)
	if err != nil && !errors.Is(err, coord.ErrNotFound) {
		return nil, fmt.Errorf("load framework id: %w", err)
	}
	l.frameworkID = fw.ID
	names, err := st.Children(ctx, appsDir)
	if err != nil {
		return nil, fmt.Errorf("load apps: %w", err)
	}
	for _, n := range names {
		vs, err := st.Children(ctx, appsDir+"/"+n)
		if err != nil {
			return nil, fmt.Errorf("load app %s: %w", n, err)
		}
		if len(vs) == 0 {
			continue
		}
		sort.Strings(vs)
		a, err := readAppVersion(ctx, st, appsDir+"/"+n+"/"+vs[len(vs)-1])
		if err != nil {
			return nil, err
		}
		l.versions[a.ID] = vs
		if err := l.root.PutApp(a); err != nil {
			return nil, fmt.Errorf("load app %s: %w", a.ID, err)
		}
	}
	groups, err := coord.List[groupRecord](ctx, st, groupsDir)
	if err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}
	for _, g := range groups {
		grp := ensureGroup(l.root, g.Value.ID)
		grp.Dependencies, grp.EnforceRole = g.Value.Dependencies, g.Value.EnforceRole
	}
	deps, err := coord.List[*deployment](ctx, st, deploymentsDir)
	if err != nil {
		return nil, fmt.Errorf("load deployments: %w", err)
	}
	for _, d := range deps {
		l.deployments = append(l.deployments, d.Value)
	}
	failures, err := coord.List[*taskFailure](ctx, st, failuresDir)
	if err != nil {
		return nil, fmt.Errorf("load task failures: %w", err)
	}
	for _, f := range failures {
		l.failures = append(l.failures, f.Value)
	}
	insts, err := coord.List[*Instance](ctx, st, instancesDir)
	if err != nil {
		return nil, fmt.Errorf("load instances: %w", err)
	}
	for _, i := range insts {
		l.instances = append(l.instances, i.Value)
	}
	return l, nil
}

// readAppVersion reads one stored app definition, normalized as on input.
func readAppVersion(ctx context.Context, st *coord.Store, path string) (*app.App, error) {
	raw, _, err := coord.Get[rawJSON](ctx, st, path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	a, err := app.DecodeApp(raw, app.Root)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return a, nil
}

// rawJSON keeps a stored value's bytes for the app model to decode with
// its own rules.
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }

// ensureGroup finds or creates the group id (and its parents) in root.
func ensureGroup(root *app.Group, id app.PathID) *app.Group {
	g := root
	cur := app.Root
	for _, seg := range id.Segments() {
		cur = cur.Child(seg)
		var next *app.Group
		for _, sub := range g.Groups {
			if sub.ID == cur {
				next = sub
				break
			}
		}
		if next == nil {
			next = &app.Group{ID: cur}
			g.Groups = append(g.Groups, next)
		}
		g = next
	}
	return g
}

// commit applies ops in chunks (each chunk atomic).
func commit(ctx context.Context, st *coord.Store, ops []coord.Op) error {
	for len(ops) > 0 {
		n := min(len(ops), commitChunk)
		if _, err := st.Commit(ctx, ops[:n]...); err != nil {
			return err
		}
		ops = ops[n:]
	}
	return nil
}

// Instance writes are packed into multis by size: a batch of thousands of
// status updates costs a few commits (one fsync each), not thousands, while
// each multi stays well under coord's request limit.
const (
	instanceChunkBytes = 768 << 10
	instanceChunkOps   = 1000
)

// instanceWrite is one instance's pending write: its record, or (del) the
// removal of its node.
type instanceWrite struct {
	inst *Instance
	del  bool
}

// putInstances writes instances (creating or overwriting their nodes).
func putInstances(ctx context.Context, st *coord.Store, list []*Instance, known map[string]bool) error {
	ws := make([]instanceWrite, 0, len(list))
	for _, i := range list {
		ws = append(ws, instanceWrite{inst: i})
	}
	if failed := writeInstances(ctx, st, ws, known); len(failed) > 0 {
		for _, err := range failed {
			return err
		}
	}
	return nil
}

// writeInstances applies instance writes in chunks, each one multi, and
// reports the writes that failed by task id (nil when all are durable).
// A chunk refused because our idea of which nodes exist was wrong (a node
// removed or created behind our back) is retried one write at a time,
// whatever is there; a chunk that fails otherwise fails all its writes,
// and the later chunks are still tried.
func writeInstances(ctx context.Context, st *coord.Store, ws []instanceWrite, known map[string]bool) map[string]error {
	var failed map[string]error
	fail := func(id string, err error) {
		if failed == nil {
			failed = map[string]error{}
		}
		failed[id] = err
	}
	var ops []coord.Op
	var chunk []instanceWrite
	size := 0
	flush := func() {
		if len(ops) == 0 {
			return
		}
		_, err := st.Commit(ctx, ops...)
		if err != nil && (errors.Is(err, coord.ErrNotFound) || errors.Is(err, coord.ErrVersionConflict)) {
			err = nil
			for _, w := range chunk {
				if e := writeInstance(ctx, st, w); e != nil {
					fail(w.inst.TaskID, e)
				}
			}
		} else if err != nil {
			for _, w := range chunk {
				fail(w.inst.TaskID, fmt.Errorf("store instances: %w", err))
			}
		}
		for _, w := range chunk {
			if _, bad := failed[w.inst.TaskID]; bad {
				continue
			}
			if w.del {
				delete(known, w.inst.TaskID)
			} else {
				known[w.inst.TaskID] = true
			}
		}
		ops, chunk, size = ops[:0], chunk[:0], 0
	}
	for _, w := range ws {
		path := instancesDir + "/" + w.inst.TaskID
		var op coord.Op
		n := len(path) + 64
		if w.del {
			if !known[w.inst.TaskID] {
				continue // never stored, or already gone
			}
			op = coord.DeleteOp(path, coord.Any)
		} else {
			data, err := json.Marshal(w.inst)
			if err != nil {
				fail(w.inst.TaskID, fmt.Errorf("encode instance %s: %w", w.inst.TaskID, err))
				continue
			}
			ver := coord.Any
			if !known[w.inst.TaskID] {
				ver = coord.Absent
			}
			op, n = coord.SetOp(path, json.RawMessage(data), ver), n+len(data)
		}
		if len(ops) > 0 && (size+n > instanceChunkBytes || len(ops) >= instanceChunkOps) {
			flush()
		}
		ops, chunk, size = append(ops, op), append(chunk, w), size+n
	}
	flush()
	return failed
}

// writeInstance applies one write whatever the node's state: a put
// creates or overwrites, a delete of a missing node is done.
func writeInstance(ctx context.Context, st *coord.Store, w instanceWrite) error {
	path := instancesDir + "/" + w.inst.TaskID
	if w.del {
		if err := st.Delete(ctx, path, coord.Any); err != nil && !errors.Is(err, coord.ErrNotFound) {
			return fmt.Errorf("delete instance %s: %w", w.inst.TaskID, err)
		}
		return nil
	}
	if _, err := st.Put(ctx, path, w.inst); err != nil {
		return fmt.Errorf("store instance %s: %w", w.inst.TaskID, err)
	}
	return nil
}

// deleteInstance removes an instance's node; a missing one is fine.
func deleteInstance(ctx context.Context, st *coord.Store, taskID string, known map[string]bool) error {
	err := st.Delete(ctx, instancesDir+"/"+taskID, coord.Any)
	if err != nil && !errors.Is(err, coord.ErrNotFound) {
		return fmt.Errorf("delete instance %s: %w", taskID, err)
	}
	delete(known, taskID)
	return nil
}

// groupRecords lists the groups of the tree that carry something worth
// storing, so empty groups and their dependencies survive a failover.
func groupRecords(root *app.Group) []groupRecord {
	var out []groupRecord
	root.Walk(func(g *app.Group) {
		if g.ID.IsRoot() && len(g.Dependencies) == 0 {
			return
		}
		out = append(out, groupRecord{ID: g.ID, Dependencies: g.Dependencies, EnforceRole: g.EnforceRole})
	})
	return out
}

// groupOps are the writes that store the group records of root that
// differ from those of cur (the stored tree) and delete those of groups
// that no longer exist.
func groupOps(ctx context.Context, st *coord.Store, cur, root *app.Group) ([]coord.Op, error) {
	have, err := st.Children(ctx, groupsDir)
	if err != nil {
		return nil, fmt.Errorf("store groups: %w", err)
	}
	old := map[string]groupRecord{}
	for _, g := range groupRecords(cur) {
		old[safeName(g.ID)] = g
	}
	want := map[string]groupRecord{}
	for _, g := range groupRecords(root) {
		want[safeName(g.ID)] = g
	}
	var ops []coord.Op
	for _, n := range have {
		if _, ok := want[n]; !ok {
			ops = append(ops, coord.DeleteOp(groupsDir+"/"+n, coord.Any))
		}
	}
	for _, n := range slices.Sorted(maps.Keys(want)) {
		g := want[n]
		o, stored := old[n]
		ver := coord.Absent
		if slices.Contains(have, n) {
			if stored && o.EnforceRole == g.EnforceRole && slices.Equal(o.Dependencies, g.Dependencies) {
				continue // unchanged
			}
			ver = coord.Any
		}
		ops = append(ops, coord.SetOp(groupsDir+"/"+n, g, ver))
	}
	return ops, nil
}

// versionNode is an app version's node name: the version itself, which
// sorts in time order.
func versionNode(v string) string { return strings.ReplaceAll(v, "/", "-") }
