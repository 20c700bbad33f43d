package bench

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Config is what every target in one invocation is measured with; keeping it
// shared is what makes columns of a compare table comparable.
type Config struct {
	// Ops is the number of operations in each async phase (create, set, get
	// and delete, for each in-flight layout). 0 skips the async phases.
	Ops int `json:"ops"`
	// SeqOps is the number of sequential creates and of watch rounds. 0
	// skips both.
	SeqOps int `json:"seq_ops"`
	// Warmup is the number of znodes created, read, set and deleted
	// (untimed, InFlight in flight) before the first timed phase, so a JIT
	// server such as Apache ZooKeeper is measured compiled, as it runs in
	// production. 0 skips it.
	Warmup int `json:"warmup"`
	// ValueSize is the byte length of every value written by the timed
	// phases.
	ValueSize int `json:"value_size"`
	// InFlight is the number of requests kept in flight on the one session
	// of the first async layout.
	InFlight int `json:"in_flight"`
	// Sessions and SessionsInFlight describe the second async layout:
	// SessionsInFlight requests in flight spread evenly over Sessions.
	Sessions         int `json:"sessions"`
	SessionsInFlight int `json:"sessions_in_flight"`
	// Root is the znode everything is created under. It must not exist: the
	// run creates it and deletes it, with everything below, when it ends.
	Root string `json:"root"`
	// Znodes, when positive, runs the memory phase first: create that many
	// small znodes and read the server's resident set size (needs
	// Target.PID).
	Znodes int `json:"znodes,omitempty"`
	// Rounds runs every target this many times, alternating their order
	// from round to round, and reports each figure as its median over the
	// rounds, so a burst of load on a shared machine lands on no one server
	// alone. The memory phase runs in the first round only. 0 means 1.
	Rounds int `json:"rounds,omitempty"`
	// SessionTimeout is asked of the server for every benchmark session.
	SessionTimeout time.Duration `json:"-"`
	// Progress, when set, receives one line per finished phase and the
	// client library's error log; it is how a long run shows it is alive.
	Progress io.Writer `json:"-"`
}

// Defaults for the flags of `strata bench coord`.
const (
	DefaultOps              = 20000
	DefaultSeqOps           = 2000
	DefaultWarmup           = 10000
	DefaultValueSize        = 1024
	DefaultInFlight         = 32
	DefaultSessions         = 8
	DefaultSessionsInFlight = 64
	DefaultSessionTimeout   = 10 * time.Second
)

// memValueSize is the value length of the memory phase's znodes: small, so
// the figure is dominated by per-znode overhead rather than payload.
const memValueSize = 16

// Target is one server (or ensemble) to measure.
type Target struct {
	// Label names the target's column ("zookeeper", "strata").
	Label string `json:"label"`
	// Servers are host:port addresses of one ensemble.
	Servers []string `json:"servers"`
	// PID is the server process, read from /proc for RSS and CPU time; 0
	// when unknown or remote.
	PID int `json:"pid,omitempty"`
}

// withDefaults fills zero fields that have no meaningful zero value, so a
// caller (or a test) may set only what it cares about.
func (c Config) withDefaults() Config {
	if c.ValueSize == 0 {
		c.ValueSize = DefaultValueSize
	}
	if c.InFlight == 0 {
		c.InFlight = DefaultInFlight
	}
	if c.Sessions == 0 {
		c.Sessions = DefaultSessions
	}
	if c.SessionsInFlight == 0 {
		c.SessionsInFlight = DefaultSessionsInFlight
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

// validate names the first field that cannot produce a meaningful run.
func (c Config) validate() error {
	switch {
	case c.Ops < 0:
		return fmt.Errorf("ops %d: must not be negative", c.Ops)
	case c.SeqOps < 0:
		return fmt.Errorf("seq-ops %d: must not be negative", c.SeqOps)
	case c.Warmup < 0:
		return fmt.Errorf("warmup %d: must not be negative", c.Warmup)
	case c.ValueSize < 0 || c.ValueSize > 1<<20-1024:
		// ZooKeeper's jute.maxbuffer is 1 MiB for the whole request.
		return fmt.Errorf("value-size %d: must be between 0 and %d", c.ValueSize, 1<<20-1024)
	case c.InFlight < 1:
		return fmt.Errorf("in-flight %d: must be at least 1", c.InFlight)
	case c.Sessions < 1:
		return fmt.Errorf("sessions %d: must be at least 1", c.Sessions)
	case c.SessionsInFlight < c.Sessions:
		return fmt.Errorf("sessions-in-flight %d: must be at least sessions (%d)", c.SessionsInFlight, c.Sessions)
	case c.Znodes < 0:
		return fmt.Errorf("znodes %d: must not be negative", c.Znodes)
	case c.Rounds < 0:
		return fmt.Errorf("rounds %d: must not be negative", c.Rounds)
	}
	if c.Root != "" {
		if err := checkRoot(c.Root); err != nil {
			return err
		}
	}
	return nil
}

// checkRoot rejects roots the cleanup could not safely own: "/" itself, or
// anything that is not an absolute, normalised znode path.
func checkRoot(root string) error {
	if !strings.HasPrefix(root, "/") || root == "/" || strings.HasSuffix(root, "/") ||
		strings.Contains(root, "//") || strings.Contains(root, "/./") || strings.Contains(root, "/../") ||
		strings.HasSuffix(root, "/.") || strings.HasSuffix(root, "/..") {
		return fmt.Errorf("root %q: must be an absolute znode path below /, like /strata-bench", root)
	}
	return nil
}

// UniqueRoot returns a root znode name no other run will pick, so parallel
// runs against one server never share or delete each other's nodes.
func UniqueRoot() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on Linux; the time still separates runs.
		return fmt.Sprintf("/strata-bench-%d", time.Now().UnixNano())
	}
	return "/strata-bench-" + hex.EncodeToString(b[:])
}

// ParseTargets parses the compare form "name=host:port[,host:port…][,name=…]":
// an item with "=" starts a target, an item without one adds a server to the
// target before it, so ensembles fit in the same comma list.
func ParseTargets(spec string) ([]Target, error) {
	var targets []Target
	seen := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("compare %q: empty item", spec)
		}
		name, addr, ok := strings.Cut(item, "=")
		if !ok {
			if len(targets) == 0 {
				return nil, fmt.Errorf("compare %q: %q has no name= before it", spec, item)
			}
			if err := checkAddr(item); err != nil {
				return nil, fmt.Errorf("compare %q: %w", spec, err)
			}
			t := &targets[len(targets)-1]
			t.Servers = append(t.Servers, item)
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("compare %q: %q has an empty name", spec, item)
		}
		if seen[name] {
			return nil, fmt.Errorf("compare %q: name %q given twice", spec, name)
		}
		seen[name] = true
		if err := checkAddr(addr); err != nil {
			return nil, fmt.Errorf("compare %q: %s: %w", spec, name, err)
		}
		targets = append(targets, Target{Label: name, Servers: []string{addr}})
	}
	if len(targets) == 0 {
		return nil, errors.New("compare: no targets")
	}
	return targets, nil
}

// ParseServers parses --servers' "host:port[,host:port…]".
func ParseServers(spec string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if err := checkAddr(s); err != nil {
			return nil, fmt.Errorf("servers %q: %w", spec, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// checkAddr wants host:port; go-zookeeper would otherwise add :2181 itself,
// which hides a typo behind a connection to the wrong server.
func checkAddr(a string) error {
	i := strings.LastIndex(a, ":")
	if i <= 0 || i == len(a)-1 {
		return fmt.Errorf("address %q: want host:port", a)
	}
	return nil
}
