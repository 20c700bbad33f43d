package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// sender posts the agent's calls (UPDATE, PONG) to the master of the
// current subscription, one at a time and in order, so a task's updates
// reach the master in the order they happened. When a post fails the rest
// of the queue is dropped: the resend timer and the next subscription
// send every unacknowledged update again, still in order.
type sender struct {
	log    *slog.Logger
	client *http.Client

	mu     sync.Mutex
	master string // base URL; "" while not subscribed
	stream string
	queue  []*mesos.AgentCall
	wake   chan struct{}
}

func newSender(log *slog.Logger) *sender {
	return &sender{log: log, client: &http.Client{Timeout: 15 * time.Second}, wake: make(chan struct{}, 1)}
}

// target sets where calls go; an empty master stops sending and drops
// what is queued.
func (s *sender) target(master, stream string) {
	s.mu.Lock()
	s.master, s.stream = master, stream
	if master == "" {
		s.queue = nil
	}
	s.mu.Unlock()
}

// send queues a call for the current subscription; without one it is
// dropped (updates are resent after subscribing).
func (s *sender) send(c *mesos.AgentCall) {
	s.mu.Lock()
	if s.master == "" {
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, c)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *sender) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			if len(s.queue) == 0 || s.master == "" {
				s.mu.Unlock()
				break
			}
			c := s.queue[0]
			s.queue = s.queue[1:]
			master, stream := s.master, s.stream
			s.mu.Unlock()
			if err := s.post(ctx, master, stream, c); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Debug("agent call failed; dropping the queue until the next resend", "type", c.Type, "err", err)
				s.mu.Lock()
				s.queue = nil
				s.mu.Unlock()
			}
		}
	}
}

func (s *sender) post(ctx context.Context, master, stream string, c *mesos.AgentCall) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, master+"/api/v1/agent", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mesos-Stream-Id", stream)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return &callError{status: resp.Status, msg: string(msg)}
	}
	return nil
}

type callError struct{ status, msg string }

func (e *callError) Error() string { return "master answered " + e.status + ": " + e.msg }
