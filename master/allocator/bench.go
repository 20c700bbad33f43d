package allocator

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Scenario is one allocator benchmark, shaped like Mesos' allocator
// benchmarks: identical agents, frameworks that want everything (they
// accept every offer and set no filters), and one cycle measured from a
// standing start.
type Scenario struct {
	Name       string
	Agents     int
	Frameworks int
	// QuotaRoles > 0 makes Mesos' quota-heavy setup instead
	// (LargeAndSmallQuota): five in six roles have a small quota (half an
	// agent), the rest a large one (two agents), guarantees equal to
	// limits, one framework per role, and Agents should be QuotaRoles.
	QuotaRoles int
	// Mesos is Apache Mesos' published figure for the same setup.
	Mesos string
}

// GrowthScenarios are the frameworks-in-one-role setups of issue 3's
// growth table.
func GrowthScenarios() []Scenario {
	return []Scenario{
		{Name: "1k agents × 100 frameworks", Agents: 1000, Frameworks: 100, Mesos: "< 0.1 s"},
		{Name: "5k agents × 500 frameworks", Agents: 5000, Frameworks: 500, Mesos: "0.4 s"},
		{Name: "10k agents × 1k frameworks", Agents: 10000, Frameworks: 1000, Mesos: "1.06 s"},
		{Name: "20k agents × 2k frameworks", Agents: 20000, Frameworks: 2000, Mesos: "3.8 s"},
	}
}

// QuotaScenario is the quota-heavy setup: 3,000 agents, 3,000 roles with
// quota, 3,000 frameworks.
func QuotaScenario() Scenario {
	return Scenario{Name: "quota: 3k agents × 3k roles × 3k frameworks", Agents: 3000, Frameworks: 3000,
		QuotaRoles: 3000, Mesos: "15–17 s"}
}

// Result is what RunScenario measured.
type Result struct {
	Scenario
	Setup        time.Duration // adding agents and frameworks
	First        time.Duration // the first cycle, which hands out everything
	FirstOffers  int
	Steady       time.Duration // a cycle after every offer was recovered
	SteadyOffers int
	Idle         time.Duration // a cycle when nothing changed (mean)
	// Revive is a cycle after every framework declined everything for an
	// hour and then one framework revived: Mesos walks agents ×
	// frameworks here; this allocator looks at each agent for the one.
	Revive       time.Duration
	ReviveOffers int
}

// Growth agents: one size for all.
const benchAgentResources = "cpus:8;mem:16384;disk:65536;ports:[31000-32000]"

// Quota scenario agents and quotas, as in Mesos' benchmark.
const (
	quotaAgentResources = "cpus:2;mem:2048;disk:2048"
	quotaSmall          = "cpus:1;mem:1024;disk:1024"
	quotaLarge          = "cpus:4;mem:4096;disk:4096"
)

// BuildScenario returns an allocator set up for s, before any cycle.
func BuildScenario(s Scenario) (*Allocator, error) {
	a := New(Options{Seed: 1})
	agentRes := benchAgentResources
	if s.QuotaRoles > 0 {
		agentRes = quotaAgentResources
	}
	total, err := mesos.ParseResources(agentRes, "")
	if err != nil {
		return nil, err
	}
	if s.QuotaRoles > 0 {
		small, _ := ParseQuantities(quotaSmall)
		large, _ := ParseQuantities(quotaLarge)
		for i := range s.QuotaRoles {
			name := "small" + strconv.Itoa(i)
			q := small
			if i%6 == 5 {
				name, q = "large"+strconv.Itoa(i), large
			}
			if err := a.UpdateQuota(name, q, q); err != nil {
				return nil, err
			}
			id := mesos.FrameworkID("fw-" + name)
			if err := a.AddFramework(id, FrameworkInfo{Roles: []string{name}}, nil, true); err != nil {
				return nil, err
			}
		}
	} else {
		for i := range s.Frameworks {
			id := mesos.FrameworkID(fmt.Sprintf("fw-%05d", i))
			if err := a.AddFramework(id, FrameworkInfo{Roles: []string{"bench"}}, nil, true); err != nil {
				return nil, err
			}
		}
	}
	for i := range s.Agents {
		id := mesos.AgentID(fmt.Sprintf("agent-%06d", i))
		if err := a.AddAgent(id, AgentInfo{Hostname: string(id)}, total, nil); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// RecoverAll gives every offer back, as frameworks declining without a
// filter would.
func RecoverAll(a *Allocator, offers []Offer) error {
	for _, o := range offers {
		if err := a.Recover(o.FrameworkID, o.AgentID, o.Resources); err != nil {
			return err
		}
	}
	return nil
}

// RunScenario builds s and measures its cycles with the wall clock (the
// only place this package reads it).
func RunScenario(s Scenario) (Result, error) {
	r := Result{Scenario: s}
	start := time.Now()
	a, err := BuildScenario(s)
	if err != nil {
		return r, err
	}
	r.Setup = time.Since(start)
	now := time.Unix(0, 0)

	// Each timed cycle starts from a collected heap: the setup's garbage
	// is not the cycle's cost (the garbage the cycle makes still is).
	runtime.GC()
	start = time.Now()
	offers := a.Allocate(now)
	r.First = time.Since(start)
	r.FirstOffers = len(offers)

	if err := RecoverAll(a, offers); err != nil {
		return r, err
	}
	runtime.GC()
	start = time.Now()
	offers = a.Allocate(now)
	r.Steady = time.Since(start)
	r.SteadyOffers = len(offers)

	const idleRuns = 1000
	start = time.Now()
	for range idleRuns {
		if got := a.Allocate(now); len(got) != 0 {
			return r, fmt.Errorf("%s: an unchanged cycle made %d offers", s.Name, len(got))
		}
	}
	r.Idle = time.Since(start) / idleRuns

	if err := RecoverAll(a, offers); err != nil {
		return r, err
	}
	for range 2 {
		for _, o := range a.Allocate(now) {
			if err := a.Decline(o.FrameworkID, o.AgentID, o.Resources, time.Hour, now); err != nil {
				return r, err
			}
		}
	}
	if len(offers) > 0 {
		if err := a.Revive(offers[0].FrameworkID); err != nil {
			return r, err
		}
	}
	runtime.GC()
	start = time.Now()
	offers = a.Allocate(now)
	r.Revive = time.Since(start)
	r.ReviveOffers = len(offers)
	return r, nil
}

// RunBenchmarks runs the scenarios (growth and quota when none are given)
// and prints a table to w: what `strata bench master` shows.
func RunBenchmarks(w io.Writer, scenarios ...Scenario) error {
	if len(scenarios) == 0 {
		scenarios = append(GrowthScenarios(), QuotaScenario())
	}
	fmt.Fprintf(w, "%-44s %10s %12s %7s %13s %12s %10s  %s\n",
		"scenario", "setup", "first cycle", "offers", "steady cycle", "after revive", "idle", "Mesos (first cycle)")
	for _, s := range scenarios {
		r, err := RunScenario(s)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%-44s %10s %12s %7d %13s %12s %10s  %s\n", s.Name,
			ms(r.Setup), ms(r.First), r.FirstOffers, ms(r.Steady), ms(r.Revive), us(r.Idle), s.Mesos)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%d ns", d.Nanoseconds()) }
