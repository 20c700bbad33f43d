package agent_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
	"github.com/strata-dc/strata/master/mesos/recordio"
)

// fakeMaster speaks the agent API's master side just enough to hold one
// agent's stream, record its UPDATEs, and push events to it.
type fakeMaster struct {
	mu      sync.Mutex
	updates []mesos.TaskStatus
	push    chan *mesos.AgentEvent
}

func (f *fakeMaster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call, err := mesos.DecodeAgentCall(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch call.Type {
	case mesos.AgentCallSubscribe:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Mesos-Stream-Id", "s1")
		w.WriteHeader(http.StatusOK)
		rw := recordio.NewWriter(w)
		send := func(ev *mesos.AgentEvent) bool {
			if rw.Encode(ev) != nil {
				return false
			}
			w.(http.Flusher).Flush()
			return true
		}
		if !send(&mesos.AgentEvent{Type: mesos.AgentEventSubscribed, Subscribed: &mesos.AgentSubscribed{
			AgentID: "fake-S1", HeartbeatIntervalSeconds: 15, MasterInfo: &mesos.MasterInfo{ID: "fake", Hostname: "h", Port: 1}}}) {
			return
		}
		for {
			select {
			case ev := <-f.push:
				if !send(ev) {
					return
				}
			case <-r.Context().Done():
				return
			}
		}
	case mesos.AgentCallUpdate:
		f.mu.Lock()
		f.updates = append(f.updates, *call.Update.Status)
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// sent counts the posts of updates with uuid.
func (f *fakeMaster) sent(uuid []byte) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, u := range f.updates {
		if string(u.UUID) == string(uuid) {
			n++
		}
	}
	return n
}

func (f *fakeMaster) first(state mesos.TaskState) *mesos.TaskStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.updates {
		if u.State == state {
			return &u
		}
	}
	return nil
}

// TestResendUntilAcknowledged: an update nobody acknowledges is sent
// again and again (with backoff) under the same UUID; once acknowledged
// it is not sent any more, and an acknowledged terminal update makes the
// agent forget the task.
func TestResendUntilAcknowledged(t *testing.T) {
	f := &fakeMaster{push: make(chan *mesos.AgentEvent, 16)}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := agentConfig(t, srv.URL, newWorkDir(t))
	cfg.StatusRetry, cfg.StatusRetryMax = 20*time.Millisecond, 80*time.Millisecond
	a := startAgent(t, cfg)
	defer a.stop() // before the server closes its streams
	waitFor(t, "agent subscribed", func() bool { return a.ID() == "fake-S1" })

	fi := &mesos.FrameworkInfo{ID: "fw", User: "test", Name: "fake"}
	f.push <- &mesos.AgentEvent{Type: mesos.AgentEventRunTask, RunTask: &mesos.RunTask{FrameworkInfo: fi,
		Task: &mesos.TaskInfo{Name: "t", TaskID: "t", AgentID: "fake-S1", Command: &mesos.CommandInfo{Value: "exit 0"}}}}
	var starting, finished *mesos.TaskStatus
	waitFor(t, "TASK_FINISHED", func() bool {
		starting, finished = f.first(mesos.TaskStarting), f.first(mesos.TaskFinished)
		return starting != nil && finished != nil
	})
	waitFor(t, "TASK_STARTING resent", func() bool { return f.sent(starting.UUID) >= 3 })

	ack := func(st *mesos.TaskStatus) {
		f.push <- &mesos.AgentEvent{Type: mesos.AgentEventAcknowledge, Acknowledge: &mesos.AgentAcknowledge{
			FrameworkID: "fw", TaskID: "t", UUID: st.UUID}}
	}
	ack(starting)
	waitFor(t, "the acknowledgement to reach the agent", func() bool {
		ts, ok := taskOf(a.Agent, "t")
		return ok && ts.Unacknowledged == 2 // RUNNING and FINISHED
	})
	n := f.sent(starting.UUID)
	running := f.first(mesos.TaskRunning)
	// The condition waited for: RUNNING keeps being resent, so the resend
	// timer runs; STARTING must not come again meanwhile.
	k := f.sent(running.UUID)
	waitFor(t, "more resends of TASK_RUNNING", func() bool { return f.sent(running.UUID) >= k+2 })
	if m := f.sent(starting.UUID); m != n {
		t.Fatalf("TASK_STARTING sent %d times after its acknowledgement (was %d)", m, n)
	}
	ack(running)
	ack(finished)
	waitFor(t, "the agent to forget the task", func() bool { return len(a.State().Tasks) == 0 })
}
