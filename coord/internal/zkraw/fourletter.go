package zkraw

import (
	"fmt"
	"io"
	"net"
	"time"
)

// FourLetter sends a four-letter word (ruok, srvr, mntr …) on a fresh
// connection and returns everything the server writes before closing it.
// A command outside the server's whitelist typically yields an explanatory
// line, not an error.
func FourLetter(addr, cmd string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return "", fmt.Errorf("zkraw: %s: dial %s: %w", cmd, addr, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(nc, cmd); err != nil {
		return "", fmt.Errorf("zkraw: %s: send to %s: %w", cmd, addr, err)
	}
	out, err := io.ReadAll(nc)
	if err != nil {
		return string(out), fmt.Errorf("zkraw: %s: read from %s: %w", cmd, addr, err)
	}
	return string(out), nil
}
