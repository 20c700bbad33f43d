package zoocfg

import (
	"fmt"
	"path/filepath"
	"strings"
)

// SSLConfig is the key and trust material of the secure client port, from
// ZooKeeper's ssl.* keys (zookeeper.ssl.* as system properties; zoo.cfg
// turns unknown keys into zookeeper.-prefixed properties, so both spellings
// mean the same). Only PEM stores are read: ZooKeeper's PEM key store is
// one file holding the private key and the certificate chain, its PEM
// trust store a bundle of CA certificates. JKS and PKCS#12 stores are
// Java formats; convert them with openssl.
type SSLConfig struct {
	KeyStoreLocation string // ssl.keyStore.location: PEM key and certificate chain
	KeyStoreType     string // ssl.keyStore.type: PEM, or empty to go by the file name
	KeyStorePassword string // ssl.keyStore.password: must be empty (encrypted keys are not read)

	TrustStoreLocation string // ssl.trustStore.location: PEM CA bundle for client certificates
	TrustStoreType     string // ssl.trustStore.type

	// ClientAuth is ssl.clientAuth as written: none, want, need or empty
	// (server.ParseClientAuth resolves it).
	ClientAuth string
}

// parse takes one ssl key; ok is false for keys it does not know, which
// the caller files as Unknown.
func (s *SSLConfig) parse(key, value string) (ok bool, err error) {
	value = strings.TrimSpace(value)
	switch strings.TrimPrefix(key, "zookeeper.") {
	case "ssl.keyStore.location":
		s.KeyStoreLocation = value
	case "ssl.keyStore.type":
		s.KeyStoreType = value
	case "ssl.keyStore.password":
		s.KeyStorePassword = value
	case "ssl.trustStore.location":
		s.TrustStoreLocation = value
	case "ssl.trustStore.type":
		s.TrustStoreType = value
	case "ssl.trustStore.password":
		// A PEM trust store holds certificates only; ZooKeeper ignores
		// the password for it too.
	case "ssl.clientAuth":
		switch strings.ToLower(value) {
		case "", "none", "want", "need":
			s.ClientAuth = strings.ToLower(value)
		default:
			return true, fmt.Errorf("want none, want or need")
		}
	default:
		return false, nil
	}
	return true, nil
}

// validate checks the stores a secure port will load.
func (s SSLConfig) validate() []error {
	var errs []error
	if s.KeyStoreLocation == "" {
		errs = append(errs, fmt.Errorf("secureClientPort needs ssl.keyStore.location (a PEM file with the private key and certificate chain)"))
	}
	if err := pemStore("ssl.keyStore", s.KeyStoreLocation, s.KeyStoreType); err != nil {
		errs = append(errs, err)
	}
	if err := pemStore("ssl.trustStore", s.TrustStoreLocation, s.TrustStoreType); err != nil {
		errs = append(errs, err)
	}
	if s.KeyStorePassword != "" {
		errs = append(errs, fmt.Errorf("ssl.keyStore.password: encrypted PEM keys are not supported; store the key unencrypted (mode 0600)"))
	}
	return errs
}

// pemStore checks a store's type as KeyStoreFileType.fromPropertyValueOrFileName
// does: the type if given, else the file's extension; only PEM is read.
func pemStore(key, location, typ string) error {
	if location == "" {
		return nil
	}
	if typ == "" {
		switch strings.ToLower(filepath.Ext(location)) {
		case ".jks", ".p12", ".pfx", ".bcfks":
			return fmt.Errorf("%s.location %s: only PEM stores are supported; convert it to PEM (set %s.type=PEM)", key, location, key)
		}
		return nil
	}
	if !strings.EqualFold(typ, "PEM") {
		return fmt.Errorf("%s.type %q: only PEM is supported", key, typ)
	}
	return nil
}
