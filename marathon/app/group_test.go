package app

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustGroup(t *testing.T, body string, base PathID) *Group {
	t.Helper()
	g, err := DecodeGroup([]byte(body), base)
	if err != nil {
		t.Fatalf("DecodeGroup: %v", err)
	}
	return g
}

func TestGroupRelativeIDs(t *testing.T) {
	g := mustGroup(t, `{"id":"prod","dependencies":["../db"],
	  "apps":[{"id":"web","cmd":"x","dependencies":["api"]},{"id":"api","cmd":"x"}],
	  "groups":[{"id":"batch","apps":[{"id":"job","cmd":"x","dependencies":["../web"]}]}]}`, "/")
	if g.ID != "/prod" || g.Apps[0].ID != "/prod/web" || g.Groups[0].ID != "/prod/batch" || g.Groups[0].Apps[0].ID != "/prod/batch/job" {
		t.Fatalf("ids: %s %s %s %s", g.ID, g.Apps[0].ID, g.Groups[0].ID, g.Groups[0].Apps[0].ID)
	}
	if !reflect.DeepEqual(g.Dependencies, []PathID{"/db"}) || g.Apps[0].Dependencies[0] != "/prod/api" ||
		g.Groups[0].Apps[0].Dependencies[0] != "/prod/web" {
		t.Errorf("dependencies: %v %v %v", g.Dependencies, g.Apps[0].Dependencies, g.Groups[0].Apps[0].Dependencies)
	}
	b, _ := json.Marshal(g)
	for _, want := range []string{`"id":"/prod"`, `"pods":[]`, `"groups":[]`, `"instances":1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("group JSON lacks %s: %s", want, b)
		}
	}
}

func TestGroupValidation(t *testing.T) {
	tests := []struct {
		name, body string
		path, msg  string
	}{
		{"grandchild app", `{"id":"/g","apps":[{"id":"/g/x/y","cmd":"x"}]}`, "/apps(0)/id", "Identifier is not child of '/g'"},
		{"grandchild group", `{"id":"/g","groups":[{"id":"/g/x/y"}]}`, "/groups(0)/id", "Group has to be child of groups with parent id"},
		{"bad nested app", `{"id":"/g","apps":[{"id":"a","cmd":"x","args":["y"]}]}`, "/apps(0)", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."},
		{"nested schema", `{"id":"/g","groups":[{"id":"h","apps":[{"id":"a","cmd":"x","cpus":-1}]}]}`, "/groups(0)/apps(0)/cpus", "error.min"},
		{"same id", `{"id":"/g","apps":[{"id":"a","cmd":"x"}],"groups":[{"id":"a"}]}`, "", "Groups and Applications may not have the same identifier."},
		{"missing dependency", `{"id":"/g","apps":[{"id":"a","cmd":"x","dependencies":["/nope"]}]}`, "!/", "app /g/a depends on /nope, which does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustGroup(t, tt.body, Root)
			root := NewRoot()
			root.Groups = append(root.Groups, g)
			err := root.Validate(Options{})
			want := "/groups(0)" + tt.path // the group sits at index 0 of the root
			if p, ok := strings.CutPrefix(tt.path, "!"); ok {
				want = p // reported for the whole tree
			}
			if err == nil || !err.Has(want, tt.msg) {
				t.Errorf("err = %v, want %s: %s", err, want, tt.msg)
			}
		})
	}
}

func TestGroupCycles(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		cycle string
	}{
		{"app cycle", `{"id":"/","apps":[{"id":"a","cmd":"x","dependencies":["b"]},{"id":"b","cmd":"x","dependencies":["c"]},{"id":"c","cmd":"x","dependencies":["a"]}]}`,
			"/a -> /b -> /c -> /a"},
		{"through groups", `{"id":"/","groups":[{"id":"front","dependencies":["/back"],"apps":[{"id":"web","cmd":"x"}]},
		   {"id":"back","apps":[{"id":"db","cmd":"x","dependencies":["/front/web"]}]}]}`, "/back/db -> /front/web -> /back/db"},
		{"self via group", `{"id":"/","groups":[{"id":"g","dependencies":["/g"],"apps":[{"id":"a","cmd":"x"},{"id":"b","cmd":"x"}]}]}`,
			"/g/a -> /g/b -> /g/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustGroup(t, tt.body, Root)
			_, err := g.StartOrder()
			var ce *CycleError
			if !errors.As(err, &ce) || !strings.HasSuffix(err.Error(), tt.cycle) {
				t.Fatalf("StartOrder err = %v, want cycle %s", err, tt.cycle)
			}
			verr := g.Validate(Options{})
			if verr == nil || !strings.Contains(verr.Error(), "Dependency graph has cyclic dependencies") {
				t.Errorf("Validate = %v", verr)
			}
		})
	}
}

func TestGroupOrderAndTree(t *testing.T) {
	g := mustGroup(t, `{"id":"/","groups":[
	  {"id":"web","dependencies":["/data"],"apps":[{"id":"ui","cmd":"x"},{"id":"api","cmd":"x","dependencies":["/cache"]}]},
	  {"id":"data","apps":[{"id":"db","cmd":"x"}]}],
	  "apps":[{"id":"cache","cmd":"x","dependencies":["/data/db"]}]}`, Root)
	if err := g.Validate(Options{}); err != nil {
		t.Fatal(err)
	}
	order, err := g.StartOrder()
	if err != nil {
		t.Fatal(err)
	}
	pos := map[PathID]int{}
	for i, id := range order {
		pos[id] = i
	}
	for _, dep := range [][2]PathID{{"/data/db", "/cache"}, {"/cache", "/web/api"}, {"/data/db", "/web/ui"}, {"/data/db", "/web/api"}} {
		if pos[dep[0]] > pos[dep[1]] {
			t.Errorf("%s must start before %s: %v", dep[0], dep[1], order)
		}
	}
	deps, _ := g.AppDependencies()
	if !reflect.DeepEqual(deps["/web/api"], []PathID{"/cache", "/data/db"}) {
		t.Errorf("deps of /web/api = %v", deps["/web/api"])
	}

	if a, ok := g.App("/web/api"); !ok || a.ID != "/web/api" {
		t.Error("App lookup")
	}
	if _, ok := g.App("/web"); ok {
		t.Error("group found as app")
	}
	if g.Group("/data") == nil || g.Group("/nope") != nil {
		t.Error("Group lookup")
	}
	ids := []PathID{}
	for _, a := range g.Flatten() {
		ids = append(ids, a.ID)
	}
	if !reflect.DeepEqual(ids, []PathID{"/cache", "/data/db", "/web/api", "/web/ui"}) {
		t.Errorf("Flatten = %v", ids)
	}

	n := mustParse(t, `{"id":"/x/y/z","cmd":"x"}`)
	if err := g.PutApp(n); err != nil {
		t.Fatal(err)
	}
	if g.Group("/x/y") == nil {
		t.Error("intermediate groups not created")
	}
	if a, _ := g.App("/x/y/z"); a != n {
		t.Error("PutApp lost the app")
	}
	if !g.RemoveApp("/x/y/z") || g.RemoveApp("/x/y/z") {
		t.Error("RemoveApp")
	}
	if !g.RemoveGroup("/web") || g.Group("/web") != nil {
		t.Error("RemoveGroup")
	}
}

func TestCompatGroup(t *testing.T) {
	dir := compatMarathon(t)
	data, err := readFile(dir + "/group-department-a.json")
	if err != nil {
		t.Skipf("group-department-a.json not on this machine: %v", err)
	}
	g, err := DecodeGroup(data, Root)
	if err != nil {
		t.Fatal(err)
	}
	if verr := g.Validate(Options{}); verr != nil {
		t.Fatal(verr)
	}
	order, err := g.StartOrder()
	if err != nil {
		t.Fatal(err)
	}
	want := []PathID{"/department-a/service-common", "/department-a/product-a/service-a", "/department-a/product-a/service-b"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
	for _, a := range g.Flatten() {
		if len(a.PortDefinitions) != 1 || a.Instances != 2 {
			t.Errorf("%s: %+v", a.ID, a)
		}
	}
}
