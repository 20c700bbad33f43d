package storage

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	want := [][]byte{nil}
	for gen := 0; gen < 3; gen++ {
		l, r := openRecover(t, Options{Dir: dir})
		if err := checkState(r, want); err != nil {
			t.Fatalf("generation %d: %v", gen, err)
		}
		if r.last != int64(len(want)-1) {
			t.Fatalf("generation %d: recovered %d, appended %d", gen, r.last, len(want)-1)
		}
		for i := 0; i < 200; i++ {
			size := rng.IntN(3000)
			if i%50 == 0 {
				size = 0 // empty records are records too
			}
			rec := record(rng, size)
			z := int64(len(want))
			want = append(want, append([]byte(nil), rec...))
			if err := l.Append(z, rec); err != nil {
				t.Fatal(err)
			}
			clear(rec) // Append copied it: the caller may reuse its buffer
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	l, r := openRecover(t, Options{Dir: dir})
	defer l.Close()
	if err := checkState(r, want); err != nil {
		t.Fatal(err)
	}
	if got := len(logFiles(t, dir)); got != 3 {
		t.Errorf("%d log files after three generations, want one per generation", got)
	}
}

func TestEmptyRecover(t *testing.T) {
	l, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var snaps []int64
	replays := 0
	last, err := l.Recover(func(z int64, r io.Reader) error {
		if r != nil {
			t.Error("a reader for a snapshot that does not exist")
		}
		snaps = append(snaps, z)
		return nil
	}, func(int64, []byte) error { replays++; return nil })
	if err != nil || last != 0 || len(snaps) != 1 || snaps[0] != 0 || replays != 0 {
		t.Fatalf("empty dir: last %d err %v loadSnap calls %v replays %d; want 0, nil, [0], 0", last, err, snaps, replays)
	}
}

func TestAppendRules(t *testing.T) {
	l, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(1, []byte("x")); err == nil {
		t.Error("Append before Recover succeeded")
	}
	if _, err := recoverAll(l); err != nil {
		t.Fatal(err)
	}
	if _, err := recoverAll(l); err == nil {
		t.Error("second Recover succeeded")
	}
	if err := l.Append(5, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, z := range []int64{5, 4} {
		if err := l.Append(z, []byte("x")); err == nil {
			t.Errorf("Append(%d) after 5 succeeded", z)
		}
	}
	if err := l.Append(6, make([]byte, MaxRecordSize+1)); err == nil {
		t.Error("oversized record accepted")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(7, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestGroupCommit holds the syncer inside OnDurable of the first batch and
// shows that everything appended meanwhile goes out in one fsync, that
// OnDurable only increases, and that every zxid becomes durable.
func TestGroupCommit(t *testing.T) {
	release := make(chan struct{})
	stalled := make(chan struct{})
	var mu sync.Mutex
	var calls []int64
	first := true
	done := make(chan struct{})
	l, _ := openRecover(t, Options{Dir: t.TempDir(), OnDurable: func(z int64) {
		mu.Lock()
		calls = append(calls, z)
		mu.Unlock()
		if first {
			first = false
			close(stalled)
			<-release
		}
		if z == 101 {
			close(done)
		}
	}})
	defer l.Close()
	if err := l.Append(1, []byte("first")); err != nil {
		t.Fatal(err)
	}
	<-stalled // the syncer is past the fsync of record 1
	for z := int64(2); z <= 101; z++ {
		if err := l.Append(z, []byte("grouped")); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 || calls[0] != 1 || calls[1] != 101 {
		t.Fatalf("OnDurable calls %v, want [1 101]: records appended during a commit must share the next fsync", calls)
	}
	if st := l.Stats(); st.FsyncCount != 2 || st.LastDurableZxid != 101 {
		t.Errorf("stats %+v, want 2 fsyncs up to 101", st)
	}
}

// TestConcurrentAppenders runs many appenders (serialised on zxid, as the
// server's processor does) and checks OnDurable is increasing and ends at
// the last zxid, and that the log reads back complete.
func TestConcurrentAppenders(t *testing.T) {
	dir := t.TempDir()
	w := newDurableWaiter()
	l, _ := openRecover(t, Options{Dir: dir, OnDurable: w.onDurable, RollBytes: 64 << 10, PreallocSize: 16 << 10})
	var zmu sync.Mutex
	next := int64(0)
	want := make([][]byte, 2001)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				zmu.Lock()
				if next == 2000 {
					zmu.Unlock()
					return
				}
				next++
				z := next
				rec := []byte{byte(z), byte(z >> 8), byte(g)}
				want[z] = rec
				err := l.Append(z, rec)
				zmu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				if err := w.wait(l, z); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(w.calls); i++ {
		if w.calls[i] <= w.calls[i-1] {
			t.Fatalf("OnDurable went from %d to %d", w.calls[i-1], w.calls[i])
		}
	}
	if last := w.calls[len(w.calls)-1]; last != 2000 {
		t.Fatalf("last OnDurable %d, want 2000", last)
	}
	l, r := openRecover(t, Options{Dir: dir})
	defer l.Close()
	if err := checkState(r, want); err != nil {
		t.Fatal(err)
	}
	if r.last != 2000 {
		t.Fatalf("recovered %d, want 2000", r.last)
	}
}

// TestBackPressure stalls the syncer and shows Append stops accepting
// records once MaxPendingBytes wait, instead of growing without bound.
func TestBackPressure(t *testing.T) {
	const limit = 8 << 10
	release := make(chan struct{})
	var once sync.Once
	l, _ := openRecover(t, Options{Dir: t.TempDir(), MaxPendingBytes: limit, OnDurable: func(int64) {
		once.Do(func() { <-release })
	}})
	defer l.Close()
	if err := l.Append(1, []byte("stall")); err != nil {
		t.Fatal(err)
	}
	const n = 100 // 100 KiB: far more than two buffers' worth
	appended := make(chan int64, n)
	go func() {
		defer close(appended)
		for z := int64(2); z < 2+n; z++ {
			if err := l.Append(z, make([]byte, 1024)); err != nil {
				return
			}
			appended <- z
		}
	}()
	// Wait until the buffer is full, i.e. the appender must be blocked.
	count := 0
	for count == 0 || pending(l)+recordHeader+1024 <= limit {
		<-appended
		count++
	}
	if p := pending(l); p > limit {
		t.Fatalf("%d bytes pending, limit %d", p, limit)
	}
	close(release)
	for range appended {
		count++
	}
	if count != n {
		t.Fatalf("appended %d of %d after the syncer resumed", count, n)
	}
}

func pending(l *Log) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.fill.buf)
}

func TestRollOver(t *testing.T) {
	dir := t.TempDir()
	w := newDurableWaiter()
	l, _ := openRecover(t, Options{Dir: dir, RollBytes: 8 << 10, PreallocSize: 4 << 10, OnDurable: w.onDurable})
	rng := rand.New(rand.NewPCG(3, 4))
	want := [][]byte{nil}
	for z := int64(1); z <= 300; z++ {
		rec := record(rng, rng.IntN(600))
		want = append(want, rec)
		if err := l.Append(z, rec); err != nil {
			t.Fatal(err)
		}
		if z%7 == 0 {
			if err := w.wait(l, z); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files := logFiles(t, dir)
	if len(files) < 5 {
		t.Fatalf("%d log files, want several at 8 KiB each", len(files))
	}
	if st := l.Stats(); st.LogFiles != len(files) {
		t.Errorf("Stats.LogFiles %d, %d on disk", st.LogFiles, len(files))
	}
	for _, f := range files[:len(files)-1] {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 8<<10+int64(recordHeader+batchHeaderSize+600+8) {
			t.Errorf("%s is %d bytes: rolled files must be trimmed near RollBytes", f, st.Size())
		}
	}
	l, r := openRecover(t, Options{Dir: dir})
	defer l.Close()
	if err := checkState(r, want); err != nil {
		t.Fatal(err)
	}
	if r.last != 300 {
		t.Fatalf("recovered %d, want 300", r.last)
	}
}

func TestNoSyncStillWrites(t *testing.T) {
	dir := t.TempDir()
	w := newDurableWaiter()
	l, _ := openRecover(t, Options{Dir: dir, NoSync: true, OnDurable: w.onDurable})
	for z := int64(1); z <= 50; z++ {
		if err := l.Append(z, []byte("nosync")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.wait(l, 50); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.FsyncCount != 0 {
		t.Errorf("NoSync made %d fsyncs", st.FsyncCount)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, r := openRecover(t, Options{Dir: dir})
	defer l.Close()
	if r.last != 50 {
		t.Fatalf("recovered %d, want 50", r.last)
	}
}
