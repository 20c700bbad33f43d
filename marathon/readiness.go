package marathon

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/deploy"
	"github.com/strata-dc/strata/master/mesos"
)

// Readiness checks gate deployments, as in Marathon: a new instance of an
// app with readinessChecks counts towards a deployment's progress only
// once each check answered one of its httpStatusCodesForReady. Marathon
// itself probes (the agent knows nothing of them), every intervalSeconds,
// until the instance is ready; results show in /v2/deployments.

// probeReadiness starts the probes that are due; s.mu is held. Each probe
// runs on its own goroutine, owned by the term (st.probes), and reports
// back under s.mu.
func (s *Server) probeReadiness(st *leaderState, now time.Time) {
	for _, a := range st.root.Flatten() {
		if len(a.ReadinessChecks) == 0 {
			continue
		}
		cfg := configVersion(a)
		for _, i := range st.appInstances(a.ID) {
			if i.Ready || i.Killing || i.State != mesos.TaskRunning || !i.Config.Equal(cfg) || st.probing[i.TaskID] {
				continue
			}
			check := a.ReadinessChecks[0]
			interval := time.Duration(max(check.IntervalSeconds, 1)) * time.Second
			if last, ok := st.lastProbe[i.TaskID]; ok && now.Sub(last) < interval {
				continue
			}
			target := readinessURL(a, check, i)
			st.probing[i.TaskID] = true
			st.lastProbe[i.TaskID] = now
			timeout := time.Duration(max(check.TimeoutSeconds, 1)) * time.Second
			taskID, appID := i.TaskID, a.ID
			st.probes.Add(1)
			go func() {
				defer st.probes.Done()
				res := probe(st.ctx, target, timeout, check)
				res.TaskID = taskID
				s.mu.Lock()
				defer s.mu.Unlock()
				if s.st != st {
					return // the term ended
				}
				delete(st.probing, taskID)
				inst := st.instances[taskID]
				if inst == nil {
					return
				}
				st.readiness[taskID] = res
				if res.Ready {
					inst.Ready = true
					s.log.Info("instance ready", "app", appID, "task", taskID)
					s.drive(st, time.Now())
				}
			}()
		}
	}
	// Forget results of instances that are gone.
	for id := range st.readiness {
		if st.instances[id] == nil {
			delete(st.readiness, id)
		}
	}
	for id := range st.lastProbe {
		if st.instances[id] == nil {
			delete(st.lastProbe, id)
		}
	}
}

// readinessURL is where a check probes an instance: its agent's IP (its
// hostname if unknown), the host port of the check's portName (else the
// first port), the check's path.
func readinessURL(a *app.App, c app.ReadinessCheck, i *Instance) string {
	idx := slices.Index(a.PortNames(), c.PortName)
	if idx < 0 {
		idx = 0
	}
	port := 0
	if idx < len(i.Ports) {
		port = i.Ports[idx]
	}
	scheme := "http"
	if strings.EqualFold(c.Protocol, "HTTPS") {
		scheme = "https"
	}
	path := c.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	host := i.Host
	if i.IP != "" {
		host = i.IP
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + path
}

// probe runs one readiness check.
func probe(ctx context.Context, target string, timeout time.Duration, c app.ReadinessCheck) deploy.ReadinessCheckResult {
	res := deploy.ReadinessCheckResult{Name: c.Name}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return res
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return res
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res.Ready = slices.Contains(c.HTTPStatusCodesForReady, resp.StatusCode)
	if c.PreserveLastResponse {
		res.LastResponse = &deploy.HTTPResponse{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(body)}
	}
	return res
}

// readinessOf groups the latest results by app, for /v2/deployments:
// those of instances of each app's current config, the ones a deployment
// waits for.
func (st *leaderState) readinessOf() map[string][]deploy.ReadinessCheckResult {
	out := map[string][]deploy.ReadinessCheckResult{}
	for id, r := range st.readiness {
		i := st.instances[id]
		if i == nil {
			continue
		}
		if a, ok := st.root.App(i.AppID); !ok || !i.Config.Equal(configVersion(a)) {
			continue
		}
		out[string(i.AppID)] = append(out[string(i.AppID)], r)
	}
	for k := range out {
		slices.SortFunc(out[k], func(a, b deploy.ReadinessCheckResult) int { return strings.Compare(a.TaskID, b.TaskID) })
	}
	return out
}
