package marathon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/strata-dc/strata/marathon/app"
)

// event is one Marathon event: a JSON object with eventType and timestamp.
type event map[string]any

// eventBus fans events out to /v2/events subscribers. A subscriber that
// falls too far behind is dropped (its stream ends) rather than slowing
// the scheduler.
type eventBus struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	ch     chan []byte
	filter map[string]bool // empty: all
	gone   chan struct{}
}

func newEventBus() *eventBus { return &eventBus{subs: map[*subscriber]struct{}{}} }

func (b *eventBus) publish(e event) {
	if _, ok := e["timestamp"]; !ok {
		e["timestamp"] = app.FormatVersion(time.Now())
	}
	typ, _ := e["eventType"].(string)
	data, err := json.Marshal(e)
	if err != nil {
		return
	}
	msg := fmt.Appendf(nil, "event: %s\ndata: %s\n\n", typ, data)
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if len(s.filter) > 0 && !s.filter[typ] {
			continue
		}
		select {
		case s.ch <- msg:
		default:
			delete(b.subs, s)
			close(s.gone)
		}
	}
}

// subscriberBuffer is how many events a subscriber may fall behind before
// it is dropped. A large deployment publishes in bursts (a status event
// per instance of a batch: 10,000 TASK_STAGING as one offer round
// launches them), which a reader that keeps up on average must be able to
// absorb; the cost is a slice header per slot (384 KiB per subscriber).
const subscriberBuffer = 16384

func (b *eventBus) subscribe(filter []string) *subscriber {
	s := &subscriber{ch: make(chan []byte, subscriberBuffer), filter: map[string]bool{}, gone: make(chan struct{})}
	for _, f := range filter {
		for _, t := range strings.Split(f, ",") {
			if t = strings.TrimSpace(t); t != "" {
				s.filter[t] = true
			}
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.gone)
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

func (b *eventBus) unsubscribe(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.gone)
	}
}

// close ends every stream (the daemon is stopping).
func (b *eventBus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.gone)
	}
}

// handleEvents is GET /v2/events: Server-Sent Events, optionally only the
// types named by event_type (repeatable or comma-separated).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	sub := s.events.subscribe(r.URL.Query()["event_type"])
	defer s.events.unsubscribe(sub)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	s.events.publish(event{"eventType": "event_stream_attached", "remoteAddress": r.RemoteAddr})
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sub.gone:
			// Drain what was queued, then end the stream.
			for {
				select {
				case msg := <-sub.ch:
					_, _ = w.Write(msg)
				default:
					fl.Flush()
					return
				}
			}
		case msg := <-sub.ch:
			if _, err := w.Write(msg); err != nil {
				return
			}
			fl.Flush()
		case <-keepalive.C:
			if _, err := w.Write([]byte("\n")); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// statusEvent is Marathon's status_update_event for an instance.
func (s *Server) statusEvent(st *leaderState, i *Instance, state string) event {
	ports := i.Ports
	if ports == nil {
		ports = []int{}
	}
	return event{"eventType": "status_update_event", "appId": i.AppID, "taskId": i.TaskID, "instanceId": i.TaskID,
		"taskStatus": state, "slaveId": i.AgentID, "agentId": i.AgentID, "host": i.Host, "ports": ports,
		"ipAddresses": []ipAddress{}, "version": i.AppVersion, "message": ""}
}
