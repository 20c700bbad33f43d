package master

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/state"
)

// streamBuffer is how many records a stream may have queued before the
// master gives up on its reader: a scheduler that does not read its
// events cannot make the leader loop wait.
const streamBuffer = 1024

// stream is one open subscription (a scheduler's or an agent's): the
// leader loop queues encoded records; the HTTP handler writes them.
type stream struct {
	id   state.StreamID
	ch   chan []byte
	done chan struct{}
	once sync.Once
}

func newStream() *stream {
	return &stream{id: state.StreamID(newID() + newID()), ch: make(chan []byte, streamBuffer), done: make(chan struct{})}
}

func (s *stream) close() { s.once.Do(func() { close(s.done) }) }

// input is one thing for the leader loop to step.
type input struct {
	ev     state.Event
	req    state.ReqID
	reply  chan state.Reply // buffered 1; nil when no answer is awaited
	stream *stream          // a stream the event opens
	// opOffers is set for an operator SUBSCRIBE (ev nil): whether the
	// stream wants Strata's OFFER_* events.
	opOffers *bool
}

// opStream is an operator SUBSCRIBE stream.
type opStream struct {
	s      *stream
	offers bool
}

// published is what reads are served from.
type published struct {
	snap      *state.Snapshot
	allocMS   float64
	published time.Time
}

// leaderLoop owns the state machine for one term: the only goroutine that
// touches it is run's.
type leaderLoop struct {
	m       *Master
	sm      *state.Machine
	store   *coord.Store
	in      chan input
	done    chan struct{} // closed when run returns
	streams map[state.StreamID]*stream
	waiting map[state.ReqID]chan state.Reply
	writes  writeQueue
	applied chan state.Event // Then events of durable writes
	allocMS float64

	reqStream  map[state.ReqID]state.StreamID // SUBSCRIBEs not answered yet
	opReqs     map[state.ReqID]bool           // operator changes not answered yet
	pubVersion uint64                         // the machine version last published
	operators  map[state.StreamID]*opStream
	lastOpBeat time.Time
	pubAt      time.Time     // when the last snapshot was published
	pubCost    time.Duration // what it cost to build
}

// newLeaderLoop reads the registry and builds the machine.
func newLeaderLoop(ctx context.Context, m *Master, store *coord.Store) (*leaderLoop, error) {
	reg, err := readRegistry(ctx, store)
	if err != nil {
		return nil, err
	}
	cfg := m.cfg.stateConfig()
	// IDs handed out must never repeat, and a master that leads again
	// starts a new machine whose counters start over: later terms get
	// their own prefix.
	cfg.MasterID = m.id
	if n := m.terms.Add(1); n > 1 {
		cfg.MasterID = fmt.Sprintf("%s-T%d", m.id, n)
	}
	info := m.info
	cfg.MasterInfo = &info
	cfg.Registry = reg
	cfg.Allocator.Seed = time.Now().UnixNano() // agents' visiting order; recorded nowhere, so not replayable across runs
	return &leaderLoop{
		m: m, sm: state.New(cfg, time.Now()), store: store,
		in: make(chan input, 256), done: make(chan struct{}),
		streams: make(map[state.StreamID]*stream), waiting: make(map[state.ReqID]chan state.Reply),
		writes:    writeQueue{signal: make(chan struct{}, 1)},
		applied:   make(chan state.Event, 64),
		reqStream: make(map[state.ReqID]state.StreamID),
		opReqs:    make(map[state.ReqID]bool),
		operators: make(map[state.StreamID]*opStream),
	}, nil
}

func readRegistry(ctx context.Context, st *coord.Store) (state.Registry, error) {
	var r state.Registry
	agents, err := coord.List[state.RegistryAgent](ctx, st, RegistryRoot+"/"+state.RegistryAgentsDir)
	if err != nil {
		return r, fmt.Errorf("read registry agents: %w", err)
	}
	for _, a := range agents {
		r.Agents = append(r.Agents, a.Value)
	}
	fws, err := coord.List[state.RegistryFramework](ctx, st, RegistryRoot+"/"+state.RegistryFrameworksDir)
	if err != nil {
		return r, fmt.Errorf("read registry frameworks: %w", err)
	}
	for _, f := range fws {
		r.Frameworks = append(r.Frameworks, f.Value)
	}
	w, _, err := coord.Get[map[string]float64](ctx, st, RegistryRoot+"/"+state.RegistryWeights)
	if err != nil && !errors.Is(err, coord.ErrNotFound) {
		return r, fmt.Errorf("read registry weights: %w", err)
	}
	r.Weights = w
	q, _, err := coord.Get[[]mesos.QuotaConfig](ctx, st, RegistryRoot+"/"+state.RegistryQuota)
	if err != nil && !errors.Is(err, coord.ErrNotFound) {
		return r, fmt.Errorf("read registry quota: %w", err)
	}
	r.Quotas = q
	return r, nil
}

// submit hands an event to the loop and waits for its Reply. It fails
// when the loop stops first (leadership lost).
func (l *leaderLoop) submit(ctx context.Context, ev state.Event, req state.ReqID, s *stream) (state.Reply, error) {
	return l.submitInput(ctx, input{ev: ev, req: req, reply: make(chan state.Reply, 1), stream: s})
}

func (l *leaderLoop) submitInput(ctx context.Context, in input) (state.Reply, error) {
	select {
	case l.in <- in:
	case <-l.done:
		return state.Reply{}, errNotLeader
	case <-ctx.Done():
		return state.Reply{}, ctx.Err()
	}
	select {
	case r := <-in.reply:
		return r, nil
	case <-l.done:
		return state.Reply{}, errNotLeader
	case <-ctx.Done():
		return state.Reply{}, ctx.Err()
	}
}

// notify hands the loop an event nobody waits on.
func (l *leaderLoop) notify(ev state.Event) {
	select {
	case l.in <- input{ev: ev}:
	case <-l.done:
	}
}

var errNotLeader = errors.New("this master is not leading any more")

// run steps events until ctx ends (the term is over), then closes every
// stream. Registry writes are made in order by one writer goroutine that
// run owns; a failed write ends the term's loop.
func (l *leaderLoop) run(ctx context.Context) {
	// A bug in the machine must not take the daemon down: the loop ends
	// (its streams closed, below) and lead builds a new one from the
	// registry, as a new leader would.
	defer func() {
		if r := recover(); r != nil {
			l.m.log.Error("leader loop panicked; restarting it from the registry", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	ctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.writer(ctx, cancel)
	}()
	defer func() {
		close(l.done)
		cancel(nil)
		wg.Wait()
		for _, s := range l.streams {
			s.close()
		}
	}()
	tick := time.NewTicker(l.m.cfg.TickInterval)
	defer tick.Stop()
	l.publish()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-l.applied:
			l.step(ctx, ev)
			l.publish()
		case in := <-l.in:
			l.handle(ctx, in)
			// Take whatever else is queued before publishing a snapshot.
			for n := 0; n < 64; n++ {
				select {
				case in := <-l.in:
					l.handle(ctx, in)
					continue
				default:
				}
				break
			}
			l.publish()
		case <-tick.C:
			if time.Since(l.lastOpBeat) >= l.heartbeat() {
				l.lastOpBeat = time.Now()
				for _, id := range sortedStreamIDs(l.operators) {
					if !l.enqueue(l.operators[id].s, mesos.NewOperatorHeartbeat()) {
						l.dropOperator(id)
					}
				}
			}
			start := time.Now()
			l.step(ctx, state.Tick{})
			if ms := float64(time.Since(start)) / float64(time.Millisecond); ms > 0 {
				l.allocMS = ms
			}
			l.publish()
		}
	}
}

func (l *leaderLoop) handle(ctx context.Context, in input) {
	if in.opOffers != nil {
		l.subscribeOperator(in)
		return
	}
	if sc, ok := in.ev.(state.StreamClosed); ok {
		if _, op := l.operators[sc.Stream]; op {
			l.dropOperator(sc.Stream)
			return
		}
	}
	if in.stream != nil {
		l.streams[in.stream.id] = in.stream
	}
	if _, ok := in.ev.(state.OperatorCall); ok {
		l.opReqs[in.req] = true
	}
	if in.reply != nil {
		l.waiting[in.req] = in.reply
		if in.stream != nil {
			l.reqStream[in.req] = in.stream.id
		}
	}
	l.step(ctx, in.ev)
}

// step steps the machine and carries out its actions.
func (l *leaderLoop) step(ctx context.Context, ev state.Event) {
	// Answers to operator changes wait for the snapshot that shows them,
	// so an operator reads what it just wrote.
	var held []state.Reply
	defer func() {
		if len(held) > 0 {
			l.publishNow()
			for _, a := range held {
				if ch, ok := l.waiting[a.Req]; ok {
					ch <- a
					delete(l.waiting, a.Req)
				}
			}
		}
	}()
	queue := []state.Event{ev}
	for len(queue) > 0 {
		ev := queue[0]
		queue = queue[1:]
		for _, a := range l.sm.Step(time.Now(), ev) {
			switch a := a.(type) {
			case state.Reply:
				if l.opReqs[a.Req] {
					delete(l.opReqs, a.Req)
					held = append(held, a)
					continue
				}
				if ch, ok := l.waiting[a.Req]; ok {
					ch <- a
					delete(l.waiting, a.Req)
				}
				if id, ok := l.reqStream[a.Req]; ok {
					delete(l.reqStream, a.Req)
					if a.Status != 200 {
						delete(l.streams, id) // the subscription was refused
					}
				}
			case state.SendFramework:
				if s := l.streams[a.Stream]; s != nil && !l.enqueue(s, a.Event) {
					queue = append(queue, state.StreamClosed{Stream: s.id})
				}
			case state.SendAgent:
				if s := l.streams[a.Stream]; s != nil && !l.enqueue(s, a.Event) {
					queue = append(queue, state.StreamClosed{Stream: s.id})
				}
			case state.CloseStream:
				if s := l.streams[a.Stream]; s != nil {
					s.close()
					delete(l.streams, a.Stream)
				}
			case state.Broadcast:
				for _, id := range sortedStreamIDs(l.operators) {
					op := l.operators[id]
					if a.Event.Type.IsStrataExtension() && !op.offers {
						continue
					}
					if !l.enqueue(op.s, a.Event) {
						l.dropOperator(id)
					}
				}
			case state.RegistryWrite:
				l.writes.push(a) // never blocks: the loop must not wait on coord
			}
		}
	}
}

// enqueue queues a record on a stream; false means the reader fell too far
// behind and the stream was closed.
func (l *leaderLoop) enqueue(s *stream, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		l.m.log.Error("encode event", "err", err)
		return true
	}
	select {
	case s.ch <- b:
		return true
	default:
		l.m.log.Warn("closing a stream whose reader fell behind", "stream", s.id)
		s.close()
		delete(l.streams, s.id)
		return false
	}
}

// writer makes registry writes durable in order, then feeds each Then
// event back to the loop. A failed write (fenced: the term is over, or
// coord unreachable) ends the loop: a leader that cannot persist must not
// act.
func (l *leaderLoop) writer(ctx context.Context, cancel context.CancelCauseFunc) {
	for {
		w, ok := l.writes.pop(ctx)
		if !ok {
			return
		}
		path := RegistryRoot + "/" + w.Path
		var err error
		if w.Value == nil {
			err = l.store.Delete(ctx, path, coord.Any)
			if errors.Is(err, coord.ErrNotFound) {
				err = nil
			}
		} else {
			_, err = l.store.Put(ctx, path, w.Value)
		}
		if err != nil {
			if ctx.Err() == nil {
				l.m.log.Error("registry write failed; stepping down", "path", path, "err", err)
			}
			cancel(fmt.Errorf("registry write %s: %w", path, err))
			return
		}
		if w.Then != nil {
			select {
			case l.applied <- w.Then:
			case <-ctx.Done():
				return
			}
		}
	}
}

// publish makes the machine's current view readable by handlers, when it
// changed. A snapshot of a big cluster is not free, so the loop spends at
// most about a fifth of its time on them: after one that took d, the next
// waits at least 4d (a tick publishes what was held back).
func (l *leaderLoop) publish() {
	v := l.sm.Version()
	if v == l.pubVersion && l.m.snapshot.Load() != nil {
		return
	}
	if time.Since(l.pubAt) < 4*l.pubCost {
		return
	}
	l.publishNow()
}

// publishNow publishes the machine's view whatever it costs.
func (l *leaderLoop) publishNow() {
	v := l.sm.Version()
	start := time.Now()
	snap := l.sm.Snapshot()
	l.pubVersion, l.pubAt, l.pubCost = v, time.Now(), time.Since(start)
	l.m.snapshot.Store(&published{snap: snap, allocMS: l.allocMS, published: l.pubAt})
}

func (l *leaderLoop) heartbeat() time.Duration {
	if d := l.m.cfg.HeartbeatInterval; d > 0 {
		return d
	}
	return state.DefaultHeartbeatInterval
}

// subscribeOperator opens an operator stream: the current state, then
// every change as it happens, in the loop's order, so the deltas apply
// exactly to the snapshot.
func (l *leaderLoop) subscribeOperator(in input) {
	op := &opStream{s: in.stream, offers: *in.opOffers}
	l.operators[in.stream.id] = op
	l.streams[in.stream.id] = in.stream // closed with the others when the term ends
	l.sm.SetWatched(true)
	in.reply <- state.Reply{Req: in.req, Status: 200}
	l.enqueue(op.s, &mesos.OperatorEvent{Type: mesos.OperatorEventSubscribed, Subscribed: &mesos.OperatorSubscribed{
		GetState: l.sm.OperatorSnapshot(), HeartbeatIntervalSeconds: l.heartbeat().Seconds()}})
}

func (l *leaderLoop) dropOperator(id state.StreamID) {
	if op := l.operators[id]; op != nil {
		op.s.close()
		delete(l.operators, id)
	}
	delete(l.streams, id)
	l.sm.SetWatched(len(l.operators) > 0)
}

func sortedStreamIDs(m map[state.StreamID]*opStream) []state.StreamID {
	ids := make([]state.StreamID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// writeQueue is the registry writes the loop has asked for and the writer
// has not made yet: unbounded, so the loop never blocks on coord (and the
// writer, which feeds the loop, can never deadlock with it).
type writeQueue struct {
	mu     sync.Mutex
	items  []state.RegistryWrite
	signal chan struct{} // capacity 1: "items may be non-empty"
}

func (q *writeQueue) push(w state.RegistryWrite) {
	q.mu.Lock()
	q.items = append(q.items, w)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pop waits for the oldest write; false when ctx ends first.
func (q *writeQueue) pop(ctx context.Context) (state.RegistryWrite, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			w := q.items[0]
			q.items[0] = state.RegistryWrite{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return w, true
		}
		q.mu.Unlock()
		select {
		case <-q.signal:
		case <-ctx.Done():
			return state.RegistryWrite{}, false
		}
	}
}
