package cluster

import (
	"fmt"
	"math"
	"runtime"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/disk"
	"github.com/shirou/gopsutil/v3/mem"
)

// Host is what a machine has to give its agents.
type Host struct {
	CPUs   float64
	MemMB  uint64 // after the host's own reserve
	DiskMB uint64 // after the host's own reserve; 0: unknown
}

// Share is one agent's part of the host.
type Share struct {
	CPUs      float64
	MemMB     uint64
	DiskMB    uint64
	PortFirst int
	PortLast  int
}

// String is the share in --resources syntax.
func (s Share) String() string {
	out := fmt.Sprintf("cpus:%s;mem:%d", trimFloat(s.CPUs), s.MemMB)
	if s.DiskMB > 0 {
		out += fmt.Sprintf(";disk:%d", s.DiskMB)
	}
	return out + fmt.Sprintf(";ports:[%d-%d]", s.PortFirst, s.PortLast)
}

func trimFloat(v float64) string { return fmt.Sprintf("%g", v) }

// Agents' port ranges: agent i offers [31000+1000i, 31999+1000i], Mesos'
// default range for the first, the next thousand for each further one,
// so tasks of different agents on one host never get the same port.
const (
	portBase  = 31000
	portWidth = 1000
)

// Split divides h evenly among n agents: cpus to a tenth (at least 0.1
// each), mem and disk in whole megabytes, and a port range each.
func Split(h Host, n int) []Share {
	if n <= 0 {
		return nil
	}
	cpus := math.Floor(h.CPUs/float64(n)*10) / 10
	cpus = max(cpus, 0.1)
	out := make([]Share, n)
	for i := range out {
		first := portBase + i*portWidth
		out[i] = Share{CPUs: cpus, MemMB: max(h.MemMB/uint64(n), 32), DiskMB: h.DiskMB / uint64(n),
			PortFirst: first, PortLast: first + portWidth - 1}
	}
	return out
}

// DetectHost measures this machine as an agent would (gopsutil), keeping
// Mesos' reserves for the host: 1 GB of memory (half below 2 GB), 5 GB of
// disk (half below 10 GB) on the file system holding dir.
func DetectHost(dir string) (Host, error) {
	var h Host
	if n, err := cpu.Counts(true); err == nil && n > 0 {
		h.CPUs = float64(n)
	} else {
		h.CPUs = float64(runtime.NumCPU())
	}
	vm, err := mem.VirtualMemory()
	if err != nil {
		return Host{}, fmt.Errorf("detect memory: %w", err)
	}
	mb := vm.Total >> 20
	if mb < 2048 {
		mb /= 2
	} else {
		mb -= 1024
	}
	h.MemMB = mb
	if u, err := disk.Usage(dir); err == nil {
		d := u.Total >> 20
		if d < 10*1024 {
			d /= 2
		} else {
			d -= 5 * 1024
		}
		h.DiskMB = d
	}
	return h, nil
}

func splitHost(n int, dir string) ([]Share, error) {
	h, err := DetectHost(dir)
	if err != nil {
		return nil, err
	}
	return Split(h, n), nil
}
