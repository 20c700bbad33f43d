package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrPowerCut is returned by every FaultFS call made between a power cut and
// the restart: the code that was running at the cut can do nothing more.
var ErrPowerCut = errors.New("storage: power cut (FaultFS is off until Restart)")

// FaultFS wraps an FS and remembers what has been made durable, so that
// PowerCut can make the files look exactly as if the machine had lost power.
//
// The model, per file: bytes written (or truncated away) since the file's
// last Sync are lost; the file goes back to its content and size at that
// Sync. With a torn cut, a random prefix of the unsynced writes survives
// instead, the last of them cut at a random byte and possibly followed by
// garbage. Per directory: entries created, renamed or removed since the
// directory's last SyncDir are journaled in order, so a random prefix of
// those changes survives: a new file may vanish even if its data was
// synced, a removed file may come back, a rename may be undone. Directory
// creation is treated as durable.
//
// After PowerCut every open handle fails forever and every FaultFS call
// fails with ErrPowerCut until Restart, so the old process cannot keep
// writing after its machine died. Open (of a Log) calls Restart itself; a
// fresh OSFS on the same directories also sees the post-cut files.
//
// It is for tests; every call takes one lock.
type FaultFS struct {
	base FS

	mu      sync.Mutex
	rng     *rand.Rand
	off     bool
	gen     uint64
	files   map[string]*fnode // visible path -> tracked file
	nodes   map[*fnode]struct{}
	dirs    map[string][]dirOp // unsynced entry changes per directory
	handles map[*faultFile]struct{}
	trash   int
	armed   int // cut before the armed-th next mutating call; 0 = not armed
	armTorn bool
	cuts    int
}

// fnode is a file (an inode) whose durable state is known.
type fnode struct {
	loc    string // where it is in base: its visible path or a trash path
	size   int64
	synced int64    // durable size
	undo   []extent // old bytes below synced overwritten since the last sync
	ops    []extent // unsynced writes (and size changes), in order
}

// extent is a byte range: data, or zeros when data is nil. A size change is
// an extent with setSize.
type extent struct {
	off     int64
	n       int64
	data    []byte
	setSize bool
}

type dirOpKind int

const (
	opCreate dirOpKind = iota
	opRemove
	opRename
)

// dirOp is one journaled directory change.
type dirOp struct {
	kind     dirOpKind
	node     *fnode
	name     string // create, remove: the entry; rename: the old name
	newName  string
	replaced *fnode // rename over an existing file
	trash    string // remove: where node sits; rename: where replaced sits
}

const trashPrefix = ".faultfs-trash-"

// NewFaultFS wraps base; seed drives every random choice of PowerCut.
func NewFaultFS(base FS, seed int64) *FaultFS {
	return &FaultFS{
		base:    base,
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		files:   map[string]*fnode{},
		nodes:   map[*fnode]struct{}{},
		dirs:    map[string][]dirOp{},
		handles: map[*faultFile]struct{}{},
	}
}

// PowerCut makes the underlying files look as if the machine lost power now
// and turns the FaultFS off until Restart (see the type's doc).
func (f *FaultFS) PowerCut(torn bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cutLocked(torn)
}

// CutAfter arms a power cut that happens just before the n-th next mutating
// call (create, write, truncate, allocate, sync, rename, remove, sync dir);
// that call fails with ErrPowerCut. It lets a test cut at every step of an
// operation in turn. n <= 0 disarms.
func (f *FaultFS) CutAfter(n int, torn bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.armTorn = max(n, 0), torn
}

// Cuts is how many power cuts have happened (by PowerCut or CutAfter).
func (f *FaultFS) Cuts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cuts
}

// Restart turns the power back on after a cut. Handles opened before the
// cut stay dead.
func (f *FaultFS) Restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.off = false
}

// mutate is called at the start of every mutating call, under f.mu: it fails
// when the power is off and fires an armed cut.
func (f *FaultFS) mutate() error {
	if f.off {
		return ErrPowerCut
	}
	if f.armed > 0 {
		f.armed--
		if f.armed == 0 {
			if err := f.cutLocked(f.armTorn); err != nil {
				return err
			}
			return ErrPowerCut
		}
	}
	return nil
}

func (f *FaultFS) cutLocked(torn bool) error {
	f.off = true
	f.gen++
	f.cuts++
	f.armed = 0
	for h := range f.handles {
		h.base.Close()
	}
	clear(f.handles)
	var errs []error
	for n := range f.nodes {
		if len(n.ops) > 0 {
			errs = append(errs, f.restoreContent(n, torn))
		}
	}
	for dir, ops := range f.dirs {
		errs = append(errs, f.settleDir(dir, ops, f.rng.IntN(len(ops)+1)))
	}
	clear(f.files)
	clear(f.nodes)
	clear(f.dirs)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage: power cut: %w", err)
	}
	return nil
}

// restoreContent puts a file back to its durable content, then with a torn
// cut replays a random prefix of the lost writes, the last one partly.
func (f *FaultFS) restoreContent(n *fnode, torn bool) error {
	bf, err := f.base.OpenFile(n.loc, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer bf.Close()
	if err := bf.Truncate(n.synced); err != nil {
		return err
	}
	for i := len(n.undo) - 1; i >= 0; i-- {
		if err := applyExtent(bf, n.undo[i]); err != nil {
			return err
		}
	}
	if !torn {
		return nil
	}
	k := f.rng.IntN(len(n.ops) + 1)
	for _, e := range n.ops[:k] {
		if err := applyExtent(bf, e); err != nil {
			return err
		}
	}
	if k == len(n.ops) {
		return nil
	}
	e := n.ops[k]
	if e.setSize {
		return nil // size changes are atomic: this one is lost
	}
	keep := f.rng.Int64N(e.n + 1)
	if err := applyExtent(bf, extent{off: e.off, n: keep, data: sub(e.data, 0, keep)}); err != nil {
		return err
	}
	if f.rng.IntN(2) == 0 {
		return nil
	}
	junk := make([]byte, f.rng.Int64N(e.n-keep+1))
	for i := range junk {
		junk[i] = byte(f.rng.Uint32())
	}
	_, err = bf.WriteAt(junk, e.off+keep)
	return err
}

func sub(b []byte, from, to int64) []byte {
	if b == nil {
		return nil
	}
	return b[from:to]
}

func applyExtent(w File, e extent) error {
	if e.setSize {
		return w.Truncate(e.off)
	}
	if e.data == nil {
		return writeZeros(w, e.off, e.off+e.n)
	}
	_, err := w.WriteAt(e.data, e.off)
	return err
}

// settleDir keeps the first keep unsynced changes of dir and undoes the rest,
// newest first.
func (f *FaultFS) settleDir(dir string, ops []dirOp, keep int) error {
	var errs []error
	for i := len(ops) - 1; i >= keep; i-- {
		op := ops[i]
		switch op.kind {
		case opCreate:
			errs = append(errs, f.base.Remove(op.node.loc))
		case opRemove:
			errs = append(errs, f.base.Rename(op.node.loc, filepath.Join(dir, op.name)))
			op.node.loc = filepath.Join(dir, op.name)
		case opRename:
			errs = append(errs, f.base.Rename(op.node.loc, filepath.Join(dir, op.name)))
			op.node.loc = filepath.Join(dir, op.name)
			if op.replaced != nil {
				errs = append(errs, f.base.Rename(op.trash, filepath.Join(dir, op.newName)))
				op.replaced.loc = filepath.Join(dir, op.newName)
			}
		}
	}
	for _, op := range ops[:keep] {
		if op.trash != "" {
			errs = append(errs, f.base.Remove(op.trash))
		}
	}
	return errors.Join(errs...)
}

// track returns the tracked file at path, starting to track an existing
// untracked one as fully durable; nil if there is no such file.
func (f *FaultFS) track(path string) (*fnode, error) {
	if n := f.files[path]; n != nil {
		return n, nil
	}
	bf, err := f.base.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer bf.Close()
	size, err := bf.Size()
	if err != nil {
		return nil, err
	}
	n := &fnode{loc: path, size: size, synced: size}
	f.files[path] = n
	f.nodes[n] = struct{}{}
	return n, nil
}

func (f *FaultFS) trashPath(dir string) string {
	f.trash++
	return filepath.Join(dir, fmt.Sprintf("%s%d", trashPrefix, f.trash))
}

func (f *FaultFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off {
		return nil, ErrPowerCut
	}
	if flag&os.O_APPEND != 0 {
		return nil, fmt.Errorf("faultfs: open %s: O_APPEND is not modelled", name)
	}
	name = filepath.Clean(name)
	write := flag&(os.O_WRONLY|os.O_RDWR) != 0
	n, err := f.track(name)
	if err != nil {
		return nil, err
	}
	switch {
	case n != nil && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case n == nil && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if n == nil || (write && flag&os.O_TRUNC != 0) {
		if err := f.mutate(); err != nil {
			return nil, err
		}
	}
	baseFlag := flag &^ (os.O_TRUNC | os.O_EXCL | os.O_WRONLY)
	if write {
		// Read access too, to save the old bytes a write overwrites.
		baseFlag |= os.O_RDWR
	}
	bf, err := f.base.OpenFile(name, baseFlag, perm)
	if err != nil {
		return nil, err
	}
	if n == nil {
		n = &fnode{loc: name}
		f.files[name] = n
		f.nodes[n] = struct{}{}
		dir := filepath.Dir(name)
		f.dirs[dir] = append(f.dirs[dir], dirOp{kind: opCreate, node: n, name: filepath.Base(name)})
	}
	h := &faultFile{fs: f, node: n, base: bf, gen: f.gen, write: write}
	f.handles[h] = struct{}{}
	if write && flag&os.O_TRUNC != 0 && n.size > 0 {
		if err := h.truncateLocked(0); err != nil {
			h.closeLocked()
			return nil, err
		}
	}
	return h, nil
}

func (f *FaultFS) Rename(oldname, newname string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.mutate(); err != nil {
		return err
	}
	oldname, newname = filepath.Clean(oldname), filepath.Clean(newname)
	dir := filepath.Dir(oldname)
	if filepath.Dir(newname) != dir {
		return fmt.Errorf("faultfs: rename %s to %s: only renames within a directory are modelled", oldname, newname)
	}
	n, err := f.track(oldname)
	if err != nil {
		return err
	}
	if n == nil {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	if oldname == newname {
		return nil
	}
	op := dirOp{kind: opRename, node: n, name: filepath.Base(oldname), newName: filepath.Base(newname)}
	r, err := f.track(newname)
	if err != nil {
		return err
	}
	if r != nil {
		// Keep the replaced file's content where a cut can bring it back.
		op.replaced, op.trash = r, f.trashPath(dir)
		if err := f.base.Rename(newname, op.trash); err != nil {
			return err
		}
		r.loc = op.trash
		delete(f.files, newname)
	}
	if err := f.base.Rename(oldname, newname); err != nil {
		return err
	}
	n.loc = newname
	delete(f.files, oldname)
	f.files[newname] = n
	f.dirs[dir] = append(f.dirs[dir], op)
	return nil
}

func (f *FaultFS) Remove(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.mutate(); err != nil {
		return err
	}
	name = filepath.Clean(name)
	n, err := f.track(name)
	if err != nil {
		return err
	}
	if n == nil {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	dir := filepath.Dir(name)
	op := dirOp{kind: opRemove, node: n, name: filepath.Base(name), trash: f.trashPath(dir)}
	if err := f.base.Rename(name, op.trash); err != nil {
		return err
	}
	n.loc = op.trash
	delete(f.files, name)
	f.dirs[dir] = append(f.dirs[dir], op)
	return nil
}

func (f *FaultFS) ReadDir(dir string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off {
		return nil, ErrPowerCut
	}
	names, err := f.base.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		if !strings.HasPrefix(n, trashPrefix) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f *FaultFS) MkdirAll(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off {
		return ErrPowerCut
	}
	return f.base.MkdirAll(dir)
}

func (f *FaultFS) SyncDir(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.mutate(); err != nil {
		return err
	}
	dir = filepath.Clean(dir)
	if err := f.base.SyncDir(dir); err != nil {
		return err
	}
	ops := f.dirs[dir]
	delete(f.dirs, dir)
	var errs []error
	for _, op := range ops {
		if op.trash == "" {
			continue
		}
		errs = append(errs, f.base.Remove(op.trash))
		gone := op.node
		if op.kind == opRename {
			gone = op.replaced
		}
		delete(f.nodes, gone)
	}
	return errors.Join(errs...)
}

// faultFile is a handle; it dies with the power.
type faultFile struct {
	fs    *FaultFS
	node  *fnode
	base  File
	gen   uint64
	write bool
}

func (h *faultFile) alive() error {
	if h.gen != h.fs.gen {
		return ErrPowerCut
	}
	return nil
}

func (h *faultFile) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.alive(); err != nil {
		return 0, err
	}
	return h.base.ReadAt(p, off)
}

func (h *faultFile) Size() (int64, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.alive(); err != nil {
		return 0, err
	}
	return h.base.Size()
}

// saveUndo remembers the durable bytes in [from, to) before they change.
func (h *faultFile) saveUndo(from, to int64) error {
	n := h.node
	to = min(to, n.synced)
	if from >= to {
		return nil
	}
	old := make([]byte, to-from)
	got, err := h.base.ReadAt(old, from)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	// Past the current size the old bytes were saved by the truncate that
	// dropped them; zeros here are overwritten when undoing in reverse.
	clear(old[got:])
	e := extent{off: from, n: to - from, data: old}
	if allZero(old) {
		e.data = nil
	}
	n.undo = append(n.undo, e)
	return nil
}

func (h *faultFile) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.alive(); err != nil {
		return 0, err
	}
	if !h.write {
		return 0, fmt.Errorf("faultfs: write to a read-only handle of %s", h.node.loc)
	}
	if err := h.fs.mutate(); err != nil {
		return 0, err
	}
	n := h.node
	end := off + int64(len(p))
	if err := h.saveUndo(off, end); err != nil {
		return 0, err
	}
	e := extent{off: off, n: int64(len(p))}
	if !allZero(p) {
		e.data = append([]byte(nil), p...)
	}
	n.ops = append(n.ops, e)
	w, err := h.base.WriteAt(p, off)
	n.size = max(n.size, off+int64(w))
	return w, err
}

func (h *faultFile) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.alive(); err != nil {
		return err
	}
	if err := h.fs.mutate(); err != nil {
		return err
	}
	return h.truncateLocked(size)
}

func (h *faultFile) truncateLocked(size int64) error {
	n := h.node
	if err := h.saveUndo(size, n.size); err != nil {
		return err
	}
	n.ops = append(n.ops, extent{off: size, setSize: true})
	if err := h.base.Truncate(size); err != nil {
		return err
	}
	n.size = size
	return nil
}

func (h *faultFile) Allocate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.alive(); err != nil {
		return err
	}
	if err := h.fs.mutate(); err != nil {
		return err
	}
	n := h.node
	if size <= n.size {
		return nil
	}
	// Growing writes zeros over [n.size, size): a lost allocation is a lost
	// size change, a torn one a shorter run of zeros.
	n.ops = append(n.ops, extent{off: n.size, n: size - n.size})
	if err := h.base.Allocate(size); err != nil {
		return err
	}
	n.size = size
	return nil
}

// Sync runs the real fsync without holding the lock, so a PowerCut can land
// while it is in progress, as a real power loss does; then nothing it was
// syncing counts as durable. If the file was written concurrently with the
// fsync, nothing is marked durable either (conservative; the log never
// does that).
func (h *faultFile) Sync() error {
	f := h.fs
	f.mu.Lock()
	if err := h.alive(); err != nil {
		f.mu.Unlock()
		return err
	}
	if err := f.mutate(); err != nil {
		f.mu.Unlock()
		return err
	}
	n := h.node
	pending := len(n.ops)
	f.mu.Unlock()

	err := h.base.Sync()

	f.mu.Lock()
	defer f.mu.Unlock()
	if err := h.alive(); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	if len(n.ops) == pending {
		n.synced = n.size
		n.undo, n.ops = nil, nil
	}
	return nil
}

func (h *faultFile) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.alive(); err != nil {
		return err
	}
	return h.closeLocked()
}

func (h *faultFile) closeLocked() error {
	delete(h.fs.handles, h)
	return h.base.Close()
}
