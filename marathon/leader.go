package marathon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
	"github.com/strata-dc/strata/marathon/placement"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// leaderState is what only the leader holds: the app tree, the running
// deployments, the instances and the launch queue, all loaded from coord
// when the term begins and written through the term's fenced store, so a
// deposed leader cannot change anything.
type leaderState struct {
	ctx   context.Context // the term; ends when leadership may be lost
	store *coord.Store    // fenced by the term
	sched *client.Scheduler
	acks  *acker // acknowledges stored updates off the loop

	root        *app.Group
	versions    map[app.PathID][]string
	deployments map[string]*deployment
	instances   map[string]*Instance
	byApp       map[app.PathID]map[string]*Instance
	// sorted caches appInstances' answer per app until an instance of
	// the app is added or removed (state changes keep the order), so the
	// planner, the launch queue and the API do not sort every time.
	sorted map[app.PathID][]*Instance
	known  map[string]bool // instance nodes that exist in coord

	limiter     *deploy.RateLimiter
	stats       map[app.PathID]*placement.Stats
	queueSince  map[app.PathID]time.Time
	lastFailure map[app.PathID]*taskFailure
	agents      map[string]placement.Instance // where agents are, learnt from offers

	frameworkID  string
	subscribed   bool
	suppressed   bool
	declinedIdle bool // offers were declined with the long filter
	// newDemand: instances were scheduled since the last offer round;
	// reviving clears the filters of offers declined before.
	newDemand bool
	lastStamp time.Time
	newID     func() string

	// lastKill is when a kill was last sent per task; kills are resent
	// until the task ends (a kill sent while disconnected is lost).
	lastKill map[string]time.Time

	// Status batches drive the deployments through driveSoon (updates.go):
	// when the last pass ended, what it cost, and a pass put off.
	lastDrive  time.Time
	driveCost  time.Duration
	driveDue   bool
	driveTimer *time.Timer

	// Readiness probes (readiness.go): in flight, last started, results.
	probing   map[string]bool
	lastProbe map[string]time.Time
	readiness map[string]deploy.ReadinessCheckResult
	probes    sync.WaitGroup
}

// taskFailure is an app's lastTaskFailure.
type taskFailure struct {
	AppID     string `json:"appId"`
	Host      string `json:"host"`
	Message   string `json:"message"`
	State     string `json:"state"`
	TaskID    string `json:"taskId"`
	Timestamp string `json:"timestamp"`
	Version   string `json:"version"`
	SlaveID   string `json:"slaveId"`
}

// lead runs one term: load the state, subscribe as the framework with the
// stored framework ID, and serve events and ticks until the term or ctx
// ends. It returns an error only for what should stop the daemon (the
// master refusing the framework for good).
func (s *Server) lead(ctx context.Context, term *coord.Term, opts client.Options) error {
	s.elected.Store(true)
	defer s.elected.Store(false)
	lctx, cancel := context.WithCancel(term.Context())
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	s.log.Info("marathon elected leader", "node", term.Node())

	var l *loaded
	for attempt := 0; ; attempt++ {
		var err error
		if l, err = load(lctx, term.Store()); err == nil {
			break
		}
		s.log.Error("load state; retrying", "err", err)
		select {
		case <-lctx.Done():
			return nil
		case <-time.After(min(time.Duration(attempt+1)*time.Second, 10*time.Second)):
		}
	}
	st := &leaderState{ctx: lctx, store: term.Store(), root: l.root, versions: l.versions,
		deployments: map[string]*deployment{}, instances: map[string]*Instance{},
		byApp: map[app.PathID]map[string]*Instance{}, known: map[string]bool{},
		limiter: deploy.NewRateLimiter(), stats: map[app.PathID]*placement.Stats{},
		queueSince: map[app.PathID]time.Time{}, lastFailure: map[app.PathID]*taskFailure{},
		agents: map[string]placement.Instance{}, frameworkID: l.frameworkID,
		newID:    deploy.NewIDSource(uint64(time.Now().UnixNano())),
		lastKill: map[string]time.Time{},
		probing:  map[string]bool{}, lastProbe: map[string]time.Time{}, readiness: map[string]deploy.ReadinessCheckResult{}}
	st.driveTimer = time.NewTimer(time.Hour)
	st.driveTimer.Stop()
	defer st.driveTimer.Stop()
	// Probes end with the term; wait for them before the next one.
	defer st.probes.Wait()
	defer cancel()
	for _, d := range l.deployments {
		st.deployments[d.Plan.ID] = d
	}
	// Versions must grow across leaders even if this host's clock is
	// behind the last leader's: the newest stored version is current.
	for _, a := range st.root.Flatten() {
		if v, err := app.ParseVersion(a.Version); err == nil && v.After(st.lastStamp) {
			st.lastStamp = v
		}
	}
	for _, f := range l.failures {
		st.lastFailure[app.PathID(f.AppID)] = f
	}
	for _, i := range l.instances {
		st.add(i)
		st.known[i.TaskID] = true
	}

	failover := s.cfg.FailoverTimeout.Seconds()
	checkpoint := true
	info := &mesos.FrameworkInfo{User: s.cfg.User, Name: s.cfg.FrameworkName, ID: mesos.FrameworkID(l.frameworkID),
		FailoverTimeout: &failover, Checkpoint: &checkpoint, Role: s.cfg.MesosRole, Hostname: s.cfg.Hostname,
		WebUIURL: s.base, Capabilities: []mesos.FrameworkCapability{
			{Type: mesos.FrameworkCapabilityPartitionAware}, {Type: mesos.FrameworkCapabilityTaskKillingState}}}
	if s.cfg.Credential != nil {
		info.Principal = s.cfg.Credential.Principal
	}
	sched, err := client.NewScheduler(client.SchedulerConfig{Options: opts, Framework: info})
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	st.sched = sched
	schedErr := make(chan error, 1)
	go func() { schedErr <- sched.Run(lctx) }()
	// Closing the client ends the event reader; the ack workers end with
	// the term (both deferred calls run before these waits).
	queue := pumpEvents(sched.Events())
	defer queue.wait()
	st.acks = startAcker(lctx, sched, s.log)
	defer st.acks.wait()
	defer cancel()
	defer sched.Close()

	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.st = nil
		s.mu.Unlock()
		s.log.Info("marathon leadership ended", "cause", context.Cause(lctx))
	}()

	tick := time.NewTicker(s.cfg.TickInterval)
	defer tick.Stop()
	recon := time.NewTicker(s.cfg.ReconciliationInterval)
	defer recon.Stop()
	ready := queue.ready
	for {
		select {
		case <-lctx.Done():
			return nil
		case <-s.abdicate:
			s.log.Info("abdicating leadership")
			return errAbdicated
		case err := <-schedErr:
			if lctx.Err() != nil {
				return nil
			}
			var fe *client.FrameworkError
			switch {
			case err == nil:
				s.forgetFramework(st)
				return errors.New("the framework was torn down; restart marathon to register anew")
			case errors.As(err, &fe):
				if strings.Contains(strings.ToLower(fe.Message), "removed") {
					s.forgetFramework(st)
				}
				return fmt.Errorf("master ended the framework: %w", err)
			}
			return fmt.Errorf("scheduler connection: %w", err)
		case <-ready:
			evs, open := queue.take(maxBatch)
			if !open {
				ready = nil
			}
			s.mu.Lock()
			s.handleBatch(st, evs)
			s.mu.Unlock()
		case <-st.driveTimer.C:
			s.mu.Lock()
			s.drivePending(st)
			s.mu.Unlock()
		case <-tick.C:
			s.mu.Lock()
			s.tick(st, time.Now())
			s.mu.Unlock()
		case <-recon.C:
			s.mu.Lock()
			s.reconcile(st)
			s.mu.Unlock()
		}
	}
}

// maxBatch bounds the events handled under one hold of s.mu, so the API
// and the ticks get their turn while a large backlog is worked off.
const maxBatch = 4096

// forgetFramework deletes the stored framework ID of a framework the
// master removed, so the next start registers a new one instead of being
// refused for good. Its tasks are gone with it: so are the instances.
func (s *Server) forgetFramework(st *leaderState) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.store.Delete(ctx, frameworkIDKey, coord.Any); err != nil && !errors.Is(err, coord.ErrNotFound) {
		s.log.Error("forget the removed framework", "id", st.frameworkID, "err", err)
		return
	}
	var ops []coord.Op
	for id := range st.known {
		ops = append(ops, coord.DeleteOp(instancesDir+"/"+id, coord.Any))
	}
	if err := commit(ctx, st.store, ops); err != nil {
		s.log.Error("forget the removed framework", "id", st.frameworkID, "err", err)
		return
	}
	s.log.Warn("the master removed the framework; its id and instances are forgotten", "id", st.frameworkID)
}

// add indexes an instance.
func (st *leaderState) add(i *Instance) {
	st.instances[i.TaskID] = i
	m := st.byApp[i.AppID]
	if m == nil {
		m = map[string]*Instance{}
		st.byApp[i.AppID] = m
	}
	m[i.TaskID] = i
	delete(st.sorted, i.AppID)
}

// remove forgets an instance.
func (st *leaderState) remove(i *Instance) {
	delete(st.instances, i.TaskID)
	delete(st.sorted, i.AppID)
	if m := st.byApp[i.AppID]; m != nil {
		delete(m, i.TaskID)
		if len(m) == 0 {
			delete(st.byApp, i.AppID)
		}
	}
}

// appInstances lists an app's instances, ordered by task id. The slice is
// shared (cached until the app's instances change): callers must not
// modify it, and may keep iterating it while they add or remove instances.
func (st *leaderState) appInstances(id app.PathID) []*Instance {
	if out, ok := st.sorted[id]; ok {
		return out
	}
	m := st.byApp[id]
	out := make([]*Instance, 0, len(m))
	for _, i := range m {
		out = append(out, i)
	}
	sortInstances(out)
	if st.sorted == nil {
		st.sorted = map[app.PathID][]*Instance{}
	}
	st.sorted[id] = out
	return out
}

// stamp returns a version instant later than every one handed out before,
// so two changes in the same millisecond still get distinct versions.
func (st *leaderState) stamp(now time.Time) time.Time {
	now = now.UTC().Truncate(time.Millisecond)
	if !now.After(st.lastStamp) {
		now = st.lastStamp.Add(time.Millisecond)
	}
	st.lastStamp = now
	return now
}

// opCtx bounds one coord or master call made on behalf of the leader.
func (st *leaderState) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(st.ctx, 15*time.Second)
}
