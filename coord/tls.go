package coord

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// TLS toward ZooKeeper's secure client port. Strata's --zk and --master
// URLs keep Mesos' zk://host:port/chroot form, which has no place for TLS
// settings, so TLS is a separate setting beside the URL (Config.TLS, the
// daemons' --zk-tls-ca, --zk-tls-cert and --zk-tls-key flags), as
// ZooKeeper's own client takes zookeeper.client.secure and its ssl.*
// properties beside the connect string. Each server is dialled with the
// same configuration and verified under its own host name or IP address.

// dialServer connects to one server, inside TLS when cfg is set. The TLS
// handshake shares the dial's timeout, so an unreachable or silent server
// costs go-zookeeper no more than a plaintext dial would.
func dialServer(network, address string, timeout time.Duration, cfg *tls.Config) (net.Conn, error) {
	if cfg == nil {
		return net.DialTimeout(network, address, timeout)
	}
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	d := tls.Dialer{Config: serverTLS(cfg, address)}
	c, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("TLS to %s: %w", address, err)
	}
	return c, nil
}

// serverTLS is cfg for one server: its ServerName (SNI and the name the
// certificate must carry) is the server's host unless cfg names one.
func serverTLS(cfg *tls.Config, address string) *tls.Config {
	if cfg.ServerName != "" {
		return cfg
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	c := cfg.Clone()
	c.ServerName = host
	return c
}
