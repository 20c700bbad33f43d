package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"

	"github.com/strata-dc/strata/master/mesos"
)

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	Options

	// Framework is what the scheduler subscribes with. Set Framework.ID to
	// resume an existing framework (failover); otherwise the master assigns
	// an ID, which the client then uses for every resubscription. The
	// client keeps its own copy.
	Framework *mesos.FrameworkInfo

	// SuppressedRoles start suppressed. The client then tracks SUPPRESS,
	// REVIVE and UPDATE_FRAMEWORK calls and resubscribes with the roles
	// suppressed at the time, so a reconnect does not flood the framework
	// with offers it had turned off.
	SuppressedRoles []string

	// OfferConstraints are sent with SUBSCRIBE.
	OfferConstraints *mesos.OfferConstraints

	// EventBuffer is the capacity of the Events channel (default 128).
	EventBuffer int
}

// Scheduler is a framework's connection to the master's scheduler API. Run
// subscribes and keeps the subscription alive across broken connections and
// master failovers; events arrive on Events; calls (Accept, Decline,
// Acknowledge, ...) may be made from any goroutine, including the one
// reading Events, while subscribed.
//
// Calls never wait on the event stream: they travel on their own
// connections, and while the client holds no subscription they fail at once
// with ErrNotSubscribed. The stream reader hands events over without ever
// blocking a call, and a consumer that is slow to read Events only stalls
// the stream (by TCP backpressure), without being mistaken for a dead master.
type Scheduler struct {
	opts        Options
	t           *transport
	res         *resolver
	events      chan *mesos.Event
	constraints *mesos.OfferConstraints

	mu         sync.Mutex
	info       *mesos.FrameworkInfo // our copy; ID set once known
	suppressed []string             // sorted
	sub        *subscription        // nil while not subscribed
	lastErr    error
	tornDown   bool
	started    bool
	closed     bool
	cancelRun  context.CancelFunc
	done       chan struct{} // closed when Run returns
}

// subscription is what calls need from the current SUBSCRIBED session.
type subscription struct {
	master   *url.URL // base of the master holding the stream
	streamID string
}

// SchedulerStatus is a snapshot of the client's connection.
type SchedulerStatus struct {
	Subscribed  bool              // calls can be made
	Master      string            // the master holding the subscription
	StreamID    string            // its Mesos-Stream-Id
	FrameworkID mesos.FrameworkID // "" until the first SUBSCRIBED of a new framework
	LastError   error             // why the last subscription ended or failed
}

// NewScheduler checks the configuration and prepares a client; Run starts
// it.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Framework == nil {
		return nil, errors.New("scheduler client: Framework is required")
	}
	info, err := cloneFrameworkInfo(cfg.Framework)
	if err != nil {
		return nil, fmt.Errorf("scheduler client: %w", err)
	}
	opts := cfg.Options.withDefaults()
	t := newTransport(opts)
	res, err := newResolver(t, opts)
	if err != nil {
		return nil, fmt.Errorf("scheduler client: %w", err)
	}
	buf := cfg.EventBuffer
	if buf <= 0 {
		buf = 128
	}
	return &Scheduler{
		opts:        opts,
		t:           t,
		res:         res,
		events:      make(chan *mesos.Event, buf),
		constraints: cfg.OfferConstraints,
		info:        info,
		suppressed:  sortedRoles(cfg.SuppressedRoles),
		done:        make(chan struct{}),
	}, nil
}

// Events delivers the master's events in order: SUBSCRIBED first, then
// OFFERS, UPDATE, RESCIND, HEARTBEAT, ... Every SUBSCRIBED starts a new
// session: offers received before it are void (the master rescinds them
// when a framework disconnects). An ERROR event is the last one. The
// channel is closed when Run returns.
func (s *Scheduler) Events() <-chan *mesos.Event { return s.events }

// FrameworkID is the framework's ID: the configured one, or the one the
// master assigned. Persist it to fail over to it after a restart.
func (s *Scheduler) FrameworkID() mesos.FrameworkID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.ID
}

// Status reports the connection's state.
func (s *Scheduler) Status() SchedulerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SchedulerStatus{FrameworkID: s.info.ID, LastError: s.lastErr}
	if s.sub != nil {
		st.Subscribed = true
		st.Master = s.t.displayURL(s.sub.master)
		st.StreamID = s.sub.streamID
	}
	return st
}

// Run subscribes and stays subscribed until ctx ends or Close is called
// (then it returns nil), the framework is torn down (nil), or the master
// ends the subscription for good: an ERROR event (*FrameworkError) or a
// rejected SUBSCRIBE (*APIError, e.g. 400 for a bad FrameworkInfo). Broken
// connections, missed heartbeats, 503s and master failovers are retried
// with backoff, asking the Detector for the leader again each time and
// resubscribing with the framework's ID. Run may be called once.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.started {
		s.mu.Unlock()
		return errors.New("scheduler client: Run called twice")
	}
	s.started = true
	ctx, cancel := context.WithCancel(ctx)
	s.cancelRun = cancel
	s.mu.Unlock()
	defer close(s.done)
	defer close(s.events)
	defer cancel()

	for attempt := 0; ; attempt++ {
		subscribed, err := s.session(ctx)
		s.mu.Lock()
		s.sub = nil
		s.lastErr = err
		tornDown := s.tornDown
		s.mu.Unlock()
		if ctx.Err() != nil || tornDown {
			return nil
		}
		var apiErr *APIError
		var fwErr *FrameworkError
		if errors.As(err, &fwErr) || (errors.As(err, &apiErr) && !apiErr.temporary()) {
			return err
		}
		if subscribed {
			attempt = 0
		}
		d := s.opts.Backoff.Delay(attempt)
		s.opts.Logger.Warn("scheduler subscription lost; resubscribing", "err", err, "retry_in", d)
		if sleepCtx(ctx, d) != nil {
			return nil
		}
	}
}

// session subscribes once and delivers events until the stream ends. It
// reports whether SUBSCRIBED was received, so backoff can start over.
func (s *Scheduler) session(ctx context.Context) (subscribed bool, err error) {
	body, err := s.subscribeBody()
	if err != nil {
		return false, err
	}
	st, err := openStream(ctx, s.t, s.res, schedulerPath, body, "scheduler SUBSCRIBE", true, maxSchedulerRecord)
	if err != nil {
		return false, err
	}
	defer st.close()
	streamID := st.resp.Header.Get(headerStreamID)
	if streamID == "" {
		s.res.failed(st.leader)
		return false, fmt.Errorf("scheduler SUBSCRIBE at %s: no %s header", s.t.displayURL(st.url), headerStreamID)
	}
	for {
		rec, err := st.next()
		if err != nil {
			s.res.failed(st.leader)
			return subscribed, err
		}
		ev := new(mesos.Event)
		if err := json.Unmarshal(rec, ev); err != nil {
			// A record we cannot read leaves us unsure what we missed:
			// start over, and the master resends what matters.
			s.res.failed(st.leader)
			return subscribed, fmt.Errorf("scheduler event from %s: %w", s.t.displayURL(st.url), err)
		}
		switch {
		case ev.Type == mesos.EventSubscribed && ev.Subscribed != nil:
			st.setLimit(heartbeatLimit(ev.Subscribed.HeartbeatIntervalSeconds, s.opts.MissedHeartbeats))
			s.mu.Lock()
			if ev.Subscribed.FrameworkID != "" {
				s.info.ID = ev.Subscribed.FrameworkID
			}
			s.sub = &subscription{master: st.leader, streamID: streamID}
			s.mu.Unlock()
			subscribed = true
		case ev.Type == mesos.EventError:
			msg := ""
			if ev.Error != nil {
				msg = ev.Error.Message
			}
			s.mu.Lock()
			s.sub = nil // no call may use this stream any more
			s.mu.Unlock()
			_ = s.deliver(ctx, ev)
			return subscribed, &FrameworkError{Message: msg}
		case !subscribed:
			s.res.failed(st.leader)
			return false, fmt.Errorf("scheduler SUBSCRIBE at %s: first event is %s, not SUBSCRIBED", s.t.displayURL(st.url), ev.Type)
		}
		if err := s.deliver(ctx, ev); err != nil {
			return subscribed, err
		}
	}
}

// deliver hands ev to the consumer, waiting as long as it takes.
func (s *Scheduler) deliver(ctx context.Context, ev *mesos.Event) error {
	select {
	case s.events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// subscribeBody builds SUBSCRIBE from the current framework info: with the
// framework's ID once known, so every resubscription is a failover to the
// same framework.
func (s *Scheduler) subscribeBody() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	call := mesos.Call{
		Type:        mesos.CallSubscribe,
		FrameworkID: s.info.ID,
		Subscribe: &mesos.Subscribe{
			FrameworkInfo:    s.info,
			SuppressedRoles:  s.suppressed,
			OfferConstraints: s.constraints,
		},
	}
	body, err := json.Marshal(&call)
	if err != nil {
		return nil, fmt.Errorf("scheduler SUBSCRIBE: encode: %w", err)
	}
	return body, nil
}

// Close stops Run, waits for it to return, and drops idle connections.
func (s *Scheduler) Close() error {
	s.mu.Lock()
	s.closed = true
	cancel, started := s.cancelRun, s.started
	if !started { // Run will refuse to start: close what it would have
		s.started = true
		close(s.events)
		close(s.done)
	}
	s.mu.Unlock()
	if started {
		cancel()
		<-s.done
	}
	s.t.close()
	return nil
}

// cloneFrameworkInfo deep-copies info through its JSON form, which is all
// the client ever does with it.
func cloneFrameworkInfo(info *mesos.FrameworkInfo) (*mesos.FrameworkInfo, error) {
	data, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode framework info: %w", err)
	}
	out := new(mesos.FrameworkInfo)
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("copy framework info: %w", err)
	}
	return out, nil
}

func sortedRoles(roles []string) []string {
	if len(roles) == 0 {
		return nil
	}
	out := slices.Clone(roles)
	slices.Sort(out)
	return slices.Compact(out)
}
