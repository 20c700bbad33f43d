package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// harness drives a Machine with a fake clock, makes registry writes
// durable at once (stepping their Then events) and keeps what came out.
type harness struct {
	t        *testing.T
	m        *Machine
	now      time.Time
	req      ReqID
	out      []Action // actions of the last step (and its registry feedback)
	registry map[string]any
}

func newHarness(t *testing.T, cfg Config) *harness {
	if cfg.MasterID == "" {
		cfg.MasterID = "m1"
	}
	return &harness{t: t, m: New(cfg, t0), now: t0, registry: make(map[string]any)}
}

func (h *harness) step(ev Event) []Action {
	h.out = nil
	queue := []Event{ev}
	for len(queue) > 0 {
		ev := queue[0]
		queue = queue[1:]
		for _, a := range h.m.Step(h.now, ev) {
			h.out = append(h.out, a)
			if w, ok := a.(RegistryWrite); ok {
				if w.Value == nil {
					delete(h.registry, w.Path)
				} else {
					h.registry[w.Path] = w.Value
				}
				if w.Then != nil {
					queue = append(queue, w.Then)
				}
			}
		}
	}
	checkGetStateJSON(h.t, h.m)
	return h.out
}

// checkGetStateJSON checks after every step that GET_STATE's encoder,
// which reuses tasks' cached JSON, writes exactly what encoding/json
// makes of the snapshot: a task changed without dropping its cache shows
// up here as stale bytes.
func checkGetStateJSON(t *testing.T, m *Machine) {
	t.Helper()
	s := m.Snapshot()
	got, err := s.AppendGetStateJSON(nil)
	if err != nil {
		t.Fatalf("AppendGetStateJSON: %v", err)
	}
	want, err := json.Marshal(&mesos.OperatorResponse{Type: mesos.OperatorGetState, GetState: &s.State})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("GET_STATE JSON from the task cache differs from encoding/json:\n got %s\nwant %s", got, want)
	}
}

func (h *harness) advance(d time.Duration) []Action {
	h.now = h.now.Add(d)
	return h.step(Tick{})
}

func (h *harness) nextReq() ReqID { h.req++; return h.req }

// replyOf returns the reply to req among the last actions.
func (h *harness) replyOf(req ReqID) Reply {
	h.t.Helper()
	for _, a := range h.out {
		if r, ok := a.(Reply); ok && r.Req == req {
			return r
		}
	}
	h.t.Fatalf("no reply to request %d in %s", req, describe(h.out))
	return Reply{}
}

func (h *harness) fwEvents(stream StreamID, typ mesos.EventType) []*mesos.Event {
	var out []*mesos.Event
	for _, a := range h.out {
		if s, ok := a.(SendFramework); ok && s.Stream == stream && (typ == "" || s.Event.Type == typ) {
			out = append(out, s.Event)
		}
	}
	return out
}

func (h *harness) agentEvents(stream StreamID, typ mesos.AgentEventType) []*mesos.AgentEvent {
	var out []*mesos.AgentEvent
	for _, a := range h.out {
		if s, ok := a.(SendAgent); ok && s.Stream == stream && (typ == "" || s.Event.Type == typ) {
			out = append(out, s.Event)
		}
	}
	return out
}

func (h *harness) closed(stream StreamID) bool {
	for _, a := range h.out {
		if c, ok := a.(CloseStream); ok && c.Stream == stream {
			return true
		}
	}
	return false
}

func describe(as []Action) string {
	var b strings.Builder
	for _, a := range as {
		switch a := a.(type) {
		case SendFramework:
			fmt.Fprintf(&b, "\n  fw %s: %s", a.Stream, a.Event.Type)
		case SendAgent:
			fmt.Fprintf(&b, "\n  agent %s: %s", a.Stream, a.Event.Type)
		case Reply:
			fmt.Fprintf(&b, "\n  reply %d: %d %s", a.Req, a.Status, a.Message)
		case CloseStream:
			fmt.Fprintf(&b, "\n  close %s", a.Stream)
		case RegistryWrite:
			fmt.Fprintf(&b, "\n  registry %s", a.Path)
		}
	}
	return b.String()
}

// addAgent subscribes a new agent on stream and returns its ID.
func (h *harness) addAgent(stream StreamID, resources string) mesos.AgentID {
	h.t.Helper()
	req := h.nextReq()
	h.step(AgentCall{Req: req, Stream: stream, Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe,
		Subscribe: &mesos.AgentSubscribe{AgentInfo: &mesos.AgentInfo{Hostname: "host-" + string(stream)},
			Resources: mesos.MustParseResources(resources)}}})
	if r := h.replyOf(req); r.Status != 200 {
		h.t.Fatalf("agent subscribe: %d %s", r.Status, r.Message)
	}
	evs := h.agentEvents(stream, mesos.AgentEventSubscribed)
	if len(evs) != 1 {
		h.t.Fatalf("agent subscribe: want SUBSCRIBED, got %s", describe(h.out))
	}
	return evs[0].Subscribed.AgentID
}

// subscribe subscribes a framework on stream and returns its ID.
func (h *harness) subscribe(stream StreamID, info mesos.FrameworkInfo) mesos.FrameworkID {
	h.t.Helper()
	req := h.nextReq()
	h.step(SchedulerCall{Req: req, Stream: stream, Call: &mesos.Call{Type: mesos.CallSubscribe, FrameworkID: info.ID,
		Subscribe: &mesos.Subscribe{FrameworkInfo: &info}}})
	if r := h.replyOf(req); r.Status != 200 {
		h.t.Fatalf("subscribe: %d %s", r.Status, r.Message)
	}
	evs := h.fwEvents(stream, mesos.EventSubscribed)
	if len(evs) != 1 {
		h.t.Fatalf("subscribe: want SUBSCRIBED, got %s", describe(h.out))
	}
	return evs[0].Subscribed.FrameworkID
}

// call sends a scheduler call and returns its reply.
func (h *harness) call(stream StreamID, c *mesos.Call) Reply {
	h.t.Helper()
	req := h.nextReq()
	h.step(SchedulerCall{Req: req, Stream: stream, Call: c})
	return h.replyOf(req)
}

// agentCall sends an agent call and returns its reply.
func (h *harness) agentCall(stream StreamID, c *mesos.AgentCall) Reply {
	h.t.Helper()
	req := h.nextReq()
	h.step(AgentCall{Req: req, Stream: stream, Call: c})
	return h.replyOf(req)
}

// offers ticks by d and returns the offers sent on stream.
func (h *harness) offers(stream StreamID, d time.Duration) []mesos.Offer {
	h.advance(d)
	var out []mesos.Offer
	for _, ev := range h.fwEvents(stream, mesos.EventOffers) {
		out = append(out, ev.Offers.Offers...)
	}
	return out
}

func launchCall(fw mesos.FrameworkID, o mesos.Offer, tasks ...mesos.TaskInfo) *mesos.Call {
	return &mesos.Call{Type: mesos.CallAccept, FrameworkID: fw, Accept: &mesos.Accept{
		OfferIDs: []mesos.OfferID{o.ID},
		Operations: []mesos.OfferOperation{{Type: mesos.OperationLaunch,
			Launch: &mesos.Launch{TaskInfos: tasks}}}}}
}

func taskInfo(id string, agent mesos.AgentID, res string) mesos.TaskInfo {
	return mesos.TaskInfo{Name: id, TaskID: mesos.TaskID(id), AgentID: agent,
		Resources: mesos.MustParseResources(res), Command: &mesos.CommandInfo{Value: "true"}}
}

func ptr[T any](v T) *T { return &v }

func uuidN(n byte) []byte {
	u := make([]byte, 16)
	u[15] = n
	return u
}

func statusCall(agent mesos.AgentID, fw mesos.FrameworkID, task string, state mesos.TaskState, uuid []byte) *mesos.AgentCall {
	return &mesos.AgentCall{Type: mesos.AgentCallUpdate, AgentID: agent, Update: &mesos.AgentUpdate{
		FrameworkID: fw, Status: &mesos.TaskStatus{TaskID: mesos.TaskID(task), State: state, AgentID: agent, UUID: uuid}}}
}
