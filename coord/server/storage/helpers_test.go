package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// recovered is everything one Recover handed out.
type recovered struct {
	snapZxid int64
	snap     []byte // nil when there was no snapshot
	zxids    []int64
	recs     [][]byte
	last     int64
}

// recoverAll recovers l and collects what it replays.
func recoverAll(l *Log) (recovered, error) {
	var r recovered
	last, err := l.Recover(func(z int64, rd io.Reader) error {
		r.snapZxid = z
		if rd == nil {
			return nil
		}
		b, err := io.ReadAll(rd)
		r.snap = b
		return err
	}, func(z int64, rec []byte) error {
		r.zxids = append(r.zxids, z)
		r.recs = append(r.recs, rec)
		return nil
	})
	r.last = last
	return r, err
}

// openRecover opens a log on opts and recovers it, failing the test on error.
func openRecover(t *testing.T, opts Options) (*Log, recovered) {
	t.Helper()
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	r, err := recoverAll(l)
	if err != nil {
		l.Close()
		t.Fatalf("Recover: %v", err)
	}
	return l, r
}

// durableWaiter turns OnDurable into something a test can wait on.
type durableWaiter struct {
	mu      sync.Mutex
	cond    *sync.Cond
	durable int64
	calls   []int64
}

func newDurableWaiter() *durableWaiter {
	w := &durableWaiter{}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *durableWaiter) onDurable(z int64) {
	w.mu.Lock()
	w.durable = z
	w.calls = append(w.calls, z)
	w.mu.Unlock()
	w.cond.Broadcast()
}

func (w *durableWaiter) onFailure(error) {
	w.mu.Lock()
	w.mu.Unlock()
	w.cond.Broadcast()
}

// wait blocks until zxid is durable or the log failed (which OnFailure,
// wired to onFailure, reports).
func (w *durableWaiter) wait(l *Log, zxid int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.durable < zxid {
		if err := l.Err(); err != nil {
			return err
		}
		w.cond.Wait()
	}
	return nil
}

// record returns deterministic pseudo-random content for tests.
func record(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// encodeSnap is the test's stand-in for the data tree: every record up to
// the snapshot's zxid, length-prefixed.
func encodeSnap(w io.Writer, recs [][]byte) error {
	var n [4]byte
	for _, r := range recs {
		binary.LittleEndian.PutUint32(n[:], uint32(len(r)))
		if _, err := w.Write(n[:]); err != nil {
			return err
		}
		if _, err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

func decodeSnap(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, errors.New("snapshot: short length")
		}
		n := int(binary.LittleEndian.Uint32(b))
		if len(b)-4 < n {
			return nil, errors.New("snapshot: short record")
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out, nil
}

// checkState verifies that a recovery (snapshot + replayed records) gives
// exactly want[1..r.last], with want indexed by zxid.
func checkState(r recovered, want [][]byte) error {
	if r.last >= int64(len(want)) {
		return fmt.Errorf("recovered up to %d, only %d appended", r.last, len(want)-1)
	}
	next := int64(1)
	if r.snap != nil || r.snapZxid != 0 {
		recs, err := decodeSnap(r.snap)
		if err != nil {
			return err
		}
		if int64(len(recs)) != r.snapZxid {
			return fmt.Errorf("snapshot %d holds %d records", r.snapZxid, len(recs))
		}
		for i, rec := range recs {
			if !bytes.Equal(rec, want[i+1]) {
				return fmt.Errorf("snapshot record %d differs", i+1)
			}
		}
		next = r.snapZxid + 1
	}
	for i, z := range r.zxids {
		if z != next {
			return fmt.Errorf("replayed zxid %d, want %d", z, next)
		}
		if !bytes.Equal(r.recs[i], want[z]) {
			return fmt.Errorf("record %d differs: got %d bytes, want %d", z, len(r.recs[i]), len(want[z]))
		}
		next++
	}
	if r.last != next-1 {
		return fmt.Errorf("Recover returned %d, state ends at %d", r.last, next-1)
	}
	return nil
}

// logFiles lists a directory's log files in zxid order.
func logFiles(t *testing.T, dir string) []string {
	t.Helper()
	fs, err := listFiles(OSFS(), dir, logPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.path)
	}
	return out
}

// copyDir copies the regular files of src into a new temp dir.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
