package zkraw

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
)

// Transcript is a normalized record of what clients observed, one line per
// observation, so two servers can be compared line for line. What differs
// between two correct servers is rewritten: zxids become offsets from a
// baseline ("z+3"), session ids become s1, s2 … in the order they were first
// seen, times become "t" (after checking they are plausible wall-clock
// milliseconds) and child lists are sorted, since ZooKeeper promises no order.
// Everything else — error codes, versions, counts, owners of TTL and
// container nodes, the order of events and replies — is kept exactly.
type Transcript struct {
	mu       sync.Mutex
	lines    []string
	base     int64
	sessions map[int64]string
	start    time.Time
}

// NewTranscript starts an empty transcript; times earlier than a minute
// before now will be flagged as implausible.
func NewTranscript() *Transcript {
	return &Transcript{sessions: map[int64]string{}, start: time.Now().Add(-time.Minute)}
}

// SetBase makes zxid z the origin "z0" for every later zxid.
func (t *Transcript) SetBase(z int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.base = z
}

// Logf appends one line.
func (t *Transcript) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
}

// String is the transcript with a trailing newline.
func (t *Transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n") + "\n"
}

// Session names session id: s1 for the first one seen, and so on; 0 is "0".
func (t *Transcript) Session(id int64) string {
	if id == 0 {
		return "0"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.sessions[id]; ok {
		return n
	}
	n := fmt.Sprintf("s%d", len(t.sessions)+1)
	t.sessions[id] = n
	return n
}

// knownSession names id only if it was seen before.
func (t *Transcript) knownSession(id int64) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.sessions[id]
	return n, ok
}

// Zxid rewrites z relative to the baseline. 0 and -1 are kept: they are
// "never" and "none", not positions in the log.
func (t *Transcript) Zxid(z int64) string {
	if z == 0 || z == -1 {
		return fmt.Sprint(z)
	}
	t.mu.Lock()
	base := t.base
	t.mu.Unlock()
	d := z - base
	switch {
	case d == 0:
		return "z0"
	case d > 0:
		return fmt.Sprintf("z+%d", d)
	default:
		return fmt.Sprintf("z%d", d)
	}
}

func (t *Transcript) time(ms int64) string {
	if ms == 0 {
		return "0"
	}
	tm := time.UnixMilli(ms)
	if tm.Before(t.start) || tm.After(time.Now().Add(time.Minute)) {
		return fmt.Sprintf("implausible(%d)", ms)
	}
	return "t"
}

// Owner names an ephemeralOwner: a known session, 0, or its exact hex value
// (TTL and container nodes encode their kind there).
func (t *Transcript) Owner(o int64) string {
	if o == 0 {
		return "0"
	}
	if n, ok := t.knownSession(o); ok {
		return n
	}
	if o < 0 {
		return fmt.Sprintf("%#x", uint64(o))
	}
	return t.Session(o)
}

// Stat renders every field of s. mtime is shown as "ctime" when it must
// equal it (version 0) and as ">=ctime" after a change, because two
// transactions may fall in the same millisecond.
func (t *Transcript) Stat(s jute.Stat) string {
	mtime := "mtime=" + t.time(s.Mtime)
	switch {
	case s.Mtime == s.Ctime && s.Version == 0:
		mtime = "mtime=ctime"
	case s.Version == 0:
		mtime += "!=ctime"
	case s.Mtime >= s.Ctime && mtime == "mtime=t":
		mtime = "mtime>=ctime"
	}
	return fmt.Sprintf("{czxid=%s mzxid=%s pzxid=%s ctime=%s %s version=%d cversion=%d aversion=%d owner=%s len=%d children=%d}",
		t.Zxid(s.Czxid), t.Zxid(s.Mzxid), t.Zxid(s.Pzxid), t.time(s.Ctime), mtime,
		s.Version, s.Cversion, s.Aversion, t.Owner(s.EphemeralOwner), s.DataLength, s.NumChildren)
}

// Event renders a notification.
func (t *Transcript) Event(ev Event) string {
	return fmt.Sprintf("event %s %s state=%s zxid=%s", EventName(ev.Type), ev.Path, StateName(ev.State), t.Zxid(ev.Zxid))
}

// Request renders a request record.
func (t *Transcript) Request(op int32, req jute.Record) string {
	return OpName(op) + reqFields(op, req)
}

func reqFields(op int32, req jute.Record) string {
	switch r := req.(type) {
	case nil, *jute.Empty:
		return ""
	case *jute.CreateRequest:
		return fmt.Sprintf(" %s %s mode=%s acl=%s", pathString(r.Path), data(r.Data), ModeName(r.Flags), ACLString(r.ACL))
	case *jute.CreateTTLRequest:
		return fmt.Sprintf(" %s %s mode=%s acl=%s ttl=%d", pathString(r.Path), data(r.Data), ModeName(r.Flags), ACLString(r.ACL), r.TTL)
	case *jute.PathVersionRequest:
		return fmt.Sprintf(" %s version=%d", pathString(r.Path), r.Version)
	case *jute.PathWatchRequest:
		return fmt.Sprintf(" %s watch=%t", pathString(r.Path), r.Watch)
	case *jute.PathRequest:
		return " " + pathString(r.Path)
	case *jute.SetDataRequest:
		return fmt.Sprintf(" %s %s version=%d", pathString(r.Path), data(r.Data), r.Version)
	case *jute.SetACLRequest:
		return fmt.Sprintf(" %s acl=%s version=%d", pathString(r.Path), ACLString(r.ACL), r.Version)
	case *jute.AuthPacket:
		return fmt.Sprintf(" type=%d %s %q", r.Type, r.Scheme, r.Auth)
	case *jute.SetWatches:
		s := fmt.Sprintf(" data=%v exist=%v child=%v", r.DataWatches, r.ExistWatches, r.ChildWatches)
		if r.V2 {
			s += fmt.Sprintf(" persistent=%v recursive=%v", r.PersistentWatches, r.PersistentRecursive)
		}
		return s
	case *jute.AddWatchRequest:
		return fmt.Sprintf(" %s mode=%d", pathString(r.Path), r.Mode)
	case *jute.WatchesRequest:
		return fmt.Sprintf(" %s type=%d", pathString(r.Path), r.Type)
	case *jute.MultiRequest:
		parts := make([]string, len(r.Ops))
		for i, o := range r.Ops {
			parts[i] = OpName(o.Type) + reqFields(o.Type, o.Req)
		}
		return " [" + strings.Join(parts, "; ") + "]"
	}
	return fmt.Sprintf(" %+v", req)
}

// pathString shows a path as it is, or quoted when it is empty or holds
// bytes that would not survive a text file.
func pathString(p string) string {
	if q := strconv.Quote(p); p == "" || q[1:len(q)-1] != p {
		return q
	}
	return p
}

// Reply renders the answer to op: error name, header zxid and the decoded
// body. A body that does not decode exactly as ZooKeeper's would is shown
// as an error in the line, so the comparison fails on it.
func (t *Transcript) Reply(op int32, r Reply) string {
	head := fmt.Sprintf("-> %s zxid=%s", ErrName(r.Err), t.Zxid(r.Zxid))
	if r.Err != jute.ErrOk && (len(r.Body) == 0 || op != jute.OpMulti && op != jute.OpMultiRead) {
		if len(r.Body) > 0 {
			return fmt.Sprintf("%s body=%x", head, r.Body)
		}
		return head
	}
	rec := replyRecord(op)
	if rec == nil {
		if len(r.Body) > 0 {
			return fmt.Sprintf("%s unexpected body=%x", head, r.Body)
		}
		return head
	}
	if err := r.Decode(rec); err != nil {
		return fmt.Sprintf("%s undecodable body %x: %v", head, r.Body, err)
	}
	return head + " " + t.body(rec)
}

func replyRecord(op int32) jute.Record {
	switch op {
	case jute.OpCreate, jute.OpSync:
		return &jute.PathResponse{}
	case jute.OpCreate2, jute.OpCreateTTL, jute.OpCreateContainer:
		return &jute.Create2Response{}
	case jute.OpExists, jute.OpSetData, jute.OpSetACL:
		return &jute.StatResponse{}
	case jute.OpGetData:
		return &jute.GetDataResponse{}
	case jute.OpGetChildren, jute.OpGetEphemerals:
		return &jute.ChildrenResponse{}
	case jute.OpGetChildren2:
		return &jute.Children2Response{}
	case jute.OpGetACL:
		return &jute.GetACLResponse{}
	case jute.OpGetAllChildrenNumber:
		return &jute.CountResponse{}
	case jute.OpMulti, jute.OpMultiRead:
		return &jute.MultiResponse{}
	case jute.OpWhoAmI:
		return &jute.WhoAmIResponse{}
	case jute.OpAddWatch:
		// ZooKeeper answers addWatch with an ErrorResponse(0) body.
		return &jute.ErrorResponse{}
	}
	return nil
}

func (t *Transcript) body(rec jute.Record) string {
	switch r := rec.(type) {
	case *jute.PathResponse:
		return "path=" + r.Path
	case *jute.Create2Response:
		return "path=" + r.Path + " " + t.Stat(r.Stat)
	case *jute.StatResponse:
		return t.Stat(r.Stat)
	case *jute.GetDataResponse:
		return data(r.Data) + " " + t.Stat(r.Stat)
	case *jute.ChildrenResponse:
		return children(r.Children)
	case *jute.Children2Response:
		return children(r.Children) + " " + t.Stat(r.Stat)
	case *jute.GetACLResponse:
		// Sorted: an ACL is a set, and the "auth" scheme expands into the
		// creator's identities in the server's hash order.
		acl := slices.Clone(r.ACL)
		slices.SortFunc(acl, func(a, b jute.ACL) int { return strings.Compare(ACLString([]jute.ACL{a}), ACLString([]jute.ACL{b})) })
		return "acl=" + ACLString(acl) + " " + t.Stat(r.Stat)
	case *jute.CountResponse:
		return fmt.Sprintf("number=%d", r.Number)
	case *jute.ErrorResponse:
		return fmt.Sprintf("body=ErrorResponse(%d)", r.Err)
	case *jute.WhoAmIResponse:
		parts := make([]string, len(r.ClientInfo))
		for i, c := range r.ClientInfo {
			parts[i] = c.AuthScheme + ":" + c.User
		}
		slices.Sort(parts) // the server keeps identities in a hash set
		return "[" + strings.Join(parts, " ") + "]"
	case *jute.MultiResponse:
		parts := make([]string, len(r.Results))
		for i, res := range r.Results {
			if res.Type == jute.OpError {
				parts[i] = "error(" + ErrName(res.Err) + ")"
				continue
			}
			parts[i] = OpName(res.Type)
			if res.Resp != nil {
				parts[i] += " " + t.body(res.Resp)
			}
		}
		return "[" + strings.Join(parts, "; ") + "]"
	}
	return fmt.Sprintf("%+v", rec)
}

func data(b []byte) string {
	if b == nil {
		return "data=null"
	}
	if len(b) > 64 {
		return fmt.Sprintf("data=<%d bytes>", len(b))
	}
	return fmt.Sprintf("data=%q", b)
}

func children(c []string) string {
	s := slices.Clone(c)
	slices.Sort(s)
	return fmt.Sprintf("children=%q", s)
}

// ACLString renders an ACL list compactly: perms as ZooKeeper's cdrwa
// letters, then scheme:id.
func ACLString(acl []jute.ACL) string {
	if acl == nil {
		return "[]"
	}
	parts := make([]string, len(acl))
	for i, a := range acl {
		parts[i] = PermString(a.Perms) + "@" + a.ID.Scheme + ":" + a.ID.ID
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// PermString renders permission bits as zkCli does (cdrwa), with any
// unknown bits in hex.
func PermString(p int32) string {
	var b strings.Builder
	for _, f := range []struct {
		bit int32
		c   byte
	}{{jute.PermCreate, 'c'}, {jute.PermDelete, 'd'}, {jute.PermRead, 'r'}, {jute.PermWrite, 'w'}, {jute.PermAdmin, 'a'}} {
		if p&f.bit != 0 {
			b.WriteByte(f.c)
		}
	}
	if rest := p &^ jute.PermAll; rest != 0 {
		fmt.Fprintf(&b, "+%#x", rest)
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

var opNames = map[int32]string{
	jute.OpNotification: "notification", jute.OpCreate: "create", jute.OpDelete: "delete",
	jute.OpExists: "exists", jute.OpGetData: "getData", jute.OpSetData: "setData",
	jute.OpGetACL: "getACL", jute.OpSetACL: "setACL", jute.OpGetChildren: "getChildren",
	jute.OpSync: "sync", jute.OpPing: "ping", jute.OpGetChildren2: "getChildren2",
	jute.OpCheck: "check", jute.OpMulti: "multi", jute.OpCreate2: "create2",
	jute.OpReconfig: "reconfig", jute.OpCheckWatches: "checkWatches",
	jute.OpRemoveWatches: "removeWatches", jute.OpCreateContainer: "createContainer",
	jute.OpDeleteContainer: "deleteContainer", jute.OpCreateTTL: "createTTL",
	jute.OpMultiRead: "multiRead", jute.OpAuth: "auth", jute.OpSetWatches: "setWatches",
	jute.OpSasl: "sasl", jute.OpGetEphemerals: "getEphemerals",
	jute.OpGetAllChildrenNumber: "getAllChildrenNumber", jute.OpSetWatches2: "setWatches2",
	jute.OpAddWatch: "addWatch", jute.OpWhoAmI: "whoAmI", jute.OpCreateSession: "createSession",
	jute.OpCloseSession: "closeSession", jute.OpError: "error",
}

// OpName is ZooDefs.OpCode's name for op.
func OpName(op int32) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("op(%d)", op)
}

var errNames = map[int32]string{
	jute.ErrOk: "ok", jute.ErrSystemError: "SystemError",
	jute.ErrRuntimeInconsistency: "RuntimeInconsistency", jute.ErrDataInconsistency: "DataInconsistency",
	jute.ErrConnectionLoss: "ConnectionLoss", jute.ErrMarshallingError: "MarshallingError",
	jute.ErrUnimplemented: "Unimplemented", jute.ErrOperationTimeout: "OperationTimeout",
	jute.ErrBadArguments: "BadArguments", jute.ErrUnknownSession: "UnknownSession",
	jute.ErrNewConfigNoQuorum: "NewConfigNoQuorum", jute.ErrReconfigInProgress: "ReconfigInProgress",
	jute.ErrAPIError: "APIError", jute.ErrNoNode: "NoNode", jute.ErrNoAuth: "NoAuth",
	jute.ErrBadVersion: "BadVersion", jute.ErrNoChildrenForEphemerals: "NoChildrenForEphemerals",
	jute.ErrNodeExists: "NodeExists", jute.ErrNotEmpty: "NotEmpty",
	jute.ErrSessionExpired: "SessionExpired", jute.ErrInvalidCallback: "InvalidCallback",
	jute.ErrInvalidACL: "InvalidACL", jute.ErrAuthFailed: "AuthFailed",
	jute.ErrSessionMoved: "SessionMoved", jute.ErrNotReadOnly: "NotReadOnly",
	jute.ErrEphemeralOnLocalSession: "EphemeralOnLocalSession", jute.ErrNoWatcher: "NoWatcher",
	jute.ErrRequestTimeout: "RequestTimeout", jute.ErrReconfigDisabled: "ReconfigDisabled",
	jute.ErrQuotaExceeded: "QuotaExceeded", jute.ErrThrottled: "Throttled",
}

// ErrName is KeeperException.Code's name for code ("ok" for 0).
func ErrName(code int32) string {
	if n, ok := errNames[code]; ok {
		return n
	}
	return fmt.Sprintf("err(%d)", code)
}

var eventNames = map[int32]string{
	jute.EventNone: "None", jute.EventNodeCreated: "NodeCreated", jute.EventNodeDeleted: "NodeDeleted",
	jute.EventNodeDataChanged: "NodeDataChanged", jute.EventNodeChildrenChanged: "NodeChildrenChanged",
	jute.EventDataWatchRemoved: "DataWatchRemoved", jute.EventChildWatchRemoved: "ChildWatchRemoved",
	jute.EventPersistentWatchRemoved: "PersistentWatchRemoved",
}

// EventName is Watcher.Event.EventType's name for typ.
func EventName(typ int32) string {
	if n, ok := eventNames[typ]; ok {
		return n
	}
	return fmt.Sprintf("event(%d)", typ)
}

var stateNames = map[int32]string{
	jute.StateDisconnected: "Disconnected", jute.StateSyncConnected: "SyncConnected",
	jute.StateAuthFailed: "AuthFailed", jute.StateReadOnly: "ConnectedReadOnly",
	jute.StateExpired: "Expired", jute.StateClosed: "Closed",
}

// StateName is Watcher.Event.KeeperState's name for s.
func StateName(s int32) string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("state(%d)", s)
}

var modeNames = map[int32]string{
	jute.FlagPersistent: "persistent", jute.FlagEphemeral: "ephemeral",
	jute.FlagPersistentSequential: "persistent_sequential", jute.FlagEphemeralSequential: "ephemeral_sequential",
	jute.FlagContainer: "container", jute.FlagPersistentWithTTL: "persistent_ttl",
	jute.FlagPersistentSequentialWithTTL: "persistent_sequential_ttl",
}

// ModeName is CreateMode's name for flags.
func ModeName(flags int32) string {
	if n, ok := modeNames[flags]; ok {
		return n
	}
	return fmt.Sprintf("mode(%d)", flags)
}
