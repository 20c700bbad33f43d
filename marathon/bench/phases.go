package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// benchAppID is the app the deployment phase creates.
const benchAppID = "/bench/app"

// runDeploy starts a cluster of s.Agents agents, posts an app of
// s.Instances instances and times it to all RUNNING.
func runDeploy(ctx context.Context, cfg Config, s Size) (d Deploy, err error) {
	d = Deploy{Size: s}
	cfg.progress("%s: starting coord, master, %d agents and marathon", s, s.Agents)
	t0 := time.Now()
	c, err := startCluster(ctx, cfg.Dir, s.Agents, !cfg.NoStarting, cfg.Logger)
	if err != nil {
		return d, err
	}
	defer func() {
		cfg.progress("%s: tearing down", s)
		c.close()
	}()
	d.Setup = time.Since(t0)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := watchRunning(ctx, c, benchAppID, s.Instances)
	if err != nil {
		return d, err
	}
	defer w.stop()

	body := fmt.Appendf(nil, `{"id": %q, "cmd": "sleep 3600", "cpus": 0.01, "mem": 1, "instances": %d}`, benchAppID, s.Instances)
	cfg.progress("%s: POST /v2/apps with %d instances", s, s.Instances)
	start := time.Now()
	if _, err := c.call(ctx, http.MethodPost, "/v2/apps", body, http.StatusCreated); err != nil {
		return d, err
	}
	defer func() { // also when the deployment does not finish
		first, half := w.seen()
		if !first.IsZero() {
			d.FirstRunning = first.Sub(start)
		}
		if !half.IsZero() {
			d.HalfRunning = half.Sub(start)
		}
	}()
	poll := time.NewTicker(500 * time.Millisecond) // a backstop: the event stream is what times
	defer poll.Stop()
	deadline := time.After(cfg.Timeout)
	for d.Via == "" {
		select {
		case at := <-w.all:
			d.AllRunning, d.Via = at.Sub(start), "events"
		case <-poll.C:
			n, err := c.tasksRunning(ctx, benchAppID)
			if err != nil {
				return d, err
			}
			if n >= s.Instances {
				d.AllRunning, d.Via = time.Since(start), "poll"
			}
		case <-deadline:
			d.Running, _ = c.tasksRunning(ctx, benchAppID)
			d.RSS, _ = readStatus("VmRSS")
			return d, fmt.Errorf("after %s only %d of %d instances are running", cfg.Timeout, d.Running, s.Instances)
		case <-ctx.Done():
			return d, ctx.Err()
		}
	}
	d.Running = s.Instances
	d.RSS, _ = readStatus("VmRSS")
	cfg.progress("%s: all running after %s (%s)", s, d.AllRunning.Round(time.Millisecond), d.Via)
	return d, nil
}

// runList defines cfg.Apps apps on a fresh cluster and times GET /v2/apps.
func runList(ctx context.Context, cfg Config) (List, error) {
	l := List{Apps: cfg.Apps, AppInstances: cfg.AppInstances, Calls: cfg.ListCalls}
	cfg.progress("list: starting coord, master, %d agents and marathon", cfg.ListAgents)
	c, err := startCluster(ctx, cfg.Dir, cfg.ListAgents, !cfg.NoStarting, cfg.Logger)
	if err != nil {
		return l, err
	}
	defer func() {
		cfg.progress("list: tearing down")
		c.close()
	}()

	cfg.progress("list: defining %d apps", cfg.Apps)
	start := time.Now()
	const perGroup = 100
	for g := 0; g*perGroup < cfg.Apps; g++ {
		var apps []string
		for k := g * perGroup; k < min((g+1)*perGroup, cfg.Apps); k++ {
			apps = append(apps, fmt.Sprintf(`{"id": "/list/g%d/app-%d", "cmd": "sleep 3600", "cpus": 0.01, "mem": 1,
				"instances": %d, "labels": {"bench": "list"}}`, g, k, cfg.AppInstances))
		}
		body := fmt.Appendf(nil, `{"id": "/list/g%d", "apps": [%s]}`, g, strings.Join(apps, ","))
		if _, err := c.call(ctx, http.MethodPost, "/v2/groups", body, http.StatusCreated); err != nil {
			return l, fmt.Errorf("group %d: %w", g, err)
		}
	}
	if cfg.AppInstances > 0 {
		want := cfg.Apps * cfg.AppInstances
		if err := waitFor(ctx, cfg.Timeout, fmt.Sprintf("%d instances to run", want), func() bool {
			n, err := c.runningTotal(ctx)
			return err == nil && n >= want
		}); err != nil {
			return l, err
		}
	}
	l.Create = time.Since(start)

	var times []time.Duration
	for i := range cfg.ListCalls + 2 { // two untimed warm-up calls
		t := time.Now()
		b, err := c.call(ctx, http.MethodGet, "/v2/apps", nil, http.StatusOK)
		el := time.Since(t)
		if err != nil {
			return l, err
		}
		if i == 0 {
			var v struct{ Apps []json.RawMessage }
			if err := json.Unmarshal(b, &v); err != nil {
				return l, fmt.Errorf("GET /v2/apps: %w", err)
			}
			if len(v.Apps) != cfg.Apps {
				return l, fmt.Errorf("GET /v2/apps lists %d apps, want %d", len(v.Apps), cfg.Apps)
			}
			l.Bytes = len(b)
		}
		if i >= 2 {
			times = append(times, el)
		}
	}
	slices.Sort(times)
	l.Median = times[len(times)/2]
	l.P99 = times[min(len(times)-1, (len(times)*99+99)/100-1)]
	l.RSS, _ = readStatus("VmRSS")
	cfg.progress("list: GET /v2/apps median %s", l.Median.Round(time.Microsecond))
	return l, nil
}

// call makes one API call and checks its status.
func (c *cluster) call(ctx context.Context, method, path string, body []byte, want int) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

// tasksRunning is the app's tasksRunning, read from the app list
// filtered by id: GET /v2/apps/{id} embeds every task, which at 10,000
// instances would make the poll itself a load on marathon.
func (c *cluster) tasksRunning(ctx context.Context, id string) (int, error) {
	b, err := c.call(ctx, http.MethodGet, "/v2/apps?id="+url.QueryEscape(id), nil, http.StatusOK)
	if err != nil {
		return 0, err
	}
	var v struct {
		Apps []struct {
			ID           string `json:"id"`
			TasksRunning int    `json:"tasksRunning"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, fmt.Errorf("GET /v2/apps?id=%s: %w", id, err)
	}
	for _, a := range v.Apps {
		if a.ID == id {
			return a.TasksRunning, nil
		}
	}
	return 0, nil
}

// runningTotal sums tasksRunning over every app.
func (c *cluster) runningTotal(ctx context.Context) (int, error) {
	b, err := c.call(ctx, http.MethodGet, "/v2/apps", nil, http.StatusOK)
	if err != nil {
		return 0, err
	}
	var v struct {
		Apps []struct {
			TasksRunning int `json:"tasksRunning"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, fmt.Errorf("GET /v2/apps: %w", err)
	}
	n := 0
	for _, a := range v.Apps {
		n += a.TasksRunning
	}
	return n, nil
}

// watcher follows /v2/events for one app's status updates and reports,
// on all, when want distinct tasks have been TASK_RUNNING. If marathon
// drops the stream (a slow subscriber), all never fires and the caller's
// polling decides.
type watcher struct {
	all  chan time.Time
	body io.Closer
	done chan struct{}

	mu    sync.Mutex
	first time.Time
	half  time.Time // when half of want were running
}

// watchRunning opens the event stream before anything is posted, so no
// update is missed.
func watchRunning(ctx context.Context, c *cluster, appID string, want int) (*watcher, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.api+"/v2/events?event_type=status_update_event", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /v2/events: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET /v2/events: %s", resp.Status)
	}
	w := &watcher{all: make(chan time.Time, 1), body: resp.Body, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		running := make(map[string]bool, want)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: "))
			if !ok {
				continue
			}
			var ev struct {
				AppID      string `json:"appId"`
				TaskID     string `json:"taskId"`
				TaskStatus string `json:"taskStatus"`
			}
			if json.Unmarshal(data, &ev) != nil || ev.AppID != appID || ev.TaskStatus != "TASK_RUNNING" || running[ev.TaskID] {
				continue
			}
			now := time.Now()
			running[ev.TaskID] = true
			w.mu.Lock()
			if len(running) == 1 {
				w.first = now
			}
			if len(running) == (want+1)/2 {
				w.half = now
			}
			w.mu.Unlock()
			if len(running) == want {
				w.all <- now
			}
		}
	}()
	return w, nil
}

// seen returns when the first and half the instances were running (zero
// when not seen).
func (w *watcher) seen() (first, half time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first, w.half
}

// stop closes the stream and waits for the reader.
func (w *watcher) stop() {
	w.body.Close()
	<-w.done
}
