package marathon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// ackWorkers is how many acknowledgements may be in flight at once. The
// master forwards a task's next update only once the previous one is
// acknowledged, so acknowledgement latency is on every deployment's path:
// sent one at a time, 20,000 of them (10,000 instances, STARTING and
// RUNNING) would take seconds on their own.
const ackWorkers = 8

// acknowledger is what acks need of the scheduler client.
type acknowledger interface {
	Acknowledge(ctx context.Context, status *mesos.TaskStatus) error
}

// acker sends acknowledgements off the leader loop, by a few workers that
// live as long as the term. Only updates already stored are handed to it:
// an acknowledged update is never lost to a failover. Those still queued
// when the term ends are dropped; the master sends them again to the next
// leader.
type acker struct {
	ctx   context.Context
	sched acknowledger
	log   *slog.Logger

	mu    sync.Mutex
	queue []*mesos.TaskStatus
	wake  chan struct{} // holds a token while the queue has work
	wg    sync.WaitGroup
}

// startAcker starts the workers; they stop when ctx ends (wait for them).
func startAcker(ctx context.Context, sched acknowledger, log *slog.Logger) *acker {
	a := &acker{ctx: ctx, sched: sched, log: log, wake: make(chan struct{}, 1)}
	for range ackWorkers {
		a.wg.Add(1)
		go a.work()
	}
	return a
}

// add queues acknowledgements of stored updates (those without a UUID
// need none).
func (a *acker) add(statuses ...*mesos.TaskStatus) {
	a.mu.Lock()
	for _, s := range statuses {
		if len(s.UUID) > 0 {
			a.queue = append(a.queue, s)
		}
	}
	n := len(a.queue)
	a.mu.Unlock()
	if n > 0 {
		a.signal()
	}
}

func (a *acker) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *acker) work() {
	defer a.wg.Done()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-a.wake:
		}
		for a.ctx.Err() == nil {
			a.mu.Lock()
			if len(a.queue) == 0 {
				a.queue = nil
				a.mu.Unlock()
				break
			}
			s := a.queue[0]
			a.queue = a.queue[1:]
			more := len(a.queue) > 0
			a.mu.Unlock()
			if more {
				a.signal() // another worker joins in
			}
			ctx, cancel := context.WithTimeout(a.ctx, 15*time.Second)
			if err := a.sched.Acknowledge(ctx, s); err != nil && a.ctx.Err() == nil {
				a.log.Warn("acknowledge", "task", s.TaskID, "state", s.State, "err", err)
			}
			cancel()
		}
	}
}

// wait waits for the workers, once the term's context has ended.
func (a *acker) wait() { a.wg.Wait() }
