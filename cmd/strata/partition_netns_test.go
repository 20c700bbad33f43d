package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dc/strata/agent/agenttest"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
)

// netnsPatience bounds the waits of the partition test: a liveness bound
// on a loaded 2-core machine (a healed agent's reconnect may wait for a
// SYN retransmission), not a performance claim.
const netnsPatience = 90 * time.Second

// netns is a network namespace joined to this host by a veth pair on a
// private /30: the host side is hostIP on hostIf, the namespace side nsIP.
// Nothing is routed beyond the pair, so no traffic leaves the machine.
type netns struct {
	name         string
	hostIf, nsIf string
	hostIP, nsIP string
}

// newNetns makes the namespace and the pair, with names unique to this
// process and an address pair chosen at random in 10.200.0.0–10.249.255.255
// and not already on this host; everything is deleted at cleanup. The test
// is skipped, saying why, where namespaces cannot be made.
func newNetns(t *testing.T) *netns {
	t.Helper()
	requireNetnsTools(t)
	suffix := fmt.Sprintf("%d%02x", os.Getpid(), partRandN(t, 256))
	n := &netns{name: "strata-part-" + suffix, hostIf: "sph" + suffix, nsIf: "spn" + suffix}
	if len(n.hostIf) > 15 {
		n.hostIf, n.nsIf = n.hostIf[:15], n.nsIf[:15]
	}
	if out, err := exec.Command("ip", "netns", "add", n.name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add %s failed (no network namespaces here): %v: %s", n.name, err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		// Deleting the namespace destroys its end of the pair, and so the pair.
		_ = exec.Command("ip", "link", "del", n.hostIf).Run()
		if out, err := exec.Command("ip", "netns", "del", n.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", n.name, err, out)
		}
	})
	taken, _ := exec.Command("ip", "-4", "-o", "addr", "show").Output()
	for {
		prefix, last := fmt.Sprintf("10.%d.%d.", 200+partRandN(t, 50), partRandN(t, 256)), 4*partRandN(t, 64)
		n.hostIP, n.nsIP = prefix+strconv.Itoa(last+1), prefix+strconv.Itoa(last+2)
		if !bytes.Contains(taken, []byte(n.hostIP+"/")) && !bytes.Contains(taken, []byte(n.nsIP+"/")) {
			break
		}
	}
	if out, err := exec.Command("ip", "link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf).CombinedOutput(); err != nil {
		t.Skipf("ip link add %s type veth failed (no veth pairs here): %v: %s", n.hostIf, err, bytes.TrimSpace(out))
	}
	steps := [][]string{
		{"ip", "link", "set", n.nsIf, "netns", n.name},
		{"ip", "addr", "add", n.hostIP + "/30", "dev", n.hostIf},
		{"ip", "link", "set", n.hostIf, "up"},
		{"ip", "netns", "exec", n.name, "ip", "addr", "add", n.nsIP + "/30", "dev", n.nsIf},
		{"ip", "netns", "exec", n.name, "ip", "link", "set", n.nsIf, "up"},
		{"ip", "netns", "exec", n.name, "ip", "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return n
}

// requireNetnsTools skips the test unless it runs as root with ip(8).
func requireNetnsTools(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root: this test runs as uid " + strconv.Itoa(os.Geteuid()))
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("the ip command (iproute2) is not installed: " + err.Error())
	}
}

// link sets the host end of the pair up or down: down is the partition,
// the namespace unreachable while the host keeps its address.
func (n *netns) link(t *testing.T, state string) {
	t.Helper()
	if out, err := exec.Command("ip", "link", "set", n.hostIf, state).CombinedOutput(); err != nil {
		t.Fatalf("ip link set %s %s: %v: %s", n.hostIf, state, err, out)
	}
}

func partRandN(t *testing.T, n int64) int {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		t.Fatal(err)
	}
	return int(v.Int64())
}

// partFreePort is a free TCP port on ip.
func partFreePort(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// partDaemon is a process the test started, killed by PID and reaped at
// cleanup; its output goes to a log file shown when the test fails.
type partDaemon struct {
	name   string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
}

func startPartDaemon(t *testing.T, name, dir string, argv ...string) *partDaemon {
	t.Helper()
	d := &partDaemon{name: name, log: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	f, err := os.Create(d.log)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Stdout, d.cmd.Stderr = f, f
	d.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = d.cmd.Start()
	f.Close()
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = d.cmd.Wait(); close(d.exited) }() // ends when the process does, which cleanup forces
	t.Cleanup(func() {
		_ = d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.exited
		if t.Failed() {
			b, _ := os.ReadFile(d.log)
			if len(b) > 3000 {
				b = b[len(b)-3000:]
			}
			t.Logf("log of %s:\n%s", name, b)
		}
	})
	return d
}

// alive fails the test when the daemon has exited.
func (d *partDaemon) alive(t *testing.T) {
	t.Helper()
	select {
	case <-d.exited:
		b, _ := os.ReadFile(d.log)
		t.Fatalf("%s exited: %s\n%s", d.name, d.cmd.ProcessState, b)
	default:
	}
}

// partEventually polls cond until it holds, failing after netnsPatience.
func partEventually(t *testing.T, what string, cond func() bool, ds ...*partDaemon) {
	t.Helper()
	deadline := time.Now().Add(netnsPatience)
	for !cond() {
		for _, d := range ds {
			d.alive(t)
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", netnsPatience, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// partGetJSON GETs url (or POSTs body when not empty) and decodes the answer
// into out; false when it could not.
func partGetJSON(url, body string, out any) bool {
	c := &http.Client{Timeout: 5 * time.Second}
	var resp *http.Response
	var err error
	if body == "" {
		resp, err = c.Get(url)
	} else {
		resp, err = c.Post(url, "application/json", strings.NewReader(body))
	}
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && json.Unmarshal(b, out) == nil
}

// agentActive reports whether the master's GET_AGENTS lists the agent
// named hostname as active (an unreachable agent is not listed).
func agentActive(masterURL, hostname string) bool {
	var ag struct {
		GetAgents struct {
			Agents []struct {
				AgentInfo struct {
					Hostname string `json:"hostname"`
				} `json:"agent_info"`
				Active bool `json:"active"`
			} `json:"agents"`
		} `json:"get_agents"`
	}
	if !partGetJSON(masterURL+"/api/v1", `{"type":"GET_AGENTS"}`, &ag) {
		return false
	}
	for _, a := range ag.GetAgents.Agents {
		if a.AgentInfo.Hostname == hostname && a.Active {
			return true
		}
	}
	return false
}

// marathonTask is what the test reads of /v2/apps/{id}/tasks.
type marathonTask struct {
	ID    string `json:"id"`
	Host  string `json:"host"`
	State string `json:"state"`
}

// taskPIDs lists live processes whose environment has MESOS_TASK_ID=id
// and the test's marker: the task's processes, wherever they run.
func taskPIDs(marker, id string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		vars := bytes.Split(env, []byte{0})
		var hasMarker, hasID bool
		for _, v := range vars {
			hasMarker = hasMarker || string(v) == marker
			hasID = hasID || id == "" || string(v) == "MESOS_TASK_ID="+id
		}
		if hasMarker && hasID && agenttest.Alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestIntegration_AgentPartition is the agent partition, end to
// end with real processes: a master, two agents (one inside a network
// namespace, reaching the master over a veth pair) and marathon run an
// app of two instances, one on each agent. The namespace's link goes
// down: the master must declare that agent unreachable and report its
// task TASK_UNREACHABLE; marathon must replace it on the reachable agent
// (unreachableStrategy inactiveAfterSeconds 1) so two run again. The link
// comes back: the agent reregisters and the master reports the task
// RUNNING again (Mesos' behaviour for PARTITION_AWARE frameworks); the
// returning instance's process must be killed, leaving exactly two.
//
// "inactive": marathon still knows the instance (expungeAfterSeconds 600)
// and, with three running for two wanted, kills the surplus, the
// returning one by killSelection OLDEST_FIRST. "expunged": marathon
// forgot it during the partition (expungeAfterSeconds 2), asking the
// master to kill it, which the master can only do when the agent is back;
// the master delivers that kill on reregistration and marathon kills the
// RUNNING task it no longer knows. This partition lasts until the agent,
// too, has given up on its silent stream.
func TestIntegration_AgentPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the partition test runs two clusters of real processes")
	}
	requireNetnsTools(t)
	bin := buildStrata(t)
	t.Run("inactive", func(t *testing.T) { testAgentPartition(t, bin, 600, "OLDEST_FIRST") })
	t.Run("expunged", func(t *testing.T) { testAgentPartition(t, bin, 2, "YOUNGEST_FIRST") })
}

func testAgentPartition(t *testing.T, bin string, expungeAfter int, killSelection string) {
	ns := newNetns(t)
	dir := t.TempDir()

	e, err := coord.Embed(server.Config{DataDir: filepath.Join(dir, "coord"), ClientAddress: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	zk := e.URL().String()

	// The master listens on the host end of the pair, which stays an
	// address of this host while the link is down: the host agent and
	// marathon reach it throughout, the namespace's agent only while the
	// link is up.
	masterPort := partFreePort(t, ns.hostIP)
	masterAddr := net.JoinHostPort(ns.hostIP, strconv.Itoa(masterPort))
	masterURL := "http://" + masterAddr
	m := startPartDaemon(t, "master", dir, bin, "master", "--zk", zk, "--work-dir", filepath.Join(dir, "master"),
		"--ip", ns.hostIP, "--port", strconv.Itoa(masterPort), "--no-authenticate",
		"--agent-ping-timeout", "500ms", "--max-agent-ping-timeouts", "3", "--allocation-interval", "100ms",
		"--zk-session-timeout", "4s")
	partEventually(t, "the master to answer /health", func() bool {
		resp, err := http.Get(masterURL + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, m)

	marker := "STRATA_PARTITION_TEST=" + ns.name
	agentArgs := func(name, ip, resources string) []string {
		work := filepath.Join(dir, name)
		// The agent's supervisor (and so every task) outlives the agent:
		// shut it down and reap it at cleanup, after the agent is killed
		// (cleanups run last-registered first).
		t.Cleanup(func() { agenttest.StopSupervisor(t, filepath.Join(work, "supervisor")) })
		return []string{bin, "agent", "--master", masterAddr, "--work-dir", work, "--ip", ip, "--port", "0",
			"--hostname", name, "--resources", resources, "--attributes", "side:" + name,
			"--no-authenticate", "--allow-root-tasks", "--recovery-timeout", "1m"}
	}
	// Whatever survives the supervisors' shutdown is killed by PID.
	t.Cleanup(func() {
		for _, pid := range taskPIDs(marker, "") {
			t.Errorf("task process %d outlived the test; killing it", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	// The namespace's agent comes first and has room for one instance:
	// the app's first instance lands there, the second waits for the host
	// agent, which has room for the replacement too.
	nsAgent := startPartDaemon(t, "ns-agent", dir, append([]string{"ip", "netns", "exec", ns.name},
		agentArgs("ns-agent", ns.nsIP, "cpus:1;mem:512")...)...)
	marathonAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(partFreePort(t, "127.0.0.1")))
	marathonURL := "http://" + marathonAddr
	mar := startPartDaemon(t, "marathon", dir, bin, "marathon", "--master", masterURL, "--zk", zk+"/marathon",
		"--http-address", marathonAddr, "--reconciliation-interval", "5s")
	partEventually(t, "marathon to lead", func() bool {
		var info map[string]any
		return partGetJSON(marathonURL+"/v2/info", "", &info) && info["elected"] == true
	}, mar, m, nsAgent)

	appDef := fmt.Sprintf(`{"id": "/partition", "cmd": "sleep 3600", "cpus": 1, "mem": 32, "instances": 2,
		"portDefinitions": [], "env": {"STRATA_PARTITION_TEST": %q}, "killSelection": %q,
		"unreachableStrategy": {"inactiveAfterSeconds": 1, "expungeAfterSeconds": %d}}`, ns.name, killSelection, expungeAfter)
	resp, err := http.Post(marathonURL+"/v2/apps", "application/json", strings.NewReader(appDef))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v2/apps: %s %s", resp.Status, b)
	}
	tasks := func() []marathonTask {
		var out struct{ Tasks []marathonTask }
		if !partGetJSON(marathonURL+"/v2/apps/partition/tasks", "", &out) {
			return nil
		}
		return out.Tasks
	}
	running := func(list []marathonTask, host string) []marathonTask {
		var out []marathonTask
		for _, x := range list {
			if x.State == "TASK_RUNNING" && (host == "" || x.Host == host) {
				out = append(out, x)
			}
		}
		return out
	}
	partEventually(t, "the first instance running in the namespace", func() bool {
		return len(running(tasks(), "ns-agent")) == 1
	}, m, nsAgent, mar)
	hostAgent := startPartDaemon(t, "host-agent", dir, agentArgs("host-agent", "127.0.0.1", "cpus:2;mem:512")...)
	partEventually(t, "the second instance running on the host", func() bool {
		return len(running(tasks(), "host-agent")) == 1
	}, m, nsAgent, hostAgent, mar)
	old := running(tasks(), "ns-agent")[0]
	first := running(tasks(), "host-agent")[0]
	oldPIDs := taskPIDs(marker, old.ID)
	if len(oldPIDs) == 0 {
		t.Fatalf("no process of task %s (environment %s, MESOS_TASK_ID) found", old.ID, marker)
	}

	t.Logf("running: %s in the namespace, %s on the host; cutting the namespace off", old.ID, first.ID)
	cut := time.Now()
	ns.link(t, "down")
	masterTask := func(id string) (state string, unreachable bool) {
		var raw struct {
			GetTasks struct {
				Tasks            []json.RawMessage `json:"tasks"`
				UnreachableTasks []json.RawMessage `json:"unreachable_tasks"`
			} `json:"get_tasks"`
		}
		if !partGetJSON(masterURL+"/api/v1", `{"type":"GET_TASKS"}`, &raw) {
			return "", false
		}
		find := func(list []json.RawMessage) string {
			for _, r := range list {
				var x struct {
					TaskID struct {
						Value string `json:"value"`
					} `json:"task_id"`
					State string `json:"state"`
				}
				if json.Unmarshal(r, &x) == nil && x.TaskID.Value == id {
					return x.State
				}
			}
			return ""
		}
		if s := find(raw.GetTasks.UnreachableTasks); s != "" {
			return s, true
		}
		return find(raw.GetTasks.Tasks), false
	}
	partEventually(t, "the master to report the cut-off task TASK_UNREACHABLE", func() bool {
		s, unreachable := masterTask(old.ID)
		return unreachable && s == "TASK_UNREACHABLE"
	}, m, hostAgent, mar)
	if agentActive(masterURL, "ns-agent") || !agentActive(masterURL, "host-agent") {
		t.Fatal("GET_AGENTS: the cut-off agent is still active, or the host's is not")
	}
	partEventually(t, "marathon to see the instance unreachable and replace it on the host", func() bool {
		list := tasks()
		var seen bool
		for _, x := range list {
			seen = seen || (x.ID == old.ID && x.State == "TASK_UNREACHABLE")
		}
		return seen && len(running(list, "host-agent")) == 2
	}, m, hostAgent, mar)
	var replacement marathonTask
	for _, x := range running(tasks(), "host-agent") {
		if x.ID != first.ID {
			replacement = x
		}
	}
	t.Logf("replaced by %s %v after the cut", replacement.ID, time.Since(cut).Round(time.Millisecond))
	if expungeAfter < 600 {
		partEventually(t, "marathon to expunge the unreachable instance", func() bool {
			list := tasks()
			for _, x := range list {
				if x.ID == old.ID {
					return false
				}
			}
			return len(running(list, "host-agent")) == 2
		}, m, hostAgent, mar)
		if s, unreachable := masterTask(old.ID); !unreachable {
			t.Fatalf("the master no longer has the cut-off task unreachable but %q", s)
		}
		t.Logf("marathon expunged %s %v after the cut", old.ID, time.Since(cut).Round(time.Millisecond))
		// A longer partition: the agent, too, gives up on its silent
		// stream and tries to subscribe again, into the dead link.
		partEventually(t, "the cut-off agent to notice its master is silent", func() bool {
			b, _ := os.ReadFile(nsAgent.log)
			return bytes.Contains(b, []byte("resubscribing"))
		}, m, hostAgent, mar)
		t.Logf("the cut-off agent gave up on its stream %v after the cut", time.Since(cut).Round(time.Millisecond))
	}
	if len(taskPIDs(marker, old.ID)) == 0 {
		t.Fatal("the cut-off task's process died during the partition; nothing would test its kill on return")
	}

	healed := time.Now()
	ns.link(t, "up")
	partEventually(t, "the returning instance's process to be killed", func() bool {
		return len(taskPIDs(marker, old.ID)) == 0
	}, m, nsAgent, hostAgent, mar)
	partEventually(t, "marathon to forget the killed instance", func() bool {
		list := tasks()
		for _, x := range list {
			if x.ID == old.ID {
				return false
			}
		}
		return len(list) == 2
	}, m, nsAgent, hostAgent, mar)
	partEventually(t, "the master to have the namespace's agent back", func() bool {
		return agentActive(masterURL, "ns-agent")
	}, m, nsAgent, hostAgent, mar)

	t.Logf("the returning instance was killed and forgotten %v after the heal", time.Since(healed).Round(time.Millisecond))
	// The host's agent answered every PING: its subscription never
	// dropped (a master pinging less often than its ping timeout would
	// declare it unreachable again and again).
	if b, _ := os.ReadFile(hostAgent.log); bytes.Contains(b, []byte("resubscribing")) {
		t.Errorf("the host agent, never cut off, lost its subscription:\n%s", b)
	}
	// Exactly two remain: the host's original and its replacement, both
	// running, each with a live process; the master agrees.
	list := tasks()
	got := map[string]string{}
	for _, x := range list {
		got[x.ID] = x.State
	}
	want := map[string]string{first.ID: "TASK_RUNNING", replacement.ID: "TASK_RUNNING"}
	if len(got) != 2 || got[first.ID] != want[first.ID] || got[replacement.ID] != want[replacement.ID] {
		t.Fatalf("marathon's tasks after the heal: %v, want %v", got, want)
	}
	for id := range want {
		if len(taskPIDs(marker, id)) == 0 {
			t.Errorf("task %s has no live process", id)
		}
		if s, _ := masterTask(id); s != "TASK_RUNNING" {
			t.Errorf("the master has task %s as %q", id, s)
		}
	}
	if s, _ := masterTask(old.ID); s == "TASK_RUNNING" || s == "TASK_UNREACHABLE" {
		t.Errorf("the master still has the killed task %s as %s", old.ID, s)
	}
}
