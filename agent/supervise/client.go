package supervise

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configures Start.
type Options struct {
	// Dir is the supervisor's directory (see Config.Dir); the agent uses
	// one inside its work dir.
	Dir string
	// Name is the agent's: it names the cgroup subtree strata-<Name>, so
	// agents (and tests) sharing a host never share cgroups.
	Name string
	// Isolation of the tasks; a running supervisor configured otherwise
	// is refused rather than silently adopted.
	Isolation Isolation
	// Command runs the supervisor: a program and its leading arguments, to
	// which Start appends the flags Run documents. The default is this
	// executable's hidden command: /proc/self/exe agent-supervisor.
	Command []string
}

// DefaultCommand is how Start runs the supervisor unless told otherwise:
// the strata binary the agent itself runs from.
var DefaultCommand = []string{"/proc/self/exe", "agent-supervisor"}

// Client is an agent's connection to its supervisor. It keeps a mirror of
// every task the supervisor remembers, fed by the supervisor's event
// stream; Tasks reads the mirror without a round trip.
type Client struct {
	dir  string
	info Info
	nc   net.Conn
	dec  *json.Decoder

	wmu sync.Mutex // one request written at a time
	enc *json.Encoder

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan response
	tasks   map[string]Task
	queue   []Event
	err     error

	qwake     chan struct{}
	events    chan Event
	done      chan struct{} // the connection is gone
	closing   chan struct{} // Close was called
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// errNotRunning: no supervisor answers on the socket.
var errNotRunning = errors.New("no supervisor is running")

// Start connects to the supervisor serving o.Dir, starting one first if
// none is running. An agent calls it when it starts and when it restarts:
// tasks launched before the restart are in Tasks, running or with their
// real exit status; if the supervisor itself was gone (a crash, a reboot),
// the new one reports those tasks as exited with Exit.Lost, and
// Info().Spawned is true.
func Start(ctx context.Context, o Options) (*Client, error) {
	if o.Isolation == "" {
		o.Isolation = IsolationPosix
	}
	if len(o.Command) == 0 {
		o.Command = DefaultCommand
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("supervisor dir %q: %w", o.Dir, err)
	}
	o.Dir = dir
	cfg := Config{Dir: dir, Name: o.Name, Isolation: o.Isolation}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("supervisor dir: %w", err)
	}
	c, err := Connect(ctx, dir)
	if err == nil {
		if err := c.matches(o); err != nil {
			return nil, err
		}
		return c, nil
	}
	if !errors.Is(err, errNotRunning) {
		return nil, err
	}
	if err := spawn(ctx, o); err != nil {
		return nil, err
	}
	// It serves now, or a supervisor started at the same moment by
	// someone else does, or is about to.
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		c, err = Connect(ctx, dir)
		if !errors.Is(err, errNotRunning) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to the supervisor in %s: %w", dir, ctx.Err())
		case <-time.After(wait):
		}
	}
	if err != nil {
		return nil, err
	}
	c.info.Spawned = true
	if err := c.matches(o); err != nil {
		return nil, err
	}
	return c, nil
}

// matches refuses a supervisor configured differently from what the
// agent asks for: its tasks would not be isolated as the agent believes.
func (c *Client) matches(o Options) error {
	if c.info.Isolation == o.Isolation && c.info.Name == o.Name {
		return nil
	}
	c.Close()
	return fmt.Errorf("the supervisor in %s (pid %d) runs with --isolation=%s --name=%s, not --isolation=%s --name=%s; "+
		"shut it down first (which kills its tasks) or start the agent as before",
		c.dir, c.info.PID, c.info.Isolation, c.info.Name, o.Isolation, o.Name)
}

// spawn runs the supervisor command with --detach and waits for it.
func spawn(ctx context.Context, o Options) error {
	args := append(slices.Clone(o.Command[1:]),
		"--dir", o.Dir, "--name", o.Name, "--isolation", string(o.Isolation), "--detach")
	cmd := exec.CommandContext(ctx, o.Command[0], args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("start the supervisor (%s): %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Connect connects to the supervisor serving dir, without starting one.
func Connect(ctx context.Context, dir string) (*Client, error) {
	sock := filepath.Join(dir, sockName)
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w in %s", errNotRunning, dir)
		}
		return nil, fmt.Errorf("connect to the supervisor at %s: %w", sock, err)
	}
	c := &Client{
		dir: dir, nc: nc,
		dec: json.NewDecoder(bufio.NewReader(nc)), enc: json.NewEncoder(nc),
		pending: map[uint64]chan response{}, tasks: map[string]Task{},
		qwake: make(chan struct{}, 1), events: make(chan Event),
		done: make(chan struct{}), closing: make(chan struct{}),
	}
	if err := c.handshake(ctx); err != nil {
		nc.Close()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			// A supervisor that was stopping as we came.
			return nil, fmt.Errorf("%w in %s: %v", errNotRunning, dir, err)
		}
		return nil, fmt.Errorf("supervisor at %s: %w", sock, err)
	}
	c.wg.Add(2)
	go c.read()
	go c.pump()
	return c, nil
}

// handshake says hello and subscribes, synchronously, before any
// goroutine reads: the watch response is the snapshot the mirror starts
// from.
func (c *Client) handshake(ctx context.Context) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	c.nc.SetDeadline(deadline)
	defer c.nc.SetDeadline(time.Time{})
	roundTrip := func(op string) (response, error) {
		if err := c.enc.Encode(request{ID: 1, Op: op}); err != nil {
			return response{}, err
		}
		var r response
		if err := c.dec.Decode(&r); err != nil {
			return response{}, err
		}
		return r, r.err()
	}
	r, err := roundTrip(opHello)
	if err != nil {
		return err
	}
	if r.Info == nil || r.Info.Protocol != protocolVersion {
		got := 0
		if r.Info != nil {
			got = r.Info.Protocol
		}
		return fmt.Errorf("speaks protocol %d, this client %d; shut the old supervisor down first", got, protocolVersion)
	}
	c.info = *r.Info
	if r, err = roundTrip(opWatch); err != nil {
		return err
	}
	for _, t := range r.Tasks {
		c.tasks[t.Spec.ID] = t
	}
	c.nextID = 1
	return nil
}

// read dispatches responses to their callers and events to the mirror.
func (c *Client) read() {
	defer c.wg.Done()
	for {
		var r response
		if err := c.dec.Decode(&r); err != nil {
			c.fail(err)
			return
		}
		c.mu.Lock()
		if ev := r.Event; ev != nil {
			if ev.Forgotten {
				delete(c.tasks, ev.Task.Spec.ID)
			} else {
				c.tasks[ev.Task.Spec.ID] = ev.Task
			}
			c.queue = append(c.queue, *ev)
			c.mu.Unlock()
			select {
			case c.qwake <- struct{}{}:
			default:
			}
			continue
		}
		ch := c.pending[r.ID]
		delete(c.pending, r.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// fail records why the connection ended and wakes every waiting call.
func (c *Client) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	select {
	case <-c.closing:
		c.err = ErrClosed
	default:
		c.err = fmt.Errorf("%w: connection to the supervisor lost: %v", ErrClosed, err)
	}
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	close(c.done)
}

// pump hands queued events to Events' channel in order, so the reader
// never waits for the agent.
func (c *Client) pump() {
	defer c.wg.Done()
	defer close(c.events)
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()
		for _, ev := range batch {
			select {
			case c.events <- ev:
			case <-c.closing:
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-c.qwake:
		case <-c.done:
			c.mu.Lock()
			empty := len(c.queue) == 0
			c.mu.Unlock()
			if empty {
				return
			}
		case <-c.closing:
			return
		}
	}
}

func (c *Client) call(ctx context.Context, req request) (response, error) {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return response{}, err
	}
	c.nextID++
	req.ID = c.nextID
	ch := make(chan response, 1)
	c.pending[req.ID] = ch
	c.mu.Unlock()
	c.wmu.Lock()
	err := c.enc.Encode(&req)
	c.wmu.Unlock()
	if err != nil {
		c.nc.Close()
		c.fail(err)
		return response{}, c.Err()
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return response{}, c.Err()
		}
		return r, r.err()
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, req.ID)
		c.mu.Unlock()
		return response{}, ctx.Err()
	}
}

// Info describes the supervisor this client talks to.
func (c *Client) Info() Info { return c.info }

// Launch starts a task and returns it running, once its record is
// durable. Errors wrap ErrInvalid (a bad spec: the message names the
// field), ErrTaskExists, ErrLaunch (an unknown user, a missing program,
// cgroups that could not be set up: nothing runs) or ErrShuttingDown.
// A task that exits at once is still launched: its exit comes as an event.
func (c *Client) Launch(ctx context.Context, spec Spec) (Task, error) {
	if err := spec.Validate(); err != nil {
		return Task{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	r, err := c.call(ctx, request{Op: opLaunch, Spec: &spec})
	if err != nil {
		return Task{}, err
	}
	return *r.Task, nil
}

// Kill sends SIGTERM to the whole task and SIGKILL after grace (at once
// if 0; after Spec.KillGrace if negative). It returns at once; the exit
// arrives as an event with Exit.Killed set. Killing an exited task does
// nothing; killing it again can only shorten the grace.
func (c *Client) Kill(ctx context.Context, id string, grace time.Duration) error {
	_, err := c.call(ctx, request{Op: opKill, Task: id, Grace: grace})
	return err
}

// Forget drops an exited task from the supervisor and deletes its state
// (not its sandbox): the agent calls it once it has passed the task's
// terminal status on durably.
func (c *Client) Forget(ctx context.Context, id string) error {
	_, err := c.call(ctx, request{Op: opForget, Task: id})
	return err
}

// KillOrphansAfter tells the supervisor to kill every task once no
// client has watched it for d: the agent's --recovery-timeout, enforced
// even when the agent never comes back (Mesos' executors give up on
// their agent the same way). 0 turns it off; the latest call wins.
func (c *Client) KillOrphansAfter(ctx context.Context, d time.Duration) error {
	_, err := c.call(ctx, request{Op: opOrphans, Timeout: max(d, 0)})
	return err
}

// Shutdown kills every task with its grace period, waits for their exit
// statuses to be on disk, and stops the supervisor; it returns once the
// supervisor process is gone. Remembered runs stay on disk for the next
// supervisor to report.
func (c *Client) Shutdown(ctx context.Context) error {
	if _, err := c.call(ctx, request{Op: opShutdown}); err != nil {
		return fmt.Errorf("shut the supervisor down: %w", err)
	}
	if err := waitUnlocked(ctx, filepath.Join(c.dir, lockName)); err != nil {
		return fmt.Errorf("shut the supervisor down: %w", err)
	}
	c.Close()
	return nil
}

// Tasks returns every task the supervisor remembers, by ID.
func (c *Client) Tasks() []Task {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Task, 0, len(c.tasks))
	for _, t := range c.tasks {
		out = append(out, t.Clone())
	}
	slices.SortFunc(out, func(a, b Task) int { return strings.Compare(a.Spec.ID, b.Spec.ID) })
	return out
}

// Task returns one task from the mirror.
func (c *Client) Task(id string) (Task, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tasks[id]
	return t.Clone(), ok
}

// Events delivers every change after the snapshot Tasks started from, in
// order. The client buffers events until they are received, so an agent
// that does not read them should not ask for them often; the channel is
// closed when the connection ends (see Err) or the client is closed.
func (c *Client) Events() <-chan Event { return c.events }

// Done is closed when the connection to the supervisor ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err says why the connection ended (wrapping ErrClosed), or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close disconnects; the supervisor and its tasks carry on.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.nc.Close()
		c.wg.Wait()
		c.fail(ErrClosed)
	})
	return nil
}
