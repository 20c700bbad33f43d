package marathon

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEventBusFilter: a subscriber gets only the types it asked for, each
// as one SSE record whose one-line JSON carries eventType and timestamp.
func TestEventBusFilter(t *testing.T) {
	b := newEventBus()
	all := b.subscribe(nil)
	some := b.subscribe([]string{"deployment_success,status_update_event", " app_terminated_event "})
	b.publish(event{"eventType": "deployment_info", "plan": map[string]any{"id": "d1"}})
	b.publish(event{"eventType": "deployment_success", "id": "d1"})
	b.publish(event{"eventType": "app_terminated_event", "appId": "/a"})
	if n := len(all.ch); n != 3 {
		t.Fatalf("unfiltered subscriber got %d events, want 3", n)
	}
	var got []string
	for len(some.ch) > 0 {
		msg := string(<-some.ch)
		head, data, ok := strings.Cut(msg, "\ndata: ")
		if !ok || !strings.HasPrefix(head, "event: ") || !strings.HasSuffix(data, "\n\n") || strings.Count(data, "\n") != 2 {
			t.Fatalf("not one SSE record: %q", msg)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(data)), &e); err != nil || e["timestamp"] == nil {
			t.Fatalf("data %q: %v", data, err)
		}
		if e["eventType"] != strings.TrimPrefix(head, "event: ") {
			t.Errorf("event line %q, eventType %v", head, e["eventType"])
		}
		got = append(got, e["eventType"].(string))
	}
	if strings.Join(got, ",") != "deployment_success,app_terminated_event" {
		t.Errorf("filtered subscriber got %v", got)
	}
}

// TestEventBusDropsSlowSubscriber: one that stops reading is cut off
// rather than slowing the publisher.
func TestEventBusDropsSlowSubscriber(t *testing.T) {
	b := newEventBus()
	s := b.subscribe(nil)
	for range cap(s.ch) + 1 {
		b.publish(event{"eventType": "status_update_event"})
	}
	select {
	case <-s.gone:
	default:
		t.Fatal("a full subscriber is still subscribed")
	}
	b.unsubscribe(s) // harmless after the drop
	b.close()
	if late := b.subscribe(nil); late == nil {
		t.Fatal("subscribe after close returned nil")
	} else {
		select {
		case <-late.gone:
		default:
			t.Fatal("a subscriber after close is not ended")
		}
	}
}
