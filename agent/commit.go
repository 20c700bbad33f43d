package agent

import (
	"context"
	"time"
)

// Group commit. A status update must be on disk before it is sent, and a
// task's record before its launch, so that a crash at any point leaves
// the agent something to resend or reconcile. Syncing every record as it
// is written costs two fsyncs per update (file and directory), and a
// burst of a thousand launches then waits on four thousand fsyncs one
// after another. Instead the loop writes records atomically (temporary
// file and rename) without waiting for the disk, and queues what must
// follow durability; one flusher goroutine syncs the file system once for
// everything written so far (syncfs) and then runs what was queued, in
// order. While one sync runs the loop keeps writing, so the batches grow
// with the load.

// afterSync is an action that must wait until the checkpoint is durable
// up to write number seq.
type afterSync struct {
	seq uint64
	fn  func()
}

// persist writes rec's record, to be made durable by the flusher. Called
// on the loop with a.mu held.
func (a *Agent) persist(rec *taskRecord) {
	if err := a.ck.saveTask(rec); err != nil {
		a.log.Error("checkpoint", "err", err)
	}
	a.written++
	a.wakeFlusher()
}

// whenDurable runs fn (with a.mu held) once every record written so far
// is on disk.
func (a *Agent) whenDurable(fn func()) {
	if a.durable >= a.written {
		fn()
		return
	}
	a.afterSync = append(a.afterSync, afterSync{seq: a.written, fn: fn})
	a.wakeFlusher()
}

func (a *Agent) wakeFlusher() {
	select {
	case a.flushWake <- struct{}{}:
	default:
	}
}

// flusher makes the checkpoint durable in batches and then runs what
// waited for it, until ctx ends. What is still queued then is on disk (if
// not yet synced) and is resent or reconciled by the next agent.
func (a *Agent) flusher(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.flushWake:
		}
		a.mu.Lock()
		target := a.written
		a.mu.Unlock()
		if target == a.syncedTo() {
			continue
		}
		for err := a.ck.sync(); err != nil; err = a.ck.sync() {
			a.log.Error("checkpoint sync failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		a.mu.Lock()
		a.durable = target
		n := 0
		for n < len(a.afterSync) && a.afterSync[n].seq <= target {
			a.afterSync[n].fn()
			n++
		}
		a.afterSync = append(a.afterSync[:0], a.afterSync[n:]...)
		a.mu.Unlock()
	}
}

func (a *Agent) syncedTo() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.durable
}
