package chaos

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Kind is what a component is; faults are drawn per kind.
type Kind string

// The component kinds of a chaos cluster.
const (
	KindZK       Kind = "zookeeper" // a member of the Apache ZooKeeper ensemble
	KindCoord    Kind = "coord"     // the embedded coord server (strata coord)
	KindMaster   Kind = "master"
	KindAgent    Kind = "agent"
	KindMarathon Kind = "marathon"
	KindChronos  Kind = "chronos"
)

// proc is one daemon process of the cluster. It is started again with the
// same arguments (same ports, same work dir) after a fault, as a process
// supervisor like systemd would.
type proc struct {
	kind Kind
	name string // e.g. "master-2"
	port int    // the API (or client) port
	dir  string // its work/data dir; also holds its log
	argv []string
	env  []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	starts  int
	stopped bool // Stop was called: no more restarts
}

// start runs the process; its output is appended to <dir>/<name>.log.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return fmt.Errorf("%s: stopped", p.name)
	}
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			return fmt.Errorf("%s: already running", p.name)
		}
	}
	log, err := os.OpenFile(filepath.Join(p.dir, p.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close() // the child has its own descriptor
	fmt.Fprintf(log, "\n=== chaos: start %d of %s at %s: %s\n", p.starts+1, p.name, time.Now().Format(time.RFC3339Nano), strings.Join(p.argv, " "))
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so a terminal's ^C reaches only the runner,
	// which then stops everything in order; and death with the runner, so
	// a killed runner leaves no daemon behind (an agent's detached
	// supervisor is stopped by Cluster.Stop, or by its recovery timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	go func() { // owned by p: ends when the process exits
		_ = cmd.Wait()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	p.starts++
	return nil
}

// kill sends SIGKILL to the process (only it, by PID: an agent's
// supervisor, a separate process, survives as it would a crash) and waits
// for it to be gone.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// stop ends the process for good: SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	p.mu.Lock()
	p.stopped = true
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
}

// running reports whether the process is alive.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// pid is the current process' PID (0 when not running).
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// addr is the component's API address on loopback.
func (p *proc) addr() string { return fmt.Sprintf("127.0.0.1:%d", p.port) }

// freePorts reserves n distinct free loopback ports. They are released
// before the daemons bind them, so a race with another program is
// possible; a daemon that then fails to start is reported by Start.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
