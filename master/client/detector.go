package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/strata-dc/strata/master/mesos"
)

// Detector returns the base address of the master to talk to, ideally the
// leader (a standby redirects to it, so any master will do). Addresses take
// the forms Options.Master accepts. The client calls it before connecting
// and again after the master it used fails; it may block until a leader is
// known, and must return when ctx ends.
type Detector func(ctx context.Context) (string, error)

// Masters returns a Detector that hands out addrs in turn, one per call:
// since the client asks again only when a master failed, this walks the
// list until one answers.
func Masters(addrs ...string) Detector {
	var mu sync.Mutex
	next := 0
	return func(ctx context.Context) (string, error) {
		if len(addrs) == 0 {
			return "", errors.New("no master addresses")
		}
		mu.Lock()
		defer mu.Unlock()
		a := addrs[next%len(addrs)]
		next++
		return a, nil
	}
}

// Follow returns a Detector that reads the latest value from ch, e.g. the
// channel of coord's Session.WatchLeader, and turns it into an address with
// toURL (typically MasterInfoURL on the leader's info). Values are read
// only when the client asks, so ch should be one whose slow reader gets the
// latest value rather than a backlog. Until a first value arrives the
// Detector waits for it; once ch is closed it keeps the last value.
//
//	leaders, _ := session.WatchLeader(ctx, "master/leader")
//	opts.Detector = client.Follow(leaders, func(l coord.Leader) (string, error) {
//		return client.MasterInfoURL(l.Info, "http")
//	})
func Follow[T any](ch <-chan T, toURL func(T) (string, error)) Detector {
	f := &follower[T]{ch: ch, toURL: toURL, turn: make(chan struct{}, 1)}
	return f.detect
}

type follower[T any] struct {
	ch     <-chan T
	toURL  func(T) (string, error)
	turn   chan struct{} // a lock that waiting callers can give up on
	have   bool
	closed bool
	latest T
}

func (f *follower[T]) detect(ctx context.Context) (string, error) {
	select {
	case f.turn <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-f.turn }()
	// Take the latest value without blocking...
drain:
	for !f.closed {
		select {
		case v, ok := <-f.ch:
			f.take(v, ok)
		default:
			break drain
		}
	}
	// ...or, before the first one, wait for it.
	if !f.have && !f.closed {
		select {
		case v, ok := <-f.ch:
			f.take(v, ok)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if !f.have {
		return "", errors.New("leader channel closed before naming a leader")
	}
	return f.toURL(f.latest)
}

func (f *follower[T]) take(v T, ok bool) {
	if !ok {
		f.closed = true
		return
	}
	f.latest, f.have = v, true
}

// MasterInfoURL reads the MasterInfo JSON a master stores in its election
// node (json.info_NNNNNNNNNN) and returns its base URL with scheme ("http"
// when empty). An empty info means no leader is known.
func MasterInfoURL(info []byte, scheme string) (string, error) {
	if len(strings.TrimSpace(string(info))) == 0 {
		return "", fmt.Errorf("no leader known: %w", ErrUnavailable)
	}
	mi, err := mesos.ParseMasterInfo(info)
	if err != nil {
		return "", err
	}
	if scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + mi.Endpoint(), nil
}

// resolver remembers which master to use: the detector's answer, or the
// leader a redirect named, until that master fails.
type resolver struct {
	t      *transport
	detect Detector

	mu  sync.Mutex
	cur *url.URL
}

func newResolver(t *transport, o Options) (*resolver, error) {
	r := &resolver{t: t, detect: o.Detector}
	if r.detect == nil {
		var addrs []string
		for a := range strings.SplitSeq(o.Master, ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			if _, err := t.parseBase(a); err != nil { // report bad addresses now
				return nil, err
			}
			addrs = append(addrs, a)
		}
		if len(addrs) == 0 {
			return nil, errors.New("no master: set Options.Master or Options.Detector")
		}
		r.detect = Masters(addrs...)
	}
	return r, nil
}

// base returns the master to use, asking the detector if none is known.
func (r *resolver) base(ctx context.Context) (*url.URL, error) {
	r.mu.Lock()
	cur := r.cur
	r.mu.Unlock()
	if cur != nil {
		return cur, nil
	}
	addr, err := r.detect(ctx)
	if err != nil {
		return nil, fmt.Errorf("find master: %w", err)
	}
	u, err := r.t.parseBase(addr)
	if err != nil {
		return nil, fmt.Errorf("find master: %w", err)
	}
	r.mu.Lock()
	if r.cur == nil {
		r.cur = u
	}
	r.mu.Unlock()
	return u, nil
}

// moved records the leader a redirect led to.
func (r *resolver) moved(from, to *url.URL) {
	if from.String() == to.String() {
		return
	}
	r.mu.Lock()
	r.cur = to
	r.mu.Unlock()
}

// failed forgets u, if it is still the master in use, so the next request
// asks the detector again.
func (r *resolver) failed(u *url.URL) {
	r.mu.Lock()
	if r.cur != nil && u != nil && r.cur.String() == u.String() {
		r.cur = nil
	}
	r.mu.Unlock()
}
