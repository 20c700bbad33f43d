package supervise

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// DefaultPath is the PATH a task gets when neither the agent's base
// environment nor the task's command sets one.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Launch is what the agent knows when it runs a Mesos task with the
// built-in command executor; NewSpec turns it into a Spec.
type Launch struct {
	WorkDir     string
	AgentID     mesos.AgentID
	FrameworkID mesos.FrameworkID
	ContainerID string
	Task        mesos.TaskInfo
	// Hostname is exported to the task as HOST.
	Hostname string
	// SwitchUser runs the task as Command.User, or FrameworkUser when the
	// command names none (the agent's --switch-user).
	SwitchUser    bool
	FrameworkUser string
	// BaseEnv comes first in the task's environment; the Mesos variables,
	// then the command's own variables override it.
	BaseEnv []string
	// CFSQuota caps the task's CPU at its cpus resource rather than only
	// weighting it (Mesos' --cgroups_enable_cfs).
	CFSQuota bool
}

// NewSpec builds the Spec for a command task the way Mesos' command
// executor and Marathon would run it: shell commands through /bin/sh -c,
// argv commands exec'd directly; MESOS_* variables, HOST, PORT0…PORTn,
// PORTS, PORT and PORT_<NAME> for ports named in the task's discovery
// info; memory and CPU limits from its resources; the kill grace from its
// kill policy.
func NewSpec(l Launch) (Spec, error) {
	t := &l.Task
	if t.Executor != nil {
		return Spec{}, fmt.Errorf("task %s: executor: custom executors are not supported; give the task a command", t.TaskID)
	}
	cmd := t.Command
	if cmd == nil {
		return Spec{}, fmt.Errorf("task %s: command: missing; a task needs a command to run", t.TaskID)
	}
	executor := mesos.ExecutorID(t.TaskID) // the command executor is named after its task
	sandbox, err := SandboxDir(l.WorkDir, l.AgentID, l.FrameworkID, executor, l.ContainerID)
	if err != nil {
		return Spec{}, fmt.Errorf("task %s: %w", t.TaskID, err)
	}
	s := Spec{
		ID:          l.ContainerID,
		TaskID:      t.TaskID,
		FrameworkID: l.FrameworkID,
		ExecutorID:  executor,
		AgentID:     l.AgentID,
		Sandbox:     sandbox,
		KillGrace:   DefaultKillGrace,
	}
	if cmd.GetShell() {
		if strings.TrimSpace(cmd.Value) == "" {
			return Spec{}, fmt.Errorf("task %s: command.value: empty shell command", t.TaskID)
		}
		s.Path, s.Args = "/bin/sh", []string{"sh", "-c", cmd.Value}
	} else {
		if cmd.Value == "" {
			return Spec{}, fmt.Errorf("task %s: command.value: an argv command (shell=false) needs the executable", t.TaskID)
		}
		s.Path = cmd.Value
		s.Args = slices.Clone(cmd.Arguments)
		if len(s.Args) == 0 {
			// Mesos execs value with arguments as argv; a framework that
			// gives no arguments still means to run value.
			s.Args = []string{cmd.Value}
		}
	}
	if l.SwitchUser {
		s.User = cmd.User
		if s.User == "" {
			s.User = l.FrameworkUser
		}
	}
	if p := t.KillPolicy; p != nil && p.GracePeriod != nil {
		if g := p.GracePeriod.Duration(); g >= 0 {
			s.KillGrace = g
		}
	}
	res := t.Resources
	if mem := res.Mem(); mem.Sign() > 0 && mem.IsFinite() {
		s.Limits.MemBytes = uint64(math.Round(mem.Float64() * 1024 * 1024))
	}
	if cpus := res.Cpus(); cpus.Sign() > 0 && cpus.IsFinite() {
		s.Limits.CPUs = cpus.Float64()
		s.Limits.CFSQuota = l.CFSQuota
	}
	env, err := taskEnv(l, sandbox, executor)
	if err != nil {
		return Spec{}, fmt.Errorf("task %s: %w", t.TaskID, err)
	}
	s.Env = env
	return s, s.Validate()
}

// taskEnv layers the base environment, the Mesos and port variables, and
// the command's own variables; a later layer wins, as in Mesos where the
// task's environment overrides the executor's.
func taskEnv(l Launch, sandbox string, executor mesos.ExecutorID) ([]string, error) {
	e := newEnvBuilder()
	for _, kv := range l.BaseEnv {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("base environment: %q is not NAME=value", kv)
		}
		e.set(name, value)
	}
	if _, ok := e.get("PATH"); !ok {
		e.set("PATH", DefaultPath)
	}
	e.set("MESOS_SANDBOX", sandbox)
	e.set("MESOS_DIRECTORY", sandbox)
	e.set("MESOS_TASK_ID", string(l.Task.TaskID))
	e.set("MESOS_FRAMEWORK_ID", string(l.FrameworkID))
	e.set("MESOS_EXECUTOR_ID", string(executor))
	e.set("MESOS_AGENT_ID", string(l.AgentID))
	e.set("MESOS_SLAVE_ID", string(l.AgentID)) // the pre-1.0 name, still read by old tools
	e.set(containerIDEnv, l.ContainerID)
	if l.Hostname != "" {
		e.set("HOST", l.Hostname)
	}
	ports := portList(l.Task.Resources.Ports())
	names := portNames(l.Task.Discovery)
	strs := make([]string, len(ports))
	for i, p := range ports {
		strs[i] = strconv.FormatUint(p, 10)
		e.set("PORT"+strconv.Itoa(i), strs[i])
		if n, ok := names[p]; ok {
			e.set("PORT_"+n, strs[i])
		}
	}
	if len(ports) > 0 {
		e.set("PORT", strs[0])
		e.set("PORTS", strings.Join(strs, ","))
	}
	if env := l.Task.Command.Environment; env != nil {
		for i, v := range env.Variables {
			if v.Name == "" || strings.ContainsAny(v.Name, "=\x00") {
				return nil, fmt.Errorf("command.environment.variables[%d].name %q: not a variable name", i, v.Name)
			}
			switch v.Type {
			case "", mesos.EnvValue, mesos.EnvUnknown:
				e.set(v.Name, v.Value)
			case mesos.EnvSecret:
				if v.Secret == nil || v.Secret.Value == nil {
					return nil, fmt.Errorf("command.environment.variables[%d] %s: only secrets given by value are supported", i, v.Name)
				}
				e.set(v.Name, string(v.Secret.Value.Data))
			default:
				return nil, fmt.Errorf("command.environment.variables[%d].type %q: unknown", i, v.Type)
			}
		}
	}
	return e.list(), nil
}

// portList expands the task's port ranges in order: PORT0 is the lowest
// port of the first range, as Marathon assigns them.
func portList(rs mesos.Ranges) []uint64 {
	var out []uint64
	for _, r := range rs {
		for p := r.Begin; p <= r.End && len(out) < maxPorts; p++ {
			out = append(out, p)
		}
	}
	return out
}

// maxPorts bounds the PORTn variables a hostile range could create.
const maxPorts = 1000

// portNames maps port numbers named in the discovery info to the suffix of
// their PORT_<NAME> variable: the name upper-cased, anything but letters
// and digits turned into '_', as Marathon does.
func portNames(d *mesos.DiscoveryInfo) map[uint64]string {
	out := map[uint64]string{}
	if d == nil || d.Ports == nil {
		return out
	}
	for _, p := range d.Ports.Ports {
		if p.Name == "" {
			continue
		}
		out[uint64(p.Number)] = strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z':
				return r - 'a' + 'A'
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				return r
			}
			return '_'
		}, p.Name)
	}
	return out
}

// envBuilder keeps the first position of each variable and its last
// value, so the result is stable and free of duplicates.
type envBuilder struct {
	order []string
	vals  map[string]string
}

func newEnvBuilder() *envBuilder { return &envBuilder{vals: map[string]string{}} }

func (e *envBuilder) set(name, value string) {
	if _, ok := e.vals[name]; !ok {
		e.order = append(e.order, name)
	}
	e.vals[name] = value
}

func (e *envBuilder) get(name string) (string, bool) { v, ok := e.vals[name]; return v, ok }

func (e *envBuilder) list() []string {
	out := make([]string, len(e.order))
	for i, n := range e.order {
		out[i] = n + "=" + e.vals[n]
	}
	return out
}
