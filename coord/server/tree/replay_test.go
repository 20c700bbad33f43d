package tree

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/strata-dc/strata/coord/server/jute"
)

// TestRandomOpsReplay runs seeded random request streams (several sessions,
// every write kind, multis that fail halfway, session closes, container and
// TTL cleanup, watches) and checks after each stream that the tree is
// internally consistent and that replaying its log, from scratch and over
// snapshots taken at random points, rebuilds exactly the same tree.
func TestRandomOpsReplay(t *testing.T) {
	for seed := range uint64(16) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			h := newHarness(t)
			rng := rand.New(rand.NewPCG(seed, 42))
			g := &gen{h: h, rng: rng, next: 1}
			g.newSession()
			g.newSession()
			type snap struct {
				img []byte
				at  int
			}
			var snaps []snap
			for i := range 1000 {
				g.step()
				if i%50 == 0 {
					checkInvariants(t, h.tr)
				}
				if rng.IntN(100) == 0 {
					var b bytes.Buffer
					if err := h.tr.WriteSnapshot(&b); err != nil {
						t.Fatal(err)
					}
					snaps = append(snaps, snap{b.Bytes(), len(h.log)})
				}
			}
			checkInvariants(t, h.tr)
			for _, s := range snaps {
				rebuilt, err := ReadSnapshot(bytes.NewReader(s.img))
				if err != nil {
					t.Fatal(err)
				}
				for _, txn := range h.log[s.at:] {
					if err := rebuilt.Replay(txn); err != nil {
						t.Fatal(err)
					}
				}
				if !Equal(h.tr, rebuilt) {
					t.Fatalf("snapshot at %d + log differs:\n%s\n%s", s.at, dump(h.tr), dump(rebuilt))
				}
				checkInvariants(t, rebuilt)
			}
		})
	}
}

type gen struct {
	h        *harness
	rng      *rand.Rand
	sessions []int64
	next     int64
}

func (g *gen) newSession() {
	g.h.session(g.next)
	if g.rng.IntN(3) == 0 {
		g.h.addAuth(g.next, "user:pw")
	}
	g.sessions = append(g.sessions, g.next)
	g.next++
}

// walk returns an existing node's path, found by a random walk down from
// the root that stays out of /zookeeper.
func (g *gen) walk() string {
	n, p := g.h.tr.root, "/"
	for n.kids != nil && g.rng.IntN(3) != 0 {
		kids := n.sortedKids()
		if n == g.h.tr.root {
			kids = kids[:len(kids)-1] // "zookeeper" sorts last here
			if len(kids) == 0 {
				break
			}
		}
		n = kids[g.rng.IntN(len(kids))]
		p = joinPath(p, n.name)
	}
	return p
}

// path is usually an existing node, sometimes one that may not exist.
func (g *gen) path() string {
	if p := g.walk(); p != "/" && g.rng.IntN(4) != 0 {
		return p
	}
	p := ""
	for range 1 + g.rng.IntN(3) {
		p += "/" + string(rune('a'+g.rng.IntN(3)))
	}
	return p
}

// newPath is a child of an existing node.
func (g *gen) newPath() string {
	return joinPath(g.walk(), string(rune('a'+g.rng.IntN(4))))
}

func (g *gen) acl() []jute.ACL {
	switch g.rng.IntN(10) {
	case 0:
		return ReadACL
	case 1:
		return []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "auth"}}}
	case 2:
		return []jute.ACL{{Perms: jute.PermAll &^ jute.PermDelete, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	}
	return OpenACL
}

func (g *gen) data() []byte {
	switch g.rng.IntN(5) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	return fmt.Appendf(nil, "d%d", g.rng.IntN(1000))
}

func (g *gen) version() int32 {
	if g.rng.IntN(3) != 0 {
		return -1
	}
	return int32(g.rng.IntN(3))
}

// writeOp returns a random write (no multi) as a multi op.
func (g *gen) writeOp() jute.MultiOp {
	switch g.rng.IntN(8) {
	case 0, 1, 2:
		flags := int32(g.rng.IntN(7))
		if isTTLFlag(flags) || g.rng.IntN(4) == 0 {
			return jute.MultiOp{Type: jute.OpCreateTTL, Req: &jute.CreateTTLRequest{Path: g.newPath(), Data: g.data(), ACL: g.acl(), Flags: flags, TTL: int64(g.rng.IntN(3000))}}
		}
		typ := []int32{jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer}[g.rng.IntN(3)]
		return jute.MultiOp{Type: typ, Req: &jute.CreateRequest{Path: g.newPath(), Data: g.data(), ACL: g.acl(), Flags: flags}}
	case 3, 4:
		return jute.MultiOp{Type: jute.OpDelete, Req: &jute.PathVersionRequest{Path: g.path(), Version: g.version()}}
	case 5, 6:
		return jute.MultiOp{Type: jute.OpSetData, Req: &jute.SetDataRequest{Path: g.path(), Data: g.data(), Version: g.version()}}
	}
	return jute.MultiOp{Type: jute.OpCheck, Req: &jute.PathVersionRequest{Path: g.path(), Version: g.version()}}
}

func (g *gen) step() {
	h, rng := g.h, g.rng
	h.now += int64(rng.IntN(700))
	s := g.sessions[rng.IntN(len(g.sessions))]
	switch k := rng.IntN(20); {
	case k < 9:
		o := g.writeOp()
		h.exec(s, o.Type, o.Req)
	case k < 11:
		var ops []jute.MultiOp
		for range 1 + rng.IntN(4) {
			ops = append(ops, g.writeOp())
		}
		h.exec(s, jute.OpMulti, &jute.MultiRequest{Ops: ops})
	case k == 11:
		h.exec(s, jute.OpSetACL, &jute.SetACLRequest{Path: g.path(), ACL: g.acl(), Version: g.version()})
	case k == 12:
		ops := []int32{jute.OpExists, jute.OpGetData, jute.OpGetChildren, jute.OpGetChildren2}
		h.exec(s, ops[rng.IntN(len(ops))], pathWatch(g.path(), true))
	case k == 13:
		h.exec(s, jute.OpAddWatch, &jute.AddWatchRequest{Path: g.path(), Mode: int32(rng.IntN(2))})
	case k == 14:
		h.exec(s, jute.OpRemoveWatches, &jute.WatchesRequest{Path: g.path(), Type: int32(1 + rng.IntN(3))})
	case k == 15:
		for _, p := range h.tr.Expirable(h.now) {
			h.record(h.tr.Exec(Ctx{Now: h.now}, jute.OpDeleteContainer, &jute.PathRequest{Path: p}))
		}
	case k == 16 && len(g.sessions) > 1 && rng.IntN(4) == 0:
		h.exec(s, jute.OpCloseSession, &jute.Empty{})
		for i, x := range g.sessions {
			if x == s {
				g.sessions = append(g.sessions[:i], g.sessions[i+1:]...)
				break
			}
		}
	case k == 17 && rng.IntN(4) == 0:
		g.newSession()
	default:
		h.tr.RemoveWatches(s)
	}
}

// checkInvariants recounts everything the tree keeps incrementally.
func checkInvariants(t *testing.T, tr *Tree) {
	t.Helper()
	nodes, ephemerals := 0, 0
	var size int64
	aclRefs := map[uint32]int64{}
	owned := 0
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		nodes++
		size += int64(len(path) + len(n.data))
		aclRefs[n.aclIndex()]++
		owner := tr.owner(n)
		if owner != 0 {
			owned++
		}
		switch kindOf(owner) {
		case ownerSession:
			ephemerals++
			if _, ok := tr.eph[owner][path]; !ok {
				t.Errorf("%s: ephemeral of %#x not indexed", path, owner)
			}
			if n.kids != nil {
				t.Errorf("%s: ephemeral with children", path)
			}
		case ownerContainer:
			if _, ok := tr.containers[path]; !ok {
				t.Errorf("%s: container not indexed", path)
			}
		case ownerTTL:
			if _, ok := tr.ttls[path]; !ok {
				t.Errorf("%s: TTL node not indexed", path)
			}
		}
		count := 0
		if n.kids != nil {
			n.kids.each(func(k *node) {
				count++
				if n.kids.get(k.name) != k {
					t.Errorf("%s: child %q not found by name", path, k.name)
				}
				walk(k, joinPath(path, k.name))
			})
			if count != n.kids.n || count == 0 {
				t.Errorf("%s: %d children counted, set says %d", path, count, n.kids.n)
			}
		}
	}
	walk(tr.root, "/")
	if nodes != tr.nodes || size != tr.dataSize || ephemerals != tr.ephemerals || owned != len(tr.owners) {
		t.Errorf("counted %d nodes %d bytes %d ephemerals %d owned; tree says %d %d %d %d",
			nodes, size, ephemerals, owned, tr.nodes, tr.dataSize, tr.ephemerals, len(tr.owners))
	}
	for i, acl := range tr.acls.lists {
		if acl != nil && tr.acls.refs[i] != aclRefs[uint32(i)] {
			t.Errorf("ACL %d: %d refs, %d users", i, tr.acls.refs[i], aclRefs[uint32(i)])
		}
	}
	if len(tr.acls.index) != tr.acls.live() {
		t.Errorf("ACL index has %d entries for %d lists", len(tr.acls.index), tr.acls.live())
	}
	recounted := 0
	for _, m := range []*watchManager{tr.dataW, tr.childW} {
		total, rec := 0, 0
		for p, ws := range m.paths {
			for _, w := range ws {
				total++
				if w.mode == modeRecursive {
					rec++
				}
				if !m.has(p, w.session) {
					t.Errorf("watch %s of %d not indexed by session", p, w.session)
				}
			}
		}
		if total != m.total || rec != m.recursive {
			t.Errorf("watch counts %d/%d, manager says %d/%d", total, rec, m.total, m.recursive)
		}
		recounted += total
	}
	if recounted != tr.Stats().Watches {
		t.Errorf("watches %d vs stats %d", recounted, tr.Stats().Watches)
	}
}

func TestChildSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s childSet
	model := map[string]*node{}
	for i := range 20000 {
		name := fmt.Sprint(rng.IntN(3000))
		if i > 10000 {
			name = fmt.Sprint(rng.IntN(40)) // shrink back through every size
		}
		if k, ok := model[name]; ok {
			if s.remove(name) != k {
				t.Fatalf("remove %q", name)
			}
			delete(model, name)
		} else {
			k := &node{name: name}
			s.add(k)
			model[name] = k
		}
		if s.n != len(model) {
			t.Fatalf("size %d, model %d", s.n, len(model))
		}
		if i%997 == 0 {
			for name, k := range model {
				if s.get(name) != k {
					t.Fatalf("get %q", name)
				}
			}
		}
	}
	for name := range model {
		s.remove(name)
	}
	if s.n != 0 || s.get("0") != nil {
		t.Fatal("not empty")
	}
}

func TestValidPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/a": true, "/a/b": true, "/a.b": true, "/...": true, "/a.": true, "/.a": true, "/é": true,
		"": false, "a": false, "/a/": false, "//": false, "/a//b": false, "/.": false, "/..": false, "/a/./b": false,
		"/a/../b": false, "/a\x00": false, "/a\x1f": false, "/a\u007f": false, "/a\u009f": false, "/a\u00a0": true,
		"/\ud7ff": true, "/\ue000": false, "/\uf8ff": false, "/\uf900": true, "/\ufff0": false, "/\U00010000": false,
		"/\xff": false,
	} {
		if got := validPath(p); got != want {
			t.Errorf("validPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestNodeSize guards the per-znode footprint: a node must stay in the
// 96-byte size class (see node's doc comment).
func TestNodeSize(t *testing.T) {
	if s := unsafe.Sizeof(node{}); s != 96 {
		t.Errorf("node is %d bytes, want 96", s)
	}
}
