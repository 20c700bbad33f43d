package recordio

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary streams to the Reader: it must not panic or
// hang, must never return a record longer than its limit, and records it
// returns must write back (Writer) to a stream that reads the same.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"", "\n", "5\nhello", "0\n", "\n\n3\nabc2\nxy", "3\nab", "99999999999999999999\n", "-1\n",
		"18446744073709551615\n", "4611686018427387905\nx", "2147483648\n", "1x\n", "5", "00000000000000000005\nhello",
		"1\n{1\n}", "10\n" + string([]byte{0xff, 0xfe, 0xfd})} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		const limit = 1 << 10
		r := NewReader(bytes.NewReader(stream), limit)
		var got [][]byte
		for i := 0; ; i++ {
			if i > len(stream)+1 {
				t.Fatalf("more records than bytes: the reader does not advance")
			}
			rec, err := r.ReadRecord()
			if err != nil {
				break // io.EOF or a refused stream; either ends it
			}
			if len(rec) > limit {
				t.Fatalf("record of %d bytes over the %d limit", len(rec), limit)
			}
			got = append(got, rec)
		}
		var buf bytes.Buffer
		w := NewWriter(&buf)
		kept := got[:0]
		for _, rec := range got {
			if len(rec) == 0 {
				continue // the Writer refuses empty records, as Mesos never sends them
			}
			kept = append(kept, rec)
			if err := w.WriteRecord(rec); err != nil {
				t.Fatal(err)
			}
		}
		r2 := NewReader(&buf, limit)
		for i, want := range kept {
			rec, err := r2.ReadRecord()
			if err != nil || !bytes.Equal(rec, want) {
				t.Fatalf("record %d: wrote %q, read %q (%v)", i, want, rec, err)
			}
		}
		if _, err := r2.ReadRecord(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the records: %v, want io.EOF", err)
		}
	})
}
