//go:build linux

package supervise

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

func TestCgroupsLimitsAndKill(t *testing.T) {
	needCgroups(t)
	f := newFixture(t, IsolationCgroups)
	// The daemon double-forks into a new session, loses its parent and
	// scrubs its environment: nothing but its cgroup still ties it to the
	// task.
	s := f.shell("limited", `
		sh -c 'setsid env -i /bin/sleep 1000 & exit 0'
		sleep 1000 &
		echo ready
		wait`)
	s.Limits = Limits{MemBytes: 64 << 20, CPUs: 0.5, CFSQuota: true, Pids: 100}
	task := f.launch(s)
	waitOutput(t, s, "ready")

	want := map[string]string{
		"memory/memory.limit_in_bytes": "67108864",
		"cpu/cpu.shares":               "512",
		"cpu/cpu.cfs_period_us":        "100000",
		"cpu/cpu.cfs_quota_us":         "50000",
		"pids/pids.max":                "100",
	}
	for file, v := range want {
		ctrl, name, _ := strings.Cut(file, "/")
		dir := task.Cgroups[ctrl]
		if !strings.HasSuffix(dir, "/strata-"+f.name+"/limited") {
			t.Fatalf("%s cgroup %q is not the task's own", ctrl, dir)
		}
		if got := strings.TrimSpace(readFile(t, filepath.Join(dir, name))); got != v {
			t.Errorf("%s = %s, want %s", file, got, v)
		}
	}
	// The leader started inside its cgroups.
	own := readFile(t, "/proc/"+strconv.Itoa(task.PID)+"/cgroup")
	for _, ctrl := range requiredControllers {
		if !strings.Contains(own, ":"+ctrl+":/strata-"+f.name+"/limited\n") {
			t.Errorf("task's /proc/pid/cgroup has no %s line for its cgroup:\n%s", ctrl, own)
		}
	}
	// No thread of the supervisor stayed in a task's cgroup.
	sv := f.client.Info().PID
	threads, _ := filepath.Glob("/proc/" + strconv.Itoa(sv) + "/task/*/cgroup")
	if len(threads) == 0 {
		t.Fatalf("no threads for supervisor %d", sv)
	}
	for _, th := range threads {
		if b, err := os.ReadFile(th); err == nil && strings.Contains(string(b), "strata-") {
			t.Errorf("supervisor thread %s is in a task cgroup:\n%s", th, b)
		}
	}

	cg := &cgroups{self: os.Getpid()}
	var members []procStat
	if !waitFor(30*time.Second, func() bool {
		members = members[:0]
		for _, pid := range cg.procs(task.Cgroups) {
			if st, err := readStat(pid); err == nil {
				members = append(members, st)
			}
		}
		return len(members) >= 3
	}) {
		t.Fatalf("task's cgroup never held its 3 processes: %+v", members)
	}
	f.kill("limited", 5*time.Second)
	got := waitExit(t, f.client, "limited")
	if !got.Exit.Killed || got.Exit.OOM {
		t.Errorf("exit %+v", got.Exit)
	}
	for _, m := range members {
		if st, err := readStat(m.pid); err == nil && st.startTicks == m.startTicks && st.state != 'Z' {
			t.Errorf("process %v of the task survived its kill", describeProcs([]int{m.pid}))
		}
	}
	for ctrl, dir := range got.Cgroups {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s cgroup %s not removed: %v", ctrl, dir, err)
		}
	}
}

func TestCgroupsOOM(t *testing.T) {
	needCgroups(t)
	f := newFixture(t, IsolationCgroups)
	// tail buffers an endless line; the shell would carry on after its
	// child is OOM-killed, but the supervisor kills the whole task.
	s := f.shell("hog", `tail /dev/zero; echo survived; sleep 1000`)
	s.Limits = Limits{MemBytes: 32 << 20}
	f.launch(s)
	got := waitExit(t, f.client, "hog")
	if !got.Exit.OOM {
		t.Fatalf("exit %+v, want OOM", got.Exit)
	}
	state, reason := got.Exit.TaskState()
	if state != mesos.TaskFailed || reason != mesos.ReasonContainerLimitationMemory {
		t.Errorf("state %s %s, want TASK_FAILED REASON_CONTAINER_LIMITATION_MEMORY", state, reason)
	}
	if !strings.HasPrefix(got.Exit.Message, "Memory limit exceeded: the task's cgroup hit its limit of 32 MB") {
		t.Errorf("message %q", got.Exit.Message)
	}
}

func TestUsage(t *testing.T) {
	for _, iso := range []Isolation{IsolationPosix, IsolationCgroups} {
		t.Run(string(iso), func(t *testing.T) {
			if iso == IsolationCgroups {
				needCgroups(t)
			}
			f := newFixture(t, iso)
			s := f.shell("busy", `while :; do :; done`)
			s.Limits = Limits{MemBytes: 64 << 20, CPUs: 0.25, CFSQuota: true}
			f.launch(s)
			var u Usage
			if !waitFor(30*time.Second, func() bool {
				all, err := f.client.Usage()
				if err != nil {
					t.Fatal(err)
				}
				u = all["busy"]
				return u.CPUsUserTimeSecs+u.CPUsSystemTimeSecs > 0 && u.MemRSSBytes > 0 || u.MemTotalBytes > 0 && u.CPUsUserTimeSecs > 0
			}) {
				t.Fatalf("usage never showed CPU and memory: %+v", u)
			}
			if u.Processes < 1 || u.Threads < 1 || u.Timestamp == 0 || u.CPUsLimit != 0.25 || u.MemLimitBytes != 64<<20 {
				t.Errorf("usage %+v", u)
			}
			f.kill("busy", 0)
			waitExit(t, f.client, "busy")
			if all, _ := f.client.Usage("busy"); len(all) != 0 {
				t.Errorf("usage of an exited task: %+v", all)
			}
		})
	}
}
