package supervise

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The cgroup v1 controllers a task joins. memory, cpu and pids carry its
// limits and are required; cpuacct (often mounted with cpu) gives CPU time
// for statistics when present.
var (
	requiredControllers = []string{"memory", "cpu", "pids"}
	optionalControllers = []string{"cpuacct"}
)

// cgroups manages the supervisor's own subtree, strata-<name>/, in each
// controller's hierarchy: one child per task, named after its container
// ID. It never touches a cgroup it did not create.
type cgroups struct {
	root   string            // strata-<name>
	mounts map[string]string // controller → mount point of its hierarchy
	self   int
}

// CgroupsAvailable says why cgroups isolation cannot work on this host
// (nil when it can): every required v1 controller mounted read-write and
// writable by this process.
func CgroupsAvailable() error {
	mounts, err := cgroupMounts("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, c := range requiredControllers {
		mnt, ok := mounts[c]
		if !ok {
			return fmt.Errorf("no cgroup v1 %q controller is mounted read-write", c)
		}
		if err := unix.Access(mnt, unix.W_OK); err != nil {
			return fmt.Errorf("the cgroup v1 %q hierarchy at %s is not writable: %w", c, mnt, err)
		}
	}
	return nil
}

// openCgroups finds the v1 hierarchies and creates the subtree's roots.
func openCgroups(name string) (*cgroups, error) {
	mounts, err := cgroupMounts("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	for _, c := range requiredControllers {
		if _, ok := mounts[c]; !ok {
			hint := ""
			if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
				hint = " (this host uses cgroup v2, which the supervisor does not drive yet)"
			}
			return nil, fmt.Errorf("cgroups isolation: no writable cgroup v1 %q controller is mounted (see /proc/self/mountinfo)%s", c, hint)
		}
	}
	cg := &cgroups{root: "strata-" + name, mounts: mounts, self: os.Getpid()}
	for _, d := range cg.dirs("") {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("cgroups isolation: create %s: %w", d, err)
		}
	}
	return cg, nil
}

// cgroupMounts maps each controller to the mount point of a read-write
// cgroup v1 hierarchy that has it.
func cgroupMounts(mountinfo string) (map[string]string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 6 || len(qf) < 3 || qf[0] != "cgroup" {
			continue
		}
		if !slices.Contains(strings.Split(pf[5], ","), "rw") {
			continue
		}
		for _, opt := range strings.Split(qf[2], ",") {
			if slices.Contains(requiredControllers, opt) || slices.Contains(optionalControllers, opt) {
				if _, dup := out[opt]; !dup {
					out[opt] = unescapeMount(pf[4])
				}
			}
		}
	}
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// paths maps each controller to the task's directory (the subtree's root
// for id ""); co-mounted controllers share one.
func (c *cgroups) paths(id string) map[string]string {
	out := make(map[string]string, len(c.mounts))
	for ctrl, mnt := range c.mounts {
		out[ctrl] = filepath.Join(mnt, c.root, id)
	}
	return out
}

// dirs is paths without duplicates, in a stable order.
func (c *cgroups) dirs(id string) []string { return uniqueDirs(c.paths(id)) }

func uniqueDirs(paths map[string]string) []string {
	var out []string
	for _, d := range paths {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// create makes the task's cgroups and writes its limits.
func (c *cgroups) create(id string, l Limits) (map[string]string, error) {
	paths := c.paths(id)
	for _, d := range uniqueDirs(paths) {
		err := os.Mkdir(d, 0o755)
		if errors.Is(err, os.ErrExist) {
			// A leftover of a run that recovery could not remove: it may
			// only be reused empty.
			if err = c.remove(map[string]string{"": d}); err == nil {
				err = os.Mkdir(d, 0o755)
			}
		}
		if err != nil {
			c.remove(paths)
			return nil, fmt.Errorf("create cgroup %s: %w", d, err)
		}
	}
	var writes [][2]string
	if l.MemBytes > 0 {
		writes = append(writes, [2]string{filepath.Join(paths["memory"], "memory.limit_in_bytes"), strconv.FormatUint(l.MemBytes, 10)})
	}
	if l.CPUs > 0 {
		shares := max(2, int64(math.Round(l.CPUs*1024)))
		writes = append(writes, [2]string{filepath.Join(paths["cpu"], "cpu.shares"), strconv.FormatInt(shares, 10)})
		if l.CFSQuota {
			const period = 100000 // µs, the kernel's default period
			quota := max(1000, int64(math.Round(l.CPUs*period)))
			writes = append(writes,
				[2]string{filepath.Join(paths["cpu"], "cpu.cfs_period_us"), strconv.Itoa(period)},
				[2]string{filepath.Join(paths["cpu"], "cpu.cfs_quota_us"), strconv.FormatInt(quota, 10)})
		}
	}
	pids := "max"
	if l.Pids > 0 {
		pids = strconv.FormatInt(l.Pids, 10)
	}
	writes = append(writes, [2]string{filepath.Join(paths["pids"], "pids.max"), pids})
	for _, w := range writes {
		if err := os.WriteFile(w[0], []byte(w[1]), 0); err != nil {
			c.remove(paths)
			return nil, fmt.Errorf("set cgroup limit %s=%s: %w", w[0], w[1], err)
		}
	}
	return paths, nil
}

// join moves the calling thread into the task's cgroups so that a process
// it forks starts there. The caller has locked its goroutine to the thread
// and never runs anything else on it again.
func joinCgroups(paths map[string]string) error {
	tid := []byte(strconv.Itoa(unix.Gettid()))
	for _, d := range uniqueDirs(paths) {
		if err := os.WriteFile(filepath.Join(d, "tasks"), tid, 0); err != nil {
			return fmt.Errorf("join cgroup %s: %w", d, err)
		}
	}
	return nil
}

// procs lists the processes in the task's cgroups, except the supervisor
// itself: one of its threads sits in them for the instant of a fork.
func (c *cgroups) procs(paths map[string]string) []int {
	var out []int
	for _, d := range uniqueDirs(paths) {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err == nil && pid != c.self && pid > 1 && !slices.Contains(out, pid) {
				out = append(out, pid)
			}
		}
	}
	return out
}

// signal sends sig to every process in the task's cgroups and says how
// many there were. A process cannot leave its cgroup on its own (it would
// need write access to another cgroup's tasks file), so setsid and double
// forks do not hide anything from this.
func (c *cgroups) signal(paths map[string]string, sig syscall.Signal) int {
	pids := c.procs(paths)
	for _, pid := range pids {
		unix.Kill(pid, sig)
	}
	return len(pids)
}

// killAll SIGKILLs the task's cgroups until they are empty; pids.max keeps
// a fork bomb from outrunning it.
func (c *cgroups) killAll(paths map[string]string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		if c.signal(paths, unix.SIGKILL) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: processes %v survive SIGKILL", paths["memory"], c.procs(paths))
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// oomKilled reports whether the kernel's OOM killer killed a process of
// the task's memory cgroup (the oom_kill counter of memory.oom_control).
func (c *cgroups) oomKilled(paths map[string]string) bool {
	b, err := os.ReadFile(filepath.Join(paths["memory"], "memory.oom_control"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n > 0
		}
	}
	return false
}

// remove kills what is left in the task's cgroups and removes them. A
// cgroup stays busy for a moment after its last process exits, hence the
// retries.
func (c *cgroups) remove(paths map[string]string) error {
	var errs []error
	for _, d := range uniqueDirs(paths) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := unix.Rmdir(d)
			if err == nil || errors.Is(err, unix.ENOENT) {
				break
			}
			if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
				break
			}
			c.signal(map[string]string{"": d}, unix.SIGKILL)
			time.Sleep(5 * time.Millisecond)
		}
	}
	return errors.Join(errs...)
}

// children lists the container IDs that have a cgroup under the subtree.
func (c *cgroups) children() []string {
	var out []string
	for _, root := range c.dirs("") {
		ents, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() && !slices.Contains(out, e.Name()) {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

// removeRoot removes the subtree's roots once no task is left in them.
func (c *cgroups) removeRoot() error {
	var errs []error
	for _, d := range c.dirs("") {
		if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
