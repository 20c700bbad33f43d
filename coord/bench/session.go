package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// dial opens one session and returns once the server has granted it, so no
// phase ever times connection setup.
func dial(ctx context.Context, servers []string, timeout time.Duration, log io.Writer) (*zk.Conn, error) {
	conn, events, err := zk.Connect(servers, timeout,
		zk.WithLogger(lineLogger{log}), zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", strings.Join(servers, ","), err)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil, fmt.Errorf("connect to %s: connection closed before a session was granted", strings.Join(servers, ","))
			}
			if ev.State == zk.StateHasSession {
				// Later session events are dropped by go-zookeeper when
				// nobody reads them, so nothing needs to drain events.
				return conn, nil
			}
		case <-deadline.C:
			conn.Close()
			return nil, fmt.Errorf("connect to %s: no session within %s", strings.Join(servers, ","), timeout)
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("connect to %s: %w", strings.Join(servers, ","), ctx.Err())
		}
	}
}

// dialN opens n sessions; on failure it closes the ones it opened.
func dialN(ctx context.Context, n int, servers []string, timeout time.Duration, log io.Writer) ([]*zk.Conn, error) {
	conns := make([]*zk.Conn, 0, n)
	for range n {
		c, err := dial(ctx, servers, timeout, log)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []*zk.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// lineLogger sends go-zookeeper's error log (reconnects, failed dials) to the
// progress writer instead of the process-wide log package.
type lineLogger struct{ w io.Writer }

func (l lineLogger) Printf(format string, args ...any) {
	fmt.Fprintf(l.w, "zk: "+strings.TrimSuffix(format, "\n")+"\n", args...)
}

// opFunc performs operation i on conn.
type opFunc func(conn *zk.Conn, i int) error

// drive performs ops 0..n-1 with workers goroutines, worker w on
// conns[w%len(conns)], each issuing its next operation as soon as its last
// one is answered, so exactly workers requests are in flight until the tail.
// Operations are handed out in index order from one counter. When lat is
// non-nil, lat[i] receives operation i's latency. The first error stops all
// workers and is returned; drive returns only after every worker has.
func drive(ctx context.Context, conns []*zk.Conn, workers, n int, lat []time.Duration, op opFunc) error {
	if n == 0 {
		return nil
	}
	workers = min(workers, n)
	var (
		next    atomic.Int64
		stop    atomic.Bool
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err })
		stop.Store(true)
	}
	for w := range workers {
		conn := conns[w%len(conns)]
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				t0 := time.Now()
				err := op(conn, i)
				if lat != nil {
					lat[i] = time.Since(t0)
				}
				if err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
