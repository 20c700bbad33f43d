package state

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/strata-dc/strata/master/mesos"
)

// TestGetStateJSONConcurrentReaders: readers encode published snapshots
// on their own goroutines while the machine keeps changing tasks and
// publishing new ones; every answer is what encoding/json makes of its
// snapshot (and -race sees no shared write).
func TestGetStateJSONConcurrentReaders(t *testing.T) {
	reg, calls := failoverCluster(20, 400)
	m := reregisterAll(reg, calls)
	snaps := make(chan *Snapshot)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 2 {
		wg.Go(func() {
			for s := range snaps {
				got, err := s.AppendGetStateJSON(nil)
				if err != nil {
					errs <- err.Error()
					return
				}
				want, err := json.Marshal(&mesos.OperatorResponse{Type: mesos.OperatorGetState, GetState: &s.State})
				if err != nil {
					errs <- err.Error()
					return
				}
				if !bytes.Equal(got, want) {
					errs <- "GET_STATE JSON differs from encoding/json"
					return
				}
			}
		})
	}
	for i := range 60 {
		if err := benchTouchTask(m, i); err != nil {
			t.Fatal(err)
		}
		s := m.Snapshot()
		snaps <- s
		snaps <- s // two readers may share one snapshot
	}
	close(snaps)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestBenchmarksRun runs the benchmark drivers at a small size.
func TestBenchmarksRun(t *testing.T) {
	var out bytes.Buffer
	if err := RunBenchmarks(&out, BenchOptions{Agents: 10, Tasks: 95, Runs: 1}, true, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"reregistration of every agent", "GET_STATE", "heap per task"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestTaskJSONMatchesEncodingJSON: the hand-written task encoder writes
// what encoding/json writes, for plain tasks and for every field it
// hands back to encoding/json, and for strings that need escaping.
func TestTaskJSONMatchesEncodingJSON(t *testing.T) {
	one := mesos.ScalarOf(1)
	gp := mesos.DurationInfo{Nanoseconds: 5e9}
	plain := mesos.Task{Name: "web", TaskID: "t1", FrameworkID: "f1", AgentID: "a1", State: mesos.TaskRunning,
		Resources: mesos.MustParseResources("cpus:0.5;mem:128").Allocate("*")}
	cases := map[string]func(*mesos.Task){
		"plain":             func(*mesos.Task) {},
		"empty":             func(tk *mesos.Task) { *tk = mesos.Task{} },
		"executor and user": func(tk *mesos.Task) { tk.ExecutorID, tk.User = "ex", "nobody" },
		"html in name":      func(tk *mesos.Task) { tk.Name = `<a href="x">&amp;</a>` },
		"unicode and ctl":   func(tk *mesos.Task) { tk.Name, tk.TaskID = "tâche\n\t\u2028\x7f", "id\\\"" },
		"invalid utf8":      func(tk *mesos.Task) { tk.Name = "bad\xff" },
		"unallocated":       func(tk *mesos.Task) { tk.Resources = mesos.MustParseResources("cpus:1;mem:2") },
		"empty role":        func(tk *mesos.Task) { tk.Resources[0].AllocationInfo = &mesos.AllocationInfo{} },
		"zero scalar":       func(tk *mesos.Task) { tk.Resources = append(tk.Resources, mesos.ScalarResource("gpus", 0)) },
		"ranges":            func(tk *mesos.Task) { tk.Resources = mesos.MustParseResources("cpus:1;ports:[31000-31005]") },
		"reserved":          func(tk *mesos.Task) { tk.Resources = mesos.MustParseResources("cpus(eng):1;mem:5") },
		"html in role":      func(tk *mesos.Task) { tk.Resources[0].AllocationInfo = &mesos.AllocationInfo{Role: "a<b"} },
		"statuses": func(tk *mesos.Task) {
			tk.Statuses = []mesos.TaskStatus{{TaskID: "t1", State: mesos.TaskRunning, Message: "<ok>"}}
		},
		"update state, uuid": func(tk *mesos.Task) { tk.StatusUpdateState, tk.StatusUpdateUUID = mesos.TaskRunning, []byte{1, 2, 250} },
		"labels":             func(tk *mesos.Task) { tk.Labels = mesos.Labels{{Key: "k", Value: "v&"}} },
		"kill policy":        func(tk *mesos.Task) { tk.KillPolicy = &mesos.KillPolicy{GracePeriod: &gp} },
		"discovery":          func(tk *mesos.Task) { tk.Discovery = &mesos.DiscoveryInfo{Name: "d"} },
		"limits":             func(tk *mesos.Task) { tk.Limits = map[string]mesos.Scalar{"cpus": one, "mem": one} },
		"empty slices": func(tk *mesos.Task) {
			tk.Statuses, tk.Labels, tk.Resources = []mesos.TaskStatus{}, mesos.Labels{}, mesos.Resources{}
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			tk := plain
			tk.Resources = slices.Clone(plain.Resources)
			edit(&tk)
			got, err := appendTaskJSON(nil, &tk)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(&tk)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("\n got %s\nwant %s", got, want)
			}
		})
	}
}
