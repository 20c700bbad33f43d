package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/coord/server/zoocfg"
	"github.com/strata-dc/strata/master/auth"
)

func newCoordCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "coord",
		Short: "The coordination service (ZooKeeper wire protocol)",
	}
	cmd.AddCommand(newCoordServeCmd())
	return cmd
}

type coordServeFlags struct {
	config        string
	dataDir       string
	dataLogDir    string
	clientPort    int
	clientAddress string
	tickTime      time.Duration
	minSession    time.Duration
	maxSession    time.Duration
	maxClientCnxn int
	whitelist     string
	adminAddress  string
	forceSync     bool
	snapCount     int
	snapRetain    int
	superDigest   string
	containerScan time.Duration
	logLevel      string
	authenticate  string
	credentials   string

	securePort    int
	secureAddress string
	tlsCert       string
	tlsKey        string
	tlsClientCA   string
	tlsClientAuth string
}

func newCoordServeCmd() *cobra.Command {
	var f coordServeFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the embedded ZooKeeper-compatible server",
		Long: `Run Strata's embedded coordination server. It speaks ZooKeeper's client wire
protocol, so zkCli.sh, go-zookeeper, Curator and Strata's own daemons use it
unchanged. It reads a standard zoo.cfg (--config) and flags of the same names;
a flag given on the command line wins over the file.

It is a standalone server: for an ensemble, run Apache ZooKeeper and point
Strata at it with --zk zk://host1:2181,host2:2181,host3:2181/strata.

Authentication is ZooKeeper 3.7+'s enforce.auth: while it is on, a session
must addAuth with a digest (zk://user:password@host/chroot in Strata's URLs)
before anything else; any other request is answered SESSIONCLOSEDREQUIRESASLAUTH
(-124) and the connection is closed. --authenticate=auto (the default) turns it
on when the client port listens outside loopback; zoo.cfg's
enforce.auth.enabled decides when --authenticate is not given. With
--credentials only the listed principal/secret pairs pass addAuth (anything
else gets AUTHFAILED and the connection closes); without it any user:password
authenticates as its digest, as in ZooKeeper, and znode ACLs decide what it may
do (Strata's daemons create their nodes world-readable, writable by their
creator only). Four-letter words (srvr, ruok, mntr...) are answered without
authentication, as ZooKeeper does; limit them with --4lw-whitelist.

TLS is ZooKeeper's secureClientPort: --secure-client-port serves the same
protocol inside TLS with --tls-cert/--tls-key (zoo.cfg: secureClientPort,
secureClientPortAddress, ssl.keyStore.location with ssl.keyStore.type=PEM — one
PEM file with key and chain). Given without --client-port (or a zoo.cfg
clientPort) there is no plaintext port at all. --tls-client-ca
(ssl.trustStore.location) makes clients present a certificate from that CA
(--tls-client-auth, ssl.clientAuth: need by default then, or want or none); a
verified certificate is the identity x509:<subject DN>, which
enforce.auth.schemes may list. Clients: --zk-tls-ca (and --zk-tls-cert/--zk-tls-key)
on strata master, agent, marathon and chronos. Four-letter words work inside
TLS too.`,
		Example: `  strata coord serve
  strata coord serve --data-dir /var/lib/strata/coord --client-port 2181
  strata coord serve --config /etc/zookeeper/conf/zoo.cfg
  strata coord serve --client-port-address 0.0.0.0 --credentials /etc/strata/coord-credentials
  strata coord serve --secure-client-port 2281 --tls-cert coord.crt --tls-key coord.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, warnings, err := f.serverConfig(cmd.Flags())
			if err != nil {
				return usageError{err}
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
				return usageError{fmt.Errorf("--log-level: %w", err)}
			}
			cfg.Logger = newLogger(cmd.ErrOrStderr(), level)
			for _, w := range warnings {
				cfg.Logger.Warn("zoo.cfg: " + w)
			}
			if cfg.EnforceAuth && cfg.CheckDigest == nil {
				cfg.Logger.Warn("authentication is enforced without --credentials: any digest user:password authenticates; znode ACLs decide what it may do")
			}
			cfg.Version = buildVersion()
			srv, err := server.New(cfg)
			if err != nil {
				return usageError{err}
			}
			if err := srv.Start(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "strata coord serving ZooKeeper protocol on %s (data %s, %s)\n", listenSummary(srv), cfg.DataDir, authSummary(cfg))
			if a := srv.AdminAddr(); a != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "metrics on http://%s/metrics\n", a)
			}
			return srv.Run(cmd.Context())
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// register binds the flags to fs.
func (f *coordServeFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.config, "config", "", "a zoo.cfg to read (flags given explicitly override it)")
	fl.StringVar(&f.dataDir, "data-dir", ".strata/coord", "where snapshots live (zoo.cfg dataDir)")
	fl.StringVar(&f.dataLogDir, "data-log-dir", "", "where the transaction log lives (zoo.cfg dataLogDir; default: --data-dir)")
	fl.IntVar(&f.clientPort, "client-port", 2181, "client port (zoo.cfg clientPort)")
	fl.StringVar(&f.clientAddress, "client-port-address", "127.0.0.1", "address to bind (zoo.cfg clientPortAddress)")
	fl.DurationVar(&f.tickTime, "tick-time", 2*time.Second, "the basic time unit (zoo.cfg tickTime)")
	fl.DurationVar(&f.minSession, "min-session-timeout", 0, "smallest session timeout granted (default 2×tick)")
	fl.DurationVar(&f.maxSession, "max-session-timeout", 0, "largest session timeout granted (default 20×tick)")
	fl.IntVar(&f.maxClientCnxn, "max-client-cnxns", 60, "connections allowed from one IP, 0 = unlimited (zoo.cfg maxClientCnxns)")
	fl.StringVar(&f.whitelist, "4lw-whitelist", "srvr", "four-letter words allowed, comma-separated, * for all (zoo.cfg 4lw.commands.whitelist)")
	fl.StringVar(&f.adminAddress, "admin-address", "", "serve Prometheus /metrics on this host:port")
	fl.BoolVar(&f.forceSync, "force-sync", true, "fsync the log before acknowledging writes (zoo.cfg forceSync)")
	fl.IntVar(&f.snapCount, "snap-count", 100000, "transactions between snapshots (zoo.cfg snapCount)")
	fl.IntVar(&f.snapRetain, "autopurge-snap-retain-count", 3, "snapshots kept when purging (min 3)")
	fl.StringVar(&f.superDigest, "super-digest", "", "super:<base64 sha1> digest that bypasses ACLs (zookeeper.DigestAuthenticationProvider.superDigest)")
	fl.DurationVar(&f.containerScan, "container-check-interval", time.Minute, "how often empty containers and expired TTL nodes are removed (znode.container.checkIntervalMs)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.authenticate, "authenticate", "auto",
		"require sessions to authenticate (zoo.cfg enforce.auth.enabled): auto (only when listening outside loopback), true or false; bare --authenticate means true")
	fl.Lookup("authenticate").NoOptDefVal = "true"
	fl.IntVar(&f.securePort, "secure-client-port", -1, "serve the protocol inside TLS on this port, 0 for a free one (zoo.cfg secureClientPort); without --client-port, the only port")
	fl.StringVar(&f.secureAddress, "secure-client-port-address", "", "address the secure port binds (zoo.cfg secureClientPortAddress; default: --client-port-address)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate chain of the secure port (zoo.cfg ssl.keyStore.location)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of the secure port (default: --tls-cert, for a PEM key store holding both)")
	fl.StringVar(&f.tlsClientCA, "tls-client-ca", "", "PEM CA bundle client certificates must chain to (zoo.cfg ssl.trustStore.location)")
	fl.StringVar(&f.tlsClientAuth, "tls-client-auth", "", "client certificates on the secure port: none, want or need (zoo.cfg ssl.clientAuth; default need with a client CA, none without)")
	fl.StringVar(&f.credentials, "credentials", "",
		`digest users allowed to addAuth, as principal/secret pairs: JSON {"credentials":[{"principal":"p","secret":"s"}]} or "principal secret" lines`)
}

// authSummary says in a few words how the server authenticates, for the
// line printed at start.
func authSummary(cfg server.Config) string {
	switch {
	case !cfg.EnforceAuth && cfg.CheckDigest == nil:
		return "authentication not required"
	case !cfg.EnforceAuth:
		return "authentication optional, digest users from --credentials"
	case cfg.CheckDigest == nil:
		return "authentication required: " + strings.Join(cfg.EnforceAuthSchemes, ",") + ", any digest user"
	}
	return "authentication required: " + strings.Join(cfg.EnforceAuthSchemes, ",") + ", digest users from --credentials"
}

// resolveEnforceAuth decides whether sessions must authenticate: an
// explicit --authenticate wins; otherwise zoo.cfg's enforce.auth.enabled
// if the file gives it; otherwise auto, which enforces when the client
// port is reachable from other hosts (an empty address binds them all).
func (f *coordServeFlags) resolveEnforceAuth(fl *pflag.FlagSet, zc *zoocfg.Config) error {
	mode, err := auth.ParseMode(f.authenticate)
	if err != nil {
		return err
	}
	if !fl.Changed("authenticate") && zc.EnforceAuthSet {
		mode = auth.ModeOff
		if zc.EnforceAuthEnabled {
			mode = auth.ModeOn
		}
	}
	switch mode {
	case auth.ModeOn:
		zc.EnforceAuthEnabled = true
	case auth.ModeOff:
		zc.EnforceAuthEnabled = false
	case auth.ModeAuto:
		outside := func(host string) bool { return host == "" || !auth.IsLoopback(host) }
		zc.EnforceAuthEnabled = !zc.NoClientPort && outside(zc.ClientPortAddress) ||
			zc.SecureClientPort >= 0 && outside(zc.SecureClientPortAddress)
	}
	if zc.EnforceAuthEnabled && len(zc.EnforceAuthSchemes) == 0 {
		zc.EnforceAuthSchemes = []string{"digest"}
		if verifiesClientCerts(*zc) {
			// A client certificate the secure port verified is as good
			// an identity as a digest (ZooKeeper's x509 provider).
			zc.EnforceAuthSchemes = append(zc.EnforceAuthSchemes, "x509")
		}
	}
	return nil
}

// serverConfig layers defaults, then zoo.cfg, then flags set explicitly.
func (f *coordServeFlags) serverConfig(fl *pflag.FlagSet) (server.Config, []string, error) {
	zc := zoocfg.Default()
	zc.DataDir = f.dataDir
	zc.ClientPortAddress = f.clientAddress
	if f.config != "" {
		loaded, err := zoocfg.Load(f.config)
		if err != nil {
			return server.Config{}, nil, err
		}
		zc = loaded
		if zc.ClientPortAddress == "" && !fl.Changed("client-port-address") {
			// zoo.cfg without clientPortAddress binds every interface in
			// ZooKeeper; we do the same, as the file asks for.
			zc.ClientPortAddress = "0.0.0.0"
		}
	}
	set := func(name string, apply func()) {
		if f.config == "" || fl.Changed(name) {
			apply()
		}
	}
	set("data-dir", func() { zc.DataDir = f.dataDir })
	set("data-log-dir", func() {
		if f.dataLogDir != "" {
			zc.DataLogDir = f.dataLogDir
		}
	})
	set("client-port", func() { zc.ClientPort = f.clientPort })
	set("client-port-address", func() { zc.ClientPortAddress = f.clientAddress })
	set("tick-time", func() { zc.TickTime = f.tickTime })
	set("min-session-timeout", func() {
		if f.minSession > 0 {
			zc.MinSessionTimeout = f.minSession
		}
	})
	set("max-session-timeout", func() {
		if f.maxSession > 0 {
			zc.MaxSessionTimeout = f.maxSession
		}
	})
	set("max-client-cnxns", func() { zc.MaxClientCnxns = f.maxClientCnxn })
	set("4lw-whitelist", func() { zc.FourLetterWhitelist = splitList(f.whitelist) })
	set("admin-address", func() { zc.AdminAddress = f.adminAddress })
	set("force-sync", func() { zc.ForceSync = f.forceSync })
	set("snap-count", func() { zc.SnapCount = f.snapCount })
	set("autopurge-snap-retain-count", func() { zc.AutopurgeSnapRetainCount = f.snapRetain })
	set("super-digest", func() { zc.SuperDigest = f.superDigest })
	if err := f.applyTLS(fl, &zc); err != nil {
		return server.Config{}, nil, err
	}
	if !fl.Changed("min-session-timeout") && f.config == "" {
		zc.MinSessionTimeout = 0
	}
	if !fl.Changed("max-session-timeout") && f.config == "" {
		zc.MaxSessionTimeout = 0
	}
	if zc.DataLogDir == "" {
		zc.DataLogDir = zc.DataDir
	}
	if err := f.resolveEnforceAuth(fl, &zc); err != nil {
		return server.Config{}, nil, err
	}
	if err := zc.Validate(); err != nil {
		return server.Config{}, nil, err
	}
	var checkDigest func(user, password string) bool
	if f.credentials != "" {
		creds, err := auth.LoadCredentials(f.credentials)
		if err != nil {
			return server.Config{}, nil, fmt.Errorf("--credentials: %w", err)
		}
		if creds.Len() == 0 {
			return server.Config{}, nil, fmt.Errorf("--credentials %s: no principals, so nobody could authenticate", f.credentials)
		}
		checkDigest = creds.Basic
	}
	if zc.ClientPort < 0 || zc.ClientPort > 65535 {
		return server.Config{}, nil, fmt.Errorf("--client-port %d: must be 0-65535", zc.ClientPort)
	}
	clientAddress := net.JoinHostPort(zc.ClientPortAddress, strconv.Itoa(zc.ClientPort))
	if zc.NoClientPort {
		clientAddress = ""
	}
	secureAddress, tlsCfg, err := secureListener(zc, f.tlsKey)
	if err != nil {
		return server.Config{}, nil, err
	}
	return server.Config{
		DataDir:                zc.DataDir,
		DataLogDir:             zc.DataLogDir,
		ClientAddress:          clientAddress,
		SecureClientAddress:    secureAddress,
		TLS:                    tlsCfg,
		AdminAddress:           zc.AdminAddress,
		TickTime:               zc.TickTime,
		MinSessionTimeout:      zc.MinSessionTimeout,
		MaxSessionTimeout:      zc.MaxSessionTimeout,
		MaxClientCnxns:         zc.MaxClientCnxns,
		FourLetterWords:        zc.FourLetterWhitelist,
		SnapCount:              zc.SnapCount,
		SnapRetainCount:        zc.AutopurgeSnapRetainCount,
		ForceSync:              zc.ForceSync,
		MaxBuffer:              zc.JuteMaxBuffer,
		SuperDigest:            zc.SuperDigest,
		PreAllocSize:           zc.PreAllocSize,
		ContainerCheckInterval: f.containerScan,
		EnforceAuth:            zc.EnforceAuthEnabled,
		EnforceAuthSchemes:     zc.EnforceAuthSchemes,
		CheckDigest:            checkDigest,
	}, zc.Warnings, nil
}

func splitList(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, strings.TrimSpace(w))
	}
	return out
}

// applyTLS layers the secure-port flags over zoo.cfg's keys. As in
// ZooKeeper, a secure port without a plaintext one asked for (no
// --client-port, no zoo.cfg clientPort) is the only port.
func (f *coordServeFlags) applyTLS(fl *pflag.FlagSet, zc *zoocfg.Config) error {
	if fl.Changed("secure-client-port") {
		zc.SecureClientPort = f.securePort
		if f.config == "" {
			zc.NoClientPort = f.securePort >= 0 && !fl.Changed("client-port")
		}
	}
	if fl.Changed("client-port") {
		zc.NoClientPort = false
	}
	if fl.Changed("secure-client-port-address") {
		zc.SecureClientPortAddress = f.secureAddress
	} else if zc.SecureClientPortAddress == "" && (f.config == "" || fl.Changed("client-port-address")) {
		// Strata binds loopback unless told otherwise; the secure port
		// follows --client-port-address rather than ZooKeeper's
		// every-interface default, which a zoo.cfg still gets.
		zc.SecureClientPortAddress = zc.ClientPortAddress
	}
	if fl.Changed("tls-cert") {
		zc.SSL.KeyStoreLocation = f.tlsCert
	}
	if fl.Changed("tls-client-ca") {
		zc.SSL.TrustStoreLocation = f.tlsClientCA
	}
	if fl.Changed("tls-client-auth") {
		zc.SSL.ClientAuth = f.tlsClientAuth
	}
	switch {
	case zc.SecureClientPort >= 0 && zc.SSL.KeyStoreLocation == "":
		return fmt.Errorf("--secure-client-port needs --tls-cert and --tls-key (zoo.cfg ssl.keyStore.location)")
	case zc.SecureClientPort < 0 && (f.tlsCert != "" || f.tlsKey != "" || f.tlsClientCA != ""):
		return fmt.Errorf("--tls-cert, --tls-key and --tls-client-ca are for the secure client port: add --secure-client-port")
	}
	return nil
}

// secureListener builds the secure port's address and TLS configuration,
// or "" and nil without one. --tls-key defaults to the key store file.
func secureListener(zc zoocfg.Config, keyFile string) (string, *tls.Config, error) {
	if zc.SecureClientPort < 0 {
		return "", nil, nil
	}
	if keyFile == "" {
		keyFile = zc.SSL.KeyStoreLocation
	}
	cfg, err := server.ServerTLS(server.TLSFiles{CertFile: zc.SSL.KeyStoreLocation, KeyFile: keyFile,
		ClientCAFile: zc.SSL.TrustStoreLocation, ClientAuth: zc.SSL.ClientAuth})
	if err != nil {
		return "", nil, err
	}
	host := zc.SecureClientPortAddress
	if host == "" {
		host = "0.0.0.0"
	}
	return net.JoinHostPort(host, strconv.Itoa(zc.SecureClientPort)), cfg, nil
}

// verifiesClientCerts reports whether the secure port will verify client
// certificates (ssl.clientAuth want or need, need being the default with a
// trust store).
func verifiesClientCerts(zc zoocfg.Config) bool {
	if zc.SecureClientPort < 0 {
		return false
	}
	ca, err := server.ParseClientAuth(zc.SSL.ClientAuth, zc.SSL.TrustStoreLocation != "")
	return err == nil && (ca == tls.VerifyClientCertIfGiven || ca == tls.RequireAndVerifyClientCert)
}

// listenSummary names the ports a server listens on for its start line.
func listenSummary(srv *server.Server) string {
	var parts []string
	if a := srv.Addr(); a != nil {
		parts = append(parts, a.String())
	}
	if a := srv.SecureAddr(); a != nil {
		parts = append(parts, a.String()+" (TLS)")
	}
	return strings.Join(parts, " and ")
}
