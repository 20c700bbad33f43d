// Package simagent is a simulated agent for tests and benchmarks of the
// master and the frameworks above it (master's tests, marathon/bench): it
// speaks the agent API (mesos/agentapi.go) over real HTTP like a real
// agent, but runs no processes, so a thousand of them fit in one process.
// A task it is given turns TASK_RUNNING at once (after TASK_STARTING with
// Config.Starting, as a real agent reports it) and TASK_FINISHED after
// Config.RunFor (never, when RunFor is 0); a kill makes it TASK_KILLED.
// Updates are resent, with backoff, until the master acknowledges them,
// and after a reconnection the agent resubscribes with its ID and live
// tasks, following the leader among Config.Masters.
package simagent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/mesos/recordio"
)

// Config configures a simulated agent.
type Config struct {
	Masters   []string // base URLs, http://host:port; tried in turn
	Hostname  string
	Resources string        // Mesos syntax, e.g. "cpus:4;mem:4096"
	RunFor    time.Duration // how long tasks run; 0: until killed
	// Starting reports TASK_STARTING before TASK_RUNNING, as a real
	// agent's executor does (one more update per task).
	Starting bool
	// Client carries the agent's HTTP calls (nil: a client on
	// http.DefaultTransport). Many agents in one process should share a
	// client whose transport keeps enough idle connections per host
	// (see NewClient), or every update opens a new connection.
	Client *http.Client
	Logger *slog.Logger
}

// NewClient is an HTTP client for n agents talking to the same masters:
// its transport keeps up to 2n idle connections per host (a subscription
// and an in-flight call for each agent), so updates reuse connections
// instead of exhausting ephemeral ports.
func NewClient(n int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0 // no limit overall
	tr.MaxIdleConnsPerHost = max(2*n, 2)
	return &http.Client{Transport: tr}
}

// An update unacknowledged for resendAfter is sent again, then after
// twice as long each time up to resendMax (a real agent starts at 10 s):
// a busy master and framework are not sent every update again each
// second while they catch up.
const (
	resendAfter = time.Second
	resendMax   = 10 * time.Second
)

// retry is when an unacknowledged update is due again, and how long the
// wait after that will be.
type retry struct {
	due  time.Time
	wait time.Duration
}

type simTask struct {
	fw      mesos.FrameworkID
	info    mesos.TaskInfo
	state   mesos.TaskState
	pending [][]byte // UUIDs not acknowledged yet, oldest first
	updates map[string]mesos.TaskStatus
	resend  map[string]retry // by UUID
}

// Agent is a running simulated agent.
type Agent struct {
	cfg    Config
	client *http.Client
	cancel context.CancelFunc
	done   chan struct{}
	bootID string
	events chan func()

	mu         sync.Mutex
	id         mesos.AgentID
	stream     string
	master     string
	tasks      map[string]*simTask // by framework/task
	frameworks map[mesos.FrameworkID]mesos.FrameworkInfo
	subscribed int // times SUBSCRIBED was received
}

// Start runs an agent until Close.
func Start(cfg Config) *Agent {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	client := cfg.Client
	if client == nil {
		client = &http.Client{}
	}
	a := &Agent{cfg: cfg, client: client, cancel: cancel, done: make(chan struct{}),
		bootID: randomHex(8), events: make(chan func(), 64),
		tasks: make(map[string]*simTask), frameworks: make(map[mesos.FrameworkID]mesos.FrameworkInfo)}
	go a.run(ctx)
	return a
}

// Close stops the agent and waits for it.
func (a *Agent) Close() {
	a.cancel()
	<-a.done
}

// ID is the agent's ID, "" until subscribed.
func (a *Agent) ID() mesos.AgentID {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id
}

// Subscriptions counts the SUBSCRIBED events received (1 + reregistrations).
func (a *Agent) Subscriptions() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.subscribed
}

// TaskStates returns the agent's tasks' states by task ID.
func (a *Agent) TaskStates() map[mesos.TaskID]mesos.TaskState {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[mesos.TaskID]mesos.TaskState)
	for _, t := range a.tasks {
		out[t.info.TaskID] = t.state
	}
	return out
}

// run keeps a subscription open, reconnecting to the next master when it
// ends; it owns every goroutine the agent starts.
func (a *Agent) run(ctx context.Context) {
	defer close(a.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() { // applies timer callbacks (task progress, resends) in order
		defer wg.Done()
		resend := time.NewTicker(time.Second)
		defer resend.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case f := <-a.events:
				f()
			case <-resend.C:
				a.resendPending(ctx, false)
			}
		}
	}()
	for i := 0; ctx.Err() == nil; i++ {
		master := a.cfg.Masters[i%len(a.cfg.Masters)]
		if err := a.session(ctx, master); err != nil && ctx.Err() == nil {
			a.cfg.Logger.Debug("agent session ended", "master", master, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (a *Agent) key(fw mesos.FrameworkID, id mesos.TaskID) string {
	return string(fw) + "/" + string(id)
}

// session subscribes to one master and handles its stream until it ends.
func (a *Agent) session(ctx context.Context, master string) error {
	a.mu.Lock()
	sub := &mesos.AgentSubscribe{
		AgentInfo: &mesos.AgentInfo{Hostname: a.cfg.Hostname},
		Resources: mesos.MustParseResources(a.cfg.Resources),
		AgentID:   a.id, BootID: a.bootID, Version: "simagent",
	}
	for _, k := range slices.Sorted(maps.Keys(a.tasks)) {
		t := a.tasks[k]
		if t.state.IsTerminal() {
			continue
		}
		sub.Tasks = append(sub.Tasks, mesos.Task{Name: t.info.Name, TaskID: t.info.TaskID, FrameworkID: t.fw,
			AgentID: a.id, State: t.state, Resources: t.info.Resources})
	}
	for _, id := range slices.Sorted(maps.Keys(a.frameworks)) {
		sub.Frameworks = append(sub.Frameworks, a.frameworks[id])
	}
	call := &mesos.AgentCall{Type: mesos.AgentCallSubscribe, AgentID: a.id, Subscribe: sub}
	a.mu.Unlock()
	body, _ := json.Marshal(call)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, master+"/api/v1/agent", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("subscribe: %s: %s", resp.Status, msg)
	}
	stream := resp.Header.Get("Mesos-Stream-Id")
	base := resp.Request.URL.Scheme + "://" + resp.Request.URL.Host // after redirects
	r := recordio.NewReader(resp.Body, 0)
	for {
		var ev mesos.AgentEvent
		if err := r.Decode(&ev); err != nil {
			return err
		}
		a.handle(ctx, base, stream, &ev)
	}
}

func (a *Agent) handle(ctx context.Context, master, stream string, ev *mesos.AgentEvent) {
	switch ev.Type {
	case mesos.AgentEventSubscribed:
		a.mu.Lock()
		a.id = ev.Subscribed.AgentID
		a.stream, a.master = stream, master
		a.subscribed++
		a.mu.Unlock()
		a.resendPending(ctx, true)
	case mesos.AgentEventPing:
		a.post(ctx, &mesos.AgentCall{Type: mesos.AgentCallPong, AgentID: a.ID()})
	case mesos.AgentEventRunTask:
		a.start(ctx, ev.RunTask.FrameworkInfo, ev.RunTask.Task)
	case mesos.AgentEventRunTaskGroup:
		for i := range ev.RunTaskGroup.TaskGroup.Tasks {
			a.start(ctx, ev.RunTaskGroup.FrameworkInfo, &ev.RunTaskGroup.TaskGroup.Tasks[i])
		}
	case mesos.AgentEventKillTask:
		a.mu.Lock()
		t := a.tasks[a.key(ev.KillTask.FrameworkID, ev.KillTask.TaskID)]
		a.mu.Unlock()
		if t != nil && !a.terminal(t) {
			a.update(ctx, t, mesos.TaskKilled)
		}
	case mesos.AgentEventShutdownFramework:
		a.mu.Lock()
		var kill []*simTask
		for _, t := range a.tasks {
			if t.fw == ev.ShutdownFramework.FrameworkID && !t.state.IsTerminal() {
				kill = append(kill, t)
			}
		}
		a.mu.Unlock()
		for _, t := range kill {
			a.update(ctx, t, mesos.TaskKilled)
		}
	case mesos.AgentEventAcknowledge:
		ack := ev.Acknowledge
		a.mu.Lock()
		k := a.key(ack.FrameworkID, ack.TaskID)
		if t := a.tasks[k]; t != nil {
			t.pending = slices.DeleteFunc(t.pending, func(u []byte) bool { return bytes.Equal(u, ack.UUID) })
			delete(t.updates, string(ack.UUID))
			delete(t.resend, string(ack.UUID))
			if t.state.IsTerminal() && len(t.pending) == 0 {
				delete(a.tasks, k)
			}
		}
		a.mu.Unlock()
	}
}

// start "launches" a task: RUNNING now, FINISHED after RunFor.
func (a *Agent) start(ctx context.Context, fi *mesos.FrameworkInfo, ti *mesos.TaskInfo) {
	a.mu.Lock()
	fw := fi.ID
	a.frameworks[fw] = *fi
	t := &simTask{fw: fw, info: *ti, state: mesos.TaskStaging, updates: make(map[string]mesos.TaskStatus),
		resend: make(map[string]retry)}
	a.tasks[a.key(fw, ti.TaskID)] = t
	a.mu.Unlock()
	if a.cfg.Starting {
		a.update(ctx, t, mesos.TaskStarting)
	}
	a.update(ctx, t, mesos.TaskRunning)
	if a.cfg.RunFor > 0 {
		time.AfterFunc(a.cfg.RunFor, func() {
			select {
			case a.events <- func() {
				if !a.terminal(t) {
					a.update(ctx, t, mesos.TaskFinished)
				}
			}:
			case <-ctx.Done():
			}
		})
	}
}

func (a *Agent) terminal(t *simTask) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return t.state.IsTerminal()
}

// update moves a task to state and sends the update (kept until acked).
func (a *Agent) update(ctx context.Context, t *simTask, st mesos.TaskState) {
	a.mu.Lock()
	u := make([]byte, 16)
	_, _ = rand.Read(u)
	status := mesos.TaskStatus{TaskID: t.info.TaskID, State: st, Source: mesos.SourceExecutor, AgentID: a.id,
		UUID: u, Timestamp: float64(time.Now().UnixNano()) / 1e9}
	t.state = st
	t.pending = append(t.pending, u)
	t.updates[string(u)] = status
	t.resend[string(u)] = retry{due: time.Now().Add(resendAfter), wait: 2 * resendAfter}
	fw := t.fw
	a.mu.Unlock()
	a.post(ctx, &mesos.AgentCall{Type: mesos.AgentCallUpdate, AgentID: status.AgentID,
		Update: &mesos.AgentUpdate{FrameworkID: fw, Status: &status}})
}

// resendPending resends every unacknowledged update that is due, or every
// one at all when fresh is set (after a resubscription, when the
// new master has seen none of them).
func (a *Agent) resendPending(ctx context.Context, fresh bool) {
	a.mu.Lock()
	var calls []*mesos.AgentCall
	now := time.Now()
	for _, k := range slices.Sorted(maps.Keys(a.tasks)) {
		t := a.tasks[k]
		for _, u := range t.pending {
			r := t.resend[string(u)]
			if !fresh && now.Before(r.due) {
				continue
			}
			t.resend[string(u)] = retry{due: now.Add(r.wait), wait: min(2*r.wait, resendMax)}
			st := t.updates[string(u)]
			st.AgentID = a.id
			calls = append(calls, &mesos.AgentCall{Type: mesos.AgentCallUpdate, AgentID: a.id,
				Update: &mesos.AgentUpdate{FrameworkID: t.fw, Status: &st}})
		}
	}
	a.mu.Unlock()
	for _, c := range calls {
		a.post(ctx, c)
	}
}

// post sends a call on the current stream's behalf; failures are left to
// the resend and reconnect logic.
func (a *Agent) post(ctx context.Context, call *mesos.AgentCall) {
	a.mu.Lock()
	master, stream := a.master, a.stream
	a.mu.Unlock()
	if master == "" || call.AgentID == "" {
		return
	}
	body, _ := json.Marshal(call)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, master+"/api/v1/agent", bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mesos-Stream-Id", stream)
	resp, err := a.client.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		a.cfg.Logger.Debug("agent call refused", "type", call.Type, "status", resp.Status)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
