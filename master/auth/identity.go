package auth

import (
	"context"
	"net"
	"os"
)

// Method says how a caller was authenticated.
type Method string

// Authentication methods.
const (
	Anonymous   Method = ""       // nobody: optional authentication, nothing presented
	Bearer      Method = "bearer" // Authorization: Bearer <secret>
	Basic       Method = "basic"  // Authorization: Basic principal:secret
	Peer        Method = "peer"   // the control socket's owner (SO_PEERCRED)
	Certificate Method = "tls"    // a verified TLS client certificate
)

// Identity is who a request comes from.
type Identity struct {
	Principal string // "" when anonymous
	Method    Method
}

type identityKey struct{}
type peerKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityOf returns the identity the middleware put in ctx.
func IdentityOf(ctx context.Context) Identity {
	id, _ := ctx.Value(identityKey{}).(Identity)
	return id
}

// PrincipalOf is IdentityOf(ctx).Principal: "" for anonymous callers.
func PrincipalOf(ctx context.Context) string { return IdentityOf(ctx).Principal }

// PeerCred is what the kernel says about a Unix socket's peer.
type PeerCred struct {
	UID, GID uint32
	PID      int32
}

// ConnContext is an http.Server ConnContext: for a Unix-socket connection
// it records the peer's credentials (SO_PEERCRED), which the middleware
// uses to trust the control socket's owner.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	if pc, err := peerCred(uc); err == nil {
		return context.WithValue(ctx, peerKey{}, pc)
	}
	return ctx
}

// PeerOf returns the Unix peer's credentials recorded by ConnContext.
func PeerOf(ctx context.Context) (PeerCred, bool) {
	pc, ok := ctx.Value(peerKey{}).(PeerCred)
	return pc, ok
}

// trustedPeer: the daemon's own user, or root, owns the control socket.
func trustedPeer(pc PeerCred) bool {
	return pc.UID == 0 || int(pc.UID) == os.Getuid()
}
