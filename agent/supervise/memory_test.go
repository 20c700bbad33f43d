//go:build linux

package supervise

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMemoryPerTask measures what supervision costs per task: the
// supervisor's PSS (its fair share of the host's memory) and RSS as it
// goes from 0 to 200 tasks, against one `sh -c` wrapper per task, the
// cheapest per-task alternative (Nomad's per-task executor costs about
// 15 MB). It logs the figures; it asserts only the 2 MB budget.
func TestMemoryPerTask(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test runs 400 processes to measure memory")
	}
	if raceEnabled {
		t.Log("built with -race: the supervisor's figures include the race detector's shadow memory")
	}
	const n = 200
	for _, iso := range []Isolation{IsolationPosix, IsolationCgroups} {
		t.Run(string(iso), func(t *testing.T) {
			if iso == IsolationCgroups {
				needCgroups(t)
			}
			f := newFixture(t, iso)
			sv := f.client.Info().PID
			base, err := MemoryOf(sv)
			if err != nil {
				t.Fatal(err)
			}
			report := []string{fmt.Sprintf("%5s %10s %10s %14s", "tasks", "RSS KiB", "PSS KiB", "ΔPSS/task KiB")}
			row := func(k int, m Memory) {
				per := "-"
				if k > 0 {
					per = fmt.Sprintf("%.1f", (float64(m.PSS)-float64(base.PSS))/float64(k)/1024)
				}
				report = append(report, fmt.Sprintf("%5d %10d %10d %14s", k, m.RSS/1024, m.PSS/1024, per))
			}
			row(0, base)
			var last Memory
			for k := 1; k <= n; k++ {
				f.launch(f.argv(fmt.Sprintf("m%03d", k), "sleep", "sleep", "1000"))
				if k == 50 || k == 100 || k == n {
					if last, err = MemoryOf(sv); err != nil {
						t.Fatal(err)
					}
					row(k, last)
				}
			}
			sh := shellWrappers(t, n)
			report = append(report, fmt.Sprintf("one `sh -c` wrapper per task: RSS %d KiB, PSS %d KiB per task",
				sh.RSS/n/1024, sh.PSS/n/1024))
			t.Logf("supervisor (%s) memory as tasks grow:\n%s", iso, strings.Join(report, "\n"))
			if per := (float64(last.PSS) - float64(base.PSS)) / n; per > 2<<20 {
				t.Errorf("supervision costs %.0f bytes of PSS per task, over the 2 MB budget", per)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := f.client.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// shellWrappers runs n `sh -c 'sleep 1000; echo $? >status'` wrappers,
// each supervising one sleep the way a per-task shim would, measures the
// shells' summed memory, and kills them.
func shellWrappers(t testing.TB, n int) Memory {
	t.Helper()
	dir := t.TempDir()
	mark := fmt.Sprintf("STRATA_TEST_MARK=wrappers-%d", os.Getpid())
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	var shells []int
	defer func() {
		for _, pid := range shells {
			unix.Kill(-pid, unix.SIGKILL)
		}
		for _, pid := range shells {
			reap(t, pid)
		}
		reapZombieChildren()
	}()
	for i := 0; i < n; i++ {
		p, err := os.StartProcess("/bin/sh", []string{"sh", "-c", "sleep 1000; echo $? > status"}, &os.ProcAttr{
			Dir: dir, Env: []string{"PATH=" + DefaultPath, mark},
			Files: []*os.File{devnull, devnull, devnull},
			Sys:   &syscall.SysProcAttr{Setsid: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		shells = append(shells, p.Pid)
		p.Release()
	}
	if !waitFor(30*time.Second, func() bool { return len(processesWithEnv(mark)) == 2*n }) {
		t.Fatalf("wrappers did not all start their sleep")
	}
	var sum Memory
	for _, pid := range shells {
		m, err := MemoryOf(pid)
		if err != nil {
			t.Fatal(err)
		}
		sum.RSS += m.RSS
		sum.PSS += m.PSS
	}
	return sum
}

// BenchmarkLaunch measures launching one task (a sleep) until the
// supervisor answers that it runs, its record durable.
func BenchmarkLaunch(b *testing.B) {
	for _, iso := range []Isolation{IsolationPosix, IsolationCgroups} {
		b.Run(string(iso), func(b *testing.B) {
			if iso == IsolationCgroups {
				needCgroups(b)
			}
			f := newFixture(b, iso)
			b.ResetTimer()
			for i := range b.N {
				f.launch(f.argv(fmt.Sprintf("b%d", i), "sleep", "sleep", "1000"))
			}
			b.StopTimer()
		})
	}
}

// BenchmarkLaunchParallel launches tasks from several goroutines at once,
// as an agent launching a batch would.
func BenchmarkLaunchParallel(b *testing.B) {
	f := newFixture(b, IsolationPosix)
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f.launch(f.argv(fmt.Sprintf("p%d", n.Add(1)), "sleep", "sleep", "1000"))
		}
	})
	b.StopTimer()
}
