package storage

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// snapAt snapshots the test state want[1..z].
func snapAt(t *testing.T, l *Log, z int64, retain int, want [][]byte) {
	t.Helper()
	if err := l.Snapshot(z, retain, func(w io.Writer) error { return encodeSnap(w, want[1:z+1]) }); err != nil {
		t.Fatal(err)
	}
}

func snapFiles(t *testing.T, dir string) []namedFile {
	t.Helper()
	s, err := listFiles(OSFS(), dir, snapPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSnapshotPurge takes snapshots while the log rolls and checks that purge
// keeps the newest three snapshots and exactly the logs needed to replay
// from the oldest of them: recovery from each kept snapshot is complete.
func TestSnapshotPurge(t *testing.T) {
	logDir, snapDir := t.TempDir(), t.TempDir()
	rng := rand.New(rand.NewPCG(9, 10))
	w := newDurableWaiter()
	opts := Options{Dir: logDir, SnapDir: snapDir, RollBytes: 4 << 10, PreallocSize: 2 << 10}
	o := opts
	o.OnDurable = w.onDurable
	l, _ := openRecover(t, o)
	want := [][]byte{nil}
	for z := int64(1); z <= 600; z++ {
		want = append(want, record(rng, rng.IntN(200)))
		if err := l.Append(z, want[z]); err != nil {
			t.Fatal(err)
		}
		if z%5 == 0 {
			if err := w.wait(l, z); err != nil {
				t.Fatal(err)
			}
		}
		if z%100 == 0 {
			snapAt(t, l, z-rng.Int64N(20), 1, want) // retain below 3 means 3
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	snaps := snapFiles(t, snapDir)
	if len(snaps) != 3 {
		t.Fatalf("%d snapshots kept, want 3", len(snaps))
	}
	if st := l.Stats(); st.Snapshots != 3 || st.LogFiles != len(logFiles(t, logDir)) {
		t.Errorf("stats %+v: want 3 snapshots and %d log files", st, len(logFiles(t, logDir)))
	}
	logs, err := listFiles(OSFS(), logDir, logPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if logs[0].zxid <= 100 {
		t.Errorf("oldest log starts at %d: logs before the oldest kept snapshot (%d) were not purged", logs[0].zxid, snaps[0].zxid)
	}
	if logs[0].zxid > snaps[0].zxid+1 {
		t.Errorf("oldest log starts at %d, after the oldest kept snapshot %d: replay from it is impossible", logs[0].zxid, snaps[0].zxid)
	}
	// Recover from each kept snapshot in turn by hiding the newer ones.
	for i := len(snaps) - 1; i >= 0; i-- {
		l, r := openRecover(t, opts)
		l.Close()
		if r.snapZxid != snaps[i].zxid {
			t.Fatalf("loaded snapshot %d, want %d", r.snapZxid, snaps[i].zxid)
		}
		if err := checkState(r, want); err != nil || r.last != 600 {
			t.Fatalf("from snapshot %d: last %d, %v", snaps[i].zxid, r.last, err)
		}
		if err := os.Remove(snaps[i].path); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHalfWrittenSnapshot cuts the newest snapshot at every length and flips
// its bytes: recovery must skip it for the previous one and replay the log
// from there.
func TestHalfWrittenSnapshot(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	w := newDurableWaiter()
	l, _ := openRecover(t, Options{Dir: dir, OnDurable: w.onDurable})
	want := [][]byte{nil}
	for z := int64(1); z <= 30; z++ {
		want = append(want, record(rng, rng.IntN(20)))
		writeDurably(t, l, w, z, want[z])
		if z == 10 || z == 20 {
			snapAt(t, l, z, 3, want)
		}
	}
	l.Close()
	newest := filepath.Join(dir, snapName(20))
	pristine, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		l, r := openRecover(t, Options{Dir: dir})
		l.Close()
		if r.snapZxid != 10 {
			t.Fatalf("%s: loaded snapshot %d, want the previous one, 10", what, r.snapZxid)
		}
		if err := checkState(r, want); err != nil || r.last != 30 {
			t.Fatalf("%s: last %d, %v", what, r.last, err)
		}
	}
	for n := 0; n < len(pristine); n++ {
		if err := os.WriteFile(newest, pristine[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		check("cut")
	}
	for c := 0; c < len(pristine); c++ {
		b := append([]byte(nil), pristine...)
		b[c] ^= 0x10
		if err := os.WriteFile(newest, b, 0o644); err != nil {
			t.Fatal(err)
		}
		check("flipped")
	}
	// A temporary file left by a crash mid-snapshot is ignored and removed.
	tmp := filepath.Join(dir, snapName(25)+tmpSuffix)
	if err := os.WriteFile(tmp, pristine, 0o644); err != nil {
		t.Fatal(err)
	}
	check("temporary file")
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("leftover %s not removed: %v", tmp, err)
	}
}

func TestSnapshotWriteError(t *testing.T) {
	dir := t.TempDir()
	l, _ := openRecover(t, Options{Dir: dir})
	defer l.Close()
	boom := errors.New("boom")
	err := l.Snapshot(0, 3, func(w io.Writer) error {
		w.Write(make([]byte, 1<<20))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Snapshot returned %v, want the write error", err)
	}
	names, _ := OSFS().ReadDir(dir)
	if len(names) != 0 {
		t.Fatalf("failed snapshot left %v", names)
	}
}

// TestSnapshotWhileAppending runs snapshots from another goroutine while
// records stream in, as the server does.
func TestSnapshotWhileAppending(t *testing.T) {
	dir := t.TempDir()
	w := newDurableWaiter()
	l, _ := openRecover(t, Options{Dir: dir, OnDurable: w.onDurable, RollBytes: 16 << 10, PreallocSize: 4 << 10})
	var mu sync.Mutex
	want := [][]byte{nil}
	stop := make(chan struct{})
	snapErr := make(chan error, 1)
	go func() {
		defer close(snapErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			state := want[:len(want):len(want)]
			mu.Unlock()
			z := int64(len(state) - 1)
			if err := l.Snapshot(z, 3, func(w io.Writer) error { return encodeSnap(w, state[1:]) }); err != nil {
				snapErr <- err
				return
			}
		}
	}()
	rng := rand.New(rand.NewPCG(13, 14))
	for z := int64(1); z <= 2000; z++ {
		rec := record(rng, rng.IntN(300))
		mu.Lock()
		want = append(want, rec)
		err := l.Append(z, rec)
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if z%50 == 0 {
			if err := w.wait(l, z); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	if err := <-snapErr; err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, r := openRecover(t, Options{Dir: dir})
	defer l.Close()
	if err := checkState(r, want); err != nil || r.last != 2000 {
		t.Fatalf("last %d, %v", r.last, err)
	}
	if r.snapZxid == 0 {
		t.Error("no snapshot was loaded")
	}
}
