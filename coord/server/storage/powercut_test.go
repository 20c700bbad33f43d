package storage

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The power-cut tests run the log like the server does — a writer appending
// and sometimes waiting for OnDurable, snapshots from another goroutine —
// on a FaultFS, cut the power at a random moment (or at the n-th file
// operation), and check the recovery: it never fails, every zxid reported
// durable is there, and the state is byte for byte a prefix of what was
// appended. Each "life" is one boot of the server on the same directory.

// model is what was appended, by zxid, across lives: history[z] is the
// record most recently appended as z. Records above a recovery's end are
// forgotten there, and the next life appends different ones at those zxids,
// so a stale record surviving a cut would show.
type model struct {
	mu      sync.Mutex
	history [][]byte
	rng     *rand.Rand
	floor   int64 // every zxid up to here must survive: reported durable or recovered
}

func newModel(seed int64) *model {
	return &model{history: [][]byte{nil}, rng: rand.New(rand.NewPCG(uint64(seed), 77))}
}

// recoverChecked opens and recovers the log and checks the result against m,
// then forgets what did not survive. A cut armed on a FaultFS may fire during
// the recovery itself; then it reboots and recovers again.
func (m *model) recoverChecked(opts Options) (*Log, error) {
	for attempt := 0; ; attempt++ {
		l, err := Open(opts)
		if err != nil {
			return nil, fmt.Errorf("open: %w", err)
		}
		r, err := recoverAll(l)
		if errors.Is(err, ErrPowerCut) && attempt < 3 {
			l.Close()
			continue
		}
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("recovery failed: %w", err)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if r.last < m.floor {
			l.Close()
			return nil, fmt.Errorf("durability violated: recovered up to zxid %d, but %d was reported durable", r.last, m.floor)
		}
		if err := checkState(r, m.history); err != nil {
			l.Close()
			return nil, fmt.Errorf("recovered state is wrong: %w", err)
		}
		m.history = m.history[:r.last+1]
		m.floor = r.last
		return l, nil
	}
}

// lifePlan says how one life goes and how it ends.
type lifePlan struct {
	torn      bool
	cutAtOp   int // > 0: the cut fires at this file operation (FaultFS.CutAfter)
	appends   int // the writer stops after this many; with cutAtOp 0 it cuts then
	waitEvery int // the writer waits for OnDurable after every waitEvery-th append
	snapEvery int // snapshot after every snapEvery appends (0 = never)
}

// live runs one life on ffs until its power cut.
func (m *model) live(ffs *FaultFS, opts Options, p lifePlan) error {
	var durable atomic.Int64
	var dmu sync.Mutex
	dcond := sync.NewCond(&dmu)
	opts.FS = ffs
	opts.OnDurable = func(z int64) {
		durable.Store(z)
		dmu.Lock()
		dcond.Broadcast()
		dmu.Unlock()
	}
	opts.OnFailure = func(error) {
		dmu.Lock()
		dcond.Broadcast()
		dmu.Unlock()
	}
	l, err := m.recoverChecked(opts)
	if err != nil {
		return err
	}
	cutsBefore := ffs.Cuts()
	if p.cutAtOp > 0 {
		ffs.CutAfter(p.cutAtOp, p.torn)
	}
	var appended atomic.Int64
	snapKick := make(chan struct{}, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the snapshotter
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-snapKick:
			}
			m.mu.Lock()
			state := m.history[1:len(m.history):len(m.history)]
			m.mu.Unlock()
			if err := l.Snapshot(int64(len(state)), 3, func(w io.Writer) error { return encodeSnap(w, state) }); err != nil {
				if errors.Is(err, ErrPowerCut) {
					snapshotsCut.Add(1)
				}
				return
			}
		}
	}()
	// The cutter: unless the cut is armed at a file operation, it cuts once
	// the log is durable up to a random target while the writer streams on,
	// so the cut tends to land inside the syncer's write or fsync.
	writerDone := false
	cutErr := make(chan error, 1)
	if p.cutAtOp == 0 {
		target := m.floor + 1 + int64(m.rng.IntN(p.appends))
		go func() {
			dmu.Lock()
			for durable.Load() < target && !writerDone {
				dcond.Wait()
			}
			dmu.Unlock()
			cutErr <- ffs.PowerCut(p.torn)
			dmu.Lock()
			dcond.Broadcast()
			dmu.Unlock()
		}()
	}
	// The writer.
	for i := 1; i <= p.appends; i++ {
		m.mu.Lock()
		z := int64(len(m.history))
		rec := record(m.rng, m.rng.IntN(700))
		m.history = append(m.history, rec)
		err := l.Append(z, rec)
		m.mu.Unlock()
		if err != nil {
			break
		}
		appended.Add(1)
		if p.snapEvery > 0 && i%p.snapEvery == 0 {
			select {
			case snapKick <- struct{}{}:
			default:
			}
		}
		if p.waitEvery > 0 && i%p.waitEvery == 0 {
			dmu.Lock()
			for durable.Load() < z && l.Err() == nil && ffs.Cuts() == cutsBefore {
				dcond.Wait()
			}
			dmu.Unlock()
		}
		if ffs.Cuts() != cutsBefore {
			break
		}
	}
	dmu.Lock()
	writerDone = true
	dcond.Broadcast()
	dmu.Unlock()
	if p.cutAtOp == 0 {
		if err := <-cutErr; err != nil {
			return err
		}
	} else if ffs.Cuts() == cutsBefore {
		if err := ffs.PowerCut(p.torn); err != nil {
			return err
		}
	}
	// Wake a writer-side wait that raced the cut, stop everything of this
	// life, and only then let the next one boot.
	close(stop)
	wg.Wait()
	l.Close()
	m.mu.Lock()
	m.floor = max(m.floor, durable.Load())
	m.mu.Unlock()
	return nil
}

// snapshotsCut counts snapshots the power cut interrupted, for the log.
var snapshotsCut atomic.Int64

var cutOpts = Options{RollBytes: 8 << 10, PreallocSize: 4 << 10, MaxPendingBytes: 16 << 10}

// powerCutRun runs lives seeded by seed on one directory and returns the
// first violation.
func powerCutRun(t *testing.T, seed int64, lives int, noSync bool) error {
	dir := t.TempDir()
	opts := cutOpts
	opts.Dir, opts.SnapDir, opts.NoSync = dir+"/log", dir+"/snap", noSync
	if seed%2 == 0 {
		opts.SnapDir = opts.Dir
	}
	ffs := NewFaultFS(OSFS(), seed)
	m := newModel(seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 99))
	for life := 0; life < lives; life++ {
		p := lifePlan{
			torn:      rng.IntN(2) == 0,
			appends:   1 + rng.IntN(400),
			waitEvery: 1 + rng.IntN(12),
			snapEvery: 20 + rng.IntN(100),
		}
		if rng.IntN(2) == 0 {
			p.cutAtOp = 1 + rng.IntN(150)
			p.appends = 2000
		}
		if err := m.live(ffs, opts, p); err != nil {
			return fmt.Errorf("seed %d life %d (%+v): %w", seed, life, p, err)
		}
		// Every other life, check the post-cut disk with a plain OSFS too:
		// what recovery sees must not depend on the FaultFS.
		if life%2 == 1 {
			o := opts
			o.FS = OSFS()
			l, err := m.recoverChecked(o)
			if err != nil {
				return fmt.Errorf("seed %d life %d, recovery on OSFS: %w", seed, life, err)
			}
			l.Close()
		}
	}
	o := opts
	o.FS = ffs
	l, err := m.recoverChecked(o)
	if err != nil {
		return fmt.Errorf("seed %d, final recovery: %w", seed, err)
	}
	return l.Close()
}

func TestPowerCut(t *testing.T) {
	seeds, lives := 20, 16
	if testing.Short() {
		seeds, lives = 4, 8
	}
	before := snapshotsCut.Load()
	for seed := int64(1); seed <= int64(seeds); seed++ {
		if err := powerCutRun(t, seed, lives, false); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d lives; %d cuts landed inside a Snapshot", seeds*lives, snapshotsCut.Load()-before)
}

// TestPowerCutCatchesMissingFsync shows the power-cut test has teeth: with
// fsync turned off (NoSync), OnDurable's claims are false and the same
// harness must report lost durable records. (It also sees recoveries fail:
// without fsync ordering, older files can hold torn batches.)
func TestPowerCutCatchesMissingFsync(t *testing.T) {
	lost := 0
	for seed := int64(1); seed <= 6; seed++ {
		err := powerCutRun(t, seed, 4, true)
		if err == nil {
			continue
		}
		t.Logf("caught: %v", err)
		if strings.Contains(err.Error(), "durability violated") {
			lost++
		}
	}
	if lost == 0 {
		t.Fatal("with fsync off no run lost a record reported durable: the power-cut test could not catch a missing fsync")
	}
}

// TestPowerCutAtEveryStep cuts the power at each file operation in turn,
// torn and not, of a life that recovers, appends across log rolls, takes
// snapshots and purges, so every step of each (including the recovery's
// own truncation, a snapshot's rename and a purge) is cut at least once.
func TestPowerCutAtEveryStep(t *testing.T) {
	for _, torn := range []bool{false, true} {
		for n := 1; ; n++ {
			dir := t.TempDir()
			opts := cutOpts
			opts.Dir, opts.SnapDir = dir, dir
			ffs := NewFaultFS(OSFS(), int64(n))
			m := newModel(int64(n))
			// A first life that ends cleanly, leaving a snapshot and logs.
			if err := m.steps(ffs, opts, 0, false); err != nil {
				t.Fatalf("setup: %v", err)
			}
			if err := m.steps(ffs, opts, n, torn); err != nil {
				t.Fatalf("cut at op %d (torn %v): %v", n, torn, err)
			}
			fired := ffs.Cuts() > 0
			o := opts
			o.FS = ffs
			l, err := m.recoverChecked(o)
			if err != nil {
				t.Fatalf("cut at op %d (torn %v): %v", n, torn, err)
			}
			l.Close()
			if !fired {
				t.Logf("torn %v: cut at each of %d file operations", torn, n-1)
				if n < 50 {
					t.Fatalf("only %d file operations in a life: the workload is too small to mean much", n)
				}
				break
			}
		}
	}
}

// steps is a fixed life: recover, 60 appends waiting for durability every
// 4th, snapshots after the 20th and 45th, and a clean close — unless the cut
// armed at op cutAt (> 0) fires first.
func (m *model) steps(ffs *FaultFS, opts Options, cutAt int, torn bool) error {
	w := newDurableWaiter()
	opts.FS, opts.OnDurable, opts.OnFailure = ffs, w.onDurable, w.onFailure
	if cutAt > 0 {
		ffs.CutAfter(cutAt, torn)
	}
	l, err := m.recoverChecked(opts)
	if err != nil {
		return err
	}
	defer func() {
		ffs.CutAfter(0, false)
		l.Close()
		m.mu.Lock()
		w.mu.Lock()
		m.floor = max(m.floor, w.durable)
		w.mu.Unlock()
		m.mu.Unlock()
	}()
	for i := 1; i <= 60; i++ {
		m.mu.Lock()
		z := int64(len(m.history))
		rec := record(m.rng, 100+m.rng.IntN(400))
		m.history = append(m.history, rec)
		err := l.Append(z, rec)
		m.mu.Unlock()
		if err != nil {
			return nil
		}
		if i%4 == 0 && w.wait(l, z) != nil {
			return nil
		}
		if i == 20 || i == 45 {
			state := m.history[1:]
			if l.Snapshot(z, 3, func(w io.Writer) error { return encodeSnap(w, state) }) != nil {
				return nil
			}
		}
	}
	return nil
}

// TestTornTailCutIsDurable: recovery cuts a torn batch off; that cut must
// itself survive the next power cut, or the torn batch would reappear in
// what is by then an older file and make the next recovery fail.
func TestTornTailCutIsDurable(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, PreallocSize: 4 << 10}
	for seed := int64(0); seed < 40; seed++ {
		ffs := NewFaultFS(OSFS(), seed)
		m := newModel(seed)
		o := opts
		o.Dir = fmt.Sprintf("%s/%d", dir, seed)
		// Life 1: a clean life.
		if err := m.steps(ffs, o, 0, false); err != nil {
			t.Fatal(err)
		}
		w := newDurableWaiter()
		o.FS, o.OnDurable, o.OnFailure = ffs, w.onDurable, w.onFailure
		l, err := m.recoverChecked(o)
		if err != nil {
			t.Fatal(err)
		}
		// This life's file: one durable record, then a torn one after it.
		z := int64(len(m.history))
		small, big := record(m.rng, 10), record(m.rng, 3000)
		m.history = append(m.history, small, big)
		if err := l.Append(z, small); err != nil {
			t.Fatal(err)
		}
		if err := w.wait(l, z); err != nil {
			t.Fatal(err)
		}
		m.floor = z
		ffs.CutAfter(2, true) // at the fsync of the big record's batch: its write is torn
		l.Append(z+1, big)
		w.wait(l, z+1)
		l.Close()
		if ffs.Cuts() != 1 {
			t.Fatalf("seed %d: the cut did not fire", seed)
		}
		// Life 2 recovers (cutting the tail), writes one durable record to a
		// new file, and loses power.
		if err := m.steps(ffs, o, 12, false); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		// Life 3 must recover.
		l, err = m.recoverChecked(o)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		l.Close()
	}
}
