package master_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/strata-dc/strata/master/mesos"
)

// proxy forwards TCP to target until cut, which drops every connection
// and refuses new ones: a master behind it loses coord the way a crashed
// or partitioned host does, without closing its session.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.partition)
	return p
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			u.Close()
			return
		}
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(u, c); u.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(c, u); c.Close() }()
	}
}

// partition cuts every connection and stops forwarding; idempotent.
func (p *proxy) partition() {
	p.mu.Lock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}

// TestIntegration_LeaderLosesCoord: the leader is cut off from coord (as
// if its host died or was partitioned: its session is not closed, it
// expires). It stops leading at once and closes its streams; another
// master is elected once the session expires; agents and the scheduler
// follow it, and the task survives.
func TestIntegration_LeaderLosesCoord(t *testing.T) {
	e := startCoord(t)
	px := startProxy(t, e.Addr().String())
	a := startMasterAt(t, "zk://"+px.ln.Addr().String()+"/strata")
	waitFor(t, "the first master to lead", a.m.Leading)
	b, c := startMaster(t, e), startMaster(t, e)
	urls := []string{a.url, b.url, c.url}

	agent := startAgent(t, urls, "sim-1", 0)
	waitFor(t, "agent subscribed", func() bool { return agent.ID() != "" })
	failover := 3600.0
	s := newTestScheduler(t, urls, mesos.FrameworkInfo{User: "test", Name: "partition", FailoverTimeout: &failover})
	s.subscribe(patience)
	agentID := s.launchOne("p-1", "cpus:1;mem:64")
	s.ack(s.update("p-1", patience, mesos.TaskRunning))

	px.partition()
	waitFor(t, "the cut-off leader to stop leading", func() bool { return !a.m.Leading() })
	waitFor(t, "a new leader", func() bool { return b.m.Leading() || c.m.Leading() })
	waitFor(t, "the agent to reregister", func() bool { return agent.Subscriptions() >= 2 })
	s.subscribe(patience)
	s.mustCall(&mesos.Call{Type: mesos.CallReconcile, Reconcile: &mesos.Reconcile{
		Tasks: []mesos.ReconcileTask{{TaskID: "p-1", AgentID: agentID}}}})
	st := s.update("p-1", patience, mesos.TaskRunning, mesos.TaskLost)
	if st.State != mesos.TaskRunning {
		t.Fatalf("after the partition the task is %s", describeStatus(st))
	}
	// The cut-off master serves no API any more.
	resp, err := http.Post(a.url+"/api/v1/scheduler", "application/json", strings.NewReader(
		`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}`))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("the cut-off master still accepts subscriptions")
		}
	}
}
