package allocator

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/strata-dc/strata/master/mesos"
)

// unitCluster makes n agents that each fit exactly one task, so every
// offer is one task and DRF's progressive filling is exact.
func unitCluster(h *harness, n int, first int) {
	for i := range n {
		h.agent(fmt.Sprintf("u%04d", first+i), "cpus:1;mem:512")
	}
}

// running tracks which framework runs a task on which agent.
type running map[mesos.AgentID]Offer

func (r running) count() map[mesos.FrameworkID]int {
	out := map[mesos.FrameworkID]int{}
	for _, o := range r {
		out[o.FrameworkID]++
	}
	return out
}

// TestEqualSharesStayWithinOneTask simulates frameworks that accept every
// offer (one task) while tasks finish at random and agents join: after
// every cycle, frameworks' dominant shares differ by at most one task's
// share. (Agents do not leave: DRF does not preempt, so losing an agent
// can unbalance shares until tasks finish.)
func TestEqualSharesStayWithinOneTask(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			h := newHarness(t, Options{Seed: int64(seed)})
			nfw := 2 + rng.IntN(7)
			for i := range nfw {
				h.framework(fmt.Sprintf("f%d", i), "pool")
			}
			nagents := nfw + rng.IntN(50)
			unitCluster(h, nagents, 0)
			run := running{}
			next := nagents
			for cycle := range 40 {
				for _, o := range h.allocate() {
					run[o.AgentID] = o
				}
				counts := run.count()
				lo, hi := nagents, 0
				for i := range nfw {
					c := counts[mesos.FrameworkID(fmt.Sprintf("f%d", i))]
					lo, hi = min(lo, c), max(hi, c)
				}
				if hi-lo > 1 {
					t.Fatalf("cycle %d: task counts %v differ by %d tasks", cycle, counts, hi-lo)
				}
				// Tasks finish at random; sometimes an agent joins or leaves.
				for _, id := range sortedKeys(run) {
					if rng.IntN(4) == 0 {
						o := run[id]
						h.ok(h.Recover(o.FrameworkID, o.AgentID, o.Resources))
						delete(run, id)
					}
				}
				if rng.IntN(3) == 0 {
					unitCluster(h, 1, next)
					next++
					nagents++
				}
			}
		})
	}
}

func TestWeightsChangeProportions(t *testing.T) {
	h := newHarness(t, Options{Seed: 4})
	unitCluster(h, 40, 0)
	h.ok(h.UpdateWeights(map[string]float64{"b": 3}))
	h.framework("fa", "a")
	h.framework("fb", "b")
	offers := h.allocate()
	run := running{}
	for _, o := range offers {
		run[o.AgentID] = o
	}
	if c := run.count(); c["fa"] != 10 || c["fb"] != 30 {
		t.Fatalf("weights 1:3 gave %v", c)
	}
	// Reweight to 1:1; as tasks finish and are replaced, shares converge.
	h.ok(h.UpdateWeights(map[string]float64{"b": 1}))
	for _, id := range sortedKeys(run) {
		o := run[id]
		h.ok(h.Recover(o.FrameworkID, o.AgentID, o.Resources))
		delete(run, id)
	}
	for _, o := range h.allocate() {
		run[o.AgentID] = o
	}
	if c := run.count(); c["fa"] != 20 || c["fb"] != 20 {
		t.Fatalf("weights 1:1 gave %v", c)
	}
}

// TestDominantShareNotTaskCount checks DRF is about dominant shares:
// a framework whose tasks are twice as big gets half as many.
func TestDominantShareNotTaskCount(t *testing.T) {
	h := newHarness(t, Options{Seed: 8, MinAllocatable: []Quantities{}})
	for i := range 12 {
		h.agent(fmt.Sprintf("a%02d", i), "cpus:2;mem:2048")
	}
	h.framework("small", "pool")
	h.framework("big", "pool")
	// Each framework launches one task per offer and returns the rest:
	// small tasks are cpus:1;mem:1024, big ones the whole agent.
	held := map[mesos.FrameworkID]mesos.Resources{}
	for range 30 {
		for _, o := range h.allocate() {
			task := res("cpus:2;mem:2048")
			if o.FrameworkID == "small" {
				task = res("cpus:1;mem:1024")
			}
			if !o.Resources.Unallocate().Contains(task) {
				h.ok(h.Recover(o.FrameworkID, o.AgentID, o.Resources))
				continue
			}
			rest := o.Resources.Unallocate().Subtract(task...)
			if len(rest) > 0 {
				h.ok(h.Recover(o.FrameworkID, o.AgentID, allocated(rest, o.Role)))
			}
			held[o.FrameworkID] = held[o.FrameworkID].Add(task...)
		}
	}
	small, big := held["small"].Cpus().Float64(), held["big"].Cpus().Float64()
	if small+big != 24 || small < big-2 || small > big+2 {
		t.Fatalf("small framework holds %v cpus, big %v; want about equal", small, big)
	}
}
