package flw

import (
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
)

// Snapshot is everything the four-letter words and /metrics report, copied
// out of the server at one moment. Latencies are milliseconds, as ZooKeeper
// reports them. The lists only some words print (Connections: cons, stat,
// dump; Sessions and Ephemerals: dump; Watches: wchs, wchc, wchp; Env: envi)
// may be left empty when the caller knows the word asked for.
type Snapshot struct {
	// Version follows "Zookeeper version: " in srvr and stat and is zk_version
	// in mntr. ZooKeeper 3.8 writes "3.8.0-<commit>, built on 2024-12-29
	// 17:54 UTC"; FullVersion builds that form.
	Version string
	// ServerState is "standalone" for the embedded server; ZooKeeper uses
	// the same value for stat's Mode line and mntr's zk_server_state.
	ServerState string
	// NotServing makes every word that needs the database answer ZooKeeper's
	// "not currently serving requests" line (while starting or stopping).
	NotServing bool
	// ReadOnly marks a read-only server: isro says "ro" and stat says so.
	ReadOnly bool

	Zxid             int64 // last processed zxid
	Received, Sent   int64 // packets since start (or srst)
	AliveConnections int   // open client connections, including the asking one; 0 = len(Connections)
	Outstanding      int64 // requests queued but not yet answered
	NodeCount        int   // znodes, including /zookeeper and its children

	// MinLatency, AvgLatency and MaxLatency cover requests since start (or
	// srst), in milliseconds. ZooKeeper measures whole milliseconds, so min
	// and max print truncated to integers and the average rounded to four
	// decimals, as ZooKeeper prints them.
	MinLatency, AvgLatency, MaxLatency float64

	WatchCount      int   // every watch: data, child and persistent
	EphemeralsCount int   // ephemeral znodes
	ApproxDataSize  int64 // bytes of paths and data, ZooKeeper's approximation
	GlobalSessions  int64 // sessions the server tracks
	LocalSessions   int64 // always 0 here: ZooKeeper's local sessions are an ensemble feature
	OpenFDs, MaxFDs int64 // process file descriptors in use and allowed
	Uptime          time.Duration

	// ResponseSizes are the last, smallest and largest response frames in
	// bytes; ZooKeeper reports -1 for each before the first response.
	LastResponseSize, MinResponseSize, MaxResponseSize int64
	// DropProbability is the chance a new connection is refused by load
	// shedding (ZooKeeper's connection throttle); 0 when none is applied.
	DropProbability float64
	AuthFailed      int64 // failed authentications

	// Counters and Summaries are further ZooKeeper-named metrics
	// ("fsynctime", "readlatency", "bytes_received_count", …). mntr and
	// /metrics print the ones given, in ZooKeeper's order; names ZooKeeper
	// does not have follow in sorted order.
	Counters  map[string]int64
	Summaries map[string]Summary

	// Connections are the open client connections (cons, stat, dump).
	Connections []Conn
	// Sessions are the live sessions with their next expiry (dump).
	Sessions []Session
	// Ephemerals maps a session to the ephemeral paths it owns (dump).
	Ephemerals map[int64][]string
	// Watches are the data watches by session and path. ZooKeeper's wchs,
	// wchc and wchp list only data watches (exists, getData and persistent
	// ones), not child watches; WatchCount counts both.
	Watches []Watch

	Conf Conf // conf and dirs
	Env  []KV // envi, in order; Environment collects the usual entries
}

// Conn is one client connection as cons and stat describe it.
type Conn struct {
	// Remote is the peer's host:port as net.Addr.String gives it.
	Remote string
	// InterestOps is ZooKeeper's NIO interest set: 1 while reading, 4 while
	// writing, 5 both, 0 for a connection that is only answering a
	// four-letter word.
	InterestOps int
	Queued      int64 // requests read but not yet answered
	Received    int64 // packets received
	Sent        int64 // packets sent
	// SessionID is 0 until the handshake completes; cons prints the session
	// fields below only after that.
	SessionID   int64
	LastOp      string // OpName of the last request answered; "NA" before any
	Established time.Time
	Timeout     time.Duration // negotiated session timeout
	// LastCxid is -1 before the first request, and cons then omits lcxid,
	// as ZooKeeper does. LastZxid is -1 before the first reply and prints as
	// 0xffffffffffffffff, also as ZooKeeper does.
	LastCxid, LastZxid int64
	// LastResponse is when the last reply was sent; cons prints it in Unix
	// milliseconds (ZooKeeper prints its monotonic clock there, which no
	// reader can interpret) and 0 before the first reply.
	LastResponse time.Time
	// Latencies in milliseconds; AvgLatency is an integer here, as ZooKeeper
	// keeps it per connection.
	LastLatency, MinLatency, AvgLatency, MaxLatency int64
	// Expires is when the connection is next due to expire for idleness;
	// dump groups connections by it.
	Expires time.Time
}

// Session is a live session and when it next expires unless touched.
// ZooKeeper rounds expiry up to a tickTime boundary, so sessions share
// buckets; dump prints one bucket per distinct Expires.
type Session struct {
	ID      int64
	Expires time.Time
}

// Watch is one data watch: a session watching a path.
type Watch struct {
	Session int64
	Path    string
}

// Conf is what the conf word prints; durations print in milliseconds.
type Conf struct {
	ClientPort int
	// DataDir and DataLogDir are printed as given; ZooKeeper prints its
	// snapshot and log directories (dataDir/version-2).
	DataDir, DataLogDir      string
	DataDirSize, DataLogSize int64 // bytes of files in each
	TickTime                 time.Duration
	MaxClientCnxns           int
	MinSessionTimeout        time.Duration
	MaxSessionTimeout        time.Duration
}

// Summary is a distribution ZooKeeper reports as avg/min/max/cnt/sum in mntr
// and as a Prometheus summary in /metrics.
type Summary struct {
	Count, Sum, Min, Max int64
	// Quantiles are optional estimates, e.g. {0.5, 0.95, 0.99, 0.999} as
	// ZooKeeper keeps for readlatency and updatelatency; mntr prints them as
	// p50_, p95_, p99_, p999_.
	Quantiles []Quantile
}

// Quantile is one estimated quantile of a Summary.
type Quantile struct {
	Q     float64 // 0 < Q < 1
	Value float64
}

// KV is one "key=value" line of envi.
type KV struct{ Key, Value string }

// opNames are the short names ZooKeeper's FinalRequestProcessor records as a
// connection's last operation (cons' lop=).
var opNames = map[int32]string{
	jute.OpPing:                 "PING",
	jute.OpCreateSession:        "SESS",
	jute.OpMulti:                "MULT",
	jute.OpMultiRead:            "MLTR",
	jute.OpCreate:               "CREA",
	jute.OpCreate2:              "CREA",
	jute.OpCreateTTL:            "CREA",
	jute.OpCreateContainer:      "CREA",
	jute.OpDelete:               "DELE",
	jute.OpDeleteContainer:      "DELE",
	jute.OpSetData:              "SETD",
	jute.OpReconfig:             "RECO",
	jute.OpSetACL:               "SETA",
	jute.OpCloseSession:         "CLOS",
	jute.OpSync:                 "SYNC",
	jute.OpCheck:                "CHEC",
	jute.OpExists:               "EXIS",
	jute.OpGetData:              "GETD",
	jute.OpSetWatches:           "SETW",
	jute.OpSetWatches2:          "STW2",
	jute.OpAddWatch:             "ADDW",
	jute.OpGetACL:               "GETA",
	jute.OpGetChildren:          "GETC",
	jute.OpGetChildren2:         "GETC",
	jute.OpGetAllChildrenNumber: "GETACN",
	jute.OpCheckWatches:         "CHKW",
	jute.OpRemoveWatches:        "REMW",
	jute.OpWhoAmI:               "HOMI",
	jute.OpGetEphemerals:        "GETE",
}

// OpName is the name cons shows for the last operation a connection
// performed, as ZooKeeper spells it; "NA" for an op it does not name (auth,
// sasl), which is also what a connection shows before its first request.
func OpName(op int32) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return "NA"
}
