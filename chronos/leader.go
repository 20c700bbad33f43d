package chronos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/strata-dc/strata/chronos/core"
	"github.com/strata-dc/strata/chronos/job"
	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// leaderState is what only the leader holds: the job graph, the scheduler
// core rebuilt from coord when the term begins, and the runs waiting for
// an offer. Every write goes through the term's fenced store, so a
// deposed leader cannot record anything, and nothing is launched before
// its record is written.
type leaderState struct {
	ctx    context.Context // the term; ends when leadership may be lost
	cancel context.CancelCauseFunc
	store  *coord.Store
	sched  *client.Scheduler
	core   *core.Core
	graph  *job.Graph
	since  map[string]time.Time
	known  map[string]bool // record keys that exist in coord

	frameworkID string
	subscribed  bool
	suppressed  bool
	// filtered is set once a decline left a filter the master applies
	// until the next revive; newDemand once a run was queued (or came
	// near) since the last revive.
	filtered, newDemand, wasSoon bool
	// held are offers in hand, kept while a run waits or is near.
	held map[mesos.OfferID]*mesos.Offer
	// sending holds runs between leaving the queue and their LAUNCH call.
	sending map[string]core.Run
	// queue holds launched runs whose task is not yet sent to the master,
	// by task ID.
	queue map[string]*waiting
	// sent holds task IDs sent to the master in this term, with the agent.
	sent map[string]mesos.AgentID
	// unresolved holds runs restored as launched but never seen running:
	// the old leader may have died before sending them. Reconciliation
	// decides: known to the master → followed; unknown → sent again under
	// the same task ID (the run is still launched at most once).
	unresolved map[string]core.Run
	lastRecon  time.Time
	// awaiting holds the restored active runs' tasks until the master has
	// said something about each (reconciliation answers at SUBSCRIBED):
	// until then, or settleBy, the core is not ticked, so a run that
	// finished during the failover does not make the next instant of a
	// concurrent:false job look overlapping.
	awaiting map[string]bool
	settleBy time.Time
}

// settled reports whether the core may decide: the master has answered
// for every restored active run, or SettleTimeout passed since SUBSCRIBED.
func (st *leaderState) settled(now time.Time) bool {
	if len(st.awaiting) == 0 {
		return true
	}
	return st.subscribed && !now.Before(st.settleBy)
}

// waiting is a run waiting for an offer.
type waiting struct {
	run    core.Run
	queued time.Time
}

// spec maps a stored job onto what the core schedules.
func spec(sj storedJob, now time.Time) (core.JobSpec, error) {
	j := sj.Job
	s := core.JobSpec{Name: j.Name, Parents: j.Parents, Retries: j.Retries, Concurrent: j.Concurrent,
		SoftError: j.SoftError, Disabled: j.Disabled, Since: sj.Since,
		MaxCompletionTime: time.Duration(j.MaxCompletionTime) * time.Second}
	if eps, ok := j.EpsilonDuration(); ok {
		s.Epsilon = eps
	}
	if !j.Dependent() {
		sch, err := j.ParseSchedule(now)
		if err != nil {
			return s, fmt.Errorf("job %q: schedule: %w", j.Name, err)
		}
		s.Schedule = sch
	}
	return s, nil
}

// lead runs one term: load the state, subscribe as the framework with the
// stored framework ID, and serve events and the core's timers until the
// term or ctx ends. It returns an error only for what should stop the
// daemon (the master refusing the framework for good).
func (s *Server) lead(ctx context.Context, term *coord.Term, opts client.Options) error {
	s.elected.Store(true)
	defer s.elected.Store(false)
	lctx, cancel := context.WithCancelCause(term.Context())
	defer cancel(nil)
	stop := context.AfterFunc(ctx, func() { cancel(ctx.Err()) })
	defer stop()
	s.log.Info("chronos elected leader", "node", term.Node())

	// Serving without the state would lose runs; holding the term while
	// retrying keeps a second leader out, and the log says why.
	var st *leaderState
	for {
		var err error
		if st, err = s.restore(lctx, term.Store()); err == nil {
			break
		}
		s.log.Error("load state; retrying", "err", err)
		select {
		case <-lctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	st.ctx, st.cancel = lctx, cancel

	failover := s.cfg.FailoverTimeout.Seconds()
	checkpoint := true
	info := &mesos.FrameworkInfo{User: s.cfg.User, Name: s.cfg.FrameworkName, ID: mesos.FrameworkID(st.frameworkID),
		FailoverTimeout: &failover, Checkpoint: &checkpoint, Role: s.cfg.MesosRole, Hostname: s.cfg.Hostname,
		WebUIURL: s.base, Capabilities: []mesos.FrameworkCapability{
			{Type: mesos.FrameworkCapabilityPartitionAware}, {Type: mesos.FrameworkCapabilityTaskKillingState}}}
	if s.cfg.Credential != nil {
		info.Principal = s.cfg.Credential.Principal
	}
	sched, err := client.NewScheduler(client.SchedulerConfig{Options: opts, Framework: info,
		SuppressedRoles: []string{s.cfg.MesosRole}})
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	st.sched = sched
	st.suppressed = true
	schedErr := make(chan error, 1)
	go func() { schedErr <- sched.Run(lctx) }()
	defer sched.Close()

	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.st = nil
		s.mu.Unlock()
		s.log.Info("chronos leadership ended", "cause", context.Cause(lctx))
	}()

	timer := time.NewTimer(0)
	defer timer.Stop()
	events := sched.Events()
	for {
		s.mu.Lock()
		now := s.cfg.Now()
		s.tick(st, now)
		wake, ok := s.nextWake(st, now)
		s.mu.Unlock()
		if !ok {
			wake = now.Add(time.Hour)
		}
		timer.Reset(max(wake.Sub(now), 0))
		select {
		case <-lctx.Done():
			if ctx.Err() == nil && term.Context().Err() == nil {
				return errAbdicated // ended by this leader's own failure
			}
			return nil
		case err := <-schedErr:
			if lctx.Err() != nil {
				return nil
			}
			if err == nil {
				return errors.New("the master tore the framework down; its ID cannot subscribe again")
			}
			var fe *client.FrameworkError
			if errors.As(err, &fe) {
				return fmt.Errorf("master ended the framework: %w", err)
			}
			if errors.Is(err, client.ErrUnauthorized) {
				return fmt.Errorf("the master refused chronos' credentials (pass --credential with a principal the master knows): %w", err)
			}
			return fmt.Errorf("scheduler connection: %w", err)
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			s.mu.Lock()
			s.handleEvent(st, ev)
			s.mu.Unlock()
		case <-timer.C:
		case <-s.wake:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// restore reads coord and rebuilds the graph and the core.
func (s *Server) restore(ctx context.Context, store *coord.Store) (*leaderState, error) {
	l, err := load(ctx, store)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	st := &leaderState{store: store, graph: job.NewGraph(), since: map[string]time.Time{},
		known: map[string]bool{}, frameworkID: l.frameworkID, queue: map[string]*waiting{},
		sent: map[string]mesos.AgentID{}, unresolved: map[string]core.Run{},
		held: map[mesos.OfferID]*mesos.Offer{}, sending: map[string]core.Run{}, awaiting: map[string]bool{}}
	var jobs []*job.Job
	var specs []core.JobSpec
	stored := map[string]bool{}
	for _, sj := range l.jobs {
		stored[sj.Job.Name] = true
		sp, err := spec(sj, now)
		if err != nil {
			// One unreadable job (say, a time zone this host lacks) must
			// not stop every other job; its node and records stay.
			s.log.Error("job cannot be scheduled on this host; leaving it out", "job", sj.Job.Name, "err", err)
			continue
		}
		specs = append(specs, sp)
		jobs = append(jobs, sj.Job)
		st.since[sj.Job.Name] = sj.Since
	}
	if err := st.graph.Load(jobs); err != nil {
		return nil, fmt.Errorf("load job graph: %w", err)
	}
	for _, r := range l.records {
		st.known[r.Key()] = true
	}
	c, err := core.New(s.coreConfig(), specs, l.records, now)
	if err != nil {
		return nil, fmt.Errorf("restore scheduler: %w", err)
	}
	st.core = c
	for _, name := range st.graph.Names() {
		for _, r := range c.Active(name) {
			if r.State == core.StateLaunched && r.TaskID != "" {
				st.unresolved[r.TaskID] = r
			}
			if r.State != core.StatePending && r.TaskID != "" {
				st.awaiting[r.TaskID] = true
			}
		}
	}
	// Records of jobs deleted by a leader that died before removing them.
	var orphans []string
	for k := range st.known {
		if !stored[recordJob(k)] {
			orphans = append(orphans, k)
		}
	}
	if len(orphans) > 0 {
		sort.Strings(orphans)
		if err := persist(ctx, store, st.known, nil, orphans); err != nil {
			return nil, fmt.Errorf("delete records of removed jobs: %w", err)
		}
	}
	return st, nil
}

// recordJob is the job a record key belongs to: run ids begin with the
// job's name, ended by a character names cannot hold.
func recordJob(key string) string {
	if name, ok := strings.CutPrefix(key, "status/"); ok {
		return name
	}
	id := strings.TrimPrefix(key, "run/")
	if i := strings.IndexAny(id, "@!"); i >= 0 {
		return id[:i]
	}
	return id
}

func (s *Server) coreConfig() core.Config {
	return core.Config{FailureRetry: s.cfg.FailureRetry, DisableAfterFailures: s.cfg.DisableAfterFailures,
		DefaultEpsilon: s.cfg.DefaultEpsilon, HistoryLimit: s.cfg.HistoryLimit}
}

// poke wakes the leader loop so it recomputes its next wake-up after an
// API call changed the core.
func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// tick runs the core's due work and gives up on runs that waited longer
// than their epsilon for an offer; s.mu is held.
func (s *Server) tick(st *leaderState, now time.Time) {
	if st.ctx.Err() != nil {
		return
	}
	if st.settled(now) {
		s.apply(st, st.core.Tick(now), now)
	}
	for _, id := range st.sortedQueue() {
		w := st.queue[id]
		if w == nil || now.Before(w.queued.Add(s.epsilonOf(st, w.run.Job))) {
			continue
		}
		delete(st.queue, id)
		s.log.Warn("no offer fit the run within its epsilon", "job", w.run.Job, "task", id)
		s.apply(st, st.core.Observe(now, core.Event{Kind: core.EventFailed, TaskID: id,
			Message: "no offer fit the job's resources and constraints within its epsilon"}), now)
	}
	if st.subscribed && now.Sub(st.lastRecon) >= s.cfg.ReconciliationInterval {
		s.reconcile(st, now)
	}
	s.match(st, now)
	s.offerInterest(st, now)
}

// nextWake is when the loop must run again without an event.
func (s *Server) nextWake(st *leaderState, now time.Time) (time.Time, bool) {
	if !st.settled(now) {
		if st.subscribed {
			return st.settleBy, true
		}
		return time.Time{}, false // SUBSCRIBED wakes the loop
	}
	wake, ok := st.core.NextWake()
	if ok && wake.IsZero() {
		wake = now
	}
	if ok && s.cfg.OfferLead > 0 && wake.After(now.Add(s.cfg.OfferLead)) {
		wake = wake.Add(-s.cfg.OfferLead) // to ask for offers ahead of it
	}
	for _, w := range st.queue {
		at := w.queued.Add(s.epsilonOf(st, w.run.Job))
		if !ok || at.Before(wake) {
			wake, ok = at, true
		}
	}
	if st.subscribed {
		at := st.lastRecon.Add(s.cfg.ReconciliationInterval)
		if !ok || at.Before(wake) {
			wake, ok = at, true
		}
	}
	return wake, ok
}

func (s *Server) epsilonOf(st *leaderState, name string) time.Duration {
	if j, ok := st.graph.Job(name); ok {
		if eps, ok := j.EpsilonDuration(); ok && eps > 0 {
			return eps
		}
	}
	return s.cfg.DefaultEpsilon
}

func (st *leaderState) sortedQueue() []string {
	ids := make([]string, 0, len(st.queue))
	for id := range st.queue {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		qa, qb := st.queue[ids[a]], st.queue[ids[b]]
		if !qa.queued.Equal(qb.queued) {
			return qa.queued.Before(qb.queued)
		}
		return ids[a] < ids[b]
	})
	return ids
}

// apply carries out decisions in order: persist (fenced), then act. A
// write that fails ends the term: this process may no longer lead, and
// its core has moved past what coord holds, so the next term rebuilds
// from coord. It reports whether every decision was persisted.
func (s *Server) apply(st *leaderState, ds []core.Decision, now time.Time) bool {
	for _, d := range ds {
		if st.ctx.Err() != nil {
			return false
		}
		if len(d.Writes) > 0 || len(d.Deletes) > 0 {
			ctx, cancel := st.opCtx()
			err := persist(ctx, st.store, st.known, d.Writes, d.Deletes)
			cancel()
			if err != nil {
				s.log.Error("persist run records; ending this term", "job", d.Job, "err", err)
				st.cancel(fmt.Errorf("persist: %w", err))
				return false
			}
		}
		switch d.Action {
		case core.ActionLaunch:
			if d.Run != nil {
				st.queue[d.Run.TaskID] = &waiting{run: *d.Run, queued: now}
				st.newDemand = true
				s.metrics.queued.Add(1)
			}
		case core.ActionKill:
			if d.Run == nil {
				continue
			}
			if _, ok := st.queue[d.Run.TaskID]; ok {
				// Never sent: nothing runs, so it is killed right here.
				delete(st.queue, d.Run.TaskID)
				if !s.apply(st, st.core.Observe(now, core.Event{Kind: core.EventKilled, TaskID: d.Run.TaskID,
					Message: "killed before an offer came"}), now) {
					return false
				}
				continue
			}
			s.killTask(st, d.Run.TaskID, mesos.AgentID(d.Run.Agent))
		case core.ActionDisableJob:
			if !s.disableJob(st, d.Job, now) {
				return false
			}
		}
	}
	return true
}

// disableJob saves the job with disabled:true, as disable-after-failures
// asks.
func (s *Server) disableJob(st *leaderState, name string, now time.Time) bool {
	j, ok := st.graph.Job(name)
	if !ok || j.Disabled {
		return true
	}
	c := j.Clone()
	c.Disabled = true
	s.log.Warn("disabling job after consecutive failures", "job", name, "failures", s.cfg.DisableAfterFailures)
	ds, err := s.saveJob(st, c, now)
	if err != nil {
		s.log.Error("disable job", "job", name, "err", err)
		return false
	}
	return s.apply(st, ds, now)
}

// opCtx bounds one coord or master call made on behalf of the leader.
func (st *leaderState) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(st.ctx, 15*time.Second)
}
