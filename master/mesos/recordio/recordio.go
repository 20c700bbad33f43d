// Package recordio implements Mesos' RecordIO framing, the format of every
// streaming response in the v1 APIs (the scheduler and operator SUBSCRIBE
// streams, the agent's subscription):
//
//	record = record-size LF record-data      ; record-size = 1*DIGIT
//
// e.g. "20\n{\"type\":\"HEARTBEAT\"}". A Writer emits one record per write
// and flushes it through, so an http.ResponseWriter delivers each event at
// once; a Reader splits a byte stream back into records however the
// network fragmented it, refusing oversized or garbled input.
package recordio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// DefaultMaxRecordSize bounds records a Reader accepts unless told
// otherwise. Mesos' events stay far below it; a length prefix above it means
// a broken or hostile peer, and must not make the reader allocate.
const DefaultMaxRecordSize = 16 << 20

// maxLengthDigits is enough for any uint64 ("18446744073709551615").
const maxLengthDigits = 20

// ErrRecordTooLarge is returned (wrapped) for a record whose length prefix
// exceeds the reader's limit.
var ErrRecordTooLarge = errors.New("recordio: record too large")

// ErrBadLength is returned (wrapped) when the stream does not start with a
// decimal length and a newline: the peer is not speaking RecordIO, or the
// stream lost its framing.
var ErrBadLength = errors.New("recordio: bad record length")

// Writer frames records onto an io.Writer. It is safe for concurrent use,
// so a heartbeat goroutine and an event goroutine can share one stream
// without interleaving records.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer on w. If w is an http.Flusher (an
// http.ResponseWriter) or has Flush() error (a bufio.Writer), every record
// is flushed as soon as it is written.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// WriteRecord writes one record: its length, a newline, and data, in a
// single Write call, then flushes. Empty records are refused: Mesos never
// sends them, and many readers treat a zero length as a protocol error.
func (w *Writer) WriteRecord(data []byte) error {
	if len(data) == 0 {
		return errors.New("recordio: refusing to write an empty record")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = strconv.AppendInt(w.buf[:0], int64(len(data)), 10)
	w.buf = append(w.buf, '\n')
	w.buf = append(w.buf, data...)
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("recordio: write record: %w", err)
	}
	if cap(w.buf) > 1<<20 {
		w.buf = nil // don't pin one huge record's buffer for the stream's life
	}
	switch f := w.w.(type) {
	case http.Flusher:
		f.Flush()
	case interface{ Flush() error }:
		if err := f.Flush(); err != nil {
			return fmt.Errorf("recordio: flush: %w", err)
		}
	}
	return nil
}

// Encode writes v as one JSON record.
func (w *Writer) Encode(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("recordio: encode %T: %w", v, err)
	}
	return w.WriteRecord(data)
}

// Reader splits a RecordIO stream into records. It is not safe for
// concurrent use.
type Reader struct {
	r   *bufio.Reader
	max int64
}

// NewReader returns a Reader on r that refuses records longer than maxSize
// bytes (DefaultMaxRecordSize when maxSize <= 0).
func NewReader(r io.Reader, maxSize int) *Reader {
	if maxSize <= 0 {
		maxSize = DefaultMaxRecordSize
	}
	return &Reader{r: bufio.NewReaderSize(r, 32<<10), max: int64(maxSize)}
}

// ReadRecord returns the next record. At a clean end of stream it returns
// io.EOF; a stream cut inside a record gives io.ErrUnexpectedEOF. Blank
// lines between records are skipped (Mesos' documented reader does the
// same). A zero-length record is returned as an empty, non-nil slice.
func (r *Reader) ReadRecord() ([]byte, error) {
	n, err := r.readLength()
	if err != nil {
		return nil, err
	}
	if n > r.max {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, n, r.max)
	}
	// Grow with the data actually received rather than trusting the prefix
	// with one big allocation.
	var buf bytes.Buffer
	if n <= 64<<10 {
		buf.Grow(int(n))
	}
	got, err := io.CopyN(&buf, r.r, n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("recordio: record cut short after %d of %d bytes: %w", got, n, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("recordio: read record: %w", err)
	}
	if buf.Len() == 0 {
		return []byte{}, nil
	}
	return buf.Bytes(), nil
}

// readLength reads "<digits>\n", skipping blank lines before it.
func (r *Reader) readLength() (int64, error) {
	var digits [maxLengthDigits]byte
	nd := 0
	for {
		c, err := r.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if nd == 0 {
					return 0, io.EOF
				}
				return 0, fmt.Errorf("recordio: stream ended inside a length prefix: %w", io.ErrUnexpectedEOF)
			}
			return 0, fmt.Errorf("recordio: read length: %w", err)
		}
		switch {
		case c >= '0' && c <= '9':
			if nd == maxLengthDigits {
				return 0, fmt.Errorf("%w: more than %d digits", ErrBadLength, maxLengthDigits)
			}
			digits[nd] = c
			nd++
		case c == '\n':
			if nd == 0 {
				continue // blank line between records
			}
			n, err := strconv.ParseUint(string(digits[:nd]), 10, 64)
			if err != nil || n > 1<<62 {
				return 0, fmt.Errorf("%w: %q", ErrBadLength, digits[:nd])
			}
			return int64(n), nil
		default:
			return 0, fmt.Errorf("%w: unexpected byte %q after %q", ErrBadLength, c, digits[:nd])
		}
	}
}

// Decode reads the next record into v as JSON.
func (r *Reader) Decode(v any) error {
	data, err := r.ReadRecord()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("recordio: decode record into %T: %w", v, err)
	}
	return nil
}
