package supervise

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// recoverRuns runs when a supervisor starts, which means no supervisor was
// running: every run in <dir>/runs whose status is not on disk was
// running under a supervisor that is gone. If the host rebooted since it
// was launched (the boot ID differs), it is gone too. Otherwise the old
// supervisor died alone: nothing can reap the task's processes or learn
// their exit status any more, so whatever is left of the task is killed.
// Either way the run gets a status that says the exit status is lost, and
// the agent hears of every run, old or new, through the same snapshot.
func (s *supervisor) recoverRuns() {
	root := filepath.Join(s.cfg.Dir, runsDir)
	ents, err := os.ReadDir(root)
	if err != nil {
		s.log.Error("recover: cannot read runs", "dir", root, "err", err)
		return
	}
	recorded := make(chan struct{})
	close(recorded)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		var t Task
		if err := readJSON(filepath.Join(dir, recordName), &t); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				// A launch that failed, or died before its record: no
				// task ran, or its cgroup (swept below) holds it.
				os.RemoveAll(dir)
				continue
			}
			s.log.Error("recover: unreadable run record, skipping it", "dir", dir, "err", err)
			continue
		}
		if t.Spec.ID != e.Name() {
			s.log.Error("recover: run record names another task, skipping it", "dir", dir, "id", t.Spec.ID)
			continue
		}
		var exit Exit
		if err := readJSON(filepath.Join(dir, statusName), &exit); err != nil {
			exit = s.settleOrphan(&t)
			if err := writeJSONDurably(filepath.Join(dir, statusName), &exit); err != nil {
				s.log.Error("recover: status not durable", "task", t.Spec.ID, "err", err)
			}
			s.log.Warn("recover: task lost", "task", t.Spec.ID, "pid", t.PID, "why", exit.Lost)
		}
		t.State = StateExited
		t.Exit = &exit
		s.tasks[t.Spec.ID] = &task{Task: t, recorded: recorded}
	}
	if s.cg != nil {
		// Every cgroup of ours belongs to an exited run or to none.
		for _, id := range s.cg.children() {
			paths := s.cg.paths(id)
			if err := s.cg.killAll(paths, 10*time.Second); err != nil {
				s.log.Error("recover: cannot empty stale cgroup", "id", id, "err", err)
			}
			if err := s.cg.remove(paths); err != nil {
				s.log.Error("recover: cannot remove stale cgroup", "id", id, "err", err)
			}
		}
	}
}

// settleOrphan kills what is left of a run whose supervisor died and says
// why its exit status is lost.
func (s *supervisor) settleOrphan(t *Task) Exit {
	e := Exit{StartedAt: t.StartedAt}
	if t.BootID != s.boot {
		e.Lost = LostReboot
		e.describe(0)
		return e
	}
	e.Lost = LostSupervisor
	if t.Cgroups != nil {
		// The run's cgroups hold all of it, whatever isolation this
		// supervisor runs with.
		cg := s.cg
		if cg == nil {
			cg = &cgroups{self: s.self}
		}
		if err := cg.killAll(t.Cgroups, 10*time.Second); err != nil {
			s.log.Error("recover: cannot kill lost task", "task", t.Spec.ID, "err", err)
		}
		if err := cg.remove(t.Cgroups); err != nil {
			s.log.Error("recover: cannot remove lost task's cgroups", "task", t.Spec.ID, "err", err)
		}
	} else if st, err := readStat(t.PID); err == nil && t.PID > 1 && st.startTicks == t.StartTicks {
		// Still the same process (same start time this boot): its PID
		// names its group and session until it is reaped.
		procs, _ := listProcs()
		unix.Kill(-t.PID, unix.SIGKILL)
		for _, p := range posixTree(procs, t.PID) {
			if p.pid != s.self && p.pid > 1 {
				unix.Kill(p.pid, unix.SIGKILL)
			}
		}
	}
	e.describe(0)
	return e
}
