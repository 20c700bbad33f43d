package bench

import (
	"fmt"
	"slices"
	"time"
)

// Phase modes.
const (
	ModeSequential = "sequential" // one request at a time on one session
	ModeAsync      = "async"      // InFlight requests kept outstanding
	ModeWatch      = "watch"      // data-watch notification rounds
)

// Result is everything measured against one target.
type Result struct {
	Target Target    `json:"target"`
	Root   string    `json:"root"`
	Start  time.Time `json:"start"`
	Phases []Phase   `json:"phases"`
	// Memory is set when Config.Znodes was positive.
	Memory *Memory `json:"memory,omitempty"`
	// Rounds is how many runs the figures are the medians of.
	Rounds int `json:"rounds,omitempty"`
}

// Phase is one timed batch of identical operations.
type Phase struct {
	Op       string `json:"op"` // create, set, get, delete, watch
	Mode     string `json:"mode"`
	Sessions int    `json:"sessions"`
	InFlight int    `json:"in_flight"`
	Ops      int    `json:"ops"`
	// Seconds is wall time from the first request issued to the last reply.
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	// Latency is per operation, issue to reply (for watch: set issued to
	// the watcher's event).
	Latency Latency `json:"latency"`
	// ClientCPU is the CPU time this benchmark process used during the
	// phase, in cores (1.0 = one core busy throughout). On a small machine
	// the client competes with the server, and this says how much.
	ClientCPU float64 `json:"client_cpu_cores"`
	// ServerCPU is the same for the server process; absent without a PID.
	ServerCPU *float64 `json:"server_cpu_cores,omitempty"`
}

// Key identifies a phase across results of one invocation (which share a
// Config), for lining them up in a compare table.
func (p Phase) Key() string {
	return fmt.Sprintf("%s %s %d/%d", p.Mode, p.Op, p.InFlight, p.Sessions)
}

// Latency is a summary of per-operation latencies, nearest-rank
// percentiles.
type Latency struct {
	P50  time.Duration `json:"p50_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
}

// summarize sorts lat in place and returns its percentiles.
func summarize(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	slices.Sort(lat)
	return Latency{
		P50:  percentile(lat, 0.50),
		P99:  percentile(lat, 0.99),
		P999: percentile(lat, 0.999),
		Max:  lat[len(lat)-1],
	}
}

// percentile is the nearest-rank percentile of sorted: the smallest value
// with at least q of the samples at or below it.
func percentile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	rank := int(q*float64(n) + 0.999999999) // ceil without float surprises at exact ranks
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return sorted[rank-1]
}

// Memory is the server's footprint with Znodes small znodes in its tree.
type Memory struct {
	Znodes    int `json:"znodes"`
	ValueSize int `json:"value_size"`
	PID       int `json:"pid"`
	// RSSBefore is VmRSS before the znodes were created; RSS after the last
	// one was acknowledged; HWM is VmHWM (peak RSS) at that point.
	RSSBefore int64 `json:"rss_before_bytes"`
	RSS       int64 `json:"rss_bytes"`
	HWM       int64 `json:"hwm_bytes"`
	// Seconds is how long creating the znodes took (32 in flight).
	Seconds float64 `json:"seconds"`
}
