package tree

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/strata-dc/strata/coord/server/jute"
)

// build fills a tree with n znodes as 100 directories of n/100 children,
// each holding data bytes of data, the shape a busy coordination service has.
func build(tb testing.TB, n, data int) *Tree {
	tr := New()
	c := Ctx{Session: 0, Now: 1}
	payload := make([]byte, data)
	for d := range 100 {
		r := tr.Exec(c, jute.OpCreate, &jute.CreateRequest{Path: fmt.Sprintf("/dir%02d", d), Data: []byte{}, ACL: OpenACL})
		if r.Err != 0 {
			tb.Fatalf("create dir: %d", r.Err)
		}
	}
	for i := range n - 100 {
		req := &jute.CreateRequest{Path: fmt.Sprintf("/dir%02d/node-%07d", i%100, i), Data: append([]byte(nil), payload...), ACL: OpenACL}
		if r := tr.Exec(c, jute.OpCreate, req); r.Err != 0 {
			tb.Fatalf("create: %d", r.Err)
		}
	}
	return tr
}

func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkTree100k builds a 100,000-znode tree and reports the heap it
// keeps per znode (node, name, 32-byte data, child slot, ACL share), the
// figure behind the "a third of ZooKeeper's RSS" target.
func BenchmarkTree100k(b *testing.B) {
	const n = 100_000
	b.ReportAllocs()
	for b.Loop() {
		before := liveHeap()
		tr := build(b, n, 32)
		after := liveHeap()
		b.ReportMetric(float64(after-before)/n, "live-B/znode")
		runtime.KeepAlive(tr)
	}
}

func BenchmarkCreate(b *testing.B) {
	tr := New()
	c := Ctx{Now: 1}
	for d := range 100 {
		tr.Exec(c, jute.OpCreate, &jute.CreateRequest{Path: fmt.Sprintf("/dir%02d", d), ACL: OpenACL})
	}
	paths := make([]string, 0, 1<<16)
	for i := range cap(paths) {
		paths = append(paths, fmt.Sprintf("/dir%02d/node-%07d", i%100, i))
	}
	data := make([]byte, 64)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(paths) { // keep the tree bounded: start over
			b.StopTimer()
			tr = New()
			for d := range 100 {
				tr.Exec(c, jute.OpCreate, &jute.CreateRequest{Path: fmt.Sprintf("/dir%02d", d), ACL: OpenACL})
			}
			i = 0
			b.StartTimer()
		}
		r := tr.Exec(c, jute.OpCreate, &jute.CreateRequest{Path: paths[i], Data: data, ACL: OpenACL})
		if r.Err != 0 {
			b.Fatal(r.Err)
		}
		i++
	}
}

func BenchmarkGetData(b *testing.B) {
	tr := build(b, 100_000, 64)
	c := Ctx{Now: 1}
	paths := make([]string, 0, 4096)
	for i := range cap(paths) {
		j := i * 24 % (100_000 - 100)
		paths = append(paths, fmt.Sprintf("/dir%02d/node-%07d", j%100, j))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := tr.Exec(c, jute.OpGetData, &jute.PathWatchRequest{Path: paths[i%len(paths)]})
		if r.Err != 0 {
			b.Fatal(r.Err)
		}
		i++
	}
}
