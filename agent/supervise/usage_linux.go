package supervise

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Usage is what a task consumes, in the shape and with the field names of
// Mesos' ResourceStatistics, so the agent can serve it on
// /monitor/statistics as is. With IsolationCgroups it comes from the
// task's cgroups; with IsolationPosix it is summed over the task's
// processes in /proc.
type Usage struct {
	Timestamp             float64 `json:"timestamp"`
	Processes             int     `json:"processes"`
	Threads               int     `json:"threads"`
	CPUsUserTimeSecs      float64 `json:"cpus_user_time_secs"`
	CPUsSystemTimeSecs    float64 `json:"cpus_system_time_secs"`
	CPUsLimit             float64 `json:"cpus_limit,omitempty"`
	CPUsNrPeriods         uint64  `json:"cpus_nr_periods,omitempty"`
	CPUsNrThrottled       uint64  `json:"cpus_nr_throttled,omitempty"`
	CPUsThrottledTimeSecs float64 `json:"cpus_throttled_time_secs,omitempty"`
	MemTotalBytes         uint64  `json:"mem_total_bytes,omitempty"`
	MemRSSBytes           uint64  `json:"mem_rss_bytes"`
	MemCacheBytes         uint64  `json:"mem_cache_bytes,omitempty"`
	MemLimitBytes         uint64  `json:"mem_limit_bytes,omitempty"`
}

// Usage reads the usage of the given tasks, or of every live task when
// none is named; exited tasks have none. It reads /proc and the cgroups
// directly (the agent runs as the supervisor's user), so it costs the
// supervisor nothing, and /proc is scanned once for all posix tasks.
func (c *Client) Usage(ids ...string) (map[string]Usage, error) {
	var tasks []Task
	if len(ids) == 0 {
		for _, t := range c.Tasks() {
			if t.State != StateExited {
				tasks = append(tasks, t)
			}
		}
	}
	for _, id := range ids {
		t, ok := c.Task(id)
		if !ok {
			return nil, fmt.Errorf("usage of %s: %w", id, ErrUnknownTask)
		}
		if t.State != StateExited {
			tasks = append(tasks, t)
		}
	}
	return usageOf(tasks)
}

func usageOf(tasks []Task) (map[string]Usage, error) {
	out := make(map[string]Usage, len(tasks))
	var procs []procStat
	page := uint64(os.Getpagesize())
	now := float64(time.Now().UnixNano()) / 1e9
	for _, t := range tasks {
		u := Usage{Timestamp: now, CPUsLimit: t.Spec.Limits.CPUs, MemLimitBytes: t.Spec.Limits.MemBytes}
		if t.Cgroups != nil {
			cgroupUsage(t.Cgroups, &u)
		} else {
			if procs == nil {
				var err error
				if procs, err = listProcs(); err != nil {
					return nil, fmt.Errorf("usage: %w", err)
				}
			}
			for _, p := range posixTree(procs, t.PID) {
				if p.state == 'Z' {
					continue
				}
				u.Processes++
				u.Threads += p.threads
				u.CPUsUserTimeSecs += float64(p.utime) / userHZ
				u.CPUsSystemTimeSecs += float64(p.stime) / userHZ
				u.MemRSSBytes += p.rssPages * page
			}
		}
		out[t.Spec.ID] = u
	}
	return out, nil
}

// cgroupUsage fills u from the task's cgroup v1 files; a file that is
// missing (cpuacct not mounted) leaves its fields zero.
func cgroupUsage(paths map[string]string, u *Usage) {
	if b, err := os.ReadFile(filepath.Join(paths["memory"], "cgroup.procs")); err == nil {
		u.Processes = len(strings.Fields(string(b)))
	}
	if b, err := os.ReadFile(filepath.Join(paths["memory"], "tasks")); err == nil {
		u.Threads = len(strings.Fields(string(b)))
	}
	if v, ok := readUint(filepath.Join(paths["memory"], "memory.usage_in_bytes")); ok {
		u.MemTotalBytes = v
	}
	stat := readKV(filepath.Join(paths["memory"], "memory.stat"))
	u.MemRSSBytes = stat["total_rss"]
	u.MemCacheBytes = stat["total_cache"]
	if d, ok := paths["cpuacct"]; ok {
		acct := readKV(filepath.Join(d, "cpuacct.stat"))
		u.CPUsUserTimeSecs = float64(acct["user"]) / userHZ
		u.CPUsSystemTimeSecs = float64(acct["system"]) / userHZ
	}
	cpu := readKV(filepath.Join(paths["cpu"], "cpu.stat"))
	u.CPUsNrPeriods = cpu["nr_periods"]
	u.CPUsNrThrottled = cpu["nr_throttled"]
	u.CPUsThrottledTimeSecs = float64(cpu["throttled_time"]) / 1e9
}

func readUint(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v, err == nil
}

// readKV reads a cgroup file of "key value" lines.
func readKV(path string) map[string]uint64 {
	out := map[string]uint64{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// waitUnlocked waits until nobody holds the flock on path: the supervisor
// holds its lock for its whole life, and the kernel drops it only when
// the process is gone.
func waitUnlocked(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		if err == nil {
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			return nil
		}
		if err != unix.EWOULDBLOCK {
			return fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the supervisor to exit: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}
