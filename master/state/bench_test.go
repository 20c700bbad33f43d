package state

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// failoverCluster builds the reregistrations a new leader receives:
// agents agents with tasksPer tasks each, of 100 frameworks.
func failoverCluster(agents, tasksPer int) (Registry, []AgentCall) {
	var reg Registry
	var calls []AgentCall
	total := mesos.MustParseResources("cpus:32;mem:65536")
	per := mesos.MustParseResources("cpus:0.1;mem:64").Allocate("*")
	for i := 0; i < 100; i++ {
		reg.Frameworks = append(reg.Frameworks, RegistryFramework{Info: mesos.FrameworkInfo{
			ID: mesos.FrameworkID(fmt.Sprintf("m0-%04d", i)), User: "u", Name: "f"}})
	}
	for a := 0; a < agents; a++ {
		id := mesos.AgentID(fmt.Sprintf("m0-S%d", a))
		info := mesos.AgentInfo{Hostname: fmt.Sprintf("h%d", a), ID: id}
		reg.Agents = append(reg.Agents, RegistryAgent{Info: info})
		sub := &mesos.AgentSubscribe{AgentID: id, AgentInfo: &info, Resources: total}
		for k := 0; k < tasksPer; k++ {
			fw := mesos.FrameworkID(fmt.Sprintf("m0-%04d", (a*tasksPer+k)%100))
			sub.Tasks = append(sub.Tasks, mesos.Task{TaskID: mesos.TaskID(fmt.Sprintf("t-%d-%d", a, k)),
				FrameworkID: fw, AgentID: id, State: mesos.TaskRunning, Resources: per})
		}
		calls = append(calls, AgentCall{Req: ReqID(a + 1), Stream: StreamID(fmt.Sprint("s", a)),
			Call: &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: id, Subscribe: sub}})
	}
	return reg, calls
}

// BenchmarkFailoverReregister10kAgents100kTasks: a new leader taking back
// 10,000 agents running 100,000 tasks (Mesos 1.5: about 4.5 s). Only the
// state machine's share: no HTTP, no JSON.
func BenchmarkFailoverReregister10kAgents100kTasks(b *testing.B) {
	reg, calls := failoverCluster(10000, 10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := New(Config{MasterID: "m1", Registry: reg}, t0)
		now := t0
		for _, c := range calls {
			m.Step(now, c)
		}
	}
}

// BenchmarkSnapshot10kAgents100kTasks: the copy GET_STATE is served from
// (Mesos' /state: about 3.3 s), without the JSON encoding.
func BenchmarkSnapshot10kAgents100kTasks(b *testing.B) {
	reg, calls := failoverCluster(10000, 10)
	m := New(Config{MasterID: "m1", Registry: reg}, t0)
	for _, c := range calls {
		m.Step(t0, c)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.Snapshot()
	}
}

// BenchmarkIdleTick: a tick with nothing due, on a 10k-agent cluster.
func BenchmarkIdleTick(b *testing.B) {
	reg, calls := failoverCluster(10000, 10)
	m := New(Config{MasterID: "m1", Registry: reg, AllocationInterval: time.Hour}, t0)
	for _, c := range calls {
		m.Step(t0, c)
	}
	m.Step(t0, Tick{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Step(t0, Tick{})
	}
}

// BenchmarkGetStateJSON10kAgents100kTasks: snapshot plus the JSON the
// operator API writes for GET_STATE.
func BenchmarkGetStateJSON10kAgents100kTasks(b *testing.B) {
	reg, calls := failoverCluster(10000, 10)
	m := New(Config{MasterID: "m1", Registry: reg}, t0)
	for _, c := range calls {
		m.Step(t0, c)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := m.Snapshot()
		if _, err := json.Marshal(&mesos.OperatorResponse{Type: mesos.OperatorGetState, GetState: &s.State}); err != nil {
			b.Fatal(err)
		}
	}
}
