package core

import (
	"container/heap"
	"time"
)

// timerKind is what a timer entry wakes the core for.
type timerKind int

const (
	timerInstant  timerKind = iota // a job's next scheduled instant
	timerRetry                     // a pending retry's NotBefore
	timerDeadline                  // an attempt's maxCompletionTime
)

// timer is one min-heap entry. Entries are never removed in place: a job
// change bumps the job's generation and a finished run leaves the active
// set, so stale entries are recognised and dropped when popped. This keeps
// a tick's cost proportional to what is due, not to the number of jobs.
type timer struct {
	at    time.Time
	kind  timerKind
	job   string
	run   string // retry/deadline: run ID
	gen   uint64 // instant: the job's generation when pushed
	order uint64 // insertion order, so equal instants pop deterministically
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].order < h[j].order
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

func (c *Core) push(t timer) {
	c.order++
	t.order = c.order
	heap.Push(&c.timers, t)
}

func (c *Core) pushInstant(j *jobState, at time.Time) {
	c.push(timer{at: at, kind: timerInstant, job: j.spec.Name, gen: j.gen})
}
