package tree

import (
	"hash/maphash"
	"slices"
	"strings"
	"unsafe"

	"github.com/strata-dc/strata/coord/server/jute"
)

// node is one znode. It is kept to 96 bytes (a Go size class) because the
// tree must hold hundreds of thousands of them: it stores its own name, not
// its path (paths are rebuilt from the walk that found it), its data as a
// string (16 bytes instead of a slice's 24), its ACL as an index into the
// interned ACL lists, and its ephemeral owner only when it has one, in a side
// table (most znodes are plain persistent ones).
type node struct {
	name string
	data string // immutable; dataBytes() views it without copying
	kids *childSet

	czxid, mzxid, pzxid int64
	ctime, mtime        int64

	version  int32
	cversion int32 // as ZooKeeper persists it: the number of child creations
	aversion int32
	meta     uint32 // ACL index | flagNilData | flagOwner
}

const (
	flagNilData = 1 << 31 // data is null (sent as length -1), not empty
	flagOwner   = 1 << 30 // ephemeral owner is in Tree.owners
	aclMask     = flagOwner - 1
)

func (n *node) aclIndex() uint32 { return n.meta & aclMask }

func (n *node) setACLIndex(i uint32) { n.meta = n.meta&^aclMask | i }

func (n *node) numKids() int32 {
	if n.kids == nil {
		return 0
	}
	return int32(n.kids.n)
}

// setData stores b without copying: Exec takes ownership of request buffers.
func (n *node) setData(b []byte) {
	if b == nil {
		n.data = ""
		n.meta |= flagNilData
		return
	}
	n.meta &^= flagNilData
	n.data = unsafe.String(unsafe.SliceData(b), len(b))
}

// dataBytes returns the data as a slice sharing the node's memory; callers
// must not modify it. Null data is returned as nil, empty data as empty.
func (n *node) dataBytes() []byte {
	if n.meta&flagNilData != 0 {
		return nil
	}
	if n.data == "" {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(n.data), len(n.data))
}

// Ephemeral owner encodings, as ZooKeeper's EphemeralType with extended types
// enabled: a session id for an ephemeral node, the minimum long for a
// container, and 0xff in the top byte plus the TTL in the low 40 bits for a
// TTL node. Clients see 0 for containers and TTL nodes.
const (
	containerOwner  = int64(-1 << 63)
	ttlOwnerMask    = int64(-1 << 56) // 0xff00000000000000
	ttlReservedMask = int64(0xffff) << 40
	// MaxTTL is the longest TTL ZooKeeper accepts, in milliseconds (~34 years).
	MaxTTL = int64(1<<40 - 1)
)

type ownerKind uint8

const (
	ownerNone ownerKind = iota
	ownerSession
	ownerContainer
	ownerTTL
)

func kindOf(owner int64) ownerKind {
	switch {
	case owner == 0:
		return ownerNone
	case owner == containerOwner:
		return ownerContainer
	case owner&ttlOwnerMask == ttlOwnerMask && owner&ttlReservedMask == 0:
		return ownerTTL
	}
	return ownerSession
}

func ttlOwner(ttl int64) int64 { return ttlOwnerMask | ttl }

func ttlOf(owner int64) int64 { return owner &^ (ttlOwnerMask | ttlReservedMask) }

// owner is the node's stored ephemeral owner.
func (t *Tree) owner(n *node) int64 {
	if n.meta&flagOwner == 0 {
		return 0
	}
	return t.owners[n]
}

// stat is the node's Stat as clients see it. ZooKeeper persists cversion as
// the number of child creations and reports it as creations plus deletions,
// which is 2*creations - children.
func (t *Tree) stat(n *node) jute.Stat {
	kids := n.numKids()
	owner := t.owner(n)
	if kindOf(owner) != ownerSession {
		owner = 0
	}
	return jute.Stat{
		Czxid:          n.czxid,
		Mzxid:          n.mzxid,
		Ctime:          n.ctime,
		Mtime:          n.mtime,
		Version:        n.version,
		Cversion:       n.cversion*2 - kids,
		Aversion:       n.aversion,
		EphemeralOwner: owner,
		DataLength:     int32(len(n.data)),
		NumChildren:    kids,
		Pzxid:          n.pzxid,
	}
}

// lookup resolves a path the way ZooKeeper's path map does: "" and "/" are
// the root, and anything else must be "/"-separated non-empty names.
func (t *Tree) lookup(path string) *node {
	if path == "" || path == "/" {
		return t.root
	}
	if path[0] != '/' {
		return nil
	}
	n := t.root
	rest := path[1:]
	for {
		name, more, found := strings.Cut(rest, "/")
		if name == "" || n.kids == nil {
			return nil
		}
		if n = n.kids.get(name); n == nil {
			return nil
		}
		if !found {
			return n
		}
		rest = more
	}
}

// splitPath returns the parent path and the last name; ok is false when path
// has no '/'. The root's children have parent "", which lookup resolves to
// the root, as in ZooKeeper.
func splitPath(path string) (parent, name string, ok bool) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", "", false
	}
	return path[:i], path[i+1:], true
}

// eventPath is how ZooKeeper names a parent in NodeChildrenChanged events.
func eventPath(parent string) string {
	if parent == "" {
		return "/"
	}
	return parent
}

func joinPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// childSet holds a node's children keyed by name. Up to smallKids children
// live in a plain slice searched linearly; beyond that the slice becomes an
// open-addressing hash table of node pointers (8 bytes a slot, no per-entry
// key copy), which costs far less than a map[string]*node.
type childSet struct {
	n     int
	slots []*node
}

const smallKids = 8

var childSeed = maphash.MakeSeed()

func hashName(s string) uint64 { return maphash.String(childSeed, s) }

func (s *childSet) hashed() bool { return len(s.slots) > smallKids }

func (s *childSet) get(name string) *node {
	if !s.hashed() {
		for _, k := range s.slots[:s.n] {
			if k.name == name {
				return k
			}
		}
		return nil
	}
	mask := uint64(len(s.slots) - 1)
	for i := hashName(name) & mask; ; i = (i + 1) & mask {
		k := s.slots[i]
		if k == nil {
			return nil
		}
		if k.name == name {
			return k
		}
	}
}

// add inserts k, whose name must not be present.
func (s *childSet) add(k *node) {
	if !s.hashed() {
		if s.n < smallKids {
			s.slots = append(s.slots[:s.n], k)
			s.n++
			return
		}
		s.rehash(4 * smallKids)
	} else if (s.n+1)*4 > len(s.slots)*3 {
		s.rehash(len(s.slots) * 2)
	}
	s.insert(k)
	s.n++
}

func (s *childSet) insert(k *node) {
	mask := uint64(len(s.slots) - 1)
	i := hashName(k.name) & mask
	for s.slots[i] != nil {
		i = (i + 1) & mask
	}
	s.slots[i] = k
}

func (s *childSet) rehash(size int) {
	old := s.slots
	if s.hashed() {
		old = slices.DeleteFunc(old, func(k *node) bool { return k == nil })
	} else {
		old = old[:s.n]
	}
	if size <= smallKids {
		s.slots = slices.Clone(old)
		return
	}
	s.slots = make([]*node, size)
	for _, k := range old {
		s.insert(k)
	}
}

// remove deletes name and returns its node, or nil when absent.
func (s *childSet) remove(name string) *node {
	if !s.hashed() {
		for i, k := range s.slots[:s.n] {
			if k.name == name {
				copy(s.slots[i:], s.slots[i+1:s.n])
				s.n--
				s.slots[s.n] = nil
				s.slots = s.slots[:s.n]
				return k
			}
		}
		return nil
	}
	mask := uint64(len(s.slots) - 1)
	i := hashName(name) & mask
	for s.slots[i] == nil || s.slots[i].name != name {
		if s.slots[i] == nil {
			return nil
		}
		i = (i + 1) & mask
	}
	k := s.slots[i]
	s.slots[i] = nil
	s.n--
	// Backward-shift deletion keeps every probe chain unbroken.
	for j := (i + 1) & mask; s.slots[j] != nil; j = (j + 1) & mask {
		home := hashName(s.slots[j].name) & mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			s.slots[i], s.slots[j] = s.slots[j], nil
			i = j
		}
	}
	switch {
	case s.n <= smallKids/2:
		s.rehash(smallKids)
	case s.n*8 < len(s.slots) && len(s.slots) > 4*smallKids:
		s.rehash(len(s.slots) / 2)
	}
	return k
}

func (s *childSet) each(f func(*node)) {
	for _, k := range s.slots {
		if k != nil {
			f(k)
		}
	}
}

// names returns the children's names sorted, so every answer and snapshot
// is deterministic (ZooKeeper's own order is a hash set's).
func (n *node) names() []string {
	if n.kids == nil {
		return []string{}
	}
	out := make([]string, 0, n.kids.n)
	n.kids.each(func(k *node) { out = append(out, k.name) })
	slices.Sort(out)
	return out
}

// sortedKids returns the children ordered by name.
func (n *node) sortedKids() []*node {
	if n.kids == nil {
		return nil
	}
	out := make([]*node, 0, n.kids.n)
	n.kids.each(func(k *node) { out = append(out, k) })
	slices.SortFunc(out, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	return out
}

func (n *node) addKid(k *node) {
	if n.kids == nil {
		n.kids = &childSet{}
	}
	n.kids.add(k)
}

func (n *node) removeKid(name string) *node {
	if n.kids == nil {
		return nil
	}
	k := n.kids.remove(name)
	if n.kids.n == 0 {
		n.kids = nil
	}
	return k
}
