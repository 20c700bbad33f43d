package coord

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// DefaultSessionTimeout is the session timeout asked for when Config leaves
// it zero: Mesos' default --zk_session_timeout. The server may negotiate it
// into its own [minSessionTimeout, maxSessionTimeout] range.
const DefaultSessionTimeout = 10 * time.Second

// ErrClosed is returned by operations on a closed Session and is the cause
// of the terms it ended.
var ErrClosed = errors.New("coord: session closed")

// Config says how to reach the ensemble. Only URL is required.
type Config struct {
	URL URL

	// SessionTimeout is the timeout asked of the server; zero means
	// DefaultSessionTimeout. Session.Timeout reports what was negotiated.
	SessionTimeout time.Duration

	// LeaderGrace is how long a leader keeps its term while disconnected,
	// hoping to reconnect to the same session. Zero, the default, ends the
	// term the moment the connection drops: the session may already be
	// expiring on the servers and a successor may be about to lead. A
	// positive grace trades that certainty for fewer leadership flaps; it is
	// capped at a quarter of the negotiated timeout, the part of it that
	// the client can count on the server still holding the session after
	// the client notices the drop (the client notices after at most two
	// thirds of the timeout without a reply).
	LeaderGrace time.Duration

	// Logger receives session, election and detection logs; nil means
	// slog.Default(). go-zookeeper's own chatter goes to it at Debug.
	Logger *slog.Logger

	// TLS, when set, dials every server of URL inside TLS: ZooKeeper's
	// secureClientPort (zookeeper.client.secure). The zk:// URL keeps
	// Mesos' form, so TLS is chosen here and not in it; every server of
	// one URL must then be a secure port. ServerName is filled in per
	// server from its host unless set (see tls.go).
	TLS *tls.Config
}

// State is the condition of a Session as its holder must act on it.
type State int

const (
	// Disconnected: no live connection. The session may still be alive on
	// the servers (ephemeral nodes stay) and the client keeps reconnecting.
	Disconnected State = iota
	// Connected: connected with a live session.
	Connected
	// Expired: the session is gone, as the server said on reconnecting or
	// as presumed after staying disconnected longer than its timeout (the
	// client libraries only learn of expiry on reconnecting, so Mesos and
	// this package time out locally too). Its ephemeral nodes, and with them
	// any leadership, are lost. The Session goes on to make a new session,
	// reported as Connected with a new SessionID.
	Expired
)

func (s State) String() string {
	switch s {
	case Disconnected:
		return "disconnected"
	case Connected:
		return "connected"
	case Expired:
		return "expired"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Event is one change of a Session's State.
type Event struct {
	State     State
	SessionID int64     // the session the event is about (0 before the first)
	At        time.Time // when the client observed it
}

// Session is one client of the ensemble: a go-zookeeper connection with the
// URL's chroot applied to every path this package takes, its credentials
// presented on every (re)connect, and its state reported as Events. Across
// expiry it stays usable: it makes a new ZooKeeper session and says so.
// It keeps an exists watch on <chroot>/.strata-coord-sentinel, a node it
// never creates (wire.go says why). All methods are safe for concurrent use.
type Session struct {
	url   URL
	log   *slog.Logger
	grace time.Duration
	acl   []zk.ACL
	conn  *zk.Conn
	tls   *tls.Config // nil for plaintext

	// ctx is cancelled by Close; it bounds the recipes' own ZooKeeper calls.
	ctx    context.Context
	cancel context.CancelFunc

	mu          sync.Mutex
	status      Event
	timeout     time.Duration // session timeout negotiated (asked until known)
	passwd      []byte        // of the session named by shakeID
	shakeID     int64
	sentinel    string // absolute path of the sentinel watch (see wire.go)
	sentinelFor int64  // the session the sentinel is registered in
	expiredID   int64  // the session last reported Expired, to report it once
	expiry      *time.Timer
	subs        map[*subscriber]struct{}
	candidates  map[string]*Candidate // by absolute group path
	closed      bool
	wg          sync.WaitGroup // every goroutine the Session owns
}

// Dial connects to the ensemble in cfg.URL, waits for a session (or ctx),
// presents the URL's digest credentials, and makes sure the chroot node
// exists. A daemon in the in-process mode dials its embedded server like
// any other: zk://127.0.0.1:<port>/strata.
func Dial(ctx context.Context, cfg Config) (*Session, error) {
	u := cfg.URL
	if len(u.Servers) == 0 {
		return nil, errors.New("coord: dial: no servers (parse the --zk URL with ParseURL)")
	}
	if u.Chroot == "" {
		u.Chroot = "/"
	}
	if err := validatePath(u.Chroot); err != nil {
		return nil, fmt.Errorf("coord: dial: chroot %q: %v", u.Chroot, err)
	}
	timeout := cfg.SessionTimeout
	if timeout <= 0 {
		timeout = DefaultSessionTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("zk", u.Redacted())

	s := &Session{
		url:        u,
		tls:        cfg.TLS,
		log:        log,
		grace:      cfg.LeaderGrace,
		acl:        zk.WorldACL(zk.PermAll),
		timeout:    timeout,
		subs:       map[*subscriber]struct{}{},
		candidates: map[string]*Candidate{},
	}
	s.sentinel, _ = joinChroot(u.Chroot, ".strata-coord-sentinel")
	if u.User != "" {
		// As Mesos does with credentials: everyone may read (followers and
		// clients detect the leader without credentials), only the
		// authenticated creator may change.
		s.acl = []zk.ACL{
			{Perms: zk.PermRead, Scheme: "world", ID: "anyone"},
			{Perms: zk.PermAll, Scheme: "auth", ID: ""},
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	// Hold mu until conn is set: go-zookeeper may report the first state
	// change before Connect returns, and onZKEvent needs conn.
	s.mu.Lock()
	conn, _, err := zk.Connect(u.Servers, timeout,
		zk.WithLogger(zkLogger{log}),
		zk.WithLogInfo(false),
		zk.WithEventCallback(s.onZKEvent),
		zk.WithDialer(s.dial),
	)
	if err != nil {
		s.mu.Unlock()
		s.cancel()
		return nil, fmt.Errorf("coord: dial %s: %w", u.Redacted(), err)
	}
	s.conn = conn
	s.mu.Unlock()

	if err := s.start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.spawn(s.keepSentinel)
	return s, nil
}

// start waits for the first session, authenticates and creates the chroot,
// retrying what a dropped connection interrupts until ctx ends.
func (s *Session) start(ctx context.Context) error {
	sub := s.subscribe()
	defer s.unsubscribe(sub)
	for {
		for s.Status().State != Connected {
			select {
			case <-sub.wake:
				sub.drain()
			case <-ctx.Done():
				return fmt.Errorf("coord: dial %s: no session: %w", s.url.Redacted(), ctx.Err())
			}
		}
		err := s.setup(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !transient(err) {
			return fmt.Errorf("coord: dial %s: %w", s.url.Redacted(), err)
		}
		select { // the connection dropped under us: wait a moment and retry
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("coord: dial %s: %w", s.url.Redacted(), ctx.Err())
		}
	}
}

func (s *Session) setup(ctx context.Context) error {
	if s.url.User != "" {
		// go-zookeeper remembers credentials that succeeded once and sends
		// them again, before anything else, on every later connection,
		// including the new session it makes after expiry.
		err := s.do(ctx, func(c *zk.Conn) error {
			return c.AddAuth("digest", []byte(s.url.User+":"+s.url.Password))
		})
		if err != nil {
			return fmt.Errorf("add digest credentials for %q: %w", s.url.User, err)
		}
	}
	if err := s.armSentinel(s.Status().SessionID); err != nil {
		return fmt.Errorf("watch %s: %w", s.sentinel, err)
	}
	return s.ensurePathACL(ctx, s.url.Chroot, s.rootACL())
}

// rootACL is the ACL of the chroot (and ancestors) a Session creates. With
// credentials, every principal may also create beneath it: master,
// marathon and chronos share one chroot under their own principals, and
// whichever starts first must not lock the others out. What each creates
// there is its own (s.acl): readable by all, changed only by its creator.
func (s *Session) rootACL() []zk.ACL {
	if s.url.User == "" {
		return s.acl
	}
	return []zk.ACL{
		{Perms: zk.PermRead | zk.PermCreate, Scheme: "world", ID: "anyone"},
		{Perms: zk.PermAll, Scheme: "auth", ID: ""},
	}
}

// transient reports errors a retry on the next connection can cure.
func transient(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer) ||
		errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrSessionMoved) ||
		errors.Is(err, zk.ErrClosing)
}

// Close ends every term of the Session's candidates (their Done channels
// close first), closes the ZooKeeper session, which deletes its ephemeral
// nodes so successors can lead, and waits for the goroutines it owns. Stop
// leader loops before calling Close for a handover without overlap.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.expiry != nil {
		s.expiry.Stop()
	}
	cands := make([]*Candidate, 0, len(s.candidates))
	for _, c := range s.candidates {
		cands = append(cands, c)
	}
	s.mu.Unlock()

	s.cancel()
	for _, c := range cands {
		c.endTerm(ErrClosed)
	}
	s.conn.Close()
	s.wg.Wait()
	s.log.Info("zk session closed")
	return nil
}

// Status is the latest Event: the current state and session.
func (s *Session) Status() Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Timeout is the session timeout the server negotiated (the requested one
// until the first session is made).
func (s *Session) Timeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timeout
}

// URL is the URL the Session was dialed with.
func (s *Session) URL() URL { return s.url }

// Conn is the underlying go-zookeeper connection, for what the recipes do
// not cover. It knows nothing of the chroot: map paths with Path.
func (s *Session) Conn() *zk.Conn { return s.conn }

// Path maps a path relative to the chroot ("master/leader"; a leading slash
// means the same) to the absolute path on the servers.
func (s *Session) Path(rel string) (string, error) {
	return joinChroot(s.url.Chroot, rel)
}

// Subscribe delivers the Session's state changes, starting with the current
// state, in order and without loss, until ctx ends or the Session closes;
// then the channel is closed.
func (s *Session) Subscribe(ctx context.Context) <-chan Event {
	out := make(chan Event)
	sub := s.subscribe()
	if !s.spawn(func() {
		defer close(out)
		defer s.unsubscribe(sub)
		for {
			for _, ev := range sub.drain() {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				case <-s.ctx.Done():
					return
				}
			}
			select {
			case <-sub.wake:
			case <-ctx.Done():
				return
			case <-s.ctx.Done():
				return
			}
		}
	}) {
		s.unsubscribe(sub)
		close(out)
	}
	return out
}

// spawn runs fn on a goroutine the Session owns, unless it is closed.
func (s *Session) spawn(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// call runs one go-zookeeper call and returns its result, returning early
// when ctx ends. go-zookeeper calls take no context: an abandoned call
// finishes on its own goroutine (owned by the Session: Close unblocks it)
// and its outcome is unknown. Its result travels over a channel, never
// through variables the caller shares, so a call that completes after the
// caller gave up cannot race with it.
func call[T any](ctx context.Context, s *Session, fn func(*zk.Conn) (T, error)) (T, error) {
	var zero T
	if s.ctx.Err() != nil {
		return zero, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	var r result
	if ctx.Done() == nil {
		r.v, r.err = fn(s.conn)
	} else {
		done := make(chan result, 1)
		if !s.spawn(func() {
			v, err := fn(s.conn)
			done <- result{v, err}
		}) {
			return zero, ErrClosed
		}
		select {
		case r = <-done:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
	if r.err != nil && s.ctx.Err() != nil && transient(r.err) {
		return zero, ErrClosed
	}
	return r.v, r.err
}

// do is call for a go-zookeeper call whose only result is its error; fn
// must not write anything the caller reads.
func (s *Session) do(ctx context.Context, fn func(*zk.Conn) error) error {
	_, err := call(ctx, s, func(c *zk.Conn) (struct{}, error) { return struct{}{}, fn(c) })
	return err
}

// onZKEvent turns go-zookeeper's connection states into Events. It runs on
// go-zookeeper's goroutines and must not block.
func (s *Session) onZKEvent(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := time.Now()
	switch ev.State {
	case zk.StateHasSession:
		id := s.conn.SessionID()
		if s.expiry != nil {
			s.expiry.Stop()
			s.expiry = nil
		}
		if s.status.State == Connected && s.status.SessionID == id {
			return
		}
		prev := s.status.SessionID
		if prev != 0 && prev != id && s.expiredID != prev {
			// A new session means the old one is gone, even if no one said.
			s.expiredID = prev
			s.publish(Event{State: Expired, SessionID: prev, At: now})
		}
		s.publish(Event{State: Connected, SessionID: id, At: now})
	case zk.StateDisconnected:
		if s.status.State != Connected {
			return
		}
		id := s.status.SessionID
		s.publish(Event{State: Disconnected, SessionID: id, At: now})
		s.expiry = time.AfterFunc(s.timeout, func() { s.presumeExpired(id) })
	case zk.StateExpired:
		id := s.status.SessionID
		if s.expiry != nil {
			s.expiry.Stop()
			s.expiry = nil
		}
		if id == 0 || s.expiredID == id {
			return
		}
		s.expiredID = id
		s.publish(Event{State: Expired, SessionID: id, At: now})
	case zk.StateAuthFailed:
		s.log.Error("zk authentication failed")
	}
}

// presumeExpired reports a session expired after the client stayed
// disconnected for its whole timeout: by then the servers have expired it.
func (s *Session) presumeExpired(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.status.State != Disconnected || s.status.SessionID != id {
		return
	}
	s.expiredID = id
	s.log.Warn("zk session presumed expired: disconnected for longer than its timeout",
		"session", fmt.Sprintf("%#x", id), "timeout", s.timeout)
	s.publish(Event{State: Expired, SessionID: id, At: time.Now()})
}

// publish records ev as the current status and queues it for every
// subscriber. Callers hold mu.
func (s *Session) publish(ev Event) {
	s.status = ev
	switch ev.State {
	case Connected:
		s.log.Info("zk session connected", "session", fmt.Sprintf("%#x", ev.SessionID), "timeout", s.timeout)
	case Disconnected:
		s.log.Warn("zk disconnected", "session", fmt.Sprintf("%#x", ev.SessionID))
	case Expired:
		s.log.Warn("zk session expired", "session", fmt.Sprintf("%#x", ev.SessionID))
	}
	for sub := range s.subs {
		sub.push(ev)
	}
}

// subscriber is an unbounded, ordered queue of Events with a wake-up
// signal, so publishing never blocks go-zookeeper and nothing is dropped.
type subscriber struct {
	mu    sync.Mutex
	queue []Event
	wake  chan struct{} // holds one token while the queue is non-empty
}

func (b *subscriber) push(ev Event) {
	b.mu.Lock()
	b.queue = append(b.queue, ev)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *subscriber) drain() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queue
	b.queue = nil
	return q
}

// subscribe registers a subscriber whose queue starts with the current
// status.
func (s *Session) subscribe() *subscriber {
	b := &subscriber{wake: make(chan struct{}, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	b.push(s.status)
	if !s.closed {
		s.subs[b] = struct{}{}
	}
	return b
}

func (s *Session) unsubscribe(b *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, b)
}

// zkLogger sends go-zookeeper's printf logging to slog at Debug: the
// Session reports what matters (connected, disconnected, expired) itself.
type zkLogger struct{ log *slog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "source", "go-zookeeper")
}
