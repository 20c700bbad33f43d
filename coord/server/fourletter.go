package server

import (
	"net"
	"net/http"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/strata-dc/strata/coord/server/flw"
)

// isFourLetter tells a four-letter word from a frame length: only a known
// word arriving as a connection's first four bytes is a command.
func isFourLetter(word string) bool { return flw.Known(word) }

// answerFourLetter writes a four-letter word's answer and lets the reader
// close the connection, as ZooKeeper does.
func (s *Server) answerFourLetter(c *conn, word string) {
	s.untrack(c) // a 4lw connection is not a client in cons or limits
	var text string
	switch {
	case !flw.Allowed(word, s.cfg.FourLetterWords):
		text = flw.NotAllowedMessage(word)
	default:
		snap, ok := s.flwSnapshot(word)
		if !ok {
			return
		}
		out, err := flw.Render(word, snap)
		if err != nil {
			text = err.Error() + "\n"
		} else {
			text = out
		}
	}
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.nc.Write([]byte(text))
}

// onProcessor runs f on the processor goroutine and waits for it; false if
// the server is stopping.
func (s *Server) onProcessor(f func()) bool {
	done := make(chan struct{})
	select {
	case s.calls <- func() { f(); close(done) }:
	case <-s.stopping:
		return false
	}
	select {
	case <-done:
		return true
	case <-s.stopping:
		return false
	}
}

// flwSnapshot copies what the four-letter words and /metrics report. The
// tree and the session table are read on the processor goroutine, so the
// figures are one consistent moment. crst and srst reset counters there.
func (s *Server) flwSnapshot(word string) (flw.Snapshot, bool) {
	var snap flw.Snapshot
	ok := s.onProcessor(func() {
		switch word {
		case "srst":
			s.stats.reset()
		case "crst":
			s.connMu.Lock()
			for c := range s.conns {
				c.resetStats()
			}
			s.connMu.Unlock()
		}
		ts := s.tree.Stats()
		lo, avg, hi := latency(&s.stats.minLat, &s.stats.maxLat, &s.stats.sumLat, &s.stats.countLat)
		snap = flw.Snapshot{
			Version:         flw.FullVersion(s.cfg.Version, s.started),
			ServerState:     "standalone",
			Zxid:            s.tree.LastZxid(),
			Received:        s.stats.received.Load(),
			Sent:            s.stats.sent.Load(),
			Outstanding:     int64(s.rel.backlog() + len(s.reqs)),
			NodeCount:       ts.Nodes,
			MinLatency:      lo,
			AvgLatency:      avg,
			MaxLatency:      hi,
			WatchCount:      ts.Watches,
			EphemeralsCount: ts.Ephemerals,
			ApproxDataSize:  ts.ApproxDataSize,
			GlobalSessions:  int64(len(s.sessions)),
			Uptime:          time.Since(s.started),
			Counters: map[string]int64{
				"expired_sessions": s.stats.expired.Load(),
			},
			Conf: flw.Conf{
				ClientPort:        s.clientPort(),
				DataDir:           s.cfg.DataDir,
				DataLogDir:        s.cfg.DataLogDir,
				TickTime:          s.cfg.TickTime,
				MaxClientCnxns:    s.cfg.MaxClientCnxns,
				MinSessionTimeout: s.cfg.MinSessionTimeout,
				MaxSessionTimeout: s.cfg.MaxSessionTimeout,
			},
		}
		ws := s.wal.Stats()
		snap.Counters["fsync_count"] = ws.FsyncCount
		snap.Counters["fsync_max_ms"] = ws.MaxFsync.Milliseconds()
		snap.OpenFDs, snap.MaxFDs = fds()
		s.connMu.Lock()
		for c := range s.conns {
			snap.Connections = append(snap.Connections, c.describe())
		}
		s.connMu.Unlock()
		sort.Slice(snap.Connections, func(i, j int) bool { return snap.Connections[i].Remote < snap.Connections[j].Remote })
		switch word {
		case "dump", "metrics":
			for id, st := range s.sessions {
				snap.Sessions = append(snap.Sessions, flw.Session{ID: id, Expires: st.deadline})
			}
			snap.Ephemerals = s.tree.EphemeralsBySession()
		}
		switch word {
		case "wchs", "wchc", "wchp", "dump":
			for id, paths := range s.tree.WatchesBySession() {
				for _, p := range paths {
					snap.Watches = append(snap.Watches, flw.Watch{Session: id, Path: p})
				}
			}
		case "envi":
			snap.Env = flw.Environment(s.cfg.Version)
		}
	})
	return snap, ok
}

// describe is the connection as cons shows it. Called on the processor
// goroutine, which owns session and timeout.
func (c *conn) describe() flw.Conn {
	lo, avg, hi := latency(&c.minLat, &c.maxLat, &c.sumLat, &c.countLat)
	fc := flw.Conn{
		Remote:      c.remote,
		InterestOps: 1,
		Queued:      int64(len(c.inflight)),
		Received:    c.received.Load(),
		Sent:        c.sent.Load(),
		SessionID:   c.session,
		LastOp:      c.lastOp.Load().(string),
		Established: c.established,
		Timeout:     time.Duration(c.timeout) * time.Millisecond,
		LastCxid:    c.lastCxid.Load(),
		LastZxid:    c.lastZxid.Load(),
		MinLatency:  int64(lo),
		AvgLatency:  int64(avg),
		MaxLatency:  int64(hi),
	}
	if ms := c.lastResponse.Load(); ms > 0 {
		fc.LastResponse = time.UnixMilli(ms)
	}
	return fc
}

func (c *conn) resetStats() {
	c.received.Store(0)
	c.sent.Store(0)
	c.minLat.Store(-1)
	c.maxLat.Store(0)
	c.sumLat.Store(0)
	c.countLat.Store(0)
	c.lastCxid.Store(-1)
	c.lastZxid.Store(-1)
	c.lastResponse.Store(0)
	c.lastOp.Store("NA")
}

// fds counts this process's open file descriptors and its limit.
func fds() (open, limit int64) {
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		open = int64(len(ents))
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		limit = int64(rl.Cur)
	}
	return open, limit
}

// adminServer serves Prometheus /metrics (and the four-letter words as
// /commands/<word>) on the optional admin address.
type adminServer struct {
	ln  net.Listener
	srv *http.Server
}

func startAdmin(s *Server, addr string) (*adminServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", flw.Handler(func() flw.Snapshot {
		snap, _ := s.flwSnapshot("metrics")
		return snap
	}))
	mux.HandleFunc("/commands/{word}", func(w http.ResponseWriter, r *http.Request) {
		word := r.PathValue("word")
		if !flw.Known(word) {
			http.Error(w, "unknown four-letter word "+word, http.StatusNotFound)
			return
		}
		if !flw.Allowed(word, s.cfg.FourLetterWords) {
			http.Error(w, flw.NotAllowedMessage(word), http.StatusForbidden)
			return
		}
		snap, ok := s.flwSnapshot(word)
		if !ok {
			http.Error(w, "server stopping", http.StatusServiceUnavailable)
			return
		}
		out, err := flw.Render(word, snap)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotImplemented)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(out))
	})
	a := &adminServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go a.srv.Serve(ln)
	return a, nil
}

func (a *adminServer) addr() net.Addr { return a.ln.Addr() }
func (a *adminServer) close()         { a.srv.Close() }
