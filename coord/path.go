package coord

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-zookeeper/zk"
)

// validatePath checks an absolute ZooKeeper path the way the server will,
// so a bad name fails here with a message instead of as a bare BadArguments.
func validatePath(p string) error {
	if p == "" || p[0] != '/' {
		return errors.New("must start with /")
	}
	if p == "/" {
		return nil
	}
	if strings.HasSuffix(p, "/") {
		return errors.New("must not end with /")
	}
	for _, seg := range strings.Split(p[1:], "/") {
		switch seg {
		case "":
			return errors.New("empty path segment (//)")
		case ".", "..":
			return fmt.Errorf("relative segment %q", seg)
		}
	}
	for _, r := range p {
		if r == 0 || (r > 0 && r < 0x20) || (r >= 0x7f && r <= 0x9f) || (r >= 0xd800 && r <= 0xf8ff) || r >= 0xfff0 {
			return fmt.Errorf("character %U is not allowed by ZooKeeper", r)
		}
	}
	return nil
}

// joinChroot maps a path relative to the chroot ("master/leader", a leading
// slash is allowed and means the same) to the absolute server path.
func joinChroot(chroot, rel string) (string, error) {
	rel = strings.TrimPrefix(rel, "/")
	abs := chroot
	if rel != "" {
		if chroot == "/" {
			abs = "/" + rel
		} else {
			abs = chroot + "/" + rel
		}
	}
	if err := validatePath(abs); err != nil {
		return "", fmt.Errorf("coord: path %q: %v", rel, err)
	}
	return abs, nil
}

// parentOf returns the parent of an absolute path ("/" for a top-level node).
func parentOf(abs string) string {
	i := strings.LastIndexByte(abs, '/')
	if i <= 0 {
		return "/"
	}
	return abs[:i]
}

// baseOf returns the last segment of an absolute path.
func baseOf(abs string) string {
	return abs[strings.LastIndexByte(abs, '/')+1:]
}

// ensurePath creates abs and any missing ancestors as empty persistent
// nodes. It looks before it creates so an existing ancestor the session may
// not create under (a restricted parent of the chroot) is not an error.
func (s *Session) ensurePath(ctx context.Context, abs string) error {
	return s.ensurePathACL(ctx, abs, s.acl)
}

// ensurePathACL is ensurePath creating missing nodes with acl.
func (s *Session) ensurePathACL(ctx context.Context, abs string, acl []zk.ACL) error {
	if abs == "/" {
		return nil
	}
	exists, err := call(ctx, s, func(c *zk.Conn) (bool, error) {
		ok, _, err := c.Exists(abs)
		return ok, err
	})
	if err != nil {
		return fmt.Errorf("coord: ensure %s: %w", abs, err)
	}
	if exists {
		return nil
	}
	for i := 1; i <= len(abs); i++ {
		if i < len(abs) && abs[i] != '/' {
			continue
		}
		prefix := abs[:i]
		err := s.do(ctx, func(c *zk.Conn) error {
			ok, _, err := c.Exists(prefix)
			if err != nil || ok {
				return err
			}
			_, err = c.Create(prefix, nil, 0, acl)
			if errors.Is(err, zk.ErrNodeExists) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("coord: create %s: %w", prefix, err)
		}
	}
	return nil
}
