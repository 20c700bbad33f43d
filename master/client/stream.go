package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/strata-dc/strata/master/mesos/recordio"
)

// Record limits. Scheduler events (offers, updates) stay far below 4 MiB;
// the operator stream opens with a snapshot of the whole cluster, which on a
// large one is hundreds of megabytes. The RecordIO reader grows its buffer
// with the data received, so a generous limit costs nothing up front.
const (
	maxSchedulerRecord = 64 << 20
	maxOperatorRecord  = 1 << 30
)

// eventStream is one open SUBSCRIBE response: a RecordIO body watched for
// silence.
//
// The watchdog is armed only while the reader waits on the network, never
// while a decoded event waits for a slow consumer, so a consumer that takes
// its time is not mistaken for a dead master; and because it is re-armed on
// every read, a huge snapshot arriving slowly is not mistaken for silence.
type eventStream struct {
	t      *transport
	resp   *http.Response
	url    *url.URL // where the stream came from, after redirects
	leader *url.URL // that master's base
	rd     *recordio.Reader
	body   *watchedReader
	cancel context.CancelFunc
	what   string
}

// openStream sends a SUBSCRIBE body to path on the master the resolver
// names, following redirects to the leader, and returns the open stream.
// Until the first bytes arrive, silence is bounded by the transport's
// timeout; the caller raises the limit with setLimit once it knows the
// heartbeat interval.
func openStream(ctx context.Context, t *transport, res *resolver, path string, body []byte,
	what string, scheduler bool, maxRecord int) (*eventStream, error) {
	base, err := res.base(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	sctx, cancel := context.WithCancel(ctx)
	dog := newWatchdog(cancel)
	dog.arm(t.timeout)
	resp, final, err := t.send(sctx, request{method: http.MethodPost, url: endpoint(base, path), body: body, follow: true})
	if !dog.disarm() && err != nil {
		err = fmt.Errorf("no answer within %v: %w", t.timeout, err)
	}
	if err != nil {
		cancel()
		res.failed(base)
		return nil, fmt.Errorf("%s at %s: %w", what, t.displayURL(final), err)
	}
	leader := baseOf(final, path)
	if resp.StatusCode != http.StatusOK {
		apiErr := readAPIError(resp, what, t.displayURL(final), scheduler)
		cancel()
		if apiErr.temporary() {
			res.failed(base)
			res.failed(leader)
		}
		return nil, apiErr
	}
	if ct := resp.Header.Get("Content-Type"); !isJSONType(ct) {
		drainClose(resp.Body)
		cancel()
		res.failed(base)
		return nil, fmt.Errorf("%s at %s: stream has Content-Type %q, want %s", what, t.displayURL(final), ct, contentJSON)
	}
	res.moved(base, leader)
	wr := &watchedReader{r: resp.Body, dog: dog, limit: t.timeout}
	return &eventStream{
		t: t, resp: resp, url: final, leader: leader, body: wr, cancel: cancel, what: what,
		rd: recordio.NewReader(wr, maxRecord),
	}, nil
}

// setLimit sets how long the stream may stay silent from now on.
func (s *eventStream) setLimit(d time.Duration) { s.body.limit = d }

// next returns the next record. Its errors say why the stream ended.
func (s *eventStream) next() ([]byte, error) {
	rec, err := s.rd.ReadRecord()
	if err == nil {
		return rec, nil
	}
	where := s.t.displayURL(s.url)
	switch {
	case s.body.dog.fired.Load():
		return nil, fmt.Errorf("%s from %s: silent for %v: %w", s.what, where, s.body.limit, ErrNoHeartbeat)
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%s from %s: master closed the stream: %w", s.what, where, err)
	}
	return nil, fmt.Errorf("%s from %s: %w", s.what, where, err)
}

// close ends the stream and its connection.
func (s *eventStream) close() {
	s.body.dog.stop()
	s.cancel()
	_ = s.resp.Body.Close()
}

// watchedReader arms the watchdog around each read of the network.
type watchedReader struct {
	r     io.Reader
	dog   *watchdog
	limit time.Duration
}

func (w *watchedReader) Read(p []byte) (int, error) {
	w.dog.arm(w.limit)
	n, err := w.r.Read(p)
	w.dog.disarm()
	return n, err
}

// watchdog cancels a request when it fires.
type watchdog struct {
	timer *time.Timer
	fired atomic.Bool
}

func newWatchdog(cancel context.CancelFunc) *watchdog {
	w := &watchdog{}
	w.timer = time.AfterFunc(time.Hour, func() {
		w.fired.Store(true)
		cancel()
	})
	w.timer.Stop()
	return w
}

func (w *watchdog) arm(d time.Duration) { w.timer.Reset(d) }

// disarm stops the timer; false means it had already fired.
func (w *watchdog) disarm() bool {
	w.timer.Stop()
	return !w.fired.Load()
}

func (w *watchdog) stop() { w.timer.Stop() }
