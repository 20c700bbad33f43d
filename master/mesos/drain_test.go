package mesos

import (
	"encoding/json"
	"testing"
	"time"
)

// TestDrainKillPolicyFor follows Mesos' agent: a drain's max grace period
// caps a task's own, and a task without one gets the maximum.
func TestDrainKillPolicyFor(t *testing.T) {
	grace := func(d time.Duration) *KillPolicy { return &KillPolicy{GracePeriod: DurationInfoOf(d)} }
	capped := &DrainConfig{MaxGracePeriod: DurationInfoOf(10 * time.Second)}
	for _, tc := range []struct {
		name string
		cfg  *DrainConfig
		own  *KillPolicy
		want time.Duration // -1: nil, keep the task's own
	}{
		{"no drain maximum", &DrainConfig{}, grace(time.Minute), -1},
		{"no config", nil, nil, -1},
		{"own within the maximum", capped, grace(time.Second), -1},
		{"own equal to the maximum", capped, grace(10 * time.Second), -1},
		{"own above the maximum", capped, grace(time.Minute), 10 * time.Second},
		{"no own policy", capped, nil, 10 * time.Second},
		{"own policy without a grace period", capped, &KillPolicy{}, 10 * time.Second},
		{"zero maximum", &DrainConfig{MaxGracePeriod: DurationInfoOf(0)}, grace(time.Second), 0},
	} {
		got := tc.cfg.KillPolicyFor(tc.own)
		switch {
		case tc.want < 0 && got != nil:
			t.Errorf("%s: got %+v, want the task's own", tc.name, got.GracePeriod)
		case tc.want >= 0 && (got == nil || got.GracePeriod == nil || got.GracePeriod.Duration() != tc.want):
			t.Errorf("%s: got %+v, want %s", tc.name, got, tc.want)
		}
	}
}

// TestAgentDrainEventJSON: DRAIN carries Mesos' DrainConfig names, with
// max_grace_period as a DurationInfo.
func TestAgentDrainEventJSON(t *testing.T) {
	gone := true
	ev := AgentEvent{Type: AgentEventDrain, Drain: &AgentDrain{Config: &DrainConfig{
		MaxGracePeriod: DurationInfoOf(1500 * time.Millisecond), MarkGone: &gone}}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"DRAIN","drain":{"config":{"max_grace_period":{"nanoseconds":1500000000},"mark_gone":true}}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back AgentEvent
	if err := json.Unmarshal(b, &back); err != nil || !back.Type.IsKnown() || !back.Drain.Config.MarksGone() ||
		back.Drain.Config.MaxGracePeriod.Duration() != 1500*time.Millisecond {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}
