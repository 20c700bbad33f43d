// Package chaos runs Strata's HA cluster — a coord (a 3-node Apache
// ZooKeeper ensemble or the embedded coord server), 3 masters, 3 agents,
// 2 marathons and 2 chronos, every one a real process on loopback —
// under a workload of apps with health checks, jobs every few seconds and
// a dependency chain, and kills a random component with SIGKILL every
// interval while checking invariants:
//
//   - every app returns to its instance count, all healthy, within a
//     bound, and so does the cluster (components and leaders);
//   - no job run (job, instant, attempt) starts twice;
//   - no scheduled instant is silently missed: each one ran or has a run
//     record (late, failed, or a recorded skip);
//   - each success of a parent job triggers its dependent once;
//   - every status update reaches its framework: every run that started
//     ended in chronos, and marathon's tasks are the master's;
//   - no task process outlives its task;
//   - every write coord acknowledged is still there, with its data.
//
// Killed processes are started again after a short delay with the same
// arguments, as systemd would. `strata chaos` runs it from the command
// line; the package's test runs a short one.
package chaos
