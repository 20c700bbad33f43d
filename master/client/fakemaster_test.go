package client

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/mesos/recordio"
)

// A fake master: just enough of Mesos' v1 scheduler and operator HTTP APIs
// to drive the clients, and strict about the transport rules of
// MESOS-JSON.md, as the real master will be: exact Content-Type and Accept
// headers, Mesos-Stream-Id absent on SUBSCRIBE and matching on every other
// call, bodies decoded and validated with the mesos package's server-side
// rules, 307 from a standby, 503 without a leader, 403 for an unsubscribed
// framework. Several fake masters form a fakeCluster that says which of them
// leads.

type fakeCluster struct {
	t      *testing.T
	mu     sync.Mutex
	leader *fakeMaster
}

func newFakeCluster(t *testing.T) *fakeCluster { return &fakeCluster{t: t} }

func (c *fakeCluster) setLeader(m *fakeMaster) {
	c.mu.Lock()
	c.leader = m
	c.mu.Unlock()
}

func (c *fakeCluster) getLeader() *fakeMaster {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

type fakeMaster struct {
	t        *testing.T
	c        *fakeCluster
	name     string
	srv      *httptest.Server
	url      string // base URL clients use
	hostport string // what redirects point at
	token    string // required bearer token, if any

	heartbeat float64 // seconds announced in SUBSCRIBED and between heartbeats

	requests  atomic.Int64 // requests served, by any endpoint
	redirects atomic.Int64 // 307s answered

	calls      chan recordedCall            // accepted scheduler calls (not SUBSCRIBE)
	subscribes chan *mesos.Call             // accepted scheduler SUBSCRIBEs
	opCalls    chan *mesos.OperatorCall     // accepted operator calls
	opSubs     chan *mesos.SubscribeOptions // accepted operator SUBSCRIBEs

	mu         sync.Mutex
	frameworks map[mesos.FrameworkID]*fakeFramework
	operators  map[*fakeOpSub]struct{}
	offers     map[mesos.OfferID]mesos.FrameworkID
	removed    map[mesos.FrameworkID]bool // torn down: may not come back
	nextID     int
	weights    []mesos.WeightInfo
	quotas     []mesos.QuotaConfig

	quit     chan struct{}
	killOnce sync.Once
}

type recordedCall struct {
	call *mesos.Call
	raw  string
}

type fakeFramework struct {
	id        mesos.FrameworkID
	streamID  string
	connected bool
	muted     atomic.Bool       // write nothing more: a hung master
	events    chan *mesos.Event // to the stream
	closed    chan struct{}     // ends the stream after what is queued
	closeOnce sync.Once
}

func (f *fakeFramework) close() { f.closeOnce.Do(func() { close(f.closed) }) }

type fakeOpSub struct {
	opts      mesos.SubscribeOptions
	events    chan *mesos.OperatorEvent
	closed    chan struct{}
	closeOnce sync.Once
}

func (s *fakeOpSub) close() { s.closeOnce.Do(func() { close(s.closed) }) }

const fakeAgent mesos.AgentID = "A1-S1"

func (c *fakeCluster) newMaster(name string) *fakeMaster {
	m := &fakeMaster{
		t: c.t, c: c, name: name, heartbeat: 0.5,
		calls:      make(chan recordedCall, 1000),
		subscribes: make(chan *mesos.Call, 100),
		opCalls:    make(chan *mesos.OperatorCall, 1000),
		opSubs:     make(chan *mesos.SubscribeOptions, 100),
		frameworks: map[mesos.FrameworkID]*fakeFramework{},
		operators:  map[*fakeOpSub]struct{}{},
		offers:     map[mesos.OfferID]mesos.FrameworkID{},
		removed:    map[mesos.FrameworkID]bool{},
		quit:       make(chan struct{}),
	}
	m.srv = httptest.NewUnstartedServer(m)
	return m
}

// start serves on 127.0.0.1 (TLS if asked) and makes m the leader if the
// cluster has none.
func (c *fakeCluster) start(name string, tls bool) *fakeMaster {
	m := c.newMaster(name)
	if tls {
		m.srv.StartTLS()
	} else {
		m.srv.Start()
	}
	m.url = m.srv.URL
	m.hostport = m.srv.Listener.Addr().String()
	c.t.Cleanup(m.kill)
	c.mu.Lock()
	if c.leader == nil {
		c.leader = m
	}
	c.mu.Unlock()
	return m
}

// startUnix serves on a Unix socket at path.
func (c *fakeCluster) startUnix(name, path string) *fakeMaster {
	m := c.newMaster(name)
	l, err := net.Listen("unix", path)
	if err != nil {
		c.t.Fatalf("listen on %s: %v", path, err)
	}
	m.srv.Listener = l
	m.srv.Start()
	m.url = "unix://" + path
	m.hostport = "127.0.0.1:5050" // never dialled in the Unix tests
	c.t.Cleanup(m.kill)
	c.mu.Lock()
	if c.leader == nil {
		c.leader = m
	}
	c.mu.Unlock()
	return m
}

// kill makes the master die: streams end, connections drop, nothing listens.
func (m *fakeMaster) kill() {
	m.killOnce.Do(func() {
		close(m.quit)
		m.srv.CloseClientConnections()
		m.srv.Close()
	})
}

func (m *fakeMaster) info() *mesos.MasterInfo {
	host, port, _ := net.SplitHostPort(m.hostport)
	var p uint32
	fmt.Sscan(port, &p)
	addr, _ := netip.ParseAddr(host)
	return &mesos.MasterInfo{ID: m.name, IP: mesos.PackIPv4(addr), Port: p, Hostname: host,
		Address: &mesos.Address{Hostname: host, IP: host, Port: int32(p)}}
}

func (m *fakeMaster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.requests.Add(1)
	if m.token != "" && r.Header.Get("Authorization") != "Bearer "+m.token {
		w.Header().Set("WWW-Authenticate", `Bearer realm="strata"`)
		textError(w, http.StatusUnauthorized, "Missing or wrong bearer token")
		return
	}
	switch r.URL.Path {
	case schedulerPath:
		if m.redirectUnlessLeader(w, r) && m.postJSON(w, r) {
			m.serveScheduler(w, r)
		}
	case operatorPath:
		if m.redirectUnlessLeader(w, r) && m.postJSON(w, r) {
			m.serveOperator(w, r)
		}
	case "/health":
		w.WriteHeader(http.StatusOK)
	case "/metrics/snapshot":
		elected := 0
		if m.c.getLeader() == m {
			elected = 1
		}
		writeJSON(w, map[string]any{"master/elected": elected, "master/tasks_running": 3,
			"allocator/mesos/allocation_run_ms": 0.25})
	case "/state":
		if m.redirectUnlessLeader(w, r) {
			writeJSON(w, map[string]any{"id": m.name, "leader_info": m.info(), "activated_slaves": 1})
		}
	case "/redirect":
		leader := m.c.getLeader()
		if leader == nil {
			textError(w, http.StatusServiceUnavailable, "No leader elected")
			return
		}
		w.Header().Set("Location", "//"+leader.hostport)
		w.WriteHeader(http.StatusTemporaryRedirect)
	default:
		http.NotFound(w, r)
	}
}

// redirectUnlessLeader answers a standby's 307 (or 503 without a leader),
// as Mesos does before looking at the request.
func (m *fakeMaster) redirectUnlessLeader(w http.ResponseWriter, r *http.Request) bool {
	leader := m.c.getLeader()
	if leader == m {
		return true
	}
	if leader == nil {
		textError(w, http.StatusServiceUnavailable, "No leader elected")
		return false
	}
	m.redirects.Add(1)
	w.Header().Set("Location", "//"+leader.hostport+r.URL.RequestURI())
	w.WriteHeader(http.StatusTemporaryRedirect)
	return false
}

// postJSON enforces the method and the exact content types.
func (m *fakeMaster) postJSON(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		textError(w, http.StatusMethodNotAllowed, "Expecting POST")
		return false
	}
	if ct := r.Header.Get("Content-Type"); ct != contentJSON {
		textError(w, http.StatusUnsupportedMediaType, "Expecting 'Content-Type' of application/json, got "+ct)
		return false
	}
	if a := r.Header.Get("Accept"); a != contentJSON {
		textError(w, http.StatusNotAcceptable, "Expecting 'Accept' to allow application/json, got "+a)
		return false
	}
	return true
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		textError(w, http.StatusBadRequest, "read body: "+err.Error())
		return nil, false
	}
	if len(body) > 1<<20 {
		jsonError(w, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB")
		return nil, false
	}
	return body, true
}

func textError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg)
}

func jsonError(w http.ResponseWriter, code int, msg string, details ...string) {
	w.Header().Set("Content-Type", contentJSON)
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"message": msg, "details": details})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", contentJSON)
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(v)
}

func newUUID() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	return b
}

// --- scheduler API ---

func (m *fakeMaster) serveScheduler(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	call, err := mesos.DecodeCall(body)
	if err != nil {
		textError(w, http.StatusBadRequest, "Failed to validate scheduler::Call: "+err.Error())
		return
	}
	if call.Type == mesos.CallSubscribe {
		m.subscribe(w, r, call)
		return
	}
	code, msg, details := m.schedulerCall(r, call)
	switch {
	case code == http.StatusAccepted:
		m.calls <- recordedCall{call: call, raw: string(body)}
		w.WriteHeader(http.StatusAccepted)
	case details != nil:
		jsonError(w, code, msg, details...)
	default:
		textError(w, code, msg)
	}
}

// schedulerCall applies a non-SUBSCRIBE call the way Mesos' handler checks
// it, and answers (code, message, details).
func (m *fakeMaster) schedulerCall(r *http.Request, call *mesos.Call) (int, string, []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fw := m.frameworks[call.FrameworkID]
	streamID := r.Header.Get(headerStreamID)
	switch {
	case fw == nil:
		return http.StatusBadRequest, "Framework cannot be found", nil
	case !fw.connected:
		return http.StatusForbidden, "Framework is not subscribed", nil
	case streamID == "":
		return http.StatusBadRequest, "All non-subscribe calls should include the 'Mesos-Stream-Id' header", nil
	case streamID != fw.streamID:
		return http.StatusBadRequest, fmt.Sprintf("The stream ID '%s' included in this request didn't match the stream ID currently associated with framework ID %s", streamID, fw.id), nil
	}
	useOffers := func(field string, ids []mesos.OfferID) (int, string, []string) {
		for i, id := range ids {
			if m.offers[id] != fw.id {
				return http.StatusBadRequest, "unknown offer",
					[]string{fmt.Sprintf("%s.offer_ids[%d]: offer %s is not outstanding for framework %s", field, i, id, fw.id)}
			}
		}
		for _, id := range ids {
			delete(m.offers, id)
		}
		return http.StatusAccepted, "", nil
	}
	switch call.Type {
	case mesos.CallAccept:
		return useOffers("accept", call.Accept.OfferIDs)
	case mesos.CallDecline:
		return useOffers("decline", call.Decline.OfferIDs)
	case mesos.CallTeardown:
		delete(m.frameworks, fw.id)
		m.removed[fw.id] = true
		fw.connected = false
		fw.close()
	}
	return http.StatusAccepted, "", nil
}

func (m *fakeMaster) subscribe(w http.ResponseWriter, r *http.Request, call *mesos.Call) {
	if r.Header.Get(headerStreamID) != "" {
		textError(w, http.StatusBadRequest, "Subscribe calls should not include the 'Mesos-Stream-Id' header")
		return
	}
	m.mu.Lock()
	id := call.FrameworkID
	if m.removed[id] {
		// As Mesos does: the stream opens, says why, and ends.
		m.mu.Unlock()
		m.subscribes <- call
		w.Header().Set("Content-Type", contentJSON)
		w.Header().Set(headerStreamID, hex.EncodeToString(newUUID()))
		w.WriteHeader(http.StatusOK)
		recordio.NewWriter(w).Encode(mesos.NewErrorEvent("Framework has been removed"))
		return
	}
	if id == "" {
		m.nextID++
		id = mesos.FrameworkID(fmt.Sprintf("%s-%04d", m.name, m.nextID))
	}
	if old := m.frameworks[id]; old != nil {
		old.events <- mesos.NewErrorEvent("Framework failed over")
		old.connected = false
		old.close()
	}
	sid := newUUID()
	fw := &fakeFramework{id: id, streamID: hex.EncodeToString(sid), connected: true,
		events: make(chan *mesos.Event, 20000), closed: make(chan struct{})}
	m.frameworks[id] = fw
	m.mu.Unlock()
	m.subscribes <- call

	w.Header().Set("Content-Type", contentJSON)
	w.Header().Set(headerStreamID, fw.streamID)
	w.WriteHeader(http.StatusOK)
	rw := recordio.NewWriter(w)
	defer func() {
		m.mu.Lock()
		if m.frameworks[id] == fw {
			fw.connected = false
		}
		m.mu.Unlock()
	}()
	if err := rw.Encode(&mesos.Event{Type: mesos.EventSubscribed, Subscribed: &mesos.Subscribed{
		FrameworkID: id, HeartbeatIntervalSeconds: m.heartbeat, MasterInfo: m.info()}}); err != nil {
		return
	}
	tick := time.NewTicker(time.Duration(m.heartbeat * float64(time.Second)))
	defer tick.Stop()
	for {
		select {
		case ev := <-fw.events:
			if !fw.muted.Load() && rw.Encode(ev) != nil {
				return
			}
		case <-tick.C:
			if !fw.muted.Load() && rw.Encode(mesos.NewHeartbeatEvent()) != nil {
				return
			}
		case <-fw.closed:
			for {
				select {
				case ev := <-fw.events:
					if rw.Encode(ev) != nil {
						return
					}
				default:
					return
				}
			}
		case <-r.Context().Done():
			return
		case <-m.quit:
			return
		}
	}
}

func (m *fakeMaster) framework(t *testing.T, id mesos.FrameworkID) *fakeFramework {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	fw := m.frameworks[id]
	if fw == nil {
		t.Fatalf("master %s has no framework %s", m.name, id)
	}
	return fw
}

// sendOffers offers n slices of the fake agent to a framework.
func (m *fakeMaster) sendOffers(t *testing.T, id mesos.FrameworkID, n int) []mesos.Offer {
	t.Helper()
	fw := m.framework(t, id)
	var offers []mesos.Offer
	m.mu.Lock()
	for range n {
		m.nextID++
		o := mesos.Offer{ID: mesos.OfferID(fmt.Sprintf("%s-O%d", m.name, m.nextID)), FrameworkID: id,
			AgentID: fakeAgent, Hostname: "agent1", Resources: mesos.MustParseResources("cpus:1;mem:128")}
		m.offers[o.ID] = id
		offers = append(offers, o)
	}
	m.mu.Unlock()
	fw.events <- &mesos.Event{Type: mesos.EventOffers, Offers: &mesos.Offers{Offers: offers}}
	return offers
}

// sendUpdate sends a status update that needs acknowledging.
func (m *fakeMaster) sendUpdate(t *testing.T, id mesos.FrameworkID, task mesos.TaskID, state mesos.TaskState) *mesos.TaskStatus {
	t.Helper()
	st := &mesos.TaskStatus{TaskID: task, State: state, Source: mesos.SourceExecutor, AgentID: fakeAgent,
		UUID: newUUID(), Timestamp: 1700000000.5}
	m.framework(t, id).events <- &mesos.Event{Type: mesos.EventUpdate, Update: &mesos.Update{Status: st}}
	return st
}

// muteStreams makes the current scheduler streams go silent, as a hung or
// partitioned master would, while their connections stay open.
func (m *fakeMaster) muteStreams() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, fw := range m.frameworks {
		fw.muted.Store(true)
	}
}

// forgetStream makes the master believe a framework disconnected although
// its connection is still open, so its next call gets 403.
func (m *fakeMaster) forgetStream(t *testing.T, id mesos.FrameworkID) {
	fw := m.framework(t, id)
	m.mu.Lock()
	fw.connected = false
	m.mu.Unlock()
}

// --- operator API ---

func (m *fakeMaster) serveOperator(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	call, err := mesos.DecodeOperatorCall(body)
	if err != nil {
		var fe mesos.FieldErrors
		if errors.As(err, &fe) {
			jsonError(w, http.StatusBadRequest, "invalid operator call", fe.Details()...)
		} else {
			jsonError(w, http.StatusBadRequest, err.Error())
		}
		return
	}
	if call.Type == mesos.OperatorSubscribe {
		m.operatorSubscribe(w, r, call)
		return
	}
	agentKnown := func(id mesos.AgentID) bool {
		if id != fakeAgent {
			jsonError(w, http.StatusBadRequest, "unknown agent", fmt.Sprintf("agent_id: agent %s is not registered", id))
			return false
		}
		return true
	}
	resp := &mesos.OperatorResponse{Type: call.Type}
	switch call.Type {
	case mesos.OperatorGetHealth:
		resp.GetHealth = &mesos.GetHealth{Healthy: true}
	case mesos.OperatorGetVersion:
		resp.GetVersion = &mesos.GetVersion{VersionInfo: &mesos.VersionInfo{Version: "1.11.0", GitSHA: "abc"}}
	case mesos.OperatorGetFlags:
		resp.GetFlags = &mesos.GetFlags{Flags: []mesos.Flag{{Name: "port", Value: "5050"}}}
	case mesos.OperatorGetMetrics:
		v := 3.0
		resp.GetMetrics = &mesos.GetMetrics{Metrics: []mesos.Metric{{Name: "master/tasks_running", Value: &v}}}
	case mesos.OperatorGetState:
		resp.GetState = m.state()
	case mesos.OperatorGetAgents:
		resp.GetAgents = m.state().GetAgents
	case mesos.OperatorGetFrameworks:
		resp.GetFrameworks = m.state().GetFrameworks
	case mesos.OperatorGetTasks:
		resp.GetTasks = m.state().GetTasks
	case mesos.OperatorGetRoles:
		resp.GetRoles = &mesos.GetRoles{Roles: []mesos.Role{{Name: "eng", Weight: 2, Frameworks: []mesos.FrameworkID{"F1"}}}}
	case mesos.OperatorGetWeights:
		m.mu.Lock()
		resp.GetWeights = &mesos.GetWeights{WeightInfos: m.weights}
		m.mu.Unlock()
	case mesos.OperatorGetQuota:
		m.mu.Lock()
		resp.GetQuota = &mesos.GetQuota{Status: &mesos.QuotaStatus{Configs: m.quotas}}
		m.mu.Unlock()
	case mesos.OperatorGetMaster:
		resp.GetMaster = &mesos.GetMaster{MasterInfo: m.info(), StartTime: 1700000000, ElectedTime: 1700000001}
	case mesos.OperatorUpdateWeights:
		m.mu.Lock()
		m.weights = call.UpdateWeights.WeightInfos
		m.mu.Unlock()
		m.opCalls <- call
		w.WriteHeader(http.StatusAccepted)
		return
	case mesos.OperatorReserveResources, mesos.OperatorUnreserveResources:
		agent := mesos.AgentID("")
		if call.ReserveResources != nil {
			agent = call.ReserveResources.AgentID
		} else {
			agent = call.UnreserveResources.AgentID
		}
		if !agentKnown(agent) {
			return
		}
		m.opCalls <- call
		w.WriteHeader(http.StatusAccepted)
		return
	case mesos.OperatorUpdateQuota:
		m.mu.Lock()
		m.quotas = call.UpdateQuota.QuotaConfigs
		m.mu.Unlock()
		m.opCalls <- call
		w.WriteHeader(http.StatusOK) // Mesos: a bare 200 OK
		return
	case mesos.OperatorDrainAgent, mesos.OperatorDeactivateAgent, mesos.OperatorReactivateAgent, mesos.OperatorMarkAgentGone:
		var agent mesos.AgentID
		switch {
		case call.DrainAgent != nil:
			agent = call.DrainAgent.AgentID
		case call.DeactivateAgent != nil:
			agent = call.DeactivateAgent.AgentID
		case call.ReactivateAgent != nil:
			agent = call.ReactivateAgent.AgentID
		default:
			agent = call.MarkAgentGone.AgentID
		}
		if !agentKnown(agent) {
			return
		}
		m.opCalls <- call
		w.WriteHeader(http.StatusOK)
		return
	case mesos.OperatorTeardown:
		m.opCalls <- call
		w.WriteHeader(http.StatusOK)
		return
	default:
		jsonError(w, http.StatusNotImplemented, "call "+string(call.Type)+" is not implemented by the fake")
		return
	}
	m.opCalls <- call
	writeJSON(w, resp)
}

func (m *fakeMaster) state() *mesos.GetState {
	port := int32(5051)
	agent := mesos.Agent{AgentInfo: &mesos.AgentInfo{ID: fakeAgent, Hostname: "agent1", Port: &port,
		Resources: mesos.MustParseResources("cpus:4;mem:4096")}, Active: true, Version: "1.11.0",
		TotalResources: mesos.MustParseResources("cpus:4;mem:4096")}
	fw := mesos.Framework{FrameworkInfo: &mesos.FrameworkInfo{User: "root", Name: "marathon", ID: "F1"},
		Active: true, Connected: true}
	task := mesos.Task{Name: "web", TaskID: "web.1", FrameworkID: "F1", AgentID: fakeAgent, State: "TASK_RUNNING"}
	return &mesos.GetState{
		GetAgents:     &mesos.GetAgents{Agents: []mesos.Agent{agent}},
		GetFrameworks: &mesos.GetFrameworks{Frameworks: []mesos.Framework{fw}},
		GetTasks:      &mesos.GetTasks{Tasks: []mesos.Task{task}},
	}
}

func (m *fakeMaster) operatorSubscribe(w http.ResponseWriter, r *http.Request, call *mesos.OperatorCall) {
	sub := &fakeOpSub{events: make(chan *mesos.OperatorEvent, 1000), closed: make(chan struct{})}
	if call.Subscribe != nil {
		sub.opts = *call.Subscribe
	}
	m.mu.Lock()
	m.operators[sub] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.operators, sub)
		m.mu.Unlock()
	}()
	m.opSubs <- &sub.opts

	w.Header().Set("Content-Type", contentJSON)
	w.WriteHeader(http.StatusOK)
	rw := recordio.NewWriter(w)
	if rw.Encode(&mesos.OperatorEvent{Type: mesos.OperatorEventSubscribed, Subscribed: &mesos.OperatorSubscribed{
		GetState: m.state(), HeartbeatIntervalSeconds: m.heartbeat}}) != nil {
		return
	}
	tick := time.NewTicker(time.Duration(m.heartbeat * float64(time.Second)))
	defer tick.Stop()
	for {
		select {
		case ev := <-sub.events:
			if rw.Encode(ev) != nil {
				return
			}
		case <-tick.C:
			if rw.Encode(mesos.NewOperatorHeartbeat()) != nil {
				return
			}
		case <-sub.closed:
			return
		case <-r.Context().Done():
			return
		case <-m.quit:
			return
		}
	}
}

// broadcast sends ev to every operator subscriber that may see it: Strata's
// offer events only to those that opted in, as the real master must.
func (m *fakeMaster) broadcast(ev *mesos.OperatorEvent) {
	if !ev.Type.IsKnown() {
		m.t.Fatalf("fake master asked to broadcast unknown event type %s", ev.Type)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for sub := range m.operators {
		if ev.Type.IsStrataExtension() && !sub.opts.OfferEvents {
			continue
		}
		sub.events <- ev
	}
}

// operatorCount returns how many operator streams are open.
func (m *fakeMaster) operatorCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.operators)
}

// cutOperatorStreams ends every operator stream, as a master restart would.
func (m *fakeMaster) cutOperatorStreams() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for sub := range m.operators {
		sub.close()
	}
}

// --- helpers shared by the tests ---

// checkLeaks fails the test if goroutines started during it outlive it.
// Register it first, so it runs after every other cleanup.
func checkLeaks(t *testing.T) {
	t.Helper()
	base := goroutines()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := goroutines()
			if n <= base {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("goroutines leaked: %d before the test, %d after\n%s", base, n, stacks())
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// wait receives from ch, failing the test if nothing comes in a generous
// while (a hang, not a slow machine).
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// nextEvent returns the next scheduler event other than a heartbeat.
func nextEvent(t *testing.T, ch <-chan *mesos.Event) *mesos.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("events channel closed")
			}
			if ev.Type != mesos.EventHeartbeat {
				return ev
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("timed out waiting for an event")
		}
	}
}

func goroutines() int { return runtime.NumGoroutine() }

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// nextCall returns the next accepted scheduler call of type typ, skipping
// others.
func nextCall(t *testing.T, m *fakeMaster, typ mesos.CallType) recordedCall {
	t.Helper()
	for {
		c := wait(t, m.calls, "a "+string(typ)+" call at master "+m.name)
		if c.call.Type == typ {
			return c
		}
	}
}

// deadAddress returns an http URL where nothing listens.
func deadAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// testOptions are fast for tests: quick retries, short first-event waits.
func testOptions(master string) Options {
	return Options{Master: master, Timeout: 5 * time.Second,
		Backoff: Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}}
}

func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%q does not contain %q", s, sub)
	}
}
