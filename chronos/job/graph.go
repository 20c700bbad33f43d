package job

import (
	"container/heap"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Graph is the set of jobs and the parent → child edges between them. It
// keeps Chronos' invariants stronger than Chronos did: every parent exists
// (Chronos accepted a missing one and then dropped the job) and there is no
// cycle. It is not safe for concurrent use; its owner serialises access.
type Graph struct {
	jobs     map[string]*Job
	children map[string]map[string]struct{}
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{jobs: map[string]*Job{}, children: map[string]map[string]struct{}{}}
}

// Len is the number of jobs.
func (g *Graph) Len() int { return len(g.jobs) }

// Job returns the stored job; callers must not modify it (Clone first).
func (g *Graph) Job(name string) (*Job, bool) {
	j, ok := g.jobs[name]
	return j, ok
}

// Names lists all jobs, sorted.
func (g *Graph) Names() []string {
	out := make([]string, 0, len(g.jobs))
	for n := range g.jobs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Children lists the jobs that name j among their parents, sorted.
func (g *Graph) Children(name string) []string {
	out := make([]string, 0, len(g.children[name]))
	for c := range g.children[name] {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Parents lists j's parents as the job gives them.
func (g *Graph) Parents(name string) []string {
	if j, ok := g.jobs[name]; ok {
		return slices.Clone(j.Parents)
	}
	return nil
}

func parentsError(format string, args ...any) *Errors {
	return &Errors{List: []FieldError{{Field: "parents", Message: fmt.Sprintf(format, args...)}}}
}

// Put adds a job or replaces the one with the same name, re-linking its
// parents. It refuses (with *Errors on "parents") a parent that does not
// exist and a change that would close a cycle, naming the cycle. The graph
// keeps j; don't modify it afterwards.
func (g *Graph) Put(j *Job) error {
	var missing []string
	for _, p := range j.Parents {
		if _, ok := g.jobs[p]; !ok && p != j.Name {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return parentsError("no such job: %s", strings.Join(missing, ", "))
	}
	for _, p := range j.Parents {
		// A cycle through j needs a path j → … → p among the existing edges.
		if path := g.path(j.Name, p); path != nil {
			return parentsError("would create the cycle %s -> %s", strings.Join(path, " -> "), j.Name)
		}
	}
	if old, ok := g.jobs[j.Name]; ok {
		g.unlink(old)
	}
	g.jobs[j.Name] = j
	g.link(j)
	return nil
}

func (g *Graph) link(j *Job) {
	for _, p := range j.Parents {
		if g.children[p] == nil {
			g.children[p] = map[string]struct{}{}
		}
		g.children[p][j.Name] = struct{}{}
	}
}

func (g *Graph) unlink(j *Job) {
	for _, p := range j.Parents {
		delete(g.children[p], j.Name)
		if len(g.children[p]) == 0 {
			delete(g.children, p)
		}
	}
}

// path finds a child-edge path from → … → to (depth first, children in name
// order so the cycle reported is stable), or nil.
func (g *Graph) path(from, to string) []string {
	if from == to {
		return []string{from}
	}
	seen := map[string]bool{}
	var walk func(n string, trail []string) []string
	walk = func(n string, trail []string) []string {
		if seen[n] {
			return nil
		}
		seen[n] = true
		trail = append(trail, n)
		for _, c := range g.Children(n) {
			if c == to {
				return append(slices.Clone(trail), c)
			}
			if p := walk(c, trail); p != nil {
				return p
			}
		}
		return nil
	}
	return walk(from, nil)
}

// Load replaces the graph's contents with jobs in any order (as read from
// the store after a failover) and then checks every parent and cycle.
func (g *Graph) Load(jobs []*Job) error {
	g.jobs = map[string]*Job{}
	g.children = map[string]map[string]struct{}{}
	for _, j := range jobs {
		if _, dup := g.jobs[j.Name]; dup {
			return &Errors{List: []FieldError{{Field: "name", Message: fmt.Sprintf("job %q appears twice", j.Name)}}}
		}
		g.jobs[j.Name] = j
	}
	for _, name := range g.Names() {
		j := g.jobs[name]
		for _, p := range j.Parents {
			if _, ok := g.jobs[p]; !ok {
				return parentsError("job %q: no such parent %q", name, p)
			}
		}
		g.link(j)
	}
	if order := g.Topological(); len(order) < len(g.jobs) {
		done := map[string]bool{}
		for _, n := range order {
			done[n] = true
		}
		for _, n := range g.Names() {
			if done[n] {
				continue
			}
			for _, p := range g.jobs[n].Parents {
				if path := g.path(n, p); path != nil {
					return parentsError("cycle %s -> %s", strings.Join(path, " -> "), n)
				}
			}
		}
	}
	return nil
}

// Remove deletes a job and re-links its children as Chronos does: a child
// of a dependent job inherits that job's parents; a child whose last parent
// was a scheduled job becomes a scheduled job with that schedule. (Chronos
// converted such a child even when it had other parents; here it simply
// keeps them.) It returns the children it changed, already stored, so the
// caller can persist them.
func (g *Graph) Remove(name string) ([]*Job, error) {
	gone, ok := g.jobs[name]
	if !ok {
		return nil, &Errors{List: []FieldError{{Field: "name", Message: fmt.Sprintf("no such job %q", name)}}}
	}
	var changed []*Job
	for _, c := range g.Children(name) {
		child := g.jobs[c].Clone()
		var parents []string
		for _, p := range child.Parents {
			if p != name {
				parents = append(parents, p)
			}
		}
		if gone.Dependent() {
			for _, p := range gone.Parents {
				if !slices.Contains(parents, p) {
					parents = append(parents, p)
				}
			}
		}
		child.Parents = parents
		if len(parents) == 0 {
			child.Schedule, child.ScheduleTimeZone = gone.Schedule, gone.ScheduleTimeZone
		}
		changed = append(changed, child)
	}
	g.unlink(gone)
	delete(g.jobs, name)
	delete(g.children, name)
	for _, c := range changed {
		g.unlink(g.jobs[c.Name])
		g.jobs[c.Name] = c
		g.link(c)
	}
	return changed, nil
}

// nameHeap orders ready jobs by name so the topological order is stable.
type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, k int) bool { return h[i] < h[k] }
func (h nameHeap) Swap(i, k int)      { h[i], h[k] = h[k], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Topological lists jobs parents-first, ties broken by name. Jobs on a
// cycle (only possible before Load has checked) are left out.
func (g *Graph) Topological() []string {
	indeg := make(map[string]int, len(g.jobs))
	ready := &nameHeap{}
	for n, j := range g.jobs {
		distinct := map[string]bool{}
		for _, p := range j.Parents {
			distinct[p] = true
		}
		indeg[n] = len(distinct)
		if indeg[n] == 0 {
			*ready = append(*ready, n)
		}
	}
	heap.Init(ready)
	out := make([]string, 0, len(g.jobs))
	for ready.Len() > 0 {
		n := heap.Pop(ready).(string)
		out = append(out, n)
		for c := range g.children[n] {
			indeg[c]--
			if indeg[c] == 0 {
				heap.Push(ready, c)
			}
		}
	}
	return out
}

// DOT renders the graph the way Chronos' /graph/dot does (jgrapht's
// DOTExporter with integer ids and name labels), with ids given in name
// order so the output is stable:
//
//	digraph G {
//	  1 [ label="a" ];
//	  2 [ label="b" ];
//	  1 -> 2;
//	}
func (g *Graph) DOT() string {
	names := g.Names()
	id := make(map[string]int, len(names))
	var b strings.Builder
	b.WriteString("digraph G {\n")
	for i, n := range names {
		id[n] = i + 1
		fmt.Fprintf(&b, "  %d [ label=%q ];\n", i+1, n)
	}
	for _, n := range names {
		for _, c := range g.Children(n) {
			fmt.Fprintf(&b, "  %d -> %d;\n", id[n], id[c])
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// CSV renders Chronos' /graph/csv: "node,<name>,<last>,<state>" per job,
// where last is fresh, success or failure (from lastSuccess/lastError) and
// state comes from state(name) ("idle", "queued", "running", "2 running";
// nil means idle), then "link,<parent>,<child>" per edge.
func (g *Graph) CSV(state func(name string) string) string {
	var b strings.Builder
	names := g.Names()
	for _, n := range names {
		s := "idle"
		if state != nil {
			s = state(n)
		}
		fmt.Fprintf(&b, "node,%s,%s,%s\n", n, LastState(g.jobs[n]), s)
	}
	for _, n := range names {
		for _, c := range g.Children(n) {
			fmt.Fprintf(&b, "link,%s,%s\n", n, c)
		}
	}
	return b.String()
}

// LastState is Chronos' summary of a job's last run: "fresh" before any,
// else "success" if the last success is later than the last error, else
// "failure".
func LastState(j *Job) string {
	switch {
	case j.LastSuccess == "" && j.LastError == "":
		return "fresh"
	case j.LastSuccess == "":
		return "failure"
	case j.LastError == "":
		return "success"
	}
	s, err1 := time.Parse(time.RFC3339Nano, j.LastSuccess)
	e, err2 := time.Parse(time.RFC3339Nano, j.LastError)
	if err1 == nil && err2 == nil && s.After(e) {
		return "success"
	}
	return "failure"
}
