package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/strata-dc/strata/coord/server/jute"
)

// The secure client port follows ZooKeeper 3.8's secureClientPort: the
// same wire protocol inside TLS, on its own port, alongside the plaintext
// clientPort or instead of it. ZooKeeper's ssl.clientAuth decides whether
// clients present certificates; a verified one gives the connection the
// identity x509:<subject DN> (X509AuthenticationProvider): ACLs may name
// it (and "auth" expands to it) and enforce.auth.schemes may list x509,
// both only while the secure port verifies client certificates. Four-letter
// words work inside TLS too, as they do on ZooKeeper's Netty secure port.

// TLSFiles names the PEM files of a secure client port.
type TLSFiles struct {
	// CertFile holds the server's certificate chain, KeyFile its private
	// key. They may be the same file, as in ZooKeeper's PEM key store
	// (ssl.keyStore.location with ssl.keyStore.type=PEM), which holds both.
	CertFile, KeyFile string
	// ClientCAFile is a PEM bundle of the CAs client certificates must
	// chain to (ssl.trustStore.location, --tls-client-ca). Empty means the
	// system's roots.
	ClientCAFile string
	// ClientAuth is ZooKeeper's ssl.clientAuth: "none", "want" (verify a
	// certificate when one is presented) or "need" (refuse a client
	// without one). Empty means need when ClientCAFile is set and none
	// otherwise. ZooKeeper's own default is need even without a trust
	// store (it then verifies against the JVM's CAs); requiring
	// certificates from public CAs is not what an operator who gave no CA
	// means, so say ssl.clientAuth=need to get that.
	ClientAuth string
}

// ParseClientAuth reads ssl.clientAuth as ClientAuth.fromPropertyValue
// does (case-insensitively), with "" resolved as TLSFiles says.
func ParseClientAuth(value string, haveCA bool) (tls.ClientAuthType, error) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "":
		if haveCA {
			return tls.RequireAndVerifyClientCert, nil
		}
		return tls.NoClientCert, nil
	case "none":
		return tls.NoClientCert, nil
	case "want":
		return tls.VerifyClientCertIfGiven, nil
	case "need":
		return tls.RequireAndVerifyClientCert, nil
	}
	return 0, fmt.Errorf("ssl.clientAuth %q: want none, want or need", value)
}

// clientAuthName is the ssl.clientAuth word for a tls.ClientAuthType.
func clientAuthName(t tls.ClientAuthType) string {
	switch t {
	case tls.NoClientCert:
		return "none"
	case tls.VerifyClientCertIfGiven, tls.RequestClientCert:
		return "want"
	case tls.RequireAndVerifyClientCert, tls.RequireAnyClientCert:
		return "need"
	}
	return t.String()
}

// ServerTLS loads f into the configuration of a secure client port.
// Errors name the file and the setting it came from.
func ServerTLS(f TLSFiles) (*tls.Config, error) {
	if f.CertFile == "" || f.KeyFile == "" {
		return nil, errors.New("secure client port: needs a certificate and a key (--tls-cert/--tls-key or ssl.keyStore.location)")
	}
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("secure client port: certificate %s / key %s: %w", f.CertFile, f.KeyFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	cfg.ClientAuth, err = ParseClientAuth(f.ClientAuth, f.ClientCAFile != "")
	if err != nil {
		return nil, err
	}
	if f.ClientCAFile != "" {
		b, err := os.ReadFile(f.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("secure client port: client CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("secure client port: client CA bundle %s: no PEM certificate found", f.ClientCAFile)
		}
		cfg.ClientCAs = pool
	}
	return cfg, nil
}

// validateTLS checks that a secure port has what it needs.
func (c *Config) validateTLS() error {
	switch {
	case c.SecureClientAddress != "" && (c.TLS == nil || len(c.TLS.Certificates) == 0 && c.TLS.GetCertificate == nil && c.TLS.GetConfigForClient == nil):
		return fmt.Errorf("secure client address %s: needs a TLS configuration with a certificate", c.SecureClientAddress)
	case c.SecureClientAddress == "" && c.TLS != nil:
		return errors.New("TLS configuration given without a secure client address")
	}
	return nil
}

// verifiesClientCerts reports whether the secure port verifies client
// certificates, so that connections may carry x509 identities.
func (c *Config) verifiesClientCerts() bool {
	if c.SecureClientAddress == "" || c.TLS == nil {
		return false
	}
	return c.TLS.ClientAuth == tls.VerifyClientCertIfGiven || c.TLS.ClientAuth == tls.RequireAndVerifyClientCert
}

// handshakeTLS completes the TLS handshake of a secure-port connection
// within the read deadline readLoop has set (the handshake timeout), so a
// client that never finishes it is dropped like one that never sends its
// connect request. Plaintext connections pass through. False means the
// connection must close: a plaintext client on the secure port, a client
// without a required certificate, an untrusted one.
func (c *conn) handshakeTLS() bool {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	_ = tc.SetWriteDeadline(time.Now().Add(c.s.cfg.HandshakeTimeout))
	if err := tc.Handshake(); err != nil {
		c.s.log.Warn("closing connection: TLS handshake failed", "remote", c.remote, "err", err)
		return false
	}
	_ = tc.SetWriteDeadline(time.Time{})
	return true
}

// certIDs is the x509 identity of a connection whose client presented a
// certificate the server verified: its subject's distinguished name in
// RFC 2253 form, as X509AuthenticationProvider's X500Principal.getName().
func (c *conn) certIDs() []jute.Id {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	st := tc.ConnectionState()
	if len(st.VerifiedChains) == 0 || len(st.PeerCertificates) == 0 {
		return nil
	}
	return []jute.Id{{Scheme: "x509", ID: st.PeerCertificates[0].Subject.String()}}
}
