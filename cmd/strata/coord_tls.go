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

// masterClientFlags are how a daemon (agent, marathon, chronos) presents
// itself to masters that authenticate it, and reaches https masters.
type masterClientFlags struct {
	credential, ca string
}

func (m *masterClientFlags) register(f *pflag.FlagSet, whose string) {
	f.StringVar(&m.credential, "credential", "", whose+`: a file with JSON {"principal":"p","secret":"s"} or a "principal secret" line`)
	f.StringVar(&m.ca, "master-ca", "", "PEM CA bundle: reach masters over https, verified against it")
}

// load reads the flags: the credential (nil without --credential) and the
// TLS configuration for masters (nil without --master-ca).
func (m *masterClientFlags) load() (*auth.Credential, *tls.Config, error) {
	var cred *auth.Credential
	if m.credential != "" {
		c, err := auth.LoadCredential(m.credential)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("--credential: %w", err)}
		}
		cred = &c
	}
	var tc *tls.Config
	if m.ca != "" {
		var err error
		if tc, err = auth.ClientTLS(m.ca, "", ""); err != nil {
			return nil, nil, usageError{fmt.Errorf("--master-ca: %w", err)}
		}
	}
	return cred, tc, nil
}
