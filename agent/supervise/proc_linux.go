package supervise

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of the times in /proc/<pid>/stat and cpuacct.stat:
// USER_HZ, which Linux fixes at 100 in its ABI whatever the kernel's HZ.
const userHZ = 100

// bootID identifies this boot of the host: a task recorded under another
// boot ID died with the host.
func bootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// procStat is the part of /proc/<pid>/stat the supervisor uses.
type procStat struct {
	pid, ppid, pgrp, session int
	state                    byte
	utime, stime             uint64 // clock ticks
	threads                  int
	startTicks               uint64
	rssPages                 uint64
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(pid, b)
}

// parseStat reads the fields after the command name, which is in
// parentheses and may itself contain spaces and parentheses.
func parseStat(pid int, b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+2:]))
	// f[0] is field 3 (state) of proc(5).
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	num := func(k int) uint64 { v, _ := strconv.ParseUint(f[k-3], 10, 64); return v }
	return procStat{
		pid:        pid,
		state:      f[0][0],
		ppid:       int(num(4)),
		pgrp:       int(num(5)),
		session:    int(num(6)),
		utime:      num(14),
		stime:      num(15),
		threads:    int(num(20)),
		startTicks: num(22),
		rssPages:   num(24),
	}, nil
}

// listProcs reads the stat of every process; processes that vanish while
// it reads are skipped.
func listProcs() ([]procStat, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read /proc: %w", err)
	}
	out := make([]procStat, 0, len(names))
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// posixTree is what IsolationPosix counts as a task: every process in the
// leader's process group or session, and every live descendant of those,
// which catches children that called setsid while their parent lives.
func posixTree(procs []procStat, leader int) []procStat {
	children := map[int][]int{}
	byPID := make(map[int]int, len(procs))
	for i, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
		byPID[p.pid] = i
	}
	seen := map[int]bool{}
	var queue []int
	for _, p := range procs {
		if p.pgrp == leader || p.session == leader || p.pid == leader {
			queue = append(queue, p.pid)
		}
	}
	var out []procStat
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		if i, ok := byPID[pid]; ok {
			out = append(out, procs[i])
		}
		queue = append(queue, children[pid]...)
	}
	return out
}

// Memory is a process's resident memory.
type Memory struct {
	// RSS counts every page the process maps, shared or not.
	RSS uint64 `json:"rss_bytes"`
	// PSS divides each shared page among the processes sharing it: the
	// fair share of the host's memory this process costs.
	PSS uint64 `json:"pss_bytes"`
}

// MemoryOf reads a process's RSS and PSS from /proc/<pid>/smaps_rollup,
// how the supervisor's cost per task is measured.
func MemoryOf(pid int) (Memory, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var dst *uint64
		switch {
		case strings.HasPrefix(line, "Rss:"):
			dst = &m.RSS
		case strings.HasPrefix(line, "Pss:"):
			dst = &m.PSS
		default:
			continue
		}
		f := strings.Fields(line)
		if len(f) >= 2 {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			*dst = kb * 1024
		}
	}
	return m, sc.Err()
}
