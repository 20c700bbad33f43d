package supervise

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Isolation is how tasks are separated from each other and from the host,
// the agent's --isolation flag.
type Isolation string

const (
	// IsolationPosix puts each task in its own session and process group
	// and enforces no limits. Killing reaches the process group, the
	// session and every live descendant; a process that both leaves the
	// session and loses its parent before the kill escapes it.
	IsolationPosix Isolation = "posix"
	// IsolationCgroups also puts each task in cgroup v1 memory, cpu,
	// cpuacct and pids cgroups of its own under strata-<name>/, with the
	// task's limits; killing reaches every process in them.
	IsolationCgroups Isolation = "cgroups"
)

// ParseIsolation reads the --isolation flag.
func ParseIsolation(s string) (Isolation, error) {
	switch Isolation(s) {
	case IsolationPosix, IsolationCgroups:
		return Isolation(s), nil
	case "":
		return IsolationPosix, nil
	}
	return "", fmt.Errorf("isolation %q: want posix or cgroups", s)
}

// containerIDEnv is set in every task's environment to its container ID,
// whatever the spec says: with IsolationPosix it is how the supervisor
// recognises a task's orphaned daemons.
const containerIDEnv = "STRATA_CONTAINER_ID"

// DefaultKillGrace is the time between SIGTERM and SIGKILL when a task's
// kill policy names none: Mesos' default.
const DefaultKillGrace = 3 * time.Second

// Spec is everything the supervisor needs to start one task. It is plain
// data on purpose: the agent decides what a Mesos TaskInfo means (NewSpec)
// and the supervisor only runs what it is given, so the long-lived
// supervisor rarely needs to change when the agent does.
type Spec struct {
	// ID names this run of the task: the Mesos container ID. It is unique
	// among the tasks the supervisor remembers, names the run's state
	// directory and its cgroups, and is how Kill and Forget refer to it.
	ID string `json:"id"`

	// The Mesos identities, carried for the agent's benefit when it
	// recovers tasks from a supervisor that outlived it.
	TaskID      mesos.TaskID      `json:"task_id,omitempty"`
	FrameworkID mesos.FrameworkID `json:"framework_id,omitempty"`
	ExecutorID  mesos.ExecutorID  `json:"executor_id,omitempty"`
	AgentID     mesos.AgentID     `json:"agent_id,omitempty"`

	// Sandbox is the run's directory, created by the supervisor (owned by
	// User), the task's working directory, and where its stdout and stderr
	// files live.
	Sandbox string `json:"sandbox"`

	// Path is the program to execute; without a slash it is looked up in
	// the PATH of Env. Args is its argv, Args[0] included.
	Path string   `json:"path"`
	Args []string `json:"args"`
	// Env is the task's whole environment, except that the supervisor
	// sets STRATA_CONTAINER_ID to ID.
	Env []string `json:"env,omitempty"`

	// User runs the task under that account's uid, gid and supplementary
	// groups; empty runs it as the supervisor's user. Only a supervisor
	// running as root can switch users.
	User string `json:"user,omitempty"`

	Limits Limits `json:"limits,omitempty"`

	// KillGrace is the time between SIGTERM and SIGKILL when Kill is given
	// a negative grace, and when the supervisor shuts down.
	KillGrace time.Duration `json:"kill_grace,omitempty"`
}

// Limits are enforced only with IsolationCgroups; zero means unlimited.
type Limits struct {
	// MemBytes becomes memory.limit_in_bytes; exceeding it gets the task
	// OOM-killed and reported with Exit.OOM.
	MemBytes uint64 `json:"mem_bytes,omitempty"`
	// CPUs becomes cpu.shares (1024 per CPU) and, with CFSQuota, a hard
	// cap through cpu.cfs_quota_us.
	CPUs     float64 `json:"cpus,omitempty"`
	CFSQuota bool    `json:"cfs_quota,omitempty"`
	// Pids becomes pids.max: it bounds fork bombs, and makes a kill of the
	// cgroup converge.
	Pids int64 `json:"pids,omitempty"`
}

// idPattern restricts container IDs to what is safe as a file name and a
// cgroup name everywhere: stricter than mesos.ValidateID, which allows any
// printable byte but '/'.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

func validateContainerID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("container id %q: want 1-200 of [A-Za-z0-9._-], starting with a letter or digit", id)
	}
	return nil
}

// namePattern is the same rule for the supervisor's name, which becomes
// part of the cgroup root strata-<name>.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

func validateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("name %q: want 1-100 of [A-Za-z0-9._-], starting with a letter or digit", name)
	}
	return nil
}

// Validate reports the first thing that would make the spec unlaunchable,
// naming the field.
func (s *Spec) Validate() error {
	if err := validateContainerID(s.ID); err != nil {
		return fmt.Errorf("id: %w", err)
	}
	if s.Sandbox == "" || !filepath.IsAbs(s.Sandbox) || filepath.Clean(s.Sandbox) != s.Sandbox {
		return fmt.Errorf("sandbox %q: want a clean absolute path", s.Sandbox)
	}
	if s.Path == "" {
		return fmt.Errorf("path: no program to run")
	}
	if len(s.Args) == 0 {
		return fmt.Errorf("args: want at least argv[0]")
	}
	for i, kv := range s.Env {
		if !strings.Contains(kv, "=") || strings.HasPrefix(kv, "=") {
			return fmt.Errorf("env[%d] %q: want NAME=value", i, kv)
		}
		if strings.IndexByte(kv, 0) >= 0 {
			return fmt.Errorf("env[%d]: contains a NUL byte", i)
		}
	}
	for i, a := range s.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("args[%d]: contains a NUL byte", i)
		}
	}
	if s.Limits.CPUs < 0 || s.Limits.Pids < 0 {
		return fmt.Errorf("limits: negative value")
	}
	if s.KillGrace < 0 {
		return fmt.Errorf("kill_grace: negative")
	}
	return nil
}

// SandboxDir is the Mesos layout of a run's sandbox under the agent's work
// directory, so operators and tools that know Mesos find logs where they
// expect them.
func SandboxDir(workDir string, agent mesos.AgentID, fw mesos.FrameworkID, executor mesos.ExecutorID, container string) (string, error) {
	for _, p := range []struct{ name, v string }{
		{"agent id", string(agent)}, {"framework id", string(fw)}, {"executor id", string(executor)},
	} {
		if err := mesos.ValidateID(p.v); err != nil {
			return "", fmt.Errorf("%s: %w", p.name, err)
		}
	}
	if err := validateContainerID(container); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(workDir)
	if err != nil {
		return "", fmt.Errorf("work dir %q: %w", workDir, err)
	}
	return filepath.Join(abs, "slaves", string(agent), "frameworks", string(fw),
		"executors", string(executor), "runs", container), nil
}
