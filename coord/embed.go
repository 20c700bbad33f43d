package coord

import (
	"fmt"

	"github.com/strata-dc/strata/coord/server"
)

// Embedded is a coordination server running inside this process, for a
// daemon (or `strata up`) that brings its own coord instead of dialing an
// ensemble. Clients still reach it over its TCP port, through the same
// recipes, so what works here works against Apache ZooKeeper.
type Embedded struct {
	*server.Server
	url URL
}

// Embed starts an embedded server with cfg (its ClientAddress may use port
// 0) and returns it with the URL that reaches it under chroot.
func Embed(cfg server.Config, chroot string) (*Embedded, error) {
	srv, err := server.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded coord: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("embedded coord: %w", err)
	}
	u, err := ParseURL("zk://" + srv.Addr().String() + chroot)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded coord: %w", err)
	}
	return &Embedded{Server: srv, url: u}, nil
}

// URL is the zk:// URL of the embedded server, with the chroot given to
// Embed.
func (e *Embedded) URL() URL { return e.url }
