package job

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func sched(name string) *Job {
	return &Job{Name: name, Command: "true", Shell: true, Schedule: "R/2024-01-01T00:00:00Z/P1D", ScheduleTimeZone: "Europe/Berlin"}
}

func dep(name string, parents ...string) *Job {
	return &Job{Name: name, Command: "true", Shell: true, Parents: parents}
}

func mustPut(t *testing.T, g *Graph, jobs ...*Job) {
	t.Helper()
	for _, j := range jobs {
		if err := g.Put(j); err != nil {
			t.Fatalf("Put(%s): %v", j.Name, err)
		}
	}
}

func TestGraphPutChildrenTopological(t *testing.T) {
	g := NewGraph()
	mustPut(t, g, sched("a"), sched("b"), dep("c", "a", "b"), dep("d", "c"), dep("e", "a"))
	if got := g.Children("a"); !reflect.DeepEqual(got, []string{"c", "e"}) {
		t.Errorf("Children(a) = %v", got)
	}
	if got := g.Topological(); !reflect.DeepEqual(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("Topological = %v", got)
	}
	// Replacing a job re-links it.
	mustPut(t, g, dep("c", "b"))
	if got := g.Children("a"); !reflect.DeepEqual(got, []string{"e"}) {
		t.Errorf("after re-parenting, Children(a) = %v", got)
	}
	if g.Len() != 5 {
		t.Errorf("Len = %d", g.Len())
	}
}

func TestGraphRejects(t *testing.T) {
	g := NewGraph()
	mustPut(t, g, sched("a"), dep("b", "a"), dep("c", "b"))
	tests := []struct {
		job  *Job
		want string
	}{
		{dep("x", "a", "nope", "gone"), "no such job: nope, gone"},
		{dep("a", "c"), "would create the cycle a -> b -> c -> a"},
		{dep("b", "c"), "would create the cycle b -> c -> b"},
		{dep("s", "s"), "would create the cycle s -> s"},
	}
	for _, tc := range tests {
		err := g.Put(tc.job)
		var ve *Errors
		if !errors.As(err, &ve) || ve.List[0].Field != "parents" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Put(%s %v) = %v, want parents error %q", tc.job.Name, tc.job.Parents, err, tc.want)
		}
	}
	// Nothing changed.
	if got := g.Topological(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Topological after refusals = %v", got)
	}
}

func TestGraphLoad(t *testing.T) {
	g := NewGraph()
	// Any order, as read from the store.
	if err := g.Load([]*Job{dep("c", "b"), dep("b", "a"), sched("a")}); err != nil {
		t.Fatal(err)
	}
	if got := g.Topological(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Topological = %v", got)
	}
	err := g.Load([]*Job{dep("x", "y"), dep("y", "z"), dep("z", "x"), sched("a")})
	if err == nil || !strings.Contains(err.Error(), "cycle x -> z -> y -> x") {
		t.Errorf("Load with a cycle: %v", err)
	}
	err = g.Load([]*Job{dep("x", "missing")})
	if err == nil || !strings.Contains(err.Error(), `no such parent "missing"`) {
		t.Errorf("Load with a missing parent: %v", err)
	}
}

func TestGraphRemove(t *testing.T) {
	g := NewGraph()
	mustPut(t, g, sched("a"), sched("b"), dep("c", "a"), dep("d", "c"), dep("e", "a", "b"))

	// Removing a dependent job splices its parents into its children.
	changed, err := g.Remove("c")
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].Name != "d" || !reflect.DeepEqual(changed[0].Parents, []string{"a"}) {
		t.Fatalf("Remove(c) changed %+v", changed)
	}
	if got := g.Children("a"); !reflect.DeepEqual(got, []string{"d", "e"}) {
		t.Errorf("Children(a) = %v", got)
	}

	// Removing a scheduled job: an orphan takes its schedule, a child with
	// another parent keeps that parent.
	changed, err = g.Remove("a")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Job{}
	for _, c := range changed {
		byName[c.Name] = c
	}
	if d := byName["d"]; d == nil || d.Dependent() || d.Schedule != "R/2024-01-01T00:00:00Z/P1D" || d.ScheduleTimeZone != "Europe/Berlin" {
		t.Errorf("orphan d = %+v", d)
	}
	if e := byName["e"]; e == nil || !reflect.DeepEqual(e.Parents, []string{"b"}) {
		t.Errorf("e = %+v", e)
	}
	if stored, _ := g.Job("d"); stored.Dependent() {
		t.Error("the graph still holds the old d")
	}
	if got := g.Topological(); !reflect.DeepEqual(got, []string{"b", "d", "e"}) {
		t.Errorf("Topological = %v", got)
	}
	if _, err := g.Remove("a"); err == nil {
		t.Error("removing a missing job succeeded")
	}
}

func TestGraphDOTAndCSV(t *testing.T) {
	g := NewGraph()
	a := sched("a")
	a.LastSuccess = "2024-01-02T00:00:00.000Z"
	a.LastError = "2024-01-01T00:00:00.000Z"
	b := sched("b")
	b.LastSuccess = "2024-01-01T00:00:00.000Z"
	b.LastError = "2024-01-02T00:00:00.000Z"
	c := dep("c", "a", "b")
	c.LastError = "2024-01-03T00:00:00.000Z"
	mustPut(t, g, b, a, c, dep("d", "c"))

	wantDOT := `digraph G {
  1 [ label="a" ];
  2 [ label="b" ];
  3 [ label="c" ];
  4 [ label="d" ];
  1 -> 3;
  2 -> 3;
  3 -> 4;
}
`
	if got := g.DOT(); got != wantDOT {
		t.Errorf("DOT:\n%s\nwant:\n%s", got, wantDOT)
	}
	wantCSV := `node,a,success,idle
node,b,failure,running
node,c,failure,idle
node,d,fresh,queued
link,a,c
link,b,c
link,c,d
`
	state := map[string]string{"b": "running", "d": "queued"}
	got := g.CSV(func(n string) string {
		if s, ok := state[n]; ok {
			return s
		}
		return "idle"
	})
	if got != wantCSV {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, wantCSV)
	}
	if !strings.HasPrefix(g.CSV(nil), "node,a,success,idle\n") {
		t.Errorf("CSV(nil) should say idle")
	}
	if NewGraph().DOT() != "digraph G {\n}\n" {
		t.Errorf("empty DOT = %q", NewGraph().DOT())
	}
}

// The docs' scheduleTimeZone fragment is refused only for what it lacks:
// its schedule and "PST" zone are fine.
func TestTimeZoneFragmentFields(t *testing.T) {
	_, err := Parse([]byte(`{"schedule": "R/2014-10-10T18:32:00Z/PT60M", "scheduleTimeZone": "PST"}`), Scheduled, defaults, now)
	var ve *Errors
	if !errors.As(err, &ve) || !reflect.DeepEqual(ve.Fields(), []string{"name", "command"}) {
		t.Errorf("err = %v, want name and command only", err)
	}
}
