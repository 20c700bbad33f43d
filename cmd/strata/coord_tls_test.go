package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master/auth/authtest"
)

func coordServerConfig(t *testing.T, args ...string) (server.Config, error) {
	t.Helper()
	var f coordServeFlags
	fl := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	f.register(fl)
	if err := fl.Parse(append([]string{"--data-dir", t.TempDir()}, args...)); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	cfg, _, err := f.serverConfig(fl)
	return cfg, err
}

// TestCoordServeSecurePort: --secure-client-port alone is the only port,
// with --client-port both are served; zoo.cfg's secureClientPort and PEM
// key store do the same; missing key material is refused by name.
func TestCoordServeSecurePort(t *testing.T) {
	ca := authtest.NewCA(t)
	cert, key := ca.Issue("coord", "127.0.0.1")
	dir := t.TempDir()
	keyPEM, _ := os.ReadFile(key)
	certPEM, _ := os.ReadFile(cert)
	store := authtest.WriteFile(t, dir, "keystore.pem", string(keyPEM)+string(certPEM))
	zoo := authtest.WriteFile(t, dir, "zoo.cfg", "dataDir="+filepath.Join(dir, "d")+"\nsecureClientPort=2281\n"+
		"ssl.keyStore.location="+store+"\nssl.keyStore.type=PEM\nssl.trustStore.location="+ca.File+"\nssl.trustStore.type=PEM\n")

	for _, tc := range []struct {
		name           string
		args           []string
		plain, secure  string
		clientAuth     tls.ClientAuthType
		enforceSchemes []string
	}{
		{"secure only", []string{"--secure-client-port", "2281", "--tls-cert", cert, "--tls-key", key},
			"", "127.0.0.1:2281", tls.NoClientCert, nil},
		{"both ports", []string{"--client-port", "2181", "--secure-client-port", "2281", "--tls-cert", cert, "--tls-key", key},
			"127.0.0.1:2181", "127.0.0.1:2281", tls.NoClientCert, nil},
		{"client CA means need", []string{"--secure-client-port", "0", "--tls-cert", cert, "--tls-key", key, "--tls-client-ca", ca.File},
			"", "127.0.0.1:0", tls.RequireAndVerifyClientCert, nil},
		{"want", []string{"--secure-client-port", "0", "--tls-cert", cert, "--tls-key", key, "--tls-client-ca", ca.File, "--tls-client-auth", "want"},
			"", "127.0.0.1:0", tls.VerifyClientCertIfGiven, nil},
		{"zoo.cfg PEM key store, no clientPort", []string{"--config", zoo},
			"", "0.0.0.0:2281", tls.RequireAndVerifyClientCert, []string{"digest", "x509"}},
		{"outside loopback enforces digest or x509",
			[]string{"--secure-client-port", "0", "--secure-client-port-address", "0.0.0.0", "--tls-cert", cert, "--tls-key", key, "--tls-client-ca", ca.File},
			"", "0.0.0.0:0", tls.RequireAndVerifyClientCert, []string{"digest", "x509"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := coordServerConfig(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ClientAddress != tc.plain || cfg.SecureClientAddress != tc.secure {
				t.Errorf("ports %q and %q (TLS), want %q and %q", cfg.ClientAddress, cfg.SecureClientAddress, tc.plain, tc.secure)
			}
			if cfg.TLS == nil || cfg.TLS.ClientAuth != tc.clientAuth {
				t.Fatalf("TLS %+v, want client auth %v", cfg.TLS, tc.clientAuth)
			}
			if !slices.Equal(cfg.EnforceAuthSchemes, tc.enforceSchemes) {
				t.Errorf("enforced schemes %v, want %v", cfg.EnforceAuthSchemes, tc.enforceSchemes)
			}
		})
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--secure-client-port", "2281"}, "--tls-cert"},
		{[]string{"--tls-cert", cert, "--tls-key", key}, "--secure-client-port"},
		{[]string{"--secure-client-port", "2281", "--tls-cert", cert, "--tls-key", key, "--tls-client-auth", "maybe"}, "ssl.clientAuth"},
		{[]string{"--secure-client-port", "2281", "--tls-cert", cert, "--tls-key", filepath.Join(dir, "missing.key")}, "missing.key"},
	} {
		if _, err := coordServerConfig(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}

// TestZKTLSFlags: the daemons' --zk-tls-* flags make a client TLS
// configuration, or none.
func TestZKTLSFlags(t *testing.T) {
	ca := authtest.NewCA(t)
	cert, key := ca.Issue("master")
	var z zkTLSFlags
	fl := pflag.NewFlagSet("d", pflag.ContinueOnError)
	z.register(fl)
	if cfg, err := z.config(); cfg != nil || err != nil {
		t.Errorf("no flags: %v %v, want plaintext", cfg, err)
	}
	if err := fl.Parse([]string{"--zk-tls-ca", ca.File, "--zk-tls-cert", cert, "--zk-tls-key", key}); err != nil {
		t.Fatal(err)
	}
	cfg, err := z.config()
	if err != nil || cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Errorf("all flags: %+v %v", cfg, err)
	}
	z.key = ""
	if _, err := z.config(); err == nil || !strings.Contains(err.Error(), "--zk-tls") {
		t.Errorf("certificate without key: %v", err)
	}
}
