package state

import (
	"fmt"
	"time"

	"github.com/strata-dc/strata/master/allocator"
	"github.com/strata-dc/strata/master/mesos"
)

// Defaults for Config's zero values.
const (
	DefaultAllocationInterval = time.Second
	DefaultOfferTimeout       = time.Minute
	DefaultHeartbeatInterval  = 15 * time.Second
	DefaultPingTimeout        = 15 * time.Second
	DefaultMaxPingMisses      = 5
	DefaultFailoverTimeout    = 7 * 24 * time.Hour
	DefaultStatusRetry        = 10 * time.Second
	DefaultReregisterTimeout  = 10 * time.Minute
	maxCompletedTasks         = 1000
	maxCompletedFrameworks    = 100
)

// Config configures a Machine.
type Config struct {
	// MasterID prefixes every ID the machine hands out.
	MasterID   string
	MasterInfo *mesos.MasterInfo

	AllocationInterval time.Duration
	// OfferTimeout rescinds offers held longer; negative disables it.
	OfferTimeout      time.Duration
	HeartbeatInterval time.Duration // framework HEARTBEATs and agent PINGs
	PingTimeout       time.Duration // one missed PONG
	MaxPingMisses     int           // unreachable after this many
	// FailoverTimeout applies to frameworks whose FrameworkInfo sets none:
	// long, so a scheduler's crash does not kill its tasks (Mesos' default
	// of 0 does).
	FailoverTimeout time.Duration
	// StatusRetry is how often an unacknowledged status update is resent.
	StatusRetry time.Duration
	// ReregisterTimeout is how long agents in the registry have to come
	// back after a failover before they are marked unreachable.
	ReregisterTimeout time.Duration

	Allocator allocator.Options
	Registry  Registry
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.AllocationInterval, DefaultAllocationInterval)
	def(&c.OfferTimeout, DefaultOfferTimeout)
	def(&c.HeartbeatInterval, DefaultHeartbeatInterval)
	def(&c.PingTimeout, DefaultPingTimeout)
	def(&c.FailoverTimeout, DefaultFailoverTimeout)
	def(&c.StatusRetry, DefaultStatusRetry)
	def(&c.ReregisterTimeout, DefaultReregisterTimeout)
	if c.MaxPingMisses <= 0 {
		c.MaxPingMisses = DefaultMaxPingMisses
	}
	if c.MasterID == "" {
		c.MasterID = "master"
	}
}

// StreamID names one open stream (a scheduler's or an agent's
// subscription); the daemon makes them unique.
type StreamID string

// ReqID names one HTTP request waiting for its Reply.
type ReqID uint64

// Event is an input to Step.
type Event interface{ isEvent() }

// Tick lets time pass: allocation, timeouts, heartbeats.
type Tick struct{}

// SchedulerCall is a decoded, validated scheduler call. Stream is the
// request's Mesos-Stream-Id header, or for SUBSCRIBE the ID of the stream
// the daemon opened for the answer.
type SchedulerCall struct {
	Req    ReqID
	Stream StreamID
	Call   *mesos.Call
}

// AgentCall is a decoded, validated agent call. Stream is as for
// SchedulerCall.
type AgentCall struct {
	Req    ReqID
	Stream StreamID
	Call   *mesos.AgentCall
}

// OperatorCall is an operator call that changes state (reads come from
// the Snapshot).
type OperatorCall struct {
	Req  ReqID
	Call *mesos.OperatorCall
}

// StreamClosed says a stream ended from the far side (the client went
// away, or the daemon could not keep up with it).
type StreamClosed struct{ Stream StreamID }

// registryApplied is the Then event of the machine's own RegistryWrites:
// what to do once the write is durable.
type registryApplied struct {
	apply func(m *Machine, now time.Time)
}

func (Tick) isEvent()            {}
func (SchedulerCall) isEvent()   {}
func (AgentCall) isEvent()       {}
func (OperatorCall) isEvent()    {}
func (StreamClosed) isEvent()    {}
func (registryApplied) isEvent() {}

// Action is an output of Step, for the daemon to carry out in order.
type Action interface{ isAction() }

// SendFramework puts Event on a scheduler's stream.
type SendFramework struct {
	Stream StreamID
	Event  *mesos.Event
}

// SendAgent puts Event on an agent's stream.
type SendAgent struct {
	Stream StreamID
	Event  *mesos.AgentEvent
}

// CloseStream ends a stream from the master's side.
type CloseStream struct {
	Stream StreamID
	Reason string
}

// Reply answers request Req: Status 200 opens a SUBSCRIBE stream (its
// events follow as Send actions) or carries Body as JSON; 202 is an
// accepted call; 4xx carry Message (naming the offending field) and
// Details.
type Reply struct {
	Req     ReqID
	Status  int
	Body    any
	Message string
	Details []string
}

// RegistryWrite asks for Value (JSON) to be stored at Path under the
// registry (Value nil: delete it). When the write is durable the daemon
// steps Then, if set; a failed write means the leader lost its term.
type RegistryWrite struct {
	Path  string
	Value any
	Then  Event
}

func (SendFramework) isAction() {}
func (SendAgent) isAction()     {}
func (CloseStream) isAction()   {}
func (Reply) isAction()         {}
func (RegistryWrite) isAction() {}

// Machine is the master's state. It is not safe for concurrent use.
type Machine struct {
	cfg   Config
	alloc *allocator.Allocator
	now   time.Time
	out   []Action

	agents      map[mesos.AgentID]*agentState
	agentStream map[StreamID]*agentState
	pending     map[StreamID]bool // agents waiting for their admission to be written
	recovered   map[mesos.AgentID]RegistryAgent
	recoverBy   time.Time
	// holdOffers is set while a new leader waits for most of the
	// registry's agents (see offersHeld); recoverWant is how many of them
	// must reregister before offers resume.
	holdOffers  bool
	recoverWant int
	// lostAgents are agents known only from the registry as unreachable:
	// marked so before this master led, or not back by recoverBy. The
	// master does not know their tasks, but reconciliation still answers
	// for them, and one that comes back keeps its reservations.
	lostAgents map[mesos.AgentID]RegistryAgent
	gone       map[mesos.AgentID]bool

	frameworks  map[mesos.FrameworkID]*frameworkState
	fwStream    map[StreamID]*frameworkState
	removedFws  map[mesos.FrameworkID]bool
	completedFw []*frameworkState

	offers         map[mesos.OfferID]*offer
	unacked        map[*task]struct{} // tasks with updates awaiting acknowledgement
	completedTasks []mesos.Task

	allocInfos map[string]*mesos.AllocationInfo // shared by tasks' resources, by role

	weights map[string]float64
	quotas  map[string]mesos.QuotaConfig

	nextAgent, nextFramework, nextOffer uint64

	lastAlloc, lastHeartbeat time.Time
	allocDue                 bool
	allocRunMS               float64
	startTime                time.Time
	version                  uint64 // bumped by every Step that may change a snapshot
	watched                  bool   // operator events wanted (SetWatched)
}

// New returns a machine that starts at now with the registry's contents.
func New(cfg Config, now time.Time) *Machine {
	cfg.defaults()
	m := &Machine{
		cfg:         cfg,
		alloc:       allocator.New(cfg.Allocator),
		now:         now,
		agents:      make(map[mesos.AgentID]*agentState),
		agentStream: make(map[StreamID]*agentState),
		pending:     make(map[StreamID]bool),
		recovered:   make(map[mesos.AgentID]RegistryAgent),
		lostAgents:  make(map[mesos.AgentID]RegistryAgent),
		gone:        make(map[mesos.AgentID]bool),
		frameworks:  make(map[mesos.FrameworkID]*frameworkState),
		fwStream:    make(map[StreamID]*frameworkState),
		removedFws:  make(map[mesos.FrameworkID]bool),
		offers:      make(map[mesos.OfferID]*offer),
		unacked:     make(map[*task]struct{}),
		weights:     make(map[string]float64),
		quotas:      make(map[string]mesos.QuotaConfig),
		lastAlloc:   now,
		startTime:   now,
	}
	m.restore(cfg.Registry, now)
	return m
}

// Step applies one event at time now and returns what to do.
func (m *Machine) Step(now time.Time, ev Event) []Action {
	if now.After(m.now) {
		m.now = now
	}
	m.out = nil
	switch ev := ev.(type) {
	case Tick:
		m.tick()
	case SchedulerCall:
		m.schedulerCall(ev)
	case AgentCall:
		m.agentCall(ev)
	case OperatorCall:
		m.operatorCall(ev)
	case StreamClosed:
		m.streamClosed(ev.Stream)
	case registryApplied:
		ev.apply(m, m.now)
	default:
		panic(fmt.Sprintf("state: unknown event %T", ev))
	}
	out := m.out
	m.out = nil
	// A tick that did nothing visible changed nothing a reader sees
	// (except uptime): the snapshot need not be rebuilt.
	if _, tick := ev.(Tick); !tick || len(out) > 0 {
		m.version++
	}
	return out
}

// Version changes whenever a Step may have changed what Snapshot returns.
func (m *Machine) Version() uint64 { return m.version }

func (m *Machine) emit(a Action) { m.out = append(m.out, a) }

func (m *Machine) reply(req ReqID, status int, msg string, details ...string) {
	if req == 0 {
		return
	}
	m.emit(Reply{Req: req, Status: status, Message: msg, Details: details})
}

func (m *Machine) sendFramework(fw *frameworkState, ev *mesos.Event) {
	if fw.stream != "" {
		m.emit(SendFramework{Stream: fw.stream, Event: ev})
	}
}

func (m *Machine) sendAgent(ag *agentState, ev *mesos.AgentEvent) {
	if ag.stream != "" {
		m.emit(SendAgent{Stream: ag.stream, Event: ev})
	}
}

// streamClosed handles the far side going away.
func (m *Machine) streamClosed(id StreamID) {
	delete(m.pending, id)
	if fw := m.fwStream[id]; fw != nil {
		m.disconnectFramework(fw)
		return
	}
	if ag := m.agentStream[id]; ag != nil {
		m.disconnectAgent(ag)
	}
}

// tick does everything that is due by the clock.
func (m *Machine) tick() {
	now := m.now
	m.expireOffers(now)
	m.checkAgents(now)
	m.checkFrameworks(now)
	m.retryUpdates(now)
	if now.Sub(m.lastHeartbeat) >= m.cfg.HeartbeatInterval {
		m.lastHeartbeat = now
		m.heartbeat()
	}
	if (m.allocDue || now.Sub(m.lastAlloc) >= m.cfg.AllocationInterval) && !m.offersHeld(now) {
		m.allocate(now)
	}
}

func (m *Machine) masterInfo() *mesos.MasterInfo { return m.cfg.MasterInfo }

func timeInfo(t time.Time) *mesos.TimeInfo {
	if t.IsZero() {
		return nil
	}
	return mesos.TimeInfoOf(t)
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
