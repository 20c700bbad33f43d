// Package auth is how every Strata daemon decides who is calling and what
// they may do: the master and the agent use it today, and marathon and
// chronos adopt it with a few lines (see Settings).
//
// The model is Mesos':
//
//   - Authentication: principals and their secrets come from a
//     credentials file ({"credentials":[{"principal":..,"secret":..}]},
//     Mesos' --credentials). A client presents its secret as a bearer
//     token ("Authorization: Bearer <secret>") or with HTTP Basic
//     (principal:secret). Secrets are compared in constant time. The
//     control socket (a Unix socket, mode 0600) needs no token: a peer
//     whose uid is the daemon's own, or root, is the operator principal.
//     A TLS client certificate verified against --tls-client-ca
//     authenticates as its subject's common name.
//   - When authentication is required: --authenticate takes auto (the
//     default), true or false. Auto means required when the TCP listener
//     is not loopback, optional on loopback, so `strata up` on a laptop
//     works without credentials and a daemon on a real interface refuses
//     anonymous callers. Optional still checks a token that is presented:
//     a wrong one is 401, never anonymous. Read-only GETs (/state,
//     /metrics) are authenticated only with --authenticate-http-readonly
//     (Mesos' default is off); /health never is.
//   - Authorization: an ACL file in Mesos' JSON form (--acls), rules per
//     action evaluated first-match, "permissive" deciding when no rule
//     matches. A denial is 403 with a body naming the rule.
//   - Rate limits: Mesos' --rate_limits JSON, per principal, token
//     buckets; an exhausted bucket is 429 with Retry-After.
//   - TLS: --tls-cert/--tls-key on every TCP listener.
//   - Secrets are of type Secret, whose every printed form is redacted,
//     so a credential in a log line, a metric or GET_FLAGS shows as
//     Redacted.
//
// A daemon wires it as:
//
//	var s auth.Settings
//	s.Register(cmd.Flags())                 // --authenticate, --credentials, --acls, --tls-*, ...
//	srv, err := s.Load(ip)                   // files read, --authenticate resolved for ip
//	ln = srv.Listener(ln)                    // TLS when configured
//	httpSrv.Handler = srv.Handler(mux)       // 401 / principal in context
//	httpSrv.ConnContext = auth.ConnContext   // control-socket peer uid
//	if err := srv.ACLs.Check(auth.RegisterFrameworks, auth.PrincipalOf(r.Context()), role); err != nil {
//		auth.WriteError(w, err)              // 403 naming the rule
//	}
package auth
