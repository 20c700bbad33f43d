//go:build linux

package supervise

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// forkOnMainThreadMain forks tasks into cgroups from the main goroutine
// with the main thread free to run other goroutines, which is how the
// fork's goroutine can land on the main thread: the runtime never
// destroys that thread, so forkTask must keep it out of the task's
// cgroups.
func forkOnMainThreadMain(args []string) int {
	fail := func(format string, a ...any) int { fmt.Printf(format+"\n", a...); return 1 }
	if unix.Gettid() != os.Getpid() {
		return fail("not on the main thread")
	}
	before, _ := os.ReadFile("/proc/self/cgroup")
	runtime.UnlockOSThread() // locked by init
	cg, err := openCgroups(args[0])
	if err != nil {
		return fail("%v", err)
	}
	defer cg.removeRoot()
	for i := range 20 {
		paths, err := cg.create(fmt.Sprintf("m%d", i), Limits{})
		if err != nil {
			return fail("%v", err)
		}
		pid, err := forkTask(&forkSpec{path: "/bin/sleep", argv: []string{"sleep", "1000"}, files: []uintptr{0, 1, 2}, cgroups: paths})
		if err != nil {
			return fail("fork: %v", err)
		}
		child, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
		if !strings.Contains(string(child), fmt.Sprintf(":memory:/strata-%s/m%d\n", args[0], i)) {
			return fail("task %d is not in its cgroup:\n%s", i, child)
		}
		if after, _ := os.ReadFile("/proc/self/cgroup"); string(after) != string(before) {
			return fail("the main thread moved:\n%s\n→\n%s", before, after)
		}
		if err := cg.remove(paths); err != nil {
			return fail("%v", err)
		}
	}
	fmt.Println("ok")
	return 0
}

func TestForkOnMainThread(t *testing.T) {
	needCgroups(t)
	name := fmt.Sprintf("test-main-thread-%d", os.Getpid())
	t.Cleanup(func() { removeTestCgroups(t, "strata-"+name) })
	exe, _ := os.Executable()
	out, err := exec.Command(exe, "fork-on-main-thread", name).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("%v: %s", err, out)
	}
}

// TestForkManyThreads forks many tasks into cgroups from goroutines that
// land on whatever threads the scheduler picks; none of the supervisor's
// threads may end up in a task's cgroup.
func TestForkManyThreads(t *testing.T) {
	needCgroups(t)
	name := fmt.Sprintf("test-many-threads-%d", os.Getpid())
	t.Cleanup(func() { removeTestCgroups(t, "strata-"+name) })
	cg, err := openCgroups(name)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var pids []int
	var all []map[string]string
	for i := range n {
		paths, err := cg.create(fmt.Sprintf("t%d", i), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, paths)
		pid, err := forkTask(&forkSpec{path: "/bin/sleep", argv: []string{"sleep", "1000"}, files: []uintptr{0, 1, 2}, cgroups: paths})
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	for i, pid := range pids {
		unix.Kill(pid, syscall.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
		if got := cg.procs(all[i]); len(got) != 0 {
			t.Errorf("cgroup t%d still holds %v", i, got)
		}
		if err := cg.remove(all[i]); err != nil {
			t.Error(err)
		}
	}
	threads, _ := os.ReadDir("/proc/self/task")
	for _, th := range threads {
		b, _ := os.ReadFile("/proc/self/task/" + th.Name() + "/cgroup")
		if strings.Contains(string(b), "strata-"+name) {
			t.Errorf("thread %s is in a task cgroup:\n%s", th.Name(), b)
		}
	}
	if err := cg.removeRoot(); err != nil {
		t.Error(err)
	}
}
