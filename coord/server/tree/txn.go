package tree

import (
	"errors"
	"fmt"

	"github.com/strata-dc/strata/coord/server/jute"
)

// A transaction is what Result.Txn carries and Replay applies:
//
//	byte   format (txnFormat)
//	long   zxid
//	long   time (ms; becomes ctime/mtime)
//	long   session
//	record
//
// and a record is an int kind and its fields, jute-encoded:
//
//	error          int err                  (failed write: spends the zxid only)
//	create         string path, buffer data, acl list, long ephemeralOwner
//	delete         string path
//	setData        string path, buffer data
//	setACL         string path, acl list
//	check          string path              (no effect)
//	multi          int n, n records          (all applied, in order)
//	createSession  int timeout, buffer passwd (the header's session)
//	closeSession   vector<string> paths      (ephemerals deleted, in order)
//
// Records hold outcomes, never requests: sequence suffixes, expanded ACLs
// and owners are already resolved, so replay needs no clock, no auth and
// makes no decision.
const txnFormat byte = 1

const (
	recError int32 = iota + 1
	recCreate
	recDelete
	recSetData
	recSetACL
	recCheck
	recMulti
	recCreateSession
	recCloseSession
)

const txnHeaderLen = 1 + 8 + 8 + 8

func writeHeader(e *jute.Encoder, zxid, time, session int64) {
	e.B = append(e.B, txnFormat)
	e.Long(zxid)
	e.Long(time)
	e.Long(session)
}

func encodeACL(e *jute.Encoder, acl []jute.ACL) {
	e.Int(int32(len(acl)))
	for i := range acl {
		acl[i].Encode(e)
	}
}

func encodeCreate(e *jute.Encoder, path string, data []byte, acl []jute.ACL, owner int64) {
	e.Int(recCreate)
	e.String(path)
	e.Buffer(data)
	encodeACL(e, acl)
	e.Long(owner)
}

func encodePath(e *jute.Encoder, kind int32, path string) {
	e.Int(kind)
	e.String(path)
}

func encodeSetData(e *jute.Encoder, path string, data []byte) {
	e.Int(recSetData)
	e.String(path)
	e.Buffer(data)
}

func encodeSetACL(e *jute.Encoder, path string, acl []jute.ACL) {
	e.Int(recSetACL)
	e.String(path)
	encodeACL(e, acl)
}

func encodeCreateSession(e *jute.Encoder, timeout int32, passwd []byte) {
	e.Int(recCreateSession)
	e.Int(timeout)
	e.Buffer(passwd)
}

func encodeCloseSession(e *jute.Encoder, paths []string) {
	e.Int(recCloseSession)
	e.Strings(paths)
}

var errTxnShort = errors.New("transaction shorter than its header")

// TxnZxid reads a transaction's zxid, by which the storage layer indexes it.
func TxnZxid(txn []byte) (int64, error) {
	if len(txn) < txnHeaderLen {
		return 0, errTxnShort
	}
	if txn[0] != txnFormat {
		return 0, fmt.Errorf("transaction format %d, want %d", txn[0], txnFormat)
	}
	d := jute.NewDecoder(txn[1:9])
	return d.Long(), nil
}

// Replay applies a logged transaction during recovery. Transactions at or
// below LastZxid are already in the tree (the snapshot covered them) and are
// skipped; the next one must be LastZxid+1, since a gap means lost writes.
// Watches are not touched. An error means the log does not fit the tree.
func (t *Tree) Replay(txn []byte) error {
	zxid, err := TxnZxid(txn)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if zxid <= t.lastZxid {
		return nil
	}
	if zxid != t.lastZxid+1 {
		return fmt.Errorf("replay zxid %#x: gap after %#x", zxid, t.lastZxid)
	}
	d := jute.NewDecoder(txn[1:])
	_ = d.Long() // zxid, read above
	t.replayTime = d.Long()
	session := d.Long()
	t.replayZxid = zxid
	if err := t.replayRecord(d, session, false); err != nil {
		return fmt.Errorf("replay zxid %#x: %w", zxid, err)
	}
	if d.Remaining() != 0 {
		return fmt.Errorf("replay zxid %#x: %d trailing bytes", zxid, d.Remaining())
	}
	t.lastZxid = zxid
	return nil
}

func decodeACL(d *jute.Decoder) []jute.ACL {
	n := int(d.Int())
	if n < 0 || n*12 > d.Remaining() {
		return nil
	}
	acl := make([]jute.ACL, n)
	for i := range acl {
		acl[i].Decode(d)
	}
	return acl
}

// replayRecord applies one record; inMulti forbids the kinds a multi
// cannot hold.
func (t *Tree) replayRecord(d *jute.Decoder, session int64, inMulti bool) error {
	kind := d.Int()
	if inMulti && (kind == recMulti || kind == recCreateSession || kind == recCloseSession || kind == recError) {
		return fmt.Errorf("record kind %d inside a multi", kind)
	}
	switch kind {
	case recError, recCheck:
		if kind == recError {
			_ = d.Int()
		} else {
			_ = d.String()
		}
		return d.Err()
	case recCreate:
		path, data, acl, owner := d.String(), d.Buffer(), decodeACL(d), d.Long()
		if err := d.Err(); err != nil {
			return err
		}
		parentPath, name, ok := splitPath(path)
		parent := t.lookup(parentPath)
		if !ok || name == "" || parent == nil {
			return fmt.Errorf("create %q: no parent", path)
		}
		if parent.kids != nil && parent.kids.get(name) != nil {
			return fmt.Errorf("create %q: exists", path)
		}
		if kindOf(t.owner(parent)) == ownerSession {
			return fmt.Errorf("create %q: parent is ephemeral", path)
		}
		if acl == nil {
			return fmt.Errorf("create %q: bad ACL", path)
		}
		t.applyCreate(nil, parent, parentPath, path, name, data, acl, owner)
	case recDelete:
		path := d.String()
		if err := d.Err(); err != nil {
			return err
		}
		parentPath, _, _ := splitPath(path)
		n, parent := t.lookup(path), t.lookup(parentPath)
		if n == nil || parent == nil || n == t.root || n.kids != nil {
			return fmt.Errorf("delete %q: no such childless node", path)
		}
		t.applyDelete(nil, parent, parentPath, n, path)
	case recSetData:
		path, data := d.String(), d.Buffer()
		if err := d.Err(); err != nil {
			return err
		}
		n := t.lookup(path)
		if n == nil {
			return fmt.Errorf("setData %q: no node", path)
		}
		t.applySetData(nil, n, path, data)
	case recSetACL:
		path, acl := d.String(), decodeACL(d)
		if err := d.Err(); err != nil {
			return err
		}
		n := t.lookup(path)
		if n == nil || acl == nil {
			return fmt.Errorf("setACL %q: no node or bad ACL", path)
		}
		t.applySetACL(nil, n, acl)
	case recMulti:
		count := d.Int()
		for i := int32(0); i < count && d.Err() == nil; i++ {
			if err := t.replayRecord(d, session, false); err != nil {
				return fmt.Errorf("multi op %d: %w", i, err)
			}
		}
		return d.Err()
	case recCreateSession:
		timeout, passwd := d.Int(), d.Buffer()
		if err := d.Err(); err != nil {
			return err
		}
		if kindOf(session) != ownerSession {
			return fmt.Errorf("session id %#x", session)
		}
		t.applyCreateSession(session, timeout, passwd)
	case recCloseSession:
		paths := d.Strings()
		if err := d.Err(); err != nil {
			return err
		}
		t.applyCloseSession(nil, session, paths)
	default:
		if err := d.Err(); err != nil {
			return err
		}
		return fmt.Errorf("unknown record kind %d", kind)
	}
	return nil
}
