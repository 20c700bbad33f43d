package server

import (
	"slices"
	"strings"

	"github.com/strata-dc/strata/coord/server/jute"
	"github.com/strata-dc/strata/coord/server/tree"
)

// Authentication follows ZooKeeper 3.8: addAuth adds identities to the
// connection (ServerCnxn.authInfo), ACLs decide what they may do, and with
// zookeeper.enforce.auth.enabled a connection that has no identity of an
// enforced scheme is refused before its request reaches the tree
// (ZooKeeperServer.processPacket → AuthenticationHelper.enforceAuthentication).

// knownAuthScheme reports whether this server has an authentication
// provider for scheme, as ZooKeeper's ProviderRegistry does: ip and digest
// always, x509 when a secure port may verify client certificates (sasl
// needs a provider this server lacks).
func (c *Config) knownAuthScheme(scheme string) bool {
	return slices.Contains(c.authSchemes(), scheme)
}

// authSchemes lists the schemes knownAuthScheme accepts, for errors.
func (c *Config) authSchemes() []string {
	schemes := []string{"digest", "ip"}
	if c.verifiesClientCerts() {
		schemes = append(schemes, "x509")
	}
	return schemes
}

// authenticated reports whether a connection's identities include one of
// the enforced schemes (AuthenticationHelper.isCnxnAuthenticated).
func (s *Server) authenticated(auth []jute.Id) bool {
	for _, id := range auth {
		if slices.Contains(s.cfg.EnforceAuthSchemes, id.Scheme) {
			return true
		}
	}
	return false
}

// refuseUnauthenticated answers a request from a connection that has not
// authenticated while enforcement is on, as AuthenticationHelper does:
// the reply carries the request's xid, zxid 0 and
// SESSIONCLOSEDREQUIRESASLAUTH, then the connection closes. addAuth and
// sasl are how a client authenticates, so they pass (ZooKeeper handles
// both before enforcing); everything else — ping, closeSession, whoAmI,
// setWatches, unknown or malformed requests — is refused. The session is
// not closed: like ZooKeeper's, it expires after its timeout unless the
// client comes back and authenticates first. Nothing the connection sent
// after the refused request is served (ZooKeeper stops reading it).
func (s *Server) refuseUnauthenticated(r *request, p *pending) bool {
	if !s.cfg.EnforceAuth || r.op == jute.OpAuth || r.op == jute.OpSasl || s.authenticated(r.c.auth) {
		return false
	}
	c := r.c
	s.log.Warn("closing connection: request before authentication", "remote", c.remote, "session", hexID(c.session),
		"op", r.op, "schemes", s.cfg.EnforceAuthSchemes)
	c.refuse()
	p.reply.hdr = jute.ReplyHeader{Xid: r.xid, Zxid: 0, Err: jute.ErrSessionClosedRequireAuth}
	p.reply.close = true
	p.zxidFixed = true
	p.need = s.tree.LastZxid()
	return true
}

// addAuth handles addAuth: digest ids are added to the connection, the
// super digest lifts ACL checks, anything else fails the auth and — as
// ZooKeeper does — ends the connection. With CheckDigest, a digest user
// it does not accept fails the same way.
func (s *Server) addAuth(c *conn, a *jute.AuthPacket, p *pending) {
	// The reply echoes the request's xid (go-zookeeper sends a positive
	// one; ZooKeeper's own client -4) and carries zxid 0, as ZooKeeper's.
	p.zxidFixed = true
	switch a.Scheme {
	case "digest":
	case "x509":
		// X509AuthenticationProvider.handleAuthentication: the identity
		// comes from the verified certificate the TLS handshake saw, never
		// from the packet; without one the auth fails.
		if !slices.ContainsFunc(c.auth, func(id jute.Id) bool { return id.Scheme == "x509" }) {
			s.authFailed(c, a.Scheme, "", p)
		}
		return
	case "ip":
		// IPAuthenticationProvider adds the peer's address whatever the
		// packet says; the connection has it from the handshake already.
		return
	default:
		s.authFailed(c, a.Scheme, "", p)
		return
	}
	id := tree.DigestID(string(a.Auth))
	isSuper := s.cfg.SuperDigest != "" && id == s.cfg.SuperDigest
	if s.cfg.CheckDigest != nil && !isSuper {
		user, password, ok := strings.Cut(string(a.Auth), ":")
		if !ok || !s.cfg.CheckDigest(user, password) {
			s.authFailed(c, a.Scheme, user, p)
			return
		}
	}
	add := func(n jute.Id) {
		for _, have := range c.auth {
			if have == n {
				return
			}
		}
		c.auth = append(c.auth, n)
	}
	add(jute.Id{Scheme: "digest", ID: id})
	if isSuper {
		c.super = true
		add(jute.Id{Scheme: "super", ID: ""})
	}
	s.tree.SetAuth(c.session, c.auth, c.super)
	c.publish()
}

// authFailed answers AUTHFAILED and closes the connection after the reply,
// as ZooKeeper does for a scheme it has no provider for or credentials its
// provider rejects. The user is logged, never the secret.
func (s *Server) authFailed(c *conn, scheme, user string, p *pending) {
	s.log.Warn("closing connection: authentication failed", "remote", c.remote, "session", hexID(c.session),
		"scheme", scheme, "user", user)
	p.reply.hdr.Err = jute.ErrAuthFailed
	p.reply.close = true
	c.refuse()
}

// refuse stops serving a connection whose refusal is on its way: the
// processor drops its later requests and the reader stops answering reads
// itself.
func (c *conn) refuse() {
	c.refused = true
	c.ident.Store(nil)
}

func (s *Server) whoAmI(c *conn) *jute.WhoAmIResponse {
	r := &jute.WhoAmIResponse{}
	for _, id := range c.auth {
		user := id.ID
		if id.Scheme == "digest" {
			user, _, _ = strings.Cut(id.ID, ":")
		}
		r.ClientInfo = append(r.ClientInfo, jute.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	return r
}
