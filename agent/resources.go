package agent

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/disk"
	"github.com/shirou/gopsutil/v3/mem"

	"github.com/strata-dc/strata/master/mesos"
)

// DefaultPorts is the port range an agent offers when --resources names
// none, as Mesos does.
const DefaultPorts = "[31000-32000]"

// totalResources is what the agent offers: the --resources it was given,
// completed with detected cpus, mem, disk and ports for every one of them
// the flag leaves out (Mesos' rule).
func totalResources(flag, workDir string) (mesos.Resources, error) {
	given, err := mesos.ParseResources(flag, "")
	if err != nil {
		return nil, fmt.Errorf("--resources: %w", err)
	}
	have := map[string]bool{}
	for _, r := range given {
		have[r.Name] = true
	}
	var add []string
	if !have["cpus"] {
		add = append(add, fmt.Sprintf("cpus:%d", detectCPUs()))
	}
	if !have["mem"] {
		mb, err := detectMemMB()
		if err != nil {
			return nil, fmt.Errorf("detect memory (give --resources mem:N): %w", err)
		}
		add = append(add, fmt.Sprintf("mem:%d", mb))
	}
	if !have["disk"] {
		if mb, err := detectDiskMB(workDir); err == nil && mb > 0 {
			add = append(add, fmt.Sprintf("disk:%d", mb))
		}
	}
	if !have["ports"] {
		add = append(add, "ports:"+DefaultPorts)
	}
	if len(add) == 0 {
		return given, nil
	}
	detected, err := mesos.ParseResources(strings.Join(add, ";"), "")
	if err != nil {
		return nil, fmt.Errorf("detected resources %q: %w", strings.Join(add, ";"), err)
	}
	return append(given, detected...), nil
}

// reserveMB is what Mesos leaves the host: 1 GB, or half of the memory
// when there is less than 2 GB.
func reserveMB(total uint64) uint64 {
	if total < 2048 {
		return total / 2
	}
	return 1024
}

// detectMemMB is the host's memory (gopsutil), less the host reserve.
func detectMemMB() (uint64, error) {
	vm, err := mem.VirtualMemory()
	if err != nil {
		return 0, err
	}
	mb := vm.Total / (1024 * 1024)
	return mb - reserveMB(mb), nil
}

// detectDiskMB is the size of the work dir's file system (gopsutil) less
// Mesos' reserve (5 GB, or half when smaller than 10 GB).
func detectDiskMB(dir string) (uint64, error) {
	u, err := disk.Usage(dir)
	if err != nil {
		return 0, err
	}
	mb := u.Total / (1024 * 1024)
	if mb < 10*1024 {
		return mb / 2, nil
	}
	return mb - 5*1024, nil
}

// detectCPUs counts the host's logical CPUs (gopsutil), falling back to
// what the Go runtime sees.
func detectCPUs() int {
	if n, err := cpu.Counts(true); err == nil && n > 0 {
		return n
	}
	return runtime.NumCPU()
}
