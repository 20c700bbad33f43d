package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Operator is a client of the master's operator API (POST /api/v1) and its
// plain endpoints (/health, /state, /metrics/snapshot, /redirect). Calls go
// to the master the Options name; a standby's 307 leads to the leader, which
// later calls use directly until it fails. It is safe for concurrent use.
type Operator struct {
	opts Options
	t    *transport
	res  *resolver

	ctx    context.Context // ended by Close: stops subscriptions
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool           // no new subscription goroutines after Close
	wg     sync.WaitGroup // subscription goroutines
}

// NewOperator checks the options and returns a client; nothing is dialled
// yet.
func NewOperator(opts Options) (*Operator, error) {
	opts = opts.withDefaults()
	t := newTransport(opts)
	res, err := newResolver(t, opts)
	if err != nil {
		return nil, fmt.Errorf("operator client: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Operator{opts: opts, t: t, res: res, ctx: ctx, cancel: cancel}, nil
}

// Close ends every subscription, waits for their goroutines, and drops idle
// connections.
func (o *Operator) Close() error {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.cancel()
	o.wg.Wait()
	o.t.close()
	return nil
}

// Master returns the base URL the client currently uses ("" before the
// first call or after a failure).
func (o *Operator) Master() string {
	o.res.mu.Lock()
	defer o.res.mu.Unlock()
	return o.t.displayURL(o.res.cur)
}

// Call sends any synchronous operator call and returns the master's answer:
// the OperatorResponse for calls that have one, nil for those that do not
// (202, or 200 without a body). Errors are *APIError for refusals, ErrUnavailable (503) when
// the master knows no leader.
func (o *Operator) Call(ctx context.Context, call *mesos.OperatorCall) (*mesos.OperatorResponse, error) {
	if call == nil {
		return nil, errors.New("operator call: nil")
	}
	what := "operator " + string(call.Type)
	if call.Type == mesos.OperatorSubscribe {
		return nil, fmt.Errorf("%s: use Subscribe", what)
	}
	body, err := json.Marshal(call)
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", what, err)
	}
	ctx, cancel := o.t.withTimeout(ctx)
	defer cancel()
	resp, final, err := o.do(ctx, http.MethodPost, operatorPath, body, what)
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode/100 == 2:
		return nil, nil // 202 Accepted: a call without a response body
	default:
		return nil, readAPIError(resp, what, o.t.displayURL(final), false)
	}
	// Mesos answers some calls without a body (UPDATE_QUOTA, DRAIN_AGENT,
	// TEARDOWN, ... answer a bare 200 OK).
	br := bufio.NewReader(resp.Body)
	if _, err := br.Peek(1); err == io.EOF {
		return nil, nil
	}
	if ct := resp.Header.Get("Content-Type"); !isJSONType(ct) {
		return nil, fmt.Errorf("%s: answer has Content-Type %q, want %s", what, ct, contentJSON)
	}
	out := new(mesos.OperatorResponse)
	if err := json.NewDecoder(br).Decode(out); err != nil {
		return nil, fmt.Errorf("%s: decode answer from %s: %w", what, o.t.displayURL(final), err)
	}
	if out.Type != "" && out.Type != call.Type {
		return nil, fmt.Errorf("%s: master answered a %s response", what, out.Type)
	}
	return out, nil
}

// do sends one request to the current master, following redirects (and
// remembering the leader they lead to). When the master cannot be dialled
// or answers 503, it is forgotten; a dial failure is retried on the next
// master the detector names, since nothing was sent.
func (o *Operator) do(ctx context.Context, method, path string, body []byte, what string) (*http.Response, *url.URL, error) {
	const attempts = 3
	var lastErr error
	for range attempts {
		base, err := o.res.base(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		resp, final, err := o.t.send(ctx, request{method: method, url: endpoint(base, path), body: body, follow: true})
		if err != nil {
			o.res.failed(base)
			lastErr = fmt.Errorf("%s at %s: %w", what, o.t.displayURL(final), err)
			if isDialError(err) && ctx.Err() == nil {
				continue
			}
			return nil, final, lastErr
		}
		if resp.StatusCode == http.StatusServiceUnavailable {
			o.res.failed(base)
		} else {
			o.res.moved(base, baseOf(final, path))
		}
		return resp, final, nil
	}
	return nil, nil, lastErr
}

// answer checks that a response carries the body its call promises.
func answer[T any](resp *mesos.OperatorResponse, err error, call mesos.OperatorCallType, field func(*mesos.OperatorResponse) *T) (*T, error) {
	if err != nil {
		return nil, err
	}
	if resp == nil || field(resp) == nil {
		return nil, fmt.Errorf("operator %s: the master's answer has no %s", call, call)
	}
	return field(resp), nil
}

func (o *Operator) get(ctx context.Context, t mesos.OperatorCallType) (*mesos.OperatorResponse, error) {
	return o.Call(ctx, &mesos.OperatorCall{Type: t})
}

// GetHealth reports whether the master is healthy.
func (o *Operator) GetHealth(ctx context.Context) (*mesos.GetHealth, error) {
	r, err := o.get(ctx, mesos.OperatorGetHealth)
	return answer(r, err, mesos.OperatorGetHealth, func(r *mesos.OperatorResponse) *mesos.GetHealth { return r.GetHealth })
}

// GetVersion returns the master's version.
func (o *Operator) GetVersion(ctx context.Context) (*mesos.GetVersion, error) {
	r, err := o.get(ctx, mesos.OperatorGetVersion)
	return answer(r, err, mesos.OperatorGetVersion, func(r *mesos.OperatorResponse) *mesos.GetVersion { return r.GetVersion })
}

// GetFlags returns the master's flags.
func (o *Operator) GetFlags(ctx context.Context) (*mesos.GetFlags, error) {
	r, err := o.get(ctx, mesos.OperatorGetFlags)
	return answer(r, err, mesos.OperatorGetFlags, func(r *mesos.OperatorResponse) *mesos.GetFlags { return r.GetFlags })
}

// GetMetrics returns the master's metrics; timeout (0: none) bounds how
// long the master may take to collect them.
func (o *Operator) GetMetrics(ctx context.Context, timeout time.Duration) (*mesos.GetMetrics, error) {
	call := &mesos.OperatorCall{Type: mesos.OperatorGetMetrics}
	if timeout > 0 {
		call.GetMetrics = &mesos.GetMetricsRequest{Timeout: mesos.DurationInfoOf(timeout)}
	}
	r, err := o.Call(ctx, call)
	return answer(r, err, mesos.OperatorGetMetrics, func(r *mesos.OperatorResponse) *mesos.GetMetrics { return r.GetMetrics })
}

// GetState returns the whole cluster: agents, frameworks, tasks, executors.
func (o *Operator) GetState(ctx context.Context) (*mesos.GetState, error) {
	r, err := o.get(ctx, mesos.OperatorGetState)
	return answer(r, err, mesos.OperatorGetState, func(r *mesos.OperatorResponse) *mesos.GetState { return r.GetState })
}

// GetAgents lists agents.
func (o *Operator) GetAgents(ctx context.Context) (*mesos.GetAgents, error) {
	r, err := o.get(ctx, mesos.OperatorGetAgents)
	return answer(r, err, mesos.OperatorGetAgents, func(r *mesos.OperatorResponse) *mesos.GetAgents { return r.GetAgents })
}

// GetFrameworks lists frameworks.
func (o *Operator) GetFrameworks(ctx context.Context) (*mesos.GetFrameworks, error) {
	r, err := o.get(ctx, mesos.OperatorGetFrameworks)
	return answer(r, err, mesos.OperatorGetFrameworks, func(r *mesos.OperatorResponse) *mesos.GetFrameworks { return r.GetFrameworks })
}

// GetTasks lists tasks.
func (o *Operator) GetTasks(ctx context.Context) (*mesos.GetTasks, error) {
	r, err := o.get(ctx, mesos.OperatorGetTasks)
	return answer(r, err, mesos.OperatorGetTasks, func(r *mesos.OperatorResponse) *mesos.GetTasks { return r.GetTasks })
}

// GetRoles lists roles with their weights, frameworks and resources.
func (o *Operator) GetRoles(ctx context.Context) (*mesos.GetRoles, error) {
	r, err := o.get(ctx, mesos.OperatorGetRoles)
	return answer(r, err, mesos.OperatorGetRoles, func(r *mesos.OperatorResponse) *mesos.GetRoles { return r.GetRoles })
}

// GetWeights lists the roles whose weight was set.
func (o *Operator) GetWeights(ctx context.Context) (*mesos.GetWeights, error) {
	r, err := o.get(ctx, mesos.OperatorGetWeights)
	return answer(r, err, mesos.OperatorGetWeights, func(r *mesos.OperatorResponse) *mesos.GetWeights { return r.GetWeights })
}

// GetQuota returns every role's quota.
func (o *Operator) GetQuota(ctx context.Context) (*mesos.GetQuota, error) {
	r, err := o.get(ctx, mesos.OperatorGetQuota)
	return answer(r, err, mesos.OperatorGetQuota, func(r *mesos.OperatorResponse) *mesos.GetQuota { return r.GetQuota })
}

// GetMaster describes the answering master (the leader, after redirects).
func (o *Operator) GetMaster(ctx context.Context) (*mesos.GetMaster, error) {
	r, err := o.get(ctx, mesos.OperatorGetMaster)
	return answer(r, err, mesos.OperatorGetMaster, func(r *mesos.OperatorResponse) *mesos.GetMaster { return r.GetMaster })
}

// act sends a call that has no response body.
func (o *Operator) act(ctx context.Context, call *mesos.OperatorCall) error {
	_, err := o.Call(ctx, call)
	return err
}

// UpdateWeights sets role weights.
func (o *Operator) UpdateWeights(ctx context.Context, weights ...mesos.WeightInfo) error {
	return o.act(ctx, &mesos.OperatorCall{Type: mesos.OperatorUpdateWeights,
		UpdateWeights: &mesos.UpdateWeights{WeightInfos: weights}})
}

// UpdateQuota sets the quotas of several roles at once, all or nothing;
// force skips the check that guarantees fit the cluster.
func (o *Operator) UpdateQuota(ctx context.Context, force bool, configs ...mesos.QuotaConfig) error {
	u := &mesos.UpdateQuota{QuotaConfigs: configs}
	if force {
		u.Force = &force
	}
	return o.act(ctx, &mesos.OperatorCall{Type: mesos.OperatorUpdateQuota, UpdateQuota: u})
}

// ReserveResources dynamically reserves resources on an agent (their
// reservations say for which role).
func (o *Operator) ReserveResources(ctx context.Context, agent mesos.AgentID, resources mesos.Resources) error {
	return o.act(ctx, &mesos.OperatorCall{Type: mesos.OperatorReserveResources,
		ReserveResources: &mesos.ReserveResources{AgentID: agent, Resources: resources}})
}

// UnreserveResources removes dynamic reservations on an agent.
func (o *Operator) UnreserveResources(ctx context.Context, agent mesos.AgentID, resources mesos.Resources) error {
	return o.act(ctx, &mesos.OperatorCall{Type: mesos.OperatorUnreserveResources,
		UnreserveResources: &mesos.UnreserveResources{AgentID: agent, Resources: resources}})
}

// DrainAgent kills an agent's tasks, each within maxGracePeriod (0: the
// tasks' own kill policies), keeps offers away from it, and with markGone
// marks it gone afterwards.
func (o *Operator) DrainAgent(ctx context.Context, agent mesos.AgentID, maxGracePeriod time.Duration, markGone bool) error {
	d := &mesos.DrainAgent{AgentID: agent}
	if maxGracePeriod > 0 {
		d.MaxGracePeriod = mesos.ProtoDurationOf(maxGracePeriod)
	}
	if markGone {
		d.MarkGone = &markGone
	}
	return o.act(ctx, &mesos.OperatorCall{Type: mesos.OperatorDrainAgent, DrainAgent: d})
}

// DeactivateAgent stops offers of an agent's resources.
func (o *Operator) DeactivateAgent(ctx context.Context, agent mesos.AgentID) error {
	return o.act(ctx, &mesos.OperatorCall{Type: mesos.OperatorDeactivateAgent,
		DeactivateAgent: &mesos.AgentRef{AgentID: agent}})
}

// ReactivateAgent ends a drain or deactivation.
func (o *Operator) ReactivateAgent(ctx context.Context, agent mesos.AgentID) error {
	return o.act(ctx, &mesos.OperatorCall{Type: mesos.OperatorReactivateAgent,
		ReactivateAgent: &mesos.AgentRef{AgentID: agent}})
}

// MarkAgentGone declares an agent gone for good: its tasks become
// TASK_GONE_BY_OPERATOR and it may never come back.
func (o *Operator) MarkAgentGone(ctx context.Context, agent mesos.AgentID) error {
	return o.act(ctx, &mesos.OperatorCall{Type: mesos.OperatorMarkAgentGone,
		MarkAgentGone: &mesos.AgentRef{AgentID: agent}})
}

// Teardown removes a framework and kills its tasks.
func (o *Operator) Teardown(ctx context.Context, framework mesos.FrameworkID) error {
	return o.act(ctx, &mesos.OperatorCall{Type: mesos.OperatorTeardown,
		Teardown: &mesos.Teardown{FrameworkID: framework}})
}

// Health checks GET /health: nil when the master answers 200.
func (o *Operator) Health(ctx context.Context) error {
	ctx, cancel := o.t.withTimeout(ctx)
	defer cancel()
	resp, final, err := o.plainGet(ctx, "/health")
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return readAPIError(resp, "GET /health", o.t.displayURL(final), false)
	}
	return nil
}

// State returns GET /state: the master's state as JSON, for tools that
// want Mesos' /state document rather than GET_STATE's typed answer.
func (o *Operator) State(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := o.getJSON(ctx, "/state", &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// MetricsSnapshot returns GET /metrics/snapshot: Mesos' metric names
// ("master/tasks_running", "allocator/mesos/allocation_run_ms") and values.
func (o *Operator) MetricsSnapshot(ctx context.Context) (map[string]float64, error) {
	m := map[string]float64{}
	if err := o.getJSON(ctx, "/metrics/snapshot", &m); err != nil {
		return nil, err
	}
	return m, nil
}

// Redirect asks GET /redirect where the leader is and returns its base URL
// ("http://host:5050"), without following it.
func (o *Operator) Redirect(ctx context.Context) (string, error) {
	const what = "GET /redirect"
	ctx, cancel := o.t.withTimeout(ctx)
	defer cancel()
	base, err := o.res.base(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	u := endpoint(base, "/redirect")
	resp, _, err := o.t.send(ctx, request{method: http.MethodGet, url: u})
	if err != nil {
		o.res.failed(base)
		return "", fmt.Errorf("%s at %s: %w", what, o.t.displayURL(u), err)
	}
	if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusPermanentRedirect {
		return "", readAPIError(resp, what, o.t.displayURL(u), false)
	}
	drainClose(resp.Body)
	loc, err := u.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host == "" {
		return "", fmt.Errorf("%s at %s: bad Location %q", what, o.t.displayURL(u), resp.Header.Get("Location"))
	}
	return (&url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: loc.Path}).String(), nil
}

func (o *Operator) plainGet(ctx context.Context, path string) (*http.Response, *url.URL, error) {
	return o.do(ctx, http.MethodGet, path, nil, "GET "+path)
}

// getJSON reads a plain JSON endpoint into v.
func (o *Operator) getJSON(ctx context.Context, path string, v any) error {
	what := "GET " + path
	ctx, cancel := o.t.withTimeout(ctx)
	defer cancel()
	resp, final, err := o.plainGet(ctx, path)
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return readAPIError(resp, what, o.t.displayURL(final), false)
	}
	dec := json.NewDecoder(resp.Body)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: decode answer from %s: %w", what, o.t.displayURL(final), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: trailing data after the JSON document from %s", what, o.t.displayURL(final))
	}
	return nil
}
