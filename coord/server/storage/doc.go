// Package storage makes the coordination server's transactions durable: an
// append-only transaction log with group-committed fsync, snapshots, purging
// of old files, and recovery that tolerates a torn tail.
//
// Records are opaque bytes produced by the data tree; this package stores
// them in zxid order and hands them back byte for byte. Its loop:
//
//	l, _ := storage.Open(opts)
//	last, _ := l.Recover(loadSnapshot, replayRecord) // newest valid snapshot, then the log after it
//	for txn := range writes {
//		l.Append(txn.zxid, txn.bytes) // returns at once; blocks only when far behind
//	}
//	// meanwhile the syncer goroutine: take everything appended so far as one
//	// batch, one write + one fdatasync, then opts.OnDurable(lastZxidOfBatch):
//	// only now may the server answer those clients.
//	l.Snapshot(zxid, 3, writeTree)   // now and then: temp file, fsync, rename, purge
//	l.Close()
//
// Log files (log.<first zxid>) hold checksummed batches; the batch is the
// unit a power cut can tear, so recovery cuts a bad last batch off and
// refuses damage anywhere else (format.go explains why that is sound).
// Snapshots (snapshot.<zxid>) carry a trailing checksum and are written
// through a temporary file, so a half-written one is never loaded.
//
// Everything touches the disk through FS. FaultFS implements it over another
// FS and can simulate a power cut: unsynced bytes vanish, the last write may
// be torn, unsynced directory entries may vanish. The power-cut tests use it
// to show that every zxid reported durable survives and recovery never fails.
package storage
