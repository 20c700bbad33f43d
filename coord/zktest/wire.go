package zktest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// CloseSession ends a live session from outside its owner, the way the
// ZooKeeper test suites expire a session: it attaches to the session on a
// second connection (same id and password) and sends closeSession. The
// server deletes the session's ephemeral nodes at once and closes its
// connections; the owner's client learns the session is expired when it
// next reconnects. Route the owner through a blocked Proxy first when the
// test needs the owner to stay away until told.
func CloseSession(addr string, sessionID int64, passwd []byte) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("close session %#x: %w", sessionID, err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}

	// ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId,
	// passwd (length-prefixed), readOnly.
	req := binary.BigEndian.AppendUint32(nil, 0)
	req = binary.BigEndian.AppendUint64(req, 0)
	req = binary.BigEndian.AppendUint32(req, 30000)
	req = binary.BigEndian.AppendUint64(req, uint64(sessionID))
	req = binary.BigEndian.AppendUint32(req, uint32(len(passwd)))
	req = append(req, passwd...)
	req = append(req, 0)
	if err := writeFrame(c, req); err != nil {
		return fmt.Errorf("close session %#x: connect: %w", sessionID, err)
	}
	resp, err := readFrame(c)
	if err != nil {
		return fmt.Errorf("close session %#x: connect reply: %w", sessionID, err)
	}
	// ConnectResponse: protocolVersion, timeOut, sessionId, passwd.
	if len(resp) < 16 {
		return fmt.Errorf("close session %#x: short connect reply (%d bytes)", sessionID, len(resp))
	}
	if got := int64(binary.BigEndian.Uint64(resp[8:16])); got != sessionID {
		return fmt.Errorf("close session %#x: server answered session %#x (already expired?)", sessionID, got)
	}

	// RequestHeader{xid 1, type closeSession (-11)}, no body.
	hdr := binary.BigEndian.AppendUint32(nil, 1)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(0xFFFFFFF5)) // -11
	if err := writeFrame(c, hdr); err != nil {
		return fmt.Errorf("close session %#x: closeSession: %w", sessionID, err)
	}
	for {
		reply, err := readFrame(c)
		if err != nil {
			return fmt.Errorf("close session %#x: closeSession reply: %w", sessionID, err)
		}
		// ReplyHeader: xid, zxid, err. Skip notifications (xid -1).
		if len(reply) < 16 {
			return fmt.Errorf("close session %#x: short reply", sessionID)
		}
		if int32(binary.BigEndian.Uint32(reply[0:4])) != 1 {
			continue
		}
		if code := int32(binary.BigEndian.Uint32(reply[12:16])); code != 0 {
			return fmt.Errorf("close session %#x: server error %d", sessionID, code)
		}
		return nil
	}
}

func writeFrame(w io.Writer, body []byte) error {
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	_, err := w.Write(append(frame, body...))
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > 1<<20 {
		return nil, errors.New("frame over 1 MiB")
	}
	body := make([]byte, size)
	_, err := io.ReadFull(r, body)
	return body, err
}
