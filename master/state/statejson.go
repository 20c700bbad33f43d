package state

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync/atomic"

	"github.com/strata-dc/strata/master/mesos"
)

// taskJSON is one version of one task's JSON, encoded by the first reader
// that needs it and kept for the next. The machine gives a task a fresh
// one whenever the task changes (task.changed), never touching one a
// published snapshot may hold, so readers on other goroutines share it
// without locks: on a 100,000-task master most tasks did not change since
// the last GET_STATE, and encoding them again was most of its cost.
type taskJSON struct {
	data atomic.Pointer[[]byte]
}

// of returns t's JSON; t must be the task version e was made for.
// scratch is a buffer to encode in, reused from task to task, so what is
// kept is exactly the JSON's size.
func (e *taskJSON) of(t *mesos.Task, scratch *[]byte) ([]byte, error) {
	if p := e.data.Load(); p != nil {
		return *p, nil
	}
	buf, err := appendTaskJSON((*scratch)[:0], t)
	*scratch = buf
	if err != nil {
		return nil, err
	}
	data := bytes.Clone(buf)
	e.data.Store(&data)
	return data, nil
}

// changed drops the task's cached JSON: every write to t.info calls it.
func (t *task) changed() { t.enc = nil }

// encoding returns the cache for the task's current version.
func (t *task) encoding() *taskJSON {
	if t.enc == nil {
		t.enc = new(taskJSON)
	}
	return t.enc
}

// AppendGetStateJSON appends the operator API's GET_STATE response for s
// to b: the same bytes json.Marshal makes of
// mesos.OperatorResponse{Type: GET_STATE, GetState: &s.State}, with the
// tasks (nearly all of it) taken from their cached encodings.
func (s *Snapshot) AppendGetStateJSON(b []byte) ([]byte, error) {
	typ, err := json.Marshal(mesos.OperatorGetState)
	if err != nil {
		return b, err
	}
	// Grown once to about the answer's size (a few hundred bytes per
	// task and agent), not doubled and copied a dozen times on the way.
	if st := &s.State; st.GetTasks != nil && st.GetAgents != nil {
		b = slices.Grow(b, 400*(len(st.GetTasks.Tasks)+len(st.GetTasks.UnreachableTasks))+800*len(st.GetAgents.Agents))
	}
	b = append(b, `{"type":`...)
	b = append(b, typ...)
	b = append(b, `,"get_state":{`...)
	st := &s.State
	var o object
	if st.GetTasks != nil {
		b = o.field(b, "get_tasks")
		if b, err = s.appendTasks(b, st.GetTasks); err != nil {
			return b, err
		}
	}
	for _, f := range [...]struct {
		name string
		v    any
		nil  bool
	}{
		{"get_executors", st.GetExecutors, st.GetExecutors == nil},
		{"get_frameworks", st.GetFrameworks, st.GetFrameworks == nil},
		{"get_agents", st.GetAgents, st.GetAgents == nil},
	} {
		if f.nil {
			continue
		}
		b = o.field(b, f.name)
		if b, err = appendJSON(b, f.v); err != nil {
			return b, err
		}
	}
	return append(b, "}}"...), nil
}

// appendTasks writes GetTasks as encoding/json would, omitting empty lists.
func (s *Snapshot) appendTasks(b []byte, gt *mesos.GetTasks) ([]byte, error) {
	b = append(b, '{')
	var o object
	var err error
	var scratch []byte
	for _, l := range [...]struct {
		name  string
		tasks []mesos.Task
		enc   []*taskJSON
	}{
		{"pending_tasks", gt.PendingTasks, nil},
		{"tasks", gt.Tasks, s.taskEnc},
		{"unreachable_tasks", gt.UnreachableTasks, s.unreachableEnc},
		{"completed_tasks", gt.CompletedTasks, nil},
		{"orphan_tasks", gt.OrphanTasks, nil},
	} {
		if len(l.tasks) == 0 {
			continue
		}
		b = o.field(b, l.name)
		if len(l.enc) != len(l.tasks) {
			// Not lists this snapshot built (or changed since): no cache.
			if b, err = appendJSON(b, l.tasks); err != nil {
				return b, err
			}
			continue
		}
		b = append(b, '[')
		for i := range l.tasks {
			if i > 0 {
				b = append(b, ',')
			}
			data, err := l.enc[i].of(&l.tasks[i], &scratch)
			if err != nil {
				return b, err
			}
			b = append(b, data...)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// object writes the commas between an object's fields.
type object struct{ n int }

func (o *object) field(b []byte, name string) []byte {
	if o.n > 0 {
		b = append(b, ',')
	}
	o.n++
	b = append(b, '"')
	b = append(b, name...)
	return append(b, `":`...)
}

func appendJSON(b []byte, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, data...), nil
}
