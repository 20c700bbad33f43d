package jute

// Op codes, as ZooDefs.OpCode.
const (
	OpNotification         int32 = 0
	OpCreate               int32 = 1
	OpDelete               int32 = 2
	OpExists               int32 = 3
	OpGetData              int32 = 4
	OpSetData              int32 = 5
	OpGetACL               int32 = 6
	OpSetACL               int32 = 7
	OpGetChildren          int32 = 8
	OpSync                 int32 = 9
	OpPing                 int32 = 11
	OpGetChildren2         int32 = 12
	OpCheck                int32 = 13
	OpMulti                int32 = 14
	OpCreate2              int32 = 15
	OpReconfig             int32 = 16
	OpCheckWatches         int32 = 17
	OpRemoveWatches        int32 = 18
	OpCreateContainer      int32 = 19
	OpDeleteContainer      int32 = 20
	OpCreateTTL            int32 = 21
	OpMultiRead            int32 = 22
	OpAuth                 int32 = 100
	OpSetWatches           int32 = 101
	OpSasl                 int32 = 102
	OpGetEphemerals        int32 = 103
	OpGetAllChildrenNumber int32 = 104
	OpSetWatches2          int32 = 105
	OpAddWatch             int32 = 106
	OpWhoAmI               int32 = 107
	OpCreateSession        int32 = -10
	OpCloseSession         int32 = -11
	OpError                int32 = -1
)

// Special xids the client and server use for out-of-band frames.
const (
	XidNotification int32 = -1
	XidPing         int32 = -2
	XidAuth         int32 = -4
	XidSetWatches   int32 = -8
)

// Error codes, as KeeperException.Code.
const (
	ErrOk                      int32 = 0
	ErrSystemError             int32 = -1
	ErrRuntimeInconsistency    int32 = -2
	ErrDataInconsistency       int32 = -3
	ErrConnectionLoss          int32 = -4
	ErrMarshallingError        int32 = -5
	ErrUnimplemented           int32 = -6
	ErrOperationTimeout        int32 = -7
	ErrBadArguments            int32 = -8
	ErrUnknownSession          int32 = -12
	ErrNewConfigNoQuorum       int32 = -13
	ErrReconfigInProgress      int32 = -14
	ErrAPIError                int32 = -100
	ErrNoNode                  int32 = -101
	ErrNoAuth                  int32 = -102
	ErrBadVersion              int32 = -103
	ErrNoChildrenForEphemerals int32 = -108
	ErrNodeExists              int32 = -110
	ErrNotEmpty                int32 = -111
	ErrSessionExpired          int32 = -112
	ErrInvalidCallback         int32 = -113
	ErrInvalidACL              int32 = -114
	ErrAuthFailed              int32 = -115
	ErrSessionMoved            int32 = -118
	ErrNotReadOnly             int32 = -119
	ErrEphemeralOnLocalSession int32 = -120
	ErrNoWatcher               int32 = -121
	ErrRequestTimeout          int32 = -122
	ErrReconfigDisabled        int32 = -123
	// ErrSessionClosedRequireAuth is SESSIONCLOSEDREQUIRESASLAUTH: the
	// server enforces authentication (zookeeper.enforce.auth.enabled) and
	// the connection sent a request before authenticating; the reply is
	// followed by the server closing the connection.
	ErrSessionClosedRequireAuth int32 = -124
	ErrQuotaExceeded            int32 = -125
	ErrThrottled                int32 = -127
)

// Watch event types, as Watcher.Event.EventType.
const (
	EventNone                   int32 = -1
	EventNodeCreated            int32 = 1
	EventNodeDeleted            int32 = 2
	EventNodeDataChanged        int32 = 3
	EventNodeChildrenChanged    int32 = 4
	EventDataWatchRemoved       int32 = 5
	EventChildWatchRemoved      int32 = 6
	EventPersistentWatchRemoved int32 = 7
)

// Keeper states carried in watch events, as Watcher.Event.KeeperState.
const (
	StateDisconnected  int32 = 0
	StateSyncConnected int32 = 3
	StateAuthFailed    int32 = 4
	StateReadOnly      int32 = 5
	StateExpired       int32 = -112
	StateClosed        int32 = 7
)

// Create mode flags, as CreateMode.
const (
	FlagPersistent                  int32 = 0
	FlagEphemeral                   int32 = 1
	FlagPersistentSequential        int32 = 2
	FlagEphemeralSequential         int32 = 3
	FlagContainer                   int32 = 4
	FlagPersistentWithTTL           int32 = 5
	FlagPersistentSequentialWithTTL int32 = 6
)

// Permission bits, as ZooDefs.Perms.
const (
	PermRead   int32 = 1
	PermWrite  int32 = 2
	PermCreate int32 = 4
	PermDelete int32 = 8
	PermAdmin  int32 = 16
	PermAll    int32 = 31
)

// Watcher types for removeWatches and checkWatches, as Watcher.WatcherType.
const (
	WatcherChildren            int32 = 1
	WatcherData                int32 = 2
	WatcherAny                 int32 = 3
	WatcherPersistent          int32 = 4
	WatcherPersistentRecursive int32 = 5
)

// AddWatch modes, as AddWatchMode.
const (
	AddWatchPersistent          int32 = 0
	AddWatchPersistentRecursive int32 = 1
)

// MaxBufferDefault is jute.maxbuffer's default (1 MiB less one byte, as
// ZooKeeper sets it): the largest request frame accepted.
const MaxBufferDefault = 0xfffff
