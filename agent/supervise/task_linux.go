package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Files in a run's state directory, <dir>/runs/<id>/.
const (
	recordName = "task.json"   // the Task as launched: spec, PID, start time, boot ID
	statusName = "status.json" // the Exit, once the task is over
)

// launch starts spec's task and answers once its record is durable.
func (s *supervisor) launch(spec Spec) (Task, error) {
	if err := spec.Validate(); err != nil {
		return Task{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	id := spec.ID
	s.mu.Lock()
	switch {
	case s.closing:
		s.mu.Unlock()
		return Task{}, ErrShuttingDown
	case s.tasks[id] != nil || s.reserved[id]:
		s.mu.Unlock()
		return Task{}, fmt.Errorf("%w: %s", ErrTaskExists, id)
	}
	s.reserved[id] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.reserved, id)
		s.changed.Broadcast()
		s.mu.Unlock()
	}()

	t := &task{Task: Task{Spec: spec, State: StateRunning, BootID: s.boot}, recorded: make(chan struct{})}
	fork, cleanup, err := s.prepare(t)
	if err != nil {
		cleanup()
		return Task{}, fmt.Errorf("launch %s: %w", id, err)
	}

	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		cleanup()
		return Task{}, ErrShuttingDown
	}
	// Fork with the lock held: the reaper takes it before looking a PID
	// up, so it cannot reap this task before byPID knows it.
	pid, err := forkTask(&fork.forkSpec)
	if err != nil {
		s.mu.Unlock()
		cleanup()
		hint := ""
		if errors.Is(err, syscall.EACCES) && fork.cred != nil {
			hint = fmt.Sprintf(" (as user %q, which needs to search every directory above the sandbox %s and execute the program)", spec.User, spec.Sandbox)
		}
		return Task{}, fmt.Errorf("%w: launch %s: exec %s: %v%s", ErrLaunch, id, fork.path, err, hint)
	}
	t.PID = pid
	t.StartedAt = time.Now()
	if st, err := readStat(pid); err == nil {
		t.StartTicks = st.startTicks
	}
	s.tasks[id] = t
	s.byPID[pid] = t
	rec := t.Clone()
	s.mu.Unlock()
	for _, f := range fork.open {
		f.Close()
	}

	err = writeJSONGrouped(&s.sync, filepath.Join(s.runDir(id), recordName), &rec)
	s.mu.Lock()
	if err != nil {
		// A task the next supervisor could not account for must not run.
		s.killLocked(t, 0)
	}
	s.publish(t)
	snap := t.Clone()
	s.mu.Unlock()
	close(t.recorded)
	if err != nil {
		return Task{}, fmt.Errorf("%w: launch %s: record not durable, task killed: %v", ErrLaunch, id, err)
	}
	s.log.Info("task launched", "task", id, "pid", pid)
	return snap, nil
}

// preparedFork is a forkSpec plus the files the supervisor must close
// once the child has them.
type preparedFork struct {
	forkSpec
	open []*os.File
}

// prepare does everything a launch needs before the fork: resolve the
// user and the program, create the sandbox with its stdout and stderr,
// the run's state directory, and the cgroups. cleanup undoes whatever of
// it was done.
func (s *supervisor) prepare(t *task) (_ *preparedFork, cleanup func(), err error) {
	spec := &t.Spec
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	pf := &preparedFork{}
	undo = append(undo, func() {
		for _, f := range pf.open {
			f.Close()
		}
	})
	cred, err := credential(spec.User)
	if err != nil {
		return nil, cleanup, err
	}
	files, err := openSandbox(spec.Sandbox, cred)
	if err != nil {
		return nil, cleanup, fmt.Errorf("%w: sandbox: %v", ErrLaunch, err)
	}
	pf.open = files
	path, err := lookPath(spec.Path, spec.Env, spec.Sandbox)
	if err != nil {
		return nil, cleanup, err
	}
	runDir := s.runDir(spec.ID)
	os.RemoveAll(runDir) // a forgotten run's leftovers
	if err := os.Mkdir(runDir, 0o700); err != nil {
		return nil, cleanup, fmt.Errorf("%w: %v", ErrLaunch, err)
	}
	undo = append(undo, func() { os.RemoveAll(runDir) })
	if s.cg != nil {
		paths, err := s.cg.create(spec.ID, spec.Limits)
		if err != nil {
			return nil, cleanup, fmt.Errorf("%w: %v", ErrLaunch, err)
		}
		undo = append(undo, func() { s.cg.remove(paths) })
		t.Cgroups = paths
		cancel, err := s.oom.watch(paths["memory"], func() { s.outOfMemory(t) })
		if err != nil {
			return nil, cleanup, fmt.Errorf("%w: %v", ErrLaunch, err)
		}
		t.cancelOOM = cancel
		undo = append(undo, cancel)
	}
	env := make([]string, 0, len(spec.Env)+1)
	for _, kv := range spec.Env {
		if !strings.HasPrefix(kv, containerIDEnv+"=") {
			env = append(env, kv)
		}
	}
	env = append(env, containerIDEnv+"="+spec.ID)
	pf.forkSpec = forkSpec{
		path: path, argv: spec.Args, env: env, dir: spec.Sandbox,
		files: []uintptr{files[0].Fd(), files[1].Fd(), files[2].Fd()},
		cred:  cred, cgroups: t.Cgroups,
	}
	return pf, cleanup, nil
}

// openSandbox creates the sandbox (owned by the task's user) and opens
// the task's stdin (/dev/null), stdout and stderr. The files are opened
// O_NOFOLLOW: a sandbox is the task's to write, and a planted symlink
// must not make the supervisor append to another file.
func openSandbox(dir string, cred *syscall.Credential) ([]*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	chown := func(p string) error {
		if cred == nil {
			return nil
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid))
	}
	if err := chown(dir); err != nil {
		return nil, err
	}
	stdin, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	files := []*os.File{stdin}
	for _, name := range []string{"stdout", "stderr"} {
		p := filepath.Join(dir, name)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o644)
		if err == nil {
			err = chown(p)
		}
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// kill asks a task to stop: SIGTERM to all of it now, SIGKILL after grace
// (now, if grace is 0; after the spec's KillGrace if negative). Killing a
// task again may shorten the grace, never lengthen it. Killing an exited
// task does nothing.
func (s *supervisor) kill(id string, grace time.Duration) (Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[id]
	if t == nil {
		return Task{}, fmt.Errorf("%w: %s", ErrUnknownTask, id)
	}
	if grace < 0 {
		grace = t.Spec.KillGrace
	}
	s.killLocked(t, grace)
	return t.Clone(), nil
}

func (s *supervisor) killLocked(t *task, grace time.Duration) {
	if t.State == StateExited || s.byPID[t.PID] != t {
		return // over, or reaped and being finished
	}
	deadline := time.Now().Add(grace)
	first := !t.killed
	t.killed = true
	if first {
		t.State = StateKilling
		s.signalTree(t, unix.SIGTERM, nil)
		s.publish(t)
	}
	switch {
	case grace <= 0:
		s.signalTree(t, unix.SIGKILL, nil)
	case first || deadline.Before(t.deadline):
		if t.timer != nil {
			t.timer.Stop()
		}
		t.deadline = deadline
		t.timer = time.AfterFunc(grace, func() { s.escalate(t) })
	}
}

// escalate is the SIGKILL at the end of a kill's grace period.
func (s *supervisor) escalate(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byPID[t.PID] == t {
		s.signalTree(t, unix.SIGKILL, nil)
	}
}

// outOfMemory is the OOM notification of t's memory cgroup. The kernel
// killed one process; like Mesos, the supervisor then destroys the rest
// of the task, so a shell that survives its OOM-killed child does not
// carry on as if nothing happened.
func (s *supervisor) outOfMemory(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.State == StateExited {
		return
	}
	t.oom = true
	if s.byPID[t.PID] == t {
		s.signalTree(t, unix.SIGKILL, nil)
	}
	s.log.Warn("task out of memory; killing it", "task", t.Spec.ID, "limit_bytes", t.Spec.Limits.MemBytes)
}

// forget drops an exited task and its state directory; the sandbox stays
// for the agent to garbage-collect.
func (s *supervisor) forget(id string) error {
	s.mu.Lock()
	t := s.tasks[id]
	switch {
	case t == nil:
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownTask, id)
	case t.State != StateExited:
		s.mu.Unlock()
		return fmt.Errorf("%w: %s (kill it first)", ErrTaskRunning, id)
	}
	delete(s.tasks, id)
	s.seq++
	ev := &Event{Seq: s.seq, Task: t.Clone(), Forgotten: true}
	for c := range s.watchers {
		c.send(response{Event: ev})
	}
	s.mu.Unlock()
	if err := os.RemoveAll(s.runDir(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("forget %s: %w", id, err)
	}
	return SyncDir(filepath.Join(s.cfg.Dir, runsDir))
}
