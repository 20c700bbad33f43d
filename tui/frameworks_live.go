package tui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// The live sources behind the Apps and Jobs views. Each owns one
// goroutine that finds the framework (through the master, retrying until
// it registers), reads it, and publishes an immutable snapshot; the
// dashboards (one per SSH session, or the terminal's) only read the
// latest snapshot, so one source serves them all.
//
// Marathon is followed through its /v2/events stream: an event (a
// deployment step, a status update, an instance change…) makes the
// source read apps, deployments and the queue again. The stream
// reconnects by itself and the status line says so; a slow safety read
// (SafetyEvery) covers anything the stream missed. Chronos has no event
// stream, so its source polls (PollEvery) and reads again right after an
// action.

// Resolver finds a framework's API (client.ResolveFramework through the
// master, or an address given on the command line). It is called again
// until it succeeds.
type Resolver func(ctx context.Context) (*client.FrameworkEndpoint, error)

// sourceCore is what both sources share: the endpoint lookup, the
// snapshot lock, the kick channel and the goroutine's lifetime.
type sourceCore struct {
	resolve Resolver
	kick    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}

	mu      sync.Mutex
	version uint64
	status  FrameworkStatus
}

func newSourceCore(resolve Resolver) sourceCore {
	return sourceCore{resolve: resolve, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// refresh asks for a read now; kicks coalesce.
func (c *sourceCore) refresh() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// wait sleeps d or until ctx ends; false when it ended.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// find resolves the endpoint, retrying every 2 s (the framework may not
// have registered yet), and reports each failure in the status.
func (c *sourceCore) find(ctx context.Context, publish func(func(*FrameworkStatus))) *client.FrameworkEndpoint {
	for {
		ep, err := c.resolve(ctx)
		if err == nil {
			publish(func(st *FrameworkStatus) { st.Where, st.Err = ep.Display, nil })
			return ep
		}
		publish(func(st *FrameworkStatus) { st.Err = err })
		if !wait(ctx, 2*time.Second) {
			return nil
		}
	}
}

// MarathonSource is marathon for the Apps view (an AppsSource).
type MarathonSource struct {
	sourceCore
	// SafetyEvery is the slow read that covers events the stream missed.
	safety time.Duration

	cli  *client.Marathon // set once found; under mu
	snap *AppsSnapshot    // under mu

	streamUp   bool
	streamDown time.Time
	readErr    error
}

// StartMarathon starts following marathon; Close stops it. safety is
// the slow read kept beside the event stream (≤ 0: 30 s).
func StartMarathon(resolve Resolver, safety time.Duration) *MarathonSource {
	if safety <= 0 {
		safety = 30 * time.Second
	}
	s := &MarathonSource{sourceCore: newSourceCore(resolve), safety: safety}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(ctx)
	return s
}

// Close stops the source and waits for its goroutines.
func (s *MarathonSource) Close() { s.cancel(); <-s.done }

// Apps is the latest snapshot (never nil).
func (s *MarathonSource) Apps() *AppsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap == nil {
		return &AppsSnapshot{Version: s.version, Status: s.status}
	}
	return s.snap
}

// publish applies f to the status and (when data is non-nil) replaces
// the data, under the lock, as a new snapshot.
func (s *MarathonSource) publish(f func(*FrameworkStatus), data *AppsSnapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f != nil {
		f(&s.status)
	}
	s.status.Live = s.streamUp && s.readErr == nil
	s.version++
	next := &AppsSnapshot{}
	if s.snap != nil {
		*next = *s.snap
	}
	if data != nil {
		next.Apps, next.Raw, next.Deployments, next.Queue, next.At = data.Apps, data.Raw, data.Deployments, data.Queue, data.At
	}
	next.Version, next.Status = s.version, s.status
	s.snap = next
}

func (s *MarathonSource) run(ctx context.Context) {
	defer close(s.done)
	ep := s.find(ctx, func(f func(*FrameworkStatus)) { s.publish(f, nil) })
	if ep == nil {
		return
	}
	cli, err := client.NewMarathon(ep.URL, ep.Options)
	if err != nil {
		s.publish(func(st *FrameworkStatus) { st.Err = err }, nil)
		return
	}
	defer cli.Close()
	s.mu.Lock()
	s.cli = cli
	s.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() { defer wg.Done(); s.events(ctx, ep) }() // ends with ctx
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
		s.read(ctx, cli)
		t.Reset(s.safety)
	}
}

func (s *MarathonSource) read(ctx context.Context, cli *client.Marathon) {
	apps, err := cli.Apps(ctx)
	var deps client.Doc[[]client.MarathonDeployment]
	var queue client.Doc[client.MarathonQueue]
	if err == nil {
		deps, err = cli.Deployments(ctx)
	}
	if err == nil {
		queue, err = cli.Queue(ctx)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.publish(func(st *FrameworkStatus) { s.readErr, st.Err = err, err }, nil)
		}
		return
	}
	raw := map[string]json.RawMessage{}
	var doc struct {
		Apps []json.RawMessage `json:"apps"`
	}
	if json.Unmarshal(apps.Raw, &doc) == nil && len(doc.Apps) == len(apps.Value.Apps) {
		for i, a := range apps.Value.Apps {
			raw[a.ID] = doc.Apps[i]
		}
	}
	s.publish(func(st *FrameworkStatus) { s.readErr, st.Err = nil, nil }, &AppsSnapshot{At: time.Now(),
		Apps: apps.Value.Apps, Raw: raw, Deployments: deps.Value, Queue: queue.Value.Queue})
}

// events follows /v2/events until ctx ends, reconnecting with a growing
// pause (1 s to 10 s) and saying so.
func (s *MarathonSource) events(ctx context.Context, ep *client.FrameworkEndpoint) {
	hc, base, err := sseClient(ep)
	if err != nil {
		s.publish(func(st *FrameworkStatus) { st.Err = err }, nil)
		return
	}
	defer hc.CloseIdleConnections()
	pause := time.Second
	for ctx.Err() == nil {
		err := streamEvents(ctx, hc, base+"/v2/events", func() {
			s.publish(func(st *FrameworkStatus) {
				s.streamUp, st.Note = true, "events"
				if !s.streamDown.IsZero() {
					st.Note = "event stream reconnected after " + shortDuration(time.Since(s.streamDown))
				}
				s.streamDown = time.Time{}
			}, nil)
			pause = time.Second
			s.refresh() // whatever happened while it was down
		}, s.refresh)
		if ctx.Err() != nil {
			return
		}
		s.publish(func(st *FrameworkStatus) {
			s.streamUp, st.Err = false, fmt.Errorf("marathon event stream: %w", err)
			if s.streamDown.IsZero() {
				s.streamDown = time.Now()
			}
		}, nil)
		if !wait(ctx, pause) {
			return
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// sseClient is a plain HTTP client over the endpoint's dialer (ssh when
// the master is reached that way, a Unix socket for unix://): the typed
// client has no general event stream, and the stream must not time out.
func sseClient(ep *client.FrameworkEndpoint) (*http.Client, string, error) {
	tr := &http.Transport{DialContext: ep.Options.DialContext, TLSClientConfig: ep.Options.TLSConfig,
		ResponseHeaderTimeout: 30 * time.Second}
	base := strings.TrimRight(ep.URL, "/")
	switch {
	case strings.HasPrefix(base, "unix://"):
		path := strings.TrimPrefix(base, "unix://")
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		base = "http://unix"
	case !strings.Contains(base, "://"):
		base = "http://" + base
	}
	return &http.Client{Transport: tr}, base, nil
}

// streamEvents reads one SSE connection: opened is called once the
// stream answers, changed for every event other than subscribers coming
// and going. It returns why the stream ended.
func streamEvents(ctx context.Context, hc *http.Client, url string, opened, changed func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	opened()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue
		}
		var ev struct {
			EventType string `json:"eventType"`
		}
		if json.Unmarshal(bytes.TrimSpace(data), &ev) != nil {
			continue
		}
		switch ev.EventType {
		case "event_stream_attached", "event_stream_detached":
		default:
			changed()
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("marathon ended the stream")
}

var errNotFound = errors.New("not found yet (still looking through the master)")

func (s *MarathonSource) client() (*client.Marathon, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cli == nil {
		return nil, fmt.Errorf("marathon: %w", errNotFound)
	}
	return s.cli, nil
}

// after re-reads once an action was accepted (events will follow too).
func (s *MarathonSource) after(_ client.DeploymentResult, err error) error {
	if err == nil {
		s.refresh()
	}
	return err
}

func (s *MarathonSource) Scale(ctx context.Context, id string, n int) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return s.after(c.Scale(ctx, id, n, false))
}

func (s *MarathonSource) Restart(ctx context.Context, id string) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return s.after(c.Restart(ctx, id, false))
}

func (s *MarathonSource) Destroy(ctx context.Context, id string) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return s.after(c.DeleteApp(ctx, id, false))
}

// Deploy sends an app, an array of apps, or a group.
func (s *MarathonSource) Deploy(ctx context.Context, def []byte) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	switch t := bytes.TrimSpace(def); {
	case client.IsGroup(def):
		return s.after(c.PutGroup(ctx, def, false))
	case len(t) > 0 && t[0] == '[':
		return s.after(c.PutApps(ctx, def, false))
	}
	return s.after(c.PutApp(ctx, def, false))
}

// KillTask kills a marathon task by its app (from the task id).
func (s *MarathonSource) KillTask(ctx context.Context, t *mesos.Task) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	app, ok := client.TaskApp(string(t.TaskID))
	if !ok {
		return fmt.Errorf("kill task %s: not a marathon task id (want <app>.<uuid>)", t.TaskID)
	}
	err = c.KillTask(ctx, app, string(t.TaskID), false)
	if err == nil {
		s.refresh()
	}
	return err
}

// ChronosSource is chronos for the Jobs view (a JobsSource).
type ChronosSource struct {
	sourceCore
	every time.Duration
	cli   *client.Chronos // under mu
	snap  *JobsSnapshot   // under mu
	down  time.Time
}

// maxHistoryJobs bounds the per-job history reads of one poll.
const maxHistoryJobs = 200

// StartChronos starts polling chronos every every (≤ 0: 2 s); Close
// stops it.
func StartChronos(resolve Resolver, every time.Duration) *ChronosSource {
	if every <= 0 {
		every = 2 * time.Second
	}
	s := &ChronosSource{sourceCore: newSourceCore(resolve), every: every}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(ctx)
	return s
}

// Close stops the source and waits for it.
func (s *ChronosSource) Close() { s.cancel(); <-s.done }

// Jobs is the latest snapshot (never nil).
func (s *ChronosSource) Jobs() *JobsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap == nil {
		return &JobsSnapshot{Version: s.version, Status: s.status}
	}
	return s.snap
}

func (s *ChronosSource) publish(f func(*FrameworkStatus), data *JobsSnapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f != nil {
		f(&s.status)
	}
	s.version++
	next := &JobsSnapshot{}
	if s.snap != nil {
		*next = *s.snap
	}
	if data != nil {
		next.Jobs, next.Raw, next.States, next.History, next.At = data.Jobs, data.Raw, data.States, data.History, data.At
	}
	next.Version, next.Status = s.version, s.status
	s.snap = next
}

func (s *ChronosSource) run(ctx context.Context) {
	defer close(s.done)
	ep := s.find(ctx, func(f func(*FrameworkStatus)) { s.publish(f, nil) })
	if ep == nil {
		return
	}
	cli, err := client.NewChronos(ep.URL, ep.Options)
	if err != nil {
		s.publish(func(st *FrameworkStatus) { st.Err = err }, nil)
		return
	}
	defer cli.Close()
	s.mu.Lock()
	s.cli = cli
	s.mu.Unlock()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
		s.read(ctx, cli)
		t.Reset(s.every)
	}
}

func (s *ChronosSource) read(ctx context.Context, cli *client.Chronos) {
	jobs, err := cli.Jobs(ctx)
	var sums client.Doc[client.ChronosSummaries]
	if err == nil {
		sums, err = cli.Summaries(ctx)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.publish(func(st *FrameworkStatus) {
				st.Live, st.Err = false, err
				if s.down.IsZero() {
					s.down = time.Now()
				}
			}, nil)
		}
		return
	}
	data := &JobsSnapshot{At: time.Now(), Jobs: jobs.Value, Raw: map[string]json.RawMessage{},
		States: map[string]string{}, History: map[string][]client.ChronosRun{}}
	var raws []json.RawMessage
	if json.Unmarshal(jobs.Raw, &raws) == nil && len(raws) == len(jobs.Value) {
		for i, j := range jobs.Value {
			data.Raw[j.Name] = raws[i]
		}
	}
	for _, sm := range sums.Value.Jobs {
		data.States[sm.Name] = sm.State
	}
	for i, j := range jobs.Value {
		if i >= maxHistoryJobs {
			break
		}
		if h, err := cli.History(ctx, j.Name, historyWidth); err == nil {
			data.History[j.Name] = h.Value.Runs
		}
	}
	s.publish(func(st *FrameworkStatus) {
		st.Live, st.Err, st.Note = true, nil, "polling every "+shortDuration(s.every)
		if !s.down.IsZero() {
			st.Note = "reconnected after " + shortDuration(time.Since(s.down)) + " · " + st.Note
			s.down = time.Time{}
		}
	}, data)
}

func (s *ChronosSource) client() (*client.Chronos, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cli == nil {
		return nil, fmt.Errorf("chronos: %w", errNotFound)
	}
	return s.cli, nil
}

func (s *ChronosSource) after(err error) error {
	if err == nil {
		s.refresh()
	}
	return err
}

func (s *ChronosSource) RunJob(ctx context.Context, name string) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return s.after(c.RunJob(ctx, name, nil))
}

// SetDisabled sends the job's own JSON back with disabled set, so fields
// this client does not know are kept.
func (s *ChronosSource) SetDisabled(ctx context.Context, name string, disabled bool) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	j, err := c.Job(ctx, name)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(j.Raw, &doc); err != nil || doc == nil {
		return fmt.Errorf("job %s: its JSON cannot be read back: %v", name, err)
	}
	doc["disabled"] = disabled
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return s.after(c.PutJob(ctx, b))
}

func (s *ChronosSource) DeleteJob(ctx context.Context, name string) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return s.after(c.DeleteJob(ctx, name))
}

func (s *ChronosSource) PutJob(ctx context.Context, def []byte) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return s.after(c.PutJob(ctx, def))
}

// KillTask kills a chronos task; chronos kills by job, so every running
// task of the task's job goes.
func (s *ChronosSource) KillTask(ctx context.Context, t *mesos.Task) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	job, ok := client.ChronosTaskJob(string(t.TaskID))
	if !ok {
		return fmt.Errorf("kill task %s: not a chronos task id (want ct:…:<job>:…)", t.TaskID)
	}
	return s.after(c.KillJobTasks(ctx, job))
}
