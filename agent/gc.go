package agent

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Sandboxes of finished runs are garbage: they are kept for --gc-delay
// so operators and frameworks can read their logs, and removed after.
// Like Mesos, the delay shrinks as the work dir's disk fills:
//
//	max age = gc-delay × max(0, 1 − headroom − disk usage)
//
// with a headroom of 10%, so a disk 90% full keeps nothing that is done.
// The collector scans the sandbox tree itself rather than remembering
// schedules, so a restarted agent collects what its predecessor left.
const gcHeadroom = 0.1

// gcInterval is how often the collector looks: often enough that a short
// --gc-delay is honoured, never more than once a minute for long ones.
func gcInterval(delay time.Duration) time.Duration {
	return min(max(delay/10, 50*time.Millisecond), time.Minute)
}

// collectGarbage runs until ctx ends, removing expired sandboxes.
func (a *Agent) collectGarbage(ctx context.Context) {
	t := time.NewTicker(gcInterval(a.cfg.GCDelay))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			live := a.liveContainers()
			age := maxSandboxAge(a.cfg.GCDelay, diskUsage(a.cfg.WorkDir))
			for _, dir := range removeExpiredSandboxes(filepath.Join(a.cfg.WorkDir, "slaves"), live, age, now) {
				a.log.Info("removed the sandbox of a finished run", "sandbox", dir, "max_age", age.Round(time.Second))
			}
		}
	}
}

// liveContainers lists the runs whose sandboxes must stay: every task the
// agent still has a record of, and every one its supervisor knows.
func (a *Agent) liveContainers() map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	live := make(map[string]bool, len(a.tasks))
	for c := range a.tasks {
		live[c] = true
	}
	if a.sup != nil {
		for _, t := range a.sup.Tasks() {
			live[t.Spec.ID] = true
		}
	}
	return live
}

func maxSandboxAge(delay time.Duration, usage float64) time.Duration {
	return time.Duration(float64(delay) * max(0, 1-gcHeadroom-usage))
}

// diskUsage is the used fraction of the file system holding dir (0 when
// it cannot be read, so a broken statfs never deletes early).
func diskUsage(dir string) float64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Blocks == 0 {
		return 0
	}
	return 1 - float64(st.Bavail)/float64(st.Blocks)
}

// removeExpiredSandboxes removes every run directory under slaves
// (slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>) that
// is not live and was last written more than maxAge before now, then the
// executor and framework directories left empty. It returns what it
// removed.
func removeExpiredSandboxes(slaves string, live map[string]bool, maxAge time.Duration, now time.Time) []string {
	runs, _ := filepath.Glob(filepath.Join(slaves, "*", "frameworks", "*", "executors", "*", "runs", "*"))
	var removed []string
	for _, run := range runs {
		id := filepath.Base(run)
		if live[id] || id == "latest" {
			continue
		}
		if now.Sub(lastWritten(run)) < maxAge {
			continue
		}
		if err := os.RemoveAll(run); err != nil {
			continue
		}
		removed = append(removed, run)
		// Prune runs/, the executor and the framework when empty; Remove
		// fails harmlessly on a directory that still has entries.
		exec := filepath.Dir(filepath.Dir(run))
		_ = os.Remove(filepath.Join(exec, "runs"))
		_ = os.Remove(exec)
		fw := filepath.Dir(filepath.Dir(exec))
		_ = os.Remove(filepath.Join(fw, "executors"))
		_ = os.Remove(fw)
	}
	return removed
}

// lastWritten is the newest modification time of a run directory and the
// files directly in it (its stdout and stderr grow without touching the
// directory's own mtime).
func lastWritten(dir string) time.Time {
	st, err := os.Stat(dir)
	if err != nil {
		return time.Time{}
	}
	newest := st.ModTime()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	return newest
}
