package marathon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master/mesos"
)

// TestEventQueueTakesWhatArrived: the reader queues every event however
// slow the taker is; take hands them over oldest first, at most limit at a
// time, stays ready while events remain and reports the end once the
// source closes and the queue is empty.
func TestEventQueueTakesWhatArrived(t *testing.T) {
	in := make(chan *mesos.Event)
	q := pumpEvents(in)
	const n = 10
	for k := range n {
		in <- &mesos.Event{Type: mesos.EventUpdate, Update: &mesos.Update{Status: &mesos.TaskStatus{TaskID: mesos.TaskID(fmt.Sprint(k))}}}
	}
	close(in)
	q.wait()
	var got []string
	for {
		<-q.ready
		evs, open := q.take(4)
		if len(evs) > 4 {
			t.Fatalf("take(4) returned %d events", len(evs))
		}
		for _, ev := range evs {
			got = append(got, string(ev.Update.Status.TaskID))
		}
		if !open {
			break
		}
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 5 6 7 8 9]" {
		t.Fatalf("events taken %v, want 0…9 in order", got)
	}
}

// fakeAcks records acknowledgements.
type fakeAcks struct {
	mu  sync.Mutex
	got map[string]int
}

func (f *fakeAcks) Acknowledge(_ context.Context, s *mesos.TaskStatus) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got[string(s.TaskID)]++
	return nil
}

func (f *fakeAcks) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// TestAckerAcknowledgesEachStoredUpdateOnce: every status with a UUID is
// acknowledged exactly once (those without need none), and the workers end
// with the term.
func TestAckerAcknowledgesEachStoredUpdateOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeAcks{got: map[string]int{}}
	a := startAcker(ctx, f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const n = 1000
	for k := range n {
		a.add(&mesos.TaskStatus{TaskID: mesos.TaskID(fmt.Sprint(k)), UUID: []byte{1}},
			&mesos.TaskStatus{TaskID: "no-uuid"})
	}
	deadline := time.Now().Add(30 * time.Second)
	for f.count() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	a.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) != n {
		t.Fatalf("%d tasks acknowledged, want %d", len(f.got), n)
	}
	for id, c := range f.got {
		if c != 1 || id == "no-uuid" {
			t.Fatalf("task %s acknowledged %d times", id, c)
		}
	}
}

// TestStaleStatus: a running task reported STAGING or STARTING is an old
// update delivered late; anything else is applied.
func TestStaleStatus(t *testing.T) {
	for _, c := range []struct {
		cur, next mesos.TaskState
		stale     bool
	}{
		{mesos.TaskRunning, mesos.TaskStarting, true},
		{mesos.TaskRunning, mesos.TaskStaging, true},
		{mesos.TaskRunning, mesos.TaskRunning, false},
		{mesos.TaskRunning, mesos.TaskFailed, false},
		{mesos.TaskStaging, mesos.TaskStarting, false},
		{mesos.TaskStarting, mesos.TaskRunning, false},
		{mesos.TaskUnreachable, mesos.TaskRunning, false},
	} {
		if got := stale(&Instance{State: c.cur}, &mesos.TaskStatus{State: c.next}); got != c.stale {
			t.Errorf("%s then %s: stale %v, want %v", c.cur, c.next, got, c.stale)
		}
	}
}

// TestWriteInstancesInChunks: thousands of creates, updates and deletes in
// one call land in several multis, and a chunk that names a node wrongly
// (one deleted behind marathon's back) is written one node at a time.
func TestWriteInstancesInChunks(t *testing.T) {
	e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sess, err := coord.Dial(ctx, coord.Config{URL: e.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	st := sess.Store()
	known := map[string]bool{}
	const n = 2500 // more than instanceChunkOps
	var list []*Instance
	var writes []instanceWrite
	for k := range n {
		i := &Instance{TaskID: fmt.Sprintf("app.%04d", k), AppID: "/app", ScheduledAt: time.Unix(0, 0)}
		list = append(list, i)
		writes = append(writes, instanceWrite{inst: i})
	}
	if failed := writeInstances(ctx, st, writes, known); failed != nil {
		t.Fatalf("create: %v", failed)
	}
	if len(known) != n {
		t.Fatalf("%d instances known after create, want %d", len(known), n)
	}
	// One node vanishes behind our back; its chunk must still be written.
	if err := st.Delete(ctx, instancesDir+"/app.0007", coord.Any); err != nil {
		t.Fatal(err)
	}
	writes = writes[:0]
	for k, i := range list {
		if k%2 == 0 {
			writes = append(writes, instanceWrite{inst: i, del: true})
		} else {
			i.State = mesos.TaskRunning
			writes = append(writes, instanceWrite{inst: i})
		}
	}
	if failed := writeInstances(ctx, st, writes, known); failed != nil {
		t.Fatalf("update and delete: %v", failed)
	}
	items, err := coord.List[*Instance](ctx, st, instancesDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n/2 || len(known) != n/2 {
		t.Fatalf("%d nodes and %d known after deleting half, want %d", len(items), len(known), n/2)
	}
	for _, it := range items {
		if it.Value.State != mesos.TaskRunning {
			t.Fatalf("instance %s stored as %q, want TASK_RUNNING", it.Value.TaskID, it.Value.State)
		}
	}
	if _, _, err := coord.Get[*Instance](ctx, st, instancesDir+"/app.0007"); err != nil {
		t.Fatalf("the vanished node was not written again: %v", err)
	}
	if _, _, err := coord.Get[*Instance](ctx, st, instancesDir+"/app.0008"); !errors.Is(err, coord.ErrNotFound) {
		t.Fatalf("a deleted instance is still there: %v", err)
	}
}
