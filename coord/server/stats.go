package server

import (
	"sync/atomic"
	"syscall"
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
)

var errTooManyFiles = syscall.EMFILE

// serverStats are the counters srvr, stat, mntr and /metrics report.
type serverStats struct {
	received atomic.Int64
	sent     atomic.Int64
	expired  atomic.Int64
	minLat   atomic.Int64 // µs; -1 until the first request
	maxLat   atomic.Int64
	sumLat   atomic.Int64
	countLat atomic.Int64
}

func (st *serverStats) init() { st.minLat.Store(-1) }

func (st *serverStats) reset() {
	st.received.Store(0)
	st.sent.Store(0)
	st.minLat.Store(-1)
	st.maxLat.Store(0)
	st.sumLat.Store(0)
	st.countLat.Store(0)
}

func storeMin(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if cur != -1 && cur <= v {
			return
		}
		if a.CompareAndSwap(cur, v) {
			return
		}
	}
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if cur >= v {
			return
		}
		if a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// observe records one request's latency, server-wide and per connection.
func (st *serverStats) observe(c *conn, hdr jute.ReplyHeader, d time.Duration) {
	us := d.Microseconds()
	storeMin(&st.minLat, us)
	storeMax(&st.maxLat, us)
	st.sumLat.Add(us)
	st.countLat.Add(1)
	storeMin(&c.minLat, us)
	storeMax(&c.maxLat, us)
	c.sumLat.Add(us)
	c.countLat.Add(1)
	c.lastZxid.Store(hdr.Zxid)
	c.lastResponse.Store(time.Now().UnixMilli())
}

// latency returns min/avg/max in milliseconds, as ZooKeeper prints them.
func latency(minA, maxA, sumA, countA *atomic.Int64) (lo, avg, hi float64) {
	n := countA.Load()
	if n == 0 {
		return 0, 0, 0
	}
	lo = float64(max(minA.Load(), 0)) / 1000
	hi = float64(maxA.Load()) / 1000
	avg = float64(sumA.Load()) / float64(n) / 1000
	return lo, avg, hi
}
