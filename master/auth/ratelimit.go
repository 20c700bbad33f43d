package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"time"
)

// RateLimits is Mesos' --rate_limits JSON: per-principal limits on the
// scheduler API, and a shared default for principals not listed.
type RateLimits struct {
	Limits []RateLimit `json:"limits"`
	// AggregateDefaultQPS limits all principals not listed together
	// (including anonymous callers); absent, they are not limited.
	AggregateDefaultQPS      *float64 `json:"aggregate_default_qps,omitempty"`
	AggregateDefaultCapacity *uint64  `json:"aggregate_default_capacity,omitempty"`
}

// RateLimit is one principal's limit. Without QPS the principal is not
// limited (Mesos' meaning). Capacity is the burst a full bucket allows
// (Mesos counts queued messages; Strata answers at once, so the queue
// becomes a burst); it defaults to max(1, QPS).
type RateLimit struct {
	Principal string   `json:"principal"`
	QPS       *float64 `json:"qps,omitempty"`
	Capacity  *uint64  `json:"capacity,omitempty"`
}

// LoadRateLimits reads --rate-limits: the JSON itself, or a path (or
// file:///path) to it, as Mesos accepts.
func LoadRateLimits(pathOrJSON string) (*RateLimits, error) {
	data, err := readValue(pathOrJSON)
	if err != nil {
		return nil, fmt.Errorf("rate limits: %w", err)
	}
	rl, err := ParseRateLimits(data)
	if err != nil {
		return nil, fmt.Errorf("rate limits: %w", err)
	}
	return rl, nil
}

// ParseRateLimits parses and checks --rate-limits JSON.
func ParseRateLimits(data []byte) (*RateLimits, error) {
	var rl RateLimits
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rl); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	seen := map[string]bool{}
	for i, l := range rl.Limits {
		if l.Principal == "" {
			return nil, fmt.Errorf("limits[%d].principal: required", i)
		}
		if seen[l.Principal] {
			return nil, fmt.Errorf("limits[%d].principal: %q is listed twice", i, l.Principal)
		}
		seen[l.Principal] = true
		if l.QPS != nil && !(*l.QPS > 0 && *l.QPS < math.Inf(1)) {
			return nil, fmt.Errorf("limits[%d].qps: must be positive, got %v", i, *l.QPS)
		}
		if l.Capacity != nil && l.QPS == nil {
			return nil, fmt.Errorf("limits[%d].capacity: needs qps", i)
		}
	}
	if q := rl.AggregateDefaultQPS; q != nil && !(*q > 0 && *q < math.Inf(1)) {
		return nil, fmt.Errorf("aggregate_default_qps: must be positive, got %v", *q)
	}
	if rl.AggregateDefaultCapacity != nil && rl.AggregateDefaultQPS == nil {
		return nil, fmt.Errorf("aggregate_default_capacity: needs aggregate_default_qps")
	}
	return &rl, nil
}

// bucket is a token bucket: capacity tokens, refilled at qps.
type bucket struct {
	qps, capacity float64
	tokens        float64
	last          time.Time
}

func newBucket(qps float64, capacity *uint64) *bucket {
	c := math.Max(1, qps)
	if capacity != nil && *capacity > 0 {
		c = float64(*capacity)
	}
	return &bucket{qps: qps, capacity: c, tokens: c}
}

// take spends a token at now, or says how long until one is available.
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	if !b.last.IsZero() {
		if el := now.Sub(b.last).Seconds(); el > 0 {
			b.tokens = math.Min(b.capacity, b.tokens+el*b.qps)
		}
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / b.qps * float64(time.Second))
	return false, max(wait, time.Millisecond)
}

// Limiter applies RateLimits. It takes its clock, so tests drive time; a
// nil Limiter allows everything.
type Limiter struct {
	now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket // listed principals with a qps
	unlimited map[string]bool    // listed principals without one
	aggregate *bucket            // everyone else, nil: unlimited
}

// NewLimiter builds a limiter for rl (nil: nil limiter); now defaults to
// time.Now.
func NewLimiter(rl *RateLimits, now func() time.Time) *Limiter {
	if rl == nil {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	l := &Limiter{now: now, buckets: map[string]*bucket{}, unlimited: map[string]bool{}}
	for _, lim := range rl.Limits {
		if lim.QPS == nil {
			l.unlimited[lim.Principal] = true
			continue
		}
		l.buckets[lim.Principal] = newBucket(*lim.QPS, lim.Capacity)
	}
	if rl.AggregateDefaultQPS != nil {
		l.aggregate = newBucket(*rl.AggregateDefaultQPS, rl.AggregateDefaultCapacity)
	}
	return l
}

// Allow spends one call of principal's budget ("" is an anonymous caller,
// which shares the aggregate default). When the budget is spent it
// returns false and how long until the next call would be allowed.
func (l *Limiter) Allow(principal string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unlimited[principal] {
		return true, 0
	}
	b := l.buckets[principal]
	if b == nil {
		b = l.aggregate
	}
	if b == nil {
		return true, 0
	}
	return b.take(l.now())
}
