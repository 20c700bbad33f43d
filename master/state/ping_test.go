package state

import (
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// TestPingEveryPingTimeout: with a PingTimeout far below the heartbeat
// interval (a fast partition detector), an agent that answers every PING
// stays reachable, however long it has nothing else to say, and one that
// stops answering is unreachable after MaxPingMisses × PingTimeout. The
// agent is told the ping interval as its heartbeat.
func TestPingEveryPingTimeout(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1, HeartbeatInterval: 15 * time.Second,
		PingTimeout: 500 * time.Millisecond, MaxPingMisses: 3})
	agent := h.addAgent("a1", "cpus:1;mem:64")
	pings := 0
	for i := 0; i < 200; i++ { // 20 s in ticks of 100 ms, answering each PING
		h.advance(100 * time.Millisecond)
		for range h.agentEvents("a1", mesos.AgentEventPing) {
			pings++
			if r := h.agentCall("a1", &mesos.AgentCall{Type: mesos.AgentCallPong, AgentID: agent}); r.Status != 202 {
				t.Fatalf("pong: %d %s", r.Status, r.Message)
			}
		}
		if h.closed("a1") {
			t.Fatalf("an agent answering every PING was given up on after %d pings", pings)
		}
	}
	if pings < 30 {
		t.Fatalf("%d pings in 20 s with a 500ms ping timeout", pings)
	}
	// Silence: unreachable once three ping timeouts pass without a PONG.
	for i := 0; i < 20 && !h.closed("a1"); i++ {
		h.advance(100 * time.Millisecond)
	}
	if !h.closed("a1") {
		t.Fatal("a silent agent is still reachable after 2 s")
	}
}

// TestAgentToldPingInterval: SUBSCRIBED carries the ping interval as the
// agent's heartbeat, so the agent's watchdog matches what it will get.
func TestAgentToldPingInterval(t *testing.T) {
	h := newHarness(t, Config{HeartbeatInterval: 15 * time.Second, PingTimeout: 2 * time.Second})
	req := h.nextReq()
	h.step(AgentCall{Req: req, Stream: "a1", Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe,
		Subscribe: &mesos.AgentSubscribe{AgentInfo: &mesos.AgentInfo{Hostname: "host-a1"},
			Resources: mesos.MustParseResources("cpus:1;mem:64")}}})
	subs := h.agentEvents("a1", mesos.AgentEventSubscribed)
	if len(subs) != 1 || subs[0].Subscribed.HeartbeatIntervalSeconds != 2 {
		t.Fatalf("SUBSCRIBED events %+v, want one with heartbeat 2 s", subs)
	}
}
