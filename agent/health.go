package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/mesos"
)

// Health checks follow Mesos' command executor (src/checks/health_checker.cpp):
//
//	TASK_RUNNING ─ delay ─▶ probe ─ interval ─▶ probe ─ interval ─▶ …
//	  success: healthy; the grace period is over
//	  failure inside the grace period, before any success: ignored
//	  other failures: counted; consecutive_failures in a row kill the task
//
// One goroutine per checked task probes (probes may take up to their
// timeout, so they never run on the loop) and posts each result to the
// loop, which alone judges it against the task's record. A change of
// health, and the first counted result, is a TASK_RUNNING update with
// healthy set and REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; Mesos sends an
// unhealthy update for every failure, we only for changes, since the
// framework learns nothing from a repeat. A task killed by its check ends
// TASK_KILLED with healthy=false and a message naming the check (Mesos
// sets no reason for it either).
//
// The checker is owned by the agent: stopped when the task leaves
// TASK_RUNNING or is dropped, and when Run ends. After an agent restart
// the checker of each task recovered as running starts again; the task's
// last health is in its record, so only a change is reported.

// healthChecker is one task's checker; its counters are read and written
// on the loop only.
type healthChecker struct {
	container string
	kind      mesos.HealthCheckType
	cancel    context.CancelFunc
	state     healthState
}

// healthState is the pure part of a checker: which results count and
// when the task must die.
type healthState struct {
	start        time.Time
	grace        time.Duration
	maxFailures  uint32
	initializing bool // no success seen yet
	failures     uint32
}

// observe judges one result at now. counted is false for a failure
// inside the grace period (before the first success), which Mesos
// ignores; kill is set once failures in a row reach the limit.
func (h *healthState) observe(now time.Time, ok bool) (counted, kill bool) {
	if ok {
		h.initializing = false
		h.failures = 0
		return true, false
	}
	if h.initializing && h.grace > 0 && now.Sub(h.start) <= h.grace {
		return false, false
	}
	h.failures++
	return true, h.failures >= h.maxFailures
}

// errProbeNotReady is a probe that could not run yet (the task's launch
// spec is not known so far): neither success nor failure.
var errProbeNotReady = errors.New("the task's launch details are not known yet")

// probeFunc runs one check; nil means healthy.
type probeFunc func(ctx context.Context) error

// seconds turns a Mesos seconds field into a duration; negative, NaN and
// absurd values are 0.
func seconds(s float64) time.Duration {
	if math.IsNaN(s) || s <= 0 || s > 1e9 {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// minHealthInterval keeps a zero interval from spinning.
const minHealthInterval = 10 * time.Millisecond

// validateHealthCheck rejects what Mesos' validateHealthCheck rejects,
// naming the field, so a task with a check the agent cannot run is a
// TASK_ERROR at launch rather than a task that is never checked.
func validateHealthCheck(hc *mesos.HealthCheck) error {
	if hc == nil {
		return nil
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"delay_seconds", hc.DelaySeconds}, {"interval_seconds", hc.IntervalSeconds},
		{"timeout_seconds", hc.TimeoutSeconds}, {"grace_period_seconds", hc.GracePeriodSeconds}} {
		if f.v != nil && (math.IsNaN(*f.v) || *f.v < 0) {
			return fmt.Errorf("health_check.%s: %v is not a non-negative number of seconds", f.name, *f.v)
		}
	}
	switch hc.Type {
	case mesos.CheckCommand:
		if hc.Command == nil {
			return errors.New("health_check.command: required for a COMMAND health check")
		}
		if hc.Command.GetShell() && hc.Command.Value == "" {
			return errors.New("health_check.command.value: empty shell command")
		}
		if !hc.Command.GetShell() && hc.Command.Value == "" {
			return errors.New("health_check.command.value: an argv command (shell=false) needs the executable")
		}
	case mesos.CheckHTTP:
		if hc.HTTP == nil {
			return errors.New("health_check.http: required for an HTTP health check")
		}
		if hc.HTTP.Port == 0 || hc.HTTP.Port > 65535 {
			return fmt.Errorf("health_check.http.port: %d is not a port", hc.HTTP.Port)
		}
		switch hc.HTTP.Scheme {
		case "", "http", "https":
		default:
			return fmt.Errorf("health_check.http.scheme: %q is neither http nor https", hc.HTTP.Scheme)
		}
		for i, s := range hc.HTTP.Statuses {
			if s < 100 || s > 599 {
				return fmt.Errorf("health_check.http.statuses[%d]: %d is not an HTTP status", i, s)
			}
		}
	case mesos.CheckTCP:
		if hc.TCP == nil {
			return errors.New("health_check.tcp: required for a TCP health check")
		}
		if hc.TCP.Port == 0 || hc.TCP.Port > 65535 {
			return fmt.Errorf("health_check.tcp.port: %d is not a port", hc.TCP.Port)
		}
	default:
		return fmt.Errorf("health_check.type: %q is not one of COMMAND, HTTP, TCP", hc.Type)
	}
	return nil
}

// healthOnUpdate starts or stops a task's checker as its state changes:
// checked while TASK_RUNNING, not otherwise (Mesos pauses the checker
// once a kill begins). On the loop.
func (a *Agent) healthOnUpdate(rec *taskRecord) {
	if rec.State == mesos.TaskRunning {
		a.startHealthCheck(rec)
		return
	}
	a.stopHealthCheck(rec.ContainerID)
}

// startHealthCheck starts rec's checker unless it has none, runs
// already, or is being killed for an agent that came back too late. A
// task whose health was reported before (a recovered one) is out of its
// grace period and is first probed after an interval rather than the
// initial delay. On the loop.
func (a *Agent) startHealthCheck(rec *taskRecord) {
	hc := rec.Task.HealthCheck
	if hc == nil || rec.Expired || a.checkCtx == nil || a.checkCtx.Err() != nil || a.checkers[rec.ContainerID] != nil {
		return
	}
	if err := validateHealthCheck(hc); err != nil {
		a.log.Error("health check not started", "task", rec.Task.TaskID, "err", err)
		return
	}
	probe := a.newProbe(rec.ContainerID, hc)
	ctx, cancel := context.WithCancel(a.checkCtx)
	c := &healthChecker{container: rec.ContainerID, kind: hc.Type, cancel: cancel, state: healthState{
		start: time.Now(), grace: seconds(hc.GetGracePeriodSeconds()),
		maxFailures: hc.GetConsecutiveFailures(), initializing: rec.Healthy == nil}}
	if a.checkers == nil {
		a.checkers = map[string]*healthChecker{}
	}
	a.checkers[rec.ContainerID] = c
	first := seconds(hc.GetDelaySeconds())
	interval := max(seconds(hc.GetIntervalSeconds()), minHealthInterval)
	if rec.Healthy != nil {
		first = interval
	}
	timeout := seconds(hc.GetTimeoutSeconds())
	a.log.Debug("health check started", "task", rec.Task.TaskID, "type", hc.Type, "delay", first, "interval", interval)
	a.checkWG.Add(1)
	go a.runHealthCheck(ctx, c, probe, first, interval, timeout)
}

// newProbe builds the probe for hc. A COMMAND probe needs the task's
// environment, sandbox and user, which the supervisor's record of the
// launch holds; the client is safe to read from the checker goroutine.
func (a *Agent) newProbe(container string, hc *mesos.HealthCheck) probeFunc {
	switch hc.Type {
	case mesos.CheckHTTP:
		return httpProbe(hc.HTTP)
	case mesos.CheckTCP:
		return tcpProbe(hc.TCP)
	}
	sup := a.sup
	cmd := hc.Command
	var spec *supervise.Spec // found once; only the checker goroutine uses it
	return func(ctx context.Context) error {
		if spec == nil && sup != nil {
			if t, ok := sup.Task(container); ok {
				spec = &t.Spec
			}
		}
		if spec == nil {
			return errProbeNotReady
		}
		return commandProbe(ctx, cmd, *spec)
	}
}

// stopHealthCheck stops a task's checker, if any; a result it posted
// before is ignored (onHealthResult). On the loop.
func (a *Agent) stopHealthCheck(container string) {
	if c := a.checkers[container]; c != nil {
		c.cancel()
		delete(a.checkers, container)
	}
}

// stopHealthChecks stops every checker and waits for them: when Run
// ends. Not on the loop (which has ended), and without a.mu, which the
// checkers do not take.
func (a *Agent) stopHealthChecks() {
	a.mu.Lock()
	for c := range a.checkers {
		a.stopHealthCheck(c)
	}
	a.mu.Unlock()
	a.checkWG.Wait()
}

// runHealthCheck is the checker goroutine: probe after first, then every
// interval after the previous probe ended, each bounded by timeout (0:
// none), and post the results to the loop.
func (a *Agent) runHealthCheck(ctx context.Context, c *healthChecker, probe probeFunc, first, interval, timeout time.Duration) {
	defer a.checkWG.Done()
	wait := first
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = interval
		err := runProbe(ctx, probe, timeout)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errProbeNotReady) {
			continue
		}
		select {
		case a.inbox <- func() { a.onHealthResult(c, err) }:
		case <-ctx.Done():
			return
		}
	}
}

func runProbe(ctx context.Context, probe probeFunc, timeout time.Duration) error {
	if timeout <= 0 {
		return probe(ctx)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := probe(pctx)
	if err != nil && ctx.Err() == nil && pctx.Err() != nil {
		return fmt.Errorf("timed out after %s", timeout)
	}
	return err
}

// onHealthResult judges one probe's result: a change of health is an
// update, too many failures in a row kill the task. Results of a stopped
// checker and of a task no longer running are dropped, as Mesos drops
// those that arrive after a kill began. On the loop.
func (a *Agent) onHealthResult(c *healthChecker, perr error) {
	if a.checkers[c.container] != c {
		return
	}
	rec := a.tasks[c.container]
	if rec == nil || rec.State != mesos.TaskRunning {
		return
	}
	name := string(c.kind) + " health check"
	counted, kill := c.state.observe(time.Now(), perr == nil)
	if !counted {
		a.log.Info("health check failure ignored: still in the grace period", "task", rec.Task.TaskID, "check", name, "err", perr)
		return
	}
	healthy := perr == nil
	if rec.Healthy == nil || *rec.Healthy != healthy {
		msg := name + " passed"
		if !healthy {
			msg = fmt.Sprintf("%s failed: %v", name, perr)
		}
		rec.Healthy = &healthy
		a.update(rec, rec.State, mesos.SourceExecutor, mesos.ReasonTaskHealthCheckStatusUpdated, msg)
	} else if !healthy {
		a.log.Warn("health check failed", "task", rec.Task.TaskID, "check", name, "consecutive", c.state.failures, "err", perr)
	}
	if !kill {
		return
	}
	rec.HealthKill = fmt.Sprintf("Killed by its %s after %d consecutive failures (last: %v)", name, c.state.failures, perr)
	a.persist(rec)
	a.log.Warn("killing a task that failed its health check", "task", rec.Task.TaskID, "framework", rec.FrameworkID,
		"check", name, "consecutive", c.state.failures)
	a.stopHealthCheck(c.container)
	a.killTask(a.checkCtx, rec.FrameworkID, rec.Task.TaskID, nil)
}

// healthKillMessage prefixes the exit message of a task its health check
// killed with why, so the terminal update says it.
func healthKillMessage(rec *taskRecord, state mesos.TaskState, msg string) string {
	if rec.HealthKill == "" || state != mesos.TaskKilled {
		return msg
	}
	if msg == "" {
		return rec.HealthKill
	}
	return rec.HealthKill + "; " + msg
}

// statusHealth is the healthy field of rec's next update: its last
// known health, nil while unknown or unchecked.
func statusHealth(rec *taskRecord) *bool {
	if rec.Healthy == nil {
		return nil
	}
	h := *rec.Healthy
	return &h
}
