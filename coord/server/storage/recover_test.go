package storage

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// batchSpan is where one batch sits in a log file: [start, start+size) is
// header and body, the checksummed bytes.
type batchSpan struct{ start, size int64 }

// batchSpans walks a log file written by this package.
func batchSpans(t *testing.T, path string) []batchSpan {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	salt, _, err := parseFileHeader(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	seed := saltSeed(salt)
	var out []batchSpan
	off := int64(fileHeaderSize)
	for off+batchHeaderSize <= int64(len(b)) {
		h, ok := parseBatchHeader(b[off:], seed)
		if !ok {
			break
		}
		out = append(out, batchSpan{off, batchHeaderSize + h.bodyLen})
		off += align8(batchHeaderSize + h.bodyLen)
	}
	return out
}

// writeDurably appends recs starting at zxid first as one batch and waits
// until they are durable.
func writeDurably(t *testing.T, l *Log, w *durableWaiter, first int64, recs ...[]byte) {
	t.Helper()
	for i, r := range recs {
		if err := l.Append(first+int64(i), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.wait(l, first+int64(len(recs))-1); err != nil {
		t.Fatal(err)
	}
}

// TestTornTail cuts, zeroes, garbles or flips the log at every byte of its
// last batch: recovery must end at the record before it, and the log must
// go on working from there.
func TestTornTail(t *testing.T) {
	src := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	w := newDurableWaiter()
	l, _ := openRecover(t, Options{Dir: src, OnDurable: w.onDurable, PreallocSize: 4 << 10})
	want := [][]byte{nil}
	for z := int64(1); z <= 5; z++ {
		want = append(want, record(rng, 40+rng.IntN(100)))
		writeDurably(t, l, w, z, want[z])
	}
	last := record(rng, 60)
	writeDurably(t, l, w, 6, last)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	path := logFiles(t, src)[0]
	pristine, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spans := batchSpans(t, path)
	if len(spans) != 6 {
		t.Fatalf("%d batches, want 6", len(spans))
	}
	tail := spans[5]
	if int64(len(pristine)) <= tail.start+tail.size {
		t.Fatalf("file is %d bytes: expected preallocated zeros after the last batch", len(pristine))
	}
	damage := map[string]func(c int64) []byte{
		"truncate": func(c int64) []byte { return pristine[:c] },
		"zeros": func(c int64) []byte {
			b := append([]byte(nil), pristine...)
			clear(b[c:])
			return b
		},
		"garbage": func(c int64) []byte {
			b := append([]byte(nil), pristine...)
			for i := c; i < tail.start+tail.size; i++ {
				b[i] = byte(rng.Uint32())
			}
			return b
		},
		"flip": func(c int64) []byte {
			b := append([]byte(nil), pristine...)
			b[c] ^= 0x40
			return b
		},
	}
	dir := filepath.Join(t.TempDir(), "log")
	for name, fn := range damage {
		for c := tail.start; c < tail.start+tail.size; c++ {
			os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(path)), fn(c), 0o644); err != nil {
				t.Fatal(err)
			}
			w := newDurableWaiter()
			l, err := Open(Options{Dir: dir, OnDurable: w.onDurable, PreallocSize: 4 << 10})
			if err != nil {
				t.Fatal(err)
			}
			r, err := recoverAll(l)
			if err != nil {
				t.Fatalf("%s at %d: Recover: %v", name, c, err)
			}
			if r.last != 5 {
				t.Fatalf("%s at %d: recovered up to %d, want 5", name, c, r.last)
			}
			if err := checkState(r, want); err != nil {
				t.Fatalf("%s at %d: %v", name, c, err)
			}
			// A different record 6 goes in and must come back, not the torn one.
			again := append([]byte("again"), byte(c))
			writeDurably(t, l, w, 6, again)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l, r = openRecover(t, Options{Dir: dir})
			l.Close()
			if err := checkState(r, append(want[:6:6], again)); err != nil || r.last != 6 {
				t.Fatalf("%s at %d: after appending again: last %d, %v", name, c, r.last, err)
			}
		}
	}
}

// TestCorruptMiddle damages every checksummed byte of batches that have
// valid data after them, in the same file or a later one: recovery must
// refuse, since those records were fsynced and maybe acknowledged.
func TestCorruptMiddle(t *testing.T) {
	src := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	w := newDurableWaiter()
	l, _ := openRecover(t, Options{Dir: src, OnDurable: w.onDurable, PreallocSize: 4 << 10})
	z := int64(1)
	for b := 0; b < 3; b++ {
		writeDurably(t, l, w, z, record(rng, 30), record(rng, 50), record(rng, 10))
		z += 3
	}
	l.Close()
	w = newDurableWaiter()
	l, _ = openRecover(t, Options{Dir: src, OnDurable: w.onDurable, PreallocSize: 4 << 10})
	writeDurably(t, l, w, z, record(rng, 20), record(rng, 20))
	writeDurably(t, l, w, z+2, record(rng, 20))
	l.Close()
	files := logFiles(t, src)
	if len(files) != 2 {
		t.Fatalf("%d log files, want 2", len(files))
	}

	type target struct {
		what string
		file int
		from int64
		to   int64
	}
	first, second := batchSpans(t, files[0]), batchSpans(t, files[1])
	targets := []target{
		{"file header of the older file", 0, 0, fileHeaderSize},
		{"middle batch of the older file", 0, first[1].start, first[1].start + first[1].size},
		{"last batch of the older file", 0, first[2].start, first[2].start + first[2].size},
		{"first batch of the newest file", 1, second[0].start, second[0].start + second[0].size},
		{"file header of the newest file", 1, 0, fileHeaderSize},
	}
	pristine := map[int][]byte{}
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pristine[i] = b
	}
	for _, tg := range targets {
		for c := tg.from; c < tg.to; c++ {
			b := append([]byte(nil), pristine[tg.file]...)
			b[c] ^= 0x01
			if err := os.WriteFile(files[tg.file], b, 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := Open(Options{Dir: src})
			if err != nil {
				t.Fatal(err)
			}
			_, err = recoverAll(l)
			l.Close()
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s, byte %d flipped: Recover returned %v, want ErrCorrupt", tg.what, c, err)
			}
		}
		if err := os.WriteFile(files[tg.file], pristine[tg.file], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, r := openRecover(t, Options{Dir: src})
	defer l.Close()
	if r.last != z+2 {
		t.Fatalf("undamaged log recovered to %d, want %d", r.last, z+2)
	}
}

// TestNewFileCutDuringCreation covers a newest log file whose header never
// made it to disk: it held nothing and is removed.
func TestNewFileCutDuringCreation(t *testing.T) {
	dir := t.TempDir()
	w := newDurableWaiter()
	l, _ := openRecover(t, Options{Dir: dir, OnDurable: w.onDurable})
	writeDurably(t, l, w, 1, []byte("one"))
	l.Close()
	for _, content := range [][]byte{nil, {'S', 'L'}, make([]byte, 4096)} {
		empty := filepath.Join(dir, logName(2))
		if err := os.WriteFile(empty, content, 0o644); err != nil {
			t.Fatal(err)
		}
		l, r := openRecover(t, Options{Dir: dir})
		l.Close()
		if r.last != 1 {
			t.Fatalf("recovered %d, want 1", r.last)
		}
		if _, err := os.Stat(empty); !os.IsNotExist(err) {
			t.Fatalf("empty newest log %d bytes not removed: %v", len(content), err)
		}
	}
}
