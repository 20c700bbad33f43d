package deploy

import (
	"math"
	"sort"
	"time"
)

// ConfigRef names one config version of an app. Delays are kept per config
// version, as Marathon's RateLimiter does, so a config change starts
// without the old version's delay while a scale or a restart of the same
// config does not wipe it.
type ConfigRef struct {
	AppID   string
	Version time.Time
}

type delay struct {
	reference time.Time     // last failure (or last reset of the clock)
	current   time.Duration // delay after reference before the next launch
	max       time.Duration
	failures  int
}

func (d delay) deadline() time.Time { return d.reference.Add(d.current) }

// RateLimiter holds the launch delays of failing apps. It is a plain value
// owned by the daemon's loop (not safe for concurrent use); every method
// takes the time.
type RateLimiter struct {
	// StableAfter is how long an instance must stay running for its success
	// to clear the delay. Zero means the delay's maxLaunchDelaySeconds,
	// which is when Marathon forgets an untouched delay.
	StableAfter time.Duration

	delays map[ConfigRef]delay
}

// NewRateLimiter returns an empty limiter.
func NewRateLimiter() *RateLimiter { return &RateLimiter{delays: map[ConfigRef]delay{}} }

func seconds(s float64) time.Duration {
	if s <= 0 || math.IsNaN(s) {
		return 0
	}
	if s > float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}

// Failed records that an instance of ref failed at now and returns when
// the next launch may happen: the first failure waits backoffSeconds, each
// further one multiplies the previous delay by backoffFactor, and no delay
// exceeds maxLaunchDelaySeconds.
func (r *RateLimiter) Failed(ref ConfigRef, b BackoffStrategy, now time.Time) time.Time {
	if r.delays == nil {
		r.delays = map[ConfigRef]delay{}
	}
	maxD := seconds(b.MaxLaunchDelaySeconds)
	d, ok := r.delays[ref]
	if !ok {
		d = delay{current: min(seconds(b.BackoffSeconds), maxD)}
	} else {
		f := b.BackoffFactor
		if f < 1 || math.IsNaN(f) {
			f = 1
		}
		next := float64(d.current) * f
		if next >= float64(maxD) {
			d.current = maxD
		} else {
			d.current = time.Duration(next)
		}
	}
	d.reference, d.max = now, maxD
	d.failures++
	r.delays[ref] = d
	return d.deadline()
}

// LaunchAllowed reports whether ref may launch at now and, if not, until when
// it waits.
func (r *RateLimiter) LaunchAllowed(ref ConfigRef, now time.Time) (bool, time.Time) {
	d, ok := r.delays[ref]
	if !ok || !now.Before(d.deadline()) {
		return true, time.Time{}
	}
	return false, d.deadline()
}

// Failures returns how many failures the current delay of ref accumulates.
func (r *RateLimiter) Failures(ref ConfigRef) int { return r.delays[ref].failures }

// Reset clears the delay of one config version: DELETE /v2/queue/{id}/delay
// and the start of a deployment of that version do this.
func (r *RateLimiter) Reset(ref ConfigRef) { delete(r.delays, ref) }

// ResetApp clears the delays of every config version of the app except
// keep: a config change (the new version starts clean) or the app's removal
// (keep zero) does this.
func (r *RateLimiter) ResetApp(appID string, keep time.Time) {
	for ref := range r.delays {
		if ref.AppID == appID && !ref.Version.Equal(keep) {
			delete(r.delays, ref)
		}
	}
}

// Running tells the limiter an instance of ref has been running since
// since; once it has stayed up for StableAfter (after the last failure),
// the app has recovered and the delay is cleared.
func (r *RateLimiter) Running(ref ConfigRef, since, now time.Time) {
	d, ok := r.delays[ref]
	if !ok {
		return
	}
	if since.Before(d.reference) {
		since = d.reference // running across a later failure proves nothing
	}
	stable := r.StableAfter
	if stable <= 0 {
		stable = d.max
	}
	if now.Sub(since) >= stable {
		delete(r.delays, ref)
	}
}

// Expire drops delays untouched for their maxLaunchDelay after the last
// failure, as Marathon's periodic cleanup does, and returns them sorted.
func (r *RateLimiter) Expire(now time.Time) []ConfigRef {
	var out []ConfigRef
	for ref, d := range r.delays {
		if now.After(d.reference.Add(d.max)) {
			out = append(out, ref)
			delete(r.delays, ref)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AppID != out[j].AppID {
			return out[i].AppID < out[j].AppID
		}
		return out[i].Version.Before(out[j].Version)
	})
	return out
}

// QueueDelay is the "delay" object of a /v2/queue entry.
type QueueDelay struct {
	TimeLeftSeconds int64 `json:"timeLeftSeconds"`
	Overdue         bool  `json:"overdue"`
}

// QueueDelay reports ref's delay as /v2/queue does: whole seconds left
// (truncated, never negative) and overdue once no delay holds the launch
// back. Marathon calls a deadline passed by less than a second not overdue
// yet; here it is overdue as soon as it passed.
func (r *RateLimiter) QueueDelay(ref ConfigRef, now time.Time) QueueDelay {
	d, ok := r.delays[ref]
	if !ok {
		return QueueDelay{Overdue: true}
	}
	left := d.deadline().Sub(now)
	if left <= 0 {
		return QueueDelay{Overdue: true}
	}
	return QueueDelay{TimeLeftSeconds: int64(left / time.Second)}
}
