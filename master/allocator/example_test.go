package allocator_test

import (
	"fmt"
	"time"

	"github.com/strata-dc/strata/master/allocator"
	"github.com/strata-dc/strata/master/mesos"
)

func Example() {
	a := allocator.New(allocator.Options{Seed: 1})
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

	_ = a.AddAgent("agent-1", allocator.AgentInfo{Hostname: "h1"},
		mesos.MustParseResources("cpus:4;mem:4096;cpus(ads):2"), nil)
	_ = a.AddFramework("web", allocator.FrameworkInfo{Roles: []string{"web"}}, nil, true)
	_ = a.AddFramework("ads", allocator.FrameworkInfo{Roles: []string{"ads"}}, nil, true)

	show := func(at time.Duration) {
		for _, o := range a.Allocate(now.Add(at)) {
			fmt.Printf("%v: %s gets %s on %s as %s\n", at, o.FrameworkID, o.Resources.Unallocate(), o.AgentID, o.Role)
			// Neither launches anything; both decline for 10 s.
			_ = a.Decline(o.FrameworkID, o.AgentID, o.Resources, 10*time.Second, now.Add(at))
		}
	}
	show(0)
	show(5 * time.Second)
	show(10 * time.Second)
	// Output:
	// 0s: web gets cpus:4;mem:4096 on agent-1 as web
	// 0s: ads gets cpus(ads):2 on agent-1 as ads
	// 5s: ads gets cpus:4;mem:4096;cpus(ads):2 on agent-1 as ads
	// 10s: web gets cpus:4;mem:4096 on agent-1 as web
}
