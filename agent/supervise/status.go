package supervise

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// State is where a task is in its life under the supervisor.
type State string

const (
	// StateRunning: the task's process was started and has not exited.
	StateRunning State = "running"
	// StateKilling: Kill was called; SIGTERM was sent and SIGKILL follows
	// after the grace period.
	StateKilling State = "killing"
	// StateExited: the task is over and Exit says how; its status is on
	// disk.
	StateExited State = "exited"
)

// Task is the supervisor's record of one run, as clients see it and as it
// is kept in <dir>/runs/<id>/task.json.
type Task struct {
	Spec  Spec  `json:"spec"`
	State State `json:"state"`
	// PID is the task's leader, also its process group and session ID.
	PID int `json:"pid,omitempty"`
	// StartTicks is the leader's start time in clock ticks since boot
	// (field 22 of /proc/<pid>/stat): with BootID it tells the process
	// apart from a later one that reuses its PID.
	StartTicks uint64    `json:"start_ticks,omitempty"`
	BootID     string    `json:"boot_id,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	// Cgroups maps each cgroup v1 controller's name to the task's
	// directory in it (IsolationCgroups only).
	Cgroups map[string]string `json:"cgroups,omitempty"`
	Exit    *Exit             `json:"exit,omitempty"`
}

// ID is the task's container ID.
func (t *Task) ID() string { return t.Spec.ID }

// Clone copies t deeply enough that the copy can be handed to another
// goroutine.
func (t Task) Clone() Task {
	if t.Cgroups != nil {
		m := make(map[string]string, len(t.Cgroups))
		for k, v := range t.Cgroups {
			m[k] = v
		}
		t.Cgroups = m
	}
	if t.Exit != nil {
		e := *t.Exit
		t.Exit = &e
	}
	return t
}

// Lost says why a task's exit status is unknown.
type Lost string

const (
	// LostReboot: the host rebooted (its boot ID changed) while the task
	// was running, so the task is gone with everything else.
	LostReboot Lost = "host-rebooted"
	// LostSupervisor: the supervisor died (SIGKILL, a crash) while the task
	// ran. Nothing reaped the task, so the new supervisor killed whatever
	// was left of it.
	LostSupervisor Lost = "supervisor-died"
)

// Exit is how a task ended, written durably to <dir>/runs/<id>/status.json
// before clients hear of it.
type Exit struct {
	// Code is the exit code when the task exited on its own (Signal 0).
	Code int `json:"code"`
	// Signal is the signal that terminated the task, or 0.
	Signal     syscall.Signal `json:"signal,omitempty"`
	CoreDumped bool           `json:"core_dumped,omitempty"`
	// Killed: the task ended after a Kill (or a shutdown) asked it to.
	Killed bool `json:"killed,omitempty"`
	// OOM: the task's cgroup hit its memory limit and the kernel's OOM
	// killer killed a process in it; the supervisor then killed the rest.
	OOM bool `json:"oom,omitempty"`
	// Expired: the supervisor killed the task because no agent watched
	// it for the recovery timeout (KillOrphansAfter).
	Expired bool `json:"expired,omitempty"`
	// Lost is set when the exit status is unknown.
	Lost Lost `json:"lost,omitempty"`
	// Message is a human sentence about the above.
	Message   string    `json:"message,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// EndedAt is when the leader was reaped (zero when Lost).
	EndedAt time.Time `json:"ended_at"`
	// CPU time of the leader and the descendants it reaped, from wait4.
	UserTime   time.Duration `json:"user_time,omitempty"`
	SystemTime time.Duration `json:"system_time,omitempty"`
	// MaxRSSBytes is the largest resident set of the leader or of one of
	// the descendants it reaped.
	MaxRSSBytes uint64 `json:"max_rss_bytes,omitempty"`
}

// describe fills in Message from the other fields, in Mesos' words
// ("Command exited with status 3", "Command terminated with signal
// Killed"), so frameworks show what operators of Mesos are used to.
func (e *Exit) describe(memLimit uint64) {
	switch {
	case e.Lost == LostReboot:
		e.Message = "The host rebooted while the task ran; it is gone and its exit status is unknown"
	case e.Lost == LostSupervisor:
		e.Message = "The task supervisor died while the task ran; what remained of the task was killed and its exit status is unknown"
	case e.Expired:
		e.Message = "No agent came back within its recovery timeout, so the task was killed; " + commandWords(e)
	case e.OOM:
		e.Message = "Memory limit exceeded"
		if memLimit > 0 {
			e.Message += fmt.Sprintf(": the task's cgroup hit its limit of %d MB", memLimit/(1024*1024))
		}
		e.Message += "; " + commandWords(e)
	default:
		e.Message = commandWords(e)
	}
}

func commandWords(e *Exit) string {
	if e.Signal != 0 {
		name := e.Signal.String()
		if name != "" {
			name = strings.ToUpper(name[:1]) + name[1:]
		}
		s := "Command terminated with signal " + name
		if e.CoreDumped {
			s += " (core dumped)"
		}
		return s
	}
	return fmt.Sprintf("Command exited with status %d", e.Code)
}

// Success reports whether the task exited 0 on its own.
func (e *Exit) Success() bool {
	return e.Lost == "" && !e.OOM && !e.Killed && e.Signal == 0 && e.Code == 0
}

// TaskState is how the agent reports an ended task to Mesos frameworks,
// following the command executor: FINISHED for exit 0, KILLED after a
// kill, FAILED otherwise (with REASON_CONTAINER_LIMITATION_MEMORY after an
// OOM kill), LOST when the status is unknown.
func (e *Exit) TaskState() (mesos.TaskState, mesos.TaskStatusReason) {
	switch {
	case e.Lost == LostReboot:
		return mesos.TaskLost, mesos.ReasonAgentRestarted
	case e.Lost != "":
		return mesos.TaskLost, mesos.ReasonExecutorTerminated
	case e.Expired:
		return mesos.TaskFailed, mesos.ReasonExecutorReregistrationTimeout
	case e.OOM:
		return mesos.TaskFailed, mesos.ReasonContainerLimitationMemory
	case e.Killed:
		return mesos.TaskKilled, ""
	case e.Signal == 0 && e.Code == 0:
		return mesos.TaskFinished, ""
	}
	return mesos.TaskFailed, ""
}
