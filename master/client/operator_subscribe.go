package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/strata-dc/strata/master/mesos"
)

// OperatorUpdate is one item of an operator subscription: an event from the
// master, or (Err set, Event nil) word that the stream is down.
//
// After such a notice the client reconnects, possibly to a new leader, and
// the next event is a fresh SUBSCRIBED carrying a full snapshot: rebuild
// the view from it, because the deltas in between are lost. While
// reconnection keeps failing, each failed attempt is reported too. If the
// channel closes right after a notice, Err is why the subscription ended
// for good (a 4xx answer); it closes without a notice when ctx ends or the
// client is closed.
type OperatorUpdate struct {
	Event *mesos.OperatorEvent
	Err   error
}

// Subscribe opens the operator event stream: SUBSCRIBED with the state
// snapshot, then TASK_ADDED, TASK_UPDATED, AGENT_ADDED, ... and HEARTBEATs.
// opts (nil for none) is Strata's opt-in for offer events (OFFER_SENT,
// OFFER_ACCEPTED, OFFER_DECLINED, OFFER_RESCINDED); Mesos masters ignore it.
//
// The first connection is made before Subscribe returns, so an unreachable
// master or a refused subscription is reported at once; afterwards the
// stream is kept up until ctx ends or the client is closed.
func (o *Operator) Subscribe(ctx context.Context, opts *mesos.SubscribeOptions) (<-chan OperatorUpdate, error) {
	const what = "operator SUBSCRIBE"
	body, err := json.Marshal(&mesos.OperatorCall{Type: mesos.OperatorSubscribe, Subscribe: opts})
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", what, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(o.ctx, cancel) // Close ends the subscription
	var st *eventStream
	for range 3 { // a master that cannot be dialled: try the next one
		st, err = openStream(ctx, o.t, o.res, operatorPath, body, what, false, maxOperatorRecord)
		if err == nil || !isDialError(err) {
			break
		}
	}
	if err != nil {
		stop()
		cancel()
		if o.ctx.Err() != nil {
			return nil, ErrClosed
		}
		return nil, err
	}
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		st.close()
		stop()
		cancel()
		return nil, ErrClosed
	}
	o.wg.Add(1)
	o.mu.Unlock()
	out := make(chan OperatorUpdate, 64)
	go func() {
		defer o.wg.Done()
		defer close(out)
		defer stop()
		defer cancel()
		o.follow(ctx, st, body, out)
	}()
	return out, nil
}

// follow pumps st into out, and on failure reports the gap and reconnects
// with backoff, until ctx ends or a reconnection is refused for good.
func (o *Operator) follow(ctx context.Context, st *eventStream, body []byte, out chan<- OperatorUpdate) {
	const what = "operator SUBSCRIBE"
	send := func(u OperatorUpdate) bool {
		select {
		case out <- u:
			return true
		case <-ctx.Done():
			return false
		}
	}
	attempt := 0
	for {
		subscribed, err := o.pump(ctx, st, send)
		st.close()
		o.res.failed(st.leader)
		if ctx.Err() != nil || !send(OperatorUpdate{Err: err}) {
			return
		}
		if subscribed {
			attempt = 0
		}
		for {
			d := o.opts.Backoff.Delay(attempt)
			attempt++
			o.opts.Logger.Warn("operator subscription lost; resubscribing", "err", err, "retry_in", d)
			if sleepCtx(ctx, d) != nil {
				return
			}
			st, err = openStream(ctx, o.t, o.res, operatorPath, body, what, false, maxOperatorRecord)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			var apiErr *APIError
			final := errors.As(err, &apiErr) && !apiErr.temporary()
			if !send(OperatorUpdate{Err: err}) || final {
				return
			}
		}
	}
}

// pump delivers the events of one stream until it breaks, and reports
// whether SUBSCRIBED arrived.
func (o *Operator) pump(ctx context.Context, st *eventStream, send func(OperatorUpdate) bool) (subscribed bool, err error) {
	for {
		rec, err := st.next()
		if err != nil {
			return subscribed, err
		}
		ev := new(mesos.OperatorEvent)
		if err := json.Unmarshal(rec, ev); err != nil {
			// A delta we cannot read would leave the consumer's view
			// wrong: start over from a new snapshot.
			return subscribed, fmt.Errorf("operator event from %s: %w", o.t.displayURL(st.url), err)
		}
		if !subscribed {
			if ev.Type != mesos.OperatorEventSubscribed {
				return false, fmt.Errorf("operator SUBSCRIBE at %s: first event is %s, not SUBSCRIBED", o.t.displayURL(st.url), ev.Type)
			}
			interval := 0.0
			if ev.Subscribed != nil {
				interval = ev.Subscribed.HeartbeatIntervalSeconds
			}
			st.setLimit(heartbeatLimit(interval, o.opts.MissedHeartbeats))
			subscribed = true
		}
		if !send(OperatorUpdate{Event: ev}) {
			return subscribed, ctx.Err()
		}
	}
}
