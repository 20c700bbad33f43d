package allocator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestOrderAgainstSort drives an order with random activations,
// deactivations and key changes, spanning many blocks, and compares it
// with a plain sort after every step.
func TestOrderAgainstSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var o order
	var es []*entry
	for i := range 700 {
		e := &entry{entryKey: entryKey{name: fmt.Sprintf("e%04d", i)}}
		es = append(es, e)
		o.add(e)
	}
	for step := range 20000 {
		e := es[rng.IntN(len(es))]
		switch rng.IntN(4) {
		case 0:
			if !e.active {
				e.share = float64(rng.IntN(50))
			}
			o.activate(e, true)
		case 1:
			o.deactivate(e, true)
		default:
			o.update(e, float64(rng.IntN(50)), e.count+uint64(rng.IntN(2)), true)
		}
		if step%97 == 0 || step > 19900 {
			if !o.sortedOK() {
				t.Fatalf("step %d: order broken", step)
			}
			var want []*entry
			for _, x := range es {
				if x.active {
					want = append(want, x)
				}
			}
			slices.SortFunc(want, func(a, b *entry) int { return compareKeys(&a.entryKey, &b.entryKey) })
			if !slices.Equal(o.active(), want) {
				t.Fatalf("step %d: order differs from a sort", step)
			}
		}
	}
}

// TestCursorVisitsEachOnceWhileReordering walks an order whose entries
// move back as they are visited, as allocation does, and checks every
// entry is met exactly once (counting stamped ones as skips).
func TestCursorVisitsEachOnceWhileReordering(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var o order
	var es []*entry
	for i := range 500 {
		e := &entry{entryKey: entryKey{share: float64(rng.IntN(10)), name: fmt.Sprintf("e%04d", i)}}
		es = append(es, e)
		o.add(e)
		o.activate(e, true)
	}
	const stamp = 7
	visited := map[*entry]int{}
	cur := o.cursor()
	for e := cur.next(); e != nil; e = cur.next() {
		if e.stamp == stamp {
			continue
		}
		e.stamp = stamp
		visited[e]++
		if rng.IntN(2) == 0 { // allocated to: moves back
			o.update(e, e.share+float64(1+rng.IntN(20)), e.count+1, true)
		}
	}
	if len(visited) != len(es) {
		t.Fatalf("visited %d of %d", len(visited), len(es))
	}
	for e, n := range visited {
		if n != 1 {
			t.Fatalf("%s visited %d times", e.name, n)
		}
	}
}
