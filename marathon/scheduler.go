package marathon

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
	"github.com/strata-dc/strata/marathon/placement"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// Offer filters: offers that fit nothing waiting come back soon, so new
// demand and freed resources are matched quickly; with nothing waiting
// marathon declines for DeclineOfferDuration and suppresses.
const (
	busyRefuse   = 5 * time.Second
	launchRefuse = 1 * time.Second
)

// handleEvent applies one scheduler event; s.mu is held. Updates normally
// arrive in batches through handleBatch.
func (s *Server) handleEvent(st *leaderState, ev *mesos.Event) {
	switch ev.Type {
	case mesos.EventSubscribed:
		s.subscribed(st, ev.Subscribed)
	case mesos.EventOffers:
		if ev.Offers != nil {
			s.offers(st, ev.Offers.Offers, time.Now())
		}
	case mesos.EventUpdate:
		if ev.Update != nil && ev.Update.Status != nil {
			s.statusBatch(st, []*mesos.TaskStatus{ev.Update.Status}, time.Now())
		}
	case mesos.EventError:
		if ev.Error != nil {
			s.log.Error("master error event", "message", ev.Error.Message)
		}
	case mesos.EventFailure:
		if ev.Failure != nil {
			s.log.Info("agent or executor failure", "agent", ev.Failure.AgentID)
		}
	}
}

// subscribed persists the framework ID (so the next leader fails over to
// the same framework), reconciles, and sets offer interest afresh.
func (s *Server) subscribed(st *leaderState, sub *mesos.Subscribed) {
	st.subscribed = true
	if sub != nil && string(sub.FrameworkID) != st.frameworkID {
		ctx, cancel := st.opCtx()
		_, err := st.store.Put(ctx, frameworkIDKey, frameworkRecord{ID: string(sub.FrameworkID)})
		cancel()
		if err != nil {
			s.log.Error("store framework id", "id", sub.FrameworkID, "err", err)
		} else {
			st.frameworkID = string(sub.FrameworkID)
		}
	}
	s.log.Info("subscribed to master", "framework", st.frameworkID)
	// The subscription starts with no filters and (on a new master) maybe
	// unsuppressed: state it explicitly.
	st.suppressed = false
	st.declinedIdle = false
	s.reconcile(st)
	s.drive(st, time.Now())
	s.offerInterest(st, true)
}

// reconcile asks the master for the state of every launched instance
// (explicit) and of every task it knows for the framework (implicit), so
// lost tasks are replaced and unknown ones killed.
func (s *Server) reconcile(st *leaderState) {
	if !st.subscribed {
		return
	}
	var tasks []mesos.ReconcileTask
	for _, i := range st.instances {
		if !i.scheduled() {
			tasks = append(tasks, mesos.ReconcileTask{TaskID: mesos.TaskID(i.TaskID), AgentID: mesos.AgentID(i.AgentID)})
		}
	}
	sort.Slice(tasks, func(a, b int) bool { return tasks[a].TaskID < tasks[b].TaskID })
	ctx, cancel := st.opCtx()
	defer cancel()
	if len(tasks) > 0 {
		if err := st.sched.Reconcile(ctx, tasks...); err != nil {
			s.log.Warn("explicit reconciliation", "err", err)
		}
	}
	if err := st.sched.Reconcile(ctx); err != nil {
		s.log.Warn("implicit reconciliation", "err", err)
	}
}

// tick drives deployments and the instance lifecycle between events.
func (s *Server) tick(st *leaderState, now time.Time) {
	if !st.subscribed {
		return
	}
	for id := range st.lastKill {
		if st.instances[id] == nil {
			delete(st.lastKill, id)
		}
	}
	for _, i := range st.instances {
		ref := deploy.ConfigRef{AppID: string(i.AppID), Version: i.Config}
		switch {
		case i.Killing && !i.scheduled():
			// Kills sent by a previous leader, or while disconnected,
			// may be lost: ask again until the task ends.
			if last, ok := st.lastKill[i.TaskID]; !ok || now.Sub(last) > killRetry+st.grace(i) {
				s.sendKill(st, i)
			}
		case i.State == mesos.TaskRunning && !i.StartedAt.IsZero():
			st.limiter.Running(ref, i.StartedAt, now)
		case (i.State == mesos.TaskStaging || i.State == mesos.TaskStarting) && !i.Killing &&
			now.Sub(i.StagedAt) > s.cfg.TaskLaunchTimeout:
			s.log.Warn("task launch timed out; killing it", "task", i.TaskID, "staged", i.StagedAt)
			s.kill(st, i)
		}
	}
	st.limiter.Expire(now)
	s.probeReadiness(st, now)
	s.drive(st, now)
}

// waiting is one app's share of the launch queue for an offer round.
type waiting struct {
	app   *app.App
	rules []app.Rule
	ready []*Instance // scheduled and not delayed
}

// launchQueue lists, per app in id order, the scheduled instances that
// may launch now: those of the app's current config whose backoff is over.
func (s *Server) launchQueue(st *leaderState, now time.Time) (queue []*waiting, anyWaiting bool) {
	ids := make([]app.PathID, 0, len(st.byApp))
	for id := range st.byApp {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		a, ok := st.root.App(id)
		var w *waiting
		for _, i := range st.appInstances(id) {
			if !i.scheduled() {
				continue
			}
			anyWaiting = true
			if !ok || !i.Config.Equal(configVersion(a)) {
				continue
			}
			if allowed, _ := st.limiter.LaunchAllowed(deploy.ConfigRef{AppID: string(id), Version: i.Config}, now); !allowed {
				continue
			}
			if w == nil {
				rules, err := a.Rules()
				if err != nil {
					s.log.Error("app constraints", "app", id, "err", err)
					break
				}
				w = &waiting{app: a, rules: rules}
			}
			w.ready = append(w.ready, i)
		}
		if w != nil {
			queue = append(queue, w)
		}
	}
	return queue, anyWaiting
}

// placed lists where an app's live instances are, for constraints.
func (st *leaderState) placed(id app.PathID) []placement.Instance {
	var out []placement.Instance
	for _, i := range st.byApp[id] {
		if i.scheduled() || i.Killing {
			continue
		}
		p, ok := st.agents[i.AgentID]
		if !ok {
			p = placement.Instance{AgentID: i.AgentID, Hostname: i.Host}
		}
		out = append(out, p)
	}
	return out
}

// offers matches offers against the launch queue, launches what fits and
// declines the rest.
func (s *Server) offers(st *leaderState, offers []mesos.Offer, now time.Time) {
	queue, anyWaiting := s.launchQueue(st, now)
	var decline []mesos.OfferID
	var launches []*offerLaunch
	for k := range offers {
		offer := offers[k]
		offer.Resources = offer.Resources.Clone()
		st.agents[string(offer.AgentID)] = placement.InstanceFromOffer(&offer)
		l := &offerLaunch{offer: offer.ID}
		for _, w := range queue {
			if len(w.ready) == 0 {
				continue
			}
			req := placement.Request{App: w.app, Rules: w.rules, Offer: &offer, Placed: st.placed(w.app.ID),
				FrameworkRole: s.cfg.MesosRole, Now: now}
			matches, dec := placement.Place(req, len(w.ready))
			stats := st.stats[w.app.ID]
			if stats == nil {
				stats = &placement.Stats{}
				st.stats[w.app.ID] = stats
			}
			if len(matches) > 0 {
				stats.Record(placement.Decision{Match: &matches[0]}, now)
			} else {
				stats.Record(dec, now)
			}
			for n, m := range matches {
				inst := w.ready[n]
				ti := buildTask(w.app, inst.TaskID, &offer, m, s.cfg)
				inst.State, inst.AgentID, inst.Host, inst.Ports = mesos.TaskStaging, string(offer.AgentID), offer.Hostname, m.HostPorts
				inst.StagedAt, inst.AppVersion = now, w.app.Version
				if offer.URL != nil && offer.URL.Address != nil {
					inst.IP = offer.URL.Address.IP
				}
				l.tasks = append(l.tasks, ti)
				l.launched = append(l.launched, inst)
				offer.Resources = offer.Resources.Subtract(m.Resources...)
			}
			w.ready = w.ready[len(matches):]
		}
		if len(l.tasks) == 0 {
			decline = append(decline, offer.ID)
			continue
		}
		launches = append(launches, l)
	}
	decline = append(decline, s.launch(st, launches, now)...)
	if len(decline) > 0 {
		refuse := s.cfg.DeclineOfferDuration.Seconds()
		if anyWaiting {
			refuse = busyRefuse.Seconds()
		} else {
			st.declinedIdle = true
		}
		ctx, cancel := st.opCtx()
		if err := st.sched.Decline(ctx, decline, &mesos.Filters{RefuseSeconds: &refuse}); err != nil {
			s.log.Warn("decline offers", "count", len(decline), "err", err)
		}
		cancel()
		s.metrics.offersDeclined.Add(int64(len(decline)))
	}
	s.offerInterest(st, false)
}

// maxLaunchCalls bounds the ACCEPTs of an offer round (and the KILLs of a
// killAll) in flight at once.
const maxLaunchCalls = 16

// offerLaunch is what an offer round launches on one offer: one ACCEPT.
type offerLaunch struct {
	offer    mesos.OfferID
	tasks    []mesos.TaskInfo
	launched []*Instance
	err      error // the ACCEPT's outcome
}

// launch stores the instances of every launch of an offer round (in as few
// commits as the request limit allows: a new leader must know every task
// that may exist), then sends the ACCEPTs concurrently, since each waits
// for the master's reply, and acts on their outcomes in offer order. It
// returns the offers to decline: those whose instances could not be
// stored, which are put back in the queue unlaunched. s.mu is held.
func (s *Server) launch(st *leaderState, launches []*offerLaunch, now time.Time) (decline []mesos.OfferID) {
	if len(launches) == 0 {
		return nil
	}
	var writes []instanceWrite
	for _, l := range launches {
		for _, i := range l.launched {
			writes = append(writes, instanceWrite{inst: i})
		}
	}
	ctx, cancel := st.opCtx()
	failed := writeInstances(ctx, st.store, writes, st.known)
	cancel()
	ready := launches[:0:0]
	for _, l := range launches {
		var err error
		for _, i := range l.launched {
			if e, bad := failed[i.TaskID]; bad {
				err = e
				break
			}
		}
		if err == nil {
			ready = append(ready, l)
			continue
		}
		s.log.Error("store launched instances; not launching", "offer", l.offer, "err", err)
		for _, i := range l.launched {
			i.unlaunch()
		}
		decline = append(decline, l.offer)
	}
	refuse := launchRefuse.Seconds()
	callAll(len(ready), func(i int) {
		l := ready[i]
		ctx, cancel := st.opCtx()
		defer cancel()
		l.err = st.sched.Launch(ctx, []mesos.OfferID{l.offer}, l.tasks, &mesos.Filters{RefuseSeconds: &refuse})
	})
	for _, l := range ready {
		if err := l.err; err != nil {
			s.log.Error("launch", "offer", l.offer, "tasks", len(l.tasks), "err", err)
			switch {
			case errors.Is(err, client.ErrNotSubscribed):
				// Never sent: the instances wait for the next offer.
				for _, i := range l.launched {
					i.unlaunch()
				}
				ctx, cancel := st.opCtx()
				_ = putInstances(ctx, st.store, l.launched, st.known)
				cancel()
			case errors.Is(err, client.ErrBadRequest):
				// Refused: nothing was launched; count it as a failure
				// so the backoff applies and the reason shows.
				failed := make([]*mesos.TaskStatus, 0, len(l.launched))
				for _, i := range l.launched {
					failed = append(failed, &mesos.TaskStatus{TaskID: mesos.TaskID(i.TaskID), State: mesos.TaskError,
						Message: err.Error()})
				}
				s.applyStatuses(st, failed, now)
			}
			// Otherwise the outcome is unknown: reconciliation or the
			// launch timeout settles it.
			continue
		}
		s.metrics.launched.Add(int64(len(l.tasks)))
		for _, i := range l.launched {
			s.events.publish(s.statusEvent(st, i, "TASK_STAGING"))
		}
	}
	return decline
}

// offerInterest suppresses offers when no instance waits and revives them
// when one does (also clearing decline filters), so marathon neither sits
// on offers nor misses them.
func (s *Server) offerInterest(st *leaderState, force bool) {
	if !st.subscribed {
		return
	}
	want := false
	for _, i := range st.instances {
		if i.scheduled() {
			want = true
			break
		}
	}
	ctx, cancel := st.opCtx()
	defer cancel()
	switch {
	case want && (st.suppressed || st.declinedIdle || st.newDemand || force):
		if err := st.sched.Revive(ctx); err != nil {
			s.log.Warn("revive offers", "err", err)
			return
		}
		st.suppressed, st.declinedIdle, st.newDemand = false, false, false
	case !want && (!st.suppressed || force):
		if err := st.sched.Suppress(ctx); err != nil {
			s.log.Warn("suppress offers", "err", err)
			return
		}
		st.suppressed = true
	}
}

func conditionOf(s mesos.TaskState) string {
	name := strings.TrimPrefix(string(s), "TASK_")
	if name == "" {
		return "Scheduled"
	}
	return strings.ToUpper(name[:1]) + strings.ToLower(name[1:])
}

// kill stops an instance: a scheduled one is simply dropped; a launched
// one is marked Killing (stored first) and the master is asked to kill it.
func (s *Server) kill(st *leaderState, inst *Instance) {
	if inst.scheduled() {
		ctx, cancel := st.opCtx()
		err := deleteInstance(ctx, st.store, inst.TaskID, st.known)
		cancel()
		if err != nil {
			s.log.Error("drop scheduled instance", "task", inst.TaskID, "err", err)
			return
		}
		st.remove(inst)
		return
	}
	if !inst.Killing {
		inst.Killing = true
		ctx, cancel := st.opCtx()
		err := putInstances(ctx, st.store, []*Instance{inst}, st.known)
		cancel()
		if err != nil {
			inst.Killing = false
			s.log.Error("store killing instance", "task", inst.TaskID, "err", err)
			return
		}
	}
	s.sendKill(st, inst)
}

// killAll is kill for many instances at once (a scale-down, a stopped
// app): the records are written in as few commits as the request limit
// allows, and the kills are sent concurrently, so stopping 10,000
// instances costs a few commits rather than 10,000. s.mu is held.
func (s *Server) killAll(st *leaderState, list []*Instance) {
	if len(list) == 0 {
		return
	}
	writes := make([]instanceWrite, 0, len(list))
	for _, i := range list {
		switch {
		case i.scheduled():
			writes = append(writes, instanceWrite{inst: i, del: true})
		case !i.Killing:
			i.Killing = true
			writes = append(writes, instanceWrite{inst: i})
		}
	}
	var failed map[string]error
	if len(writes) > 0 {
		ctx, cancel := st.opCtx()
		failed = writeInstances(ctx, st.store, writes, st.known)
		cancel()
	}
	var send []*Instance
	for _, w := range writes {
		err, bad := failed[w.inst.TaskID]
		switch {
		case w.del && bad:
			s.log.Error("drop scheduled instance", "task", w.inst.TaskID, "err", err)
		case w.del:
			st.remove(w.inst)
		case bad:
			w.inst.Killing = false
			s.log.Error("store killing instance", "task", w.inst.TaskID, "err", err)
		}
	}
	for _, i := range list {
		if !i.scheduled() && i.Killing {
			send = append(send, i)
		}
	}
	s.sendKills(st, send)
}

// sendKills is sendKill for many instances, a few calls in flight at once.
func (s *Server) sendKills(st *leaderState, list []*Instance) {
	type killCall struct {
		task   mesos.TaskID
		agent  mesos.AgentID
		policy *mesos.KillPolicy
	}
	calls := make([]killCall, 0, len(list))
	now := time.Now()
	for _, i := range list {
		st.lastKill[i.TaskID] = now
		c := killCall{task: mesos.TaskID(i.TaskID), agent: mesos.AgentID(i.AgentID)}
		if g := st.grace(i); g > 0 {
			c.policy = &mesos.KillPolicy{GracePeriod: mesos.DurationInfoOf(g)}
		}
		calls = append(calls, c)
	}
	callAll(len(calls), func(i int) {
		c := calls[i]
		ctx, cancel := st.opCtx()
		defer cancel()
		if err := st.sched.KillWithPolicy(ctx, c.task, c.agent, c.policy); err != nil {
			s.log.Warn("kill", "task", c.task, "err", err)
		}
	})
}

// callAll runs call(0..n-1) concurrently, at most maxLaunchCalls at once,
// and returns when all have: the master's calls of an offer round or a
// batch of kills, whose latencies would otherwise add up.
func callAll(n int, call func(i int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxLaunchCalls)
	for i := range n {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			call(i)
		}()
	}
	wg.Wait()
}

// killRetry is how long marathon waits for a killed task to end before it
// asks again.
const killRetry = 10 * time.Second

// sendKill asks the master to kill a launched instance, with the app's
// grace period.
func (s *Server) sendKill(st *leaderState, inst *Instance) {
	st.lastKill[inst.TaskID] = time.Now()
	var policy *mesos.KillPolicy
	if g := st.grace(inst); g > 0 {
		policy = &mesos.KillPolicy{GracePeriod: mesos.DurationInfoOf(g)}
	}
	ctx, cancel := st.opCtx()
	defer cancel()
	if err := st.sched.KillWithPolicy(ctx, mesos.TaskID(inst.TaskID), mesos.AgentID(inst.AgentID), policy); err != nil {
		s.log.Warn("kill", "task", inst.TaskID, "err", err)
	}
}

// schedule queues n new instances of an app's config version; they are
// stored before anything else happens to them.
func (s *Server) schedule(st *leaderState, id app.PathID, config time.Time, n int, now time.Time) {
	if n <= 0 {
		return
	}
	list := make([]*Instance, 0, n)
	for range n {
		list = append(list, &Instance{TaskID: newTaskID(id), AppID: id, Config: config, ScheduledAt: now})
	}
	ctx, cancel := st.opCtx()
	err := putInstances(ctx, st.store, list, st.known)
	cancel()
	if err != nil {
		s.log.Error("store scheduled instances", "app", id, "count", n, "err", err)
		return
	}
	for _, i := range list {
		st.add(i)
	}
	st.newDemand = true
	if _, ok := st.queueSince[id]; !ok {
		st.queueSince[id] = now
	}
}

// grace is the instance's app's taskKillGracePeriodSeconds (0: the
// agent's default).
func (st *leaderState) grace(i *Instance) time.Duration {
	if a, ok := st.root.App(i.AppID); ok && a.TaskKillGracePeriodSeconds != nil {
		return time.Duration(*a.TaskKillGracePeriodSeconds) * time.Second
	}
	return 0
}

func sortInstances(list []*Instance) {
	sort.Slice(list, func(a, b int) bool { return list[a].TaskID < list[b].TaskID })
}
