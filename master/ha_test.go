package master_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/coord/zktest"
	"github.com/strata-dc/strata/master/mesos"
)

// haSessionTimeout is the masters' --zk-session-timeout in the HA test:
// short, so that the leader's death is noticed quickly.
const haSessionTimeout = 2 * time.Second

// masterProcess is a `strata master` process this test started.
type masterProcess struct {
	url  string
	log  string
	cmd  *exec.Cmd
	kill func() // by PID, then reaped; idempotent
}

// buildStrata builds cmd/strata into a temp dir of t.
func buildStrata(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "strata")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/strata-dc/strata/cmd/strata").CombinedOutput()
	if err != nil {
		t.Fatalf("go build cmd/strata: %v\n%s", err, out)
	}
	return bin
}

// startMasterProcess runs `strata master` against zk on a free port and
// waits until it answers /health.
func startMasterProcess(t *testing.T, bin, zk string) *masterProcess {
	t.Helper()
	dir := t.TempDir()
	port := zktest.FreePorts(t, 1)[0]
	logPath := filepath.Join(dir, "master.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "master", "--zk", zk, "--work-dir", dir, "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--zk-session-timeout", haSessionTimeout.String(), "--allocation-interval", "100ms", "--log-level", "info")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	logFile.Close()
	if err != nil {
		t.Fatalf("start strata master: %v", err)
	}
	exited := make(chan struct{})
	go func() { // owned by the process: ends when it exits, which kill forces
		_ = cmd.Wait()
		close(exited)
	}()
	mp := &masterProcess{url: "http://127.0.0.1:" + strconv.Itoa(port), log: logPath, cmd: cmd}
	mp.kill = func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
	t.Cleanup(func() {
		mp.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("log of master %s:\n%s", mp.url, b)
		}
	})
	waitFor(t, "master "+mp.url+" to answer /health", func() bool {
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("strata master exited at start:\n%s", b)
		default:
		}
		resp, err := http.Get(mp.url + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return mp
}

// leaderSeenBy asks m's /redirect for the leader's URL; "" when m cannot
// be reached or knows no leader.
func leaderSeenBy(m *masterProcess) string {
	noFollow := &http.Client{Timeout: 2 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(m.url + "/redirect")
	if err != nil {
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		return ""
	}
	return resp.Header.Get("Location")
}

// TestHA_KillLeaderProcess is the HA test: three `strata master`
// processes on one coord (the embedded server, then a 3-node Apache
// ZooKeeper ensemble), a simulated agent running a long task and a
// scheduler over raw HTTP. The leader is killed with SIGKILL: a survivor
// must lead and serve within the session timeout plus a margin, the
// agent reregisters with its task, the scheduler resubscribes with its
// framework ID, and reconciliation shows the task still running.
func TestHA_KillLeaderProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/strata and runs master processes; skipped with -short")
	}
	bin := buildStrata(t)
	coords := []struct {
		name string
		zk   func(t *testing.T) string
	}{
		{"embedded", func(t *testing.T) string {
			// A short tick so that a 2 s session is allowed (the
			// default tick, 2 s, makes 4 s the shortest session).
			e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0",
				TickTime: 200 * time.Millisecond, Logger: quiet}, "/strata")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Close() })
			return e.URL().String()
		}},
		{"apache-ensemble", func(t *testing.T) string {
			return "zk://" + strings.Join(zktest.ApacheEnsemble(t, 3), ",") + "/strata"
		}},
	}
	for _, c := range coords {
		t.Run(c.name, func(t *testing.T) {
			d := killLeaderProcess(t, bin, c.zk(t))
			t.Logf("%s: failover (SIGKILL of the leader → a survivor serves SUBSCRIBE) took %v; session timeout %v",
				c.name, d.Round(time.Millisecond), haSessionTimeout)
		})
	}
}

// killLeaderProcess runs the scenario against zk and returns the failover
// time: from the leader's SIGKILL until the scheduler's SUBSCRIBE is
// answered by the new leader.
func killLeaderProcess(t *testing.T, bin, zk string) time.Duration {
	var ms []*masterProcess
	var urls []string
	for i := 0; i < 3; i++ {
		m := startMasterProcess(t, bin, zk)
		ms = append(ms, m)
		urls = append(urls, m.url)
	}
	byURL := func(u string) *masterProcess {
		for _, m := range ms {
			if m.url == u {
				return m
			}
		}
		return nil
	}
	// Every master agrees on one leader.
	var old *masterProcess
	waitFor(t, "the masters to agree on a leader", func() bool {
		l := leaderSeenBy(ms[0])
		for _, m := range ms[1:] {
			if leaderSeenBy(m) != l {
				return false
			}
		}
		old = byURL(l)
		return old != nil
	})

	agent := startAgent(t, urls, "sim-1", 0) // its tasks run until killed
	waitFor(t, "the agent to subscribe", func() bool { return agent.ID() != "" })
	failover := 3600.0
	s := newTestScheduler(t, urls, mesos.FrameworkInfo{User: "test", Name: "ha-process", FailoverTimeout: &failover,
		Capabilities: []mesos.FrameworkCapability{{Type: mesos.FrameworkCapabilityPartitionAware}}})
	sub := s.subscribe(patience)
	agentID := s.launchOne("long-1", "cpus:1;mem:128")
	s.ack(s.update("long-1", patience, mesos.TaskRunning))
	subsBefore := agent.Subscriptions()

	killedAt := time.Now()
	old.kill()
	var survivors []*masterProcess
	for _, m := range ms {
		if m != old {
			survivors = append(survivors, m)
		}
	}
	var leader *masterProcess
	waitFor(t, "a survivor to name a new leader", func() bool {
		for _, m := range survivors {
			if l := byURL(leaderSeenBy(m)); l != nil && l != old {
				leader = l
				return true
			}
		}
		return false
	})
	named := time.Since(killedAt)
	resub := s.subscribe(patience)
	took := time.Since(killedAt)
	t.Logf("new leader %s named after %v, served SUBSCRIBE after %v", leader.url, named.Round(time.Millisecond), took.Round(time.Millisecond))
	if resub.FrameworkID != sub.FrameworkID {
		t.Fatalf("resubscribed as %s, was %s", resub.FrameworkID, sub.FrameworkID)
	}
	s.mu.Lock()
	served := s.base
	s.mu.Unlock()
	if served != leader.url {
		t.Fatalf("SUBSCRIBE was served by %s, the new leader is %s", served, leader.url)
	}
	if limit := haSessionTimeout + 5*time.Second; took > limit {
		t.Errorf("failover took %v, more than the session timeout plus 5 s (%v)", took, limit)
	}

	waitFor(t, "the agent to reregister", func() bool { return agent.Subscriptions() > subsBefore })
	s.mustCall(&mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{
		Tasks: []mesos.ReconcileTask{{TaskID: "long-1", AgentID: agentID}}}})
	// The new leader may tell the scheduler first that the agent
	// reregistered; the reconciliation answer is the one to check.
	ev := s.next(patience, func(ev *mesos.Event) bool {
		return ev.Type == mesos.EventUpdate && ev.Update.Status.TaskID == "long-1" &&
			ev.Update.Status.Reason == mesos.ReasonReconciliation
	})
	if ev == nil {
		t.Fatal("no answer to the explicit reconciliation of long-1")
	}
	if st := ev.Update.Status; st.State != mesos.TaskRunning {
		t.Fatalf("after the failover the task is %s", describeStatus(st))
	}
	if states := agent.TaskStates(); states["long-1"] != mesos.TaskRunning {
		t.Fatalf("the agent's tasks: %v", states)
	}
	// The new leader's operator API agrees.
	_, gm, body := operator(t, http.DefaultClient, leader.url, `{"type":"GET_MASTER"}`)
	if gm.GetMaster == nil || gm.GetMaster.MasterInfo == nil ||
		leader.url != "http://127.0.0.1:"+strconv.Itoa(int(gm.GetMaster.MasterInfo.Port)) {
		t.Fatalf("GET_MASTER on the new leader: %s", body)
	}
	return took
}
