package tree

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-dc/strata/coord/server/jute"
)

// Common ACL lists, as ZooDefs.Ids.
var (
	// OpenACL is world:anyone with every permission.
	OpenACL = []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	// ReadACL is world:anyone read-only (what /zookeeper/config carries).
	ReadACL = []jute.ACL{{Perms: jute.PermRead, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
)

// aclCache interns ACL lists, as ZooKeeper's ReferenceCountedACLCache does:
// nodes hold a small index and share one copy of each distinct list. Lists
// are immutable once interned and freed when their last node goes.
type aclCache struct {
	lists [][]jute.ACL
	refs  []int64
	index map[string]uint32
	free  []uint32
	key   []byte // scratch for building lookup keys
}

func newACLCache() *aclCache { return &aclCache{index: make(map[string]uint32)} }

func (c *aclCache) keyOf(acl []jute.ACL) []byte {
	k := c.key[:0]
	for _, a := range acl {
		k = binary.BigEndian.AppendUint32(k, uint32(a.Perms))
		k = binary.AppendUvarint(k, uint64(len(a.ID.Scheme)))
		k = append(k, a.ID.Scheme...)
		k = binary.AppendUvarint(k, uint64(len(a.ID.ID)))
		k = append(k, a.ID.ID...)
	}
	c.key = k
	return k
}

// acquire returns the index of acl's interned copy, adding a reference.
func (c *aclCache) acquire(acl []jute.ACL) uint32 {
	k := c.keyOf(acl)
	if i, ok := c.index[string(k)]; ok {
		c.refs[i]++
		return i
	}
	var i uint32
	if n := len(c.free); n > 0 {
		i = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		i = uint32(len(c.lists))
		c.lists = append(c.lists, nil)
		c.refs = append(c.refs, 0)
	}
	c.lists[i] = slices.Clone(acl)
	c.refs[i] = 1
	c.index[string(k)] = i
	return i
}

// release drops a reference and frees the list when none remain.
func (c *aclCache) release(i uint32) {
	c.refs[i]--
	if c.refs[i] > 0 {
		return
	}
	delete(c.index, string(c.keyOf(c.lists[i])))
	c.lists[i] = nil
	c.free = append(c.free, i)
}

func (c *aclCache) get(i uint32) []jute.ACL { return c.lists[i] }

// live is the number of distinct lists in use.
func (c *aclCache) live() int { return len(c.lists) - len(c.free) }

// fixupACL validates a create or setACL list and expands the "auth" scheme
// into the caller's authenticated identities, as PrepRequestProcessor's
// fixupACL: duplicates are dropped, an empty list is invalid, world must be
// "anyone", "auth" needs at least one digest (or x509) identity (ip
// identities are not "authenticated"), and digest and ip ids must be well
// formed. x509 ids are valid when Ctx.X509 says the scheme is registered;
// every other scheme is invalid: this server has only the ip, digest and
// x509 providers.
func fixupACL(acl []jute.ACL, c *Ctx) ([]jute.ACL, bool) {
	if len(acl) == 1 && acl[0].ID.Scheme == "world" && acl[0].ID.ID == "anyone" {
		return acl, true // the common case, without copying
	}
	uniq := make([]jute.ACL, 0, len(acl))
	for _, a := range acl {
		if !slices.Contains(uniq, a) {
			uniq = append(uniq, a)
		}
	}
	if len(uniq) == 0 {
		return nil, false
	}
	out := make([]jute.ACL, 0, len(uniq))
	for _, a := range uniq {
		switch a.ID.Scheme {
		case "world":
			if a.ID.ID != "anyone" {
				return nil, false
			}
			out = append(out, a)
		case "auth":
			found := false
			for _, id := range c.Auth {
				if id.Scheme == "digest" || id.Scheme == "x509" && c.X509 {
					found = true
					out = append(out, jute.ACL{Perms: a.Perms, ID: id})
				}
			}
			if !found {
				return nil, false
			}
		case "digest":
			if javaSplitLen(a.ID.ID, ":") != 2 {
				return nil, false
			}
			out = append(out, a)
		case "ip":
			if _, _, ok := parseIPACL(a.ID.ID); !ok {
				return nil, false
			}
			out = append(out, a)
		case "x509":
			// X509AuthenticationProvider.isValid accepts any id.
			if !c.X509 {
				return nil, false
			}
			out = append(out, a)
		default:
			return nil, false
		}
	}
	return out, true
}

// javaSplitLen is len(s.split(sep)) in Java: trailing empty strings are
// dropped, and a string without sep splits into itself.
func javaSplitLen(s, sep string) int {
	parts := strings.Split(s, sep)
	if len(parts) == 1 {
		return 1
	}
	n := len(parts)
	for n > 0 && parts[n-1] == "" {
		n--
	}
	return n
}

// allowed reports whether identities auth (or super) grant perm on a node
// with acl, as ZooKeeperServer.checkACL: an empty list allows everything,
// world:anyone matches everyone, digest ids match exactly, ip ids match
// by address and prefix length.
func allowed(acl []jute.ACL, perm int32, auth []jute.Id, super bool) bool {
	if super || len(acl) == 0 {
		return true
	}
	for _, id := range auth {
		if id.Scheme == "super" {
			return true
		}
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		switch a.ID.Scheme {
		case "world":
			if a.ID.ID == "anyone" {
				return true
			}
		case "digest":
			for _, id := range auth {
				if id.Scheme == "digest" && id.ID == a.ID.ID {
					return true
				}
			}
		case "ip":
			for _, id := range auth {
				if id.Scheme == "ip" && ipMatches(id.ID, a.ID.ID) {
					return true
				}
			}
		case "x509":
			// Only a verified certificate gives an x509 id; the subject
			// DN must match exactly (X509AuthenticationProvider.matches).
			for _, id := range auth {
				if id.Scheme == "x509" && id.ID == a.ID.ID {
					return true
				}
			}
		}
	}
	return false
}

// parseIPACL parses "a.b.c.d[/bits]" as IPAuthenticationProvider does (IPv4
// only, as in ZooKeeper 3.8).
func parseIPACL(expr string) (addr [4]byte, bits int, ok bool) {
	a, b, hasBits := strings.Cut(expr, "/")
	addr, ok = parseIPv4(a)
	if !ok {
		return addr, 0, false
	}
	bits = 32
	if hasBits {
		v, err := strconv.ParseInt(b, 10, 32)
		if err != nil || v < 0 || v > 32 {
			return addr, 0, false
		}
		bits = int(v)
	}
	return addr, bits, true
}

func parseIPv4(s string) (b [4]byte, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return b, false
	}
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 32)
		if err != nil || v < 0 || v > 255 {
			return b, false
		}
		b[i] = byte(v)
	}
	return b, true
}

func maskIPv4(b *[4]byte, bits int) {
	for i := range b {
		switch keep := bits - 8*i; {
		case keep <= 0:
			b[i] = 0
		case keep < 8:
			b[i] &= ^byte(0xff >> keep)
		}
	}
}

func ipMatches(client, expr string) bool {
	acl, bits, ok := parseIPACL(expr)
	if !ok {
		return false
	}
	addr, ok := parseIPv4(client)
	if !ok {
		return false
	}
	maskIPv4(&acl, bits)
	maskIPv4(&addr, bits)
	return acl == addr
}

// DigestID is the digest-scheme id ZooKeeper's DigestAuthenticationProvider
// derives from "user:password": "user:" + base64(sha1("user:password")).
// addAuth("digest", "user:password") authenticates as this id, and it is
// the form a super digest is configured in.
func DigestID(userColonPassword string) string {
	user, _, _ := strings.Cut(userColonPassword, ":")
	sum := sha1.Sum([]byte(userColonPassword))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// maskDigests hides digest hashes from a getACL caller without ADMIN
// permission ("user:hash" becomes "user:x"), as FinalRequestProcessor does.
func maskDigests(acl []jute.ACL) []jute.ACL {
	out := slices.Clone(acl)
	for i := range out {
		if out[i].ID.Scheme == "digest" {
			if user, _, ok := strings.Cut(out[i].ID.ID, ":"); ok {
				out[i].ID.ID = user + ":x"
			}
		}
	}
	return out
}
