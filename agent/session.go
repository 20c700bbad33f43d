package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/mesos/recordio"
)

// leaderGroup is where masters elect their leader under the coord chroot
// (master.LeaderGroup; not imported, so the agent does not link the master).
const leaderGroup = "master/leader"

// follow keeps a subscription with the leading master: it learns the
// leader from coord (zk://) or uses the one URL it was given (a standby
// redirects), subscribes, and starts over when the stream ends or the
// leader changes.
func (a *Agent) follow(ctx context.Context) {
	leaders := make(chan string, 1)
	if strings.HasPrefix(a.cfg.Master, "zk://") {
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Add(1)
		go func() { defer wg.Done(); a.watchLeader(ctx, leaders) }() // ends with ctx; closes leaders
	} else {
		leaders <- a.cfg.Master
	}
	current := ""
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if current == "" {
			select {
			case <-ctx.Done():
				return
			case l, ok := <-leaders:
				if !ok {
					return
				}
				current = l
				continue
			}
		}
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func(master string) { done <- a.session(sctx, master) }(current)
		var err error
		changed := false
	wait:
		for {
			select {
			case err = <-done:
				break wait
			case l, ok := <-leaders:
				if !ok {
					cancel()
					<-done
					return
				}
				if l != current {
					a.log.Info("the leading master changed", "from", current, "to", l)
					current, changed = l, true
					cancel()
				}
			}
		}
		cancel()
		a.exec(ctx, func() { a.master = ""; a.out.target("", "") })
		if ctx.Err() != nil {
			return
		}
		if changed {
			backoff = 100 * time.Millisecond
			continue
		}
		if errors.Is(err, errResubscribe) {
			continue
		}
		if se, ok := err.(*sessionError); ok && se.subscribed {
			backoff = 100 * time.Millisecond
		}
		a.log.Warn("master subscription ended; resubscribing", "master", current, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// watchLeader sends the leading master's URL ("" when none is known) on
// out whenever it changes, until ctx ends.
func (a *Agent) watchLeader(ctx context.Context, out chan<- string) {
	defer close(out)
	u, _ := coord.ParseURL(a.cfg.Master) // checked by defaults
	var sess *coord.Session
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		var err error
		sess, err = coord.Dial(ctx, coord.Config{URL: u, SessionTimeout: a.cfg.SessionTimeout, Logger: a.log, TLS: a.cfg.ZKTLS})
		if err == nil {
			break
		}
		a.log.Warn("coord unreachable; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	defer sess.Close()
	ch, err := sess.WatchLeader(ctx, leaderGroup)
	if err != nil {
		a.log.Error("watch the leading master", "err", err)
		return
	}
	last := "-"
	for l := range ch {
		url := ""
		if l.Node != "" {
			url, err = client.MasterInfoURL(l.Info, a.masterScheme())
			if err != nil {
				a.log.Warn("unreadable leader info", "node", l.Node, "err", err)
				url = ""
			}
		}
		if url == last || url == "" {
			continue // "no leader" keeps the current session until it fails
		}
		last = url
		select {
		case out <- url:
		case <-ctx.Done():
			return
		}
	}
}

type sessionError struct {
	subscribed bool
	err        error
}

func (e *sessionError) Error() string { return e.err.Error() }
func (e *sessionError) Unwrap() error { return e.err }

// session subscribes to master and handles its stream until it ends.
func (a *Agent) session(ctx context.Context, master string) error {
	var call *mesos.AgentCall
	if !a.exec(ctx, func() { call = a.subscribeCall() }) {
		return &sessionError{err: ctx.Err()}
	}
	body, err := json.Marshal(call)
	if err != nil {
		return &sessionError{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, master+"/api/v1/agent", bytes.NewReader(body))
	if err != nil {
		return &sessionError{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.mhttp.Do(req)
	if err != nil {
		return &sessionError{err: fmt.Errorf("subscribe to %s: %w", master, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &sessionError{err: fmt.Errorf("subscribe to %s: %s: %s", master, resp.Status, bytes.TrimSpace(msg))}
	}
	stream := resp.Header.Get("Mesos-Stream-Id")
	base := resp.Request.URL.Scheme + "://" + resp.Request.URL.Host // after redirects

	// A stream that stays silent past a few heartbeats is dead (a master
	// that vanished without closing the connection).
	silence := 45 * time.Second
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchdog := time.AfterFunc(silence, cancel)
	defer watchdog.Stop()
	go func() { <-sctx.Done(); resp.Body.Close() }()

	r := recordio.NewReader(resp.Body, 0)
	subscribed := false
	for {
		var ev mesos.AgentEvent
		if err := r.Decode(&ev); err != nil {
			if sctx.Err() != nil && ctx.Err() == nil {
				err = fmt.Errorf("no event from %s for %s", base, silence)
			}
			return &sessionError{subscribed: subscribed, err: err}
		}
		if ev.Type == mesos.AgentEventSubscribed && ev.Subscribed != nil {
			subscribed = true
			if hb := ev.Subscribed.HeartbeatIntervalSeconds; hb > 0 {
				silence = max(time.Duration(hb*3*float64(time.Second)), 5*time.Second)
			}
		}
		watchdog.Reset(silence)
		resubscribe := false
		if !a.exec(ctx, func() { resubscribe = a.onEvent(ctx, base, stream, &ev) }) {
			return &sessionError{subscribed: subscribed, err: ctx.Err()}
		}
		if resubscribe {
			return &sessionError{subscribed: subscribed, err: errResubscribe}
		}
	}
}

// subscribeCall is SUBSCRIBE with everything a master (perhaps a new
// leader) needs: the agent's ID, resources, and the tasks it runs or has
// unacknowledged updates for, with their frameworks.
func (a *Agent) subscribeCall() *mesos.AgentCall {
	port := int32(a.tcp.Addr().(*net.TCPAddr).Port)
	sub := &mesos.AgentSubscribe{
		AgentInfo: &mesos.AgentInfo{Hostname: a.cfg.Hostname, Port: &port, Resources: a.total, Attributes: a.attrs},
		Resources: a.total, AgentID: a.id, BootID: a.boot, Version: a.cfg.Version,
		Capabilities: []mesos.AgentCapability{{Type: mesos.AgentCapabilityMultiRole}, {Type: mesos.AgentCapabilityHierarchicalRole},
			{Type: mesos.AgentCapabilityAgentDraining}},
	}
	fws := map[mesos.FrameworkID]bool{}
	for _, c := range slices.Sorted(maps.Keys(a.tasks)) {
		t := a.tasks[c]
		if a.id == "" || (t.State.IsTerminal() && len(t.Pending) == 0) {
			continue
		}
		state := t.State
		if a.reportLive[c] {
			state = mesos.TaskStaging
			if t.Launched {
				state = mesos.TaskRunning
			}
		}
		sub.Tasks = append(sub.Tasks, mesos.Task{Name: t.Task.Name, TaskID: t.Task.TaskID, FrameworkID: t.FrameworkID,
			ExecutorID: executorID(t), AgentID: a.id, State: state, Resources: t.Task.Resources,
			Labels: t.Task.Labels, Discovery: t.Task.Discovery, KillPolicy: t.Task.KillPolicy, HealthCheck: t.Task.HealthCheck})
		fws[t.FrameworkID] = true
	}
	for _, id := range slices.Sorted(maps.Keys(fws)) {
		if fi, ok := a.frameworks[id]; ok {
			sub.Frameworks = append(sub.Frameworks, fi)
		}
	}
	return &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: a.id, Subscribe: sub}
}

// errResubscribe ends a session so that the agent subscribes again at once.
var errResubscribe = errors.New("resubscribing to report tasks that ended while the master changed")

// onEvent handles one event of the master's stream (on the loop); true
// asks the session to subscribe again.
func (a *Agent) onEvent(ctx context.Context, master, stream string, ev *mesos.AgentEvent) bool {
	switch ev.Type {
	case mesos.AgentEventSubscribed:
		id := ev.Subscribed.AgentID
		if a.id != id {
			if a.id != "" {
				a.log.Warn("the master gave this agent a new ID", "old", a.id, "new", id)
			}
			a.id = id
			a.saveAgentLocked()
		}
		if a.resubscribeForNewMaster(ev.Subscribed.MasterInfo) {
			return true
		}
		a.master = master
		a.subscribed++
		a.out.target(master, stream)
		a.log.Info("subscribed", "agent_id", id, "master", master)
		a.resendAll()
		a.resumeDrain(ctx)
	case mesos.AgentEventPing:
		a.out.send(&mesos.AgentCall{Type: mesos.AgentCallPong, AgentID: a.id})
	case mesos.AgentEventRunTask:
		if !a.dropWhileDraining(ev.RunTask.FrameworkInfo, ev.RunTask.Task) {
			a.runTask(ctx, ev.RunTask.FrameworkInfo, ev.RunTask.Task)
		}
	case mesos.AgentEventDrain:
		a.onDrain(ctx, ev.Drain)
	case mesos.AgentEventRunTaskGroup:
		g := ev.RunTaskGroup
		for i := range g.TaskGroup.Tasks {
			a.rejectTask(g.FrameworkInfo, &g.TaskGroup.Tasks[i], mesos.ReasonTaskGroupInvalid,
				"task groups (LAUNCH_GROUP) are not supported by this agent yet")
		}
	case mesos.AgentEventKillTask:
		k := ev.KillTask
		a.killTask(ctx, k.FrameworkID, k.TaskID, k.KillPolicy)
	case mesos.AgentEventShutdownFramework:
		a.shutdownFramework(ctx, ev.ShutdownFramework.FrameworkID)
	case mesos.AgentEventAcknowledge:
		ack := ev.Acknowledge
		a.acknowledge(ctx, ack.FrameworkID, ack.TaskID, ack.UUID)
	case mesos.AgentEventMessage:
		a.log.Debug("framework message dropped: tasks run without executors", "framework", ev.Message.FrameworkID)
	default:
		a.log.Debug("unknown agent event ignored", "type", ev.Type)
	}
	return false
}

// resubscribeForNewMaster handles a subscription to a master other than
// the previous one. A task that ended while the agent could not tell the
// master is reported with its terminal state, which suits the master that
// knew it running; a new master, though, only adopts live tasks and
// acknowledges updates of tasks it does not know, so the framework would
// never hear of the end. For that case the agent subscribes once more,
// reporting those tasks live, and then sends their terminal updates.
func (a *Agent) resubscribeForNewMaster(mi *mesos.MasterInfo) bool {
	if a.reportLive != nil { // this is the second subscription
		a.reportLive = nil
		return false
	}
	if mi == nil || mi.ID == "" || mi.ID == a.masterID {
		return false
	}
	previous := a.masterID
	a.masterID = mi.ID
	a.saveAgentLocked()
	if previous == "" {
		return false
	}
	live := map[string]bool{}
	for c, t := range a.tasks {
		if t.State.IsTerminal() && len(t.Pending) > 0 && t.Pending[len(t.Pending)-1].State == t.State {
			live[c] = true
		}
	}
	if len(live) == 0 {
		return false
	}
	a.reportLive = live
	a.log.Info("a new master: subscribing again to report the tasks that ended meanwhile", "master_id", mi.ID, "tasks", len(live))
	return true
}
