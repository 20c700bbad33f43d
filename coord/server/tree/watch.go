package tree

import (
	"slices"

	"github.com/strata-dc/strata/coord/server/jute"
)

// watchMode is how a session watches one path in one manager. As in
// ZooKeeper 3.8's WatcherModeManager there is exactly one mode per
// (session, path, manager): a later registration replaces the earlier one,
// so getData(watch) on a path with a persistent watch turns the data half
// of it back into a one-shot watch, as ZooKeeper 3.8 does.
type watchMode uint8

const (
	modeStandard watchMode = iota
	modePersistent
	modeRecursive
)

type watcher struct {
	session int64
	mode    watchMode
}

// watchManager is ZooKeeper's WatchManager for one kind of watch: a table
// from path to watchers and, for removal and dumps, from session to paths.
type watchManager struct {
	paths     map[string][]watcher
	sessions  map[int64]map[string]struct{}
	total     int
	recursive int
}

func newWatchManager() *watchManager {
	return &watchManager{paths: make(map[string][]watcher), sessions: make(map[int64]map[string]struct{})}
}

func (m *watchManager) add(path string, session int64, mode watchMode) {
	ws := m.paths[path]
	for i := range ws {
		if ws[i].session == session {
			m.adjustRecursive(ws[i].mode, mode)
			ws[i].mode = mode
			return
		}
	}
	m.paths[path] = append(ws, watcher{session, mode})
	ps := m.sessions[session]
	if ps == nil {
		ps = make(map[string]struct{})
		m.sessions[session] = ps
	}
	ps[path] = struct{}{}
	m.total++
	m.adjustRecursive(modeStandard, mode)
}

func (m *watchManager) adjustRecursive(old, new watchMode) {
	if old == modeRecursive {
		m.recursive--
	}
	if new == modeRecursive {
		m.recursive++
	}
}

// has reports whether session watches path in any mode.
func (m *watchManager) has(path string, session int64) bool {
	_, ok := m.sessions[session][path]
	return ok
}

// watched reports whether any session watches path.
func (m *watchManager) watched(path string) bool { return len(m.paths[path]) > 0 }

// remove drops session's watch on path, whatever its mode.
func (m *watchManager) remove(path string, session int64) bool {
	ws := m.paths[path]
	i := slices.IndexFunc(ws, func(w watcher) bool { return w.session == session })
	if i < 0 {
		return false
	}
	m.drop(path, ws, i)
	return true
}

// drop removes ws[i], the watchers of path.
func (m *watchManager) drop(path string, ws []watcher, i int) {
	w := ws[i]
	if ws = slices.Delete(ws, i, i+1); len(ws) == 0 {
		delete(m.paths, path)
	} else {
		m.paths[path] = ws
	}
	m.forget(path, w)
}

// forget updates the session index and counters for a watcher that left
// path's list.
func (m *watchManager) forget(path string, w watcher) {
	if ps := m.sessions[w.session]; ps != nil {
		delete(ps, path)
		if len(ps) == 0 {
			delete(m.sessions, w.session)
		}
	}
	m.total--
	m.adjustRecursive(w.mode, modeStandard)
}

func (m *watchManager) removeSession(session int64) {
	for path := range m.sessions[session] {
		m.remove(path, session)
	}
}

// trigger adds to out the sessions to notify of event typ on path and
// consumes one-shot watches, as WatchManager.triggerWatch: watchers of path
// itself fire (one-shot ones are removed), recursive watchers of path and of
// every ancestor fire too, except for NodeChildrenChanged, which recursive
// watches never see. Each session appears once in out.
func (m *watchManager) trigger(path string, typ int32, out *sessionList) {
	p := path
	for level := 0; ; level++ {
		if ws, ok := m.paths[p]; ok {
			kept := ws[:0]
			for _, w := range ws {
				switch {
				case w.mode == modeRecursive:
					if typ != jute.EventNodeChildrenChanged {
						out.add(w.session)
					}
				case level == 0:
					out.add(w.session)
					if w.mode == modeStandard {
						m.forget(p, w)
						continue
					}
				}
				kept = append(kept, w)
			}
			if len(kept) == 0 {
				delete(m.paths, p)
			} else {
				m.paths[p] = kept
			}
		}
		if m.recursive == 0 || p == "/" || p == "" {
			return
		}
		parent, _, _ := splitPath(p)
		p = eventPath(parent)
	}
}

// sessionList is an ordered set of sessions: a slice while small, with an
// index once many sessions watch the same thing.
type sessionList struct {
	list []int64
	set  map[int64]struct{}
}

func (l *sessionList) add(s int64) {
	if l.set != nil {
		if _, ok := l.set[s]; ok {
			return
		}
		l.set[s] = struct{}{}
	} else if slices.Contains(l.list, s) {
		return
	}
	l.list = append(l.list, s)
	if l.set == nil && len(l.list) > 16 {
		l.set = make(map[int64]struct{}, 2*len(l.list))
		for _, x := range l.list {
			l.set[x] = struct{}{}
		}
	}
}

// trigger is one watch-firing a mutation causes, recorded as the mutation
// happens and fired once the request commits: a multi that fails must
// neither notify nor consume watches. acl is the node's ACL at the time,
// which events are filtered by (ZOOKEEPER-4799, in Debian's 3.8.0 too).
type trigger struct {
	path string
	typ  int32 // NodeCreated, NodeDeleted (both managers), NodeDataChanged, NodeChildrenChanged
	acl  []jute.ACL
}

// fire turns triggers into events, in order.
func (t *Tree) fire(trigs []trigger) []Event {
	var out []Event
	for _, tr := range trigs {
		var sessions sessionList
		switch tr.typ {
		case jute.EventNodeCreated, jute.EventNodeDataChanged:
			t.dataW.trigger(tr.path, tr.typ, &sessions)
		case jute.EventNodeChildrenChanged:
			t.childW.trigger(tr.path, tr.typ, &sessions)
		case jute.EventNodeDeleted:
			// Data watchers first; child watchers already told are skipped
			// (their one-shot watches are still consumed).
			t.dataW.trigger(tr.path, tr.typ, &sessions)
			t.childW.trigger(tr.path, tr.typ, &sessions)
		}
		for _, s := range sessions.list {
			if t.mayRead(s, tr.acl) {
				out = append(out, event(s, tr.typ, tr.path))
			}
		}
	}
	return out
}

func event(session int64, typ int32, path string) Event {
	return Event{Session: session, Ev: jute.WatcherEvent{Type: typ, State: jute.StateSyncConnected, Path: path}}
}

// mayRead is the delivery-time check: a session sees an event only if it
// may read the node the event is about.
func (t *Tree) mayRead(session int64, acl []jute.ACL) bool {
	s := t.sessions[session]
	if s == nil {
		return allowed(acl, jute.PermRead, nil, false)
	}
	return allowed(acl, jute.PermRead, s.auth, s.super)
}

// RemoveWatches drops every watch a session holds, as ZooKeeper does when a
// connection closes; no transaction is logged (watches are not durable).
func (t *Tree) RemoveWatches(session int64) {
	t.dataW.removeSession(session)
	t.childW.removeSession(session)
}

// watchOp handles addWatch, removeWatches, checkWatches and setWatches.
func (t *Tree) watchOp(c Ctx, op int32, req jute.Record) (jute.Record, []Event, int32) {
	switch op {
	case jute.OpAddWatch:
		r, ok := req.(*jute.AddWatchRequest)
		if !ok {
			return nil, nil, jute.ErrMarshallingError
		}
		var mode watchMode
		switch r.Mode {
		case jute.AddWatchPersistent:
			mode = modePersistent
		case jute.AddWatchPersistentRecursive:
			mode = modeRecursive
		default:
			return nil, nil, jute.ErrMarshallingError // ZooKeeper's IllegalArgumentException
		}
		if c.Session != 0 {
			t.dataW.add(r.Path, c.Session, mode)
			t.childW.add(r.Path, c.Session, mode)
		}
		return &jute.ErrorResponse{Err: 0}, nil, 0

	case jute.OpRemoveWatches, jute.OpCheckWatches:
		r, ok := req.(*jute.WatchesRequest)
		if !ok {
			return nil, nil, jute.ErrMarshallingError
		}
		var mgrs []*watchManager
		switch r.Type {
		case jute.WatcherChildren:
			mgrs = []*watchManager{t.childW}
		case jute.WatcherData:
			mgrs = []*watchManager{t.dataW}
		case jute.WatcherAny:
			mgrs = []*watchManager{t.childW, t.dataW}
		default:
			// ZooKeeper 3.8's WatcherType.fromInt throws for the persistent
			// types, which the server answers as a marshalling error.
			return nil, nil, jute.ErrMarshallingError
		}
		found := false
		for _, m := range mgrs {
			if op == jute.OpRemoveWatches {
				found = m.remove(r.Path, c.Session) || found
			} else {
				// ZooKeeper 3.8 answers checkWatches from the server's
				// watch table without asking whose watch it is: any
				// session's watch on the path counts.
				found = found || m.watched(r.Path)
			}
		}
		if !found {
			return nil, nil, jute.ErrNoWatcher
		}
		return &jute.Empty{}, nil, 0

	case jute.OpSetWatches, jute.OpSetWatches2:
		r, ok := req.(*jute.SetWatches)
		if !ok {
			return nil, nil, jute.ErrMarshallingError
		}
		if c.Session == 0 {
			return &jute.Empty{}, nil, 0
		}
		return &jute.Empty{}, t.setWatches(c.Session, r), 0
	}
	return nil, nil, jute.ErrUnimplemented
}

// setWatches re-arms a reconnecting client's watches, as DataTree.setWatches:
// a watch whose condition already happened after relativeZxid (the last
// zxid the client saw) fires at once instead of being registered. These
// immediate events are not ACL-filtered, as in ZooKeeper.
func (t *Tree) setWatches(session int64, r *jute.SetWatches) []Event {
	var out []Event
	for _, p := range r.DataWatches {
		switch n := t.lookup(p); {
		case n == nil:
			out = append(out, event(session, jute.EventNodeDeleted, p))
		case n.mzxid > r.RelativeZxid:
			out = append(out, event(session, jute.EventNodeDataChanged, p))
		default:
			t.dataW.add(p, session, modeStandard)
		}
	}
	for _, p := range r.ExistWatches {
		if t.lookup(p) != nil {
			out = append(out, event(session, jute.EventNodeCreated, p))
		} else {
			t.dataW.add(p, session, modeStandard)
		}
	}
	for _, p := range r.ChildWatches {
		switch n := t.lookup(p); {
		case n == nil:
			out = append(out, event(session, jute.EventNodeDeleted, p))
		case n.pzxid > r.RelativeZxid:
			out = append(out, event(session, jute.EventNodeChildrenChanged, p))
		default:
			t.childW.add(p, session, modeStandard)
		}
	}
	for _, p := range r.PersistentWatches {
		t.childW.add(p, session, modePersistent)
		t.dataW.add(p, session, modePersistent)
	}
	for _, p := range r.PersistentRecursive {
		t.childW.add(p, session, modeRecursive)
		t.dataW.add(p, session, modeRecursive)
	}
	return out
}
