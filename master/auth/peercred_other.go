//go:build !linux

package auth

import (
	"errors"
	"net"
)

// peerCred is Linux-only; elsewhere the control socket's mode (0600) is
// the only guard and callers must present a token.
func peerCred(*net.UnixConn) (PeerCred, error) {
	return PeerCred{}, errors.New("peer credentials are not supported on this OS")
}
