package marathon

import (
	"sync"

	"github.com/strata-dc/strata/master/mesos"
)

// eventQueue reads the master's events as fast as the scheduler client
// decodes them and holds them, however many, until the leader loop takes
// them in one go. Marathon thus never stalls the master's event stream
// while it stores a batch of updates or launches tasks: a stalled stream
// fills the master's per-subscriber buffer (1,024 records), and the master
// then drops the subscription.
type eventQueue struct {
	mu     sync.Mutex
	queue  []*mesos.Event
	closed bool
	// ready holds a token while the queue has events (or has closed) that
	// nobody took yet.
	ready chan struct{}
	done  chan struct{} // closed when the reader returns
}

// pumpEvents starts the reader of in. It returns once in is closed (the
// scheduler client closes it when it stops), so the owner stops it by
// closing the client, then waits for done.
func pumpEvents(in <-chan *mesos.Event) *eventQueue {
	q := &eventQueue{ready: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(q.done)
		for ev := range in {
			q.mu.Lock()
			q.queue = append(q.queue, ev)
			q.mu.Unlock()
			q.signal()
		}
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		q.signal()
	}()
	return q
}

func (q *eventQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take removes up to limit events, oldest first, and reports whether more
// may come. When events remain the queue stays ready, so the leader loop
// serves its other work (ticks, the API's lock) between large batches.
func (q *eventQueue) take(limit int) (evs []*mesos.Event, open bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.queue), limit)
	evs = q.queue[:n:n]
	q.queue = q.queue[n:]
	if len(q.queue) == 0 {
		q.queue = nil // let the backing array go
	} else {
		q.signal()
	}
	return evs, !q.closed || len(q.queue) > 0
}

// wait waits for the reader to return.
func (q *eventQueue) wait() { <-q.done }
