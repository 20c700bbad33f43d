package state

import (
	"testing"
	"time"
)

// BenchmarkFailoverReregister10kAgents100kTasks: a new leader taking back
// 10,000 agents running 100,000 tasks (Mesos 1.5: about 4.5 s). Only the
// state machine's share: no HTTP, no JSON.
func BenchmarkFailoverReregister10kAgents100kTasks(b *testing.B) {
	reg, calls := failoverCluster(10000, 100000)
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
	reg, calls := failoverCluster(10000, 100000)
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
	reg, calls := failoverCluster(10000, 100000)
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
	reg, calls := failoverCluster(10000, 100000)
	m := New(Config{MasterID: "m1", Registry: reg}, t0)
	for _, c := range calls {
		m.Step(t0, c)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Snapshot().AppendGetStateJSON(nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetStateCold10kAgents100kTasks: the first GET_STATE after the
// tasks came in, encoding every task.
func BenchmarkGetStateCold10kAgents100kTasks(b *testing.B) {
	reg, calls := failoverCluster(10000, 100000)
	m := reregisterAll(reg, calls)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, ag := range m.agents {
			for _, t := range ag.tasks {
				t.changed()
			}
		}
		b.StartTimer()
		if _, err := m.Snapshot().AppendGetStateJSON(nil); err != nil {
			b.Fatal(err)
		}
	}
}
