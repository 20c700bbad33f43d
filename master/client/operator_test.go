package client

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

func newOperator(t *testing.T, opts Options) *Operator {
	t.Helper()
	o, err := NewOperator(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func TestOperator_EveryCall(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	c := newFakeCluster(t)
	a := c.start("A", false)
	o := newOperator(t, testOptions(a.url))

	// Reads: each returns its typed answer.
	if h, err := o.GetHealth(ctx); err != nil || !h.Healthy {
		t.Errorf("GetHealth: %+v, %v", h, err)
	}
	if v, err := o.GetVersion(ctx); err != nil || v.VersionInfo.Version != "1.11.0" {
		t.Errorf("GetVersion: %+v, %v", v, err)
	}
	if f, err := o.GetFlags(ctx); err != nil || len(f.Flags) != 1 || f.Flags[0].Name != "port" {
		t.Errorf("GetFlags: %+v, %v", f, err)
	}
	if m, err := o.GetMetrics(ctx, 2*time.Second); err != nil || len(m.Metrics) != 1 || *m.Metrics[0].Value != 3 {
		t.Errorf("GetMetrics: %+v, %v", m, err)
	}
	if s, err := o.GetState(ctx); err != nil || len(s.GetAgents.Agents) != 1 || s.GetTasks.Tasks[0].TaskID != "web.1" {
		t.Errorf("GetState: %+v, %v", s, err)
	}
	if ag, err := o.GetAgents(ctx); err != nil || ag.Agents[0].AgentInfo.ID != fakeAgent ||
		ag.Agents[0].TotalResources.Scalar("cpus").String() != "4" {
		t.Errorf("GetAgents: %+v, %v", ag, err)
	}
	if f, err := o.GetFrameworks(ctx); err != nil || f.Frameworks[0].FrameworkInfo.ID != "F1" {
		t.Errorf("GetFrameworks: %+v, %v", f, err)
	}
	if tk, err := o.GetTasks(ctx); err != nil || tk.Tasks[0].State != mesos.TaskRunning {
		t.Errorf("GetTasks: %+v, %v", tk, err)
	}
	if r, err := o.GetRoles(ctx); err != nil || r.Roles[0].Name != "eng" || r.Roles[0].Weight != 2 {
		t.Errorf("GetRoles: %+v, %v", r, err)
	}
	if m, err := o.GetMaster(ctx); err != nil || m.MasterInfo.ID != "A" {
		t.Errorf("GetMaster: %+v, %v", m, err)
	}

	// Writes, and reads that show them.
	if err := o.UpdateWeights(ctx, mesos.WeightInfo{Role: "eng", Weight: 3}); err != nil {
		t.Fatalf("UpdateWeights: %v", err)
	}
	if w, err := o.GetWeights(ctx); err != nil || len(w.WeightInfos) != 1 || w.WeightInfos[0].Weight != 3 {
		t.Errorf("GetWeights after update: %+v, %v", w, err)
	}
	q := mesos.QuotaConfig{Role: "eng", Guarantees: map[string]mesos.Scalar{"cpus": mesos.MustParseResources("cpus:1").Scalar("cpus")}}
	if err := o.UpdateQuota(ctx, true, q); err != nil {
		t.Fatalf("UpdateQuota: %v", err)
	}
	if g, err := o.GetQuota(ctx); err != nil || len(g.Status.Configs) != 1 || g.Status.Configs[0].Role != "eng" {
		t.Errorf("GetQuota after update: %+v, %v", g, err)
	}
	reserved := mesos.MustParseResources("cpus(eng):1")
	writes := []struct {
		typ   mesos.OperatorCallType
		do    func() error
		check func(*mesos.OperatorCall) bool
	}{
		{mesos.OperatorReserveResources, func() error { return o.ReserveResources(ctx, fakeAgent, reserved) },
			func(c *mesos.OperatorCall) bool { return c.ReserveResources.Resources.Equal(reserved) }},
		{mesos.OperatorUnreserveResources, func() error { return o.UnreserveResources(ctx, fakeAgent, reserved) },
			func(c *mesos.OperatorCall) bool { return c.UnreserveResources.AgentID == fakeAgent }},
		{mesos.OperatorDrainAgent, func() error { return o.DrainAgent(ctx, fakeAgent, 10*time.Second, true) },
			func(c *mesos.OperatorCall) bool {
				d := c.DrainAgent
				return d.MaxGracePeriod.Duration() == 10*time.Second && d.MarkGone != nil && *d.MarkGone
			}},
		{mesos.OperatorDeactivateAgent, func() error { return o.DeactivateAgent(ctx, fakeAgent) },
			func(c *mesos.OperatorCall) bool { return c.DeactivateAgent.AgentID == fakeAgent }},
		{mesos.OperatorReactivateAgent, func() error { return o.ReactivateAgent(ctx, fakeAgent) },
			func(c *mesos.OperatorCall) bool { return c.ReactivateAgent.AgentID == fakeAgent }},
		{mesos.OperatorMarkAgentGone, func() error { return o.MarkAgentGone(ctx, fakeAgent) },
			func(c *mesos.OperatorCall) bool { return c.MarkAgentGone.AgentID == fakeAgent }},
		{mesos.OperatorTeardown, func() error { return o.Teardown(ctx, "F1") },
			func(c *mesos.OperatorCall) bool { return c.Teardown.FrameworkID == "F1" }},
	}
	// Drop what the reads above recorded.
	for len(a.opCalls) > 0 {
		<-a.opCalls
	}
	for _, w := range writes {
		if err := w.do(); err != nil {
			t.Fatalf("%s: %v", w.typ, err)
		}
		got := wait(t, a.opCalls, string(w.typ))
		if got.Type != w.typ || !w.check(got) {
			t.Errorf("%s as received: %+v", w.typ, got)
		}
	}

	// The plain endpoints.
	if err := o.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	state, err := o.State(ctx)
	var doc struct {
		ID string `json:"id"`
	}
	if err != nil || json.Unmarshal(state, &doc) != nil || doc.ID != "A" {
		t.Errorf("State: %s, %v", state, err)
	}
	metrics, err := o.MetricsSnapshot(ctx)
	if err != nil || metrics["master/elected"] != 1 || metrics["allocator/mesos/allocation_run_ms"] != 0.25 {
		t.Errorf("MetricsSnapshot: %v, %v", metrics, err)
	}
	if leader, err := o.Redirect(ctx); err != nil || leader != a.url {
		t.Errorf("Redirect: %q, %v; want %q", leader, err, a.url)
	}
}

func TestOperator_RedirectErrorsAndNoLeader(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	c := newFakeCluster(t)
	a := c.start("A", false)
	b := c.start("B", false) // standby
	o := newOperator(t, testOptions(b.url))

	m, err := o.GetMaster(ctx)
	if err != nil || m.MasterInfo.ID != "A" {
		t.Fatalf("GetMaster through the standby: %+v, %v", m, err)
	}
	if o.Master() != a.url {
		t.Errorf("client uses %q after the redirect, want the leader %q", o.Master(), a.url)
	}
	redirects := b.redirects.Load()
	if _, err := o.GetHealth(ctx); err != nil {
		t.Fatal(err)
	}
	if b.redirects.Load() != redirects {
		t.Errorf("second call went through the standby again")
	}
	if leader, err := o.Redirect(ctx); err != nil || leader != a.url {
		t.Errorf("Redirect: %q, %v", leader, err)
	}

	// A refusal with Strata's JSON error body.
	err = o.ReserveResources(ctx, "no-such-agent", mesos.MustParseResources("cpus(eng):1"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrBadRequest) || errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("reserve on an unknown agent: %v", err)
	}
	if apiErr.Message != "unknown agent" || len(apiErr.Details) != 1 || apiErr.Call != "operator RESERVE_RESOURCES" {
		t.Errorf("APIError %+v", apiErr)
	}
	// A call the master's validation rejects names the field.
	err = o.UpdateWeights(ctx, mesos.WeightInfo{Role: "eng", Weight: -1})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || len(apiErr.Details) == 0 {
		t.Fatalf("negative weight: %v", err)
	}
	mustContain(t, apiErr.Details[0], "update_weights.weight_infos[0].weight")

	// No leader: 503, typed, with the master's message.
	c.setLeader(nil)
	o2 := newOperator(t, testOptions(b.url))
	_, err = o2.GetState(ctx)
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &apiErr) || apiErr.Message != "No leader elected" {
		t.Fatalf("GetState without a leader: %v", err)
	}
	if _, err := o2.Redirect(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Redirect without a leader: %v", err)
	}
	// A dead first master in the list is skipped within one call.
	c.setLeader(a)
	o3 := newOperator(t, testOptions(deadAddress(t)+","+a.url))
	if _, err := o3.GetHealth(ctx); err != nil {
		t.Errorf("GetHealth with a dead first master: %v", err)
	}
}

// The operator stream: a snapshot, deltas, Strata's offer events only for
// those who asked, and a gap signalled when the stream breaks, followed by
// a fresh snapshot.
func TestOperator_SubscribeGapAndOfferEvents(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	c := newFakeCluster(t)
	a := c.start("A", false)
	o := newOperator(t, testOptions(a.url))

	withOffers, err := o.Subscribe(ctx, &mesos.SubscribeOptions{OfferEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := o.Subscribe(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opts := wait(t, a.opSubs, "first operator SUBSCRIBE"); !opts.OfferEvents {
		t.Errorf("offer events opt-in did not reach the master")
	}
	if opts := wait(t, a.opSubs, "second operator SUBSCRIBE"); opts.OfferEvents {
		t.Errorf("plain subscription asked for offer events")
	}
	next := func(ch <-chan OperatorUpdate) OperatorUpdate {
		t.Helper()
		for {
			u := wait(t, ch, "an operator update")
			if u.Event == nil || u.Event.Type != mesos.OperatorEventHeartbeat {
				return u
			}
		}
	}
	for _, ch := range []<-chan OperatorUpdate{withOffers, plain} {
		u := next(ch)
		if u.Err != nil || u.Event.Type != mesos.OperatorEventSubscribed || len(u.Event.Subscribed.GetState.GetAgents.Agents) != 1 {
			t.Fatalf("first update: %+v", u)
		}
	}
	a.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventOfferSent, OfferSent: &mesos.OfferSent{
		Offer: &mesos.Offer{ID: "O1", FrameworkID: "F1", AgentID: fakeAgent, Hostname: "agent1"}}})
	a.broadcast(&mesos.OperatorEvent{Type: mesos.OperatorEventTaskAdded, TaskAdded: &mesos.TaskAdded{
		Task: &mesos.Task{Name: "db", TaskID: "db.1", FrameworkID: "F1", AgentID: fakeAgent, State: mesos.TaskStaging}}})
	if u := next(withOffers); u.Event == nil || u.Event.Type != mesos.OperatorEventOfferSent || u.Event.OfferSent.Offer.ID != "O1" {
		t.Errorf("opted-in subscriber: %+v", u)
	}
	for _, ch := range []<-chan OperatorUpdate{withOffers, plain} {
		if u := next(ch); u.Event == nil || u.Event.Type != mesos.OperatorEventTaskAdded {
			t.Errorf("want TASK_ADDED, got %+v", u)
		}
	}

	// The master drops the streams: each subscriber learns of the gap, then
	// gets a new snapshot.
	a.cutOperatorStreams()
	for _, ch := range []<-chan OperatorUpdate{withOffers, plain} {
		if u := next(ch); u.Err == nil {
			t.Fatalf("want a gap notice, got %+v", u.Event)
		}
		if u := next(ch); u.Err != nil || u.Event.Type != mesos.OperatorEventSubscribed {
			t.Fatalf("want a fresh SUBSCRIBED after the gap, got %+v", u)
		}
	}
	optedIn := 0
	for range 2 {
		if wait(t, a.opSubs, "resubscription").OfferEvents {
			optedIn++
		}
	}
	if optedIn != 1 {
		t.Errorf("%d of 2 resubscriptions asked for offer events, want 1", optedIn)
	}

	// Close ends both subscriptions.
	o.Close()
	for _, ch := range []<-chan OperatorUpdate{withOffers, plain} {
		for range ch {
		}
	}
}

// The operator stream follows a failover: the leader dies, the next SUBSCRIBE
// goes to the new one.
func TestOperator_SubscribeFollowsFailover(t *testing.T) {
	checkLeaks(t)
	c := newFakeCluster(t)
	a := c.start("A", false)
	b := c.start("B", false)
	o := newOperator(t, testOptions(a.url+","+b.url))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates, err := o.Subscribe(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := wait(t, updates, "SUBSCRIBED"); u.Event == nil || u.Event.Type != mesos.OperatorEventSubscribed {
		t.Fatalf("first update %+v", u)
	}
	c.setLeader(b)
	a.kill()
	wait(t, b.opSubs, "SUBSCRIBE at the new leader")
	for {
		u := wait(t, updates, "SUBSCRIBED from B")
		if u.Event != nil && u.Event.Type == mesos.OperatorEventSubscribed {
			break
		}
	}
	// Ending ctx closes the channel without a further notice.
	cancel()
	for u := range updates {
		if u.Err != nil {
			t.Errorf("notice after cancel: %v", u.Err)
		}
	}
	if n := b.operatorCount(); n > 1 {
		t.Errorf("%d operator streams open at B", n)
	}
}

func TestOperator_SubscribeRefused(t *testing.T) {
	checkLeaks(t)
	c := newFakeCluster(t)
	a := c.start("A", false)
	a.token = "s3cret"
	o := newOperator(t, testOptions(a.url))
	if _, err := o.Subscribe(context.Background(), nil); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("subscribe without the token: %v, want ErrUnauthorized", err)
	}
	o2 := newOperator(t, testOptions(deadAddress(t)))
	if _, err := o2.Subscribe(context.Background(), nil); err == nil {
		t.Errorf("subscribe to a dead master succeeded")
	}
}

func TestOperator_UnixSocket(t *testing.T) {
	checkLeaks(t)
	dir, err := os.MkdirTemp("", "strata-client")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := newFakeCluster(t)
	a := c.startUnix("A", filepath.Join(dir, "master.sock"))
	o := newOperator(t, testOptions(a.url))
	ctx := context.Background()
	if s, err := o.GetState(ctx); err != nil || len(s.GetTasks.Tasks) != 1 {
		t.Fatalf("GetState over the socket: %+v, %v", s, err)
	}
	if err := o.Health(ctx); err != nil {
		t.Error(err)
	}
	if o.Master() != a.url {
		t.Errorf("Master() = %q, want %q", o.Master(), a.url)
	}
	updates, err := o.Subscribe(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := wait(t, updates, "SUBSCRIBED"); u.Event == nil || u.Event.Type != mesos.OperatorEventSubscribed {
		t.Fatalf("first update %+v", u)
	}
}
