// Package allocator is the master's allocator: Mesos' hierarchical DRF
// allocator as a pure core, in the etcd-raft style — state in, decisions
// out. It decides which framework is offered which agent's resources; it
// never talks to anyone, starts no goroutines, never reads the clock and
// shuffles with a seeded generator, so a run can be replayed and tested
// exhaustively. The master's state machine owns it and calls it from its
// single goroutine:
//
//	a := allocator.New(allocator.Options{Seed: seed})
//	a.AddAgent(id, info, total, used)         // agent (re)registered
//	a.AddFramework(fw, info, used, true)      // framework subscribed
//	for tick := range timer {                 // --allocation-interval, or an event
//		for _, o := range a.Allocate(now) {   // offers: framework, agent, role, resources
//			send(o)
//		}
//	}
//	a.Decline(fw, agent, rest, refuse, now)   // DECLINE, or what an ACCEPT left unused
//	a.Recover(fw, agent, res)                 // rescinded offer, finished task
//	a.Convert(fw, agent, from, to)            // ACCEPT with RESERVE / UNRESERVE
//
// What it decides, as Mesos does: roles form a tree by "/" and are ranked
// by weighted dominant share at each level, then frameworks within a role
// by dominant share; quota guarantees are met first (and the headroom to
// meet the rest is held back from everyone else), limits are never
// exceeded; reserved resources reach only their role's subtree; declined
// resources are filtered until the filter expires by the injected clock;
// suppressed roles, inactive frameworks and deactivated agents get
// nothing; offers too small to be useful are not made.
//
// Where it is safer or faster than Mesos:
//
//   - Roles are ranked by quota consumption (allocations plus
//     reservations, allocated or not), so reservations cannot be hoarded
//     to jump the queue (MESOS-8299).
//   - An offer always holds some scalar resource: ports alone are never
//     offered, even to a role at its limits.
//   - Inputs are validated and inconsistent calls return errors instead
//     of crashing; what a framework recovers must be what it holds.
//   - The sorters are incremental: an allocation moves one entry by
//     binary search instead of re-sorting, and a pass over the order never
//     copies it, so a cycle costs about one step per agent rather than
//     agents × frameworks. Only agents whose situation changed are looked
//     at, and a cycle in which nothing changed returns immediately.
//   - Quantities are vectors of thousandths indexed by interned resource
//     names; the common resources (unreserved scalars, ranges and sets)
//     never go through the general Resources arithmetic in the loop.
package allocator
