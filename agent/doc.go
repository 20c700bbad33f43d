// Package agent is the Mesos-style agent: it registers with the leading
// master, runs the tasks the master sends it through one long-lived
// supervisor process (package supervise), reports their status updates
// until the frameworks acknowledge them, and keeps all of that across its
// own restarts.
//
//	a, _ := agent.New(agent.Config{Master: "zk://h:2181/strata", WorkDir: d})
//	a.Run(ctx)
//	  recover <work-dir>/meta (agent ID, boot ID, frameworks, task records)
//	  supervise.Start(<work-dir>/supervisor) → reconcile: exits that happened
//	      while no agent listened become terminal updates
//	  follow the leader (coord) ─▶ POST /api/v1/agent SUBSCRIBE {agent_id, tasks}
//	      ◀─ SUBSCRIBED · RUN_TASK · KILL_TASK · ACKNOWLEDGE · SHUTDOWN_FRAMEWORK · PING
//	  loop (one goroutine owns the state):
//	      RUN_TASK  → record (durable) → TASK_STARTING → Launch → TASK_RUNNING
//	      exit      → Exit.TaskState() → TASK_FINISHED/FAILED/KILLED/LOST
//	      KILL_TASK → [TASK_KILLING] → supervisor Kill (grace) → TASK_KILLED
//	      ACKNOWLEDGE → drop the update; a finished task with none left is
//	                    forgotten by the supervisor and the checkpoint
//	      tick      → resend unacknowledged updates (10 s doubling to 10 min)
//
// Every status update is written to the task's record in meta/tasks
// (atomically and durably) before it is sent, so an agent killed at any
// point resends it after restarting. A restarted agent on the same work
// dir reconnects to the same supervisor, whose tasks kept running, and
// reregisters with the same agent ID and its tasks; a new boot ID
// (/proc/sys/kernel/random/boot_id) means the host rebooted, and the
// agent registers as a new one.
//
// A reregistering agent reports a task that ended with its terminal
// state while that update is unacknowledged. A master other than the
// last one (a new leader, a restarted master) adopts only live tasks, so
// when SUBSCRIBED names a new master and such tasks exist, the agent
// subscribes once more reporting them live, then sends their terminal
// updates: the framework hears the real exit either way.
//
// Updates of one task are posted one at a time in order; a failed post
// drops the queue, and the resend timer or the next subscription sends
// everything unacknowledged again in order.
//
// Tasks whose agent stays away longer than --recovery-timeout are
// killed, as Mesos' executors give up on an agent that does not come
// back: the supervisor does it itself once no agent has watched it for
// that long (supervise.Client.KillOrphansAfter), and an agent that
// starts later than that (meta/alive says when it last ran) kills what
// is left. Either way the update is TASK_FAILED with
// REASON_EXECUTOR_REREGISTRATION_TIMEOUT.
//
// Around the tasks: health checks (health.go: COMMAND, HTTP and TCP,
// run by the agent with Mesos' defaults, reported as `healthy` and
// killing after consecutive failures); the sandbox files API and the
// operator API (files.go, operator.go; paths confined to sandboxes);
// usage statistics and metrics (monitor.go); sandbox GC after --gc-delay,
// sooner under disk pressure (gc.go); --switch-user.
//
// Not yet: task groups (answered with TASK_ERROR), custom executors and
// executor messages.
package agent
