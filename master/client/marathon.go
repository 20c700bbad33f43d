package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MarathonDefaultAddr is where `strata marathon` listens by default (the
// far side's address of an ssh:// --marathon without one).
const MarathonDefaultAddr = "127.0.0.1:8080"

// Marathon is a small typed client of Marathon's /v2 REST API (the
// bundled marathon or a real one): apps, deployments, the launch queue and
// tasks. Reads return a Doc, whose Raw is the API's own document. It is
// safe for concurrent use.
type Marathon struct{ c *restClient }

// NewMarathon returns a client of the API at addr (see ResolveFramework);
// of opts, Token, TLSConfig, DialContext and Timeout apply.
func NewMarathon(addr string, opts Options) (*Marathon, error) {
	c, err := newRESTClient("marathon", addr, opts)
	if err != nil {
		return nil, err
	}
	return &Marathon{c: c}, nil
}

// Close drops idle connections.
func (m *Marathon) Close() error { m.c.close(); return nil }

// Addr is the API's address as given.
func (m *Marathon) Addr() string { return m.c.addr() }

// MarathonApp is the part of an app definition (with the counters GET
// /v2/apps adds) that the CLI and TUI show.
type MarathonApp struct {
	ID           string            `json:"id"`
	Cmd          string            `json:"cmd,omitempty"`
	Args         []string          `json:"args,omitempty"`
	User         string            `json:"user,omitempty"`
	Instances    int               `json:"instances"`
	Cpus         float64           `json:"cpus"`
	Mem          float64           `json:"mem"`
	Disk         float64           `json:"disk"`
	Constraints  [][]string        `json:"constraints,omitempty"`
	HealthChecks []json.RawMessage `json:"healthChecks,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Role         string            `json:"role,omitempty"`
	Version      string            `json:"version,omitempty"`
	VersionInfo  *struct {
		LastScalingAt      string `json:"lastScalingAt"`
		LastConfigChangeAt string `json:"lastConfigChangeAt"`
	} `json:"versionInfo,omitempty"`
	TasksStaged     int                   `json:"tasksStaged"`
	TasksRunning    int                   `json:"tasksRunning"`
	TasksHealthy    int                   `json:"tasksHealthy"`
	TasksUnhealthy  int                   `json:"tasksUnhealthy"`
	Deployments     []struct{ ID string } `json:"deployments"`
	Tasks           []MarathonTask        `json:"tasks,omitempty"`
	LastTaskFailure *MarathonTaskFailure  `json:"lastTaskFailure,omitempty"`
}

// MarathonTask is one task of an app (GET /v2/apps/{id}/tasks, /v2/tasks).
type MarathonTask struct {
	ID                 string `json:"id"`
	AppID              string `json:"appId"`
	Host               string `json:"host"`
	Ports              []int  `json:"ports"`
	SlaveID            string `json:"slaveId"`
	AgentID            string `json:"agentId,omitempty"`
	StagedAt           string `json:"stagedAt,omitempty"`
	StartedAt          string `json:"startedAt,omitempty"`
	Version            string `json:"version"`
	State              string `json:"state"`
	HealthCheckResults []struct {
		Alive bool `json:"alive"`
	} `json:"healthCheckResults,omitempty"`
}

// MarathonTaskFailure is an app's lastTaskFailure.
type MarathonTaskFailure struct {
	TaskID    string `json:"taskId"`
	State     string `json:"state"`
	Message   string `json:"message"`
	Host      string `json:"host"`
	Timestamp string `json:"timestamp"`
	Version   string `json:"version"`
}

// MarathonApps is GET /v2/apps.
type MarathonApps struct {
	Apps []MarathonApp `json:"apps"`
}

// MarathonAppAnswer is GET /v2/apps/{id}.
type MarathonAppAnswer struct {
	App MarathonApp `json:"app"`
}

// MarathonDeployment is one entry of GET /v2/deployments.
type MarathonDeployment struct {
	ID           string   `json:"id"`
	Version      string   `json:"version"`
	AffectedApps []string `json:"affectedApps"`
	Steps        []struct {
		Actions []MarathonAction `json:"actions"`
	} `json:"steps"`
	CurrentActions []MarathonAction `json:"currentActions"`
	CurrentStep    int              `json:"currentStep"`
	TotalSteps     int              `json:"totalSteps"`
}

// MarathonAction is one action of a deployment step.
type MarathonAction struct {
	Action string `json:"action"`
	App    string `json:"app"`
}

// MarathonQueue is GET /v2/queue.
type MarathonQueue struct {
	Queue []MarathonQueueItem `json:"queue"`
}

// MarathonQueueItem is an app with instances waiting for offers, and why
// offers were declined for it.
type MarathonQueueItem struct {
	App   MarathonApp `json:"app"`
	Count int         `json:"count"`
	Delay struct {
		TimeLeftSeconds int64 `json:"timeLeftSeconds"`
		Overdue         bool  `json:"overdue"`
	} `json:"delay"`
	Since                  string `json:"since"`
	ProcessedOffersSummary struct {
		ProcessedOffersCount       int                 `json:"processedOffersCount"`
		UnusedOffersCount          int                 `json:"unusedOffersCount"`
		LastUnusedOfferAt          string              `json:"lastUnusedOfferAt,omitempty"`
		LastUsedOfferAt            string              `json:"lastUsedOfferAt,omitempty"`
		RejectSummaryLastOffers    []MarathonRejection `json:"rejectSummaryLastOffers"`
		RejectSummaryLaunchAttempt []MarathonRejection `json:"rejectSummaryLaunchAttempt"`
	} `json:"processedOffersSummary"`
}

// MarathonRejection is one step of the offer funnel: how many offers
// reached it and how many it declined.
type MarathonRejection struct {
	Reason    string `json:"reason"`
	Declined  int    `json:"declined"`
	Processed int    `json:"processed"`
}

// MarathonTasks is GET /v2/tasks and GET /v2/apps/{id}/tasks.
type MarathonTasks struct {
	Tasks []MarathonTask `json:"tasks"`
}

// MarathonVersions is GET /v2/apps/{id}/versions, newest first.
type MarathonVersions struct {
	Versions []string `json:"versions"`
}

// DeploymentResult is what a deploying call answers.
type DeploymentResult struct {
	DeploymentID string `json:"deploymentId"`
	Version      string `json:"version"`
}

func appPath(id string) string { return "/v2/apps/" + escapePath(id) }

// Apps lists apps with their tasks (GET /v2/apps?embed=apps.tasks).
func (m *Marathon) Apps(ctx context.Context) (Doc[MarathonApps], error) {
	return getDoc[MarathonApps](ctx, m.c, "/v2/apps", url.Values{"embed": {"apps.tasks", "apps.lastTaskFailure"}})
}

// App returns one app with its tasks and last failure.
func (m *Marathon) App(ctx context.Context, id string) (Doc[MarathonAppAnswer], error) {
	return getDoc[MarathonAppAnswer](ctx, m.c, appPath(id), nil)
}

// Versions lists an app's stored versions, newest first.
func (m *Marathon) Versions(ctx context.Context, id string) (Doc[MarathonVersions], error) {
	return getDoc[MarathonVersions](ctx, m.c, appPath(id)+"/versions", nil)
}

// AppVersion returns the definition of an app at one version.
func (m *Marathon) AppVersion(ctx context.Context, id, version string) (Doc[MarathonApp], error) {
	return getDoc[MarathonApp](ctx, m.c, appPath(id)+"/versions/"+url.PathEscape(version), nil)
}

// Deployments lists the running deployments.
func (m *Marathon) Deployments(ctx context.Context) (Doc[[]MarathonDeployment], error) {
	return getDoc[[]MarathonDeployment](ctx, m.c, "/v2/deployments", nil)
}

// Queue lists the apps whose instances wait for offers.
func (m *Marathon) Queue(ctx context.Context) (Doc[MarathonQueue], error) {
	return getDoc[MarathonQueue](ctx, m.c, "/v2/queue", nil)
}

// Tasks lists every app's tasks.
func (m *Marathon) Tasks(ctx context.Context) (Doc[MarathonTasks], error) {
	return getDoc[MarathonTasks](ctx, m.c, "/v2/tasks", nil)
}

// deploying sends a call that starts a deployment and returns its id.
func (m *Marathon) deploying(ctx context.Context, method, path string, force bool, body any) (DeploymentResult, error) {
	var raw []byte
	if body != nil {
		var err error
		if b, ok := body.([]byte); ok {
			raw = b
		} else if raw, err = json.Marshal(body); err != nil {
			return DeploymentResult{}, fmt.Errorf("marathon %s %s: encode: %w", method, path, err)
		}
	}
	var q url.Values
	if force {
		q = url.Values{"force": {"true"}}
	}
	b, _, h, err := m.c.do(ctx, method, path, q, raw)
	if err != nil {
		return DeploymentResult{}, err
	}
	var r DeploymentResult
	_ = json.Unmarshal(b, &r)
	if r.DeploymentID == "" {
		// POST /v2/apps answers the app with "deployments": [{"id"}].
		var a MarathonApp
		if json.Unmarshal(b, &a) == nil && len(a.Deployments) > 0 {
			r.DeploymentID, r.Version = a.Deployments[0].ID, a.Version
		}
	}
	if r.DeploymentID == "" && h != nil {
		r.DeploymentID = h.Get("Marathon-Deployment-Id")
	}
	return r, nil
}

// PutApp creates the app (definition, JSON as Marathon takes it) or
// updates it with the fields given.
func (m *Marathon) PutApp(ctx context.Context, definition []byte, force bool) (DeploymentResult, error) {
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(definition, &head); err != nil {
		return DeploymentResult{}, fmt.Errorf("app definition: %w", err)
	}
	if strings.Trim(head.ID, "/") == "" {
		return DeploymentResult{}, errors.New("app definition: id: required")
	}
	return m.deploying(ctx, http.MethodPut, appPath(head.ID), force, definition)
}

// PutApps updates or creates several apps in one deployment (a JSON
// array of definitions).
func (m *Marathon) PutApps(ctx context.Context, definitions []byte, force bool) (DeploymentResult, error) {
	return m.deploying(ctx, http.MethodPut, "/v2/apps", force, definitions)
}

// PutGroup creates or updates a group of apps (Marathon's group JSON,
// with nested "apps" and "groups") in one deployment.
func (m *Marathon) PutGroup(ctx context.Context, definition []byte, force bool) (DeploymentResult, error) {
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(definition, &head); err != nil {
		return DeploymentResult{}, fmt.Errorf("group definition: %w", err)
	}
	path := "/v2/groups"
	if id := strings.Trim(head.ID, "/"); id != "" {
		path += "/" + escapePath(id)
	}
	return m.deploying(ctx, http.MethodPut, path, force, definition)
}

// IsGroup reports whether a definition is a group (it has "apps" or
// "groups") rather than an app.
func IsGroup(definition []byte) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(definition, &keys) != nil {
		return false
	}
	_, apps := keys["apps"]
	_, groups := keys["groups"]
	return apps || groups
}

// Scale sets an app's instance count.
func (m *Marathon) Scale(ctx context.Context, id string, instances int, force bool) (DeploymentResult, error) {
	return m.deploying(ctx, http.MethodPut, appPath(id), force, map[string]int{"instances": instances})
}

// Restart replaces every instance of an app (rolling, by its upgrade
// strategy).
func (m *Marathon) Restart(ctx context.Context, id string, force bool) (DeploymentResult, error) {
	return m.deploying(ctx, http.MethodPost, appPath(id)+"/restart", force, nil)
}

// Rollback deploys a stored version of an app again.
func (m *Marathon) Rollback(ctx context.Context, id, version string, force bool) (DeploymentResult, error) {
	return m.deploying(ctx, http.MethodPut, appPath(id), force, map[string]string{"version": version})
}

// DeleteApp removes an app, killing its tasks.
func (m *Marathon) DeleteApp(ctx context.Context, id string, force bool) (DeploymentResult, error) {
	return m.deploying(ctx, http.MethodDelete, appPath(id), force, nil)
}

// CancelDeployment rolls a deployment back (a new deployment, whose id is
// returned), or with force just stops it where it is (empty result).
func (m *Marathon) CancelDeployment(ctx context.Context, id string, force bool) (DeploymentResult, error) {
	return m.deploying(ctx, http.MethodDelete, "/v2/deployments/"+url.PathEscape(id), force, nil)
}

// KillTask kills one task of an app; Marathon starts a replacement unless
// scale is set, which lowers the app's instance count instead.
func (m *Marathon) KillTask(ctx context.Context, appID, taskID string, scale bool) error {
	q := url.Values{}
	if scale {
		q.Set("scale", "true")
	}
	_, _, _, err := m.c.do(ctx, http.MethodDelete, appPath(appID)+"/tasks/"+url.PathEscape(taskID), q, nil)
	return err
}

// TaskApp is the app id a Marathon task id belongs to: the text before
// the last "." with "_" standing for "/" ("prod_web.1f0c…" → "/prod/web").
// ok is false for ids not of that shape.
func TaskApp(taskID string) (appID string, ok bool) {
	i := strings.LastIndexByte(taskID, '.')
	if i <= 0 {
		return "", false
	}
	return "/" + strings.ReplaceAll(taskID[:i], "_", "/"), true
}

// ErrDeploymentFailed: a deployment was cancelled or replaced before it
// finished.
var ErrDeploymentFailed = errors.New("deployment failed")

// DeploymentWatch follows deployments to their end. Open it before the
// call that starts the deployment, so its end cannot be missed.
type DeploymentWatch struct {
	m      *Marathon
	cancel context.CancelFunc
	ended  chan deploymentEnd
	done   chan struct{}
}

type deploymentEnd struct {
	id     string
	failed bool
}

// WatchDeployments subscribes to Marathon's event stream for the ends of
// deployments (deployment_success, deployment_failed). Close it when done.
func (m *Marathon) WatchDeployments(ctx context.Context) (*DeploymentWatch, error) {
	sctx, cancel := context.WithCancel(ctx)
	q := url.Values{"event_type": {"deployment_success", "deployment_failed"}}
	// The stream outlives the timeout: only the wait for its headers is
	// bounded.
	timer := time.AfterFunc(m.c.t.timeout, cancel)
	resp, final, err := m.c.t.send(sctx, request{method: http.MethodGet, url: m.c.url("/v2/events", q), follow: true})
	if !timer.Stop() && err == nil {
		resp.Body.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("marathon events at %s: %w", m.c.t.displayURL(final), err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		return nil, readAPIError(resp, "marathon GET /v2/events", m.c.t.displayURL(final), false)
	}
	w := &DeploymentWatch{m: m, cancel: cancel, ended: make(chan deploymentEnd, 64), done: make(chan struct{})}
	go func() { // owned by the watch: ends when Close cancels the stream
		defer close(w.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data:")
			if !ok {
				continue
			}
			var ev struct {
				EventType string `json:"eventType"`
				ID        string `json:"id"`
				Plan      struct {
					ID string `json:"id"`
				} `json:"plan"`
			}
			if json.Unmarshal([]byte(strings.TrimSpace(data)), &ev) != nil {
				continue
			}
			id := ev.ID
			if id == "" {
				id = ev.Plan.ID
			}
			switch ev.EventType {
			case "deployment_success", "deployment_failed":
				select {
				case w.ended <- deploymentEnd{id: id, failed: ev.EventType == "deployment_failed"}:
				case <-sctx.Done():
					return
				}
			}
		}
	}()
	return w, nil
}

// Close ends the event stream.
func (w *DeploymentWatch) Close() {
	w.cancel()
	<-w.done
}

// Wait follows deployment id until it ends: progress is called with the
// deployment as /v2/deployments shows it every interval while it runs.
// It returns nil when the deployment succeeded, ErrDeploymentFailed when
// it was cancelled or replaced. A deployment that has left the list
// without a word on the stream (which broke) counts as done.
func (w *DeploymentWatch) Wait(ctx context.Context, id string, interval time.Duration, progress func(MarathonDeployment)) error {
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	missing := 0
	for {
		deps, err := w.m.Deployments(ctx)
		if err == nil {
			found := false
			for _, d := range deps.Value {
				if d.ID == id {
					found = true
					if progress != nil {
						progress(d)
					}
				}
			}
			if found {
				missing = 0
			} else {
				missing++
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-w.ended:
			if e.id == id {
				if e.failed {
					return fmt.Errorf("deployment %s: %w (cancelled, or replaced by another deployment)", id, ErrDeploymentFailed)
				}
				return nil
			}
		case <-w.done:
			// The stream broke: polling alone decides.
			if missing >= 3 {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		case <-tick.C:
			// Gone from the list for three looks and no event: the event was
			// lost (or came before the watch): the deployment is over.
			if missing >= 3 {
				return nil
			}
		}
	}
}

// Ping checks the API answers (GET /ping).
func (m *Marathon) Ping(ctx context.Context) error {
	_, _, _, err := m.c.do(ctx, http.MethodGet, "/ping", nil, nil)
	return err
}
