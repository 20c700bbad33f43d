package agent

import (
	"strings"
	"testing"

	"github.com/strata-dc/strata/master/mesos"
)

func TestConfigMaster(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "zk://127.0.0.1:2181/strata", want: "zk://127.0.0.1:2181/strata"},
		{in: "http://10.0.0.1:5050/", want: "http://10.0.0.1:5050"},
		{in: "10.0.0.1:5050", want: "http://10.0.0.1:5050"},
		{in: "", err: "--master is required"},
		{in: "somehost", err: "want zk://"},
		{in: "zk://", err: "--master"},
	} {
		c := Config{Master: tc.in, WorkDir: t.TempDir()}
		err := c.defaults()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one mentioning %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || c.Master != tc.want {
			t.Errorf("%q: %q %v, want %q", tc.in, c.Master, err, tc.want)
		}
	}
	c := Config{Master: "h:1", WorkDir: t.TempDir(), Isolation: "docker"}
	if err := c.defaults(); err == nil || !strings.Contains(err.Error(), "--isolation") {
		t.Errorf("isolation docker: %v", err)
	}
}

func TestTotalResources(t *testing.T) {
	dir := t.TempDir()
	got, err := totalResources("cpus:3;mem:100", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cpus().Float64() != 3 || got.Mem().Float64() != 100 || len(got.Ranges("ports")) == 0 {
		t.Fatalf("given cpus and mem, detected the rest: %v", got)
	}
	all, err := totalResources("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if all.Cpus().Sign() <= 0 || all.Mem().Sign() <= 0 {
		t.Fatalf("detected: %v", all)
	}
	res, err := totalResources("cpus(ads):2;mem:64;disk:10;ports:[1-2]", dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Named("cpus")) != 1 || !res.Named("cpus")[0].IsReserved() {
		t.Fatalf("static reservation: %v", res)
	}
	if _, err := totalResources("cpus:x", dir); err == nil || !strings.Contains(err.Error(), "--resources") {
		t.Fatalf("bad --resources: %v", err)
	}
	for _, tc := range []struct{ total, reserve uint64 }{{1000, 500}, {2047, 1023}, {2048, 1024}, {16384, 1024}} {
		if got := reserveMB(tc.total); got != tc.reserve {
			t.Errorf("reserveMB(%d) = %d, want %d", tc.total, got, tc.reserve)
		}
	}
}

// TestCheckpointRecovery: records survive a reload; a new boot ID wipes
// them, since the host rebooted and the tasks are gone.
func TestCheckpointRecovery(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Config{Master: "127.0.0.1:1", WorkDir: dir, Resources: "cpus:1;mem:64;disk:1;ports:[1-1]"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.tcp.Close()
	defer a.unix.Close()
	a.id = "A-S1"
	a.frameworks["F"] = mesos.FrameworkInfo{ID: "F", User: "u", Name: "n"}
	a.saveAgentLocked()
	rec := &taskRecord{ContainerID: "c1", FrameworkID: "F", Task: mesos.TaskInfo{TaskID: "t1", Name: "t1"}, State: mesos.TaskRunning,
		Launched: true, Pending: []mesos.TaskStatus{{TaskID: "t1", State: mesos.TaskRunning, UUID: newUUID()}}}
	if err := a.ck.saveTask(rec); err != nil {
		t.Fatal(err)
	}

	reload := func(boot string) *Agent {
		b := &Agent{cfg: a.cfg, log: a.log, ck: a.ck, boot: boot, frameworks: map[mesos.FrameworkID]mesos.FrameworkInfo{},
			tasks: map[string]*taskRecord{}, byTask: map[taskKey]string{}, retry: map[string]*retryState{}}
		if err := b.recoverCheckpoint(); err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := reload(a.boot)
	if b.id != "A-S1" || b.frameworks["F"].Name != "n" || len(b.tasks) != 1 || len(b.tasks["c1"].Pending) != 1 ||
		b.byTask[taskKey{"F", "t1"}] != "c1" {
		t.Fatalf("reloaded: id %s frameworks %v tasks %v", b.id, b.frameworks, b.tasks)
	}
	c := reload("another-boot")
	if c.id != "" || len(c.tasks) != 0 || len(c.frameworks) != 0 {
		t.Fatalf("after a reboot: id %q tasks %v frameworks %v", c.id, c.tasks, c.frameworks)
	}
}
