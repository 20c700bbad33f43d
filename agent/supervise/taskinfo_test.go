//go:build linux

package supervise

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

func TestNewSpec(t *testing.T) {
	bools := func(b bool) *bool { return &b }
	base := func() Launch {
		return Launch{
			WorkDir:     "/var/lib/strata",
			AgentID:     "a1",
			FrameworkID: "fw1",
			ContainerID: "c1",
			Hostname:    "node7",
			BaseEnv:     []string{"LANG=C", "PATH=/custom/bin"},
			Task: mesos.TaskInfo{
				TaskID:  "web.1",
				AgentID: "a1",
				Resources: mesos.Resources{
					{Name: "cpus", Type: "SCALAR", Scalar: ptr(mesos.ScalarOf(0.5))},
					{Name: "mem", Type: "SCALAR", Scalar: ptr(mesos.ScalarOf(128))},
					{Name: "ports", Type: "RANGES", Ranges: mesos.Ranges{{Begin: 31000, End: 31001}, {Begin: 31005, End: 31005}}},
				},
				Command: &mesos.CommandInfo{Value: "python3 -m http.server $PORT0", User: "www"},
				Discovery: &mesos.DiscoveryInfo{Visibility: "FRAMEWORK", Ports: &mesos.Ports{Ports: []mesos.Port{
					{Number: 31001, Name: "admin-api"},
				}}},
				KillPolicy: &mesos.KillPolicy{GracePeriod: mesos.DurationInfoOf(10 * time.Second)},
			},
		}
	}

	s, err := NewSpec(base())
	if err != nil {
		t.Fatal(err)
	}
	wantSandbox := "/var/lib/strata/slaves/a1/frameworks/fw1/executors/web.1/runs/c1"
	if s.Sandbox != wantSandbox || s.ID != "c1" || s.ExecutorID != "web.1" {
		t.Errorf("sandbox %q id %q executor %q", s.Sandbox, s.ID, s.ExecutorID)
	}
	if s.Path != "/bin/sh" || !slices.Equal(s.Args, []string{"sh", "-c", "python3 -m http.server $PORT0"}) {
		t.Errorf("shell command: %q %q", s.Path, s.Args)
	}
	if s.User != "" {
		t.Errorf("user %q without --switch-user", s.User)
	}
	if s.Limits.MemBytes != 128<<20 || s.Limits.CPUs != 0.5 || s.Limits.CFSQuota {
		t.Errorf("limits %+v", s.Limits)
	}
	if s.KillGrace != 10*time.Second {
		t.Errorf("kill grace %v", s.KillGrace)
	}
	env := map[string]string{}
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := env[k]; dup {
			t.Errorf("%s twice in the environment", k)
		}
		env[k] = v
	}
	for k, v := range map[string]string{
		"PATH": "/custom/bin", "LANG": "C",
		"MESOS_SANDBOX": wantSandbox, "MESOS_DIRECTORY": wantSandbox,
		"MESOS_TASK_ID": "web.1", "MESOS_FRAMEWORK_ID": "fw1", "MESOS_EXECUTOR_ID": "web.1",
		"MESOS_AGENT_ID": "a1", "MESOS_SLAVE_ID": "a1", "STRATA_CONTAINER_ID": "c1", "HOST": "node7",
		"PORT0": "31000", "PORT1": "31001", "PORT2": "31005", "PORT": "31000", "PORTS": "31000,31001,31005",
		"PORT_ADMIN_API": "31001",
	} {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}

	// argv commands, --switch-user, the command's own environment
	// overriding the agent's, and the CFS quota.
	l := base()
	l.SwitchUser, l.FrameworkUser, l.CFSQuota = true, "fwuser", true
	l.Task.Command = &mesos.CommandInfo{
		Shell: bools(false), Value: "/usr/bin/env", Arguments: []string{"env", "-0"},
		Environment: &mesos.Environment{Variables: []mesos.EnvironmentVariable{
			{Name: "LANG", Value: "en_US.UTF-8"},
			{Name: "TOKEN", Type: mesos.EnvSecret, Secret: &mesos.Secret{Type: mesos.SecretTypeValue, Value: &mesos.SecretData{Data: []byte("s3cret")}}},
		}},
	}
	s, err = NewSpec(l)
	if err != nil {
		t.Fatal(err)
	}
	if s.Path != "/usr/bin/env" || !slices.Equal(s.Args, []string{"env", "-0"}) || s.User != "fwuser" || !s.Limits.CFSQuota {
		t.Errorf("argv spec %+v", s)
	}
	if !slices.Contains(s.Env, "LANG=en_US.UTF-8") || !slices.Contains(s.Env, "TOKEN=s3cret") || slices.Contains(s.Env, "LANG=C") {
		t.Errorf("env %q", s.Env)
	}
	l.Task.Command.User = "cmduser"
	if s, _ = NewSpec(l); s.User != "cmduser" {
		t.Errorf("command.user %q should win over the framework's", s.User)
	}

	bad := []struct {
		name   string
		mutate func(*Launch)
		want   string
	}{
		{"no command", func(l *Launch) { l.Task.Command = nil }, "command: missing"},
		{"executor", func(l *Launch) { l.Task.Executor = &mesos.ExecutorInfo{} }, "custom executors"},
		{"empty shell", func(l *Launch) { l.Task.Command.Value = "  " }, "command.value"},
		{"argv without value", func(l *Launch) { l.Task.Command = &mesos.CommandInfo{Shell: bools(false)} }, "command.value"},
		{"bad container", func(l *Launch) { l.ContainerID = "../x" }, "container id"},
		{"bad framework", func(l *Launch) { l.FrameworkID = "a/b" }, "framework id"},
		{"bad env", func(l *Launch) {
			l.Task.Command.Environment = &mesos.Environment{Variables: []mesos.EnvironmentVariable{{Name: "A=B"}}}
		}, "variables[0].name"},
		{"secret by reference", func(l *Launch) {
			l.Task.Command.Environment = &mesos.Environment{Variables: []mesos.EnvironmentVariable{{Name: "S", Type: mesos.EnvSecret}}}
		}, "secrets given by value"},
	}
	for _, c := range bad {
		l := base()
		c.mutate(&l)
		if _, err := NewSpec(l); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestSpecValidate(t *testing.T) {
	ok := Spec{ID: "c1", Sandbox: "/s", Path: "/bin/true", Args: []string{"true"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mutate func(*Spec)
		want   string
	}{
		{func(s *Spec) { s.ID = "" }, "id:"},
		{func(s *Spec) { s.ID = "a b" }, "id:"},
		{func(s *Spec) { s.Sandbox = "rel" }, "sandbox"},
		{func(s *Spec) { s.Sandbox = "/a/../b" }, "sandbox"},
		{func(s *Spec) { s.Path = "" }, "path"},
		{func(s *Spec) { s.Args = nil }, "args"},
		{func(s *Spec) { s.Env = []string{"NOEQUALS"} }, "env[0]"},
		{func(s *Spec) { s.Args = []string{"a\x00b"} }, "args[0]"},
		{func(s *Spec) { s.KillGrace = -1 }, "kill_grace"},
	} {
		s := ok
		c.mutate(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", s, err, c.want)
		}
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 987654 1000000 321 18446744073709551615\n"
	st, err := parseStat(4242, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{pid: 4242, ppid: 1, pgrp: 4242, session: 4242, state: 'S', utime: 250, stime: 75, threads: 3, startTicks: 987654, rssPages: 321}
	if st != want {
		t.Errorf("got %+v\nwant %+v", st, want)
	}
}

func TestPosixTree(t *testing.T) {
	procs := []procStat{
		{pid: 10, ppid: 1, pgrp: 10, session: 10},  // leader
		{pid: 11, ppid: 10, pgrp: 10, session: 10}, // child
		{pid: 12, ppid: 10, pgrp: 12, session: 10}, // own group, same session
		{pid: 13, ppid: 12, pgrp: 13, session: 13}, // setsid'd grandchild
		{pid: 14, ppid: 99, pgrp: 10, session: 10}, // re-parented, still in the group
		{pid: 20, ppid: 1, pgrp: 20, session: 20},  // unrelated
		{pid: 21, ppid: 20, pgrp: 20, session: 20},
	}
	var got []int
	for _, p := range posixTree(procs, 10) {
		got = append(got, p.pid)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{10, 11, 12, 13, 14}) {
		t.Errorf("tree %v", got)
	}
}

func TestExitWords(t *testing.T) {
	for _, c := range []struct {
		e     Exit
		state mesos.TaskState
		msg   string
	}{
		{Exit{Code: 0}, mesos.TaskFinished, "Command exited with status 0"},
		{Exit{Code: 1}, mesos.TaskFailed, "Command exited with status 1"},
		{Exit{Signal: 9, Killed: true}, mesos.TaskKilled, "Command terminated with signal Killed"},
		{Exit{Signal: 11, CoreDumped: true}, mesos.TaskFailed, "Command terminated with signal Segmentation fault (core dumped)"},
		{Exit{Signal: 9, OOM: true, Killed: true}, mesos.TaskFailed, "Memory limit exceeded: the task's cgroup hit its limit of 64 MB; Command terminated with signal Killed"},
		{Exit{Lost: LostReboot}, mesos.TaskLost, "The host rebooted while the task ran; it is gone and its exit status is unknown"},
	} {
		c.e.describe(64 << 20)
		if s, _ := c.e.TaskState(); s != c.state || c.e.Message != c.msg {
			t.Errorf("%+v: %s %q, want %s %q", c.e, s, c.e.Message, c.state, c.msg)
		}
	}
}
