// Package deploy is marathon's pure deployment core: it turns a change of the
// app/group tree into a plan of steps, drives each step's instances toward
// the target one decision at a time, rate-limits relaunches of failing
// instances, and decides what happens to unreachable instances.
//
// Nothing here does I/O, starts goroutines or reads the clock: the daemon owns
// the loop and feeds the core what it observed, etcd-raft style:
//
//	plan, err := deploy.Plan(current, target, deploy.PlanMeta{ID: ids(), Version: now})
//	if err := deploy.CheckConflicts(plan, running); err != nil { /* 409 */ }
//	dep := deploy.NewDeployment(plan)
//	on every instance change or tick:
//	    pr := dep.Advance(instancesOf, now) // Drive for each action of the current step
//	    queue each Decision.Launch as Scheduled instances (gated by RateLimiter.LaunchAllowed),
//	    kill each Decision.Kill and mark those instances Killing,
//	    emit deployment_step_success for pr.StepsDone, deployment_success if pr.Finished.
//
// Instances are described by this package's own small types (Instance,
// AppSpec) so the daemon can map its app model and its instance tracker onto
// them without this package importing either.
package deploy
