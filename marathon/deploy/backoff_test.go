package deploy

import (
	"slices"
	"testing"
	"time"
)

func TestBackoffGrowsAndCaps(t *testing.T) {
	rl := NewRateLimiter()
	ref := ConfigRef{AppID: "/web", Version: v1}
	b := BackoffStrategy{BackoffSeconds: 2, BackoffFactor: 2, MaxLaunchDelaySeconds: 20}
	now := t0
	var got []time.Duration
	for range 6 {
		deadline := rl.Failed(ref, b, now)
		got = append(got, deadline.Sub(now))
		now = deadline
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 20 * time.Second, 20 * time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	if rl.Failures(ref) != 6 {
		t.Fatalf("failures %d", rl.Failures(ref))
	}
}

func TestBackoffDefaults(t *testing.T) {
	rl := NewRateLimiter()
	ref := ConfigRef{AppID: "/web", Version: v1}
	d1 := rl.Failed(ref, DefaultBackoff, t0).Sub(t0)
	d2 := rl.Failed(ref, DefaultBackoff, t0).Sub(t0)
	if d1 != time.Second || d2 != 1150*time.Millisecond {
		t.Fatalf("default delays %v %v, want 1s 1.15s", d1, d2)
	}
	// backoffSeconds above the cap starts at the cap.
	big := BackoffStrategy{BackoffSeconds: 500, BackoffFactor: 1.15, MaxLaunchDelaySeconds: 300}
	ref2 := ConfigRef{AppID: "/big", Version: v1}
	if d := rl.Failed(ref2, big, t0).Sub(t0); d != 300*time.Second {
		t.Fatalf("capped first delay %v", d)
	}
}

func TestBackoffGateAndQueueDelay(t *testing.T) {
	rl := NewRateLimiter()
	ref := ConfigRef{AppID: "/web", Version: v1}
	if ok, _ := rl.LaunchAllowed(ref, t0); !ok {
		t.Fatal("no failure yet, launch should be allowed")
	}
	if qd := rl.QueueDelay(ref, t0); qd != (QueueDelay{TimeLeftSeconds: 0, Overdue: true}) {
		t.Fatalf("queue delay without failure %+v", qd)
	}
	rl.Failed(ref, BackoffStrategy{BackoffSeconds: 10, BackoffFactor: 1.5, MaxLaunchDelaySeconds: 60}, t0)
	if ok, until := rl.LaunchAllowed(ref, t0.Add(3*time.Second)); ok || !until.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("launch allowed %v until %v during the delay", ok, until)
	}
	if qd := rl.QueueDelay(ref, t0.Add(3500*time.Millisecond)); qd != (QueueDelay{TimeLeftSeconds: 6, Overdue: false}) {
		t.Fatalf("queue delay %+v, want 6 s left", qd)
	}
	if ok, _ := rl.LaunchAllowed(ref, t0.Add(10*time.Second)); !ok {
		t.Fatal("launch not allowed once the delay passed")
	}
	if qd := rl.QueueDelay(ref, t0.Add(11*time.Second)); !qd.Overdue || qd.TimeLeftSeconds != 0 {
		t.Fatalf("queue delay after deadline %+v", qd)
	}
	// Another config version is not delayed.
	if ok, _ := rl.LaunchAllowed(ConfigRef{AppID: "/web", Version: v2}, t0); !ok {
		t.Fatal("a new config version inherited the old one's delay")
	}
}

func TestBackoffReset(t *testing.T) {
	b := BackoffStrategy{BackoffSeconds: 5, BackoffFactor: 2, MaxLaunchDelaySeconds: 100}
	r1 := ConfigRef{AppID: "/web", Version: v1}
	r2 := ConfigRef{AppID: "/web", Version: v2}
	other := ConfigRef{AppID: "/db", Version: v1}

	t.Run("queue delay DELETE", func(t *testing.T) {
		rl := NewRateLimiter()
		rl.Failed(r1, b, t0)
		rl.Failed(r1, b, t0)
		rl.Reset(r1)
		if ok, _ := rl.LaunchAllowed(r1, t0); !ok {
			t.Fatal("still delayed after reset")
		}
		if d := rl.Failed(r1, b, t0).Sub(t0); d != 5*time.Second {
			t.Fatalf("after a reset the next failure should start over, got %v", d)
		}
	})
	t.Run("config change", func(t *testing.T) {
		rl := NewRateLimiter()
		rl.Failed(r1, b, t0)
		rl.Failed(r2, b, t0)
		rl.Failed(other, b, t0)
		rl.ResetApp("/web", v2)
		if ok, _ := rl.LaunchAllowed(r1, t0); !ok {
			t.Fatal("old version's delay kept")
		}
		if ok, _ := rl.LaunchAllowed(r2, t0); ok {
			t.Fatal("kept version lost its delay")
		}
		if ok, _ := rl.LaunchAllowed(other, t0); ok {
			t.Fatal("another app lost its delay")
		}
	})
	t.Run("stays running", func(t *testing.T) {
		rl := NewRateLimiter()
		rl.StableAfter = 30 * time.Second
		rl.Failed(r1, b, t0)
		rl.Failed(r1, b, t0.Add(20*time.Second))
		// Running since before the last failure: only the time after it counts.
		rl.Running(r1, t0, t0.Add(45*time.Second))
		if rl.Failures(r1) != 2 {
			t.Fatal("reset by an instance that has not been up for StableAfter since the last failure")
		}
		rl.Running(r1, t0.Add(25*time.Second), t0.Add(55*time.Second))
		if rl.Failures(r1) != 0 {
			t.Fatal("not reset after staying up for StableAfter")
		}
	})
	t.Run("stable default is maxLaunchDelay", func(t *testing.T) {
		rl := NewRateLimiter()
		rl.Failed(r1, b, t0)
		rl.Running(r1, t0, t0.Add(99*time.Second))
		if rl.Failures(r1) != 1 {
			t.Fatal("reset too early")
		}
		rl.Running(r1, t0, t0.Add(100*time.Second))
		if rl.Failures(r1) != 0 {
			t.Fatal("not reset after maxLaunchDelay")
		}
	})
	t.Run("expire", func(t *testing.T) {
		rl := NewRateLimiter()
		rl.Failed(r1, b, t0)
		rl.Failed(other, b, t0.Add(50*time.Second))
		if got := rl.Expire(t0.Add(100 * time.Second)); len(got) != 0 {
			t.Fatalf("expired %v at exactly maxLaunchDelay", got)
		}
		if got := rl.Expire(t0.Add(101 * time.Second)); !slices.Equal(got, []ConfigRef{r1}) {
			t.Fatalf("expired %v", got)
		}
		if rl.Failures(other) != 1 {
			t.Fatal("expired a fresh delay")
		}
	})
}

func TestBackoffZeroValueLimiter(t *testing.T) {
	var rl RateLimiter
	ref := ConfigRef{AppID: "/a"}
	rl.Failed(ref, DefaultBackoff, t0)
	if ok, _ := rl.LaunchAllowed(ref, t0); ok {
		t.Fatal("zero-value limiter ignored the failure")
	}
}
