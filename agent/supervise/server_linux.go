package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// supervisor is the state of the one supervisor process of an agent. mu
// guards the task table and every task's public fields; it is held only
// for memory operations, signals and small /proc reads, never for disk
// writes.
type supervisor struct {
	cfg   Config
	log   *slog.Logger
	boot  string
	self  int
	start time.Time
	sync  GroupSync   // makes runs' records and exit statuses durable
	cg    *cgroups    // nil with IsolationPosix
	oom   *oomWatcher // nil with IsolationPosix

	mu       sync.Mutex
	changed  *sync.Cond // broadcast when a task exits
	tasks    map[string]*task
	reserved map[string]bool // IDs of launches in progress
	byPID    map[int]*task   // leaders not yet reaped
	watchers map[*conn]bool
	conns    map[*conn]bool
	seq      uint64
	closing  bool
	// orphanAfter is how long tasks may go unwatched before they are
	// killed (KillOrphansAfter); unwatchedSince is when the last watcher
	// left (zero while one watches).
	orphanAfter    time.Duration
	unwatchedSince time.Time

	stopOnce  sync.Once
	stop      chan struct{} // closed to make Run return
	finishing sync.WaitGroup
}

// task is a Task plus what only the supervisor needs.
type task struct {
	Task
	killed    bool
	oom       bool
	expired   bool        // killed because no agent watched for orphanAfter
	deadline  time.Time   // when the pending SIGKILL is due
	timer     *time.Timer // the pending SIGKILL
	recorded  chan struct{}
	cancelOOM func()
}

func (s *supervisor) runDir(id string) string { return filepath.Join(s.cfg.Dir, runsDir, id) }

// serve is Run without the detaching: it holds the directory's lock,
// recovers what a previous supervisor left, serves the socket until ctx
// ends, SIGTERM arrives or a client asks for a shutdown, then kills the
// tasks with their grace periods and returns.
func serve(ctx context.Context, cfg Config, ready func(string)) error {
	log := cfg.Logger
	if err := os.MkdirAll(filepath.Join(cfg.Dir, runsDir), 0o700); err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(cfg.Dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return ErrAlreadyRunning
		}
		return fmt.Errorf("supervisor: lock %s: %w", lock.Name(), err)
	}
	// Orphans of tasks (a daemonizing task's grandchildren) become our
	// children, so we reap them and they never linger as zombies.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("supervisor: become a child subreaper: %w", err)
	}
	boot, err := bootID()
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	s := &supervisor{
		cfg: cfg, log: log, boot: boot, self: os.Getpid(), start: time.Now(), sync: GroupSync{Dir: cfg.Dir},
		tasks: map[string]*task{}, reserved: map[string]bool{}, byPID: map[int]*task{},
		watchers: map[*conn]bool{}, conns: map[*conn]bool{}, stop: make(chan struct{}),
	}
	s.changed = sync.NewCond(&s.mu)
	if cfg.Isolation == IsolationCgroups {
		if s.cg, err = openCgroups(cfg.Name); err != nil {
			return err
		}
		if s.oom, err = newOOMWatcher(); err != nil {
			return err
		}
		defer s.oom.close()
	}
	// SIGCHLD drives the reaper. SIGHUP is caught rather than ignored, and
	// SIGTERM and SIGINT stop us gracefully: caught signals are reset to
	// their defaults in the tasks we exec, ignored ones would stay ignored.
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, unix.SIGCHLD)
	defer signal.Stop(sigchld)
	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM, unix.SIGINT, unix.SIGHUP)
	defer signal.Stop(term)

	s.recoverRuns()

	sock := filepath.Join(cfg.Dir, sockName)
	os.Remove(sock) // a dead supervisor's; we hold the lock
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return fmt.Errorf("supervisor: listen on %s: %w", sock, err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("supervisor: %w", err)
	}
	info := s.info()
	if err := writeJSONDurably(filepath.Join(cfg.Dir, infoName), info); err != nil {
		ln.Close()
		return fmt.Errorf("supervisor: %w", err)
	}

	var reaper, acceptor sync.WaitGroup
	quitReaper := make(chan struct{})
	reaper.Go(func() { s.reaper(sigchld, quitReaper) })
	acceptor.Go(func() { s.accept(ln) })
	ready("ready")
	log.Info("supervisor serving", "pid", info.PID, "socket", sock, "isolation", cfg.Isolation, "boot_id", boot)

	orphans := time.NewTicker(orphanCheck)
	defer orphans.Stop()
	for stopping := false; !stopping; {
		select {
		case now := <-orphans.C:
			s.killOrphans(now)
		case <-ctx.Done():
			stopping = true
		case sig := <-term:
			if sig == unix.SIGHUP {
				continue
			}
			log.Info("supervisor stopping", "signal", sig.String())
			stopping = true
		case <-s.stop:
			stopping = true
		}
	}
	s.killEverything()
	ln.Close()
	acceptor.Wait()
	s.mu.Lock()
	for c := range s.conns {
		c.finish()
	}
	for len(s.conns) > 0 {
		s.changed.Wait()
	}
	s.mu.Unlock()
	s.finishing.Wait()
	close(quitReaper)
	reaper.Wait()
	if s.cg != nil {
		if err := s.cg.removeRoot(); err != nil {
			log.Warn("supervisor: cgroups left behind", "err", err)
		}
	}
	os.Remove(filepath.Join(cfg.Dir, infoName))
	log.Info("supervisor stopped")
	return nil
}

func (s *supervisor) info() Info {
	return Info{
		PID: s.self, BootID: s.boot, StartedAt: s.start,
		Isolation: s.cfg.Isolation, Name: s.cfg.Name, Protocol: protocolVersion,
	}
}

// killEverything refuses further launches, kills every task with its
// grace period and waits until all of them have exited and their status
// is on disk.
func (s *supervisor) killEverything() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	for _, t := range s.tasks {
		if t.State != StateExited {
			s.killLocked(t, t.Spec.KillGrace)
		}
	}
	for len(s.reserved) > 0 || s.live() > 0 {
		s.changed.Wait()
	}
}

func (s *supervisor) live() int {
	n := 0
	for _, t := range s.tasks {
		if t.State != StateExited {
			n++
		}
	}
	return n
}

// orphanCheck is how often the supervisor looks for tasks nobody has
// watched for too long.
const orphanCheck = 100 * time.Millisecond

// killOrphans kills every live task once no client has watched for
// orphanAfter: the agent is gone for longer than its recovery timeout.
func (s *supervisor) killOrphans(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orphanAfter <= 0 || len(s.watchers) > 0 || s.unwatchedSince.IsZero() || now.Sub(s.unwatchedSince) < s.orphanAfter {
		return
	}
	for _, t := range s.tasks {
		if t.State != StateExited && !t.killed {
			s.log.Warn("killing a task no agent has watched for the recovery timeout",
				"task", t.Spec.ID, "pid", t.PID, "recovery_timeout", s.orphanAfter)
			t.expired = true
			s.killLocked(t, t.Spec.KillGrace)
		}
	}
}

func (s *supervisor) requestStop() { s.stopOnce.Do(func() { close(s.stop) }) }

// publish tells every watching client about t's new state. Called with mu
// held, so events go out in the order the changes happened.
func (s *supervisor) publish(t *task) {
	s.seq++
	ev := &Event{Seq: s.seq, Task: t.Clone()}
	for c := range s.watchers {
		c.send(response{Event: ev})
	}
}

func (s *supervisor) snapshot() []Task {
	out := make([]Task, 0, len(s.tasks))
	for _, t := range s.tasks {
		out = append(out, t.Clone())
	}
	slices.SortFunc(out, func(a, b Task) int { return strings.Compare(a.Spec.ID, b.Spec.ID) })
	return out
}

// reaper reaps every child, tasks and adopted orphans alike, whenever
// SIGCHLD says one may have exited.
func (s *supervisor) reaper(sigchld <-chan os.Signal, quit <-chan struct{}) {
	for {
		s.reapAll()
		select {
		case <-sigchld:
		case <-quit:
			return
		}
	}
}

// reapAll looks at each exited child before reaping it (WNOWAIT): while a
// task's leader is an unreaped zombie its PID still names its process
// group and session, so what the task left running can be killed by those
// IDs without hitting a process that reused them.
func (s *supervisor) reapAll() {
	var procs []procStat // read once per round, only for posix leftovers
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		pid := siginfoPID(&info)
		if err != nil || pid == 0 {
			return
		}
		s.mu.Lock()
		t := s.byPID[pid]
		if t != nil {
			delete(s.byPID, pid)
			if s.cg == nil && procs == nil {
				procs, _ = listProcs()
			}
			s.signalTree(t, unix.SIGKILL, procs)
		}
		s.mu.Unlock()
		var ws unix.WaitStatus
		var ru unix.Rusage
		for {
			_, err = unix.Wait4(pid, &ws, 0, &ru)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		if t != nil && err == nil {
			ended := time.Now()
			s.finishing.Add(1)
			go s.finish(t, ws, ru, ended)
		}
	}
}

// signalTree sends sig to everything the task consists of. Called with mu
// held, and only while the leader is unreaped, so its PID cannot have been
// reused. procs is a /proc snapshot for IsolationPosix (nil: read one),
// taken before any signal: a member killed first would orphan its
// children out of sight.
func (s *supervisor) signalTree(t *task, sig syscall.Signal, procs []procStat) {
	if t.Cgroups != nil && s.cg != nil {
		unix.Kill(-t.PID, sig)
		unix.Kill(t.PID, sig)
		s.cg.signal(t.Cgroups, sig)
		return
	}
	if procs == nil {
		procs, _ = listProcs()
	}
	members := s.posixMembers(procs, t)
	unix.Kill(-t.PID, sig)
	unix.Kill(t.PID, sig)
	for _, p := range members {
		unix.Kill(p.pid, sig)
	}
}

// posixMembers is what IsolationPosix counts as the task: its process
// group, its session and their live descendants (posixTree), plus the
// orphans the supervisor adopted as subreaper that carry the task's
// STRATA_CONTAINER_ID: a daemon that double-forked into a new session
// and lost its parent is found that way unless it scrubbed its
// environment.
func (s *supervisor) posixMembers(procs []procStat, t *task) []procStat {
	members := posixTree(procs, t.PID)
	marker := []byte(containerIDEnv + "=" + t.Spec.ID)
	for _, p := range procs {
		if p.ppid != s.self || p.state == 'Z' || s.byPID[p.pid] != nil {
			continue
		}
		if env, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/environ"); err == nil && hasEnv(env, marker) {
			members = append(members, posixTree(procs, p.pid)...)
		}
	}
	out := members[:0]
	for _, p := range members {
		if p.pid != s.self && p.pid > 1 && p.pid != t.PID {
			out = append(out, p)
		}
	}
	return out
}

// hasEnv reports whether a NUL-separated environment holds kv exactly.
func hasEnv(env, kv []byte) bool {
	for len(env) > 0 {
		var v []byte
		if i := bytes.IndexByte(env, 0); i >= 0 {
			v, env = env[:i], env[i+1:]
		} else {
			v, env = env, nil
		}
		if bytes.Equal(v, kv) {
			return true
		}
	}
	return false
}

// finish turns a reaped leader into a durable exit status: it kills what
// is left of the task, works out how it ended, writes status.json, removes
// the cgroups, and only then tells clients.
func (s *supervisor) finish(t *task, ws unix.WaitStatus, ru unix.Rusage, ended time.Time) {
	defer s.finishing.Done()
	<-t.recorded
	if t.Cgroups != nil {
		if err := s.cg.killAll(t.Cgroups, 10*time.Second); err != nil {
			s.log.Error("task leftovers survive", "task", t.Spec.ID, "err", err)
		}
	}
	exit := Exit{
		StartedAt:   t.StartedAt,
		EndedAt:     ended,
		UserTime:    time.Duration(ru.Utime.Nano()),
		SystemTime:  time.Duration(ru.Stime.Nano()),
		MaxRSSBytes: uint64(ru.Maxrss) * 1024,
	}
	switch {
	case ws.Exited():
		exit.Code = ws.ExitStatus()
	case ws.Signaled():
		exit.Signal = ws.Signal()
		exit.CoreDumped = ws.CoreDump()
	}
	s.mu.Lock()
	exit.Killed = t.killed
	exit.OOM = t.oom
	exit.Expired = t.expired
	if t.timer != nil {
		t.timer.Stop()
	}
	s.mu.Unlock()
	if t.cancelOOM != nil {
		t.cancelOOM()
	}
	if t.Cgroups != nil && s.cg.oomKilled(t.Cgroups) {
		exit.OOM = true
	}
	exit.describe(t.Spec.Limits.MemBytes)
	if err := writeJSONGrouped(&s.sync, filepath.Join(s.runDir(t.Spec.ID), statusName), &exit); err != nil {
		s.log.Error("task exit status not durable", "task", t.Spec.ID, "err", err)
	}
	if t.Cgroups != nil {
		if err := s.cg.remove(t.Cgroups); err != nil {
			s.log.Error("task cgroups left behind", "task", t.Spec.ID, "err", err)
		}
	}
	s.mu.Lock()
	t.State = StateExited
	t.Exit = &exit
	s.publish(t)
	s.changed.Broadcast()
	s.mu.Unlock()
	s.log.Info("task exited", "task", t.Spec.ID, "pid", t.PID, "status", exit.Message)
}

// siginfoPID reads si_pid, which x/sys/unix leaves in Siginfo's opaque
// union: on Linux it is the int32 right after the three int32 header
// fields and their padding.
func siginfoPID(info *unix.Siginfo) int {
	b := (*[128]byte)(unsafe.Pointer(info))
	return int(int32(uint32(b[16]) | uint32(b[17])<<8 | uint32(b[18])<<16 | uint32(b[19])<<24))
}

// accept serves each client connection until the listener closes.
func (s *supervisor) accept(ln *net.UnixListener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c := newConn(s, nc)
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		go c.serve()
	}
}

// readyPipe returns how Run reports readiness to the process that started
// it with Detach: a line on the pipe named by $STRATA_SUPERVISOR_READY_FD.
func readyPipe() func(string) {
	v := os.Getenv(readyFDEnv)
	os.Unsetenv(readyFDEnv)
	fd, err := strconv.Atoi(v)
	if v == "" || err != nil {
		return func(string) {}
	}
	syscall.CloseOnExec(fd) // no task may hold it open
	f := os.NewFile(uintptr(fd), "ready")
	var once sync.Once
	return func(msg string) {
		once.Do(func() {
			io.WriteString(f, msg+"\n")
			f.Close()
		})
	}
}
