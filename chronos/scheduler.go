package chronos

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/strata-dc/strata/chronos/core"
	"github.com/strata-dc/strata/chronos/job"
	"github.com/strata-dc/strata/master/mesos"
)

// Offer filters: with nothing waiting or near, offers are declined for a
// long while and suppressed; a run that waits (or an instant within
// OfferLead) revives them, which also clears every filter, so a job due
// every few seconds is not held back by an earlier decline. Offers that
// fit none of the waiting runs come back after busyRefuse.
const (
	idleRefuse = 120 * time.Second
	busyRefuse = 1 * time.Second
)

// handleEvent applies one scheduler event; s.mu is held.
func (s *Server) handleEvent(st *leaderState, ev *mesos.Event) {
	now := s.cfg.Now()
	switch ev.Type {
	case mesos.EventSubscribed:
		s.subscribed(st, ev.Subscribed, now)
	case mesos.EventOffers:
		if ev.Offers != nil {
			s.offers(st, ev.Offers.Offers, now)
		}
	case mesos.EventRescind:
		if ev.Rescind != nil {
			delete(st.held, ev.Rescind.OfferID)
		}
	case mesos.EventUpdate:
		if ev.Update != nil && ev.Update.Status != nil {
			s.update(st, ev.Update.Status, now)
		}
	case mesos.EventError:
		if ev.Error != nil {
			s.log.Error("master error event", "message", ev.Error.Message)
		}
	}
}

// subscribed persists the framework ID (so the next leader fails over to
// the same framework, keeping its tasks) and reconciles every active run.
func (s *Server) subscribed(st *leaderState, sub *mesos.Subscribed, now time.Time) {
	st.subscribed = true
	if sub != nil && string(sub.FrameworkID) != st.frameworkID {
		ctx, cancel := st.opCtx()
		_, err := st.store.Put(ctx, frameworkIDKey, frameworkRecord{ID: string(sub.FrameworkID)})
		cancel()
		if err != nil {
			s.log.Error("store framework id; ending this term", "id", sub.FrameworkID, "err", err)
			st.cancel(err)
			return
		}
		st.frameworkID = string(sub.FrameworkID)
	}
	s.log.Info("subscribed to master", "framework", st.frameworkID)
	if len(st.awaiting) > 0 {
		st.settleBy = now.Add(s.cfg.SettleTimeout)
	}
	// A new subscription has no filters or offers in hand; whether it is
	// suppressed depends on what the client resubscribed with, so state
	// it afresh: offerInterest revives or suppresses.
	st.suppressed, st.filtered, st.newDemand = false, true, true
	clear(st.held)
	s.reconcile(st, now)
	s.offerInterest(st, now)
}

// reconcile asks the master about every run it should know: restored
// runs whose task may never have been sent, and launched or running runs
// of this term. Answers arrive as updates.
func (s *Server) reconcile(st *leaderState, now time.Time) {
	if !st.subscribed {
		return
	}
	var tasks []mesos.ReconcileTask
	seen := map[string]bool{}
	for _, name := range st.graph.Names() {
		for _, r := range st.core.Active(name) {
			if r.TaskID == "" || r.State == core.StatePending || st.queue[r.TaskID] != nil || seen[r.TaskID] {
				continue
			}
			seen[r.TaskID] = true
			agent := mesos.AgentID(r.Agent)
			if a, ok := st.sent[r.TaskID]; ok && agent == "" {
				agent = a
			}
			tasks = append(tasks, mesos.ReconcileTask{TaskID: mesos.TaskID(r.TaskID), AgentID: agent})
		}
	}
	st.lastRecon = now
	if len(tasks) == 0 {
		return
	}
	sort.Slice(tasks, func(a, b int) bool { return tasks[a].TaskID < tasks[b].TaskID })
	ctx, cancel := st.opCtx()
	defer cancel()
	if err := st.sched.Reconcile(ctx, tasks...); err != nil {
		s.log.Warn("reconcile", "tasks", len(tasks), "err", err)
	}
}

// offerInterest keeps offers coming exactly while they are useful: a
// run waits, or an instant is due within OfferLead (so offers are in hand
// when it comes). Otherwise held offers are declined for long and offers
// suppressed. A revive also clears decline filters.
func (s *Server) offerInterest(st *leaderState, now time.Time) {
	if !st.subscribed {
		return
	}
	soon := s.dueSoon(st, now)
	if soon && !st.wasSoon {
		st.newDemand = true
	}
	st.wasSoon = soon
	want := len(st.queue) > 0 || soon
	if !want && len(st.held) > 0 {
		s.decline(st, st.heldIDs(), idleRefuse)
		clear(st.held)
	}
	ctx, cancel := st.opCtx()
	defer cancel()
	switch {
	case want && len(st.held) == 0 && (st.suppressed || st.filtered && st.newDemand):
		// Only new demand revives filtered offers: reviving for runs that
		// fit no offer would just have the same offers declined again.
		if err := st.sched.Revive(ctx); err != nil {
			s.log.Warn("revive offers", "err", err)
			return
		}
		st.suppressed, st.filtered, st.newDemand = false, false, false
	case !want && !st.suppressed:
		if err := st.sched.Suppress(ctx); err != nil {
			s.log.Warn("suppress offers", "err", err)
			return
		}
		st.suppressed = true
	}
}

// dueSoon reports whether the core wakes within OfferLead: an instant, a
// retry or a deadline is near, and offers should be at hand.
func (s *Server) dueSoon(st *leaderState, now time.Time) bool {
	if s.cfg.OfferLead <= 0 {
		return false
	}
	wake, ok := st.core.NextWake()
	return ok && !wake.After(now.Add(s.cfg.OfferLead))
}

func (st *leaderState) heldIDs() []mesos.OfferID {
	ids := make([]mesos.OfferID, 0, len(st.held))
	for id := range st.held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (s *Server) decline(st *leaderState, ids []mesos.OfferID, refuse time.Duration) {
	if len(ids) == 0 {
		return
	}
	secs := refuse.Seconds()
	ctx, cancel := st.opCtx()
	defer cancel()
	if err := st.sched.Decline(ctx, ids, &mesos.Filters{RefuseSeconds: &secs}); err != nil {
		s.log.Warn("decline offers", "offers", len(ids), "err", err)
	}
	st.filtered = true
}

// offers takes new offers into hand and matches them.
func (s *Server) offers(st *leaderState, offers []mesos.Offer, now time.Time) {
	for i := range offers {
		o := offers[i]
		st.held[o.ID] = &o
	}
	s.match(st, now)
}

// match launches waiting runs, oldest first, on the offers in hand. An
// offer that fits none of the waiting runs is declined briefly; offers
// are kept while nothing waits but an instant is near, and declined for
// long otherwise (offerInterest).
func (s *Server) match(st *leaderState, now time.Time) {
	if len(st.held) == 0 {
		return
	}
	if len(st.queue) == 0 {
		s.offerInterest(st, now)
		return
	}
	var unfit []mesos.OfferID
	for _, oid := range st.heldIDs() {
		o := st.held[oid]
		left := o.Resources.Clone()
		var tasks []mesos.TaskInfo
		for _, id := range st.sortedQueue() {
			w := st.queue[id]
			j, ok := st.graph.Job(w.run.Job)
			if !ok {
				delete(st.queue, id)
				continue
			}
			if !constraintsMatch(j.Constraints, o) {
				continue
			}
			res, ok := take(left, j)
			if !ok {
				continue
			}
			left = left.Subtract(res...)
			tasks = append(tasks, s.buildTask(st, j, &w.run, o, res))
			delete(st.queue, id) // sent below, whatever the answer
			st.sending[id] = w.run
		}
		if len(tasks) == 0 {
			if len(st.queue) > 0 {
				unfit = append(unfit, oid)
				delete(st.held, oid)
			}
			continue
		}
		delete(st.held, oid)
		s.launch(st, o, tasks, now)
	}
	s.decline(st, unfit, busyRefuse)
	s.offerInterest(st, now)
}

// launch sends tasks on offer o. What is left of the offer comes back at
// the next allocation (no filter), so runs due shortly after find it.
func (s *Server) launch(st *leaderState, o *mesos.Offer, tasks []mesos.TaskInfo, now time.Time) {
	refuse := 0.0
	ctx, cancel := st.opCtx()
	err := st.sched.Launch(ctx, []mesos.OfferID{o.ID}, tasks, &mesos.Filters{RefuseSeconds: &refuse})
	cancel()
	for _, t := range tasks {
		id := string(t.TaskID)
		run := st.sending[id]
		delete(st.sending, id)
		st.sent[id] = o.AgentID
		if err != nil {
			// The launch may or may not have reached the master: let
			// reconciliation tell, and send again only if it did not.
			st.unresolved[id] = run
			continue
		}
		s.metrics.launched.Add(1)
		s.log.Info("launched run", "job", run.Job, "run", run.ID, "task", id, "agent", o.AgentID, "host", o.Hostname)
	}
	if err != nil {
		s.log.Error("launch", "offer", o.ID, "tasks", len(tasks), "err", err)
		s.reconcile(st, now)
	}
}

// take picks the job's cpus, mem and disk out of an offer's resources,
// keeping each piece's role, reservation and allocation as offered.
func take(offered mesos.Resources, j *job.Job) (mesos.Resources, bool) {
	var out mesos.Resources
	for _, need := range []struct {
		name string
		v    float64
	}{{"cpus", j.CPUs}, {"mem", j.Mem}, {"disk", j.Disk}} {
		want := mesos.ScalarOf(need.v).Milli()
		for _, r := range offered {
			if want <= 0 {
				break
			}
			if r.Name != need.name || r.Type != mesos.ValueScalar || r.Scalar == nil || r.Disk != nil || r.Revocable != nil {
				continue
			}
			n := min(r.Scalar.Milli(), want)
			if n <= 0 {
				continue
			}
			piece := r
			v := mesos.ScalarFromMilli(n)
			piece.Scalar = &v
			out = append(out, piece)
			want -= n
		}
		if want > 0 {
			return nil, false
		}
	}
	return out, true
}

// constraintsMatch applies Chronos' constraints to an offer: the
// attribute "hostname" is the agent's host name.
func constraintsMatch(cs []job.Constraint, o *mesos.Offer) bool {
	for _, c := range cs {
		value, have := "", false
		if c.Attribute == "hostname" {
			value, have = o.Hostname, true
		} else if a, ok := o.Attributes.Get(c.Attribute); ok {
			value, have = a.Value().String(), true
		}
		switch {
		case c.Operator == job.OpUnlike && !have:
			continue // nothing to be unlike
		case !have:
			return false
		case !c.Matches(value):
			return false
		}
	}
	return true
}

// buildTask is the Mesos task for a run: Chronos' command (through the
// shell, or the command with arguments), the run's extra arguments, the
// job's environment plus Chronos' CHRONOS_* variables, fetch URIs and the
// user the job runs as.
func (s *Server) buildTask(st *leaderState, j *job.Job, r *core.Run, o *mesos.Offer, res mesos.Resources) mesos.TaskInfo {
	user := j.RunAsUser
	if user == "" {
		user = s.cfg.User
	}
	cmd := &mesos.CommandInfo{User: user, Value: j.Command}
	args := slices.Concat(j.Arguments, r.Arguments)
	if !j.Shell {
		shell := false
		cmd.Shell = &shell
		cmd.Arguments = append([]string{j.Command}, args...)
	} else if len(args) > 0 {
		for _, a := range args {
			cmd.Value += " " + shellQuote(a)
		}
	}
	env := map[string]string{
		"mesos_task_id":           r.TaskID,
		"CHRONOS_JOB_OWNER":       j.Owner,
		"CHRONOS_JOB_NAME":        j.Name,
		"HOST":                    o.Hostname,
		"CHRONOS_RESOURCE_CPU":    strconv.FormatFloat(j.CPUs, 'f', -1, 64),
		"CHRONOS_RESOURCE_MEM":    strconv.FormatFloat(j.Mem, 'f', -1, 64),
		"CHRONOS_RESOURCE_DISK":   strconv.FormatFloat(j.Disk, 'f', -1, 64),
		"CHRONOS_JOB_RUN_TIME":    stamp(r.ScheduledAt),
		"CHRONOS_JOB_RUN_ATTEMPT": strconv.Itoa(r.Attempt),
	}
	for _, e := range j.EnvironmentVariables { // the job's own win, as in Chronos
		env[e.Name] = e.Value
	}
	cmd.Environment = mesos.Env(env)
	for _, u := range j.URIs {
		cmd.URIs = append(cmd.URIs, mesos.CommandURI{Value: u})
	}
	for _, f := range j.Fetch {
		u := mesos.CommandURI{Value: f.URI, OutputFile: f.OutputFile}
		ex, ca, et := f.Executable, f.Cache, f.Extract
		u.Executable, u.Cache, u.Extract = &ex, &ca, &et
		cmd.URIs = append(cmd.URIs, u)
	}
	return mesos.TaskInfo{Name: "ChronosTask:" + j.Name, TaskID: mesos.TaskID(r.TaskID), AgentID: o.AgentID,
		Resources: res, Command: cmd}
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=,+@%-]+$`)

// shellQuote quotes an argument appended to a shell command.
func shellQuote(a string) string {
	if shellSafe.MatchString(a) {
		return a
	}
	out := []byte{'\''}
	for i := 0; i < len(a); i++ {
		if a[i] == '\'' {
			out = append(out, `'\''`...)
			continue
		}
		out = append(out, a[i])
	}
	return string(append(out, '\''))
}

// killTask asks the master to kill a sent task.
func (s *Server) killTask(st *leaderState, id string, agent mesos.AgentID) {
	if agent == "" {
		agent = st.sent[id]
	}
	ctx, cancel := st.opCtx()
	defer cancel()
	if err := st.sched.Kill(ctx, mesos.TaskID(id), agent); err != nil {
		s.log.Warn("kill task", "task", id, "err", err)
	}
}

// eventOf maps a Mesos task state onto the core's events; ok is false for
// states that change nothing (staging, starting, killing, unreachable).
func eventOf(state mesos.TaskState) (core.EventKind, bool) {
	switch state {
	case mesos.TaskRunning:
		return core.EventStarted, true
	case mesos.TaskFinished:
		return core.EventFinished, true
	case mesos.TaskFailed, mesos.TaskError:
		return core.EventFailed, true
	case mesos.TaskKilled:
		return core.EventKilled, true
	case mesos.TaskLost, mesos.TaskDropped, mesos.TaskGone, mesos.TaskGoneByOperator, mesos.TaskUnknown:
		return core.EventLost, true
	}
	return 0, false
}

var exitRE = regexp.MustCompile(`exited with status (-?\d+)`)

// update feeds a status update to the core, persists what it decides,
// acts, and only then acknowledges it: a crash in between means the
// master sends it again, never that it is lost.
func (s *Server) update(st *leaderState, ts *mesos.TaskStatus, now time.Time) {
	id := string(ts.TaskID)
	delete(st.awaiting, id)
	kind, ok := eventOf(ts.State)
	if ok && kind == core.EventLost && ts.Reason == mesos.ReasonReconciliation {
		if _, queued := st.queue[id]; queued {
			ok = false // not sent yet: the master cannot know it
		} else if r, restored := st.unresolved[id]; restored {
			delete(st.unresolved, id)
			delete(st.sent, id)
			cur, active := st.activeRun(r.Job, id)
			switch {
			case !active:
				ok = false
			case cur.KillReason != "":
				kind = core.EventKilled // asked to stop before it ever ran
			default:
				// The old leader recorded the launch but the task never
				// reached the cluster: send it now, under the same task ID.
				st.queue[id] = &waiting{run: cur, queued: now}
				st.newDemand = true
				s.log.Info("restored run unknown to the master; launching it", "job", r.Job, "task", id)
				s.match(st, now)
				s.offerInterest(st, now)
				ok = false
			}
		}
	}
	if ts.State != mesos.TaskUnreachable && ts.State != mesos.TaskStaging {
		delete(st.unresolved, id)
	}
	if ok {
		ev := core.Event{Kind: kind, TaskID: id, Agent: string(ts.AgentID), Message: ts.Message}
		if m := exitRE.FindStringSubmatch(ts.Message); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				ev.ExitStatus = &n
			}
		} else if kind == core.EventFinished {
			zero := 0
			ev.ExitStatus = &zero
		}
		if kind != core.EventStarted {
			delete(st.sent, id)
		}
		ds := st.core.Observe(now, ev)
		if kind == core.EventStarted {
			s.observeStarted(ds, id, now)
		}
		if !s.apply(st, ds, now) {
			return // not persisted: leave it unacknowledged
		}
	}
	ctx, cancel := st.opCtx()
	defer cancel()
	if err := st.sched.Acknowledge(ctx, ts); err != nil {
		s.log.Warn("acknowledge", "task", id, "state", ts.State, "err", err)
	}
}

// activeRun finds the core's current record of a job's active task.
func (st *leaderState) activeRun(name, taskID string) (core.Run, bool) {
	for _, r := range st.core.Active(name) {
		if r.TaskID == taskID {
			return r, true
		}
	}
	return core.Run{}, false
}
