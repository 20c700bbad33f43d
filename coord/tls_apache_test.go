package coord

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/zktest"
	"github.com/strata-dc/strata/master/auth/authtest"
)

// TestIntegration_TLSAgainstApacheSecurePort is the conformance check of
// the client side: a Session with Config.TLS and a client certificate
// against Apache ZooKeeper 3.8's secureClientPort (Netty, PEM key and trust
// stores, ssl.clientAuth=need). zktest starts Apache with a plaintext port
// only, so the JVM is started here; the plaintext port it also gets only
// tells when it is up.
func TestIntegration_TLSAgainstApacheSecurePort(t *testing.T) {
	const jar = "/usr/share/java/zookeeper.jar"
	if _, err := os.Stat(jar); err != nil {
		t.Skipf("Apache ZooKeeper is not installed: %s is missing (apt-get install zookeeper)", jar)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("Apache ZooKeeper needs java, and no java is on PATH")
	}
	if testing.Short() {
		t.Skip("-short: starts a JVM")
	}
	dir := t.TempDir()
	ca := authtest.NewCA(t)
	certFile, keyFile := ca.Issue("apache-zk", "127.0.0.1", "localhost")
	// ZooKeeper's PEM key store: a PKCS#8 key and the chain in one file.
	store := filepath.Join(dir, "keystore.pem")
	if err := os.WriteFile(store, append(pkcs8(t, keyFile), readAll(t, certFile)...), 0o600); err != nil {
		t.Fatal(err)
	}
	ports := zktest.FreePorts(t, 2)
	cfg := fmt.Sprintf(`tickTime=200
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
secureClientPort=%d
secureClientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=srvr
`, filepath.Join(dir, "data"), ports[0], ports[1])
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	// Debian's manifest leaves out netty-codec, which Netty's secure port
	// needs (the NIO plaintext port does not); slf4j-simple gives a log.
	classpath := jar
	for _, extra := range []string{"/usr/share/java/netty-codec.jar", "/usr/share/java/slf4j-simple.jar"} {
		if _, err := os.Stat(extra); err == nil {
			classpath += ":" + extra
		}
	}
	cmd := exec.Command(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.net.preferIPv4Stack=true",
		"-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
		"-Dzookeeper.ssl.keyStore.location="+store, "-Dzookeeper.ssl.keyStore.type=PEM",
		"-Dzookeeper.ssl.trustStore.location="+ca.File, "-Dzookeeper.ssl.trustStore.type=PEM",
		"-Dzookeeper.ssl.clientAuth=need",
		"-Dzookeeper.authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
		"-cp", classpath, "org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Logf("Apache ZooKeeper log:\n%s", b)
		}
	})
	plain := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := zktest.FourLetterWord(plain, "srvr")
		if err == nil && strings.Contains(out, "Mode: standalone") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Apache ZooKeeper did not start within 60s: srvr = %q, %v", out, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	secure := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	s, err := dialTLSSession(ctx, t, secure, ca.ClientConfig("master"))
	if err != nil {
		t.Fatalf("dial Apache's secure port: %v", err)
	}
	defer s.Close()
	c, err := s.Elect("master/leader", []byte(`{"id":"m1"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Resign(context.Background())
	l, err := s.Leader(ctx, "master/leader")
	for err != nil && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		l, err = s.Leader(ctx, "master/leader")
	}
	if err != nil || string(l.Info) != `{"id":"m1"}` {
		t.Fatalf("leader over Apache's secure port: %+v %v", l, err)
	}
}

// pkcs8 re-encodes authtest's SEC1 EC key as PKCS#8, the form ZooKeeper's
// PemReader reads.
func pkcs8(t *testing.T, keyFile string) []byte {
	t.Helper()
	b, _ := pem.Decode(readAll(t, keyFile))
	if b == nil {
		t.Fatalf("%s: no PEM block", keyFile)
	}
	key, err := x509.ParseECPrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
