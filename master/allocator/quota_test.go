package allocator

import (
	"testing"

	"github.com/strata-dc/strata/master/mesos"
)

func q(s string) Quantities {
	out, err := ParseQuantities(s)
	if err != nil {
		panic(err)
	}
	return out
}

func (h *harness) consumed(role string) string {
	h.t.Helper()
	for _, r := range h.Roles() {
		if r.Name == role {
			return r.Consumed.String()
		}
	}
	return ""
}

// offered sums what a cycle offered to each role.
func offeredByRole(offers []Offer) map[string]mesos.Resources {
	out := map[string]mesos.Resources{}
	for _, o := range offers {
		out[o.Role] = out[o.Role].Add(o.Resources.Unallocate()...)
	}
	return out
}

func TestGuaranteesAreMetFirst(t *testing.T) {
	h := newHarness(t, Options{Seed: 5})
	for i := range 4 {
		h.agent(agentName(i), "cpus:2;mem:2048")
	}
	// r's weight makes DRF alone hand it every agent.
	h.ok(h.UpdateWeights(map[string]float64{"r": 100}))
	h.ok(h.UpdateQuota("q", q("cpus:4"), nil))
	h.framework("fq", "q")
	h.framework("fr", "r")
	offers := h.allocate()
	by := offeredByRole(offers)
	if got := by["q"].Cpus(); got.Cmp(mesos.ScalarOf(4)) != 0 {
		t.Fatalf("q offered %s cpus, want its guarantee 4:\n%s", got, summarize(offers))
	}
	if got := by["r"].Cpus(); got.Cmp(mesos.ScalarOf(4)) != 0 {
		t.Fatalf("r offered %s cpus:\n%s", got, summarize(offers))
	}
}

func TestHeadroomIsHeldForUnmetGuarantees(t *testing.T) {
	h := newHarness(t, Options{Seed: 5})
	for i := range 4 {
		h.agent(agentName(i), "cpus:2;mem:2048")
	}
	// q is guaranteed 6 of the 8 cpus but has no framework yet.
	h.ok(h.UpdateQuota("q", q("cpus:6"), nil))
	h.framework("fr", "r")
	offers := h.allocate()
	if got := offeredByRole(offers)["r"].Cpus(); got.Cmp(mesos.ScalarOf(2)) != 0 {
		t.Fatalf("r offered %s cpus; 6 of 8 must be held back:\n%s", got, summarize(offers))
	}
	// q's framework arrives: the held cpus go to it.
	h.framework("fq", "q")
	offers = h.allocate()
	if got := offeredByRole(offers)["q"].Cpus(); got.Cmp(mesos.ScalarOf(6)) != 0 {
		t.Fatalf("q offered %s cpus:\n%s", got, summarize(offers))
	}
	// Nothing left for r.
	if got := offeredByRole(offers)["r"].Cpus(); !got.IsZero() {
		t.Fatalf("r offered %s more cpus", got)
	}
}

func TestLimitsAreNeverExceeded(t *testing.T) {
	cases := []struct {
		name     string
		quota    map[string][2]string // role: guarantees, limits
		agents   []string
		fws      map[string]string // framework: role
		wantCons map[string]string
	}{
		{
			name:     "chopped",
			quota:    map[string][2]string{"l": {"", "cpus:3"}},
			agents:   []string{"cpus:2;mem:1024", "cpus:2;mem:1024"},
			fws:      map[string]string{"f": "l"},
			wantCons: map[string]string{"l": "cpus:3;mem:2048"},
		},
		{
			name:   "nested roles share the parent's limit",
			quota:  map[string][2]string{"eng": {"", "cpus:3"}},
			agents: []string{"cpus:1;mem:16", "cpus:1;mem:16", "cpus:1;mem:16", "cpus:1;mem:16", "cpus:1;mem:16"},
			fws:    map[string]string{"fa": "eng/a", "fb": "eng/b"},
			// Past the cpu limit, 16 MB alone is below the minimum offer.
			wantCons: map[string]string{"eng": "cpus:3;mem:48"},
		},
		{
			name:     "reservations count and are still offered",
			quota:    map[string][2]string{"l": {"", "cpus:2"}},
			agents:   []string{"cpus(l):2;mem(l):64", "cpus:4;mem:64"},
			fws:      map[string]string{"f": "l"},
			wantCons: map[string]string{"l": "cpus:2;mem:128"},
		},
		{
			name:     "guarantee below limit: stage one may burst to the limit",
			quota:    map[string][2]string{"g": {"cpus:1", "cpus:3"}},
			agents:   []string{"cpus:4;mem:64", "cpus:4;mem:64"},
			fws:      map[string]string{"f": "g"},
			wantCons: map[string]string{"g": "cpus:3;mem:128"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Options{Seed: 9})
			for role, gl := range c.quota {
				h.ok(h.UpdateQuota(role, q(gl[0]), q(gl[1])))
			}
			for i, a := range c.agents {
				h.agent(agentName(i), a)
			}
			for _, fw := range sortedKeys(c.fws) {
				h.framework(fw, c.fws[fw])
			}
			for range 3 {
				h.allocate()
				if err := h.checkLimits(); err != nil {
					t.Fatal(err)
				}
			}
			for role, w := range c.wantCons {
				if got := h.consumed(role); got != w {
					t.Fatalf("%s consumed %s, want %s", role, got, w)
				}
			}
		})
	}
}

func TestRemovingQuotaLiftsLimits(t *testing.T) {
	h := newHarness(t, Options{Seed: 1})
	h.agent("a1", "cpus:4;mem:1024")
	h.ok(h.UpdateQuota("l", nil, q("cpus:1")))
	h.framework("f", "l")
	want(t, h.allocate(), "f@a1[l]=cpus:1;mem:1024")
	h.ok(h.UpdateQuota("l", nil, nil))
	want(t, h.allocate(), "f@a1[l]=cpus:3")
}

func TestQuotaValidation(t *testing.T) {
	h := newHarness(t, Options{Seed: 1})
	bad := []struct {
		role string
		g, l Quantities
	}{
		{"a", q("cpus:2"), q("cpus:1")},
		{"a", Quantities{"cpus": mesos.ScalarOf(-1)}, nil},
		{"a", nil, Quantities{"cpus": mesos.Infinity()}},
		{"/a", nil, q("cpus:1")},
	}
	for _, b := range bad {
		if err := h.UpdateQuota(b.role, b.g, b.l); err == nil {
			t.Errorf("accepted quota %q %v %v", b.role, b.g, b.l)
		}
	}
	h.ok(nil)
}

// TestQuotaHeavySmall is the quota benchmark's shape at 1/100 scale:
// every guarantee is met in the first cycle, and nothing is offered past
// the limits.
func TestQuotaHeavySmall(t *testing.T) {
	s := Scenario{Agents: 30, Frameworks: 30, QuotaRoles: 30}
	a, err := BuildScenario(s)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, Allocator: a, now: t0}
	h.ok(nil)
	offers := h.allocate()
	if err := h.checkLimits(); err != nil {
		t.Fatal(err)
	}
	for _, r := range h.Roles() {
		var g Quantities
		if r.Guarantees != nil {
			g = r.Guarantees
		}
		for name, v := range g {
			if r.Consumed[name].Cmp(v) != 0 {
				t.Fatalf("role %s consumed %s, guarantee %s", r.Name, r.Consumed, g)
			}
		}
	}
	// 25 small roles take half an agent each; 5 large ones two agents
	// each, or three pieces when they start on a half-taken agent.
	if len(offers) < 25+5*2 || len(offers) > 25+5*3 {
		t.Fatalf("%d offers", len(offers))
	}
	if got := h.allocate(); len(got) != 0 {
		t.Fatalf("second cycle: %d offers", len(got))
	}
}
