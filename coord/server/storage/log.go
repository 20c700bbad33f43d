package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("storage: log closed")

// ErrCorrupt wraps every recovery failure caused by damaged data that is not
// a torn tail: refusing to start beats silently dropping acknowledged writes.
var ErrCorrupt = errors.New("storage: corrupt log")

const (
	defaultRollBytes  = 64 << 20
	defaultPrealloc   = 16 << 20
	defaultMaxPending = 4 << 20
	maxMaxPending     = 512 << 20
)

// Options configures a Log.
type Options struct {
	FS      FS     // nil = OSFS()
	Dir     string // dataLogDir: transaction logs
	SnapDir string // dataDir: snapshots (may equal Dir; "" = Dir)
	// NoSync skips fsync of the log (ZooKeeper's forceSync=no): OnDurable
	// then only means "written to the OS". For benchmarks only.
	NoSync bool
	// OnDurable is called from the syncer goroutine after every record up to
	// zxid is fsynced, with increasing zxids. It must not block on the
	// goroutine that calls Append: Append may itself be waiting for the
	// syncer to make room.
	OnDurable func(zxid int64)
	// OnFailure is called once, from the syncer, if a write or fsync fails
	// and the log stops: nothing after the last OnDurable will become
	// durable, and Append returns the error from then on. A server should
	// stop serving writes (ZooKeeper exits). May be nil.
	OnFailure func(err error)
	// PreallocSize is how far ahead the log file is reserved, in steps of
	// this size, like ZooKeeper's preAllocSize; 0 = 16 MiB, negative = none.
	PreallocSize int64
	// RollBytes starts a new log file once the current one passes this size
	// (0 = 64 MiB).
	RollBytes int64
	// MaxPendingBytes is how many bytes of records may wait for the syncer
	// before Append blocks (0 = 4 MiB). At most twice this is unsynced.
	MaxPendingBytes int64
	// Logger receives recovery decisions (torn tails cut, snapshots skipped);
	// nil discards them.
	Logger *slog.Logger
}

// Stats are the log's counters for mntr and metrics.
type Stats struct {
	LastDurableZxid int64
	LogFiles        int   // log files in Dir
	Snapshots       int   // snapshot files in SnapDir
	FsyncCount      int64 // fsyncs of log batches since Open
	LastFsync       time.Duration
	MaxFsync        time.Duration
	Bytes           int64 // bytes written to log files since Open, framing included
}

// Log is the transaction log plus snapshots of one server: Append from one
// goroutine, a syncer goroutine group-commits, Snapshot from any goroutine.
type Log struct {
	opts       Options
	fs         FS
	logger     *slog.Logger
	prealloc   int64
	rollBytes  int64
	maxPending int

	mu       sync.Mutex
	work     *sync.Cond // the syncer waits here for records or Close
	progress *sync.Cond // Append waits here for room
	fill     *batch     // records not yet taken by the syncer
	spare    *batch     // the other buffer, nil while the syncer writes it
	// lastAppended is the highest zxid accepted (or recovered); Append
	// requires more.
	lastAppended int64
	recovered    bool
	closing      bool
	idle         bool  // the syncer is waiting on work
	err          error // sticky: the log failed and stays failed
	rollNext     bool  // a snapshot asked for a fresh log file
	stats        Stats

	snapMu sync.Mutex // one Snapshot (and purge) at a time
	done   chan struct{}

	// The current log file, owned by the syncer goroutine.
	file      File
	filePath  string
	fileSeed  uint32
	fileOff   int64 // where the next batch goes
	fileAlloc int64 // the file is reserved (zero-filled) up to here
	fileCount int   // batches in the file
}

// batch is a buffer of framed records with room for the batch header in
// front, reused between Append and the syncer so steady state allocates
// nothing.
type batch struct {
	buf         []byte
	count       int
	first, last int64
}

func newBatch() *batch { return &batch{buf: make([]byte, batchHeaderSize, 64<<10)} }

func (b *batch) reset() {
	b.buf = b.buf[:batchHeaderSize]
	b.count, b.first, b.last = 0, 0, 0
}

// Open prepares a log in opts.Dir and opts.SnapDir, creating them if needed,
// and starts its syncer. Call Recover next, then Append.
func Open(opts Options) (*Log, error) {
	if opts.Dir == "" {
		return nil, errors.New("storage: Options.Dir is empty")
	}
	if opts.SnapDir == "" {
		opts.SnapDir = opts.Dir
	}
	if opts.FS == nil {
		opts.FS = OSFS()
	}
	if f, ok := opts.FS.(*FaultFS); ok {
		f.Restart()
	}
	l := &Log{
		opts:       opts,
		fs:         opts.FS,
		logger:     opts.Logger,
		prealloc:   opts.PreallocSize,
		rollBytes:  opts.RollBytes,
		maxPending: int(opts.MaxPendingBytes),
		fill:       newBatch(),
		spare:      newBatch(),
		done:       make(chan struct{}),
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if l.prealloc == 0 {
		l.prealloc = defaultPrealloc
	}
	if l.rollBytes <= 0 {
		l.rollBytes = defaultRollBytes
	}
	if l.maxPending <= 0 {
		l.maxPending = defaultMaxPending
	}
	l.maxPending = min(l.maxPending, maxMaxPending)
	for _, d := range []string{opts.Dir, opts.SnapDir} {
		if err := l.fs.MkdirAll(d); err != nil {
			return nil, fmt.Errorf("storage: create %s: %w", d, err)
		}
	}
	l.work = sync.NewCond(&l.mu)
	l.progress = sync.NewCond(&l.mu)
	go l.syncLoop()
	return l, nil
}

// Append enqueues one record for the syncer and returns; OnDurable reports
// when it is on disk. zxids must be strictly increasing. Append blocks while
// MaxPendingBytes of records wait for the syncer. rec is copied.
func (l *Log) Append(zxid int64, rec []byte) error {
	if len(rec) > MaxRecordSize {
		return fmt.Errorf("storage: append %#x: record of %d bytes exceeds %d", zxid, len(rec), MaxRecordSize)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.recovered {
		return fmt.Errorf("storage: append %#x: call Recover before the first Append", zxid)
	}
	if zxid <= l.lastAppended {
		return fmt.Errorf("storage: append %#x: zxid not above the last appended %#x", zxid, l.lastAppended)
	}
	need := recordHeader + len(rec)
	for l.err == nil && !l.closing && l.fill.count > 0 && len(l.fill.buf)+need > l.maxPending {
		l.progress.Wait()
	}
	if l.err != nil {
		return l.err
	}
	if l.closing {
		return ErrClosed
	}
	b := l.fill
	n := len(b.buf)
	b.buf = append(b.buf, make([]byte, recordHeader)...)
	le.PutUint32(b.buf[n:], uint32(len(rec)))
	le.PutUint64(b.buf[n+4:], uint64(zxid))
	b.buf = append(b.buf, rec...)
	if b.count == 0 {
		b.first = zxid
	}
	b.count++
	b.last = zxid
	l.lastAppended = zxid
	if l.idle {
		l.idle = false
		l.work.Signal()
	}
	return nil
}

// Close writes and fsyncs everything appended, stops the syncer and closes
// the log file. It returns the error that stopped the log, if one did.
func (l *Log) Close() error {
	l.mu.Lock()
	if !l.closing {
		l.closing = true
		l.work.Signal()
		l.progress.Broadcast()
	}
	l.mu.Unlock()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Err returns the error that stopped the log (a failed write or fsync), or
// nil. After an fsync failure nothing more is written: the kernel may have
// dropped the dirty pages, so retrying could claim durability falsely.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Stats returns the log's counters.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// syncLoop is the syncer: it takes everything appended so far as one batch,
// writes it with one write and one fsync, reports it durable, and repeats.
// Records appended during an fsync form the next batch (group commit).
func (l *Log) syncLoop() {
	defer close(l.done)
	defer l.closeFile()
	for {
		l.mu.Lock()
		for l.fill.count == 0 && !l.closing {
			l.idle = true
			l.work.Wait()
		}
		l.idle = false
		if l.fill.count == 0 || l.err != nil {
			l.mu.Unlock()
			return
		}
		b := l.fill
		l.fill, l.spare = l.spare, nil
		roll := l.rollNext
		l.rollNext = false
		l.progress.Broadcast()
		l.mu.Unlock()

		created, written, took, err := l.commit(b, roll)

		l.mu.Lock()
		l.stats.LogFiles += created
		if err != nil {
			l.err = fmt.Errorf("storage: log write failed, no further writes accepted: %w", err)
			l.progress.Broadcast()
			failed := l.err
			l.mu.Unlock()
			if l.opts.OnFailure != nil {
				l.opts.OnFailure(failed)
			}
			return
		}
		last := b.last
		if cap(b.buf) > 1<<20 && len(b.buf) < cap(b.buf)/8 {
			// A burst grew the buffer; do not keep megabytes for a trickle.
			b.buf = make([]byte, batchHeaderSize, 64<<10)
		}
		b.reset()
		l.spare = b
		st := &l.stats
		st.LastDurableZxid = last
		st.Bytes += written
		if !l.opts.NoSync {
			st.FsyncCount++
			st.LastFsync = took
			st.MaxFsync = max(st.MaxFsync, took)
		}
		l.mu.Unlock()
		if l.opts.OnDurable != nil {
			l.opts.OnDurable(last)
		}
	}
}

// commit writes one batch to the log file, rolling to a new file first when
// asked to or when the current one is full, and fsyncs it.
func (l *Log) commit(b *batch, roll bool) (created int, written int64, took time.Duration, err error) {
	bodyLen := len(b.buf) - batchHeaderSize
	size := align8(int64(len(b.buf)))
	if l.file != nil && l.fileCount > 0 && (roll || l.fileOff+size > l.rollBytes) {
		if err := l.finishFile(); err != nil {
			return 0, 0, 0, err
		}
	}
	if l.file == nil {
		if err := l.createFile(b.first); err != nil {
			return 0, 0, 0, err
		}
		created = 1
	}
	for int64(len(b.buf)) < size {
		b.buf = append(b.buf, 0)
	}
	putBatchHeader(b.buf, l.fileSeed, bodyLen, b.count, b.first, b.last)
	if end := l.fileOff + size; l.prealloc > 0 && end > l.fileAlloc {
		alloc := (end + l.prealloc - 1) / l.prealloc * l.prealloc
		if err := l.file.Allocate(alloc); err != nil {
			return created, 0, 0, fmt.Errorf("preallocate %s to %d: %w", l.filePath, alloc, err)
		}
		l.fileAlloc = alloc
	}
	if _, err := l.file.WriteAt(b.buf, l.fileOff); err != nil {
		return created, 0, 0, fmt.Errorf("write %s at %d: %w", l.filePath, l.fileOff, err)
	}
	if !l.opts.NoSync {
		start := time.Now()
		if err := l.file.Sync(); err != nil {
			return created, 0, 0, fmt.Errorf("fsync %s: %w", l.filePath, err)
		}
		took = time.Since(start)
	}
	l.fileOff += size
	l.fileCount++
	return created, size, took, nil
}

// createFile starts a log file whose first record is zxid. The file's header
// and its directory entry are made durable before any batch goes in, so a
// batch acknowledged in it can never vanish with the file.
func (l *Log) createFile(first int64) error {
	path := filepath.Join(l.opts.Dir, logName(first))
	f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create log file: %w", err)
	}
	salt := rand.Uint64()
	fail := func(err error) error {
		f.Close()
		return err
	}
	if _, err := f.WriteAt(fileHeader(salt, first), 0); err != nil {
		return fail(fmt.Errorf("write header of %s: %w", path, err))
	}
	alloc := int64(fileHeaderSize)
	if l.prealloc > 0 {
		alloc = l.prealloc
		if err := f.Allocate(alloc); err != nil {
			return fail(fmt.Errorf("preallocate %s: %w", path, err))
		}
	}
	if !l.opts.NoSync {
		if err := f.Sync(); err != nil {
			return fail(fmt.Errorf("fsync %s: %w", path, err))
		}
		if err := l.fs.SyncDir(l.opts.Dir); err != nil {
			return fail(err)
		}
	}
	l.file, l.filePath = f, path
	l.fileSeed = saltSeed(salt)
	l.fileOff, l.fileAlloc, l.fileCount = fileHeaderSize, alloc, 0
	return nil
}

// finishFile ends the current file before a roll: the unused preallocated
// tail is cut off (so recovery and disk usage see only real data) and the
// file closed.
func (l *Log) finishFile() error {
	if l.fileAlloc > l.fileOff {
		if err := l.file.Truncate(l.fileOff); err != nil {
			return fmt.Errorf("trim %s: %w", l.filePath, err)
		}
		if !l.opts.NoSync {
			if err := l.file.Sync(); err != nil {
				return fmt.Errorf("fsync %s: %w", l.filePath, err)
			}
		}
	}
	err := l.file.Close()
	l.file = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", l.filePath, err)
	}
	return nil
}

func (l *Log) closeFile() {
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
}
