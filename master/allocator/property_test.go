package allocator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// model is what the test itself knows the allocator must respect.
type model struct {
	agentsDown map[mesos.AgentID]bool
	fwDown     map[mesos.FrameworkID]bool
	roles      map[mesos.FrameworkID][]string
	suppressed map[mesos.FrameworkID]map[string]bool
	filters    map[filterKey][]modelFilter
}

type filterKey struct {
	fw    mesos.FrameworkID
	role  string
	agent mesos.AgentID
}

type modelFilter struct {
	res   mesos.Resources
	until time.Time
}

var propRoles = []string{"*", "a", "a/x", "a/y", "b", "c", "c/d"}

func randomAgent(rng *rand.Rand) string {
	parts := []string{
		fmt.Sprintf("cpus:%d", 1+rng.IntN(8)),
		fmt.Sprintf("mem:%d", 256*(1+rng.IntN(16))),
	}
	if rng.IntN(2) == 0 {
		parts = append(parts, "ports:[31000-31099]")
	}
	if rng.IntN(3) == 0 {
		parts = append(parts, "cpus(c):1;mem(c):256")
	}
	if rng.IntN(4) == 0 {
		parts = append(parts, "cpus(c/d):1")
	}
	if rng.IntN(6) == 0 {
		parts = append(parts, "gpus:1")
	}
	return strings.Join(parts, ";")
}

func randomRoles(rng *rand.Rand) []string {
	n := 1 + rng.IntN(2)
	var out []string
	for len(out) < n {
		r := propRoles[rng.IntN(len(propRoles))]
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// half returns about half of every scalar in rs.
func half(rs mesos.Resources) mesos.Resources {
	var out mesos.Resources
	for _, r := range rs {
		if r.Type != mesos.ValueScalar {
			continue
		}
		m := r.Scalar.Milli() / 2
		if m == 0 {
			continue
		}
		s := mesos.ScalarFromMilli(m)
		r.Scalar = &s
		out = append(out, r)
	}
	return out
}

// runRandom drives the allocator with a random mix of operations, checks
// every promise after each step, and returns the offers as a transcript.
func runRandom(t *testing.T, seed uint64, steps int) string {
	rng := rand.New(rand.NewPCG(seed, 99))
	opts := Options{Seed: int64(seed)}
	if rng.IntN(3) == 0 {
		opts.MinAllocatable = []Quantities{}
	}
	h := newHarness(t, opts)
	m := &model{
		agentsDown: map[mesos.AgentID]bool{},
		fwDown:     map[mesos.FrameworkID]bool{},
		roles:      map[mesos.FrameworkID][]string{},
		suppressed: map[mesos.FrameworkID]map[string]bool{},
		filters:    map[filterKey][]modelFilter{},
	}
	h.ok(h.UpdateQuota("a", nil, q("cpus:6;mem:4096")))
	h.ok(h.UpdateQuota("b", q("cpus:3;mem:1024"), q("cpus:5")))
	h.ok(h.UpdateWeights(map[string]float64{"c": 2}))

	var agents []mesos.AgentID
	var fws []mesos.FrameworkID
	nextAgent, nextFw := 0, 0
	addAgent := func() {
		id := mesos.AgentID(fmt.Sprintf("s%03d", nextAgent))
		nextAgent++
		h.ok(h.AddAgent(id, AgentInfo{Hostname: string(id)}, res(randomAgent(rng)), nil))
		agents = append(agents, id)
	}
	addFw := func() {
		id := mesos.FrameworkID(fmt.Sprintf("f%03d", nextFw))
		nextFw++
		roles := randomRoles(rng)
		caps := Capabilities{GPUResources: rng.IntN(2) == 0}
		h.ok(h.AddFramework(id, FrameworkInfo{Roles: roles, Capabilities: caps}, nil, true))
		fws = append(fws, id)
		m.roles[id] = roles
		m.suppressed[id] = map[string]bool{}
	}
	clearFilters := func(match func(filterKey) bool) {
		for k := range m.filters {
			if match(k) {
				delete(m.filters, k)
			}
		}
	}
	for range 5 {
		addAgent()
	}
	for range 4 {
		addFw()
	}

	var transcript []string
	for step := range steps {
		switch op := rng.IntN(16); {
		case op < 4: // allocate
			before := map[mesos.AgentID]mesos.Resources{}
			for _, id := range agents {
				before[id] = h.Available(id)
			}
			consumed := h.consumption()
			offers := h.allocate()
			transcript = append(transcript, fmt.Sprintf("step %d at %s:\n%s", step, h.now.Sub(t0), summarize(offers)))
			checkOffers(t, h, m, offers, before, consumed)
		case op < 6: // decline part of what a framework holds
			fw, ag, held := pickHolding(h, rng, fws, agents)
			if held == nil {
				continue
			}
			part := held
			if rng.IntN(2) == 0 {
				part = half(held)
			}
			if part.IsEmpty() {
				continue
			}
			d := time.Duration(rng.IntN(20)) * time.Second
			h.ok(h.Decline(fw, ag, part, d, h.now))
			if d > 0 {
				role := part[0].AllocationInfo.Role
				k := filterKey{fw, role, ag}
				m.filters[k] = append(m.filters[k], modelFilter{part.Unallocate(), h.now.Add(d)})
			}
		case op < 8: // a task finishes
			fw, ag, held := pickHolding(h, rng, fws, agents)
			if held == nil {
				continue
			}
			h.ok(h.Recover(fw, ag, half(held)))
		case op < 9:
			h.now = h.now.Add(time.Duration(rng.IntN(8)) * time.Second)
		case op < 10 && len(fws) > 0: // suppress or revive
			fw := fws[rng.IntN(len(fws))]
			role := m.roles[fw][rng.IntN(len(m.roles[fw]))]
			if rng.IntN(2) == 0 {
				h.ok(h.Suppress(fw, role))
				m.suppressed[fw][role] = true
			} else {
				h.ok(h.Revive(fw, role))
				m.suppressed[fw][role] = false
				clearFilters(func(k filterKey) bool { return k.fw == fw && k.role == role })
			}
		case op < 11 && len(agents) > 0: // drain or reactivate an agent
			ag := agents[rng.IntN(len(agents))]
			if m.agentsDown[ag] {
				h.ok(h.ActivateAgent(ag))
			} else {
				h.ok(h.DeactivateAgent(ag))
			}
			m.agentsDown[ag] = !m.agentsDown[ag]
		case op < 12 && len(fws) > 0: // a framework disconnects or comes back
			fw := fws[rng.IntN(len(fws))]
			if m.fwDown[fw] {
				h.ok(h.ActivateFramework(fw))
			} else {
				h.ok(h.DeactivateFramework(fw))
				clearFilters(func(k filterKey) bool { return k.fw == fw })
			}
			m.fwDown[fw] = !m.fwDown[fw]
		case op < 13:
			if rng.IntN(2) == 0 || len(agents) < 2 {
				addAgent()
			} else {
				i := rng.IntN(len(agents))
				ag := agents[i]
				h.ok(h.RemoveAgent(ag))
				agents = slices.Delete(agents, i, i+1)
				clearFilters(func(k filterKey) bool { return k.agent == ag })
			}
		case op < 14:
			if rng.IntN(2) == 0 || len(fws) < 2 {
				addFw()
			} else {
				i := rng.IntN(len(fws))
				fw := fws[i]
				h.ok(h.RemoveFramework(fw))
				fws = slices.Delete(fws, i, i+1)
				clearFilters(func(k filterKey) bool { return k.fw == fw })
			}
		case op < 15:
			h.ok(h.UpdateWeights(map[string]float64{propRoles[1+rng.IntN(len(propRoles)-1)]: float64(1 + rng.IntN(4))}))
		default:
			h.ok(h.UpdateQuota("a", nil, q(fmt.Sprintf("cpus:%d;mem:%d", 2+rng.IntN(8), 1024*(1+rng.IntN(6))))))
		}
	}
	return strings.Join(transcript, "\n")
}

// pickHolding picks a random framework's resources on a random agent,
// grouped to one role.
func pickHolding(h *harness, rng *rand.Rand, fws []mesos.FrameworkID, agents []mesos.AgentID) (mesos.FrameworkID, mesos.AgentID, mesos.Resources) {
	if len(fws) == 0 || len(agents) == 0 {
		return "", "", nil
	}
	for range 10 {
		fw, ag := fws[rng.IntN(len(fws))], agents[rng.IntN(len(agents))]
		held := h.Allocation(fw, ag)
		if len(held) == 0 {
			continue
		}
		groups := held.Allocations()
		roles := sortedKeys(groups)
		return fw, ag, groups[roles[rng.IntN(len(roles))]]
	}
	return "", "", nil
}

// consumption snapshots every limited role's consumption.
func (h *harness) consumption() map[string]qvec {
	out := map[string]qvec{}
	for name, r := range h.roles {
		if r.lim != nil {
			out[name] = r.subQ.clone()
		}
	}
	return out
}

func checkOffers(t *testing.T, h *harness, m *model, offers []Offer, before map[mesos.AgentID]mesos.Resources, consumed map[string]qvec) {
	t.Helper()
	perAgent := map[mesos.AgentID]mesos.Resources{}
	for _, o := range offers {
		where := fmt.Sprintf("offer %s@%s[%s] %s", o.FrameworkID, o.AgentID, o.Role, o.Resources)
		perAgent[o.AgentID] = perAgent[o.AgentID].Add(o.Resources.Unallocate()...)
		if m.agentsDown[o.AgentID] {
			t.Fatalf("%s: agent is deactivated", where)
		}
		if m.fwDown[o.FrameworkID] {
			t.Fatalf("%s: framework is inactive", where)
		}
		if !slices.Contains(m.roles[o.FrameworkID], o.Role) || m.suppressed[o.FrameworkID][o.Role] {
			t.Fatalf("%s: role not subscribed or suppressed", where)
		}
		for _, r := range o.Resources {
			if rr := r.ReservationRole(); rr != "" && !mesos.IsRoleInSubtree(o.Role, rr) {
				t.Fatalf("%s: %s is reserved for %s", where, r, rr)
			}
		}
		offered := o.Resources.Unallocate()
		for _, f := range m.filters[filterKey{o.FrameworkID, o.Role, o.AgentID}] {
			if h.now.Before(f.until) && f.res.Contains(offered) {
				t.Fatalf("%s: declined %s until %s", where, f.res, f.until.Sub(t0))
			}
		}
	}
	for ag, sum := range perAgent {
		if !before[ag].Contains(sum) {
			t.Fatalf("agent %s: offered %s, only %s was free", ag, sum, before[ag])
		}
	}
	// A cycle never takes a role past a limit, nor further past one it
	// was already over (a limit lowered below what it holds).
	for name, r := range h.roles {
		for _, l := range r.lim {
			was, now := consumed[name].at(l.idx), r.subQ.at(l.idx)
			if now > max(was, l.milli) {
				t.Fatalf("role %q: %s went from %d to %d, limit %d", name, h.names.list[l.idx], was, now, l.milli)
			}
		}
	}
}

func TestRandomOperations(t *testing.T) {
	n := 60
	if testing.Short() {
		n = 15
	}
	for seed := range uint64(n) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			a := runRandom(t, seed, 300)
			if b := runRandom(t, seed, 300); a != b {
				la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
				for i := range min(len(la), len(lb)) {
					if la[i] != lb[i] {
						t.Fatalf("the same seed and inputs gave different offers; first difference:\n%s\n%s\nvs\n%s",
							strings.Join(la[max(0, i-5):i], "\n"), la[i], lb[i])
					}
				}
				t.Fatal("the same seed and inputs gave different offers")
			}
		})
	}
}
