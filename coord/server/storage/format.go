package storage

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// On-disk format. All integers are little-endian.
//
// A log file is named log.<first zxid, 16 hex digits> and holds
//
//	file header (32 bytes): magic "SLOG" | version | salt u64 | first zxid | 0 | crc
//	batch…                : one per group commit, each starting 8-byte aligned
//	zeros                 : preallocated space not yet written
//
// and a batch is
//
//	batch header (40 bytes): magic "SBAT" | body length | record count | body crc |
//	                         first zxid | last zxid | 0 | header crc
//	body                   : records, each [length u32][zxid u64][payload]
//	zero padding to 8 bytes
//
// The batch, not the record, is the unit of validity: the syncer writes and
// fsyncs one batch at a time and writes the next only after that fsync, so
// after a power cut only the last batch can be torn, and it is kept or
// dropped whole. A bad batch followed by a valid one therefore cannot be a
// torn write; it is corruption of acknowledged data and recovery refuses it.
//
// Both checksums are CRC-32C seeded with the file's random salt. The salt
// means a payload that happens to contain a well-formed batch (a client can
// store any bytes in a znode) can never pass for one when recovery searches
// past a bad batch, and a stale batch from another file never validates.
//
// A snapshot is named snapshot.<zxid, 16 hex digits> and holds
//
//	header (32 bytes): magic "SSNP" | version | zxid | 16 zero bytes
//	body             : whatever the data tree wrote
//	trailer (16)     : body length u64 | crc of header+body | magic "SEND"
//
// so a snapshot cut short anywhere fails its trailer check and is skipped.
const (
	formatVersion = 1

	logMagic        = 0x474c4f53 // "SLOG"
	fileHeaderSize  = 32
	batchMagic      = 0x54414253 // "SBAT"
	batchHeaderSize = 40
	recordHeader    = 12
	batchAlign      = 8

	snapMagic        = 0x504e5353 // "SSNP"
	snapEndMagic     = 0x444e4553 // "SEND"
	snapHeaderSize   = 32
	snapTrailerSize  = 16
	snapshotOverhead = snapHeaderSize + snapTrailerSize

	logPrefix  = "log."
	snapPrefix = "snapshot."
	tmpSuffix  = ".tmp"

	// MaxRecordSize bounds one record. ZooKeeper's jute.maxbuffer is 1 MiB
	// by default; this leaves room for large multi transactions.
	MaxRecordSize = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var le = binary.LittleEndian

// saltSeed is the CRC state after the salt, the starting point of every
// checksum in a log file.
func saltSeed(salt uint64) uint32 {
	var b [8]byte
	le.PutUint64(b[:], salt)
	return crc32.Update(0, castagnoli, b[:])
}

func crcOf(seed uint32, b []byte) uint32 { return crc32.Update(seed, castagnoli, b) }

func align8(n int64) int64 { return (n + batchAlign - 1) &^ (batchAlign - 1) }

func logName(zxid int64) string  { return fmt.Sprintf("%s%016x", logPrefix, uint64(zxid)) }
func snapName(zxid int64) string { return fmt.Sprintf("%s%016x", snapPrefix, uint64(zxid)) }

// parseName returns the zxid in a log or snapshot file name with the given
// prefix; temporary and foreign files do not parse.
func parseName(name, prefix string) (int64, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || rest == "" || len(rest) > 16 {
		return 0, false
	}
	z, err := strconv.ParseUint(rest, 16, 64)
	if err != nil {
		return 0, false
	}
	return int64(z), true
}

// namedFile is a log or snapshot file and the zxid its name carries.
type namedFile struct {
	zxid int64
	path string
}

// listFiles returns dir's files with the prefix, sorted by zxid ascending.
func listFiles(fsys FS, dir, prefix string) ([]namedFile, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []namedFile
	for _, n := range names {
		if z, ok := parseName(n, prefix); ok {
			out = append(out, namedFile{zxid: z, path: filepath.Join(dir, n)})
		}
	}
	// ReadDir sorts by name and the hex is fixed-width for files we write,
	// but sort by value so hand-made short names still order correctly.
	slices.SortFunc(out, func(a, b namedFile) int { return cmp.Compare(a.zxid, b.zxid) })
	return out, nil
}

// fileHeader encodes a log file header.
func fileHeader(salt uint64, first int64) []byte {
	b := make([]byte, fileHeaderSize)
	le.PutUint32(b[0:], logMagic)
	le.PutUint32(b[4:], formatVersion)
	le.PutUint64(b[8:], salt)
	le.PutUint64(b[16:], uint64(first))
	le.PutUint32(b[28:], crc32.Checksum(b[:28], castagnoli))
	return b
}

// parseFileHeader validates a log file header and returns its salt and first zxid.
func parseFileHeader(b []byte) (salt uint64, first int64, err error) {
	if len(b) < fileHeaderSize {
		return 0, 0, fmt.Errorf("short file header (%d bytes)", len(b))
	}
	if m := le.Uint32(b[0:]); m != logMagic {
		return 0, 0, fmt.Errorf("bad magic %#x", m)
	}
	if c := crc32.Checksum(b[:28], castagnoli); c != le.Uint32(b[28:]) {
		return 0, 0, fmt.Errorf("file header checksum mismatch")
	}
	if v := le.Uint32(b[4:]); v != formatVersion {
		return 0, 0, fmt.Errorf("unsupported log format version %d", v)
	}
	return le.Uint64(b[8:]), int64(le.Uint64(b[16:])), nil
}

// batchHeader is a decoded batch header.
type batchHeader struct {
	bodyLen     int64
	count       int
	bodyCRC     uint32
	first, last int64
}

// putBatchHeader fills the first batchHeaderSize bytes of buf, whose body
// follows, and returns nothing: the caller writes buf as is.
func putBatchHeader(buf []byte, seed uint32, bodyLen, count int, first, last int64) {
	h := buf[:batchHeaderSize]
	le.PutUint32(h[0:], batchMagic)
	le.PutUint32(h[4:], uint32(bodyLen))
	le.PutUint32(h[8:], uint32(count))
	le.PutUint32(h[12:], crc32.Update(seed, castagnoli, buf[batchHeaderSize:batchHeaderSize+bodyLen]))
	le.PutUint64(h[16:], uint64(first))
	le.PutUint64(h[24:], uint64(last))
	le.PutUint32(h[32:], 0)
	le.PutUint32(h[36:], crc32.Update(seed, castagnoli, h[:36]))
}

// parseBatchHeader checks a batch header's magic and checksum.
func parseBatchHeader(h []byte, seed uint32) (batchHeader, bool) {
	if len(h) < batchHeaderSize || le.Uint32(h[0:]) != batchMagic {
		return batchHeader{}, false
	}
	if crc32.Update(seed, castagnoli, h[:36]) != le.Uint32(h[36:]) {
		return batchHeader{}, false
	}
	return batchHeader{
		bodyLen: int64(le.Uint32(h[4:])),
		count:   int(le.Uint32(h[8:])),
		bodyCRC: le.Uint32(h[12:]),
		first:   int64(le.Uint64(h[16:])),
		last:    int64(le.Uint64(h[24:])),
	}, true
}

// checkBody verifies that a checksummed body holds exactly the records its
// header promises, in strictly increasing zxid order after prev. A body that
// fails here passed its CRC, so it is not a torn write but a bug or forgery.
func checkBody(h batchHeader, body []byte, prev int64) error {
	n, off := 0, 0
	z := prev
	for off < len(body) {
		if len(body)-off < recordHeader {
			return fmt.Errorf("record header cut at body offset %d", off)
		}
		size := int(le.Uint32(body[off:]))
		zxid := int64(le.Uint64(body[off+4:]))
		if size > len(body)-off-recordHeader {
			return fmt.Errorf("record at body offset %d overruns the batch", off)
		}
		if zxid <= z {
			return fmt.Errorf("zxid %#x after %#x is not increasing", zxid, z)
		}
		if n == 0 && zxid != h.first {
			return fmt.Errorf("first zxid %#x, header says %#x", zxid, h.first)
		}
		z = zxid
		n++
		off += recordHeader + size
	}
	if n != h.count || n == 0 || z != h.last {
		return fmt.Errorf("batch has %d records ending at %#x, header says %d ending at %#x", n, z, h.count, h.last)
	}
	return nil
}

// snapHeader encodes a snapshot header.
func snapHeader(zxid int64) []byte {
	b := make([]byte, snapHeaderSize)
	le.PutUint32(b[0:], snapMagic)
	le.PutUint32(b[4:], formatVersion)
	le.PutUint64(b[8:], uint64(zxid))
	return b
}
