package placement

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/master/mesos"
)

func mkApp(t *testing.T, body string) *app.App {
	t.Helper()
	a, err := app.ParseApp([]byte(body), app.Root, app.Options{Features: []string{app.FeatureGPUs}})
	if err != nil {
		t.Fatalf("ParseApp(%s): %v", body, err)
	}
	return a
}

// offer builds an offer from agent flag syntax: resources like
// "cpus:4;mem:1024;ports:[31000-31005]" (role-qualified "cpus(prod):2"),
// attributes like "rack:r1;level:2".
func offer(t *testing.T, host, resources, attributes string) *mesos.Offer {
	t.Helper()
	rs, err := mesos.ParseResources(resources, "")
	if err != nil {
		t.Fatalf("resources %q: %v", resources, err)
	}
	o := &mesos.Offer{ID: "o-" + mesos.OfferID(host), AgentID: mesos.AgentID("agent-" + host), Hostname: host, Resources: rs}
	if attributes != "" {
		as, err := mesos.ParseAttributes(attributes)
		if err != nil {
			t.Fatalf("attributes %q: %v", attributes, err)
		}
		o.Attributes = as
	}
	return o
}

const plenty = "cpus:8;mem:8192;disk:10000;ports:[31000-31009]"

func TestResourceReasons(t *testing.T) {
	tests := []struct {
		name, app, resources string
		want                 []Reason
	}{
		{"fits", `{"id":"a","cmd":"x","cpus":1,"mem":128}`, "cpus:1;mem:128;ports:[31000-31000]", nil},
		{"cpus", `{"id":"a","cmd":"x","cpus":2}`, "cpus:1;mem:1024;ports:[31000-31000]", []Reason{InsufficientCpus}},
		{"mem", `{"id":"a","cmd":"x","mem":2048}`, "cpus:4;mem:1024;ports:[31000-31000]", []Reason{InsufficientMemory}},
		{"disk", `{"id":"a","cmd":"x","disk":100}`, "cpus:4;mem:1024;disk:10;ports:[31000-31000]", []Reason{InsufficientDisk}},
		{"gpus", `{"id":"a","cmd":"x","gpus":1}`, "cpus:4;mem:1024;ports:[31000-31000]", []Reason{InsufficientGpus}},
		{"no ports", `{"id":"a","cmd":"x"}`, "cpus:4;mem:1024", []Reason{InsufficientPorts}},
		{"too few ports", `{"id":"a","cmd":"x","ports":[0,0,0]}`, "cpus:4;mem:1024;ports:[31000-31001]", []Reason{InsufficientPorts}},
		{"no ports needed", `{"id":"a","cmd":"x","portDefinitions":[]}`, "cpus:4;mem:1024", nil},
		{"several", `{"id":"a","cmd":"x","cpus":16,"mem":99999}`, "cpus:4;mem:1024;ports:[31000-31000]", []Reason{InsufficientCpus, InsufficientMemory}},
		{"fractions", `{"id":"a","cmd":"x","cpus":0.1,"mem":32}`, "cpus:0.1;mem:32;ports:[31000-31000]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(Request{App: mkApp(t, tt.app), Offer: offer(t, "h1", tt.resources, ""), FrameworkRole: "marathon"})
			if !slices.Equal(d.Reasons, tt.want) {
				t.Fatalf("reasons = %v, want %v", d.Reasons, tt.want)
			}
			if (d.Match != nil) != (tt.want == nil) {
				t.Fatalf("match = %v", d.Match)
			}
		})
	}
}

func TestUnusableResources(t *testing.T) {
	a := mkApp(t, `{"id":"a","cmd":"x","cpus":1,"mem":128,"disk":10,"portDefinitions":[]}`)
	o := offer(t, "h1", "cpus:1;mem:128", "")
	rev := mesos.ScalarResource("cpus", 4)
	rev.Revocable = &mesos.RevocableInfo{}
	mount := mesos.ScalarResource("disk", 100)
	mount.Disk = &mesos.DiskInfo{Source: &mesos.DiskSource{Type: mesos.DiskSourceMount}}
	o.Resources = append(o.Resources, rev, mount)
	d := Decide(Request{App: a, Offer: o})
	if !slices.Equal(d.Reasons, []Reason{InsufficientDisk}) {
		t.Errorf("reasons %v, want only InsufficientDisk (MOUNT disk is not for plain apps)", d.Reasons)
	}
	a2 := mkApp(t, `{"id":"a","cmd":"x","cpus":2,"mem":128,"portDefinitions":[]}`)
	if d := Decide(Request{App: a2, Offer: o}); !slices.Equal(d.Reasons, []Reason{InsufficientCpus}) {
		t.Errorf("revocable cpus used: %v", d)
	}
}

func TestMatchedResources(t *testing.T) {
	a := mkApp(t, `{"id":"a","cmd":"x","cpus":1.5,"mem":256,"disk":10,"ports":[0,0]}`)
	d := Decide(Request{App: a, Offer: offer(t, "h1", "cpus(marathon):1;cpus:4;mem:1024;disk:100;ports:[31000-31005]", ""), FrameworkRole: "marathon"})
	if d.Match == nil {
		t.Fatal(d)
	}
	m := d.Match
	if got := m.Resources.Cpus(); got.Cmp(mesos.ScalarOf(1.5)) != 0 {
		t.Errorf("cpus taken %s", got)
	}
	if got := m.Resources.ReservedFor("marathon").Cpus(); got.Cmp(mesos.ScalarOf(1)) != 0 {
		t.Errorf("reserved cpus should go first, took %s reserved", got)
	}
	if m.Resources.Mem().Cmp(mesos.ScalarOf(256)) != 0 || m.Resources.Disk().Cmp(mesos.ScalarOf(10)) != 0 {
		t.Errorf("mem/disk %s", m.Resources)
	}
	if !reflect.DeepEqual(m.HostPorts, []int{31000, 31001}) {
		t.Errorf("host ports %v", m.HostPorts)
	}
	if !m.Resources.Ports().Equal(mesos.Ranges{{Begin: 31000, End: 31001}}) {
		t.Errorf("port resources %s", m.Resources.Ports())
	}
	if m.Placement.Hostname != "h1" || m.Placement.AgentID != "agent-h1" {
		t.Errorf("placement %+v", m.Placement)
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		name, app, resources string
		want                 []Reason
		reserved             string // role the cpus must come from; "" unreserved
	}{
		{"default takes unreserved", `{"id":"a","cmd":"x","portDefinitions":[]}`, "cpus:2;mem:512", nil, ""},
		{"default takes framework role", `{"id":"a","cmd":"x","portDefinitions":[]}`, "cpus(marathon):2;mem(marathon):512", nil, "marathon"},
		{"star only refuses reserved", `{"id":"a","cmd":"x","portDefinitions":[],"acceptedResourceRoles":["*"]}`, "cpus(marathon):2;mem(marathon):512", []Reason{UnfulfilledRole, InsufficientCpus, InsufficientMemory}, ""},
		{"role only refuses unreserved", `{"id":"a","cmd":"x","portDefinitions":[],"acceptedResourceRoles":["marathon"]}`, "cpus:2;mem:512", []Reason{UnfulfilledRole, InsufficientCpus, InsufficientMemory}, ""},
		{"role only uses reserved", `{"id":"a","cmd":"x","portDefinitions":[],"acceptedResourceRoles":["marathon"]}`, "cpus:8;mem:8192;cpus(marathon):1;mem(marathon):128", nil, "marathon"},
		{"mixed short", `{"id":"a","cmd":"x","portDefinitions":[],"acceptedResourceRoles":["marathon"],"cpus":2}`, "cpus:8;mem:8192;cpus(marathon):1;mem(marathon):128", []Reason{InsufficientCpus}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(Request{App: mkApp(t, tt.app), Offer: offer(t, "h1", tt.resources, ""), FrameworkRole: "marathon"})
			if !slices.Equal(d.Reasons, tt.want) {
				t.Fatalf("reasons = %v, want %v", d.Reasons, tt.want)
			}
			if d.Match != nil {
				for _, r := range d.Match.Resources {
					if r.ReservationRole() != tt.reserved {
						t.Errorf("took %s, want role %q", r, tt.reserved)
					}
				}
			}
			if tt.want != nil && d.First() != tt.want[0] {
				t.Errorf("First = %s", d.First())
			}
		})
	}
}

func TestPorts(t *testing.T) {
	tests := []struct {
		name, app, ports string
		want             []int
	}{
		{"dynamic", `{"id":"a","cmd":"x","ports":[0,0]}`, "[31000-31001]", []int{31000, 31001}},
		{"declared but not required", `{"id":"a","cmd":"x","ports":[8080]}`, "[31000-31001]", []int{31000}},
		{"required", `{"id":"a","cmd":"x","ports":[31005,0],"requirePorts":true}`, "[31000-31010]", []int{31005, 31000}},
		{"required missing", `{"id":"a","cmd":"x","ports":[8080],"requirePorts":true}`, "[31000-31010]", nil},
		{"required first come", `{"id":"a","cmd":"x","ports":[0,31000],"requirePorts":true}`, "[31000-31001]", []int{31001, 31000}},
		{"across ranges", `{"id":"a","cmd":"x","ports":[0,0,0]}`, "[31000-31000,32000-32001]", []int{31000, 32000, 32001}},
		{"bridge mappings", `{"id":"a","networks":[{"mode":"container/bridge"}],"container":{"type":"DOCKER","docker":{"image":"nginx"},
			"portMappings":[{"containerPort":80,"hostPort":0},{"containerPort":81},{"containerPort":82,"hostPort":31007}]}}`, "[31000-31010]", []int{31000, 31001, 31007}},
		{"container network mapping without host port", `{"id":"a","networks":[{"mode":"container","name":"dcos"}],"container":{"type":"MESOS",
			"portMappings":[{"containerPort":80},{"containerPort":81,"hostPort":0}]},"cmd":"x"}`, "[31000-31010]", []int{0, 31000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(Request{App: mkApp(t, tt.app), Offer: offer(t, "h1", "cpus:4;mem:1024;ports:"+tt.ports, "")})
			if tt.want == nil {
				if d.Match != nil || !slices.Equal(d.Reasons, []Reason{InsufficientPorts}) {
					t.Fatalf("decision %v, want InsufficientPorts", d)
				}
				return
			}
			if d.Match == nil {
				t.Fatalf("no match: %v", d.Reasons)
			}
			if !reflect.DeepEqual(d.Match.HostPorts, tt.want) {
				t.Errorf("host ports %v, want %v", d.Match.HostPorts, tt.want)
			}
		})
	}
}

func TestMaintenanceAndScarce(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	a := mkApp(t, `{"id":"a","cmd":"x"}`)
	o := offer(t, "h1", plenty, "")
	o.Unavailability = &mesos.Unavailability{Start: mesos.TimeInfoOf(now.Add(10 * time.Minute))}
	req := Request{App: a, Offer: o, Now: now, DrainWindow: 15 * time.Minute, DeclineMaintenance: true}
	if d := Decide(req); !slices.Equal(d.Reasons, []Reason{AgentMaintenance}) {
		t.Errorf("within drain window: %v", d)
	}
	req.DrainWindow = 5 * time.Minute
	if d := Decide(req); d.Match == nil {
		t.Errorf("outside drain window: %v", d)
	}
	o.Unavailability = &mesos.Unavailability{Start: mesos.TimeInfoOf(now.Add(-2 * time.Hour)), Duration: mesos.DurationInfoOf(time.Hour)}
	if d := Decide(req); d.Match == nil {
		t.Errorf("maintenance window over: %v", d)
	}
	o.Unavailability.Duration = mesos.DurationInfoOf(3 * time.Hour)
	if d := Decide(req); d.Match != nil {
		t.Errorf("inside maintenance window: %v", d)
	}
	req.DrainWindow, req.DeclineMaintenance = time.Hour, false
	if d := Decide(req); d.Match == nil {
		t.Errorf("maintenance ignored when not enabled: %v", d)
	}

	gpu := offer(t, "h2", plenty+";gpus:2", "")
	if d := Decide(Request{App: a, Offer: gpu, DeclineScarceGPUs: true}); !slices.Equal(d.Reasons, []Reason{DeclinedScarceResources}) {
		t.Errorf("scarce GPUs: %v", d)
	}
	g := mkApp(t, `{"id":"g","cmd":"x","gpus":1}`)
	if d := Decide(Request{App: g, Offer: gpu, DeclineScarceGPUs: true}); d.Match == nil || d.Match.Resources.Gpus().Cmp(mesos.ScalarOf(1)) != 0 {
		t.Errorf("GPU app: %v", d)
	}
}

func TestPlaceSeveral(t *testing.T) {
	a := mkApp(t, `{"id":"a","cmd":"x","cpus":1,"mem":100,"ports":[0]}`)
	o := offer(t, "h1", "cpus:3.5;mem:1000;ports:[31000-31009]", "")
	ms, d := Place(Request{App: a, Offer: o}, 10)
	if len(ms) != 3 || !slices.Equal(d.Reasons, []Reason{InsufficientCpus}) {
		t.Fatalf("placed %d, stop %v", len(ms), d)
	}
	seen := map[int]bool{}
	var total mesos.Resources
	for _, m := range ms {
		if seen[m.HostPorts[0]] {
			t.Errorf("port %d given twice", m.HostPorts[0])
		}
		seen[m.HostPorts[0]] = true
		total = total.Add(m.Resources...)
	}
	if !o.Resources.Contains(total) {
		t.Errorf("took more than offered: %s of %s", total, o.Resources)
	}
	if len(o.Resources.Ports()) != 1 || o.Resources.Cpus().Cmp(mesos.ScalarOf(3.5)) != 0 {
		t.Error("Place modified the caller's offer")
	}

	ms, d = Place(Request{App: a, Offer: o}, 2)
	if len(ms) != 2 || d.Match != nil || d.Reasons != nil {
		t.Errorf("asked for 2: got %d, %v", len(ms), d)
	}

	u := mkApp(t, `{"id":"u","cmd":"x","cpus":0.1,"mem":10,"constraints":[["hostname","UNIQUE"]]}`)
	ms, d = Place(Request{App: u, Offer: o}, 5)
	if len(ms) != 1 || !slices.Equal(d.Reasons, []Reason{UnfulfilledConstraint}) {
		t.Errorf("UNIQUE hostname placed %d from one offer, stop %v", len(ms), d)
	}
	mp := mkApp(t, `{"id":"m","cmd":"x","cpus":0.1,"mem":10,"constraints":[["hostname","MAX_PER","2"]]}`)
	if ms, _ = Place(Request{App: mp, Offer: o}, 5); len(ms) != 2 {
		t.Errorf("MAX_PER 2 placed %d", len(ms))
	}
}

func TestStats(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var s Stats
	for range 3 {
		s.Record(Decision{Reasons: []Reason{InsufficientMemory, UnfulfilledConstraint}}, at)
	}
	s.Record(Decision{Reasons: []Reason{InsufficientCpus}}, at)
	s.Record(Decision{Match: &Match{}}, at.Add(time.Second))
	sum := s.Summary()
	if sum.ProcessedOffersCount != 5 || sum.UnusedOffersCount != 4 || sum.LastUsedOfferAt != "2024-01-01T00:00:01.000Z" ||
		sum.LastUnusedOfferAt != "2024-01-01T00:00:00.000Z" {
		t.Errorf("summary %+v", sum)
	}
	steps := map[Reason]DeclinedOfferStep{}
	for i, st := range sum.RejectSummaryLaunchAttempt {
		if st.Reason != Funnel[i] {
			t.Errorf("step %d is %s, want %s", i, st.Reason, Funnel[i])
		}
		steps[st.Reason] = st
	}
	if st := steps[UnfulfilledConstraint]; st.Declined != 3 || st.Processed != 5 {
		t.Errorf("constraint step %+v", st)
	}
	if st := steps[InsufficientCpus]; st.Declined != 1 || st.Processed != 2 {
		t.Errorf("cpus step %+v", st)
	}
	if st := steps[InsufficientMemory]; st.Declined != 0 || st.Processed != 1 {
		t.Errorf("mem step %+v", st)
	}
	if st := sum.RejectSummaryLastOffers[1]; st.Reason != UnfulfilledConstraint || st.Declined != 3 || st.Processed != 4 {
		t.Errorf("last offers %+v", sum.RejectSummaryLastOffers)
	}
	b, _ := json.Marshal(sum)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"processedOffersCount", "unusedOffersCount", "lastUnusedOfferAt", "lastUsedOfferAt", "rejectSummaryLastOffers", "rejectSummaryLaunchAttempt"} {
		if _, ok := m[k]; !ok {
			t.Errorf("summary JSON lacks %s: %s", k, b)
		}
	}
	for range LastOffersKept + 10 {
		s.Record(Decision{Reasons: []Reason{InsufficientDisk}}, at)
	}
	if got := s.Summary().RejectSummaryLastOffers[0].Processed; got != LastOffersKept {
		t.Errorf("last offers window %d", got)
	}
	_ = fmt.Sprint(Decision{}.String())
}
