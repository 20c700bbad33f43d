package master

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/auth"
	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/mesos/recordio"
	"github.com/strata-dc/strata/master/state"
)

// maxBody bounds a call's body; bigger is a 413.
const maxBody = 4 << 20

// idleTimeout closes keep-alive connections no request has used for that
// long, so idle clients cannot pile up connections.
const idleTimeout = 2 * time.Minute

// StreamIDHeader names a subscription in calls made on its behalf.
const StreamIDHeader = "Mesos-Stream-Id"

func (m *Master) mux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/scheduler", m.serveScheduler)
	mux.HandleFunc("POST /api/v1/agent", m.serveAgent)
	mux.HandleFunc("POST /api/v1", m.serveOperator)
	for _, p := range []string{"/state", "/master/state", "/state.json", "/master/state.json"} {
		mux.HandleFunc("GET "+p, m.serveState)
	}
	for _, p := range []string{"/health", "/master/health"} {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	}
	for _, p := range []string{"/redirect", "/master/redirect"} {
		mux.HandleFunc(p, m.serveRedirect)
	}
	mux.HandleFunc("GET /metrics/snapshot", m.serveMetrics)
	mux.HandleFunc("GET /metrics", m.servePrometheus)
	return mux
}

// apiError is Strata's JSON error body.
type apiError struct {
	Message string   `json:"message"`
	Details []string `json:"details,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg string, details ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Message: msg, Details: details})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode answer: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeReply turns the machine's Reply into the HTTP answer.
func writeReply(w http.ResponseWriter, r state.Reply) {
	switch {
	case r.Status == http.StatusAccepted:
		w.WriteHeader(http.StatusAccepted)
	case r.Status == http.StatusOK && r.Body != nil:
		writeJSON(w, r.Body)
	case r.Status == http.StatusOK:
		w.WriteHeader(http.StatusOK)
	default:
		writeError(w, r.Status, r.Message, r.Details...)
	}
}

// readCall reads a JSON call body within timeout, answering
// 406/413/415/408/400 itself when it cannot.
func readCall(w http.ResponseWriter, r *http.Request, timeout time.Duration) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type: %q is not supported; send application/json", ct))
			return nil, false
		}
	}
	if accept := r.Header.Values("Accept"); !acceptsJSON(accept) {
		writeError(w, http.StatusNotAcceptable, fmt.Sprintf("Accept: %q: this API answers application/json only", strings.Join(accept, ", ")))
		return nil, false
	}
	// The body must arrive within timeout; the deadline is lifted once it
	// has, so a SUBSCRIBE stream is not cut by it.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		// The deadline stays, so that what is left of the body is not
		// waited for, and the connection ends with this answer.
		w.Header().Set("Connection", "close")
		var tooBig *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than %d bytes", maxBody))
		case errors.As(err, &ne) && ne.Timeout():
			writeError(w, http.StatusRequestTimeout, fmt.Sprintf("body: not received within %s", timeout))
		default:
			writeError(w, http.StatusBadRequest, "body: "+err.Error())
		}
		return nil, false
	}
	_ = rc.SetReadDeadline(time.Time{})
	return body, true
}

// acceptsJSON reports whether Accept headers allow a JSON answer: none
// given, application/json, application/* or */* (Mesos answers 406 to a
// client that accepts only protobuf). Streams are JSON records inside
// RecordIO, so application/recordio is accepted too.
func acceptsJSON(accept []string) bool {
	if len(accept) == 0 {
		return true
	}
	given := false
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			given = true
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case "application/json", "application/*", "*/*", "application/recordio":
				return true
			}
		}
	}
	return !given
}

func decodeError(w http.ResponseWriter, err error) {
	var fe mesos.FieldErrors
	if errors.As(err, &fe) {
		writeError(w, http.StatusBadRequest, fe[0].Error(), fe.Details()...)
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

// leaderLoop returns the running leader loop, or answers for a standby:
// 307 to the leader, 503 when there is none.
func (m *Master) leaderOrRedirect(w http.ResponseWriter, r *http.Request) *leaderLoop {
	if l := m.leading.Load(); l != nil {
		return l
	}
	if li := m.leader.Load(); li != nil && li.ID != m.id {
		// Every master of a cluster serves the same scheme; the client
		// keeps its token across the hop (master/client's transport).
		w.Header().Set("Location", m.sec.Scheme()+"://"+li.Endpoint()+r.URL.RequestURI())
		writeError(w, http.StatusTemporaryRedirect, "not the leader; the leader is "+li.Endpoint())
		return nil
	}
	writeError(w, http.StatusServiceUnavailable, "no leading master")
	return nil
}

func (m *Master) serveRedirect(w http.ResponseWriter, r *http.Request) {
	li := m.leader.Load()
	if li == nil {
		writeError(w, http.StatusServiceUnavailable, "no leading master")
		return
	}
	w.Header().Set("Location", m.sec.Scheme()+"://"+li.Endpoint())
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// serveScheduler is the scheduler API. Calls are rate limited per
// principal (--rate-limits) before anything else is done for them.
func (m *Master) serveScheduler(w http.ResponseWriter, r *http.Request) {
	if ok, retry := m.sec.Limiter.Allow(auth.PrincipalOf(r.Context())); !ok {
		auth.WriteRateLimited(w, auth.PrincipalOf(r.Context()), retry)
		return
	}
	serveCalls(m, w, r, mesos.DecodeCall, m.authorizeScheduler,
		func(c *mesos.Call) bool { return c.Type == mesos.CallSubscribe },
		func(req state.ReqID, s state.StreamID, c *mesos.Call) state.Event {
			return state.SchedulerCall{Req: req, Stream: s, Call: c}
		})
}

// serveAgent is the agent API.
func (m *Master) serveAgent(w http.ResponseWriter, r *http.Request) {
	serveCalls(m, w, r, mesos.DecodeAgentCall, m.authorizeAgent,
		func(c *mesos.AgentCall) bool { return c.Type == mesos.AgentCallSubscribe },
		func(req state.ReqID, s state.StreamID, c *mesos.AgentCall) state.Event {
			if c.Type == mesos.AgentCallSubscribe && c.Subscribe != nil {
				c.Subscribe.PID = agentPID(r, c.Subscribe.AgentInfo)
			}
			return state.AgentCall{Req: req, Stream: s, Call: c}
		})
}

// agentPID is Mesos' "slave(1)@ip:port" for an agent subscribing over r:
// the address it called from and the port it advertises. An agent on
// the control socket has no IP; its hostname stands in.
func agentPID(r *http.Request, info *mesos.AgentInfo) string {
	if info == nil || info.Port == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || host == "" || net.ParseIP(host) == nil {
		host = info.Hostname
	}
	return fmt.Sprintf("slave(1)@%s", net.JoinHostPort(host, fmt.Sprint(*info.Port)))
}

// serveCalls is what the scheduler and agent APIs share: decode the call
// (400 naming the field), find the leader (or redirect), authorize the
// call (401/403), then either
// answer one call on its own or, for SUBSCRIBE, open the event stream.
// Other calls name their stream in the Mesos-Stream-Id header.
func serveCalls[C any](m *Master, w http.ResponseWriter, r *http.Request,
	decode func([]byte) (C, error), authorize func(*http.Request, C) error, subscribe func(C) bool,
	event func(state.ReqID, state.StreamID, C) state.Event) {
	body, ok := readCall(w, r, m.cfg.RequestTimeout)
	if !ok {
		return
	}
	call, err := decode(body)
	if err != nil {
		decodeError(w, err)
		return
	}
	l := m.leaderOrRedirect(w, r)
	if l == nil {
		return
	}
	// Authorized by the leader, whose snapshot knows the frameworks; a
	// standby only redirects.
	if err := authorize(r, call); err != nil {
		writeAuthError(w, err)
		return
	}
	req := state.ReqID(m.reqSeq.Add(1))
	if !subscribe(call) {
		rep, err := l.submit(r.Context(), event(req, state.StreamID(r.Header.Get(StreamIDHeader)), call), req, nil)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeReply(w, rep)
		return
	}
	s := newStream()
	rep, err := l.submit(r.Context(), event(req, s.id, call), req, s)
	m.serveStream(w, r, l, s, rep, err)
}

// serveStream answers a SUBSCRIBE: 200 with the stream's records until
// the master closes it or the client goes away.
func (m *Master) serveStream(w http.ResponseWriter, r *http.Request, l *leaderLoop, s *stream, rep state.Reply, err error) {
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if rep.Status != http.StatusOK {
		writeReply(w, rep)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(StreamIDHeader, string(s.id))
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	rw := recordio.NewWriter(w)
	for {
		select {
		case b := <-s.ch:
			if err := rw.WriteRecord(b); err != nil {
				l.notify(state.StreamClosed{Stream: s.id})
				return
			}
		case <-s.done:
			for { // what was queued before the close still goes out
				select {
				case b := <-s.ch:
					if rw.WriteRecord(b) != nil {
						return
					}
				default:
					return
				}
			}
		case <-r.Context().Done():
			l.notify(state.StreamClosed{Stream: s.id})
			return
		}
	}
}

// serveOperator is the operator API: reads from the published snapshot,
// changes through the state machine.
func (m *Master) serveOperator(w http.ResponseWriter, r *http.Request) {
	body, ok := readCall(w, r, m.cfg.RequestTimeout)
	if !ok {
		return
	}
	call, err := mesos.DecodeOperatorCall(body)
	if err != nil {
		decodeError(w, err)
		return
	}
	resp := &mesos.OperatorResponse{Type: call.Type}
	switch call.Type {
	case mesos.OperatorGetHealth:
		resp.GetHealth = &mesos.GetHealth{Healthy: true}
		writeJSON(w, resp)
		return
	case mesos.OperatorGetVersion:
		resp.GetVersion = &mesos.GetVersion{VersionInfo: &mesos.VersionInfo{Version: m.cfg.Version}}
		writeJSON(w, resp)
		return
	}
	l := m.leaderOrRedirect(w, r)
	if l == nil {
		return
	}
	if err := m.authorizeOperator(r, call); err != nil {
		writeAuthError(w, err)
		return
	}
	p := m.snapshot.Load()
	if p == nil {
		writeError(w, http.StatusServiceUnavailable, "the leader is starting")
		return
	}
	snap := p.snap
	switch call.Type {
	case mesos.OperatorGetState:
		// The snapshot's own encoder reuses tasks' cached JSON: the
		// same bytes as writeJSON(resp), in a fraction of the time.
		b, err := snap.AppendGetStateJSON(nil)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "encode answer: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return
	case mesos.OperatorGetAgents:
		resp.GetAgents = snap.State.GetAgents
	case mesos.OperatorGetFrameworks:
		resp.GetFrameworks = snap.State.GetFrameworks
	case mesos.OperatorGetTasks:
		resp.GetTasks = snap.State.GetTasks
	case mesos.OperatorGetExecutors:
		resp.GetExecutors = snap.State.GetExecutors
	case mesos.OperatorGetRoles:
		resp.GetRoles = &snap.Roles
	case mesos.OperatorGetWeights:
		resp.GetWeights = &snap.Weights
	case mesos.OperatorGetQuota:
		resp.GetQuota = &snap.Quota
	case mesos.OperatorGetMaster:
		info := m.info
		resp.GetMaster = &mesos.GetMaster{MasterInfo: &info, StartTime: secs(m.start), ElectedTime: secs(time.Unix(0, m.elected.Load()))}
	case mesos.OperatorGetMetrics:
		metrics := m.metrics()
		list := &mesos.GetMetrics{}
		for _, name := range sortedNames(metrics) {
			v := metrics[name]
			list.Metrics = append(list.Metrics, mesos.Metric{Name: name, Value: &v})
		}
		resp.GetMetrics = list
	case mesos.OperatorGetFlags:
		resp.GetFlags = &mesos.GetFlags{Flags: m.flags()}
	case mesos.OperatorSubscribe:
		offers := call.Subscribe != nil && call.Subscribe.OfferEvents
		s := newStream()
		req := state.ReqID(m.reqSeq.Add(1))
		in := input{req: req, reply: make(chan state.Reply, 1), stream: s, opOffers: &offers}
		rep, err := l.submitInput(r.Context(), in)
		m.serveStream(w, r, l, s, rep, err)
		return
	default:
		req := state.ReqID(m.reqSeq.Add(1))
		rep, err := l.submit(r.Context(), state.OperatorCall{Req: req, Call: call}, req, nil)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeReply(w, rep)
		return
	}
	writeJSON(w, resp)
}

func secs(t time.Time) float64 {
	if t.UnixNano() == 0 {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func sortedNames(m map[string]float64) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func (m *Master) flags() []mesos.Flag {
	c := m.cfg
	zk := c.ZK // its digest password, if any, is a secret
	if u, err := coord.ParseURL(zk); err == nil {
		zk = u.Redacted()
	}
	flags := []mesos.Flag{
		{Name: "zk", Value: zk}, {Name: "work_dir", Value: c.WorkDir},
		{Name: "ip", Value: c.IP}, {Name: "port", Value: fmt.Sprint(m.info.Port)},
		{Name: "allocation_interval", Value: c.AllocationInterval.String()},
		{Name: "offer_timeout", Value: c.OfferTimeout.String()},
		{Name: "agent_ping_timeout", Value: c.AgentPingTimeout.String()},
		{Name: "max_agent_ping_timeouts", Value: fmt.Sprint(c.MaxAgentPingMisses)},
		{Name: "authenticate_agents", Value: fmt.Sprint(c.AuthenticateAgents)},
	}
	// Security flags show paths and modes, never what the files hold.
	for _, f := range m.sec.Flags() {
		flags = append(flags, mesos.Flag{Name: f[0], Value: f[1]})
	}
	return flags
}

// metrics are /metrics/snapshot's values: the leader's counts from its
// snapshot, and master/elected on every master.
func (m *Master) metrics() map[string]float64 {
	out := map[string]float64{"master/elected": 0, "master/uptime_secs": time.Since(m.start).Seconds()}
	if m.Leading() {
		out["master/elected"] = 1
		if p := m.snapshot.Load(); p != nil {
			for k, v := range p.snap.Metrics {
				out[k] = v
			}
			out["allocator/mesos/allocation_run_ms"] = p.allocMS
		}
	}
	return out
}

func (m *Master) serveMetrics(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, m.metrics())
}

// servePrometheus is GET /metrics: the same values in Prometheus' text
// format, names with "/" turned into "_" and prefixed "strata_".
func (m *Master) servePrometheus(w http.ResponseWriter, r *http.Request) {
	metrics := m.metrics()
	var b strings.Builder
	for _, name := range sortedNames(metrics) {
		pn := "strata_" + strings.NewReplacer("/", "_", "-", "_", ".", "_").Replace(name)
		fmt.Fprintf(&b, "# TYPE %s gauge\n%s %g\n", pn, pn, metrics[name])
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = io.WriteString(w, b.String())
}

// serveState is GET /state: the leader's view in one JSON document, with
// the operator API's shapes (Mesos' v0 /state has its own; this keeps
// Mesos' top-level names where they exist).
func (m *Master) serveState(w http.ResponseWriter, r *http.Request) {
	l := m.leaderOrRedirect(w, r)
	if l == nil {
		return
	}
	p := m.snapshot.Load()
	if p == nil {
		writeError(w, http.StatusServiceUnavailable, "the leader is starting")
		return
	}
	st := p.snap.State
	out := map[string]any{
		"id": m.id, "pid": m.info.PID, "hostname": m.info.Hostname, "version": m.cfg.Version,
		"leader": m.info.PID, "leader_info": m.info,
		"start_time": secs(m.start), "elected_time": secs(time.Unix(0, m.elected.Load())),
		"activated_slaves": p.snap.Metrics["master/agents_active"],
		"frameworks":       st.GetFrameworks.Frameworks, "completed_frameworks": st.GetFrameworks.CompletedFrameworks,
		"slaves": st.GetAgents.Agents, "recovered_slaves": st.GetAgents.RecoveredAgents,
		"tasks": st.GetTasks.Tasks, "unreachable_tasks": st.GetTasks.UnreachableTasks,
		"completed_tasks": st.GetTasks.CompletedTasks,
		"roles":           p.snap.Roles.Roles,
	}
	if strings.HasSuffix(r.URL.Path, ".json") {
		w.Header().Set("Content-Type", "application/json")
	}
	writeJSON(w, out)
}
