package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/go-zookeeper/zk"
)

// MaxValueSize is the largest encoded value the store writes. ZooKeeper
// refuses, by closing the connection, any request over jute.maxbuffer
// (1 MiB by default), so values are checked before they are sent, with room
// left for the path and headers. Keep one object per node, never a growing
// blob: a value near this size is a design smell.
const MaxValueSize = 1_000_000

// maxRequestSize bounds a whole multi the same way.
const maxRequestSize = 1_040_000

var (
	// ErrNotFound: no value at the path.
	ErrNotFound = errors.New("coord: not found")
	// ErrVersionConflict: the value is not at the version the write
	// expected (for Absent: it already exists). Re-read and retry.
	ErrVersionConflict = errors.New("coord: version conflict")
	// ErrFenced: a fenced write was refused because its term is over; the
	// server refuses it once the leader's election node is gone.
	ErrFenced = errors.New("coord: fenced: not the leader")
	// ErrTooLarge: a value over MaxValueSize, or a multi over the request
	// limit; nothing was sent.
	ErrTooLarge = errors.New("coord: value too large")
)

// Version is a value's revision: the data version of its node, which
// every write increments. Compare-and-set writes name the version they
// read.
type Version int32

const (
	// Absent, as a write's expected version, means "create: there must be
	// no value yet". Get returns it with ErrNotFound, so a read-modify-write
	// loop needs no special case for the first write.
	Absent Version = -1
	// Any skips the version check.
	Any Version = -2
)

// Store keeps JSON values in nodes under the chroot, one object per node,
// so listing a directory lists the objects. A Store from Term.Store is
// fenced: each write carries, in the same ZooKeeper multi, a check that the
// term's election node still exists. That node is ephemeral and is the
// lowest in its group, so it exists exactly while its candidate leads; once
// the session expires or the node is deleted, the server refuses the whole
// write, whatever the deposed leader believes. Reads are not fenced.
type Store struct {
	s     *Session
	fence string // absolute path of the election node; "" when unfenced
	term  *Term  // ended terms fail fast locally; nil when unfenced
}

// Store returns an unfenced Store on the session, for daemons that do not
// lead and for reads.
func (s *Session) Store() *Store { return &Store{s: s} }

// Get reads and decodes the value at path. A missing value returns
// ErrNotFound with version Absent.
func Get[T any](ctx context.Context, st *Store, path string) (T, Version, error) {
	var zero T
	abs, err := st.s.Path(path)
	if err != nil {
		return zero, Absent, err
	}
	type got struct {
		data []byte
		stat *zk.Stat
	}
	g, err := call(ctx, st.s, func(c *zk.Conn) (got, error) {
		data, stat, err := c.Get(abs)
		return got{data, stat}, err
	})
	data, stat := g.data, g.stat
	if errors.Is(err, zk.ErrNoNode) {
		return zero, Absent, fmt.Errorf("coord: get %s: %w", path, ErrNotFound)
	}
	if err != nil {
		return zero, Absent, fmt.Errorf("coord: get %s: %w", path, err)
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return zero, Absent, fmt.Errorf("coord: get %s: decode %d bytes as %T: %w", path, len(data), v, err)
	}
	return v, Version(stat.Version), nil
}

// Item is one object of a List.
type Item[T any] struct {
	Name    string // the node's name within the directory
	Value   T
	Version Version
}

// List reads every object in dir, ordered by name. A missing directory
// has no objects; a child deleted while listing is left out.
func List[T any](ctx context.Context, st *Store, dir string) ([]Item[T], error) {
	names, err := st.Children(ctx, dir)
	if err != nil {
		return nil, err
	}
	items := make([]Item[T], 0, len(names))
	for _, name := range names {
		child := name
		if dir != "" && dir != "/" {
			child = dir + "/" + name
		}
		v, ver, err := Get[T](ctx, st, child)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		items = append(items, Item[T]{Name: name, Value: v, Version: ver})
	}
	return items, nil
}

// Children lists the names of the nodes in dir, sorted. A missing
// directory has none.
func (st *Store) Children(ctx context.Context, dir string) ([]string, error) {
	abs, err := st.s.Path(dir)
	if err != nil {
		return nil, err
	}
	names, err := call(ctx, st.s, func(c *zk.Conn) ([]string, error) {
		names, _, err := c.Children(abs)
		return names, err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("coord: list %s: %w", dir, err)
	}
	sort.Strings(names)
	return names, nil
}

// Put writes v at path whatever is there, creating the node (and missing
// parent directories) when needed, and returns the new version.
func (st *Store) Put(ctx context.Context, path string, v any) (Version, error) {
	for attempt := 0; ; attempt++ {
		vs, err := st.Commit(ctx, SetOp(path, v, Any))
		if err == nil {
			return vs[0], nil
		}
		if !errors.Is(err, ErrNotFound) || attempt == 3 {
			return Absent, err
		}
		vs, err = st.Commit(ctx, SetOp(path, v, Absent))
		if err == nil {
			return vs[0], nil
		}
		if !errors.Is(err, ErrVersionConflict) { // created meanwhile: set again
			return Absent, err
		}
	}
}

// CAS writes v at path only if the value is at version ver (Absent: only
// if there is none) and returns the new version; otherwise
// ErrVersionConflict, or ErrNotFound when the value is gone.
func (st *Store) CAS(ctx context.Context, path string, v any, ver Version) (Version, error) {
	vs, err := st.Commit(ctx, SetOp(path, v, ver))
	if err != nil {
		return Absent, err
	}
	return vs[0], nil
}

// Delete removes the value at path if it is at version ver (or Any).
// Directories must be empty.
func (st *Store) Delete(ctx context.Context, path string, ver Version) error {
	_, err := st.Commit(ctx, DeleteOp(path, ver))
	return err
}

type opKind int

const (
	opSet opKind = iota
	opDelete
	opCheck
)

func (k opKind) String() string {
	return [...]string{"set", "delete", "check"}[k]
}

// Op is one step of an atomic Commit.
type Op struct {
	kind    opKind
	path    string
	value   any
	version Version
}

// SetOp writes v at path: with ver Absent it creates the node (parents are
// made first, outside the transaction), with Any it overwrites an existing
// value, with a version it compares and sets.
func SetOp(path string, v any, ver Version) Op {
	return Op{kind: opSet, path: path, value: v, version: ver}
}

// DeleteOp deletes the value at path if it is at ver (or Any).
func DeleteOp(path string, ver Version) Op {
	return Op{kind: opDelete, path: path, version: ver}
}

// CheckOp requires the value at path to exist at ver (or Any) without
// changing it: a read the transaction depends on.
func CheckOp(path string, ver Version) Op {
	return Op{kind: opCheck, path: path, version: ver}
}

// OpError says which operation of a Commit failed; the transaction did
// nothing. Err is ErrNotFound, ErrVersionConflict or the ZooKeeper error.
type OpError struct {
	Index int    // position in the ops passed to Commit
	Op    string // set, delete or check
	Path  string
	Err   error
}

func (e *OpError) Error() string {
	return fmt.Sprintf("coord: %s %s (op %d): %v", e.Op, e.Path, e.Index, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// Commit applies ops atomically, all or none, as one ZooKeeper multi, and
// returns each op's resulting version (Absent for a delete). A fenced
// Store's commit fails with ErrFenced, and does nothing, once its term is
// over. If the connection drops mid-commit the error says so and the
// outcome is unknown: re-read before retrying a compare-and-set.
func (st *Store) Commit(ctx context.Context, ops ...Op) ([]Version, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	if st.term != nil {
		if cause := st.term.Err(); cause != nil {
			return nil, fmt.Errorf("coord: write refused: term of %s ended (%v): %w", st.term.Node(), cause, ErrFenced)
		}
	}
	reqs := make([]any, 0, len(ops)+1)
	if st.fence != "" {
		reqs = append(reqs, &zk.CheckVersionRequest{Path: st.fence, Version: -1})
	}
	first := len(reqs) // index of ops[0] among reqs
	creates := map[string]bool{}
	total := 0
	for i, op := range ops {
		abs, err := st.s.Path(op.path)
		if err != nil {
			return nil, &OpError{Index: i, Op: op.kind.String(), Path: op.path, Err: err}
		}
		zkVer := int32(op.version)
		if op.version == Any {
			zkVer = -1
		}
		switch op.kind {
		case opSet:
			data, err := json.Marshal(op.value)
			if err != nil {
				return nil, &OpError{Index: i, Op: "set", Path: op.path, Err: fmt.Errorf("encode %T: %w", op.value, err)}
			}
			if len(data) > MaxValueSize {
				return nil, &OpError{Index: i, Op: "set", Path: op.path,
					Err: fmt.Errorf("%w: %d bytes encoded, limit %d; store one object per node", ErrTooLarge, len(data), MaxValueSize)}
			}
			total += len(data)
			if op.version == Absent {
				reqs = append(reqs, &zk.CreateRequest{Path: abs, Data: data, Acl: st.s.acl, Flags: zk.FlagPersistent})
				creates[abs] = true
			} else {
				reqs = append(reqs, &zk.SetDataRequest{Path: abs, Data: data, Version: zkVer})
			}
		case opDelete:
			if op.version == Absent {
				return nil, &OpError{Index: i, Op: "delete", Path: op.path, Err: errors.New("version Absent makes no sense for a delete")}
			}
			reqs = append(reqs, &zk.DeleteRequest{Path: abs, Version: zkVer})
		case opCheck:
			if op.version == Absent {
				return nil, &OpError{Index: i, Op: "check", Path: op.path, Err: errors.New("ZooKeeper cannot check for absence; use Get")}
			}
			reqs = append(reqs, &zk.CheckVersionRequest{Path: abs, Version: zkVer})
		}
		total += len(abs) + 64
	}
	if total > maxRequestSize {
		return nil, fmt.Errorf("coord: commit of %d ops: %w: %d bytes, limit %d", len(ops), ErrTooLarge, total, maxRequestSize)
	}
	for abs := range creates {
		if parent := parentOf(abs); !creates[parent] {
			if err := st.s.ensurePath(ctx, parent); err != nil {
				return nil, err
			}
		}
	}

	res, err := call(ctx, st.s, func(c *zk.Conn) ([]zk.MultiResponse, error) {
		return c.Multi(reqs...)
	})
	if err == nil {
		vs := make([]Version, len(ops))
		for i, op := range ops {
			r := res[first+i]
			switch {
			case op.kind == opDelete:
				vs[i] = Absent
			case op.kind == opSet && r.Stat != nil:
				vs[i] = Version(r.Stat.Version)
			case op.kind == opCheck:
				vs[i] = op.version
			default: // a create: a new node starts at version 0
				vs[i] = 0
			}
		}
		return vs, nil
	}
	if len(res) != len(reqs) {
		return nil, fmt.Errorf("coord: commit of %d ops (outcome unknown): %w", len(ops), err)
	}
	for i, r := range res {
		if r.Error == nil {
			continue
		}
		if i < first {
			return nil, fmt.Errorf("coord: write refused: election node %s is gone (%v): %w", st.fence, r.Error, ErrFenced)
		}
		op := ops[i-first]
		return nil, &OpError{Index: i - first, Op: op.kind.String(), Path: op.path, Err: mapZKError(op, r.Error)}
	}
	return nil, fmt.Errorf("coord: commit of %d ops: %w", len(ops), err)
}

// mapZKError turns a ZooKeeper result into the store's vocabulary, keeping
// the original in the message.
func mapZKError(op Op, err error) error {
	switch {
	case errors.Is(err, zk.ErrBadVersion):
		return fmt.Errorf("%w: want version %d (%v)", ErrVersionConflict, op.version, err)
	case errors.Is(err, zk.ErrNodeExists):
		return fmt.Errorf("%w: a value exists (%v)", ErrVersionConflict, err)
	case errors.Is(err, zk.ErrNoNode) && op.kind == opSet && op.version == Absent:
		return fmt.Errorf("%w: parent directory vanished (%v)", ErrNotFound, err)
	case errors.Is(err, zk.ErrNoNode):
		return fmt.Errorf("%w (%v)", ErrNotFound, err)
	}
	return err
}
