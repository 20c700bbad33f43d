package client

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

func testFramework() *mesos.FrameworkInfo {
	ft := 3600.0
	return &mesos.FrameworkInfo{User: "root", Name: "test-framework", Role: "eng", FailoverTimeout: &ft}
}

// startScheduler runs a scheduler client until the test ends.
func startScheduler(t *testing.T, cfg SchedulerConfig) (*Scheduler, <-chan error) {
	t.Helper()
	s, err := NewScheduler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Run(context.Background()) }()
	t.Cleanup(func() { s.Close() })
	return s, errc
}

// subscribed waits for the SUBSCRIBED event and returns the framework ID.
func subscribed(t *testing.T, s *Scheduler) mesos.FrameworkID {
	t.Helper()
	ev := nextEvent(t, s.Events())
	if ev.Type != mesos.EventSubscribed || ev.Subscribed == nil {
		t.Fatalf("first event is %s, want SUBSCRIBED", ev.Type)
	}
	return ev.Subscribed.FrameworkID
}

// drainEvents reads events until the channel closes (Run returned).
func drainEvents(t *testing.T, ch <-chan *mesos.Event) []*mesos.Event {
	t.Helper()
	var out []*mesos.Event
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, ev)
		case <-time.After(15 * time.Second):
			t.Fatal("events channel not closed")
		}
	}
}

func TestScheduler_SubscribeOffersAndEveryCall(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	c := newFakeCluster(t)
	a := c.start("A", false)
	s, errc := startScheduler(t, SchedulerConfig{Options: testOptions(a.url), Framework: testFramework()})

	sub := wait(t, a.subscribes, "SUBSCRIBE")
	if sub.FrameworkID != "" || sub.Subscribe.FrameworkInfo.Name != "test-framework" {
		t.Fatalf("first SUBSCRIBE: framework_id %q, info %+v", sub.FrameworkID, sub.Subscribe.FrameworkInfo)
	}
	id := subscribed(t, s)
	if s.FrameworkID() != id {
		t.Errorf("FrameworkID() = %q, SUBSCRIBED said %q", s.FrameworkID(), id)
	}
	if st := s.Status(); !st.Subscribed || st.Master != a.url || st.StreamID == "" {
		t.Errorf("status after SUBSCRIBED: %+v", st)
	}

	offers := a.sendOffers(t, id, 2)
	ev := nextEvent(t, s.Events())
	if ev.Type != mesos.EventOffers || len(ev.Offers.Offers) != 2 || ev.Offers.Offers[0].ID != offers[0].ID {
		t.Fatalf("want the 2 offers, got %s %+v", ev.Type, ev.Offers)
	}
	task := mesos.TaskInfo{Name: "web", TaskID: "web.1", AgentID: offers[0].AgentID,
		Resources: offers[0].Resources, Command: &mesos.CommandInfo{Value: "sleep 10"}}
	if err := s.Launch(ctx, []mesos.OfferID{offers[0].ID}, []mesos.TaskInfo{task}, nil); err != nil {
		t.Fatalf("launch: %v", err)
	}
	acc := nextCall(t, a, mesos.CallAccept)
	if acc.call.FrameworkID != id || acc.call.Accept.Operations[0].Launch.TaskInfos[0].TaskID != "web.1" {
		t.Errorf("ACCEPT as received: %s", acc.raw)
	}
	if err := s.Decline(ctx, []mesos.OfferID{offers[1].ID}, mesos.RefuseFor(30)); err != nil {
		t.Fatalf("decline: %v", err)
	}
	dec := nextCall(t, a, mesos.CallDecline)
	mustContain(t, dec.raw, `"refuse_seconds":30`)

	status := a.sendUpdate(t, id, "web.1", mesos.TaskRunning)
	ev = nextEvent(t, s.Events())
	if ev.Type != mesos.EventUpdate || ev.Update.Status.State != mesos.TaskRunning {
		t.Fatalf("want UPDATE TASK_RUNNING, got %s", ev.Type)
	}
	grace := mesos.DurationInfoOf(3 * time.Second)
	calls := []struct {
		typ   mesos.CallType
		do    func() error
		check func(rc recordedCall) bool
	}{
		{mesos.CallAcknowledge, func() error { return s.Acknowledge(ctx, ev.Update.Status) },
			func(rc recordedCall) bool {
				a := rc.call.Acknowledge
				return a.TaskID == "web.1" && a.AgentID == fakeAgent && string(a.UUID) == string(status.UUID)
			}},
		{mesos.CallRevive, func() error { return s.Revive(ctx, "eng") },
			func(rc recordedCall) bool { return slices.Equal(rc.call.Revive.Roles, []string{"eng"}) }},
		{mesos.CallSuppress, func() error { return s.Suppress(ctx) },
			func(rc recordedCall) bool { return len(rc.call.Suppress.Roles) == 0 }},
		{mesos.CallKill, func() error { return s.Kill(ctx, "web.1", fakeAgent) },
			func(rc recordedCall) bool { return rc.call.Kill.TaskID == "web.1" && rc.call.Kill.AgentID == fakeAgent }},
		{mesos.CallKill, func() error {
			return s.KillWithPolicy(ctx, "web.1", "", &mesos.KillPolicy{GracePeriod: grace})
		}, func(rc recordedCall) bool { return rc.call.Kill.KillPolicy.GracePeriod.Duration() == 3*time.Second }},
		{mesos.CallShutdown, func() error { return s.Shutdown(ctx, "exec-1", fakeAgent) },
			func(rc recordedCall) bool { return rc.call.Shutdown.ExecutorID == "exec-1" }},
		{mesos.CallReconcile, func() error { return s.Reconcile(ctx) },
			func(rc recordedCall) bool { return strings.Contains(rc.raw, `"reconcile":{}`) }},
		{mesos.CallReconcile, func() error { return s.Reconcile(ctx, mesos.ReconcileTask{TaskID: "web.1"}) },
			func(rc recordedCall) bool { return len(rc.call.Reconcile.Tasks) == 1 }},
		{mesos.CallMessage, func() error { return s.Message(ctx, fakeAgent, "exec-1", []byte("hi")) },
			func(rc recordedCall) bool { return strings.Contains(rc.raw, `"data":"aGk="`) }},
		{mesos.CallRequest, func() error {
			return s.Request(ctx, mesos.ResourceRequest{Resources: mesos.MustParseResources("cpus:2")})
		}, func(rc recordedCall) bool { return len(rc.call.Request.Requests) == 1 }},
		{mesos.CallAcceptInverseOffers, func() error { return s.AcceptInverseOffers(ctx, []mesos.OfferID{"io-1"}, nil) },
			func(rc recordedCall) bool { return rc.call.AcceptInverseOffers.InverseOfferIDs[0] == "io-1" }},
		{mesos.CallDeclineInverseOffers, func() error {
			return s.DeclineInverseOffers(ctx, []mesos.OfferID{"io-2"}, mesos.RefuseFor(1))
		}, func(rc recordedCall) bool { return rc.call.DeclineInverseOffers.InverseOfferIDs[0] == "io-2" }},
		{mesos.CallUpdateFramework, func() error {
			info := testFramework()
			info.Name = "renamed"
			return s.UpdateFramework(ctx, info, []string{"eng"})
		}, func(rc recordedCall) bool {
			u := rc.call.UpdateFramework
			return u.FrameworkInfo.ID == id && u.FrameworkInfo.Name == "renamed" && slices.Equal(u.SuppressedRoles, []string{"eng"})
		}},
	}
	for _, tc := range calls {
		if err := tc.do(); err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		rc := nextCall(t, a, tc.typ)
		if rc.call.FrameworkID != id || !tc.check(rc) {
			t.Errorf("%s as received: %s", tc.typ, rc.raw)
		}
	}
	// An update without a UUID needs no acknowledgement.
	if err := s.Acknowledge(ctx, &mesos.TaskStatus{TaskID: "web.1", State: mesos.TaskRunning}); err != nil {
		t.Errorf("acknowledge without uuid: %v", err)
	}

	if err := s.Teardown(ctx); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	nextCall(t, a, mesos.CallTeardown)
	drainEvents(t, s.Events())
	if err := wait(t, errc, "Run to return"); err != nil {
		t.Errorf("Run after TEARDOWN: %v", err)
	}
	select {
	case c := <-a.calls:
		t.Errorf("unexpected call %s", c.raw)
	default:
	}

	// A torn-down framework cannot come back: the master says so in an
	// ERROR event, and Run gives up.
	again, againErrc := startScheduler(t, SchedulerConfig{Options: testOptions(a.url), Framework: withID(id)})
	var fe *FrameworkError
	if err := wait(t, againErrc, "Run to give up"); !errors.As(err, &fe) || fe.Message != "Framework has been removed" {
		t.Errorf("resubscribing a removed framework: %v", err)
	}
	if evs := drainEvents(t, again.Events()); len(evs) != 1 || evs[0].Type != mesos.EventError {
		t.Errorf("events of a removed framework: %d", len(evs))
	}
}

func withID(id mesos.FrameworkID) *mesos.FrameworkInfo {
	f := testFramework()
	f.ID = id
	return f
}

// A consumer that stops reading events, with the stream backed up behind
// it, can still acknowledge: calls never wait on the event stream.
func TestScheduler_AcknowledgeWhileConsumerBlocked(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	c := newFakeCluster(t)
	a := c.start("A", false)
	cfg := SchedulerConfig{Options: testOptions(a.url), Framework: testFramework(), EventBuffer: 1}
	s, _ := startScheduler(t, cfg)
	id := subscribed(t, s)

	first := a.sendUpdate(t, id, "t-0", mesos.TaskRunning)
	// Then far more than the channel and the sockets hold: offers padded to
	// 4 KiB each, 16 MiB in all.
	fw := a.framework(t, id)
	pad := strings.Repeat("x", 4096)
	const flood = 4000
	for i := range flood {
		fw.events <- &mesos.Event{Type: mesos.EventOffers, Offers: &mesos.Offers{Offers: []mesos.Offer{{
			ID: mesos.OfferID("flood-" + string(rune('a'+i%26))), FrameworkID: id, AgentID: fakeAgent, Hostname: pad}}}}
	}
	ev := nextEvent(t, s.Events())
	if ev.Type != mesos.EventUpdate {
		t.Fatalf("want the UPDATE first, got %s", ev.Type)
	}
	// The consumer is "busy" with this event and reads nothing more until
	// its acknowledgement is answered.
	if err := s.Acknowledge(ctx, ev.Update.Status); err != nil {
		t.Fatalf("acknowledge while the stream is backed up: %v", err)
	}
	ack := nextCall(t, a, mesos.CallAcknowledge)
	if string(ack.call.Acknowledge.UUID) != string(first.UUID) {
		t.Errorf("acknowledged the wrong update: %s", ack.raw)
	}
	t.Logf("%d events still queued at the master when the ACK was answered", len(fw.events))
	// Now the consumer catches up and receives everything, in order.
	n := 0
	for n < flood {
		if ev := nextEvent(t, s.Events()); ev.Type == mesos.EventOffers {
			n++
		}
	}
}

// A master that goes silent (hung or partitioned) is abandoned after the
// allowed number of missed heartbeats, and the client resubscribes with its
// framework ID.
func TestScheduler_MissedHeartbeatsReconnect(t *testing.T) {
	checkLeaks(t)
	c := newFakeCluster(t)
	a := c.start("A", false)
	a.heartbeat = 0.02
	opts := testOptions(a.url)
	opts.MissedHeartbeats = 3
	s, _ := startScheduler(t, SchedulerConfig{Options: opts, Framework: testFramework()})
	wait(t, a.subscribes, "first SUBSCRIBE")
	id := subscribed(t, s)

	a.muteStreams()
	again := wait(t, a.subscribes, "SUBSCRIBE after missed heartbeats")
	if again.FrameworkID != id || again.Subscribe.FrameworkInfo.ID != id {
		t.Errorf("resubscribed as %q (info id %q), want %q", again.FrameworkID, again.Subscribe.FrameworkInfo.ID, id)
	}
	if got := subscribed(t, s); got != id {
		t.Errorf("second SUBSCRIBED for %q, want %q", got, id)
	}
	if st := s.Status(); !errors.Is(st.LastError, ErrNoHeartbeat) {
		t.Errorf("last error %v, want ErrNoHeartbeat", st.LastError)
	}
	// The new stream works: calls carry its stream ID.
	if err := s.Revive(context.Background()); err != nil {
		t.Fatalf("revive on the new stream: %v", err)
	}
	nextCall(t, a, mesos.CallRevive)
}

// The leader dies; the detector names the new one; the client resubscribes
// there with the framework's ID, and its calls follow.
func TestScheduler_FailoverToNewLeader(t *testing.T) {
	checkLeaks(t)
	c := newFakeCluster(t)
	a := c.start("A", false)
	b := c.start("B", false)
	leaders := make(chan string, 1)
	leaders <- a.url
	opts := testOptions("")
	opts.Detector = Follow(leaders, func(u string) (string, error) { return u, nil })
	s, _ := startScheduler(t, SchedulerConfig{Options: opts, Framework: testFramework()})
	id := subscribed(t, s)
	if err := s.Suppress(context.Background()); err != nil {
		t.Fatal(err)
	}
	nextCall(t, a, mesos.CallSuppress)

	c.setLeader(b)
	leaders <- b.url
	a.kill()

	sub := wait(t, b.subscribes, "SUBSCRIBE at the new leader")
	if sub.FrameworkID != id || sub.Subscribe.FrameworkInfo.ID != id {
		t.Errorf("resubscribed as %q (info id %q), want %q", sub.FrameworkID, sub.Subscribe.FrameworkInfo.ID, id)
	}
	if !slices.Equal(sub.Subscribe.SuppressedRoles, []string{"eng"}) {
		t.Errorf("resubscribed with suppressed roles %v, want the suppressed [eng]", sub.Subscribe.SuppressedRoles)
	}
	if got := subscribed(t, s); got != id {
		t.Errorf("SUBSCRIBED from B for %q, want %q", got, id)
	}
	if st := s.Status(); st.Master != b.url {
		t.Errorf("subscribed at %s, want %s", st.Master, b.url)
	}
	if err := s.Revive(context.Background()); err != nil {
		t.Fatalf("revive at the new leader: %v", err)
	}
	nextCall(t, b, mesos.CallRevive)
}

// A list of masters: the first is dead, the second a standby that
// redirects to the leader, where the client subscribes and then sends its
// calls directly.
func TestScheduler_MasterListAndRedirect(t *testing.T) {
	checkLeaks(t)
	c := newFakeCluster(t)
	a := c.start("A", false)
	b := c.start("B", false) // standby
	s, _ := startScheduler(t, SchedulerConfig{
		Options: testOptions(deadAddress(t) + "," + b.url), Framework: testFramework()})
	wait(t, a.subscribes, "SUBSCRIBE at the leader")
	id := subscribed(t, s)
	if b.redirects.Load() == 0 {
		t.Errorf("the standby redirected nothing")
	}
	if st := s.Status(); st.Master != a.url {
		t.Errorf("subscribed at %s, want the leader %s", st.Master, a.url)
	}
	before := b.requests.Load()
	offers := a.sendOffers(t, id, 1)
	nextEvent(t, s.Events())
	if err := s.Decline(context.Background(), []mesos.OfferID{offers[0].ID}, nil); err != nil {
		t.Fatal(err)
	}
	nextCall(t, a, mesos.CallDecline)
	if after := b.requests.Load(); after != before {
		t.Errorf("a call went through the standby (%d requests before, %d after)", before, after)
	}
}

func TestScheduler_Errors(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	c := newFakeCluster(t)
	a := c.start("A", false)

	t.Run("not subscribed yet", func(t *testing.T) {
		s, err := NewScheduler(SchedulerConfig{Options: testOptions(a.url), Framework: testFramework()})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.Revive(ctx)
		if !errors.Is(err, ErrNotSubscribed) {
			t.Errorf("call before Run: %v, want ErrNotSubscribed", err)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			t.Errorf("call before Run reached the master: %v", err)
		}
	})

	s, errc := startScheduler(t, SchedulerConfig{Options: testOptions(a.url), Framework: testFramework()})
	id := subscribed(t, s)

	t.Run("400 plain text", func(t *testing.T) {
		err := s.Acknowledge(ctx, &mesos.TaskStatus{TaskID: "t", AgentID: fakeAgent, UUID: []byte("abc")})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || !errors.Is(err, ErrBadRequest) {
			t.Fatalf("short uuid: %v, want a 400 APIError", err)
		}
		mustContain(t, apiErr.Message, "acknowledge.uuid")
		if apiErr.URL != a.url+schedulerPath {
			t.Errorf("error URL %q", apiErr.URL)
		}
	})
	t.Run("400 JSON", func(t *testing.T) {
		err := s.Decline(ctx, []mesos.OfferID{"no-such-offer"}, nil)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
			t.Fatalf("unknown offer: %v, want a 400 APIError", err)
		}
		if apiErr.Message != "unknown offer" || len(apiErr.Details) != 1 {
			t.Errorf("message %q details %q", apiErr.Message, apiErr.Details)
		}
		mustContain(t, apiErr.Details[0], "decline.offer_ids[0]")
	})
	t.Run("403", func(t *testing.T) {
		a.forgetStream(t, id)
		err := s.Revive(ctx)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || !errors.Is(err, ErrNotSubscribed) {
			t.Fatalf("call of a framework the master thinks disconnected: %v, want 403 ErrNotSubscribed", err)
		}
		mustContain(t, err.Error(), "Framework is not subscribed")
	})
	t.Run("ERROR event ends Run", func(t *testing.T) {
		// Another instance of the framework takes over.
		other, otherErrc := startScheduler(t, SchedulerConfig{Options: testOptions(a.url), Framework: withID(id)})
		if got := subscribed(t, other); got != id {
			t.Fatalf("other instance subscribed as %q", got)
		}
		evs := drainEvents(t, s.Events())
		if len(evs) == 0 || evs[len(evs)-1].Type != mesos.EventError {
			t.Fatalf("last event is not ERROR: %d events", len(evs))
		}
		var fe *FrameworkError
		if err := wait(t, errc, "Run to return"); !errors.As(err, &fe) || fe.Message != "Framework failed over" {
			t.Errorf("Run returned %v, want FrameworkError", err)
		}
		if err := other.Close(); err != nil {
			t.Error(err)
		}
		if err := wait(t, otherErrc, "Run to return"); err != nil {
			t.Errorf("Run after Close: %v", err)
		}
	})
	t.Run("SUBSCRIBE rejected", func(t *testing.T) {
		bad := testFramework()
		bad.Role = "-bad"
		_, errc := startScheduler(t, SchedulerConfig{Options: testOptions(a.url), Framework: bad})
		err := wait(t, errc, "Run to give up")
		if !errors.Is(err, ErrBadRequest) {
			t.Fatalf("Run with an invalid role: %v, want 400", err)
		}
		mustContain(t, err.Error(), "framework_info.role")
	})
}

// With no leader the master answers 503; the client keeps trying and
// subscribes once a leader is elected.
func TestScheduler_NoLeaderThenLeader(t *testing.T) {
	checkLeaks(t)
	c := newFakeCluster(t)
	a := c.start("A", false)
	c.setLeader(nil)
	s, _ := startScheduler(t, SchedulerConfig{Options: testOptions(a.url), Framework: testFramework()})
	deadline := time.Now().Add(15 * time.Second)
	for !errors.Is(s.Status().LastError, ErrUnavailable) {
		if time.Now().After(deadline) {
			t.Fatalf("no 503 seen; last error %v", s.Status().LastError)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var apiErr *APIError
	if errors.As(s.Status().LastError, &apiErr) && apiErr.Message != "No leader elected" {
		t.Errorf("503 message %q", apiErr.Message)
	}
	c.setLeader(a)
	subscribed(t, s)
}

// The master's control socket: the same API over a Unix socket.
func TestScheduler_UnixSocket(t *testing.T) {
	checkLeaks(t)
	dir, err := os.MkdirTemp("", "strata-client")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := newFakeCluster(t)
	a := c.startUnix("A", filepath.Join(dir, "master.sock"))
	s, _ := startScheduler(t, SchedulerConfig{Options: testOptions(a.url), Framework: testFramework()})
	id := subscribed(t, s)
	if st := s.Status(); st.Master != a.url {
		t.Errorf("status shows master %q, want %q", st.Master, a.url)
	}
	offers := a.sendOffers(t, id, 1)
	nextEvent(t, s.Events())
	task := mesos.TaskInfo{Name: "t", TaskID: "t1", AgentID: fakeAgent, Resources: offers[0].Resources,
		Command: &mesos.CommandInfo{Value: "true"}}
	if err := s.Launch(context.Background(), []mesos.OfferID{offers[0].ID}, []mesos.TaskInfo{task}, nil); err != nil {
		t.Fatal(err)
	}
	nextCall(t, a, mesos.CallAccept)
}

// Close stops Run whatever it is doing, and Run cannot start afterwards.
func TestScheduler_CloseStopsRun(t *testing.T) {
	checkLeaks(t)
	// A master that never answers: Run is stuck connecting.
	s, errc := startScheduler(t, SchedulerConfig{Options: testOptions(deadAddress(t)), Framework: testFramework()})
	deadline := time.Now().Add(15 * time.Second)
	for s.Status().LastError == nil { // Run is retrying
		if time.Now().After(deadline) {
			t.Fatal("Run never tried to connect")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, errc, "Run to return"); err != nil {
		t.Errorf("Run after Close: %v", err)
	}
	if _, ok := <-s.Events(); ok {
		t.Error("events channel open after Close")
	}
	if err := s.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
}
