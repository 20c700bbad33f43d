package table

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// timeOf converts Mesos' TimeInfo (nil: zero time).
func timeOf(t *mesos.TimeInfo) time.Time {
	if t == nil || t.Nanoseconds == 0 {
		return time.Time{}
	}
	return time.Unix(0, t.Nanoseconds)
}

// secondsTime converts a float seconds timestamp (0: zero time).
func secondsTime(s float64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(s*1e9))
}

// AgentAddr is the host:port the agent's API answers on, as the master
// knows it: the address in its PID ("slave(1)@10.0.0.7:5051") when there
// is one, else its hostname and port. `strata logs` dials it.
func AgentAddr(a *mesos.Agent) string {
	if a == nil || a.AgentInfo == nil {
		return ""
	}
	if _, addr, ok := strings.Cut(a.PID, "@"); ok && addr != "" {
		return addr
	}
	return fmt.Sprintf("%s:%d", a.AgentInfo.Hostname, a.AgentInfo.GetPort())
}

// AgentState is one word for an agent's condition.
func AgentState(a *mesos.Agent) string {
	switch {
	case a.DrainInfo != nil && a.DrainInfo.State != "" && a.DrainInfo.State != mesos.DrainUnknown:
		return strings.ToLower(string(a.DrainInfo.State))
	case a.Deactivated:
		return "deactivated"
	case a.Active:
		return "active"
	}
	return "inactive"
}

func agentTone(a *mesos.Agent) Tone {
	switch AgentState(a) {
	case "active":
		return ToneNone
	case "inactive":
		return ToneBad
	}
	return ToneWarn
}

// countTasks counts live tasks per agent.
func countTasks(tasks []mesos.Task) map[mesos.AgentID]int {
	n := map[mesos.AgentID]int{}
	for _, t := range tasks {
		if !t.State.IsTerminal() {
			n[t.AgentID]++
		}
	}
	return n
}

// Agents lists agents: allocated/total cpus, mem and disk per agent, and
// (when tasks is given) how many live tasks each runs.
func Agents(a *mesos.GetAgents, tasks []mesos.Task, now time.Time) *Table {
	t := &Table{Columns: []Column{
		{Header: "ID"}, {Header: "HOSTNAME"}, {Header: "ADDRESS", Wide: true}, {Header: "STATE"},
		{Header: "TASKS", Right: true}, {Header: "CPUS", Right: true}, {Header: "MEM", Right: true},
		{Header: "DISK", Right: true, Wide: true}, {Header: "PORTS", Wide: true},
		{Header: "VERSION", Wide: true}, {Header: "ATTRIBUTES", Wide: true}, {Header: "AGE", Right: true},
	}, Tones: map[int]Tone{}}
	if a == nil {
		return t
	}
	agents := slices.Clone(a.Agents)
	slices.SortFunc(agents, func(x, y mesos.Agent) int { return strings.Compare(string(agentID(&x)), string(agentID(&y))) })
	counts := countTasks(tasks)
	for i := range agents {
		ag := &agents[i]
		info := ag.AgentInfo
		if info == nil {
			info = &mesos.AgentInfo{}
		}
		total, used := ag.TotalResources, ag.AllocatedResources
		reg := timeOf(ag.RegisteredTime)
		if rr := timeOf(ag.ReregisteredTime); !rr.IsZero() {
			reg = rr
		}
		t.Rows = append(t.Rows, []string{
			string(info.ID), info.Hostname, AgentAddr(ag), AgentState(ag),
			fmt.Sprint(counts[info.ID]),
			Fraction(used.Cpus().Float64(), total.Cpus().Float64()),
			FractionMB(used.Mem().Float64(), total.Mem().Float64()),
			FractionMB(used.Scalar("disk").Float64(), total.Scalar("disk").Float64()),
			ports(total),
			ag.Version, info.Attributes.String(), Age(reg, now),
		})
		if tone := agentTone(ag); tone != ToneNone {
			t.Tones[len(t.Rows)-1] = tone
		}
	}
	for _, r := range a.RecoveredAgents {
		t.Rows = append(t.Rows, []string{string(r.ID), r.Hostname, fmt.Sprintf("%s:%d", r.Hostname, r.GetPort()),
			"recovered", "-", "-", "-", "-", "-", "-", r.Attributes.String(), "-"})
		t.Tones[len(t.Rows)-1] = ToneWarn
	}
	return t
}

func agentID(a *mesos.Agent) mesos.AgentID {
	if a.AgentInfo == nil {
		return ""
	}
	return a.AgentInfo.ID
}

// FindAgent returns the agent with id, or one whose ID ends with it (the
// short form operators copy from a table), or nil.
func FindAgent(a *mesos.GetAgents, id string) *mesos.Agent {
	if a == nil {
		return nil
	}
	var match *mesos.Agent
	for i := range a.Agents {
		got := string(agentID(&a.Agents[i]))
		if got == id {
			return &a.Agents[i]
		}
		if id != "" && strings.HasSuffix(got, id) {
			if match != nil {
				return nil // ambiguous
			}
			match = &a.Agents[i]
		}
	}
	return match
}

// AgentShow describes one agent in full.
func AgentShow(ag *mesos.Agent, tasks []mesos.Task, now time.Time) *KV {
	kv := &KV{}
	info := ag.AgentInfo
	if info == nil {
		info = &mesos.AgentInfo{}
	}
	kv.Add("ID", string(info.ID))
	kv.Add("Hostname", info.Hostname)
	kv.Add("Address", AgentAddr(ag))
	kv.Add("State", AgentState(ag))
	kv.Add("Version", ag.Version)
	kv.Add("Registered", Age(timeOf(ag.RegisteredTime), now)+" ago")
	if rr := timeOf(ag.ReregisteredTime); !rr.IsZero() {
		kv.Add("Reregistered", Age(rr, now)+" ago")
	}
	kv.Add("Total", ag.TotalResources.String())
	kv.Add("Allocated", ag.AllocatedResources.String())
	kv.Add("Offered", ag.OfferedResources.String())
	kv.Add("Attributes", info.Attributes.String())
	var live []string
	for _, t := range tasks {
		if t.AgentID == info.ID && !t.State.IsTerminal() {
			live = append(live, fmt.Sprintf("%s (%s)", t.TaskID, shortState(t.State)))
		}
	}
	slices.Sort(live)
	kv.Add("Tasks", strings.Join(live, ", "))
	return kv
}

// Status is `strata status`: who leads, what the cluster holds, and how
// much of it is in use.
type Status struct {
	Master     *mesos.GetMaster
	Health     bool
	State      *mesos.GetState
	ReachedVia string // the address the CLI used
}

// StatusView renders s as a short summary.
func StatusView(s Status, now time.Time) *KV {
	kv := &KV{}
	if m := s.Master; m != nil && m.MasterInfo != nil {
		kv.Add("Leader", fmt.Sprintf("%s (%s)", m.MasterInfo.Endpoint(), m.MasterInfo.ID))
		kv.Add("Version", m.MasterInfo.Version)
		if m.ElectedTime > 0 {
			kv.Add("Elected", Age(secondsTime(m.ElectedTime), now)+" ago")
		}
	}
	kv.Add("Reached via", s.ReachedVia)
	if s.Health {
		kv.Add("Health", "healthy")
	} else {
		kv.Add("Health", "unhealthy")
	}
	var agents []mesos.Agent
	var frameworks []mesos.Framework
	var tasks []mesos.Task
	if st := s.State; st != nil {
		if st.GetAgents != nil {
			agents = st.GetAgents.Agents
		}
		if st.GetFrameworks != nil {
			frameworks = st.GetFrameworks.Frameworks
		}
		if st.GetTasks != nil {
			tasks = st.GetTasks.Tasks
		}
	}
	active := 0
	var total, used mesos.Resources
	for _, a := range agents {
		if a.Active {
			active++
		}
		total = total.Add(a.TotalResources...)
		used = used.Add(a.AllocatedResources...)
	}
	kv.Add("Agents", fmt.Sprintf("%d (%d active)", len(agents), active))
	connected := 0
	for _, f := range frameworks {
		if f.Connected {
			connected++
		}
	}
	kv.Add("Frameworks", fmt.Sprintf("%d (%d connected)", len(frameworks), connected))
	kv.Add("Tasks", taskSummary(tasks))
	kv.Add("CPUs", Fraction(used.Cpus().Float64(), total.Cpus().Float64())+" allocated")
	kv.Add("Memory", FractionMB(used.Mem().Float64(), total.Mem().Float64())+" allocated")
	kv.Add("Disk", FractionMB(used.Scalar("disk").Float64(), total.Scalar("disk").Float64())+" allocated")
	return kv
}

// taskSummary counts tasks by state: "3 (2 running, 1 staging)".
func taskSummary(tasks []mesos.Task) string {
	by := map[string]int{}
	for _, t := range tasks {
		by[shortState(t.State)]++
	}
	if len(by) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", by[k], k)
	}
	return fmt.Sprintf("%d (%s)", len(tasks), strings.Join(parts, ", "))
}

// shortState is "running" for TASK_RUNNING.
func shortState(s mesos.TaskState) string {
	return strings.ToLower(strings.TrimPrefix(string(s), "TASK_"))
}
