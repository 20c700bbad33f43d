package state

import (
	"cmp"
	"maps"
	"slices"

	"github.com/strata-dc/strata/master/mesos"
)

// Snapshot is a copy of what the operator API reads, so the daemon can
// serve reads from it without stalling the machine's goroutine.
type Snapshot struct {
	State   mesos.GetState
	Roles   mesos.GetRoles
	Weights mesos.GetWeights
	Quota   mesos.GetQuota
	// Metrics are counters and gauges by Mesos' names.
	Metrics map[string]float64

	// taskEnc and unreachableEnc cache the JSON of State.GetTasks' Tasks
	// and UnreachableTasks, index by index (AppendGetStateJSON).
	taskEnc, unreachableEnc []*taskJSON
}

// Snapshot copies the operator's view of the cluster. Its cost grows with
// the cluster, so the daemon takes one only when Version changed.
func (m *Machine) Snapshot() *Snapshot {
	s := &Snapshot{Metrics: make(map[string]float64)}
	n := 0
	for _, ag := range m.agents {
		n += len(ag.tasks)
	}
	tasks := &mesos.GetTasks{Tasks: make([]mesos.Task, 0, n)}
	s.taskEnc = make([]*taskJSON, 0, n)
	agents := &mesos.GetAgents{}
	fws := &mesos.GetFrameworks{}
	var active, disconnected, unreachable float64
	count := make(map[mesos.TaskState]float64)
	for _, id := range sortedAgentIDs(m.agents) {
		ag := m.agents[id]
		// One pass over the agent's tasks both lists them and sums what
		// they hold: visiting 100,000 scattered tasks twice was a third
		// of a snapshot.
		var allocated summer
		for _, key := range sortedTaskKeys(ag.tasks) {
			t := ag.tasks[key]
			if !t.recovered {
				allocated.add(t.resources)
			}
			count[t.state()]++
			if ag.unreachable || t.state() == mesos.TaskUnreachable {
				tasks.UnreachableTasks = append(tasks.UnreachableTasks, t.info)
				s.unreachableEnc = append(s.unreachableEnc, t.encoding())
			} else {
				tasks.Tasks = append(tasks.Tasks, t.info)
				s.taskEnc = append(s.taskEnc, t.encoding())
			}
		}
		a := m.agentViewOf(ag, &allocated)
		switch {
		case ag.unreachable:
			unreachable++
			continue // not listed: Mesos' GET_AGENTS leaves unreachable agents out
		case ag.connected():
			active++
		default:
			disconnected++
		}
		agents.Agents = append(agents.Agents, a)
	}
	for _, id := range sortedKeys(m.recovered) {
		agents.RecoveredAgents = append(agents.RecoveredAgents, m.recovered[id].Info)
	}
	tasks.CompletedTasks = slices.Clone(m.completedTasks)
	var fwActive, fwInactive float64
	for _, id := range sortedKeys(m.frameworks) {
		fw := m.frameworks[id]
		f := m.frameworkView(fw)
		if fw.connected() {
			fwActive++
		} else {
			fwInactive++
		}
		fws.Frameworks = append(fws.Frameworks, f)
	}
	for _, fw := range m.completedFw {
		info := fw.info
		fws.CompletedFrameworks = append(fws.CompletedFrameworks, mesos.Framework{FrameworkInfo: &info,
			RegisteredTime: timeInfo(fw.registered), UnregisteredTime: timeInfo(fw.unregistered)})
	}
	s.State = mesos.GetState{GetTasks: tasks, GetAgents: agents, GetFrameworks: fws, GetExecutors: &mesos.GetExecutors{}}

	for _, r := range m.alloc.Roles() {
		role := mesos.Role{Name: r.Name, Weight: r.Weight, Frameworks: r.Frameworks}
		for _, name := range slices.Sorted(maps.Keys(r.Allocated)) {
			role.Resources = append(role.Resources, mesos.ScalarResource(name, r.Allocated[name].Float64()))
		}
		s.Roles.Roles = append(s.Roles.Roles, role)
	}
	for _, role := range slices.Sorted(maps.Keys(m.weights)) {
		s.Weights.WeightInfos = append(s.Weights.WeightInfos, mesos.WeightInfo{Role: role, Weight: m.weights[role]})
	}
	status := &mesos.QuotaStatus{}
	for _, role := range slices.Sorted(maps.Keys(m.quotas)) {
		status.Configs = append(status.Configs, m.quotas[role])
	}
	s.Quota.Status = status

	st := m.alloc.Stats()
	s.Metrics["master/agents_active"] = active
	s.Metrics["master/agents_connected"] = active
	s.Metrics["master/agents_disconnected"] = disconnected
	s.Metrics["master/agents_unreachable"] = unreachable + float64(len(m.lostAgents))
	s.Metrics["master/frameworks_active"] = fwActive
	s.Metrics["master/frameworks_connected"] = fwActive
	s.Metrics["master/frameworks_inactive"] = fwInactive
	s.Metrics["master/outstanding_offers"] = float64(len(m.offers))
	s.Metrics["master/tasks_staging"] = count[mesos.TaskStaging]
	s.Metrics["master/tasks_starting"] = count[mesos.TaskStarting]
	s.Metrics["master/tasks_running"] = count[mesos.TaskRunning]
	s.Metrics["master/tasks_killing"] = count[mesos.TaskKilling]
	s.Metrics["master/tasks_unreachable"] = count[mesos.TaskUnreachable]
	s.Metrics["allocator/mesos/allocation_runs"] = float64(st.Cycles + st.SkippedCycles)
	s.Metrics["allocator/mesos/offers"] = float64(st.Offers)
	s.Metrics["master/uptime_secs"] = m.now.Sub(m.startTime).Seconds()
	return s
}

// agentView is the operator API's view of an agent.
func (m *Machine) agentView(ag *agentState) mesos.Agent {
	var allocated summer
	for _, t := range ag.tasks {
		if !t.recovered {
			allocated.add(t.resources)
		}
	}
	return m.agentViewOf(ag, &allocated)
}

// agentViewOf is agentView with its tasks' resources summed already.
func (m *Machine) agentViewOf(ag *agentState, allocated *summer) mesos.Agent {
	info := ag.info
	a := mesos.Agent{AgentInfo: &info, Active: ag.connected() && !ag.deactivated, Deactivated: ag.deactivated,
		Version: ag.version, PID: ag.pid, RegisteredTime: timeInfo(ag.registered), ReregisteredTime: timeInfo(ag.reregistered),
		TotalResources: ag.total, Capabilities: ag.capabilities, DrainInfo: ag.drain}
	if ag.drain != nil && !ag.drainStart.IsZero() {
		a.EstimatedDrainStartTime = mesos.TimeInfoOf(ag.drainStart)
	}
	// Sums are collected and normalized once: adding task by task
	// normalizes every time, which dominates GET_STATE on big clusters.
	var offered summer
	for _, o := range ag.offers {
		offered.add(o.resources)
	}
	a.OfferedResources, a.AllocatedResources = offered.sum(), allocated.sum()
	return a
}

// frameworkView is the operator API's view of a framework.
func (m *Machine) frameworkView(fw *frameworkState) mesos.Framework {
	info := fw.info
	f := mesos.Framework{FrameworkInfo: &info, Active: fw.connected(), Connected: fw.connected(),
		Recovered: fw.recovered, RegisteredTime: timeInfo(fw.registered), ReregisteredTime: timeInfo(fw.reregistered),
		UnregisteredTime: timeInfo(fw.unregistered), Offers: offerList(fw.offers)}
	var offered, allocated summer
	for _, o := range f.Offers {
		offered.add(o.Resources)
	}
	for _, t := range fw.tasks {
		if !t.recovered {
			allocated.add(t.resources)
		}
	}
	f.OfferedResources, f.AllocatedResources = offered.sum(), allocated.sum()
	return f
}

// summer adds up many small Resources cheaply: plain scalars (the bulk of
// every task) are summed in thousandths by (name, allocation role), the
// rest with the general arithmetic. The few distinct pairs live in a
// list, not a map: a snapshot makes one summer per agent and framework.
type summer struct {
	plain []plainSum
	rest  mesos.Resources
}

type plainSum struct {
	name, role string
	milli      int64
}

func (s *summer) add(rs mesos.Resources) {
	for i := range rs {
		r := &rs[i]
		if r.Type == mesos.ValueScalar && r.Scalar != nil && r.ProviderID == "" && r.Disk == nil &&
			r.Revocable == nil && r.Shared == nil && len(r.Reservations) == 0 && r.Role == "" && r.Reservation == nil {
			role := ""
			if r.AllocationInfo != nil {
				role = r.AllocationInfo.Role
			}
			s.addPlain(r.Name, role, r.Scalar.Milli())
			continue
		}
		s.rest = s.rest.Add(*r)
	}
}

func (s *summer) addPlain(name, role string, milli int64) {
	for i := range s.plain {
		if p := &s.plain[i]; p.name == name && p.role == role {
			p.milli += milli
			return
		}
	}
	s.plain = append(s.plain, plainSum{name, role, milli})
}

func (s *summer) sum() mesos.Resources {
	if len(s.plain) == 0 {
		return s.rest
	}
	slices.SortFunc(s.plain, func(a, b plainSum) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.role, b.role))
	})
	out := make(mesos.Resources, 0, len(s.plain)+len(s.rest))
	for _, p := range s.plain {
		r := mesos.ScalarResource(p.name, 0)
		v := mesos.ScalarFromMilli(p.milli)
		r.Scalar = &v
		if p.role != "" {
			r.AllocationInfo = &mesos.AllocationInfo{Role: p.role}
		}
		out = append(out, r)
	}
	return append(out, s.rest...).Normalize()
}
