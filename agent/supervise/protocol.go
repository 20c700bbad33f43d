package supervise

import (
	"errors"
	"fmt"
	"time"
)

// The supervisor and its clients speak newline-delimited JSON over
// <dir>/supervisor.sock (mode 0600): a client sends requests carrying an
// ID; the supervisor answers each with a response carrying the same ID, in
// whatever order they complete, and, on connections that asked to watch,
// interleaves events (ID 0) in the order the changes happened. A
// connection's first request is "hello"; a client then sends "watch",
// whose response is the snapshot the events that follow build on.

// protocolVersion changes whenever a message changes incompatibly; a
// client refuses a supervisor that speaks another.
const protocolVersion = 1

const (
	opHello    = "hello"
	opWatch    = "watch"
	opLaunch   = "launch"
	opKill     = "kill"
	opForget   = "forget"
	opList     = "list"
	opShutdown = "shutdown"
	opOrphans  = "orphans"
)

type request struct {
	ID   uint64 `json:"id"`
	Op   string `json:"op"`
	Spec *Spec  `json:"spec,omitempty"`
	Task string `json:"task,omitempty"`
	// Grace for kill; negative means the task's Spec.KillGrace.
	Grace time.Duration `json:"grace,omitempty"`
	// Timeout for orphans: how long tasks may go without a watching
	// client before the supervisor kills them (0: forever).
	Timeout time.Duration `json:"timeout,omitempty"`
}

type response struct {
	ID    uint64 `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
	// Code names a sentinel error so it survives the trip.
	Code  string `json:"code,omitempty"`
	Info  *Info  `json:"info,omitempty"`
	Task  *Task  `json:"task,omitempty"`
	Tasks []Task `json:"tasks,omitempty"`
	Event *Event `json:"event,omitempty"`
}

// Info describes the supervisor a client is connected to.
type Info struct {
	PID       int       `json:"pid"`
	BootID    string    `json:"boot_id"`
	StartedAt time.Time `json:"started_at"`
	Isolation Isolation `json:"isolation"`
	Name      string    `json:"name"`
	Protocol  int       `json:"protocol"`
	// Spawned is set by Start when it had to start this supervisor, that
	// is, when none survived from before (client side only).
	Spawned bool `json:"-"`
}

// Event is one change of one task: the task as it is after the change.
// Seq increases by one per event of a supervisor's life.
type Event struct {
	Seq  uint64 `json:"seq"`
	Task Task   `json:"task"`
	// Forgotten: the task was dropped by Forget; Task is its last state.
	Forgotten bool `json:"forgotten,omitempty"`
}

// Errors a client can test for with errors.Is.
var (
	// ErrUnknownTask: no task with that ID is remembered.
	ErrUnknownTask = errors.New("unknown task")
	// ErrTaskExists: Launch with an ID already in use (running or not yet
	// forgotten).
	ErrTaskExists = errors.New("task already exists")
	// ErrTaskRunning: Forget of a task that has not exited.
	ErrTaskRunning = errors.New("task is still running")
	// ErrShuttingDown: the supervisor is stopping and launches nothing.
	ErrShuttingDown = errors.New("supervisor is shutting down")
	// ErrInvalid: the request is malformed (a bad Spec names its field).
	ErrInvalid = errors.New("invalid request")
	// ErrLaunch: the task's process could not be started (unknown user,
	// missing executable, cgroup setup failed); the message says why.
	ErrLaunch = errors.New("launch failed")
	// ErrClosed: the client was closed or lost its connection.
	ErrClosed = errors.New("supervisor client closed")
	// ErrAlreadyRunning: Run found another supervisor holding the lock of
	// its directory.
	ErrAlreadyRunning = errors.New("a supervisor is already running for this directory")
)

var codes = map[string]error{
	"unknown_task":  ErrUnknownTask,
	"task_exists":   ErrTaskExists,
	"task_running":  ErrTaskRunning,
	"shutting_down": ErrShuttingDown,
	"invalid":       ErrInvalid,
	"launch":        ErrLaunch,
}

// errorResponse encodes err, keeping the sentinel it wraps as a code.
func errorResponse(id uint64, err error) response {
	r := response{ID: id, Error: err.Error()}
	for code, sentinel := range codes {
		if errors.Is(err, sentinel) {
			r.Code = code
			break
		}
	}
	return r
}

// remoteError is an error from the supervisor; it matches its sentinel.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

func (r *response) err() error {
	if r.Error == "" {
		return nil
	}
	return &remoteError{msg: r.Error, sentinel: codes[r.Code]}
}

// errf wraps a sentinel with a message that already says everything.
func errf(sentinel error, format string, args ...any) error {
	return &remoteError{msg: fmt.Sprintf(format, args...), sentinel: sentinel}
}
