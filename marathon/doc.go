// Package marathon is the bundled framework for long-running services: a
// daemon speaking Marathon's v2 REST API on top of the master's scheduler
// API (through master/client, no private shortcuts). The rules live in pure
// packages — marathon/app (definitions, defaults, validation),
// marathon/deploy (plans, the step driver, backoff, unreachable decisions)
// and marathon/placement (offer matching with rejection reasons); this
// package is the loop that feeds them what it observes and carries out
// what they decide:
//
//	s, _ := marathon.New(cfg)              // listens on --http-address
//	s.Run(ctx):
//	    serve the API (followers proxy to the leader)
//	    campaign in coord (<zk>/leader); for each term:
//	        load apps, deployments, instances from coord
//	        subscribe with the stored framework ID (checkpoint, PARTITION_AWARE)
//	        on SUBSCRIBED: store the framework ID, reconcile, drive
//	        on OFFERS:     match waiting instances (placement), store them as
//	                       staged, LAUNCH; decline the rest with a filter
//	        on UPDATE:     store the instance's state, then ACKNOWLEDGE; drive
//	        every tick:    resend lost kills, kill tasks staged too long, probe
//	                       readiness checks, drive
//	        every --reconciliation-interval: reconcile
//	    drive: deploy.Advance each deployment (its launches stored as
//	        Scheduled, its kills marked Killing, before the next decision);
//	        apps without one: deploy.DecideUnreachable (failed and lost
//	        instances replaced, gated by the RateLimiter's backoff);
//	        SUPPRESS when nothing waits, REVIVE when something does.
//
// API changes become deployments in one place (apply): service ports are
// assigned, deploy.Plan computes the steps, deploy.CheckConflicts answers
// 409 unless forced, and the new app versions and the deployment are
// committed together.
//
// Every write of a term goes through its fenced store, so a deposed leader
// changes nothing, and every instance is stored before the master hears of
// it, so a new leader neither launches duplicates nor restarts instances.
package marathon
