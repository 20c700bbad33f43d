// Package chronos is `strata chronos`: the bundled framework for scheduled
// and dependent batch jobs, behind Chronos' REST API, on the master's
// scheduler API (master/client.Scheduler).
//
// Every process serves the API and campaigns in coord (--zk, default
// <master zk>/chronos); the one elected leads, the others answer 307 to
// the leader. A term of leadership is one loop:
//
//	st := restore(term.Store())              // jobs, run records → job.Graph, core.New
//	sched.Run(term)                          // SUBSCRIBE: checkpoint, PARTITION_AWARE, webui_url
//	for {
//		apply(core.Tick(now))                // persist records (fenced), THEN queue launches / kill
//		select {
//		case ev := <-sched.Events():        // SUBSCRIBED → reconcile; OFFERS → launch/decline;
//		                                     // UPDATE → core.Observe → persist → act → ACKNOWLEDGE
//		case <-timer(core.NextWake()):      // no polling: the core says when
//		case <-api:                         // POST/PUT/DELETE change the core under s.mu
//		}
//	}
//
// Guarantees and where they come from:
//
//   - A run is (job, scheduled instant) and is launched at most once: its
//     record says "launched" in coord before the task exists, and a new
//     leader restores it. A restored run the master does not know
//     (reconciliation answers TASK_UNKNOWN/GONE) is sent again under the
//     same task ID; one it knows is simply followed.
//   - Nothing is missed silently: an instant handled late beyond epsilon
//     (no leader for a while) is recorded skipped (see chronos/core); a run
//     that no offer fits within its epsilon is recorded failed and retried.
//   - A new leader does not schedule until the master has answered for
//     every run the old leader left active (or SettleTimeout passed), so
//     a run that ended during the failover does not make the next instant
//     of a concurrent:false job look overlapping and get skipped.
//   - A status update is acknowledged only after what it caused is
//     persisted, so a crash means redelivery, not loss.
//   - Writes are fenced by the term (coord.Term.Store): a deposed leader
//     cannot record or, since launching follows recording, launch.
//
// Offers are suppressed while nothing waits and revived when a run waits
// or is due within OfferLead (1 s); offers are then kept in hand, so a run
// launches at its instant rather than after an allocation round. REVIVE
// also clears decline filters, so a job due every few seconds is not held
// back by an earlier decline; only new demand revives, so a run no offer
// fits does not make chronos and the master trade the same offer.
//
// REST: Chronos' /v1/scheduler endpoints (iso8601, dependency, jobs,
// jobs/summary, jobs/search, job/{name}, job/success/{name},
// job/stat/{name}, stats/{percentile}, task/kill/{name}, graph/dot,
// graph/csv, leader) plus an extension, GET /v1/scheduler/history/{name}
// [?limit=N, default 20, 0 = all retained], listing active runs then the
// last runs, newest first, each with its scheduled instant, start, finish,
// task id, agent, exit status and sandbox (a path for the agent's files
// API: /frameworks/<fw>/executors/<task>/runs/latest). Errors are
// {"message", "details": [{"Field", "Message"}]}; POST/PUT/DELETE answer
// 204.
//
// Coord layout: see store.go.
package chronos
