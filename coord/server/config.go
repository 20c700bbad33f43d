package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
	"github.com/strata-dc/strata/coord/server/storage"
)

// Config is what the server needs to run. `strata coord serve` fills it
// from zoo.cfg and flags (package zoocfg); tests fill it directly.
type Config struct {
	DataDir    string // snapshots
	DataLogDir string // transaction logs; defaults to DataDir

	// ClientAddress is host:port to listen on; port 0 picks a free one.
	// Empty means 127.0.0.1:2181 — unless SecureClientAddress is set, in
	// which case there is no plaintext port at all (ZooKeeper's zoo.cfg with
	// secureClientPort and no clientPort).
	ClientAddress string
	// SecureClientAddress is host:port of ZooKeeper's secureClientPort: the
	// same protocol inside TLS, served with TLS. Empty for none.
	SecureClientAddress string
	// TLS is the secure port's configuration (ServerTLS builds it from PEM
	// files); required with SecureClientAddress. Its ClientAuth is
	// ZooKeeper's ssl.clientAuth; a verified client certificate gives the
	// connection an x509 identity (see tls.go).
	TLS *tls.Config
	// AdminAddress serves Prometheus /metrics when set.
	AdminAddress string

	TickTime          time.Duration
	MinSessionTimeout time.Duration // default 2×TickTime
	MaxSessionTimeout time.Duration // default 20×TickTime
	MaxClientCnxns    int           // per client IP; 0 = unlimited
	FourLetterWords   []string      // whitelist; "*" allows all
	SnapCount         int           // txns between snapshots
	SnapRetainCount   int           // snapshots kept by purge (min 3)
	ForceSync         bool          // fsync the log before acknowledging (on unless benchmarking)
	MaxBuffer         int           // jute.maxbuffer: largest request frame
	SuperDigest       string        // "super:<base64 sha1>" to let a digest user bypass ACLs
	PreAllocSize      int64         // bytes the log preallocates at a time (preAllocSize); 0 = storage's default

	// EnforceAuth is ZooKeeper 3.7+'s zookeeper.enforce.auth.enabled: a
	// connection must authenticate with one of EnforceAuthSchemes before
	// anything but addAuth (and sasl) is served. Any other request — ping,
	// closeSession and whoAmI included, as in ZooKeeper — is answered with
	// SESSIONCLOSEDREQUIRESASLAUTH (-124) and the connection is closed.
	// Off by default, as in ZooKeeper; `strata coord serve` turns it on
	// when it listens outside loopback. Four-letter words are not session
	// requests and stay open, as they do in ZooKeeper.
	EnforceAuth bool
	// EnforceAuthSchemes are the auth schemes that count as authenticated
	// (zookeeper.enforce.auth.schemes): "digest", or "ip" (which every
	// connection has). Empty with EnforceAuth means digest.
	EnforceAuthSchemes []string
	// CheckDigest, when set, is the list of digest users: addAuth("digest",
	// "user:password") succeeds only when it returns true (or the digest is
	// SuperDigest's), and otherwise fails with AUTHFAILED and the
	// connection is closed, as ZooKeeper ends a failed auth. Nil is
	// ZooKeeper's own behaviour: any user:password authenticates as its
	// digest, and ACLs decide what that identity may do. It must compare
	// secrets in constant time.
	CheckDigest func(user, password string) bool

	// HandshakeTimeout bounds how long a new connection may take to send
	// its connect request (or four-letter word): ZooKeeper's
	// zookeeper.nio.sessionlessCnxnTimeout, 10 s. After the handshake the
	// session timeout bounds a silent client.
	HandshakeTimeout time.Duration

	// OutstandingLimit bounds requests in flight per connection before the
	// server stops reading from it (back-pressure).
	OutstandingLimit int
	// ContainerCheckInterval is how often empty containers and expired TTL
	// nodes are looked for (ZooKeeper's znode.container.checkIntervalMs).
	ContainerCheckInterval time.Duration

	// FS is the file layer under the log and snapshots; nil is the OS.
	FS     storage.FS
	Logger *slog.Logger
	// Version is reported by srvr/stat/mntr.
	Version string
}

func (c *Config) setDefaults() {
	if c.DataLogDir == "" {
		c.DataLogDir = c.DataDir
	}
	if c.ClientAddress == "" && c.SecureClientAddress == "" {
		c.ClientAddress = "127.0.0.1:2181"
	}
	if c.TickTime <= 0 {
		c.TickTime = 2 * time.Second
	}
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
	if c.SnapCount <= 0 {
		c.SnapCount = 100000
	}
	if c.SnapRetainCount < 3 {
		c.SnapRetainCount = 3
	}
	if c.MaxBuffer <= 0 {
		c.MaxBuffer = jute.MaxBufferDefault
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.OutstandingLimit <= 0 {
		c.OutstandingLimit = 1000
	}
	if c.ContainerCheckInterval <= 0 {
		c.ContainerCheckInterval = time.Minute
	}
	if c.FourLetterWords == nil {
		c.FourLetterWords = []string{"srvr"}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Version == "" {
		c.Version = "devel"
	}
	if c.EnforceAuth && len(c.EnforceAuthSchemes) == 0 {
		c.EnforceAuthSchemes = []string{"digest"}
	}
}

func (c *Config) validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("dataDir: required")
	}
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		return fmt.Errorf("minSessionTimeout %v is above maxSessionTimeout %v", c.MinSessionTimeout, c.MaxSessionTimeout)
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	for _, scheme := range c.EnforceAuthSchemes {
		if !c.knownAuthScheme(scheme) {
			return fmt.Errorf("enforce.auth.schemes: authentication scheme %q is not available (this server has %s)", scheme, strings.Join(c.authSchemes(), ", "))
		}
	}
	return nil
}
