package flw

import (
	"math"
	"os"
	"os/user"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// na is what ZooKeeper prints for a value it cannot find.
const na = "<NA>"

// Environment collects envi's entries for this process in ZooKeeper's order
// and with its key names, with the Go runtime (go.version, go.maxprocs)
// where ZooKeeper lists the JVM's java.* properties, which do not exist
// here. The os.memory.* figures are the Go heap in whole MiB: its free
// part, its limit (only when GOMEMLIMIT or debug.SetMemoryLimit set one)
// and its size. It reads the host and process, so call it per request
// rather than caching it in a Snapshot.
func Environment(version string) []KV {
	env := []KV{
		{"zookeeper.version", version},
		{"host.name", orNA(os.Hostname())},
		{"go.version", runtime.Version()},
		{"go.maxprocs", strconv.Itoa(runtime.GOMAXPROCS(0))},
		{"os.name", javaOSName(runtime.GOOS)},
		{"os.arch", javaOSArch(runtime.GOARCH)},
		{"os.version", osVersion()},
		{"user.name", userName()},
		{"user.home", orNA(os.UserHomeDir())},
		{"user.dir", orNA(os.Getwd())},
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	const mb = 1 << 20
	env = append(env, KV{"os.memory.free", strconv.FormatUint((m.HeapSys-m.HeapInuse)/mb, 10) + "MB"})
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		env = append(env, KV{"os.memory.max", strconv.FormatInt(limit/mb, 10) + "MB"})
	}
	env = append(env, KV{"os.memory.total", strconv.FormatUint(m.HeapSys/mb, 10) + "MB"})
	return env
}

func orNA(s string, err error) string {
	if err != nil || s == "" {
		return na
	}
	return s
}

// javaOSName is the JVM's os.name for a GOOS, so scripts matching "Linux"
// keep working.
func javaOSName(goos string) string {
	switch goos {
	case "linux":
		return "Linux"
	case "darwin":
		return "Mac OS X"
	case "windows":
		return "Windows"
	case "freebsd":
		return "FreeBSD"
	}
	return goos
}

// javaOSArch is the JVM's os.arch for a GOARCH.
func javaOSArch(goarch string) string {
	switch goarch {
	case "arm64":
		return "aarch64"
	case "386":
		return "x86"
	}
	return goarch
}

// osVersion is the kernel release, as the JVM reports it on Linux.
func osVersion() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return na
	}
	return orNA(strings.TrimSpace(string(b)), nil)
}

func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return orNA(os.Getenv("USER"), nil)
}
