package bench

import (
	"testing"
	"time"
)

func TestMedianResultTakesEachFigureSeparately(t *testing.T) {
	mk := func(ops float64, p99 time.Duration) *Result {
		return &Result{Phases: []Phase{{Op: "get", Mode: ModeAsync, InFlight: 32, Sessions: 1, OpsPerSec: ops,
			Latency: Latency{P50: p99 / 4, P99: p99}}}, Memory: &Memory{RSS: 1}}
	}
	got := medianResult([]*Result{mk(100, 9*time.Millisecond), mk(300, time.Millisecond), mk(200, 5*time.Millisecond)})
	ph := got.Phases[0]
	if ph.OpsPerSec != 200 || ph.Latency.P99 != 5*time.Millisecond {
		t.Errorf("median of 3: ops/s %v p99 %v, want 200 and 5ms", ph.OpsPerSec, ph.Latency.P99)
	}
	if got.Rounds != 3 || got.Memory == nil {
		t.Errorf("rounds %d memory %v", got.Rounds, got.Memory)
	}
	even := medianResult([]*Result{mk(100, 2*time.Millisecond), mk(300, 4*time.Millisecond)})
	if even.Phases[0].OpsPerSec != 200 || even.Phases[0].Latency.P99 != 3*time.Millisecond {
		t.Errorf("median of 2: %+v", even.Phases[0])
	}
}
