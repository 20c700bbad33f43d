package master_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/mesos/recordio"
)

// testScheduler is a framework written only against the JSON scheduler
// API: raw HTTP and RecordIO, as a Mesos v1 framework in any language
// would be. It follows the leader by trying each master (standbys answer
// 307, which Go's client follows for a POST with a replayable body).
type testScheduler struct {
	t       *testing.T
	masters []string
	info    mesos.FrameworkInfo
	client  *http.Client

	mu     sync.Mutex
	base   string // the leader answering the current subscription
	stream string
	events chan *mesos.Event // closed when the stream ends
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newTestScheduler(t *testing.T, masters []string, info mesos.FrameworkInfo) *testScheduler {
	s := &testScheduler{t: t, masters: masters, info: info, client: &http.Client{}}
	t.Cleanup(s.close)
	return s
}

func (s *testScheduler) close() {
	s.mu.Lock()
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
}

// subscribe (re)subscribes, trying the masters until one streams, and
// returns the SUBSCRIBED event.
func (s *testScheduler) subscribe(deadline time.Duration) *mesos.Subscribed {
	s.t.Helper()
	s.close()
	end := time.Now().Add(deadline)
	for i := 0; time.Now().Before(end); i++ {
		master := s.masters[i%len(s.masters)]
		call := &mesos.Call{Type: mesos.CallSubscribe, FrameworkID: s.info.ID, Subscribe: &mesos.Subscribe{FrameworkInfo: &s.info}}
		body, _ := json.Marshal(call)
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, master+"/api/v1/scheduler", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := s.client.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			if resp != nil {
				resp.Body.Close()
			}
			cancel()
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			s.t.Fatalf("SUBSCRIBE Content-Type %q", ct)
		}
		events := make(chan *mesos.Event, 1024)
		s.mu.Lock()
		s.base = resp.Request.URL.Scheme + "://" + resp.Request.URL.Host
		s.stream = resp.Header.Get("Mesos-Stream-Id")
		s.events = events
		s.cancel = cancel
		s.mu.Unlock()
		s.wg.Add(1)
		go func() { // owned by s: close() cancels and waits
			defer s.wg.Done()
			defer close(events)
			defer resp.Body.Close()
			r := recordio.NewReader(resp.Body, 0)
			for {
				var ev mesos.Event
				if err := r.Decode(&ev); err != nil {
					return
				}
				select {
				case events <- &ev:
				case <-ctx.Done():
					return
				}
			}
		}()
		ev := s.next(10*time.Second, func(ev *mesos.Event) bool { return ev.Type == mesos.EventSubscribed })
		if ev == nil {
			continue
		}
		s.info.ID = ev.Subscribed.FrameworkID
		return ev.Subscribed
	}
	s.t.Fatalf("could not subscribe to any of %v", s.masters)
	return nil
}

// next returns the next event matching want, skipping others; nil when the
// stream ends or the wait times out.
func (s *testScheduler) next(timeout time.Duration, want func(*mesos.Event) bool) *mesos.Event {
	s.mu.Lock()
	events := s.events
	s.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if want(ev) {
				return ev
			}
		case <-timer.C:
			return nil
		}
	}
}

// call POSTs a call on the subscription's behalf and returns the status
// and body.
func (s *testScheduler) call(c *mesos.Call) (int, string) {
	s.t.Helper()
	s.mu.Lock()
	base, stream := s.base, s.stream
	s.mu.Unlock()
	c.FrameworkID = s.info.ID
	body, _ := json.Marshal(c)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mesos-Stream-Id", stream)
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s: %v", c.Type, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *testScheduler) mustCall(c *mesos.Call) {
	s.t.Helper()
	if code, body := s.call(c); code != http.StatusAccepted {
		s.t.Fatalf("%s: %d %s", c.Type, code, body)
	}
}

// ack acknowledges an update that asks for it.
func (s *testScheduler) ack(st *mesos.TaskStatus) {
	s.t.Helper()
	if st.UUID == nil {
		return
	}
	s.mustCall(&mesos.Call{Type: mesos.CallAcknowledge, Acknowledge: &mesos.Acknowledge{
		AgentID: st.AgentID, TaskID: st.TaskID, UUID: st.UUID}})
}

// launchOne waits for an offer, launches one task on it and declines the
// rest of what it was offered.
func (s *testScheduler) launchOne(id mesos.TaskID, res string) mesos.AgentID {
	s.t.Helper()
	ev := s.next(20*time.Second, func(ev *mesos.Event) bool { return ev.Type == mesos.EventOffers })
	if ev == nil {
		s.t.Fatal("no offers")
	}
	o := ev.Offers.Offers[0]
	ti := mesos.TaskInfo{Name: string(id), TaskID: id, AgentID: o.AgentID, Resources: mesos.MustParseResources(res),
		Command: &mesos.CommandInfo{Value: "sleep 1"}}
	s.mustCall(&mesos.Call{Type: mesos.CallAccept, Accept: &mesos.Accept{OfferIDs: []mesos.OfferID{o.ID},
		Operations: []mesos.OfferOperation{{Type: mesos.OperationLaunch, Launch: &mesos.Launch{TaskInfos: []mesos.TaskInfo{ti}}}}}})
	for _, other := range ev.Offers.Offers[1:] {
		s.mustCall(&mesos.Call{Type: mesos.CallDecline, Decline: &mesos.Decline{OfferIDs: []mesos.OfferID{other.ID}}})
	}
	return o.AgentID
}

// update waits for an UPDATE of task in state.
func (s *testScheduler) update(task mesos.TaskID, timeout time.Duration, states ...mesos.TaskState) *mesos.TaskStatus {
	s.t.Helper()
	ev := s.next(timeout, func(ev *mesos.Event) bool {
		if ev.Type != mesos.EventUpdate || ev.Update.Status.TaskID != task {
			return false
		}
		for _, st := range states {
			if ev.Update.Status.State == st {
				return true
			}
		}
		return false
	})
	if ev == nil {
		s.t.Fatalf("no update of %s to %v", task, states)
	}
	return ev.Update.Status
}

func describeStatus(st *mesos.TaskStatus) string {
	return fmt.Sprintf("%s %s (%s)", st.TaskID, st.State, st.Reason)
}
