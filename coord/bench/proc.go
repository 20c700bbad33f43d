package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat. The kernel fixes
// USER_HZ at 100 for user space on every architecture Strata builds for.
const userHZ = 100

// procMemory reads VmRSS and VmHWM of pid from /proc/PID/status, in bytes.
func procMemory(pid int) (rss, hwm int64, err error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("read server memory: %w", err)
	}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		// "VmRSS:	  123456 kB"
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("read server memory: %s: unexpected %s line %q", path, key, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("read server memory: %s: %s: %w", path, key, err)
		}
		if key == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("read server memory: %s has no VmRSS/VmHWM (a kernel thread or a zombie?)", path)
	}
	return rss, hwm, nil
}

// procCPU is the user+system CPU time pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read server cpu: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces, so
	// count fields from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("read server cpu: %s: no command name", path)
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')': state(3) ppid(4) … utime(14) stime(15), so utime is f[11].
	if len(f) < 13 {
		return 0, fmt.Errorf("read server cpu: %s: %d fields", path, len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read server cpu: %s: %w", path, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// selfCPU is the user+system CPU time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures how busy the client and (when its PID is known) the
// server were over a phase.
type cpuMeter struct {
	pid     int
	start   time.Time
	client0 time.Duration
	server0 time.Duration
	srvOK   bool
}

func startCPU(pid int) cpuMeter {
	m := cpuMeter{pid: pid, start: time.Now(), client0: selfCPU()}
	if pid > 0 {
		if d, err := procCPU(pid); err == nil {
			m.server0, m.srvOK = d, true
		}
	}
	return m
}

// stop returns the cores used by the client and the server since start;
// server is nil when the server's CPU time cannot be read.
func (m cpuMeter) stop() (client float64, server *float64) {
	wall := time.Since(m.start).Seconds()
	if wall <= 0 {
		return 0, nil
	}
	client = (selfCPU() - m.client0).Seconds() / wall
	if m.srvOK {
		if d, err := procCPU(m.pid); err == nil {
			s := (d - m.server0).Seconds() / wall
			server = &s
		}
	}
	return client, server
}

// ListenerPID finds the process listening on addr, a loopback host:port, by
// matching the listening socket's inode in /proc/net/tcp{,6} against every
// process's open descriptors. It is how a local server's RSS and CPU are read
// without asking for --pid; it refuses non-loopback hosts, whose port number
// on this machine could belong to an unrelated process.
func ListenerPID(addr string) (int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("find pid of %s: %w", addr, err)
	}
	if !isLoopback(host) {
		return 0, fmt.Errorf("find pid of %s: not a loopback address", addr)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("find pid of %s: port: %w", addr, err)
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := listeningInodes(table, uint16(port), inodes); err != nil {
			return 0, fmt.Errorf("find pid of %s: %w", addr, err)
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("find pid of %s: nothing listens on port %d", addr, port)
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("find pid of %s: %w", addr, err)
	}
	var pids []int
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				pids = append(pids, pid)
				break
			}
		}
	}
	switch len(pids) {
	case 0:
		return 0, fmt.Errorf("find pid of %s: no readable process holds its listening socket", addr)
	case 1:
		return pids[0], nil
	default:
		return 0, fmt.Errorf("find pid of %s: processes %v share its listening socket; give --pid", addr, pids)
	}
}

// listeningInodes adds the inodes of sockets in LISTEN state on port from
// one /proc/net table (a missing tcp6 table means no IPv6, not an error).
func listeningInodes(table string, port uint16, into map[string]bool) error {
	b, err := os.ReadFile(table)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	const listen = "0A"
	lines := strings.Split(string(b), "\n")
	for _, line := range lines[1:] {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != listen {
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || uint16(p) != port {
			continue
		}
		into[f[9]] = true
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
