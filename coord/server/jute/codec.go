package jute

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrShort is returned when a record needs more bytes than the frame has.
var ErrShort = errors.New("jute: record runs past the end of the frame")

// Decoder reads jute primitives from one frame. The first error sticks:
// later reads return zero values, and Err reports it.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder reads from b, which it does not copy.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err is the first error met, if any.
func (d *Decoder) Err() error { return d.err }

// Remaining is how many bytes are left unread.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Offset is how many bytes have been read.
func (d *Decoder) Offset() int { return d.off }

func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || d.Remaining() < n {
		d.fail(ErrShort)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

// Int reads a 4-byte big-endian int.
func (d *Decoder) Int() int32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

// Long reads an 8-byte big-endian long.
func (d *Decoder) Long() int64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

// Bool reads a one-byte boolean.
func (d *Decoder) Bool() bool {
	p := d.take(1)
	return p != nil && p[0] != 0
}

// Buffer reads a length-prefixed byte buffer; length -1 is nil. The result is
// a copy, so it may outlive the frame.
func (d *Decoder) Buffer() []byte {
	n := d.Int()
	if d.err != nil || n == -1 {
		return nil
	}
	if n < -1 {
		d.fail(fmt.Errorf("jute: negative buffer length %d", n))
		return nil
	}
	p := d.take(int(n))
	if p == nil {
		return nil
	}
	out := make([]byte, len(p))
	copy(out, p)
	return out
}

// String reads a length-prefixed UTF-8 string; length -1 reads as "".
func (d *Decoder) String() string {
	n := d.Int()
	if d.err != nil || n == -1 {
		return ""
	}
	if n < -1 {
		d.fail(fmt.Errorf("jute: negative string length %d", n))
		return ""
	}
	p := d.take(int(n))
	return string(p)
}

// vectorLen reads a vector's length and checks that at least minElem bytes
// per element remain, so a forged count cannot make us allocate.
func (d *Decoder) vectorLen(minElem int) int {
	n := d.Int()
	if d.err != nil || n == -1 {
		return 0
	}
	if n < 0 || int64(n)*int64(minElem) > int64(d.Remaining()) {
		d.fail(fmt.Errorf("jute: vector length %d does not fit the frame", n))
		return 0
	}
	return int(n)
}

// Strings reads a vector of strings.
func (d *Decoder) Strings() []string {
	n := d.vectorLen(4)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.String())
	}
	return out
}

// Encoder appends jute primitives to B.
type Encoder struct {
	B []byte
}

// Int appends a 4-byte big-endian int.
func (e *Encoder) Int(v int32) { e.B = binary.BigEndian.AppendUint32(e.B, uint32(v)) }

// Long appends an 8-byte big-endian long.
func (e *Encoder) Long(v int64) { e.B = binary.BigEndian.AppendUint64(e.B, uint64(v)) }

// Bool appends a one-byte boolean.
func (e *Encoder) Bool(v bool) {
	if v {
		e.B = append(e.B, 1)
	} else {
		e.B = append(e.B, 0)
	}
}

// Buffer appends a length-prefixed buffer; nil is written as length -1, as
// ZooKeeper does.
func (e *Encoder) Buffer(p []byte) {
	if p == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(p)))
	e.B = append(e.B, p...)
}

// String appends a length-prefixed string.
func (e *Encoder) String(s string) {
	e.Int(int32(len(s)))
	e.B = append(e.B, s...)
}

// Strings appends a vector of strings; nil is written as an empty vector,
// which every client accepts.
func (e *Encoder) Strings(v []string) {
	e.Int(int32(len(v)))
	for _, s := range v {
		e.String(s)
	}
}

// Record is any jute record.
type Record interface {
	Encode(e *Encoder)
	Decode(d *Decoder)
}

// Marshal encodes records back to back.
func Marshal(recs ...Record) []byte {
	var e Encoder
	for _, r := range recs {
		r.Encode(&e)
	}
	return e.B
}

// Unmarshal decodes r from all of b: trailing bytes are an error.
func Unmarshal(b []byte, r Record) error {
	d := NewDecoder(b)
	r.Decode(d)
	if d.err != nil {
		return d.err
	}
	if d.Remaining() != 0 {
		return fmt.Errorf("jute: %d trailing bytes after %T", d.Remaining(), r)
	}
	return nil
}
