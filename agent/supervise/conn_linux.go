package supervise

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"
)

// maxQueue bounds what a connection may have waiting to be written: a
// client that stops reading loses its connection (and gets a fresh
// snapshot when it reconnects) rather than the supervisor growing without
// bound.
const maxQueue = 1 << 16

// conn is one client connection. Its reader handles requests in order
// (launches and shutdowns on their own goroutines, since they wait on
// disks and on tasks); its writer sends responses and events from a queue,
// so nobody holding the supervisor's lock ever waits on a socket.
type conn struct {
	s  *supervisor
	nc net.Conn

	mu     sync.Mutex
	queue  []response
	closed bool
	wake   chan struct{}

	done     chan struct{} // closed: flush the queue, then hang up
	doneOnce sync.Once
	handlers sync.WaitGroup
}

func newConn(s *supervisor, nc net.Conn) *conn {
	return &conn{s: s, nc: nc, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (c *conn) serve() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	dec := json.NewDecoder(bufio.NewReader(c.nc))
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			break
		}
		c.handle(req)
	}
	c.s.mu.Lock()
	if c.s.watchers[c] {
		delete(c.s.watchers, c)
		if len(c.s.watchers) == 0 {
			c.s.unwatchedSince = time.Now()
		}
	}
	c.s.mu.Unlock()
	c.handlers.Wait()
	c.finish()
	<-writerDone
	c.nc.Close()
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.changed.Broadcast()
	c.s.mu.Unlock()
}

// send queues r for the writer; it never blocks.
func (c *conn) send(r response) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue) >= maxQueue {
		c.closed = true
		c.mu.Unlock()
		c.s.log.Warn("client does not read; hanging up", "queued", maxQueue)
		c.nc.Close()
		return
	}
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// finish makes the writer hang up once it has written what is queued,
// giving a client that does not read a few seconds to take it.
func (c *conn) finish() {
	c.doneOnce.Do(func() {
		c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		close(c.done)
	})
}

func (c *conn) writeLoop() {
	bw := bufio.NewWriter(c.nc)
	enc := json.NewEncoder(bw)
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()
		for i := range batch {
			if err := enc.Encode(&batch[i]); err != nil {
				c.hangUp()
				return
			}
		}
		if err := bw.Flush(); err != nil {
			c.hangUp()
			return
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-c.wake:
		case <-c.done:
			c.mu.Lock()
			empty := len(c.queue) == 0
			c.mu.Unlock()
			if empty {
				c.hangUp()
				return
			}
		}
	}
}

func (c *conn) hangUp() {
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	c.nc.Close()
}

func (c *conn) reply(id uint64, t Task, err error) {
	if err != nil {
		c.send(errorResponse(id, err))
		return
	}
	c.send(response{ID: id, Task: &t})
}

func (c *conn) handle(req request) {
	s := c.s
	switch req.Op {
	case opHello:
		info := s.info()
		c.send(response{ID: req.ID, Info: &info})
	case opWatch:
		// The snapshot and the registration happen under the lock every
		// event is published under: the events that follow build exactly
		// on this snapshot.
		s.mu.Lock()
		c.send(response{ID: req.ID, Tasks: s.snapshot()})
		s.watchers[c] = true
		s.unwatchedSince = time.Time{}
		s.mu.Unlock()
	case opOrphans:
		s.mu.Lock()
		s.orphanAfter = req.Timeout
		s.mu.Unlock()
		c.send(response{ID: req.ID})
	case opList:
		s.mu.Lock()
		snap := s.snapshot()
		s.mu.Unlock()
		c.send(response{ID: req.ID, Tasks: snap})
	case opLaunch:
		if req.Spec == nil {
			c.send(errorResponse(req.ID, fmt.Errorf("%w: launch without a spec", ErrInvalid)))
			return
		}
		spec := *req.Spec
		c.handlers.Go(func() {
			t, err := s.launch(spec)
			c.reply(req.ID, t, err)
		})
	case opKill:
		t, err := s.kill(req.Task, req.Grace)
		c.reply(req.ID, t, err)
	case opForget:
		c.reply(req.ID, Task{}, s.forget(req.Task))
	case opShutdown:
		c.handlers.Go(func() {
			s.killEverything()
			c.send(response{ID: req.ID})
			s.requestStop()
		})
	default:
		c.send(errorResponse(req.ID, fmt.Errorf("%w: unknown op %q", ErrInvalid, req.Op)))
	}
}
