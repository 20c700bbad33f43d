package state

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

var web = mesos.FrameworkInfo{User: "u", Name: "web"}

func partitionAware(info mesos.FrameworkInfo) mesos.FrameworkInfo {
	info.Capabilities = []mesos.FrameworkCapability{{Type: mesos.FrameworkCapabilityPartitionAware}}
	return info
}

// TestLaunchLifecycle walks a task from offer to acknowledged
// TASK_FINISHED: subscribe → offers → accept/launch → RUN_TASK → status
// updates with UUIDs → acks forwarded to the agent → resources reoffered.
func TestLaunchLifecycle(t *testing.T) {
	h := newHarness(t, Config{})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	if agent != "m1-S1" {
		t.Fatalf("agent ID %s, want m1-S1", agent)
	}
	if _, ok := h.registry["agents/m1-S1"]; !ok {
		t.Fatalf("admission not written to the registry: %v", h.registry)
	}
	fw := h.subscribe("f1", web)
	if fw != "m1-0001" {
		t.Fatalf("framework ID %s, want m1-0001", fw)
	}
	offers := h.offers("f1", time.Second)
	if len(offers) != 1 || offers[0].AgentID != agent || !strings.HasPrefix(string(offers[0].ID), "m1-O") {
		t.Fatalf("offers = %+v", offers)
	}
	if r := h.call("f1", launchCall(fw, offers[0], taskInfo("t1", agent, "cpus:1;mem:128"))); r.Status != 202 {
		t.Fatalf("accept: %d %s", r.Status, r.Message)
	}
	run := h.agentEvents("a1", mesos.AgentEventRunTask)
	if len(run) != 1 || run[0].RunTask.Task.TaskID != "t1" || run[0].RunTask.FrameworkInfo.ID != fw {
		t.Fatalf("RUN_TASK: %s", describe(h.out))
	}
	if ai := run[0].RunTask.Task.Resources[0].AllocationInfo; ai == nil || ai.Role != "*" {
		t.Fatalf("launched resources lack allocation_info: %+v", run[0].RunTask.Task.Resources)
	}

	for i, state := range []mesos.TaskState{mesos.TaskRunning, mesos.TaskFinished} {
		u := uuidN(byte(i + 1))
		if r := h.agentCall("a1", statusCall(agent, fw, "t1", state, u)); r.Status != 202 {
			t.Fatalf("update: %d %s", r.Status, r.Message)
		}
		ups := h.fwEvents("f1", mesos.EventUpdate)
		if len(ups) != 1 || ups[0].Update.Status.State != state || !bytes.Equal(ups[0].Update.Status.UUID, u) ||
			ups[0].Update.Status.AgentID != agent {
			t.Fatalf("update %s not forwarded: %s", state, describe(h.out))
		}
		// Unacknowledged: resent after StatusRetry.
		h.advance(DefaultStatusRetry)
		if len(h.fwEvents("f1", mesos.EventUpdate)) != 1 {
			t.Fatalf("update %s not resent: %s", state, describe(h.out))
		}
		r := h.call("f1", &mesos.Call{Type: mesos.CallAcknowledge, FrameworkID: fw,
			Acknowledge: &mesos.Acknowledge{AgentID: agent, TaskID: "t1", UUID: u}})
		if r.Status != 202 {
			t.Fatalf("ack: %d %s", r.Status, r.Message)
		}
		acks := h.agentEvents("a1", mesos.AgentEventAcknowledge)
		if len(acks) != 1 || !bytes.Equal(acks[0].Acknowledge.UUID, u) {
			t.Fatalf("ack not forwarded: %s", describe(h.out))
		}
		h.advance(DefaultStatusRetry)
		if len(h.fwEvents("f1", mesos.EventUpdate)) != 0 {
			t.Fatalf("acknowledged update resent: %s", describe(h.out))
		}
	}
	snap := h.m.Snapshot()
	if n := len(snap.State.GetTasks.CompletedTasks); n != 1 || len(snap.State.GetTasks.Tasks) != 0 {
		t.Fatalf("tasks: %+v", snap.State.GetTasks)
	}
}

// TestDeclineFilters: DECLINE withholds the agent for refuse_seconds
// (default 5 s), and REVIVE lifts the filter.
func TestDeclineFilters(t *testing.T) {
	cases := []struct {
		name    string
		filters *mesos.Filters
		revive  bool
		quiet   time.Duration // no offer until then
	}{
		{"default 5s", nil, false, 5 * time.Second},
		{"refuse 20s", mesos.RefuseFor(20), false, 20 * time.Second},
		{"revive clears", mesos.RefuseFor(1000), true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{OfferTimeout: -1})
			h.addAgent("a1", "cpus:2;mem:1024")
			fw := h.subscribe("f1", web)
			offers := h.offers("f1", time.Second)
			if len(offers) != 1 {
				t.Fatalf("offers %v", offers)
			}
			declined := h.now
			r := h.call("f1", &mesos.Call{Type: mesos.CallDecline, FrameworkID: fw, Decline: &mesos.Decline{
				OfferIDs: []mesos.OfferID{offers[0].ID}, Filters: tc.filters}})
			if r.Status != 202 {
				t.Fatalf("decline: %d %s", r.Status, r.Message)
			}
			if tc.revive {
				if r := h.call("f1", &mesos.Call{Type: mesos.CallRevive, FrameworkID: fw, Revive: &mesos.Revive{}}); r.Status != 202 {
					t.Fatalf("revive: %d %s", r.Status, r.Message)
				}
			}
			var got time.Time
			for i := 0; i < 60 && got.IsZero(); i++ {
				if len(h.offers("f1", time.Second)) > 0 {
					got = h.now
				}
			}
			if got.IsZero() {
				t.Fatal("never reoffered")
			}
			if wait := got.Sub(declined); wait < tc.quiet || wait > tc.quiet+time.Second {
				t.Fatalf("reoffered after %v, want %v", wait, tc.quiet)
			}
		})
	}
}

// TestSuppress: a suppressed framework gets no offers until it revives.
func TestSuppress(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	h.addAgent("a1", "cpus:2;mem:1024")
	fw := h.subscribe("f1", web)
	if r := h.call("f1", &mesos.Call{Type: mesos.CallSuppress, FrameworkID: fw, Suppress: &mesos.Suppress{}}); r.Status != 202 {
		t.Fatalf("suppress: %d %s", r.Status, r.Message)
	}
	for i := 0; i < 10; i++ {
		if o := h.offers("f1", time.Second); len(o) > 0 {
			t.Fatalf("suppressed framework got offers %v", o)
		}
	}
	if r := h.call("f1", &mesos.Call{Type: mesos.CallSuppress, FrameworkID: fw, Suppress: &mesos.Suppress{Roles: []string{"other"}}}); r.Status != 400 || !strings.Contains(r.Message, "suppress.roles[0]") {
		t.Fatalf("suppress of a foreign role: %d %s", r.Status, r.Message)
	}
	h.call("f1", &mesos.Call{Type: mesos.CallRevive, FrameworkID: fw, Revive: &mesos.Revive{}})
	if o := h.offers("f1", time.Second); len(o) != 1 {
		t.Fatalf("revived framework got %v", o)
	}
}

// TestRescind: offers are rescinded when they time out and when their
// agent goes away.
func TestRescind(t *testing.T) {
	t.Run("offer timeout", func(t *testing.T) {
		h := newHarness(t, Config{OfferTimeout: 30 * time.Second})
		h.addAgent("a1", "cpus:2;mem:1024")
		h.subscribe("f1", web)
		offers := h.offers("f1", time.Second)
		h.advance(29 * time.Second)
		if len(h.fwEvents("f1", mesos.EventRescind)) != 0 {
			t.Fatal("rescinded early")
		}
		h.advance(time.Second)
		res := h.fwEvents("f1", mesos.EventRescind)
		if len(res) != 1 || res[0].Rescind.OfferID != offers[0].ID {
			t.Fatalf("want RESCIND of %s: %s", offers[0].ID, describe(h.out))
		}
	})
	t.Run("agent disconnected", func(t *testing.T) {
		h := newHarness(t, Config{})
		h.addAgent("a1", "cpus:2;mem:1024")
		h.subscribe("f1", web)
		offers := h.offers("f1", time.Second)
		h.step(StreamClosed{Stream: "a1"})
		res := h.fwEvents("f1", mesos.EventRescind)
		if len(res) != 1 || res[0].Rescind.OfferID != offers[0].ID {
			t.Fatalf("want RESCIND: %s", describe(h.out))
		}
		if o := h.offers("f1", time.Second); len(o) != 0 {
			t.Fatalf("disconnected agent offered: %v", o)
		}
	})
}

// TestAgentUnreachable: no PONG for MaxPingMisses × PingTimeout makes the
// agent unreachable; tasks of PARTITION_AWARE frameworks become
// TASK_UNREACHABLE, others TASK_LOST. The agent's return brings them back.
func TestAgentUnreachable(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	aware := h.subscribe("f1", partitionAware(web))
	plain := h.subscribe("f2", mesos.FrameworkInfo{User: "u", Name: "batch"})
	launched := map[StreamID]bool{}
	fws := map[StreamID]mesos.FrameworkID{"f1": aware, "f2": plain}
	for i := 0; i < 30 && len(launched) < 2; i++ {
		h.advance(time.Second)
		var got []struct {
			s StreamID
			o mesos.Offer
		}
		for s := range fws {
			for _, ev := range h.fwEvents(s, mesos.EventOffers) {
				for _, o := range ev.Offers.Offers {
					got = append(got, struct {
						s StreamID
						o mesos.Offer
					}{s, o})
				}
			}
		}
		for _, g := range got {
			if launched[g.s] {
				h.call(g.s, &mesos.Call{Type: mesos.CallDecline, FrameworkID: fws[g.s], Decline: &mesos.Decline{OfferIDs: []mesos.OfferID{g.o.ID}}})
				continue
			}
			if r := h.call(g.s, launchCall(fws[g.s], g.o, taskInfo("t", agent, "cpus:1;mem:64"))); r.Status != 202 {
				t.Fatalf("launch: %d %s", r.Status, r.Message)
			}
			launched[g.s] = true
		}
	}
	if len(launched) != 2 {
		t.Fatalf("launched on %v only", launched)
	}
	// Pings go out; the agent stays silent.
	var pings int
	var unreachable, lost []*mesos.Event
	for i := 0; i < 100 && unreachable == nil; i++ {
		h.advance(time.Second)
		pings += len(h.agentEvents("a1", mesos.AgentEventPing))
		unreachable = h.fwEvents("f1", mesos.EventUpdate)
		lost = h.fwEvents("f2", mesos.EventUpdate)
	}
	if pings < 4 {
		t.Fatalf("%d pings sent", pings)
	}
	if len(unreachable) != 1 || unreachable[0].Update.Status.State != mesos.TaskUnreachable {
		t.Fatalf("partition-aware framework: %s", describe(h.out))
	}
	if len(lost) != 1 || lost[0].Update.Status.State != mesos.TaskLost {
		t.Fatalf("other framework: %s", describe(h.out))
	}
	if !h.closed("a1") {
		t.Fatal("unreachable agent's stream not closed")
	}
	// Back, with the partition-aware framework's task still running.
	req := h.nextReq()
	h.step(AgentCall{Req: req, Stream: "a2", Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: agent,
		Subscribe: &mesos.AgentSubscribe{AgentID: agent, AgentInfo: &mesos.AgentInfo{Hostname: "host-a1"},
			Resources: mesos.MustParseResources("cpus:4;mem:4096"),
			Tasks: []mesos.Task{{TaskID: "t", FrameworkID: aware, AgentID: agent, State: mesos.TaskRunning,
				Resources: mesos.MustParseResources("cpus:1;mem:64").Allocate("*")},
				{TaskID: "t", FrameworkID: plain, AgentID: agent, State: mesos.TaskRunning,
					Resources: mesos.MustParseResources("cpus:1;mem:64").Allocate("*")}}}}})
	if len(h.agentEvents("a2", mesos.AgentEventSubscribed)) != 1 {
		t.Fatalf("reregistration: %s", describe(h.out))
	}
	// The task its framework was told was lost is killed, not revived.
	if k := h.agentEvents("a2", mesos.AgentEventKillTask); len(k) != 1 || k[0].KillTask.FrameworkID != plain {
		t.Fatalf("lost task not killed: %s", describe(h.out))
	}
	ups := h.fwEvents("f1", mesos.EventUpdate)
	if len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskRunning {
		t.Fatalf("task back: %s", describe(h.out))
	}
}

// TestReconcile checks Mesos' answer table.
func TestReconcile(t *testing.T) {
	h := newHarness(t, Config{})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	fw := h.subscribe("f1", partitionAware(web))
	o := h.offers("f1", time.Second)
	h.call("f1", launchCall(fw, o[0], taskInfo("known", agent, "cpus:1;mem:64")))
	h.agentCall("a1", statusCall(agent, fw, "known", mesos.TaskRunning, uuidN(1)))

	h.call("f1", &mesos.Call{Type: mesos.CallReconcile, FrameworkID: fw, Reconcile: &mesos.Reconcile{}})
	ups := h.fwEvents("f1", mesos.EventUpdate)
	if len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskRunning || ups[0].Update.Status.Reason != mesos.ReasonReconciliation ||
		ups[0].Update.Status.UUID != nil {
		t.Fatalf("implicit: %s", describe(h.out))
	}
	cases := []struct {
		task  mesos.TaskID
		agent mesos.AgentID
		want  mesos.TaskState
	}{
		{"known", agent, mesos.TaskRunning},
		{"unknown", agent, mesos.TaskGone},
		{"unknown", "m0-S9", mesos.TaskUnknown},
		{"unknown", "", mesos.TaskUnknown},
	}
	for _, tc := range cases {
		h.call("f1", &mesos.Call{Type: mesos.CallReconcile, FrameworkID: fw, Reconcile: &mesos.Reconcile{
			Tasks: []mesos.ReconcileTask{{TaskID: tc.task, AgentID: tc.agent}}}})
		ups := h.fwEvents("f1", mesos.EventUpdate)
		if len(ups) != 1 || ups[0].Update.Status.State != tc.want || ups[0].Update.Status.TaskID != tc.task {
			t.Errorf("reconcile %s on %q: want %s, got %s", tc.task, tc.agent, tc.want, describe(h.out))
		}
	}
	// Not PARTITION_AWARE: TASK_LOST instead.
	fw2 := h.subscribe("f2", mesos.FrameworkInfo{User: "u", Name: "old"})
	h.call("f2", &mesos.Call{Type: mesos.CallReconcile, FrameworkID: fw2, Reconcile: &mesos.Reconcile{
		Tasks: []mesos.ReconcileTask{{TaskID: "x", AgentID: agent}}}})
	if ups := h.fwEvents("f2", mesos.EventUpdate); len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskLost {
		t.Fatalf("non partition-aware: %s", describe(h.out))
	}
}

// TestKill sends KILL_TASK to the task's agent.
func TestKill(t *testing.T) {
	h := newHarness(t, Config{})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	fw := h.subscribe("f1", web)
	o := h.offers("f1", time.Second)
	h.call("f1", launchCall(fw, o[0], taskInfo("t1", agent, "cpus:1;mem:64")))
	r := h.call("f1", &mesos.Call{Type: mesos.CallKill, FrameworkID: fw, Kill: &mesos.Kill{TaskID: "t1"}})
	if r.Status != 202 {
		t.Fatalf("kill: %d %s", r.Status, r.Message)
	}
	if k := h.agentEvents("a1", mesos.AgentEventKillTask); len(k) != 1 || k[0].KillTask.TaskID != "t1" || k[0].KillTask.FrameworkID != fw {
		t.Fatalf("KILL_TASK: %s", describe(h.out))
	}
	h.call("f1", &mesos.Call{Type: mesos.CallKill, FrameworkID: fw, Kill: &mesos.Kill{TaskID: "nope"}})
	if ups := h.fwEvents("f1", mesos.EventUpdate); len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskLost {
		t.Fatalf("kill of unknown task: %s", describe(h.out))
	}
}

// TestBadCallsChangeNothing: a bad ACCEPT is a 400 naming the field, and
// the offer stays good for a correct one.
func TestBadCallsChangeNothing(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	fw := h.subscribe("f1", web)
	other := h.subscribe("f2", mesos.FrameworkInfo{User: "u", Name: "other"})
	var o, o2 []mesos.Offer
	for i := 0; i < 20 && (len(o) == 0 || len(o2) == 0); i++ {
		h.advance(time.Second)
		for _, ev := range h.fwEvents("f1", mesos.EventOffers) {
			o = append(o, ev.Offers.Offers...)
		}
		for _, ev := range h.fwEvents("f2", mesos.EventOffers) {
			o2 = append(o2, ev.Offers.Offers...)
		}
		if len(o2) > 0 && len(o) == 0 {
			h.call("f2", &mesos.Call{Type: mesos.CallDecline, FrameworkID: other, Decline: &mesos.Decline{OfferIDs: []mesos.OfferID{o2[0].ID}, Filters: mesos.RefuseFor(1)}})
			o2 = nil
		}
	}
	if len(o) == 0 {
		t.Fatal("no offer")
	}
	twice := taskInfo("dup", agent, "cpus:1;mem:64")
	cases := []struct {
		name   string
		stream StreamID
		call   *mesos.Call
		status int
		field  string
	}{
		{"another framework's offer", "f2", launchCall(other, o[0], taskInfo("x", agent, "cpus:1;mem:64")), 400, "accept.offer_ids[0]"},
		{"beyond the offer", "f1", launchCall(fw, o[0], taskInfo("x", agent, "cpus:100;mem:64")), 400, "accept.operations[0].launch.task_infos[0].resources"},
		{"duplicate task IDs", "f1", launchCall(fw, o[0], twice, twice), 400, "accept.operations[0].launch.task_infos[1].task_id"},
		{"wrong agent", "f1", launchCall(fw, o[0], taskInfo("x", "m1-S9", "cpus:1")), 400, "accept.operations[0].launch.task_infos[0].agent_id"},
		{"not subscribed", "f9", launchCall("m1-0099", o[0], taskInfo("x", agent, "cpus:1")), 403, "framework_id"},
		{"wrong stream", "f2", launchCall(fw, o[0], taskInfo("x", agent, "cpus:1")), 400, "Mesos-Stream-Id"},
		{"foreign decline", "f2", &mesos.Call{Type: mesos.CallDecline, FrameworkID: other, Decline: &mesos.Decline{OfferIDs: []mesos.OfferID{o[0].ID}}}, 400, "decline.offer_ids[0]"},
	}
	for _, tc := range cases {
		before := h.m.Snapshot()
		r := h.call(tc.stream, tc.call)
		if r.Status != tc.status || !strings.HasPrefix(r.Message, tc.field+":") {
			t.Errorf("%s: got %d %q, want %d naming %s", tc.name, r.Status, r.Message, tc.status, tc.field)
		}
		for _, a := range h.out {
			if _, ok := a.(Reply); !ok {
				t.Errorf("%s: a rejected call did something: %s", tc.name, describe(h.out))
			}
		}
		after := h.m.Snapshot()
		if before.Metrics["master/outstanding_offers"] != after.Metrics["master/outstanding_offers"] {
			t.Errorf("%s: offers changed", tc.name)
		}
	}
	if r := h.call("f1", launchCall(fw, o[0], taskInfo("ok", agent, "cpus:1;mem:64"))); r.Status != 202 {
		t.Fatalf("the offer did not survive the bad calls: %d %s", r.Status, r.Message)
	}
	// Used: a second ACCEPT of it drops its tasks, as Mesos does.
	h.call("f1", launchCall(fw, o[0], taskInfo("late", agent, "cpus:1;mem:64")))
	if ups := h.fwEvents("f1", mesos.EventUpdate); len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskLost ||
		ups[0].Update.Status.Reason != mesos.ReasonInvalidOffers {
		t.Fatalf("accept of a used offer: %s", describe(h.out))
	}
}

// TestFrameworkFailover: a newer subscription wins, the older stream is
// told and closed, unacknowledged updates are resent on the new stream; a
// framework that does not come back within its failover timeout is torn
// down and its tasks shut down.
func TestFrameworkFailover(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	info := web
	info.FailoverTimeout = ptr(60.0)
	fw := h.subscribe("f1", info)
	o := h.offers("f1", time.Second)
	h.call("f1", launchCall(fw, o[0], taskInfo("t1", agent, "cpus:1;mem:64")))
	h.agentCall("a1", statusCall(agent, fw, "t1", mesos.TaskRunning, uuidN(1)))

	info.ID = fw
	h.subscribe("f2", info)
	if errs := h.fwEvents("f1", mesos.EventError); len(errs) != 1 || !h.closed("f1") {
		t.Fatalf("old stream: %s", describe(h.out))
	}
	if ups := h.fwEvents("f2", mesos.EventUpdate); len(ups) != 1 || !bytes.Equal(ups[0].Update.Status.UUID, uuidN(1)) {
		t.Fatalf("pending update not resent: %s", describe(h.out))
	}
	if r := h.call("f1", &mesos.Call{Type: mesos.CallRevive, FrameworkID: fw, Revive: &mesos.Revive{}}); r.Status != 400 {
		t.Fatalf("call on the old stream: %d %s", r.Status, r.Message)
	}

	h.step(StreamClosed{Stream: "f2"})
	if w, ok := h.registry["frameworks/"+string(fw)].(RegistryFramework); !ok || w.FailoverDeadline == nil {
		t.Fatalf("failover deadline not written: %+v", h.registry)
	}
	h.advance(59 * time.Second)
	if len(h.agentEvents("a1", mesos.AgentEventShutdownFramework)) != 0 {
		t.Fatal("torn down early")
	}
	h.advance(time.Second)
	if len(h.agentEvents("a1", mesos.AgentEventShutdownFramework)) != 1 {
		t.Fatalf("not torn down: %s", describe(h.out))
	}
	if w, ok := h.registry["frameworks/"+string(fw)].(RegistryFramework); !ok || w.Removed == nil {
		t.Fatalf("registry entry not marked removed: %+v", h.registry["frameworks/"+string(fw)])
	}
}

// TestHeartbeats: HEARTBEAT to frameworks and PING to agents every
// HeartbeatInterval.
func TestHeartbeats(t *testing.T) {
	h := newHarness(t, Config{})
	agent := h.addAgent("a1", "cpus:1;mem:64")
	h.subscribe("f1", web)
	h.advance(15 * time.Second)
	if len(h.fwEvents("f1", mesos.EventHeartbeat)) != 1 || len(h.agentEvents("a1", mesos.AgentEventPing)) != 1 {
		t.Fatalf("heartbeats: %s", describe(h.out))
	}
	if r := h.agentCall("a1", &mesos.AgentCall{Type: mesos.AgentCallPong, AgentID: agent}); r.Status != 202 {
		t.Fatalf("pong: %d %s", r.Status, r.Message)
	}
}

// TestAgentReregistersAfterFailover: a new master that knows the agent
// only from the registry takes it back with its tasks, without a
// registry write, and the framework that resubscribes owns them.
func TestAgentReregistersAfterFailover(t *testing.T) {
	info := mesos.AgentInfo{Hostname: "h", ID: "m0-S1"}
	fwInfo := web
	fwInfo.ID = "m0-0001"
	h := newHarness(t, Config{Registry: Registry{Agents: []RegistryAgent{{Info: info}},
		Frameworks: []RegistryFramework{{Info: fwInfo}}}})
	req := h.nextReq()
	h.step(AgentCall{Req: req, Stream: "a1", Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: "m0-S1",
		Subscribe: &mesos.AgentSubscribe{AgentID: "m0-S1", AgentInfo: &info, Resources: mesos.MustParseResources("cpus:2;mem:256"),
			Frameworks: []mesos.FrameworkInfo{fwInfo},
			Tasks: []mesos.Task{{TaskID: "t1", FrameworkID: "m0-0001", AgentID: "m0-S1", State: mesos.TaskRunning,
				Resources: mesos.MustParseResources("cpus:1;mem:128")}}}}})
	if s := h.agentEvents("a1", mesos.AgentEventSubscribed); len(s) != 1 || s[0].Subscribed.AgentID != "m0-S1" {
		t.Fatalf("reregistration: %s", describe(h.out))
	}
	fw := h.subscribe("f1", fwInfo)
	if fw != "m0-0001" {
		t.Fatalf("resubscribed as %s", fw)
	}
	h.call("f1", &mesos.Call{Type: mesos.CallReconcile, FrameworkID: fw, Reconcile: &mesos.Reconcile{}})
	if ups := h.fwEvents("f1", mesos.EventUpdate); len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskRunning {
		t.Fatalf("reconcile after failover: %s", describe(h.out))
	}
	// Only what the task does not use is offered.
	o := h.offers("f1", time.Second)
	if len(o) != 1 || o[0].Resources.Cpus().Float64() != 1 {
		t.Fatalf("offers after failover: %+v", o)
	}
}

// TestOperatorWeightsAndQuota: updates are written before they apply.
func TestOperatorWeightsAndQuota(t *testing.T) {
	h := newHarness(t, Config{})
	req := h.nextReq()
	h.step(OperatorCall{Req: req, Call: &mesos.OperatorCall{Type: mesos.OperatorUpdateWeights,
		UpdateWeights: &mesos.UpdateWeights{WeightInfos: []mesos.WeightInfo{{Role: "eng", Weight: 2}}}}})
	if r := h.replyOf(req); r.Status != 200 {
		t.Fatalf("weights: %d %s", r.Status, r.Message)
	}
	if _, ok := h.registry[RegistryWeights]; !ok {
		t.Fatal("weights not written")
	}
	if w := h.m.Snapshot().Weights.WeightInfos; len(w) != 1 || w[0].Weight != 2 {
		t.Fatalf("weights %+v", w)
	}
	req = h.nextReq()
	h.step(OperatorCall{Req: req, Call: &mesos.OperatorCall{Type: mesos.OperatorUpdateQuota,
		UpdateQuota: &mesos.UpdateQuota{QuotaConfigs: []mesos.QuotaConfig{{Role: "eng",
			Limits: map[string]mesos.Scalar{"cpus": mesos.ScalarOf(2)}}}}}})
	if r := h.replyOf(req); r.Status != 200 {
		t.Fatalf("quota: %d %s", r.Status, r.Message)
	}
	if q := h.m.Snapshot().Quota.Status.Configs; len(q) != 1 || q[0].Role != "eng" {
		t.Fatalf("quota %+v", q)
	}
}

// TestMarkAgentGone: the agent's tasks become TASK_GONE_BY_OPERATOR, its
// stream closes and it may not subscribe again.
func TestMarkAgentGone(t *testing.T) {
	h := newHarness(t, Config{})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	fw := h.subscribe("f1", partitionAware(web))
	o := h.offers("f1", time.Second)
	h.call("f1", launchCall(fw, o[0], taskInfo("t1", agent, "cpus:1;mem:64")))
	req := h.nextReq()
	h.step(OperatorCall{Req: req, Call: &mesos.OperatorCall{Type: mesos.OperatorMarkAgentGone,
		MarkAgentGone: &mesos.AgentRef{AgentID: agent}}})
	if r := h.replyOf(req); r.Status != 200 {
		t.Fatalf("MARK_AGENT_GONE: %d %s", r.Status, r.Message)
	}
	if ups := h.fwEvents("f1", mesos.EventUpdate); len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskGoneByOperator {
		t.Fatalf("task: %s", describe(h.out))
	}
	if !h.closed("a1") {
		t.Fatal("stream not closed")
	}
	if ra, ok := h.registry["agents/"+string(agent)].(RegistryAgent); !ok || !ra.Gone {
		t.Fatalf("registry: %+v", h.registry)
	}
	r := h.agentCall("a2", &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: agent, Subscribe: &mesos.AgentSubscribe{
		AgentID: agent, AgentInfo: &mesos.AgentInfo{Hostname: "h"}, Resources: mesos.MustParseResources("cpus:1")}})
	if r.Status != 403 || !strings.HasPrefix(r.Message, "subscribe.agent_id:") {
		t.Fatalf("gone agent resubscribing: %d %s", r.Status, r.Message)
	}
}

// TestUpdateFramework changes roles without resubscribing; a foreign
// suppressed role is a 400.
func TestUpdateFramework(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	h.addAgent("a1", "cpus:2;mem:1024")
	fw := h.subscribe("f1", web)
	if o := h.offers("f1", time.Second); len(o) != 1 || o[0].AllocationInfo.Role != "*" {
		t.Fatalf("offers %+v", o)
	}
	info := web
	info.ID = fw
	info.Role = "eng"
	r := h.call("f1", &mesos.Call{Type: mesos.CallUpdateFramework, FrameworkID: fw,
		UpdateFramework: &mesos.UpdateFramework{FrameworkInfo: &info, SuppressedRoles: []string{"ops"}}})
	if r.Status != 400 || !strings.HasPrefix(r.Message, "update_framework.suppressed_roles[0]:") {
		t.Fatalf("foreign suppressed role: %d %s", r.Status, r.Message)
	}
	r = h.call("f1", &mesos.Call{Type: mesos.CallUpdateFramework, FrameworkID: fw,
		UpdateFramework: &mesos.UpdateFramework{FrameworkInfo: &info}})
	if r.Status != 202 || len(h.fwEvents("f1", mesos.EventRescind)) != 1 {
		t.Fatalf("update: %d %s %s", r.Status, r.Message, describe(h.out))
	}
	if o := h.offers("f1", time.Second); len(o) != 1 || o[0].AllocationInfo.Role != "eng" {
		t.Fatalf("offers after update %+v", o)
	}
}

// TestDrainAgent: an agent without AGENT_DRAINING is sent KILL_TASK with
// the drain's grace period for each task, gets no offers, and is marked
// gone (mark_gone) once its last terminal update is acknowledged.
func TestDrainAgent(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	fw := h.subscribe("f1", partitionAware(web))
	o := h.offers("f1", time.Second)
	h.call("f1", launchCall(fw, o[0], taskInfo("t1", agent, "cpus:1;mem:64")))
	req := h.nextReq()
	h.step(OperatorCall{Req: req, Call: &mesos.OperatorCall{Type: mesos.OperatorDrainAgent, DrainAgent: &mesos.DrainAgent{
		AgentID: agent, MaxGracePeriod: &mesos.ProtoDuration{Seconds: 3}, MarkGone: ptr(true)}}})
	if r := h.replyOf(req); r.Status != 200 {
		t.Fatalf("DRAIN_AGENT: %d %s", r.Status, r.Message)
	}
	k := h.agentEvents("a1", mesos.AgentEventKillTask)
	if len(k) != 1 || k[0].KillTask.KillPolicy == nil || k[0].KillTask.KillPolicy.GracePeriod.Nanoseconds != 3e9 {
		t.Fatalf("kill: %s", describe(h.out))
	}
	if ag := h.m.Snapshot().State.GetAgents.Agents; len(ag) != 1 || ag[0].DrainInfo == nil || ag[0].DrainInfo.State != mesos.DrainDraining {
		t.Fatalf("agents %+v", ag)
	}
	if offers := h.offers("f1", 10*time.Second); len(offers) != 0 {
		t.Fatalf("draining agent offered: %v", offers)
	}
	h.agentCall("a1", statusCall(agent, fw, "t1", mesos.TaskKilled, uuidN(1)))
	if h.closed("a1") {
		t.Fatalf("agent marked gone before the framework acknowledged the kill: %s", describe(h.out))
	}
	h.call("f1", &mesos.Call{Type: mesos.CallAcknowledge, FrameworkID: fw, Acknowledge: &mesos.Acknowledge{
		AgentID: agent, TaskID: "t1", UUID: uuidN(1)}})
	if !h.closed("a1") {
		t.Fatalf("drained agent not marked gone: %s", describe(h.out))
	}
	if ra, ok := h.registry["agents/"+string(agent)].(RegistryAgent); !ok || !ra.Gone {
		t.Fatalf("registry %+v", h.registry)
	}
}

// TestTeardownShutdownMessage: TEARDOWN shuts the framework down on its
// agents and closes its stream; SHUTDOWN kills an executor's tasks;
// MESSAGE reaches the agent, and an agent's MESSAGE the scheduler.
func TestTeardownShutdownMessage(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	fw := h.subscribe("f1", web)
	o := h.offers("f1", time.Second)
	ti := taskInfo("e1", agent, "cpus:1;mem:64")
	ti.Command = nil
	ti.Executor = &mesos.ExecutorInfo{ExecutorID: "ex", Command: &mesos.CommandInfo{Value: "exec"},
		Resources: mesos.MustParseResources("cpus:0.1;mem:32")}
	if r := h.call("f1", launchCall(fw, o[0], ti)); r.Status != 202 {
		t.Fatalf("launch with executor: %d %s", r.Status, r.Message)
	}
	if r := h.call("f1", &mesos.Call{Type: mesos.CallMessage, FrameworkID: fw, Message: &mesos.Message{
		AgentID: agent, ExecutorID: "ex", Data: []byte("hi")}}); r.Status != 202 {
		t.Fatalf("message: %d %s", r.Status, r.Message)
	}
	if m := h.agentEvents("a1", mesos.AgentEventMessage); len(m) != 1 || string(m[0].Message.Data) != "hi" {
		t.Fatalf("message to agent: %s", describe(h.out))
	}
	if r := h.agentCall("a1", &mesos.AgentCall{Type: mesos.AgentCallMessage, AgentID: agent, Message: &mesos.AgentMessage{
		FrameworkID: fw, ExecutorID: "ex", Data: []byte("yo")}}); r.Status != 202 {
		t.Fatalf("agent message: %d %s", r.Status, r.Message)
	}
	if m := h.fwEvents("f1", mesos.EventMessage); len(m) != 1 || string(m[0].Message.Data) != "yo" {
		t.Fatalf("message to scheduler: %s", describe(h.out))
	}
	if r := h.call("f1", &mesos.Call{Type: mesos.CallShutdown, FrameworkID: fw, Shutdown: &mesos.Shutdown{
		ExecutorID: "ex", AgentID: agent}}); r.Status != 202 {
		t.Fatalf("shutdown: %d %s", r.Status, r.Message)
	}
	if k := h.agentEvents("a1", mesos.AgentEventKillTask); len(k) != 1 || k[0].KillTask.TaskID != "e1" {
		t.Fatalf("shutdown kills: %s", describe(h.out))
	}
	if r := h.call("f1", &mesos.Call{Type: mesos.CallTeardown, FrameworkID: fw}); r.Status != 202 {
		t.Fatalf("teardown: %d %s", r.Status, r.Message)
	}
	if len(h.agentEvents("a1", mesos.AgentEventShutdownFramework)) != 1 || !h.closed("f1") {
		t.Fatalf("teardown: %s", describe(h.out))
	}
	// Gone for good: resubscribing with its ID is refused on the stream.
	info := web
	info.ID = fw
	req := h.nextReq()
	h.step(SchedulerCall{Req: req, Stream: "f2", Call: &mesos.Call{Type: mesos.CallSubscribe, FrameworkID: fw,
		Subscribe: &mesos.Subscribe{FrameworkInfo: &info}}})
	if len(h.fwEvents("f2", mesos.EventError)) != 1 || !h.closed("f2") {
		t.Fatalf("resubscribe after teardown: %s", describe(h.out))
	}
	// Its resources are free again.
	fw2 := h.subscribe("f3", mesos.FrameworkInfo{User: "u", Name: "next"})
	if o := h.offers("f3", time.Second); len(o) != 1 || o[0].Resources.Cpus().Float64() != 4 || o[0].FrameworkID != fw2 {
		t.Fatalf("after teardown: %+v", o)
	}
}

// TestReserveUnreserve: RESERVE in an ACCEPT turns offered resources into
// a dynamic reservation for the framework's role, kept in the registry
// and across the agent's reregistration; UNRESERVE gives them back.
func TestReserveUnreserve(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addAgent("a1", "cpus:4;mem:1024")
	info := web
	info.Role = "eng"
	fw := h.subscribe("f1", info)
	o := h.offers("f1", time.Second)
	reserved := mesos.Resources{mesos.ScalarResource("cpus", 2)}
	reserved[0].Reservations = []mesos.ReservationInfo{{Type: mesos.ReservationDynamic, Role: "eng"}}
	accept := func(o mesos.Offer, op mesos.OfferOperation) Reply {
		return h.call("f1", &mesos.Call{Type: mesos.CallAccept, FrameworkID: fw, Accept: &mesos.Accept{
			OfferIDs: []mesos.OfferID{o.ID}, Operations: []mesos.OfferOperation{op}, Filters: mesos.RefuseFor(0)}})
	}
	tooMuch := mesos.Resources{mesos.ScalarResource("cpus", 20)}
	tooMuch[0].Reservations = reserved[0].Reservations
	if r := accept(o[0], mesos.OfferOperation{Type: mesos.OperationReserve, Reserve: &mesos.Reserve{Resources: tooMuch}}); r.Status != 400 ||
		!strings.HasPrefix(r.Message, "accept.operations[0].reserve.resources:") {
		t.Fatalf("reserve beyond the offer: %d %s", r.Status, r.Message)
	}
	if r := accept(o[0], mesos.OfferOperation{Type: mesos.OperationReserve, Reserve: &mesos.Reserve{Resources: reserved}}); r.Status != 202 {
		t.Fatalf("reserve: %d %s", r.Status, r.Message)
	}
	if ra := h.registry["agents/"+string(agent)].(RegistryAgent); ra.Info.Resources.ReservedFor("eng").Cpus().Float64() != 2 {
		t.Fatalf("registry total %s", ra.Info.Resources)
	}
	o = h.offers("f1", time.Second)
	if len(o) != 1 || o[0].Resources.ReservedFor("eng").Cpus().Float64() != 2 {
		t.Fatalf("offer after RESERVE: %+v", o)
	}
	// The agent reconnects reporting only its flags' resources: the
	// reservation stays.
	h.step(StreamClosed{Stream: "a1"})
	req := h.nextReq()
	h.step(AgentCall{Req: req, Stream: "a2", Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: agent,
		Subscribe: &mesos.AgentSubscribe{AgentID: agent, AgentInfo: &mesos.AgentInfo{Hostname: "h"},
			Resources: mesos.MustParseResources("cpus:4;mem:1024")}}})
	o = h.offers("f1", time.Second)
	if len(o) != 1 || o[0].Resources.ReservedFor("eng").Cpus().Float64() != 2 {
		t.Fatalf("offer after reregistration: %+v", o)
	}
	if r := accept(o[0], mesos.OfferOperation{Type: mesos.OperationUnreserve, Unreserve: &mesos.Unreserve{Resources: reserved}}); r.Status != 202 {
		t.Fatalf("unreserve: %d %s", r.Status, r.Message)
	}
	o = h.offers("f1", time.Second)
	if len(o) != 1 || len(o[0].Resources.Reserved()) != 0 || o[0].Resources.Cpus().Float64() != 4 {
		t.Fatalf("offer after UNRESERVE: %+v", o)
	}
}

// TestOperatorReserve reserves free resources for a role, refuses what is
// not free, and unreserves.
func TestOperatorReserve(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addAgent("a1", "cpus:4;mem:1024")
	reserved := mesos.Resources{mesos.ScalarResource("cpus", 1)}
	reserved[0].Reservations = []mesos.ReservationInfo{{Type: mesos.ReservationDynamic, Role: "ops"}}
	op := func(typ mesos.OperatorCallType, rs mesos.Resources) Reply {
		req := h.nextReq()
		c := &mesos.OperatorCall{Type: typ}
		if typ == mesos.OperatorReserveResources {
			c.ReserveResources = &mesos.ReserveResources{AgentID: agent, Resources: rs}
		} else {
			c.UnreserveResources = &mesos.UnreserveResources{AgentID: agent, Resources: rs}
		}
		h.step(OperatorCall{Req: req, Call: c})
		return h.replyOf(req)
	}
	if r := op(mesos.OperatorReserveResources, reserved); r.Status != 200 {
		t.Fatalf("reserve: %d %s", r.Status, r.Message)
	}
	if ag := h.m.Snapshot().State.GetAgents.Agents[0]; ag.TotalResources.ReservedFor("ops").Cpus().Float64() != 1 {
		t.Fatalf("total %s", ag.TotalResources)
	}
	big := mesos.Resources{mesos.ScalarResource("cpus", 10)}
	big[0].Reservations = reserved[0].Reservations
	if r := op(mesos.OperatorReserveResources, big); r.Status != 409 || !strings.HasPrefix(r.Message, "reserve_resources.resources:") {
		t.Fatalf("reserve of more than is free: %d %s", r.Status, r.Message)
	}
	if r := op(mesos.OperatorUnreserveResources, reserved); r.Status != 200 {
		t.Fatalf("unreserve: %d %s", r.Status, r.Message)
	}
	if ag := h.m.Snapshot().State.GetAgents.Agents[0]; len(ag.TotalResources.Reserved()) != 0 {
		t.Fatalf("total %s", ag.TotalResources)
	}
}

// TestLaunchGroup sends one RUN_TASK_GROUP for a LAUNCH_GROUP, and
// refuses a grouped task with its own executor.
func TestLaunchGroup(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	agent := h.addAgent("a1", "cpus:4;mem:4096")
	fw := h.subscribe("f1", web)
	o := h.offers("f1", time.Second)
	ex := &mesos.ExecutorInfo{Type: mesos.ExecutorDefault, ExecutorID: "pod-ex", Resources: mesos.MustParseResources("cpus:0.1;mem:32")}
	group := func(tasks ...mesos.TaskInfo) *mesos.Call {
		return &mesos.Call{Type: mesos.CallAccept, FrameworkID: fw, Accept: &mesos.Accept{OfferIDs: []mesos.OfferID{o[0].ID},
			Operations: []mesos.OfferOperation{{Type: mesos.OperationLaunchGroup, LaunchGroup: &mesos.LaunchGroup{
				Executor: ex, TaskGroup: &mesos.TaskGroupInfo{Tasks: tasks}}}}}}
	}
	bad := taskInfo("b", agent, "cpus:1")
	bad.Executor = ex
	if r := h.call("f1", group(bad)); r.Status != 400 || !strings.HasPrefix(r.Message, "accept.operations[0].launch_group.task_group.tasks[0].executor:") {
		t.Fatalf("grouped task with an executor: %d %s", r.Status, r.Message)
	}
	if r := h.call("f1", group(taskInfo("p1", agent, "cpus:1;mem:64"), taskInfo("p2", agent, "cpus:1;mem:64"))); r.Status != 202 {
		t.Fatalf("launch group: %d %s", r.Status, r.Message)
	}
	g := h.agentEvents("a1", mesos.AgentEventRunTaskGroup)
	if len(g) != 1 || len(g[0].RunTaskGroup.TaskGroup.Tasks) != 2 || g[0].RunTaskGroup.Executor.FrameworkID != fw ||
		len(h.agentEvents("a1", mesos.AgentEventRunTask)) != 0 {
		t.Fatalf("RUN_TASK_GROUP: %s", describe(h.out))
	}
	tasks := h.m.Snapshot().State.GetTasks.Tasks
	if len(tasks) != 2 || tasks[0].ExecutorID != "pod-ex" {
		t.Fatalf("tasks %+v", tasks)
	}
}

// TestOperatorCallsNameTheField: operator calls about unknown agents or
// frameworks are 400s naming the field, and change nothing.
func TestOperatorCallsNameTheField(t *testing.T) {
	h := newHarness(t, Config{})
	h.addAgent("a1", "cpus:1;mem:64")
	ref := &mesos.AgentRef{AgentID: "nope"}
	cases := []struct {
		call  *mesos.OperatorCall
		field string
	}{
		{&mesos.OperatorCall{Type: mesos.OperatorDeactivateAgent, DeactivateAgent: ref}, "deactivate_agent.agent_id"},
		{&mesos.OperatorCall{Type: mesos.OperatorReactivateAgent, ReactivateAgent: ref}, "reactivate_agent.agent_id"},
		{&mesos.OperatorCall{Type: mesos.OperatorMarkAgentGone, MarkAgentGone: ref}, "mark_agent_gone.agent_id"},
		{&mesos.OperatorCall{Type: mesos.OperatorDrainAgent, DrainAgent: &mesos.DrainAgent{AgentID: "nope"}}, "drain_agent.agent_id"},
		{&mesos.OperatorCall{Type: mesos.OperatorTeardown, Teardown: &mesos.Teardown{FrameworkID: "nope"}}, "teardown.framework_id"},
		{&mesos.OperatorCall{Type: mesos.OperatorCreateVolumes, CreateVolumes: &mesos.CreateVolumes{AgentID: "x"}}, "type"},
	}
	for _, tc := range cases {
		req := h.nextReq()
		h.step(OperatorCall{Req: req, Call: tc.call})
		r := h.replyOf(req)
		if r.Status != 400 || !strings.HasPrefix(r.Message, tc.field+":") || len(h.out) != 1 {
			t.Errorf("%s: %d %q %s", tc.call.Type, r.Status, r.Message, describe(h.out))
		}
	}
	if a := h.m.Snapshot().State.GetAgents.Agents; len(a) != 1 || !a[0].Active {
		t.Fatalf("agents changed: %+v", a)
	}
}

// TestReviveSuppressWithoutBody: Mesos clients send REVIVE and SUPPRESS
// without a body; they mean all roles.
func TestReviveSuppressWithoutBody(t *testing.T) {
	h := newHarness(t, Config{})
	h.addAgent("a1", "cpus:1;mem:64")
	fw := h.subscribe("f1", web)
	for _, typ := range []mesos.CallType{mesos.CallSuppress, mesos.CallRevive} {
		if r := h.call("f1", &mesos.Call{Type: typ, FrameworkID: fw}); r.Status != 202 {
			t.Fatalf("%s: %d %s", typ, r.Status, r.Message)
		}
	}
}
