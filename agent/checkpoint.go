package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/mesos"
)

// The agent's checkpoint lives in <work-dir>/meta, apart from sandboxes
// (which tasks can write) and from the supervisor's directory:
//
//	meta/agent.json            agent ID, boot ID, frameworks
//	meta/alive                 when this agent was last running
//	meta/tasks/<container>.json one per task the master still has to hear
//	                            about: its info, latest state and the
//	                            updates not yet acknowledged, in order
//
// Every file is replaced atomically and durably, so a crashed agent finds
// either the old or the new content and resends what was not
// acknowledged.
const (
	metaDir      = "meta"
	agentFile    = "agent.json"
	aliveFile    = "alive"
	tasksDir     = "tasks"
	supervisorSD = "supervisor"
)

// agentRecord is meta/agent.json.
type agentRecord struct {
	AgentID mesos.AgentID `json:"agent_id,omitempty"`
	// MasterID is the master of the latest subscription: a different one
	// next time may not know of tasks that ended meanwhile.
	MasterID   string                                    `json:"master_id,omitempty"`
	BootID     string                                    `json:"boot_id"`
	Frameworks map[mesos.FrameworkID]mesos.FrameworkInfo `json:"frameworks,omitempty"`
}

// taskRecord is meta/tasks/<container>.json: what the agent must remember
// of a task until its terminal update is acknowledged.
type taskRecord struct {
	ContainerID string            `json:"container_id"`
	FrameworkID mesos.FrameworkID `json:"framework_id"`
	Task        mesos.TaskInfo    `json:"task"`
	// State is the latest state the agent reported (or is reporting).
	State mesos.TaskState `json:"state"`
	// Launched is set once the supervisor accepted the launch.
	Launched bool `json:"launched,omitempty"`
	// Pending are the updates not yet acknowledged, oldest first.
	Pending []mesos.TaskStatus `json:"pending,omitempty"`
	// Expired is set when the agent came back after the recovery timeout
	// and killed the task for it: its exit is reported as that.
	Expired bool `json:"expired,omitempty"`
	// Healthy is the task's health as last reported (nil: unchecked or
	// not known yet); every later update carries it, and a recovered
	// task's checker reports only a change (health.go).
	Healthy *bool `json:"healthy,omitempty"`
	// HealthKill says why the task's health check killed it, for its
	// terminal update; empty if it did not.
	HealthKill string `json:"health_kill,omitempty"`
}

func writeJSONDurably(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return supervise.WriteFileDurably(path, append(b, '\n'))
}

// checkpoint reads and writes the agent's meta directory.
type checkpoint struct{ dir string }

func newCheckpoint(workDir string) (*checkpoint, error) {
	c := &checkpoint{dir: filepath.Join(workDir, metaDir)}
	if err := os.MkdirAll(filepath.Join(c.dir, tasksDir), 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint dir: %w", err)
	}
	return c, nil
}

// loadAgent returns the agent record, zero when there is none.
func (c *checkpoint) loadAgent() (agentRecord, error) {
	var r agentRecord
	b, err := os.ReadFile(filepath.Join(c.dir, agentFile))
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil {
		return r, fmt.Errorf("read checkpoint %s: %w", agentFile, err)
	}
	return r, nil
}

func (c *checkpoint) saveAgent(r agentRecord) error {
	return writeJSONDurably(filepath.Join(c.dir, agentFile), r)
}

func (c *checkpoint) taskPath(container string) string {
	return filepath.Join(c.dir, tasksDir, container+".json")
}

// saveTask replaces r's record atomically without waiting for the disk:
// sync makes every write so far durable at once (commit.go).
func (c *checkpoint) saveTask(r *taskRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", r.ContainerID, err)
	}
	return supervise.WriteFileAtomically(c.taskPath(r.ContainerID), append(b, '\n'))
}

// sync makes every record written so far durable, file contents and
// renames alike, with one syncfs of the work dir's file system.
func (c *checkpoint) sync() error { return supervise.SyncFS(c.dir) }

func (c *checkpoint) removeTask(container string) error {
	if err := os.Remove(c.taskPath(container)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return supervise.SyncDir(filepath.Join(c.dir, tasksDir))
}

// loadTasks reads every task record; unreadable ones are reported, not
// fatal, so one corrupt file does not stop the agent.
func (c *checkpoint) loadTasks() ([]*taskRecord, []error) {
	dir := filepath.Join(c.dir, tasksDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("read checkpoint %s: %w", dir, err)}
	}
	var out []*taskRecord
	var errs []error
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			os.Remove(filepath.Join(dir, name)) // a temp file of an interrupted write
			continue
		}
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		var r taskRecord
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read checkpoint %s: %w", name, err))
			continue
		}
		out = append(out, &r)
	}
	return out, errs
}

// wipe forgets everything: the host rebooted, so this is a new agent.
func (c *checkpoint) wipe() error {
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("wipe checkpoint: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(c.dir, tasksDir), 0o700); err != nil {
		return fmt.Errorf("checkpoint dir: %w", err)
	}
	return nil
}

func equalJSON(x, y any) bool {
	a, err1 := json.Marshal(x)
	b, err2 := json.Marshal(y)
	return err1 == nil && err2 == nil && string(a) == string(b)
}

// markAlive records that the agent runs now: the next agent to start on
// this work dir learns how long tasks were without one.
func (c *checkpoint) markAlive(now time.Time) error {
	return supervise.WriteFileDurably(filepath.Join(c.dir, aliveFile), []byte(now.UTC().Format(time.RFC3339Nano)+"\n"))
}

// lastAlive is when an agent last ran on this work dir; zero if never.
func (c *checkpoint) lastAlive() time.Time {
	b, err := os.ReadFile(filepath.Join(c.dir, aliveFile))
	if err != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	if err != nil {
		return time.Time{}
	}
	return t
}
