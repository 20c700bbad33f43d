package allocator

import (
	"slices"
	"sort"
)

// entryKind says what an entry in a sort order stands for.
type entryKind uint8

const (
	// kindTree is a role's whole subtree, sorted among its siblings.
	kindTree entryKind = iota
	// kindSelf is a role's own frameworks, sorted among the role's
	// children (Mesos' "." virtual leaf): "eng"'s frameworks compete with
	// "eng/backend" and "eng/frontend".
	kindSelf
	// kindClient is one framework subscribed to one role.
	kindClient
)

// entryKey is what DRF sorts by: the weighted dominant share, how many
// allocations the entry has received (the tie-break Mesos uses so equal
// shares take turns), and a name that makes every key unique.
type entryKey struct {
	share float64
	count uint64
	name  string
}

// before is DRF order: lower share first, then fewer allocations, then
// name.
func (k *entryKey) before(o *entryKey) bool {
	if k.share != o.share {
		return k.share < o.share
	}
	if k.count != o.count {
		return k.count < o.count
	}
	return k.name < o.name
}

func compareKeys(a, b *entryKey) int {
	switch {
	case a.before(b):
		return -1
	case b.before(a):
		return 1
	}
	return 0
}

// entry is one thing DRF sorts.
type entry struct {
	entryKey
	kind   entryKind
	active bool
	// stamp marks the entry as visited during one pass over its order, so
	// a pass that reorders the order as it allocates never offers the same
	// agent to the same entry twice.
	stamp uint64
	r     *role
	c     *client
}

func before(a, b *entry) bool { return a.entryKey.before(&b.entryKey) }

// order keeps the active entries sorted by DRF key, in blocks of at most
// blockMax; inactive ones are kept apart, unordered (Mesos' sorter keeps
// the same split). Changing one entry's key moves it with two binary
// searches and two copies of at most a block, so an allocation costs
// O(log n + blockMax) however many frameworks share the role — a flat
// sorted slice would copy O(n) pointers each time, which over a cycle is
// agents × frameworks again.
//
// When sorted is false (cluster totals changed, so every share did), keys
// are updated in place and sortAll restores the order before the next
// allocation.
type order struct {
	blocks   [][]*entry
	nActive  int
	inactive []*entry
	// ver changes whenever an active entry moves, so a cursor knows when
	// its position is stale.
	ver uint64
}

const blockMax = 128

// add adds e as inactive.
func (o *order) add(e *entry) {
	e.active = false
	o.inactive = append(o.inactive, e)
}

// remove takes e out of the order.
func (o *order) remove(e *entry, sorted bool) {
	if e.active {
		o.deactivate(e, sorted)
	}
	if i := slices.Index(o.inactive, e); i >= 0 {
		last := len(o.inactive) - 1
		o.inactive[i] = o.inactive[last]
		o.inactive[last] = nil
		o.inactive = o.inactive[:last]
	}
}

// activate moves inactive e into the sorted part.
func (o *order) activate(e *entry, sorted bool) {
	if e.active {
		return
	}
	if i := slices.Index(o.inactive, e); i >= 0 {
		last := len(o.inactive) - 1
		o.inactive[i] = o.inactive[last]
		o.inactive[last] = nil
		o.inactive = o.inactive[:last]
	}
	e.active = true
	if sorted {
		o.insert(e)
		return
	}
	// Unsorted: park it anywhere; sortAll puts it in place.
	if len(o.blocks) == 0 {
		o.blocks = append(o.blocks, make([]*entry, 0, blockMax))
	}
	b := len(o.blocks) - 1
	o.blocks[b] = append(o.blocks[b], e)
	o.nActive++
	o.ver++
}

// deactivate moves active e out of the sorted part.
func (o *order) deactivate(e *entry, sorted bool) {
	if !e.active {
		return
	}
	bi, i := o.locate(e, sorted)
	o.removeAt(bi, i)
	e.active = false
	o.inactive = append(o.inactive, e)
}

// update sets e's key and, when the order is kept sorted, moves e to its
// new place.
func (o *order) update(e *entry, share float64, count uint64, sorted bool) {
	if !e.active || !sorted {
		e.share, e.count = share, count
		return
	}
	if e.share == share && e.count == count {
		return
	}
	bi, i := o.locate(e, true)
	// Fast path: the new key still fits between its neighbours.
	old := e.entryKey
	e.share, e.count = share, count
	blk := o.blocks[bi]
	prevOK := i > 0 && !before(e, blk[i-1]) || i == 0 && (bi == 0 || !before(e, last(o.blocks[bi-1])))
	nextOK := i+1 < len(blk) && !before(blk[i+1], e) || i+1 == len(blk) && (bi+1 == len(o.blocks) || !before(o.blocks[bi+1][0], e))
	if prevOK && nextOK {
		return
	}
	e.entryKey = old
	o.removeAt(bi, i)
	e.share, e.count = share, count
	o.insert(e)
}

func last(b []*entry) *entry { return b[len(b)-1] }

// locate returns e's block and index.
func (o *order) locate(e *entry, sorted bool) (int, int) {
	if sorted {
		bi := sort.Search(len(o.blocks), func(b int) bool { return !before(last(o.blocks[b]), e) })
		if bi < len(o.blocks) {
			blk := o.blocks[bi]
			i := sort.Search(len(blk), func(i int) bool { return !before(blk[i], e) })
			if i < len(blk) && blk[i] == e {
				return bi, i
			}
		}
	}
	for bi, blk := range o.blocks {
		if i := slices.Index(blk, e); i >= 0 {
			return bi, i
		}
	}
	panic("allocator: entry not in its order")
}

// removeAt deletes the active entry at (bi, i).
func (o *order) removeAt(bi, i int) {
	blk := o.blocks[bi]
	copy(blk[i:], blk[i+1:])
	blk[len(blk)-1] = nil
	blk = blk[:len(blk)-1]
	if len(blk) == 0 {
		o.blocks = slices.Delete(o.blocks, bi, bi+1)
	} else {
		o.blocks[bi] = blk
	}
	o.nActive--
	o.ver++
}

// insert places active e by its key.
func (o *order) insert(e *entry) {
	o.nActive++
	o.ver++
	if len(o.blocks) == 0 {
		blk := make([]*entry, 1, blockMax)
		blk[0] = e
		o.blocks = append(o.blocks, blk)
		return
	}
	bi := sort.Search(len(o.blocks), func(b int) bool { return before(e, last(o.blocks[b])) })
	if bi == len(o.blocks) {
		bi--
	}
	blk := o.blocks[bi]
	i := sort.Search(len(blk), func(i int) bool { return before(e, blk[i]) })
	blk = slices.Insert(blk, i, e)
	if len(blk) <= blockMax {
		o.blocks[bi] = blk
		return
	}
	half := len(blk) / 2
	right := make([]*entry, len(blk)-half, blockMax)
	copy(right, blk[half:])
	clear(blk[half:])
	o.blocks[bi] = blk[:half]
	o.blocks = slices.Insert(o.blocks, bi+1, right)
}

// sortAll sorts the active entries from scratch.
func (o *order) sortAll() {
	all := o.active()
	slices.SortFunc(all, func(a, b *entry) int { return compareKeys(&a.entryKey, &b.entryKey) })
	o.blocks = o.blocks[:0]
	for len(all) > 0 {
		n := min(len(all), blockMax/2)
		blk := make([]*entry, n, blockMax)
		copy(blk, all[:n])
		o.blocks = append(o.blocks, blk)
		all = all[n:]
	}
	o.ver++
}

// active returns the active entries in order, as a new slice.
func (o *order) active() []*entry {
	out := make([]*entry, 0, o.nActive)
	for _, blk := range o.blocks {
		out = append(out, blk...)
	}
	return out
}

// all returns every entry, active ones first in order.
func (o *order) all() []*entry {
	return append(o.active(), o.inactive...)
}

// sortedOK reports whether the order is consistent (for tests).
func (o *order) sortedOK() bool {
	act := o.active()
	if len(act) != o.nActive {
		return false
	}
	for _, blk := range o.blocks {
		if len(blk) == 0 || len(blk) > blockMax {
			return false
		}
	}
	return slices.IsSortedFunc(act, func(a, b *entry) int { return compareKeys(&a.entryKey, &b.entryKey) }) &&
		!slices.ContainsFunc(act, func(e *entry) bool { return !e.active }) &&
		!slices.ContainsFunc(o.inactive, func(e *entry) bool { return e.active })
}

// cursor walks an order's active entries in DRF order while the walk
// itself reorders them. It remembers the key the last entry had when it
// was returned: if nothing moved since, the next entry is the next
// position; otherwise it is the first entry whose key is above that
// remembered key (entries only move back during a cycle, so nothing is
// skipped; entries that moved back past the cursor are met again and
// recognised by their stamp).
type cursor struct {
	o       *order
	bi, i   int
	ver     uint64
	last    entryKey
	started bool
}

func (o *order) cursor() cursor { return cursor{o: o} }

func (c *cursor) next() *entry {
	o := c.o
	switch {
	case !c.started:
		c.started = true
		c.bi, c.i = 0, 0
	case c.ver == o.ver:
		c.i++
		if c.i >= len(o.blocks[c.bi]) {
			c.bi, c.i = c.bi+1, 0
		}
	default:
		k := &c.last
		c.bi = sort.Search(len(o.blocks), func(b int) bool { return k.before(&last(o.blocks[b]).entryKey) })
		if c.bi < len(o.blocks) {
			blk := o.blocks[c.bi]
			c.i = sort.Search(len(blk), func(i int) bool { return k.before(&blk[i].entryKey) })
		}
	}
	if c.bi >= len(o.blocks) {
		return nil
	}
	e := o.blocks[c.bi][c.i]
	c.ver = o.ver
	c.last = e.entryKey
	return e
}
