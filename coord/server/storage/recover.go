package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Recover loads the newest valid snapshot and replays the log after it. It
// calls loadSnap once, with the snapshot's zxid and body, or with (0, nil)
// when there is no valid snapshot; then replay for every logged record with
// a zxid above the snapshot's, in order. rec is never reused and may be kept.
// Either callback may be nil.
//
// A torn or corrupt tail of the newest log file (a short or bad batch with
// nothing valid after it) is where the log ends: it is cut off, never an
// error. Damage anywhere else — a bad batch followed by a valid one, a bad
// older file — is an error wrapping ErrCorrupt, because those records were
// fsynced and possibly acknowledged. A snapshot that fails its checksum is
// skipped for the one before it.
//
// It returns the highest zxid recovered (0 for an empty log); Append then
// continues above it. Call Recover once, before the first Append.
func (l *Log) Recover(loadSnap func(snapZxid int64, r io.Reader) error, replay func(zxid int64, rec []byte) error) (lastZxid int64, err error) {
	l.mu.Lock()
	switch {
	case l.closing:
		l.mu.Unlock()
		return 0, ErrClosed
	case l.recovered:
		l.mu.Unlock()
		return 0, errors.New("storage: Recover called twice")
	}
	l.mu.Unlock()

	snapZxid, snaps, err := l.loadSnapshot(loadSnap)
	if err != nil {
		return 0, err
	}
	logLast, logFiles, err := l.replayLogs(snapZxid, replay)
	if err != nil {
		return 0, err
	}
	last := max(snapZxid, logLast)

	l.mu.Lock()
	defer l.mu.Unlock()
	l.recovered = true
	l.lastAppended = last
	l.stats.LastDurableZxid = last
	l.stats.LogFiles = logFiles
	l.stats.Snapshots = snaps
	return last, nil
}

// replayLogs replays every log file that can hold records after snapZxid and
// returns the last zxid in the log and how many log files remain.
func (l *Log) replayLogs(snapZxid int64, replay func(int64, []byte) error) (int64, int, error) {
	files, err := listFiles(l.fs, l.opts.Dir, logPrefix)
	if err != nil {
		return 0, 0, fmt.Errorf("storage: %w", err)
	}
	// Start at the newest file that begins at or before snapZxid+1: older
	// ones end before the snapshot (this is ZooKeeper's getLogFiles rule).
	start := 0
	for i, f := range files {
		if f.zxid <= snapZxid+1 {
			start = i
		}
	}
	remaining := len(files)
	prev := int64(0)
	for i := start; i < len(files); i++ {
		last := i == len(files)-1
		r, err := l.scanLog(files[i], last, snapZxid, prev, replay)
		if err != nil {
			return 0, 0, err
		}
		if r.removed {
			remaining--
		}
		prev = r.lastZxid
	}
	return prev, remaining, nil
}

// scanResult is what scanLog learned about one file.
type scanResult struct {
	lastZxid int64 // the last zxid in the file, or prev if it had none
	removed  bool  // the file held no records and was deleted
}

// scanLog validates one log file and replays its records above snapZxid.
// prev is the last zxid of the files before it. Only the newest file (last)
// may end in a torn batch; it is then truncated, or removed if nothing valid
// is left in it.
func (l *Log) scanLog(nf namedFile, last bool, snapZxid, prev int64, replay func(int64, []byte) error) (scanResult, error) {
	res := scanResult{lastZxid: prev}
	f, err := l.fs.OpenFile(nf.path, os.O_RDONLY, 0)
	if err != nil {
		return res, fmt.Errorf("storage: open %s: %w", nf.path, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return res, fmt.Errorf("storage: size of %s: %w", nf.path, err)
	}
	w := &window{f: f, size: size}
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, nf.path, fmt.Sprintf(format, args...))
	}

	hdr, err := w.slice(0, fileHeaderSize)
	if err != nil {
		return res, fmt.Errorf("storage: read %s: %w", nf.path, err)
	}
	salt, first, herr := parseFileHeader(hdr)
	if herr == nil && first != nf.zxid {
		herr = fmt.Errorf("header says first zxid %#x", first)
	}
	if herr != nil {
		// A new file is fsynced with its header before any batch goes in,
		// so a bad header can only be a cut during creation, and then
		// nothing but zeros follows it.
		if !last {
			return res, corrupt("bad file header: %v", herr)
		}
		dirty, err := w.anyNonZero(fileHeaderSize, size)
		if err != nil {
			return res, fmt.Errorf("storage: read %s: %w", nf.path, err)
		}
		if dirty {
			return res, corrupt("bad file header (%v) but data follows it", herr)
		}
		l.logger.Warn("removing log file cut during creation", "file", nf.path, "reason", herr)
		res.removed = true
		return res, l.removeLog(nf.path)
	}

	seed := saltSeed(salt)
	off := int64(fileHeaderSize)
	var bad string // why the batch at off is not valid; "" = clean end
	for {
		h, body, why, err := w.batch(off, seed)
		if err != nil {
			return res, fmt.Errorf("storage: read %s: %w", nf.path, err)
		}
		if why != "" {
			if why != endOfData {
				bad = why
			}
			break
		}
		if err := checkBody(h, body, res.lastZxid); err != nil {
			return res, corrupt("batch at offset %d: %v", off, err)
		}
		if err := replayBody(body, snapZxid, replay); err != nil {
			return res, err
		}
		res.lastZxid = h.last
		off += align8(batchHeaderSize + h.bodyLen)
	}

	if off < size {
		found, at, err := w.findBatch(off+batchAlign, seed)
		if err != nil {
			return res, fmt.Errorf("storage: read %s: %w", nf.path, err)
		}
		if found {
			what := bad
			if what == "" {
				what = "zeros"
			}
			return res, corrupt("batch at offset %d is damaged (%s) but a valid batch follows at offset %d", off, what, at)
		}
		if !last {
			// Older files were fsynced whole before the next one was
			// created, so they cannot have a torn tail.
			if bad != "" {
				return res, corrupt("damaged batch at offset %d (%s)", off, bad)
			}
			dirty, err := w.anyNonZero(off, size)
			if err != nil {
				return res, fmt.Errorf("storage: read %s: %w", nf.path, err)
			}
			if dirty {
				return res, corrupt("unexpected bytes after the last batch at offset %d", off)
			}
		}
	}
	if !last {
		return res, nil
	}
	if bad != "" {
		l.logger.Warn("cutting torn tail of the transaction log", "file", nf.path, "offset", off, "reason", bad)
	}
	if off == fileHeaderSize {
		res.removed = true
		return res, l.removeLog(nf.path)
	}
	if off < size {
		// Cut the tail off for good, so the next recovery does not take a
		// stale torn batch for damage in the middle of the log.
		if err := l.truncateLog(nf.path, off); err != nil {
			return res, err
		}
	}
	return res, nil
}

// replayBody hands the records of a checked batch above snapZxid to replay.
func replayBody(body []byte, snapZxid int64, replay func(int64, []byte) error) error {
	for off := 0; off < len(body); {
		size := int(le.Uint32(body[off:]))
		zxid := int64(le.Uint64(body[off+4:]))
		rec := body[off+recordHeader : off+recordHeader+size : off+recordHeader+size]
		off += recordHeader + size
		if zxid <= snapZxid || replay == nil {
			continue
		}
		if err := replay(zxid, rec); err != nil {
			return fmt.Errorf("storage: replay %#x: %w", zxid, err)
		}
	}
	return nil
}

func (l *Log) truncateLog(path string, size int64) error {
	f, err := l.fs.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("storage: open %s to cut its tail: %w", path, err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storage: cut %s at %d: %w", path, size, err)
	}
	return nil
}

func (l *Log) removeLog(path string) error {
	if err := l.fs.Remove(path); err != nil {
		return fmt.Errorf("storage: remove empty log %s: %w", path, err)
	}
	if err := l.fs.SyncDir(l.opts.Dir); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// endOfData is the "why" for a batch position holding zeros or the end of
// the file: where a log that was not torn stops.
const endOfData = "end of data"

// window reads a file through a 1 MiB buffer so scanning many small batches
// costs few system calls.
type window struct {
	f     File
	size  int64
	buf   []byte
	start int64 // file offset of buf[0]
}

const windowSize = 1 << 20

// slice returns n bytes at off, or fewer at the end of the file. The result
// is valid until the next call.
func (w *window) slice(off int64, n int) ([]byte, error) {
	if off >= w.size {
		return nil, nil
	}
	n = int(min(int64(n), w.size-off))
	if off >= w.start && off+int64(n) <= w.start+int64(len(w.buf)) {
		return w.buf[off-w.start : off-w.start+int64(n)], nil
	}
	want := int(min(int64(max(n, windowSize)), w.size-off))
	if cap(w.buf) < want {
		w.buf = make([]byte, want)
	}
	w.buf = w.buf[:want]
	got, err := w.f.ReadAt(w.buf, off)
	if err != nil && !(errors.Is(err, io.EOF) && got > 0) {
		w.buf = w.buf[:0]
		return nil, err
	}
	w.buf, w.start = w.buf[:got], off
	return w.buf[:min(n, got)], nil
}

// batch reads and checks the batch at off. It returns the header and a
// freshly allocated body, or why the position does not hold a valid batch
// (endOfData for zeros or the end of the file).
func (w *window) batch(off int64, seed uint32) (batchHeader, []byte, string, error) {
	hb, err := w.slice(off, batchHeaderSize)
	if err != nil {
		return batchHeader{}, nil, "", err
	}
	if len(hb) == 0 || allZero(hb) {
		return batchHeader{}, nil, endOfData, nil
	}
	if len(hb) < batchHeaderSize {
		return batchHeader{}, nil, "short batch header", nil
	}
	h, ok := parseBatchHeader(hb, seed)
	if !ok {
		return batchHeader{}, nil, "bad batch header", nil
	}
	if h.bodyLen > w.size-off-batchHeaderSize {
		return batchHeader{}, nil, "batch runs past the end of the file", nil
	}
	body := make([]byte, h.bodyLen)
	if err := w.read(body, off+batchHeaderSize); err != nil {
		return batchHeader{}, nil, "", err
	}
	if crcOf(seed, body) != h.bodyCRC {
		return batchHeader{}, nil, "batch checksum mismatch", nil
	}
	return h, body, "", nil
}

// read fills p from off, which must be within the file.
func (w *window) read(p []byte, off int64) error {
	if len(p) > windowSize {
		_, err := w.f.ReadAt(p, off)
		return err
	}
	b, err := w.slice(off, len(p))
	if err != nil {
		return err
	}
	if len(b) < len(p) {
		return io.ErrUnexpectedEOF
	}
	copy(p, b)
	return nil
}

// findBatch looks for any valid batch at an aligned offset from off on. It
// runs only past the end of the valid log, to tell a torn tail (nothing
// valid after it) from damage in the middle.
func (w *window) findBatch(off int64, seed uint32) (bool, int64, error) {
	off = align8(off)
	for off+batchHeaderSize <= w.size {
		if _, err := w.slice(off, batchHeaderSize); err != nil {
			return false, 0, err
		}
		b := w.buf[off-w.start:]
		// Skip quickly over preallocated zeros.
		i := 0
		for i+batchAlign <= len(b) && le.Uint64(b[i:]) == 0 {
			i += batchAlign
		}
		if i > 0 {
			off += int64(i)
			continue
		}
		if le.Uint32(b) == batchMagic {
			_, _, why, err := w.batch(off, seed)
			if err != nil {
				return false, 0, err
			}
			if why == "" {
				return true, off, nil
			}
		}
		off += batchAlign
	}
	return false, 0, nil
}

// anyNonZero reports whether [from, to) holds a non-zero byte.
func (w *window) anyNonZero(from, to int64) (bool, error) {
	for off := from; off < to; {
		b, err := w.slice(off, int(min(windowSize, to-off)))
		if err != nil {
			return false, err
		}
		if len(b) == 0 {
			return false, nil
		}
		if !allZero(b) {
			return true, nil
		}
		off += int64(len(b))
	}
	return false, nil
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if le.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
