package recordio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

func TestWriterFraming(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, rec := range []string{`{"type":"HEARTBEAT"}`, "x", strings.Repeat("é", 5)} {
		if err := w.WriteRecord([]byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	want := "20\n{\"type\":\"HEARTBEAT\"}" + "1\nx" + "10\n" + strings.Repeat("é", 5)
	if buf.String() != want {
		t.Fatalf("stream = %q, want %q", buf.String(), want)
	}
	if err := w.WriteRecord(nil); err == nil {
		t.Fatal("an empty record must be refused")
	}
	if err := w.Encode(map[string]string{"type": "HEARTBEAT"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "20\n{\"type\":\"HEARTBEAT\"}") {
		t.Fatalf("Encode wrote %q", buf.String())
	}
	if err := w.Encode(func() {}); err == nil {
		t.Fatal("an unencodable value must fail")
	}
}

// countingWriter records how each record reached the underlying writer.
type countingWriter struct {
	writes  []string
	flushes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func (c *countingWriter) Flush() { c.flushes++ }

func TestWriterOneWriteAndFlushPerRecord(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw)
	for i := range 3 {
		if err := w.Encode(i); err != nil {
			t.Fatal(err)
		}
	}
	if len(cw.writes) != 3 || cw.flushes != 3 || cw.writes[2] != "1\n2" {
		t.Fatalf("writes %q, flushes %d", cw.writes, cw.flushes)
	}
	// bufio.Writer's Flush() error is honoured too.
	var out bytes.Buffer
	bw := bufio.NewWriterSize(&out, 4096)
	if err := NewWriter(bw).WriteRecord([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "5\nhello" {
		t.Fatalf("bufio output %q: record was not flushed", out.String())
	}
}

func TestReaderRoundTripAnyFragmentation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var records [][]byte
	var stream bytes.Buffer
	w := NewWriter(&stream)
	for range 200 {
		rec := make([]byte, 1+rng.IntN(3000))
		for i := range rec {
			rec[i] = byte(rng.UintN(256))
		}
		records = append(records, rec)
		if err := w.WriteRecord(rec); err != nil {
			t.Fatal(err)
		}
	}
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data err": iotest.DataErrReader,
	} {
		t.Run(name, func(t *testing.T) {
			r := NewReader(wrap(bytes.NewReader(stream.Bytes())), 0)
			for i, want := range records {
				got, err := r.ReadRecord()
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("record %d differs", i)
				}
			}
			if _, err := r.ReadRecord(); err != io.EOF {
				t.Fatalf("after the last record: %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderRejectsGarbage(t *testing.T) {
	for _, tc := range []struct {
		name, stream string
		want         error
		text         string
	}{
		{"letters", "HTTP/1.1 200 OK\r\n", ErrBadLength, `unexpected byte 'H'`},
		{"json without length", `{"type":"HEARTBEAT"}`, ErrBadLength, `unexpected byte '{'`},
		{"crlf", "5\r\nhello", ErrBadLength, `unexpected byte '\r'`},
		{"sign", "-5\nhello", ErrBadLength, ""},
		{"too many digits", strings.Repeat("9", 25) + "\n", ErrBadLength, "more than 20 digits"},
		{"overflow", "99999999999999999999\n", ErrBadLength, ""},
		{"too large", "16777217\n", ErrRecordTooLarge, "16777217 bytes, limit 16777216"},
		{"cut in data", "10\nabc", io.ErrUnexpectedEOF, "after 3 of 10 bytes"},
		{"cut in length", "12", io.ErrUnexpectedEOF, "inside a length prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tc.stream), 0).ReadRecord()
			if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.text)
			}
		})
	}
	// A small limit is enforced without reading the record.
	r := NewReader(strings.NewReader("6\nabcdef"), 5)
	if _, err := r.ReadRecord(); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("limit 5: %v", err)
	}
}

func TestReaderToleratesBlankLinesAndEmptyRecords(t *testing.T) {
	r := NewReader(strings.NewReader("\n\n3\nabc\n0\n2\nhi"), 0)
	for _, want := range []string{"abc", "", "hi"} {
		got, err := r.ReadRecord()
		if err != nil || string(got) != want || got == nil {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := r.ReadRecord(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}
}

func TestConcurrentWritersDoNotInterleave(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := bytes.Repeat([]byte{'a' + byte(g)}, 100+g)
			for range 200 {
				if err := w.WriteRecord(rec); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	r := NewReader(&buf, 0)
	for n := 0; ; n++ {
		rec, err := r.ReadRecord()
		if err == io.EOF {
			if n != 8*200 {
				t.Fatalf("read %d records, want %d", n, 8*200)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(rec) != 100+int(rec[0]-'a') || bytes.Count(rec, rec[:1]) != len(rec) {
			t.Fatalf("record %d is interleaved: %q", n, rec)
		}
	}
}

// Over a real HTTP connection each record must reach the client as soon as
// it is written, while the response is still open, the way SUBSCRIBE
// streams work.
func TestStreamingOverHTTP(t *testing.T) {
	next := make(chan string)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusOK)
		rw.(http.Flusher).Flush() // headers now, records as they come
		w := NewWriter(rw)
		for {
			select {
			case rec, ok := <-next:
				if !ok {
					return
				}
				if err := w.WriteRecord([]byte(rec)); err != nil {
					return
				}
			case <-req.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 {
		t.Fatalf("a stream must not have a Content-Length, got %d", resp.ContentLength)
	}
	r := NewReader(resp.Body, 0)
	for i := range 5 {
		want := fmt.Sprintf(`{"type":"HEARTBEAT","n":%d}`, i)
		next <- want // the handler writes it; the response is still open
		got, err := r.ReadRecord()
		if err != nil || string(got) != want {
			t.Fatalf("record %d: %q, %v", i, got, err)
		}
	}
	close(next)
	if _, err := r.ReadRecord(); err != io.EOF {
		t.Fatalf("after the handler returned: %v, want io.EOF", err)
	}
}

func TestDecode(t *testing.T) {
	r := NewReader(strings.NewReader("20\n{\"type\":\"HEARTBEAT\"}3\nnop"), 0)
	var v struct{ Type string }
	if err := r.Decode(&v); err != nil || v.Type != "HEARTBEAT" {
		t.Fatalf("%+v %v", v, err)
	}
	if err := r.Decode(&v); err == nil || !strings.Contains(err.Error(), "decode record") {
		t.Fatalf("bad JSON: %v", err)
	}
}
