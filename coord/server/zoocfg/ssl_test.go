package zoocfg

import (
	"strings"
	"testing"
)

// TestSecureClientPortKeys reads ZooKeeper's TLS settings under both
// spellings and refuses what the embedded server cannot load, naming the
// key.
func TestSecureClientPortKeys(t *testing.T) {
	c := parse(t, "dataDir=/d\nclientPort=2181\nsecureClientPort=2281\n"+
		"zookeeper.ssl.keyStore.location=/tls/ks.pem\nzookeeper.ssl.keyStore.type=PEM\n"+
		"ssl.trustStore.location=/tls/ca.pem\nssl.clientAuth=NEED\n")
	if c.SecureClientPort != 2281 || c.NoClientPort || c.SecureClientPortAddress != "" {
		t.Errorf("ports: secure %d, no plaintext %v, address %q", c.SecureClientPort, c.NoClientPort, c.SecureClientPortAddress)
	}
	want := SSLConfig{KeyStoreLocation: "/tls/ks.pem", KeyStoreType: "PEM", TrustStoreLocation: "/tls/ca.pem", ClientAuth: "need"}
	if c.SSL != want {
		t.Errorf("SSL = %+v, want %+v", c.SSL, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if Default().SecureClientPort != -1 {
		t.Error("a default configuration has a secure port")
	}

	for _, tc := range []struct{ cfg, want string }{
		{"secureClientPort=2281\n", "ssl.keyStore.location"},
		{"secureClientPort=2281\nssl.keyStore.location=/tls/ks.jks\n", "only PEM"},
		{"secureClientPort=2281\nssl.keyStore.location=/tls/ks\nssl.keyStore.type=JKS\n", "ssl.keyStore.type"},
		{"secureClientPort=2281\nssl.keyStore.location=/tls/ks.pem\nssl.trustStore.location=/tls/ts.p12\n", "ssl.trustStore"},
		{"secureClientPort=2281\nssl.keyStore.location=/tls/ks.pem\nssl.keyStore.password=x\n", "ssl.keyStore.password"},
		{"secureClientPort=70000\nssl.keyStore.location=/tls/ks.pem\n", "secureClientPort"},
		{"secureClientPort=2281\nssl.keyStore.location=/tls/ks.pem\nsecureClientPortAddress=bad host\n", "secureClientPortAddress"},
		{"enforce.auth.enabled=true\nenforce.auth.schemes=x509\n", "x509"},
	} {
		c := parse(t, "dataDir=/d\n"+tc.cfg)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: Validate = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
	for _, tc := range []struct{ cfg, want string }{
		{"ssl.clientAuth=maybe\n", "ssl.clientAuth"},
		{"secureClientPortAddress=127.0.0.1\n", "secureClientPort is not set"},
	} {
		if _, err := Parse(strings.NewReader("dataDir=/d\n" + tc.cfg)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: Parse = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
}
