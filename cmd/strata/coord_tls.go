package main

import (
	"crypto/tls"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/strata-dc/strata/master/auth"
)

// zkTLSFlags are the daemons' flags for reaching coord's secure client
// port (ZooKeeper's secureClientPort). The zk:// URLs keep Mesos' form;
// giving any of these flags switches every server of --zk (and of a
// zk:// --master) to TLS, as zookeeper.client.secure does for ZooKeeper's
// own client.
type zkTLSFlags struct {
	ca, cert, key string
}

func (z *zkTLSFlags) register(f *pflag.FlagSet) {
	f.StringVar(&z.ca, "zk-tls-ca", "", "PEM CA bundle: reach coord's secure client port over TLS, verified against it")
	f.StringVar(&z.cert, "zk-tls-cert", "", "PEM client certificate presented to coord's secure port (with --zk-tls-key)")
	f.StringVar(&z.key, "zk-tls-key", "", "PEM private key of --zk-tls-cert")
}

// config is the coord client's TLS configuration, nil without the flags.
func (z *zkTLSFlags) config() (*tls.Config, error) {
	cfg, err := auth.ClientTLS(z.ca, z.cert, z.key)
	if err != nil {
		return nil, fmt.Errorf("--zk-tls-ca/--zk-tls-cert/--zk-tls-key: %w", err)
	}
	return cfg, nil
}
