// Package state is the master's state machine, in the etcd-raft style:
// events in, actions out, no I/O, no goroutines, no clock of its own. The
// daemon (package master) owns one Machine in one goroutine and does what
// the actions say:
//
//	m := state.New(cfg, now)                    // registry contents in cfg.Registry
//	for ev := range events {                    // HTTP calls, stream ends, ticks
//		for _, a := range m.Step(now, ev) {
//			switch a := a.(type) {
//			case state.SendFramework: ...     // an event on a scheduler's stream
//			case state.SendAgent: ...         // an event on an agent's stream
//			case state.CloseStream: ...
//			case state.Reply: ...             // the HTTP answer to a call
//			case state.RegistryWrite: ...     // write; feed a.Then back when durable
//			case state.Broadcast: ...         // operator event (when SetWatched)
//			}
//		}
//	}
//
// Time only enters through Step's now. Tick events drive everything that
// happens by the clock: allocation (every AllocationInterval, and on the
// next tick after anything that frees or adds resources), offer timeouts,
// heartbeats to frameworks, pings to agents and the unreachable verdict,
// resending unacknowledged status updates, framework failover timeouts.
// The daemon ticks often (every 100 ms); a tick with nothing due is cheap,
// so the machine needs no timer actions.
//
// After a failover (a Config.Registry with agents) allocation waits until
// more than half of the registry's admitted agents have reregistered, or
// ReregisterTimeout has passed; agents not back by then are marked
// unreachable (see restore and recoveryTimedOut).
//
// Agent maintenance (DEACTIVATE_AGENT, DRAIN_AGENT, REACTIVATE_AGENT) is
// kept in each agent's registry entry and follows Mesos' drain states
// DRAINING → DRAINED (maintenance.go).
//
// What needs the registry waits for it: a new agent's SUBSCRIBED is sent
// only when its admission is durable (the RegistryWrite's Then event),
// weights and quota are applied when written.
//
// The machine trusts calls to be decoded and generically validated
// (mesos.DecodeCall and friends); it checks what needs state — whose offer,
// what it holds, which task IDs are taken — and answers a bad call with a
// Reply naming the field, having changed nothing.
package state
