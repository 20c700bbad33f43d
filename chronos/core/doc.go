// Package core is chronos' scheduler core: a pure, deterministic state
// machine in the style of etcd's raft. It owns no goroutines, reads no
// clock and does no I/O; the daemon feeds it jobs, the records it persisted
// earlier and the current time, and carries out the decisions it returns:
//
//	c, _ := core.New(cfg, jobs, recordsFromStore, now)
//	for {
//		for _, d := range c.Tick(now) {      // also Observe, RunNow, Kill, ...
//			store.Apply(d.Writes, d.Deletes) // durable (fenced) BEFORE acting
//			act(d)                           // launch / kill / disable
//		}
//		sleep until c.NextWake() or a task status update arrives
//	}
//
// Why persist before acting: a run is identified by (job, scheduled
// instant) — or by a persisted sequence number for dependent and manual
// runs — and its record says "launched" before the task exists. A new
// leader given the same records therefore never launches that run again;
// if the task never reached the cluster, reconciliation reports it lost and
// the core retries it as a new, separately recorded attempt.
//
// What the daemon owes the core: persist each decision's writes before
// its action and acknowledge a status update only after the decisions it
// caused are persisted (so a crash means redelivery, not loss); after
// gaining leadership, reconcile and report launched/running records whose
// task the master does not know as EventLost; persist JobSpec.Since with
// the job; delete a removed job's records.
//
// Semantics (each one is tested in this package):
//
//   - An instant T is launched once, at the first tick with now ≥ T. If that
//     first tick is later than T+epsilon (scheduler down, leader change) the
//     instant is recorded skipped(missed-epsilon). A backlog of missed
//     instants collapses into one "skip span" record with a count; counting
//     stops at Config.BacklogScanLimit and the span says so (CountCapped).
//   - A disabled job keeps its schedule position: its instants are recorded
//     as skipped(disabled) spans (one record, rewritten as it grows), so
//     re-enabling it never reports the disabled period as missed.
//   - concurrent:false with a run of the job still active (launched,
//     running, or waiting for a retry) records the new run as
//     skipped(concurrent-running). This applies to scheduled, dependent and
//     manual runs alike.
//   - A failed or lost attempt is retried Retries times, each attempt a new
//     record "<run>#<attempt>" launched Config.FailureRetry after the
//     failure. Retries are not subject to epsilon.
//   - maxCompletionTime counts from launch (time waiting for an offer
//     included); an overrunning attempt gets a kill decision and ends
//     failed with Message "timeout", which is retried like any failure.
//   - After Config.DisableAfterFailures consecutive runs failed beyond
//     their retries the job is disabled (an ActionDisableJob decision).
//   - A dependent job runs once every parent has released it since the
//     child's last dependent run: a parent releases on success, on a final
//     failure with softError, or when marked successful. The release is a
//     sequence number in the parent's run record and the consumption a map
//     in the child's run record, so it survives failover.
//   - RunNow launches immediately and does not move the schedule.
package core
