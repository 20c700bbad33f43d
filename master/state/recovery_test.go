package state

import (
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// registryOf turns what a harness wrote to the registry into what the
// next leader reads, as the daemon's readRegistry does.
func registryOf(h *harness) Registry {
	var r Registry
	for _, k := range sortedKeys(h.registry) {
		switch v := h.registry[k].(type) {
		case RegistryAgent:
			r.Agents = append(r.Agents, v)
		case RegistryFramework:
			r.Frameworks = append(r.Frameworks, v)
		}
	}
	return r
}

// reregister subscribes agent id (known from the registry) on stream,
// reporting tasks of fw.
func (h *harness) reregister(stream StreamID, id mesos.AgentID, fw mesos.FrameworkInfo, tasks ...mesos.Task) {
	h.t.Helper()
	info := mesos.AgentInfo{Hostname: "host-" + string(id), ID: id}
	req := h.nextReq()
	h.step(AgentCall{Req: req, Stream: stream, Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: id,
		Subscribe: &mesos.AgentSubscribe{AgentID: id, AgentInfo: &info, Resources: mesos.MustParseResources("cpus:2;mem:256"),
			Frameworks: []mesos.FrameworkInfo{fw}, Tasks: tasks}}})
	if r := h.replyOf(req); r.Status != 200 {
		h.t.Fatalf("reregister %s: %d %s", id, r.Status, r.Message)
	}
}

// reconcileOne asks for one task explicitly and returns the answers.
func (h *harness) reconcileOne(stream StreamID, fw mesos.FrameworkID, task mesos.TaskID, agent mesos.AgentID) []*mesos.Event {
	h.t.Helper()
	h.call(stream, &mesos.Call{Type: mesos.CallReconcile, FrameworkID: fw, Reconcile: &mesos.Reconcile{
		Tasks: []mesos.ReconcileTask{{TaskID: task, AgentID: agent}}}})
	return h.fwEvents(stream, mesos.EventUpdate)
}

func registryAgents(ids ...mesos.AgentID) []RegistryAgent {
	var out []RegistryAgent
	for _, id := range ids {
		out = append(out, RegistryAgent{Info: mesos.AgentInfo{Hostname: "host-" + string(id), ID: id,
			Resources: mesos.MustParseResources("cpus:2;mem:256")}})
	}
	return out
}

// TestAgentsNotBackAfterFailover: a new leader gives the registry's agents
// ReregisterTimeout; one that does not come back is then marked
// unreachable in the registry, frameworks get FAILURE for it, and explicit
// reconciliation of its tasks answers TASK_UNREACHABLE (PARTITION_AWARE)
// or TASK_LOST, with REASON_RECONCILIATION. When it does come back its
// tasks return RUNNING to their framework and the mark is cleared.
func TestAgentsNotBackAfterFailover(t *testing.T) {
	pa := partitionAware(web)
	pa.ID = "m0-0001"
	old := mesos.FrameworkInfo{User: "u", Name: "old", ID: "m0-0002"}
	// Shorter than the ping limit (5 × 15 s), so m0-S1 stays reachable
	// without PONGs.
	h := newHarness(t, Config{ReregisterTimeout: time.Minute,
		Registry: Registry{Agents: registryAgents("m0-S1", "m0-S2"),
			Frameworks: []RegistryFramework{{Info: pa}, {Info: old}}}})
	h.reregister("a1", "m0-S1", pa)
	h.subscribe("f1", pa)
	h.subscribe("f2", old)

	// Still expected back: no answer yet.
	if ups := h.reconcileOne("f1", pa.ID, "t2", "m0-S2"); len(ups) != 0 {
		t.Fatalf("answered for an agent still expected back: %s", describe(h.out))
	}
	h.advance(time.Minute - time.Second)
	if ra := h.registry[agentPath("m0-S2")]; ra != nil {
		t.Fatalf("marked before the timeout: %+v", ra)
	}
	h.advance(time.Second)
	ra, ok := h.registry[agentPath("m0-S2")].(RegistryAgent)
	if !ok || ra.Unreachable == nil {
		t.Fatalf("m0-S2 not marked unreachable in the registry: %+v", h.registry)
	}
	if _, ok := h.registry[agentPath("m0-S1")].(RegistryAgent); ok {
		t.Fatalf("m0-S1, which came back, was rewritten: %+v", h.registry[agentPath("m0-S1")])
	}
	if n := h.m.Snapshot().Metrics["master/agents_unreachable"]; n != 1 {
		t.Fatalf("master/agents_unreachable = %v, want 1", n)
	}
	for _, s := range []StreamID{"f1", "f2"} {
		if fs := h.fwEvents(s, mesos.EventFailure); len(fs) != 1 || fs[0].Failure.AgentID != "m0-S2" {
			t.Fatalf("%s: want FAILURE for m0-S2, got %s", s, describe(h.out))
		}
	}
	for _, tc := range []struct {
		stream StreamID
		fw     mesos.FrameworkID
		want   mesos.TaskState
	}{{"f1", pa.ID, mesos.TaskUnreachable}, {"f2", old.ID, mesos.TaskLost}} {
		ups := h.reconcileOne(tc.stream, tc.fw, "t2", "m0-S2")
		if len(ups) != 1 || ups[0].Update.Status.State != tc.want || ups[0].Update.Status.Reason != mesos.ReasonReconciliation ||
			ups[0].Update.Status.UnreachableTime == nil {
			t.Fatalf("%s: reconcile on the lost agent: want %s with its unreachable time, got %s", tc.stream, tc.want, describe(h.out))
		}
	}

	// It comes back, late, with its task.
	h.reregister("a2", "m0-S2", pa, mesos.Task{TaskID: "t2", FrameworkID: pa.ID, AgentID: "m0-S2",
		State: mesos.TaskRunning, Resources: mesos.MustParseResources("cpus:1;mem:64")})
	if s := h.agentEvents("a2", mesos.AgentEventSubscribed); len(s) != 1 {
		t.Fatalf("late agent not admitted: %s", describe(h.out))
	}
	if ups := h.fwEvents("f1", mesos.EventUpdate); len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskRunning {
		t.Fatalf("task not back RUNNING: %s", describe(h.out))
	}
	if ra, ok := h.registry[agentPath("m0-S2")].(RegistryAgent); !ok || ra.Unreachable != nil {
		t.Fatalf("unreachable mark not cleared: %+v", h.registry[agentPath("m0-S2")])
	}
	h.call("f1", &mesos.Call{Type: mesos.CallReconcile, FrameworkID: pa.ID, Reconcile: &mesos.Reconcile{}})
	if ups := h.fwEvents("f1", mesos.EventUpdate); len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskRunning {
		t.Fatalf("implicit reconcile after return: %s", describe(h.out))
	}
}

// TestRegistryUnreachableAgentReconciled: an agent the registry already
// has as unreachable is answered for at once (no wait for it), and does
// not count among the agents offers wait for.
func TestRegistryUnreachableAgentReconciled(t *testing.T) {
	pa := partitionAware(web)
	pa.ID = "m0-0001"
	agents := registryAgents("m0-S1", "m0-S2")
	agents[1].Unreachable = mesos.TimeInfoOf(t0.Add(-time.Hour))
	h := newHarness(t, Config{Registry: Registry{Agents: agents, Frameworks: []RegistryFramework{{Info: pa}}}})
	h.subscribe("f1", pa)
	ups := h.reconcileOne("f1", pa.ID, "t2", "m0-S2")
	if len(ups) != 1 || ups[0].Update.Status.State != mesos.TaskUnreachable || ups[0].Update.Status.Reason != mesos.ReasonReconciliation {
		t.Fatalf("reconcile on a registry-unreachable agent: %s", describe(h.out))
	}
	// One admitted agent: it alone is most of them.
	h.reregister("a1", "m0-S1", pa)
	if o := h.offers("f1", time.Second); len(o) != 1 || o[0].AgentID != "m0-S1" {
		t.Fatalf("offers: %+v", o)
	}
}

// TestOffersWaitForMostAgents: after a failover no offers are made until
// more than half of the registry's agents are back, so the first agents
// back are not all the frameworks see; or until ReregisterTimeout passes.
func TestOffersWaitForMostAgents(t *testing.T) {
	reg := Registry{Agents: registryAgents("m0-S1", "m0-S2", "m0-S3")}
	h := newHarness(t, Config{Registry: reg})
	h.subscribe("f1", web)
	h.reregister("a1", "m0-S1", web)
	if o := h.offers("f1", 5*time.Second); len(o) != 0 {
		t.Fatalf("offered with 1 of 3 agents back: %+v", o)
	}
	h.reregister("a2", "m0-S2", web)
	if o := h.offers("f1", time.Second); len(o) != 2 {
		t.Fatalf("want offers of the 2 agents back, got %+v", o)
	}

	// Too few come back: offers start at the timeout.
	h = newHarness(t, Config{Registry: reg, ReregisterTimeout: time.Minute})
	h.subscribe("f1", web)
	h.reregister("a1", "m0-S1", web)
	if o := h.offers("f1", time.Minute-time.Second); len(o) != 0 {
		t.Fatalf("offered before the reregister timeout: %+v", o)
	}
	if o := h.offers("f1", time.Second); len(o) != 1 || o[0].AgentID != "m0-S1" {
		t.Fatalf("want an offer at the timeout, got %+v", o)
	}
}

// TestRemovedFrameworkRefusedAfterFailover: frameworks torn down (by
// themselves or the operator) stay removed in the registry, and the next
// leader answers their SUBSCRIBE with Mesos' "Framework has been removed"
// ERROR and closes the stream.
func TestRemovedFrameworkRefusedAfterFailover(t *testing.T) {
	h := newHarness(t, Config{})
	self := h.subscribe("f1", web)
	byOp := h.subscribe("f2", web)
	if r := h.call("f1", &mesos.Call{Type: mesos.CallTeardown, FrameworkID: self}); r.Status != 202 {
		t.Fatalf("teardown: %d %s", r.Status, r.Message)
	}
	req := h.nextReq()
	h.step(OperatorCall{Req: req, Call: &mesos.OperatorCall{Type: mesos.OperatorTeardown,
		Teardown: &mesos.Teardown{FrameworkID: byOp}}})
	if r := h.replyOf(req); r.Status != 200 {
		t.Fatalf("operator teardown: %d %s", r.Status, r.Message)
	}

	next := newHarness(t, Config{MasterID: "m2", Registry: registryOf(h)})
	for i, id := range []mesos.FrameworkID{self, byOp} {
		stream := StreamID("g" + string(rune('1'+i)))
		info := web
		info.ID = id
		req := next.nextReq()
		next.step(SchedulerCall{Req: req, Stream: stream, Call: &mesos.Call{Type: mesos.CallSubscribe, FrameworkID: id,
			Subscribe: &mesos.Subscribe{FrameworkInfo: &info}}})
		errs := next.fwEvents(stream, mesos.EventError)
		if len(errs) != 1 || errs[0].Error.Message != "Framework has been removed" || !next.closed(stream) {
			t.Fatalf("%s resubscribing: %s", id, describe(next.out))
		}
		if len(next.fwEvents(stream, mesos.EventSubscribed)) != 0 {
			t.Fatalf("%s subscribed again", id)
		}
	}
	// An agent still running a task of a removed framework is told to
	// shut the framework down; the task is not adopted.
	info := web
	info.ID = self
	next.reregister("a9", "m1-S9", info, mesos.Task{TaskID: "t1", FrameworkID: self, AgentID: "m1-S9",
		State: mesos.TaskRunning, Resources: mesos.MustParseResources("cpus:1;mem:64")})
	if sd := next.agentEvents("a9", mesos.AgentEventShutdownFramework); len(sd) != 1 || sd[0].ShutdownFramework.FrameworkID != self {
		t.Fatalf("removed framework not shut down on the agent: %s", describe(next.out))
	}
	if tasks := next.m.Snapshot().State.GetTasks.Tasks; len(tasks) != 0 {
		t.Fatalf("task of a removed framework adopted: %+v", tasks)
	}
}

// TestUpdateQuotaRescindsRoleOffers: a new limit withdraws the offers of
// the role and its subroles, not others'; a guarantee withdraws every
// offer, since it holds headroom out of all of them.
func TestUpdateQuotaRescindsRoleOffers(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: -1})
	h.addAgent("a1", "cpus:4;mem:1024")
	h.addAgent("a2", "cpus:4;mem:1024")
	eng := mesos.FrameworkInfo{User: "u", Name: "eng", Roles: []string{"eng/backend"},
		Capabilities: []mesos.FrameworkCapability{{Type: mesos.FrameworkCapabilityMultiRole}}}
	ads := mesos.FrameworkInfo{User: "u", Name: "ads", Roles: []string{"ads"},
		Capabilities: []mesos.FrameworkCapability{{Type: mesos.FrameworkCapabilityMultiRole}}}
	h.subscribe("f1", eng)
	h.subscribe("f2", ads)
	h.advance(time.Second)
	if len(h.fwEvents("f1", mesos.EventOffers)) == 0 || len(h.fwEvents("f2", mesos.EventOffers)) == 0 {
		t.Fatalf("want offers to both: %s", describe(h.out))
	}
	quota := func(q mesos.QuotaConfig) {
		t.Helper()
		req := h.nextReq()
		h.step(OperatorCall{Req: req, Call: &mesos.OperatorCall{Type: mesos.OperatorUpdateQuota,
			UpdateQuota: &mesos.UpdateQuota{QuotaConfigs: []mesos.QuotaConfig{q}}}})
		if r := h.replyOf(req); r.Status != 200 {
			t.Fatalf("quota: %d %s", r.Status, r.Message)
		}
	}
	quota(mesos.QuotaConfig{Role: "eng", Limits: map[string]mesos.Scalar{"cpus": mesos.ScalarOf(8)}})
	if len(h.fwEvents("f1", mesos.EventRescind)) == 0 {
		t.Fatalf("offers of eng/backend not rescinded: %s", describe(h.out))
	}
	if r := h.fwEvents("f2", mesos.EventRescind); len(r) != 0 {
		t.Fatalf("offers of ads rescinded by eng's limit: %s", describe(h.out))
	}
	quota(mesos.QuotaConfig{Role: "eng", Guarantees: map[string]mesos.Scalar{"cpus": mesos.ScalarOf(1)}})
	if len(h.fwEvents("f2", mesos.EventRescind)) == 0 {
		t.Fatalf("a guarantee did not rescind other roles' offers: %s", describe(h.out))
	}
}
