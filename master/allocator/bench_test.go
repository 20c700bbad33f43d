package allocator

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// benchFirst measures the first cycle of a freshly built scenario: it
// hands out every agent. Building is not timed.
func benchFirst(b *testing.B, s Scenario) {
	b.Helper()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		a, err := BuildScenario(s)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC() // the setup's garbage is not the cycle's cost
		b.StartTimer()
		start := time.Now()
		offers := a.Allocate(time.Unix(0, 0))
		total += time.Since(start)
		if len(offers) == 0 {
			b.Fatal("no offers")
		}
	}
	b.ReportMetric(float64(total)/float64(time.Millisecond)/float64(b.N), "ms/cycle")
}

// benchSteady measures a cycle after every offer of the previous one was
// recovered: the same work as the first cycle without the initial sort.
func benchSteady(b *testing.B, s Scenario) {
	b.Helper()
	a, err := BuildScenario(s)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(0, 0)
	offers := a.Allocate(now)
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		if err := RecoverAll(a, offers); err != nil {
			b.Fatal(err)
		}
		runtime.GC() // the setup's garbage is not the cycle's cost
		b.StartTimer()
		start := time.Now()
		offers = a.Allocate(now)
		total += time.Since(start)
		if len(offers) == 0 {
			b.Fatal("no offers")
		}
	}
	b.ReportMetric(float64(total)/float64(time.Millisecond)/float64(b.N), "ms/cycle")
}

// benchIdle measures a cycle when nothing changed since the last.
func benchIdle(b *testing.B, s Scenario) {
	b.Helper()
	a, err := BuildScenario(s)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(0, 0)
	a.Allocate(now)
	b.ResetTimer()
	for range b.N {
		if len(a.Allocate(now)) != 0 {
			b.Fatal("offers from an unchanged cycle")
		}
	}
}

// benchRevive measures a cycle after every framework declined every
// agent for an hour and one framework revived.
func benchRevive(b *testing.B, s Scenario) {
	b.Helper()
	a, err := BuildScenario(s)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(0, 0)
	decline := func(offers []Offer) {
		for _, o := range offers {
			if err := a.Decline(o.FrameworkID, o.AgentID, o.Resources, time.Hour, now); err != nil {
				b.Fatal(err)
			}
		}
	}
	for range 3 {
		decline(a.Allocate(now))
	}
	b.ResetTimer()
	var total time.Duration
	for i := range b.N {
		b.StopTimer()
		if err := a.Revive(mesos.FrameworkID(fmt.Sprintf("fw-%05d", i%s.Frameworks))); err != nil {
			b.Fatal(err)
		}
		runtime.GC() // the setup's garbage is not the cycle's cost
		b.StartTimer()
		start := time.Now()
		offers := a.Allocate(now)
		total += time.Since(start)
		b.StopTimer()
		if len(offers) == 0 {
			b.Fatal("no offers after a revive")
		}
		decline(offers)
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/float64(time.Millisecond)/float64(b.N), "ms/cycle")
}

func growth(i int) Scenario { return GrowthScenarios()[i] }

func BenchmarkRevive_10kAgents_1kFrameworks(b *testing.B) { benchRevive(b, growth(2)) }

func BenchmarkAllocate_1kAgents_100Frameworks(b *testing.B)  { benchFirst(b, growth(0)) }
func BenchmarkAllocate_5kAgents_500Frameworks(b *testing.B)  { benchFirst(b, growth(1)) }
func BenchmarkAllocate_10kAgents_1kFrameworks(b *testing.B)  { benchFirst(b, growth(2)) }
func BenchmarkAllocate_20kAgents_2kFrameworks(b *testing.B)  { benchFirst(b, growth(3)) }
func BenchmarkAllocate_Quota_3kAgents_3kRoles(b *testing.B)  { benchFirst(b, QuotaScenario()) }
func BenchmarkSteady_10kAgents_1kFrameworks(b *testing.B)    { benchSteady(b, growth(2)) }
func BenchmarkSteady_20kAgents_2kFrameworks(b *testing.B)    { benchSteady(b, growth(3)) }
func BenchmarkSteady_Quota_3kAgents_3kRoles(b *testing.B)    { benchSteady(b, QuotaScenario()) }
func BenchmarkUnchanged_10kAgents_1kFrameworks(b *testing.B) { benchIdle(b, growth(2)) }
