package storage

import (
	"fmt"
	"sync"
	"testing"
)

// BenchmarkAppendDurable measures what the server's write path pays for the
// log: appenders each append a 1 KiB record and wait for OnDurable before
// the next, like clients waiting for their create to be acknowledged. With
// one appender every record costs a full write+fsync round; with 32 they
// share fsyncs (group commit). fsyncs/op shows how much.
func BenchmarkAppendDurable(b *testing.B) {
	for _, appenders := range []int{1, 32} {
		for _, noSync := range []bool{false, true} {
			name := fmt.Sprintf("appenders=%d", appenders)
			if noSync {
				name += "/nosync"
			}
			b.Run(name, func(b *testing.B) { benchAppend(b, appenders, noSync) })
		}
	}
}

func benchAppend(b *testing.B, appenders int, noSync bool) {
	w := newDurableWaiter()
	w.calls = nil
	l, err := Open(Options{Dir: b.TempDir(), NoSync: noSync, OnDurable: func(z int64) {
		w.mu.Lock()
		w.durable = z
		w.mu.Unlock()
		w.cond.Broadcast()
	}, OnFailure: w.onFailure})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := l.Recover(nil, nil); err != nil {
		b.Fatal(err)
	}
	rec := make([]byte, 1024)
	var zmu sync.Mutex
	next := int64(0)
	var wg sync.WaitGroup
	b.SetBytes(int64(len(rec)))
	b.ResetTimer()
	for g := 0; g < appenders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				zmu.Lock()
				if next >= int64(b.N) {
					zmu.Unlock()
					return
				}
				next++
				z := next
				err := l.Append(z, rec)
				zmu.Unlock()
				if err != nil {
					b.Error(err)
					return
				}
				if err := w.wait(l, z); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	st := l.Stats()
	b.ReportMetric(float64(st.FsyncCount)/float64(b.N), "fsyncs/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
}
