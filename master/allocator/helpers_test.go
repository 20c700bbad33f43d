package allocator

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func res(s string) mesos.Resources { return mesos.MustParseResources(s) }

// allocated marks every resource as allocated to role.
func allocated(rs mesos.Resources, role string) mesos.Resources { return rs.Allocate(role) }

// harness wraps an Allocator for tests: every call must succeed and leave
// the bookkeeping consistent.
type harness struct {
	t *testing.T
	*Allocator
	now time.Time
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	return &harness{t: t, Allocator: New(opts), now: t0}
}

func (h *harness) ok(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.checkInvariants(); err != nil {
		h.t.Fatalf("invariants: %v", err)
	}
}

func (h *harness) agent(id, resources string) {
	h.t.Helper()
	h.ok(h.AddAgent(mesos.AgentID(id), AgentInfo{Hostname: id}, res(resources), nil))
}

func (h *harness) framework(id string, roles ...string) {
	h.t.Helper()
	if len(roles) == 0 {
		roles = []string{"*"}
	}
	h.ok(h.AddFramework(mesos.FrameworkID(id), FrameworkInfo{Roles: roles}, nil, true))
}

// allocate runs a cycle and checks its offers never overlap what is free.
func (h *harness) allocate() []Offer {
	h.t.Helper()
	offers := h.Allocate(h.now)
	if err := h.checkInvariants(); err != nil {
		h.t.Fatalf("invariants after allocate: %v", err)
	}
	seen := map[[3]string]bool{}
	for _, o := range offers {
		k := [3]string{string(o.FrameworkID), string(o.AgentID), o.Role}
		if seen[k] {
			h.t.Fatalf("two offers for %v in one cycle", k)
		}
		seen[k] = true
		for _, r := range o.Resources {
			if r.AllocationInfo == nil || r.AllocationInfo.Role != o.Role {
				h.t.Fatalf("offer %v: resource %s lacks allocation role %q", k, r, o.Role)
			}
		}
	}
	return offers
}

// byFramework sums offers per framework as flag syntax, for comparisons.
func summarize(offers []Offer) string {
	var lines []string
	for _, o := range offers {
		lines = append(lines, fmt.Sprintf("%s@%s[%s]=%s", o.FrameworkID, o.AgentID, o.Role, o.Resources.Unallocate()))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func (h *harness) recoverAll(offers []Offer) {
	h.t.Helper()
	for _, o := range offers {
		h.ok(h.Recover(o.FrameworkID, o.AgentID, o.Resources))
	}
}
