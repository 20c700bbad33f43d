package tree

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"

	"github.com/strata-dc/strata/coord/server/jute"
)

// A snapshot is a full image of the tree, jute-encoded:
//
//	"STRATAZK" int version long lastZxid
//	int n, n × (long id, int timeout, buffer passwd)          sessions
//	int n, n × acl list                                       interned ACLs, numbered from 0
//	nodes, depth first from the root, children by name:
//	  string name, buffer data, int aclIndex,
//	  long czxid, mzxid, pzxid, ctime, mtime,
//	  int version, cversion, aversion, long ephemeralOwner, int children
//	uint32 CRC-32 (IEEE) of everything before it
//
// Watches are not in it: they belong to connections, which a restart drops.
const (
	snapMagic   = "STRATAZK"
	snapVersion = 1
	// snapMaxBuffer bounds any length read from a snapshot, so a corrupt
	// file fails instead of allocating wildly (znode data is at most
	// jute.maxbuffer anyway).
	snapMaxBuffer = 64 << 20
	// maxACLEntries bounds one ACL list: a request of jute.maxbuffer bytes
	// cannot carry more.
	maxACLEntries = jute.MaxBufferDefault / 12
)

// WriteSnapshot writes a full image of nodes, sessions and the last zxid.
func (t *Tree) WriteSnapshot(w io.Writer) error {
	sw := &snapWriter{w: bufio.NewWriterSize(w, 64<<10)}
	e := &sw.enc
	e.B = append(e.B, snapMagic...)
	e.Int(snapVersion)
	e.Long(t.lastZxid)
	ids := t.Sessions()
	e.Int(int32(len(ids)))
	for _, id := range ids {
		s := t.sessions[id]
		e.Long(id)
		e.Int(s.timeout)
		e.Buffer(s.passwd)
	}
	// Number the lists densely: the cache's own indices have holes.
	e.Int(int32(t.acls.live()))
	renumber := make([]int32, len(t.acls.lists))
	next := int32(0)
	for i, acl := range t.acls.lists {
		if acl != nil {
			renumber[i] = next
			next++
			encodeACL(e, acl)
		}
	}
	if err := sw.flush(); err != nil {
		return err
	}
	type frame struct {
		kids []*node
		next int
	}
	stack := []frame{{kids: []*node{t.root}}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == len(top.kids) {
			stack = stack[:len(stack)-1]
			continue
		}
		n := top.kids[top.next]
		top.next++
		e.String(n.name)
		e.Buffer(n.dataBytes())
		e.Int(renumber[n.aclIndex()])
		e.Long(n.czxid)
		e.Long(n.mzxid)
		e.Long(n.pzxid)
		e.Long(n.ctime)
		e.Long(n.mtime)
		e.Int(n.version)
		e.Int(n.cversion)
		e.Int(n.aversion)
		e.Long(t.owner(n))
		e.Int(n.numKids())
		if len(e.B) >= 32<<10 {
			if err := sw.flush(); err != nil {
				return err
			}
		}
		if n.kids != nil {
			stack = append(stack, frame{kids: n.sortedKids()})
		}
	}
	if err := sw.flush(); err != nil {
		return err
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], sw.crc)
	if _, err := sw.w.Write(sum[:]); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := sw.w.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

type snapWriter struct {
	w   *bufio.Writer
	enc jute.Encoder
	crc uint32
}

func (s *snapWriter) flush() error {
	s.crc = crc32.Update(s.crc, crc32.IEEETable, s.enc.B)
	_, err := s.w.Write(s.enc.B)
	s.enc.B = s.enc.B[:0]
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// ReadSnapshot rebuilds a tree from WriteSnapshot's output, checking its
// checksum; watches start empty and sessions carry no identities until
// they next make a request.
func ReadSnapshot(r io.Reader) (*Tree, error) {
	t, err := readSnapshot(&snapReader{r: bufio.NewReaderSize(r, 64<<10)})
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	return t, nil
}

func readSnapshot(sr *snapReader) (*Tree, error) {
	if magic := string(sr.bytes(len(snapMagic))); sr.err == nil && magic != snapMagic {
		return nil, errors.New("not a snapshot")
	}
	if v := sr.int(); sr.err == nil && v != snapVersion {
		return nil, fmt.Errorf("version %d, want %d", v, snapVersion)
	}
	t := newEmpty()
	t.lastZxid = sr.long()
	for n := sr.count(); n > 0 && sr.err == nil; n-- {
		id, timeout, passwd := sr.long(), sr.int(), sr.buffer()
		t.sessions[id] = &session{timeout: timeout, passwd: passwd}
	}
	for i, n := 0, sr.count(); i < n && sr.err == nil; i++ {
		size := sr.count()
		if size > maxACLEntries {
			return nil, fmt.Errorf("ACL of %d entries", size)
		}
		acl := make([]jute.ACL, size)
		for j := range acl {
			acl[j] = jute.ACL{Perms: sr.int(), ID: jute.Id{Scheme: sr.string(), ID: sr.string()}}
		}
		key := string(t.acls.keyOf(acl))
		if _, dup := t.acls.index[key]; dup {
			return nil, fmt.Errorf("ACL %d listed twice", i)
		}
		t.acls.lists = append(t.acls.lists, acl)
		t.acls.refs = append(t.acls.refs, 0)
		t.acls.index[key] = uint32(i)
	}
	if err := t.readNodes(sr); err != nil {
		return nil, err
	}
	want := sr.crc
	sum := sr.bytes(4)
	if sr.err != nil {
		return nil, sr.err
	}
	got := binary.BigEndian.Uint32(sum)
	if got != want {
		return nil, fmt.Errorf("checksum %#x, want %#x", got, want)
	}
	for i, acl := range t.acls.lists {
		if t.acls.refs[i] == 0 { // listed but unused: drop it
			delete(t.acls.index, string(t.acls.keyOf(acl)))
			t.acls.lists[i] = nil
			t.acls.free = append(t.acls.free, uint32(i))
		}
	}
	return t, nil
}

func (t *Tree) readNodes(sr *snapReader) error {
	type frame struct {
		n     *node
		path  string
		left  int32
		owner int64
	}
	var stack []frame
	for first := true; first || len(stack) > 0; first = false {
		if !first && stack[len(stack)-1].left == 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		n := &node{name: sr.string()}
		n.setData(sr.buffer())
		acl := sr.int()
		n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime = sr.long(), sr.long(), sr.long(), sr.long(), sr.long()
		n.version, n.cversion, n.aversion = sr.int(), sr.int(), sr.int()
		owner, kids := sr.long(), sr.int()
		if sr.err != nil {
			return sr.err
		}
		if acl < 0 || int(acl) >= len(t.acls.lists) || t.acls.lists[acl] == nil {
			return fmt.Errorf("node %q: unknown ACL index %d", n.name, acl)
		}
		if kids < 0 {
			return fmt.Errorf("node %q: %d children", n.name, kids)
		}
		n.setACLIndex(uint32(acl))
		t.acls.refs[acl]++
		path := "/"
		if first {
			if n.name != "" {
				return fmt.Errorf("root named %q", n.name)
			}
			t.root = n
		} else {
			parent := &stack[len(stack)-1]
			parent.left--
			if n.name == "" || (parent.n.kids != nil && parent.n.kids.get(n.name) != nil) {
				return fmt.Errorf("under %q: bad or repeated name %q", parent.path, n.name)
			}
			if kindOf(parent.owner) == ownerSession {
				return fmt.Errorf("ephemeral %q has children", parent.path)
			}
			parent.n.addKid(n)
			path = joinPath(parent.path, n.name)
		}
		t.setOwner(n, path, owner)
		t.nodes++
		t.dataSize += int64(len(path) + len(n.data))
		if kids > 0 {
			stack = append(stack, frame{n: n, path: path, left: kids, owner: owner})
		}
	}
	return nil
}

// snapReader reads jute primitives from a stream, keeping a running CRC.
// The first error sticks; later reads return zero values.
type snapReader struct {
	r   *bufio.Reader
	crc uint32
	err error
	buf [8]byte
}

func (s *snapReader) bytes(n int) []byte {
	if s.err != nil {
		return nil
	}
	var p []byte
	var err error
	switch {
	case n <= len(s.buf):
		p = s.buf[:n]
		_, err = io.ReadFull(s.r, p)
	case n <= 64<<10:
		p = make([]byte, n)
		_, err = io.ReadFull(s.r, p)
	default:
		// Grow with the data actually read, so a corrupt length cannot make
		// us allocate far more than the file holds.
		var b bytes.Buffer
		_, err = io.CopyN(&b, s.r, int64(n))
		p = b.Bytes()
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		s.err = err
		return nil
	}
	s.crc = crc32.Update(s.crc, crc32.IEEETable, p)
	return p
}

func (s *snapReader) int() int32 {
	if p := s.bytes(4); p != nil {
		return int32(binary.BigEndian.Uint32(p))
	}
	return 0
}

func (s *snapReader) long() int64 {
	if p := s.bytes(8); p != nil {
		return int64(binary.BigEndian.Uint64(p))
	}
	return 0
}

// length reads a buffer or vector length: -1 (null) or 0..snapMaxBuffer.
func (s *snapReader) length() int {
	n := s.int()
	if s.err == nil && (n < -1 || n > snapMaxBuffer) {
		s.err = fmt.Errorf("length %d out of range", n)
	}
	if s.err != nil {
		return -1
	}
	return int(n)
}

func (s *snapReader) count() int { return max(s.length(), 0) }

func (s *snapReader) buffer() []byte {
	n := s.length()
	if n < 0 {
		return nil
	}
	if n == 0 {
		return []byte{}
	}
	return slices.Clone(s.bytes(n))
}

func (s *snapReader) string() string {
	n := s.length()
	if n <= 0 {
		return ""
	}
	return string(s.bytes(n))
}

// Equal reports whether two trees hold the same nodes (with every stat
// field, data and ACL), sessions and last zxid; watches are not compared.
// Recovery tests use it to check that snapshot plus log rebuilds the tree.
func Equal(a, b *Tree) bool {
	if a.lastZxid != b.lastZxid || len(a.sessions) != len(b.sessions) || a.nodes != b.nodes ||
		a.dataSize != b.dataSize || a.ephemerals != b.ephemerals {
		return false
	}
	for id, s := range a.sessions {
		o := b.sessions[id]
		if o == nil || o.timeout != s.timeout || !slices.Equal(o.passwd, s.passwd) {
			return false
		}
	}
	if !maps.Equal(a.containers, b.containers) || !maps.Equal(a.ttls, b.ttls) {
		return false
	}
	type pair struct{ x, y *node }
	stack := []pair{{a.root, b.root}}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := p.x, p.y
		if x.name != y.name || x.data != y.data || x.meta&flagNilData != y.meta&flagNilData ||
			a.stat(x) != b.stat(y) || a.owner(x) != b.owner(y) || x.cversion != y.cversion ||
			!slices.Equal(a.aclOf(x), b.aclOf(y)) {
			return false
		}
		xs, ys := x.sortedKids(), y.sortedKids()
		if len(xs) != len(ys) {
			return false
		}
		for i := range xs {
			stack = append(stack, pair{xs[i], ys[i]})
		}
	}
	return true
}
