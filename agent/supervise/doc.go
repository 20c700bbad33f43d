// Package supervise launches and supervises an agent's tasks so that they
// outlive agent restarts, report their real exit status, and cost almost
// nothing each: one small supervisor process per agent forks, reaps and
// records every task, and serves the agent over a Unix socket.
//
//	agent ──Start──▶ supervisor (own session, child subreaper, flock on <dir>/supervisor.lock)
//	  │  <dir>/supervisor.sock: hello, watch, launch, kill, forget, shutdown
//	  │                          │ fork (setsid; cgroups joined before exec)
//	  ◀── events (snapshot+deltas)│──▶ task ──▶ its children, daemons, …
//	                              │ SIGCHLD → waitid(WNOWAIT) → kill leftovers → wait4
//	                              └──▶ <dir>/runs/<id>/status.json (fsync'd, then the event)
//
// The agent's side:
//
//	c, err := supervise.Start(ctx, supervise.Options{Dir: wd + "/supervisor", Name: agentID, Isolation: iso})
//	for _, t := range c.Tasks() { … }           // recovered: running, or exited with Exit
//	spec, err := supervise.NewSpec(supervise.Launch{Task: taskInfo, …})
//	t, err := c.Launch(ctx, spec)               // running, its record durable
//	for ev := range c.Events() { … }            // running → killing → exited, in order
//	c.Kill(ctx, id, grace); c.Forget(ctx, id); c.Usage()
//
// # Why one supervisor per agent
//
// Nomad runs an executor process per task and pays about 15 MB for each;
// Mesos' command executor is a process per task too. A shim per task in
// the style of containerd's is smaller but still a process (a `sh -c`
// wrapper, the least a shim can be, measures 111 KiB of PSS and 1.7 MB
// of RSS per task here). Supervision needs only three things per task: a
// parent that reaps it (and so learns its exit status), a place where
// that status survives until the agent reads it, and a way to kill the
// whole task. One process can do that for every task:
//
//   - It is started by the agent through the agent's own binary (a hidden
//     command), detached into a new session and re-parented to init, so
//     killing or restarting the agent does not touch it or its tasks.
//   - It is a child subreaper (PR_SET_CHILD_SUBREAPER): tasks' orphaned
//     descendants become its children, so it reaps them too and no zombie
//     accumulates, and with IsolationPosix it can still find a task's
//     double-forked daemons (by the STRATA_CONTAINER_ID in their
//     environment).
//   - Before reaping a leader it peeks with waitid(WNOWAIT): while the
//     leader is a zombie its PID still names the task's process group and
//     session, so what the task left behind is killed without any risk of
//     hitting a process that reused the PID.
//   - It writes each exit status atomically and durably (temp file, fsync,
//     rename, fsync of the directory) to the run's state directory
//     <dir>/runs/<id>/ before telling anyone, and each launch record before
//     answering the launch. The state directory is the supervisor's, not
//     the sandbox: a task can write its sandbox and must not be able to
//     forge its own exit status (Mesos separates its meta directory from
//     sandboxes for the same reason).
//   - An agent that restarts connects to the same socket and gets a
//     snapshot of every task, running or ended (with its real status),
//     followed by the changes since: nothing is lost while no agent
//     listens.
//   - If the supervisor itself is gone, its tasks cannot be reaped by
//     anyone who records their status. The next supervisor finds their
//     records: if the boot ID (/proc/sys/kernel/random/boot_id) changed,
//     the host rebooted and the tasks are gone (LostReboot); otherwise it
//     kills whatever is left of each (by cgroup, or by process group and
//     session after checking the PID's start time) and reports it lost
//     (LostSupervisor). Either way the agent hears of it through the same
//     snapshot.
//
// The supervisor holds no goroutine, thread or timer per task in the
// steady state: a map entry, two file descriptors for the OOM eventfd
// with cgroups, and a timer only during a kill's grace period. Measured
// by TestMemoryPerTask (PSS from /proc/<pid>/smaps_rollup, 0 → 200
// sleep tasks, this 2-core VM): about 12 KiB per task with posix and
// 18–25 KiB with cgroups (plus about 30 KiB of kernel slab per task for
// its four cgroups, which any cgroup-based design pays), on a supervisor
// baseline of about 4.3 MiB PSS (7.7 MiB RSS) shared by all tasks. That
// is ~100× under the 2 MB budget and ~1000× under Nomad's executors.
//
// # Isolation
//
// IsolationPosix gives each task its own session and process group and
// no limits. IsolationCgroups (cgroup v1: memory, cpu, pids, and cpuacct
// when mounted) creates strata-<name>/<container> in each hierarchy,
// writes memory.limit_in_bytes, cpu.shares, the CFS quota if asked, and
// pids.max, and starts the task inside them: the forking thread joins the
// cgroups first and is then discarded (see forkTask), since v1 has no
// clone-into-cgroup. A kill signals every process in the cgroups, so
// neither setsid nor double forks nor a scrubbed environment hide
// anything; the kernel's OOM notification (eventfd on memory.oom_control,
// one epoll loop for all tasks) makes the supervisor kill the rest of the
// task, which is then reported with Exit.OOM (TASK_FAILED,
// REASON_CONTAINER_LIMITATION_MEMORY). The cgroups are removed when the
// task ends. cgroup v2 is not driven yet.
//
// # Killing
//
// Kill sends SIGTERM to the whole task and SIGKILL after the grace
// period; when a task's leader exits on its own, everything it left
// running is killed too, as Mesos destroys a container whose executor
// exits. Nothing of a task outlives its exit.
package supervise
