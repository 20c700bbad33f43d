package coord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-zookeeper/zk"
)

// ErrNoLeader: the group has no candidate.
var ErrNoLeader = errors.New("coord: no leader")

// Leader is what a detector knows of a group's leader: the lowest
// json.info_ node and the info its candidate stored there. The zero Leader
// means none is known: the group is empty, or the session expired and the
// detector has not looked again yet.
type Leader struct {
	Node string          // e.g. json.info_0000000007; "" when none
	Info json.RawMessage // the leader's info, as given to Elect
}

func (l Leader) equal(o Leader) bool {
	return l.Node == o.Node && bytes.Equal(l.Info, o.Info)
}

// Leader reads the group's current leader once; ErrNoLeader when the group
// is empty or missing.
func (s *Session) Leader(ctx context.Context, group string) (Leader, error) {
	abs, err := s.Path(group)
	if err != nil {
		return Leader{}, err
	}
	for {
		l, err := s.lowest(ctx, abs)
		if errors.Is(err, errLeaderMoved) {
			continue
		}
		if err != nil {
			return Leader{}, err
		}
		if l.Node == "" {
			return Leader{}, fmt.Errorf("coord: leader of %s: %w", group, ErrNoLeader)
		}
		return l, nil
	}
}

// WatchLeader follows the group's leader for followers and clients: the
// channel yields the leader as soon as it is known (the zero Leader when
// there is none yet), then every change, including to "none" when the
// group empties or the session expires. A slow reader gets the latest
// value, not a backlog. The channel is closed when ctx ends or the
// Session closes. Works before the group exists.
func (s *Session) WatchLeader(ctx context.Context, group string) (<-chan Leader, error) {
	abs, err := s.Path(group)
	if err != nil {
		return nil, err
	}
	out := make(chan Leader)
	sub := s.subscribe()
	if !s.spawn(func() {
		defer close(out)
		defer s.unsubscribe(sub)
		s.detect(ctx, abs, sub, out)
	}) {
		s.unsubscribe(sub)
		return nil, ErrClosed
	}
	return out, nil
}

// errLeaderMoved: the lowest node went between listing and reading it.
var errLeaderMoved = errors.New("leader node vanished while read")

// detect is the WatchLeader loop: it watches the group's children (any
// change may change the lowest) and re-reads after every change.
func (s *Session) detect(ctx context.Context, group string, sub *subscriber, out chan<- Leader) {
	var (
		connected bool
		sessionID int64
		watch     <-chan zk.Event
		check     bool
		known     bool // current has been sent (or queued) at least once
		current   Leader
		pending   *Leader
		retry     *time.Timer
		backoff   time.Duration
	)
	defer func() { stopTimer(retry) }()
	update := func(l Leader) {
		if known && l.equal(current) {
			return
		}
		known, current = true, l
		pending = &l
	}
	for {
		if check && connected {
			check = false
			l, ch, err := s.lookLeader(ctx, group)
			switch {
			case err == nil:
				backoff = 0
				watch = ch
				update(l)
			case errors.Is(err, errLeaderMoved):
				check = true
			case ctx.Err() != nil || s.ctx.Err() != nil:
				return
			default:
				s.log.Debug("leader detection interrupted; retrying", "group", group, "err", err)
				backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
				stopTimer(retry)
				retry = time.NewTimer(backoff)
			}
			if check {
				continue
			}
		}
		var send chan<- Leader
		var next Leader
		if pending != nil {
			send, next = out, *pending
		}
		select {
		case <-ctx.Done():
			return
		case <-s.ctx.Done():
			return
		case send <- next:
			pending = nil
		case <-sub.wake:
			for _, ev := range sub.drain() {
				switch ev.State {
				case Connected:
					connected = true
					if ev.SessionID != sessionID {
						sessionID = ev.SessionID
						watch = nil // a new session has no watches
					}
					if watch == nil {
						check = true
					}
				case Disconnected:
					connected = false // watches survive; the leader may not
				case Expired:
					connected = false
					sessionID, watch = 0, nil
					if known {
						update(Leader{})
					}
				}
			}
		case <-watch:
			watch = nil
			check = true
		case <-timerC(retry):
			retry = nil
			check = true
		}
	}
}

// lookLeader reads the leader and leaves a watch that fires on the next
// membership change (or on the group's creation).
func (s *Session) lookLeader(ctx context.Context, group string) (Leader, <-chan zk.Event, error) {
	type listed struct {
		names []string
		ch    <-chan zk.Event
	}
	l0, err := call(ctx, s, func(c *zk.Conn) (listed, error) {
		names, _, ch, err := c.ChildrenW(group)
		return listed{names, ch}, err
	})
	names, ch := l0.names, l0.ch
	if errors.Is(err, zk.ErrNoNode) {
		type existed struct {
			ok bool
			ch <-chan zk.Event
		}
		var e existed
		e, err = call(ctx, s, func(c *zk.Conn) (existed, error) {
			ok, _, ch, err := c.ExistsW(group)
			return existed{ok, ch}, err
		})
		exists, ch := e.ok, e.ch
		if err != nil {
			return Leader{}, nil, err
		}
		if exists { // created meanwhile: list it
			return Leader{}, nil, errLeaderMoved
		}
		return Leader{}, ch, nil
	}
	if err != nil {
		return Leader{}, nil, err
	}
	l, err := s.readLowest(ctx, group, sortMembers(names))
	return l, ch, err
}

// lowest reads the leader without watching.
func (s *Session) lowest(ctx context.Context, group string) (Leader, error) {
	members, err := s.members(ctx, group)
	if err != nil {
		return Leader{}, err
	}
	return s.readLowest(ctx, group, members)
}

func (s *Session) readLowest(ctx context.Context, group string, members []string) (Leader, error) {
	if len(members) == 0 {
		return Leader{}, nil
	}
	data, err := call(ctx, s, func(c *zk.Conn) ([]byte, error) {
		data, _, err := c.Get(group + "/" + members[0])
		return data, err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return Leader{}, errLeaderMoved
	}
	if err != nil {
		return Leader{}, fmt.Errorf("coord: read leader %s/%s: %w", group, members[0], err)
	}
	return Leader{Node: members[0], Info: json.RawMessage(data)}, nil
}
