package client

import (
	"context"
	"crypto/tls"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"
)

// Options say where the masters are and how to reach them. They are shared
// by the Scheduler and the Operator client.
type Options struct {
	// Master is the master's base address: "http://host:5050",
	// "https://host:5050", "host:5050" (http), or "unix:///path/master.sock"
	// for a master's control socket. Several addresses separated by commas
	// are tried in turn until one answers; a standby among them redirects
	// to the leader. Ignored when Detector is set.
	Master string

	// Detector finds the leading master, e.g. through coord's leader
	// detection (see Follow and MasterInfoURL). The client asks it again
	// whenever the master it used fails.
	Detector Detector

	// Token is sent as "Authorization: Bearer <token>" on every request
	// (the operator token the CLI reads). It is not sent after a redirect
	// from https to plain http.
	Token string

	// TLSConfig is used for https masters (nil: the system's roots).
	TLSConfig *tls.Config

	// ZKTLS reaches coord's secure client port when Resolve is given a
	// zk:// master (coord.Config.TLS); nil dials plaintext.
	ZKTLS *tls.Config

	// DialContext replaces the TCP dialer, e.g. to reach a master through
	// `ssh host strata dial-stdio`. Unix-socket addresses never use it.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Timeout bounds a synchronous call, a dial, and the wait for a
	// stream's first event. Default 30s. Streams themselves run until they
	// break; their liveness is judged by heartbeats.
	Timeout time.Duration

	// MissedHeartbeats is how many heartbeat intervals a stream may stay
	// silent before the client abandons it and reconnects. Default 5.
	MissedHeartbeats int

	// Backoff spaces out reconnection attempts of event streams.
	Backoff Backoff

	// Logger receives reconnection notices (nil: discarded).
	Logger *slog.Logger
}

const (
	defaultTimeout           = 30 * time.Second
	defaultMissedHeartbeats  = 5
	defaultHeartbeatInterval = 15 * time.Second // Mesos' DEFAULT_HEARTBEAT_INTERVAL
	defaultBackoffInitial    = 250 * time.Millisecond
	defaultBackoffMax        = 15 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.MissedHeartbeats <= 0 {
		o.MissedHeartbeats = defaultMissedHeartbeats
	}
	o.Backoff = o.Backoff.withDefaults()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Backoff is exponential backoff with jitter: the n-th consecutive failure
// waits a random duration in [d/2, d], where d = Initial·2ⁿ capped at Max.
// The jitter keeps a crowd of clients that lost the same master from
// reconnecting in lockstep.
type Backoff struct {
	Initial time.Duration // default 250ms
	Max     time.Duration // default 15s
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = defaultBackoffInitial
	}
	if b.Max <= 0 {
		b.Max = defaultBackoffMax
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	return b
}

// Delay returns the wait before retry number attempt (0-based).
func (b Backoff) Delay(attempt int) time.Duration {
	b = b.withDefaults()
	d := b.Initial
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// heartbeatLimit is how long a stream may stay silent: the announced
// interval (Mesos' default when none is announced) times the allowed misses.
func heartbeatLimit(intervalSeconds float64, missed int) time.Duration {
	interval := time.Duration(intervalSeconds * float64(time.Second))
	if interval <= 0 {
		interval = defaultHeartbeatInterval
	}
	return interval * time.Duration(missed)
}
