package coord

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultPort is the client port assumed for a server written without one,
// as ZooKeeper's own connect-string parser does.
const DefaultPort = 2181

// URL is a parsed Mesos-style ZooKeeper address,
//
//	zk://[user:password@]host:port[,host:port…]/chroot
//
// the form every Strata daemon takes in --zk and --master. User and
// Password, when set, are digest credentials the session presents (and
// presents again after every reconnect and on every new session).
type URL struct {
	Servers  []string // host:port, in the order written
	Chroot   string   // absolute, normalized ZooKeeper path; "/" for none
	User     string   // digest user; empty without credentials
	Password string
}

// ParseURL parses the --zk form. It accepts exactly the zk:// scheme, needs
// at least one server, fills in DefaultPort for a server without a port,
// and normalizes the chroot ("zk://h:2181" and "zk://h:2181/" mean chroot
// "/", a trailing slash is dropped). Errors name the part that is wrong and
// never repeat the password.
func ParseURL(s string) (URL, error) {
	var u URL
	raw := strings.TrimSpace(s)
	fail := func(format string, args ...any) (URL, error) {
		return URL{}, fmt.Errorf("coord: zk URL %q: %s", redactRaw(raw), fmt.Sprintf(format, args...))
	}

	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return fail("missing scheme: want zk://host:port/path")
	}
	if scheme != "zk" {
		return fail("scheme %q is not supported: want zk://", scheme)
	}
	if strings.ContainsAny(rest, "?#") {
		return fail("query strings and fragments are not supported")
	}

	// The chroot starts at the first slash; credentials end at the last '@'
	// before it, so a password may itself contain '@'.
	authority, chroot := rest, "/"
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, chroot = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		creds := authority[:i]
		authority = authority[i+1:]
		user, pass, ok := strings.Cut(creds, ":")
		if !ok {
			return fail("credentials must be user:password")
		}
		if user == "" {
			return fail("credentials have an empty user")
		}
		u.User, u.Password = user, pass
	}

	if authority == "" {
		return fail("no servers: want host:port[,host:port…]")
	}
	for _, hp := range strings.Split(authority, ",") {
		server, err := parseServer(hp)
		if err != nil {
			return fail("server %q: %v", hp, err)
		}
		u.Servers = append(u.Servers, server)
	}

	if len(chroot) > 1 {
		chroot = strings.TrimSuffix(chroot, "/")
	}
	if err := validatePath(chroot); err != nil {
		return fail("chroot %q: %v", chroot, err)
	}
	u.Chroot = chroot
	return u, nil
}

// parseServer checks one host[:port] and returns it as host:port.
func parseServer(hp string) (string, error) {
	if hp == "" {
		return "", errors.New("empty server (stray comma?)")
	}
	host, port := hp, strconv.Itoa(DefaultPort)
	if strings.HasPrefix(hp, "[") && strings.HasSuffix(hp, "]") { // [v6] without a port
		host = hp[1 : len(hp)-1]
	} else if strings.HasPrefix(hp, "[") || strings.Count(hp, ":") == 1 {
		h, p, err := net.SplitHostPort(hp)
		if err != nil {
			return "", fmt.Errorf("want host:port: %v", err)
		}
		host, port = h, p
	} else if strings.Contains(hp, ":") {
		return "", errors.New("IPv6 addresses must be bracketed: [addr]:port")
	}
	if host == "" {
		return "", errors.New("empty host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number in 1-65535", port)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// String formats u in the --zk form, password included, so it round-trips
// through ParseURL. Use Redacted for logs.
func (u URL) String() string {
	return u.format(u.Password)
}

// Redacted is String with the password replaced by "xxxxx".
func (u URL) Redacted() string {
	if u.Password == "" {
		return u.format("")
	}
	return u.format("xxxxx")
}

func (u URL) format(password string) string {
	var b strings.Builder
	b.WriteString("zk://")
	if u.User != "" {
		b.WriteString(u.User)
		b.WriteByte(':')
		b.WriteString(password)
		b.WriteByte('@')
	}
	b.WriteString(strings.Join(u.Servers, ","))
	b.WriteString(u.Chroot)
	return b.String()
}

// redactRaw hides the password of an unparsed URL for error messages.
func redactRaw(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(authority[:at], ":")
	if !hasPass {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
