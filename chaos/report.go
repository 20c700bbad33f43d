package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Duration prints (and marshals) as Go's duration text, rounded to ms.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).Round(time.Millisecond).String() }

// MarshalJSON writes the duration as text, e.g. "4.2s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Recovery summarizes recovery times.
type Recovery struct {
	N   int      `json:"n"`
	P50 Duration `json:"p50"`
	P99 Duration `json:"p99"`
	Max Duration `json:"max"`
}

// Report is what a chaos run found.
type Report struct {
	Coord    CoordMode `json:"coord"`
	Duration Duration  `json:"duration"`
	Interval Duration  `json:"interval"`
	Bound    Duration  `json:"bound"`
	Seed     uint64    `json:"seed"`
	Dir      string    `json:"dir"`

	Faults []Fault `json:"faults"`
	// Recovery is over faults the cluster recovered from: until every
	// component, leader and app is whole again; Components stops at
	// components and leaders.
	Recovery   Recovery            `json:"recovery"`
	Components Recovery            `json:"components_recovery"`
	ByKind     map[string]Recovery `json:"recovery_by_kind"`

	RunsStarted int            `json:"runs_started"`
	AckedWrites int            `json:"acked_writes"`
	Checks      map[string]int `json:"checks"`
	Violations  []Violation    `json:"violations"`
}

// OK reports whether no invariant was violated.
func (r *Report) OK() bool { return len(r.Violations) == 0 }

// fill completes the report from the faults and the checker.
func (k *checker) fill(r *Report) {
	var all, daemons []time.Duration
	by := map[string][]time.Duration{}
	for _, f := range r.Faults {
		if !f.Whole {
			continue
		}
		all = append(all, time.Duration(f.Took))
		daemons = append(daemons, time.Duration(f.Daemon))
		key := string(f.Kind)
		if f.Role != "" && f.Kind != KindAgent {
			key += " (" + f.Role + ")"
		}
		by[key] = append(by[key], time.Duration(f.Took))
	}
	r.Recovery, r.Components = summarize(all), summarize(daemons)
	r.ByKind = map[string]Recovery{}
	for kk, ds := range by {
		r.ByKind[kk] = summarize(ds)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	r.Checks = map[string]int{}
	for _, inv := range invariants {
		r.Checks[inv] = k.checks[inv]
	}
	r.Violations = append([]Violation(nil), k.violations...)
}

func summarize(ds []time.Duration) Recovery {
	if len(ds) == 0 {
		return Recovery{}
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	q := func(p float64) Duration {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return Duration(ds[max(i, 0)])
	}
	return Recovery{N: len(ds), P50: q(0.5), P99: q(0.99), Max: Duration(ds[len(ds)-1])}
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) {
	coord := "3-node Apache ZooKeeper ensemble"
	if r.Coord == CoordEmbedded {
		coord = "embedded coord server"
	}
	fmt.Fprintf(w, "strata chaos: %s of faults (one kill -9 every %s, seed %d) on the %s\n", r.Duration, r.Interval, r.Seed, coord)
	kinds := map[string]int{}
	for _, f := range r.Faults {
		key := string(f.Kind)
		if f.Role != "" && f.Kind != KindAgent {
			key += " " + f.Role
		}
		kinds[key]++
	}
	var ks []string
	for kk, n := range kinds {
		ks = append(ks, fmt.Sprintf("%s %d", kk, n))
	}
	sort.Strings(ks)
	fmt.Fprintf(w, "faults injected: %d (%s)\n", len(r.Faults), strings.Join(ks, ", "))
	fmt.Fprintf(w, "recovery (components, leaders and every app whole again; bound %s):\n", r.Bound)
	fmt.Fprintf(w, "  all faults         n=%-3d p50 %-8s p99 %-8s max %s\n", r.Recovery.N, r.Recovery.P50, r.Recovery.P99, r.Recovery.Max)
	fmt.Fprintf(w, "  components only    n=%-3d p50 %-8s p99 %-8s max %s\n", r.Components.N, r.Components.P50, r.Components.P99, r.Components.Max)
	var names []string
	for kk := range r.ByKind {
		names = append(names, kk)
	}
	sort.Strings(names)
	for _, kk := range names {
		s := r.ByKind[kk]
		fmt.Fprintf(w, "  %-18s n=%-3d p50 %-8s p99 %-8s max %s\n", kk, s.N, s.P50, s.P99, s.Max)
	}
	slow := slices.Clone(r.Faults)
	sort.SliceStable(slow, func(a, b int) bool { return slow[a].Took > slow[b].Took })
	for i, f := range slow {
		if i == 3 || !f.Whole || len(f.Waited) == 0 {
			break
		}
		if i == 0 {
			fmt.Fprintln(w, "slowest recoveries, and what they waited on:")
		}
		fmt.Fprintf(w, "  %s %s (%s) at %s: %s\n", f.Kind, f.Name, f.Role, f.At.Format("15:04:05"), f.Took)
		for _, why := range f.Waited {
			fmt.Fprintf(w, "      %s\n", why)
		}
	}
	fmt.Fprintf(w, "workload: %d job runs started, %d coord writes acknowledged\n", r.RunsStarted, r.AckedWrites)
	fmt.Fprintln(w, "invariants (times checked, violations):")
	per := map[string]int{}
	for _, v := range r.Violations {
		per[v.Invariant]++
	}
	for _, inv := range invariants {
		fmt.Fprintf(w, "  %-55s %7d  %d\n", inv, r.Checks[inv], per[inv])
	}
	fmt.Fprintf(w, "invariant violations = %d\n", len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintf(w, "  %s  %s: %s\n", v.At.Format("15:04:05"), v.Invariant, v.Detail)
	}
}
