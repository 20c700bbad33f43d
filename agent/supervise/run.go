package supervise

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
)

// Files in the supervisor's directory.
const (
	sockName = "supervisor.sock" // the API, mode 0600
	lockName = "supervisor.lock" // flock'd by the live supervisor for its whole life
	infoName = "supervisor.json" // the live supervisor's Info, for operators
	logName  = "supervisor.log"  // its stdout and stderr
	runsDir  = "runs"            // runs/<id>/{task,status}.json
)

// readyFDEnv names the pipe on which a detached supervisor reports that
// it serves (or why it cannot).
const readyFDEnv = "STRATA_SUPERVISOR_READY_FD"

// Config is the supervisor process's configuration: the flags of the
// command that runs it (see Run).
type Config struct {
	// Dir holds the socket, the lock, the log and the runs' state. It must
	// be absolute, and short enough for a Unix socket path (≤ 107 bytes
	// with "/supervisor.sock").
	Dir string
	// Name names the cgroup subtree strata-<Name>: the agent's, so two
	// agents (or tests) on one host never share cgroups.
	Name      string
	Isolation Isolation
	// Detach starts the supervisor as a new session, detached from the
	// caller (which is what Start asks of the command), and returns once
	// it serves.
	Detach bool
	Logger *slog.Logger
}

// Run is the whole life of the supervisor process; the agent's hidden
// command calls it, with these flags, which Start passes:
//
//	--dir DIR --name NAME --isolation posix|cgroups [--detach]
//
// With Detach it re-executes the same command line without --detach as a
// new session whose output goes to <dir>/supervisor.log, waits until that
// process serves, and returns: so the supervisor is nobody's child but
// init's (or a subreaper's) and outlives the agent. Without Detach it
// serves until ctx ends, SIGTERM or SIGINT arrives, or a client asks for
// a shutdown; each of those kills every task with its grace period first.
// It returns ErrAlreadyRunning if another supervisor serves Dir.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Detach {
		return detach(ctx, cfg)
	}
	ready := readyPipe()
	err := serve(ctx, cfg, ready)
	switch {
	case err == ErrAlreadyRunning:
		ready("running")
	case err != nil:
		ready("error: " + err.Error())
	}
	return err
}

func (cfg *Config) validate() error {
	if !filepath.IsAbs(cfg.Dir) {
		return fmt.Errorf("supervisor --dir %q: want an absolute path", cfg.Dir)
	}
	if n := len(filepath.Join(cfg.Dir, sockName)); n > maxSocketPath {
		return fmt.Errorf("supervisor --dir %q: the socket path would be %d bytes, Unix sockets allow %d; use a shorter directory", cfg.Dir, n, maxSocketPath)
	}
	if err := validateName(cfg.Name); err != nil {
		return fmt.Errorf("supervisor --name: %w", err)
	}
	switch cfg.Isolation {
	case IsolationPosix, IsolationCgroups:
	default:
		return fmt.Errorf("supervisor --isolation %q: want posix or cgroups", cfg.Isolation)
	}
	return nil
}

// maxSocketPath is sun_path's size less its terminating NUL.
const maxSocketPath = 107
