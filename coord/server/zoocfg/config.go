package zoocfg

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dc/strata/coord/server/flw"
	"github.com/strata-dc/strata/coord/server/jute"
)

// Config is a parsed zoo.cfg. Durations hold what the file gives in
// milliseconds (tickTime, session timeouts) or hours (purgeInterval).
type Config struct {
	DataDir    string // snapshots; required
	DataLogDir string // transaction log; DataDir when unset

	ClientPort int // 2181 by default; 0 picks a free port
	// ClientPortAddress is the address to bind, "" for every interface as in
	// ZooKeeper (the CLI binds 127.0.0.1 when no zoo.cfg is given).
	ClientPortAddress string

	// SecureClientPort is ZooKeeper's secureClientPort: the TLS client
	// port, -1 (the default) for none, 0 for a free one. A file that gives
	// it without clientPort has no plaintext port (NoClientPort), as in
	// ZooKeeper.
	SecureClientPort int
	// SecureClientPortAddress is the address the secure port binds, ""
	// for every interface as in ZooKeeper (which does not default it to
	// clientPortAddress).
	SecureClientPortAddress string
	// NoClientPort says the file gave secureClientPort but not clientPort.
	NoClientPort bool

	// SSL is the secure port's key and trust material (ssl.* and
	// zookeeper.ssl.* keys).
	SSL SSLConfig

	TickTime time.Duration // 2s
	// MinSessionTimeout and MaxSessionTimeout bound negotiated session
	// timeouts. Parse derives unset ones (absent or -1) as 2×TickTime and
	// 20×TickTime, as ZooKeeper does; Validate treats 0 the same way, so a
	// caller that changes TickTime can zero them to have them follow.
	MinSessionTimeout, MaxSessionTimeout time.Duration

	MaxClientCnxns int // connections per client IP, 60; 0 = unlimited

	// FourLetterWhitelist is 4lw.commands.whitelist split on commas and
	// trimmed: ["srvr"] by default, ["*"] for every word. srvr is allowed
	// whatever it says, as in ZooKeeper (see flw.Allowed).
	FourLetterWhitelist []string

	AutopurgeSnapRetainCount int           // snapshots kept by purge, 3 (ZooKeeper's minimum)
	AutopurgePurgeInterval   time.Duration // how often to purge; 0 = never (the default)

	SnapCount    int   // transactions between snapshots, 100000 (at least 2)
	ForceSync    bool  // fsync the log before acknowledging; forceSync=no turns it off
	PreAllocSize int64 // bytes the log is grown by at a time; the file says KB, 64 MiB by default

	JuteMaxBuffer int // largest request frame in bytes, 1 MiB

	// AdminAddress is host:port for Prometheus /metrics, "" for none. Our
	// key is strata.adminAddress; ZooKeeper's own Prometheus settings
	// (metricsProvider.className=…PrometheusMetricsProvider with
	// metricsProvider.httpHost and httpPort) set it too, so a scrape job
	// pointed at ZooKeeper works unchanged.
	AdminAddress string

	GlobalOutstandingLimit int // requests in flight across all clients, 1000

	// SuperDigest is "super:<base64 sha1>" from
	// DigestAuthenticationProvider.superDigest: the digest identity that
	// passes every ACL.
	SuperDigest string

	// EnforceAuthEnabled is enforce.auth.enabled (ZooKeeper 3.7+'s
	// zookeeper.enforce.auth.enabled): sessions must authenticate with one
	// of EnforceAuthSchemes before anything else is served. EnforceAuthSet
	// says whether the file gave the key at all, so a caller with its own
	// default (strata coord serve enforces outside loopback) knows when the
	// file decided.
	EnforceAuthEnabled bool
	EnforceAuthSet     bool
	// EnforceAuthSchemes is enforce.auth.schemes, split on commas and
	// trimmed. ZooKeeper requires it when enforcement is on.
	EnforceAuthSchemes []string

	// Unknown holds the keys read but not acted on (initLimit, syncLimit,
	// admin.*, a lone server.1, typos, …), as ZooKeeper turns unknown keys
	// into ignored system properties. Callers log them.
	Unknown map[string]string
	// Warnings describe values that were adjusted or ignored, in ZooKeeper's
	// spirit (a snapRetainCount below 3 raised to 3, a relative dataDir).
	// Callers log them.
	Warnings []string
}

// Default is the configuration of a zoo.cfg that sets nothing but dataDir,
// with ZooKeeper 3.8's defaults.
func Default() Config {
	return Config{
		ClientPort:               2181,
		SecureClientPort:         -1,
		TickTime:                 2 * time.Second,
		MinSessionTimeout:        4 * time.Second,
		MaxSessionTimeout:        40 * time.Second,
		MaxClientCnxns:           60,
		FourLetterWhitelist:      []string{"srvr"},
		AutopurgeSnapRetainCount: minSnapRetainCount,
		SnapCount:                100000,
		ForceSync:                true,
		PreAllocSize:             64 << 20,
		JuteMaxBuffer:            jute.MaxBufferDefault,
		GlobalOutstandingLimit:   1000,
	}
}

const (
	minSnapRetainCount = 3 // PurgeTxnLog refuses to keep fewer
	minSnapCount       = 2 // SyncRequestProcessor needs at least 2
	prometheusProvider = "PrometheusMetricsProvider"
)

// serverKey matches the ensemble member lines, server.<id>=host:port:port.
var serverKey = regexp.MustCompile(`^server\.\d+$`)

// Parse reads a zoo.cfg. Syntax errors and values of the wrong type fail with
// the line and key; keys the embedded server does not act on land in
// Unknown. A zoo.cfg describing an ensemble (two or more server.N lines, or
// a dynamicConfigFile) fails: the embedded server is standalone only. Parse
// does not Validate, so that flags can fill in what the file leaves out.
func Parse(r io.Reader) (Config, error) {
	props, err := readProperties(r)
	if err != nil {
		return Config{}, err
	}
	c := Default()
	c.Unknown = map[string]string{}
	var (
		minSet, maxSet bool
		clientSet      bool
		secureSet      bool
		servers        []property
		metrics        = map[string]property{}
	)
	for _, p := range lastWins(props) {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d: %s: %s", p.line, p.key, fmt.Sprintf(format, args...))
		}
		var err error
		switch p.key {
		case "dataDir":
			c.DataDir = p.value
		case "dataLogDir":
			c.DataLogDir = p.value
		case "clientPort":
			c.ClientPort, err = parseInt(p.value)
			clientSet = true
		case "clientPortAddress":
			c.ClientPortAddress = p.value
		case "tickTime":
			c.TickTime, err = parseMillis(p.value)
		case "minSessionTimeout":
			c.MinSessionTimeout, err = parseMillis(p.value)
			minSet = c.MinSessionTimeout != -time.Millisecond
		case "maxSessionTimeout":
			c.MaxSessionTimeout, err = parseMillis(p.value)
			maxSet = c.MaxSessionTimeout != -time.Millisecond
		case "maxClientCnxns":
			c.MaxClientCnxns, err = parseInt(p.value)
		case "4lw.commands.whitelist":
			c.FourLetterWhitelist = splitWhitelist(p.value)
			for _, w := range c.FourLetterWhitelist {
				if w != "*" && !flw.Known(w) {
					c.Warnings = append(c.Warnings, fmt.Sprintf("line %d: %s: %q is not a four-letter word; ignored", p.line, p.key, w))
				}
			}
		case "autopurge.snapRetainCount":
			c.AutopurgeSnapRetainCount, err = parseInt(p.value)
		case "autopurge.purgeInterval":
			c.AutopurgePurgeInterval, err = parsePurgeInterval(p.value)
		case "snapCount":
			c.SnapCount, err = parseDecodedInt(p.value)
		case "forceSync":
			switch p.value {
			case "yes":
				c.ForceSync = true
			case "no":
				c.ForceSync = false
			default:
				// ZooKeeper reads anything but "no" as yes; refusing a typo
				// is kinder than fsyncing (or not) by surprise.
				return Config{}, fail("%q: want yes or no", p.value)
			}
		case "preAllocSize":
			var kb int64
			kb, err = strconv.ParseInt(p.value, 10, 64)
			if err == nil && (kb < 0 || kb > 1<<40) {
				err = errors.New("out of range")
			}
			c.PreAllocSize = kb << 10
		case "jute.maxbuffer":
			c.JuteMaxBuffer, err = parseDecodedInt(p.value)
		case "globalOutstandingLimit":
			c.GlobalOutstandingLimit, err = parseDecodedInt(p.value)
		case "DigestAuthenticationProvider.superDigest", "zookeeper.DigestAuthenticationProvider.superDigest":
			c.SuperDigest = p.value
		case "enforce.auth.enabled", "zookeeper.enforce.auth.enabled":
			// Boolean.parseBoolean reads anything but "true" as false; a
			// typo here would silently open the server, so it is refused.
			switch strings.ToLower(p.value) {
			case "true":
				c.EnforceAuthEnabled = true
			case "false":
				c.EnforceAuthEnabled = false
			default:
				return Config{}, fail("%q: want true or false", p.value)
			}
			c.EnforceAuthSet = true
		case "enforce.auth.schemes", "zookeeper.enforce.auth.schemes":
			c.EnforceAuthSchemes = splitWhitelist(p.value)
		case "strata.adminAddress":
			c.AdminAddress = p.value
		case "metricsProvider.className", "metricsProvider.httpHost", "metricsProvider.httpPort":
			metrics[p.key] = p
		case "secureClientPort":
			c.SecureClientPort, err = parseInt(p.value)
			secureSet = true
		case "secureClientPortAddress":
			c.SecureClientPortAddress = strings.TrimSpace(p.value)
		case "dynamicConfigFile":
			return Config{}, fail("dynamic reconfiguration is for ZooKeeper ensembles; the embedded server is standalone only — run Apache ZooKeeper for an ensemble and point Strata at it with --zk")
		default:
			if ok, serr := c.SSL.parse(p.key, p.value); ok {
				err = serr
				break
			}
			if serverKey.MatchString(p.key) {
				servers = append(servers, p)
			}
			c.Unknown[p.key] = p.value
		}
		if err != nil {
			return Config{}, fail("%q: %v", p.value, numError(err))
		}
	}
	if c.SecureClientPortAddress != "" && !secureSet {
		return Config{}, errors.New("secureClientPortAddress is set but secureClientPort is not set")
	}
	c.NoClientPort = secureSet && !clientSet

	if len(servers) > 1 {
		slices.SortFunc(servers, func(a, b property) int { return a.line - b.line })
		p := servers[1]
		return Config{}, fmt.Errorf("line %d: %s: this zoo.cfg describes a ZooKeeper ensemble of %d servers; the embedded server is standalone only — run Apache ZooKeeper for an ensemble and point Strata at it with --zk",
			p.line, p.key, len(servers))
	}
	if len(servers) == 1 {
		p := servers[0]
		c.Warnings = append(c.Warnings, fmt.Sprintf("line %d: %s: a single server runs standalone, as ZooKeeper does with standaloneEnabled=true; the line is ignored", p.line, p.key))
	}
	if err := c.applyMetricsProvider(metrics); err != nil {
		return Config{}, err
	}
	if c.AutopurgeSnapRetainCount < minSnapRetainCount {
		c.Warnings = append(c.Warnings, fmt.Sprintf("autopurge.snapRetainCount %d is below %d; using %d, as ZooKeeper does",
			c.AutopurgeSnapRetainCount, minSnapRetainCount, minSnapRetainCount))
		c.AutopurgeSnapRetainCount = minSnapRetainCount
	}
	if c.SnapCount < minSnapCount {
		c.Warnings = append(c.Warnings, fmt.Sprintf("snapCount %d is below %d; using %d, as ZooKeeper does", c.SnapCount, minSnapCount, minSnapCount))
		c.SnapCount = minSnapCount
	}
	if !minSet {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if !maxSet {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
	if c.DataLogDir == "" {
		c.DataLogDir = c.DataDir
	}
	return c, nil
}

// applyMetricsProvider maps ZooKeeper's Prometheus exporter settings onto
// AdminAddress (unless strata.adminAddress already set it), so the scrape
// target stays where it was. Other providers have no equivalent here.
func (c *Config) applyMetricsProvider(m map[string]property) error {
	class, ok := m["metricsProvider.className"]
	if !ok || !strings.HasSuffix(class.value, "."+prometheusProvider) && class.value != prometheusProvider {
		for _, p := range m {
			c.Unknown[p.key] = p.value
		}
		if ok && class.value != "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("line %d: %s: metrics provider %q is not supported; mntr and strata.adminAddress's /metrics are",
				class.line, class.key, class.value))
		}
		return nil
	}
	port, ok := m["metricsProvider.httpPort"]
	if !ok {
		return fmt.Errorf("line %d: %s: %s needs metricsProvider.httpPort", class.line, class.key, prometheusProvider)
	}
	if _, err := parseInt(port.value); err != nil {
		return fmt.Errorf("line %d: %s: %q: %v", port.line, port.key, port.value, numError(err))
	}
	host := "0.0.0.0" // the provider's default
	if h, ok := m["metricsProvider.httpHost"]; ok {
		host = h.value
	}
	if c.AdminAddress == "" {
		c.AdminAddress = net.JoinHostPort(host, port.value)
	}
	return nil
}

// lastWins keeps the last occurrence of each key, in file order: Properties
// keeps the last value of a repeated key.
func lastWins(props []property) []property {
	last := map[string]int{}
	for i, p := range props {
		last[p.key] = i
	}
	var out []property
	for i, p := range props {
		if last[p.key] == i {
			out = append(out, p)
		}
	}
	return out
}

// Load reads the zoo.cfg at path. A relative dataDir or dataLogDir is made
// absolute against the working directory, which is what the JVM resolves a
// relative java.io.File against, and is warned about unless it starts with
// "./", as ZooKeeper warns.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("read zoo.cfg: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	for _, d := range []struct {
		key string
		dir *string
	}{{"dataDir", &c.DataDir}, {"dataLogDir", &c.DataLogDir}} {
		if *d.dir == "" || filepath.IsAbs(*d.dir) {
			continue
		}
		if !strings.HasPrefix(*d.dir, "."+string(filepath.Separator)) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s %s is relative to the working directory; prepend ./ to say you mean it", d.key, *d.dir))
		}
		abs, err := filepath.Abs(*d.dir)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %s %s: %w", path, d.key, *d.dir, err)
		}
		*d.dir = abs
	}
	return c, nil
}

// Validate checks the configuration as the server will use it, after flags
// have been layered over the file, and names each offending zoo.cfg key.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.DataDir == "" {
		bad("dataDir: required")
	}
	if c.ClientPort < 0 || c.ClientPort > 65535 {
		bad("clientPort %d: must be 0-65535", c.ClientPort)
	}
	if a := c.ClientPortAddress; a != "" && net.ParseIP(a) == nil && !validHostname(a) {
		bad("clientPortAddress %q: not an IP address or host name", a)
	}
	if c.SecureClientPort < -1 || c.SecureClientPort > 65535 {
		bad("secureClientPort %d: must be 0-65535", c.SecureClientPort)
	}
	if a := c.SecureClientPortAddress; a != "" && net.ParseIP(a) == nil && !validHostname(a) {
		bad("secureClientPortAddress %q: not an IP address or host name", a)
	}
	if c.SecureClientPort >= 0 {
		errs = append(errs, c.SSL.validate()...)
	}
	if c.TickTime <= 0 || c.TickTime%time.Millisecond != 0 {
		bad("tickTime %v: must be a positive whole number of milliseconds", c.TickTime)
	} else {
		minT, maxT := c.SessionTimeouts()
		switch {
		case minT < 0:
			bad("minSessionTimeout %v: must not be negative", minT)
		case maxT < 0:
			bad("maxSessionTimeout %v: must not be negative", maxT)
		case minT > maxT:
			bad("minSessionTimeout %v must not be larger than maxSessionTimeout %v", minT, maxT)
		}
	}
	if c.MaxClientCnxns < 0 {
		bad("maxClientCnxns %d: must be 0 (unlimited) or more", c.MaxClientCnxns)
	}
	if c.AutopurgeSnapRetainCount < minSnapRetainCount {
		bad("autopurge.snapRetainCount %d: must be at least %d", c.AutopurgeSnapRetainCount, minSnapRetainCount)
	}
	if c.AutopurgePurgeInterval < 0 {
		bad("autopurge.purgeInterval %v: must not be negative", c.AutopurgePurgeInterval)
	}
	if c.SnapCount < minSnapCount {
		bad("snapCount %d: must be at least %d", c.SnapCount, minSnapCount)
	}
	if c.PreAllocSize < 0 {
		bad("preAllocSize %d: must not be negative", c.PreAllocSize)
	}
	if c.JuteMaxBuffer <= 0 {
		bad("jute.maxbuffer %d: must be positive", c.JuteMaxBuffer)
	}
	if c.GlobalOutstandingLimit <= 0 {
		bad("globalOutstandingLimit %d: must be positive", c.GlobalOutstandingLimit)
	}
	if d := c.SuperDigest; d != "" {
		if user, hash, ok := strings.Cut(d, ":"); !ok || user == "" || hash == "" {
			bad("DigestAuthenticationProvider.superDigest: want user:base64-sha1-digest, not %q", d)
		}
	}
	if c.EnforceAuthEnabled && len(c.EnforceAuthSchemes) == 0 {
		bad("enforce.auth.enabled is true but enforce.auth.schemes is not set (ZooKeeper requires it; digest is the scheme Strata's clients use)")
	}
	for _, scheme := range c.EnforceAuthSchemes {
		if scheme != "digest" && scheme != "ip" && !(scheme == "x509" && c.SecureClientPort >= 0) {
			bad("enforce.auth.schemes: authentication scheme %q is not available (the embedded server has digest and ip, and x509 with a secureClientPort)", scheme)
		}
	}
	if a := c.AdminAddress; a != "" {
		if _, port, err := net.SplitHostPort(a); err != nil {
			bad("strata.adminAddress %q: %v", a, err)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("strata.adminAddress %q: port must be 0-65535", a)
		}
	}
	return errors.Join(errs...)
}

// SessionTimeouts are the bounds the server clamps session timeouts to: the
// configured ones, or 2×TickTime and 20×TickTime where they are 0.
func (c Config) SessionTimeouts() (minTimeout, maxTimeout time.Duration) {
	minTimeout, maxTimeout = c.MinSessionTimeout, c.MaxSessionTimeout
	if minTimeout == 0 {
		minTimeout = 2 * c.TickTime
	}
	if maxTimeout == 0 {
		maxTimeout = 20 * c.TickTime
	}
	return minTimeout, maxTimeout
}

// IgnoredKeys lists Unknown's keys in order, for a log line.
func (c Config) IgnoredKeys() []string {
	keys := make([]string, 0, len(c.Unknown))
	for k := range c.Unknown {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// splitWhitelist splits 4lw.commands.whitelist as ZooKeeper does: on commas,
// trimmed, empty entries dropped.
func splitWhitelist(v string) []string {
	out := []string{}
	for _, w := range strings.Split(v, ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// parseInt is Integer.parseInt: decimal, optional sign, 32 bits.
func parseInt(v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	return int(n), err
}

// parseDecodedInt is Integer.decode, which Integer.getInteger uses for the
// settings ZooKeeper reads as system properties: also 0x, # and 0 prefixes.
func parseDecodedInt(v string) (int, error) {
	s, neg := v, false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		s, neg = rest, true
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"), strings.HasPrefix(s, "0X"):
		s, base = s[2:], 16
	case strings.HasPrefix(s, "#"):
		s, base = s[1:], 16
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return 0, err
	}
	if neg {
		n = -n
	}
	if n < -1<<31 || n > 1<<31-1 {
		return 0, strconv.ErrRange
	}
	return int(n), nil
}

// parseMillis reads a millisecond count (tickTime, session timeouts).
func parseMillis(v string) (time.Duration, error) {
	n, err := parseInt(v)
	return time.Duration(n) * time.Millisecond, err
}

// parsePurgeInterval reads autopurge.purgeInterval: a bare number is hours,
// as in ZooKeeper 3.8; later releases also accept a unit suffix (ms, s, m,
// h, d), which we accept too.
func parsePurgeInterval(v string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	lower := strings.ToLower(v)
	for _, u := range units {
		if num, ok := strings.CutSuffix(lower, u.suffix); ok && num != "" && num[len(num)-1] >= '0' && num[len(num)-1] <= '9' {
			n, err := parseInt(num)
			return time.Duration(n) * u.unit, err
		}
	}
	n, err := parseInt(v)
	return time.Duration(n) * time.Hour, err
}

// numError turns strconv's errors into words for an operator.
func numError(err error) string {
	switch {
	case errors.Is(err, strconv.ErrRange):
		return "out of range"
	case errors.Is(err, strconv.ErrSyntax):
		return "not a number"
	}
	return err.Error()
}

// validHostname accepts the characters of a DNS name, so a typo is caught
// here without resolving anything.
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
