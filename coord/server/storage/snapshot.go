package storage

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Snapshot writes a snapshot of the state at zxid, then purges: it keeps the
// newest retain snapshots (at least 3, like autopurge.snapRetainCount) and
// the log files needed to replay from the oldest of them, and asks the
// syncer to start a new log file so the next purge can drop the current one.
//
// The snapshot is written to a temporary file, fsynced, renamed into place
// and its directory fsynced, so a crash leaves either the whole snapshot or
// none; its trailing checksum guards against everything else. write gets a
// buffered writer. Safe to call while Append continues; concurrent Snapshot
// calls run one at a time.
//
// The state may be ahead of what the log has made durable (ZooKeeper's
// snapshots are fuzzy the same way): after a crash the extra transactions
// are simply part of the recovered state, and the log continues above zxid.
func (l *Log) Snapshot(zxid int64, retain int, write func(w io.Writer) error) error {
	l.mu.Lock()
	recovered := l.recovered
	l.mu.Unlock()
	if !recovered {
		return fmt.Errorf("storage: snapshot %#x: call Recover first", zxid)
	}
	if zxid < 0 {
		return fmt.Errorf("storage: snapshot: negative zxid %d", zxid)
	}
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	if err := l.writeSnapshot(zxid, write); err != nil {
		return err
	}
	l.mu.Lock()
	l.rollNext = true
	l.mu.Unlock()
	return l.purge(retain)
}

// snapWriter writes sequentially to a file and checksums what it wrote.
type snapWriter struct {
	f   File
	off int64
	crc uint32
}

func (s *snapWriter) Write(p []byte) (int, error) {
	n, err := s.f.WriteAt(p, s.off)
	s.crc = crc32.Update(s.crc, castagnoli, p[:n])
	s.off += int64(n)
	return n, err
}

func (l *Log) writeSnapshot(zxid int64, write func(w io.Writer) error) (err error) {
	final := filepath.Join(l.opts.SnapDir, snapName(zxid))
	tmp := final + tmpSuffix
	f, err := l.fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("storage: snapshot %#x: %w", zxid, err)
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			l.fs.Remove(tmp)
			err = fmt.Errorf("storage: snapshot %#x: %w", zxid, err)
		}
	}()
	sw := &snapWriter{f: f}
	if _, err := sw.Write(snapHeader(zxid)); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(sw, 256<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	trailer := make([]byte, snapTrailerSize)
	le.PutUint64(trailer[0:], uint64(sw.off-snapHeaderSize))
	le.PutUint32(trailer[8:], sw.crc)
	le.PutUint32(trailer[12:], snapEndMagic)
	if _, err := f.WriteAt(trailer, sw.off); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return err
	}
	if err := l.fs.Rename(tmp, final); err != nil {
		return err
	}
	return l.fs.SyncDir(l.opts.SnapDir)
}

// loadSnapshot hands the newest snapshot that passes its checksum to load
// (or (0, nil) when none does) and returns its zxid and how many snapshot
// files there are. Leftover temporary files of interrupted snapshots are
// removed.
func (l *Log) loadSnapshot(load func(int64, io.Reader) error) (int64, int, error) {
	names, err := l.fs.ReadDir(l.opts.SnapDir)
	if err != nil {
		return 0, 0, fmt.Errorf("storage: list %s: %w", l.opts.SnapDir, err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, snapPrefix) && strings.HasSuffix(n, tmpSuffix) {
			if err := l.fs.Remove(filepath.Join(l.opts.SnapDir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return 0, 0, fmt.Errorf("storage: remove interrupted snapshot: %w", err)
			}
		}
	}
	snaps, err := listFiles(l.fs, l.opts.SnapDir, snapPrefix)
	if err != nil {
		return 0, 0, fmt.Errorf("storage: %w", err)
	}
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		ok, err := l.loadOne(s, load)
		if err != nil {
			return 0, 0, err
		}
		if ok {
			return s.zxid, len(snaps), nil
		}
	}
	if load != nil {
		if err := load(0, nil); err != nil {
			return 0, 0, fmt.Errorf("storage: load empty state: %w", err)
		}
	}
	return 0, len(snaps), nil
}

// loadOne checks one snapshot's checksum and, if it is whole, loads it. A
// damaged snapshot returns false so the caller falls back to an older one;
// an error from load is returned, since the bytes are what was written.
func (l *Log) loadOne(s namedFile, load func(int64, io.Reader) error) (bool, error) {
	f, err := l.fs.OpenFile(s.path, os.O_RDONLY, 0)
	if err != nil {
		return false, fmt.Errorf("storage: open %s: %w", s.path, err)
	}
	defer f.Close()
	bodyLen, err := checkSnapshot(f, s.zxid)
	if err != nil {
		l.logger.Warn("skipping damaged snapshot", "file", s.path, "reason", err)
		return false, nil
	}
	if load != nil {
		r := bufio.NewReaderSize(io.NewSectionReader(f, snapHeaderSize, bodyLen), 256<<10)
		if err := load(s.zxid, r); err != nil {
			return false, fmt.Errorf("storage: load %s: %w", s.path, err)
		}
	}
	return true, nil
}

// snapshotTrailer reads and checks a snapshot's header and trailer and
// returns the body length: the cheap test of whether a snapshot is whole.
func snapshotTrailer(f File, zxid int64) (int64, error) {
	size, err := f.Size()
	if err != nil {
		return 0, err
	}
	if size < snapshotOverhead {
		return 0, fmt.Errorf("only %d bytes", size)
	}
	var hdr [snapHeaderSize]byte
	var tr [snapTrailerSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return 0, err
	}
	if _, err := f.ReadAt(tr[:], size-snapTrailerSize); err != nil {
		return 0, err
	}
	if le.Uint32(tr[12:]) != snapEndMagic {
		return 0, errors.New("no end marker")
	}
	bodyLen := int64(le.Uint64(tr[0:]))
	if bodyLen != size-snapshotOverhead {
		return 0, fmt.Errorf("trailer says %d body bytes, file has %d", bodyLen, size-snapshotOverhead)
	}
	if le.Uint32(hdr[0:]) != snapMagic || le.Uint32(hdr[4:]) != formatVersion {
		return 0, errors.New("bad header")
	}
	if z := int64(le.Uint64(hdr[8:])); z != zxid {
		return 0, fmt.Errorf("header says zxid %#x", z)
	}
	return bodyLen, nil
}

// checkSnapshot verifies a snapshot's framing and checksum by reading it
// once, before any of it is handed to the data tree.
func checkSnapshot(f File, zxid int64) (int64, error) {
	bodyLen, err := snapshotTrailer(f, zxid)
	if err != nil {
		return 0, err
	}
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, snapHeaderSize+bodyLen)); err != nil {
		return 0, err
	}
	var tr [4]byte
	if _, err := f.ReadAt(tr[:], snapHeaderSize+bodyLen+8); err != nil {
		return 0, err
	}
	if h.Sum32() != le.Uint32(tr[:]) {
		return 0, errors.New("checksum mismatch")
	}
	return bodyLen, nil
}

// purge deletes snapshots beyond the newest retain whole ones and the log
// files that only hold records at or below the oldest kept snapshot.
func (l *Log) purge(retain int) error {
	retain = max(retain, 3)
	snaps, err := listFiles(l.fs, l.opts.SnapDir, snapPrefix)
	if err != nil {
		return fmt.Errorf("storage: purge: %w", err)
	}
	// Count only snapshots that look whole, as ZooKeeper's
	// findNValidSnapshots does, so damaged ones never stand in for the
	// retained history.
	kept, cut := 0, len(snaps)
	for i := len(snaps) - 1; i >= 0 && kept < retain; i-- {
		if l.looksWhole(snaps[i]) {
			kept++
			cut = i
		}
	}
	if kept == 0 {
		return nil
	}
	oldest := snaps[cut].zxid
	removedSnaps, removedLogs := 0, 0
	for _, s := range snaps[:cut] {
		if err := l.removeFile(s.path); err != nil {
			return err
		}
		removedSnaps++
	}
	logs, err := listFiles(l.fs, l.opts.Dir, logPrefix)
	if err != nil {
		return fmt.Errorf("storage: purge: %w", err)
	}
	// log i holds zxids below the first one of log i+1; it is needed unless
	// all of those are covered by the oldest kept snapshot. The newest log
	// is never removed: the syncer may be writing it.
	for i := 0; i+1 < len(logs) && logs[i+1].zxid <= oldest+1; i++ {
		if err := l.removeFile(logs[i].path); err != nil {
			return err
		}
		removedLogs++
	}
	l.mu.Lock()
	l.stats.Snapshots = len(snaps) - removedSnaps
	l.stats.LogFiles -= removedLogs
	l.mu.Unlock()
	// Removals need no fsync to be safe (a file that reappears after a
	// crash is old but valid) but sync anyway so disk usage is settled.
	if removedSnaps > 0 {
		if err := l.fs.SyncDir(l.opts.SnapDir); err != nil {
			return fmt.Errorf("storage: purge: %w", err)
		}
	}
	if removedLogs > 0 && (removedSnaps == 0 || l.opts.Dir != l.opts.SnapDir) {
		if err := l.fs.SyncDir(l.opts.Dir); err != nil {
			return fmt.Errorf("storage: purge: %w", err)
		}
	}
	return nil
}

func (l *Log) looksWhole(s namedFile) bool {
	f, err := l.fs.OpenFile(s.path, os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = snapshotTrailer(f, s.zxid)
	return err == nil
}

func (l *Log) removeFile(path string) error {
	if err := l.fs.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: purge %s: %w", path, err)
	}
	return nil
}
