package server_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/master/auth/authtest"
)

// TestServeSecurePortOnlyEndToEnd runs `strata coord serve` with only a
// secure client port that needs client certificates, and `strata master`
// reaching it with --zk-tls-ca/--zk-tls-cert/--zk-tls-key: the master
// elects itself leader over TLS.
func TestServeSecurePortOnlyEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the strata binary")
	}
	dir := t.TempDir()
	ca := authtest.NewCA(t)
	certFile, keyFile := ca.Issue("coord", "127.0.0.1")
	masterCert, masterKey := ca.Issue("master")
	addr := startProcess(t, regexp.MustCompile(`serving ZooKeeper protocol on (\S+) \(TLS\)`),
		"coord", "serve", "--data-dir", filepath.Join(dir, "coord"), "--tick-time", "100ms",
		"--secure-client-port", strconv.Itoa(freePort(t)), "--tls-cert", certFile, "--tls-key", keyFile,
		"--tls-client-ca", ca.File, "--log-level", "warn")

	startProcess(t, nil, "master", "--zk", "zk://"+addr+"/strata",
		"--zk-tls-ca", ca.File, "--zk-tls-cert", masterCert, "--zk-tls-key", masterKey,
		"--work-dir", filepath.Join(dir, "master"), "--port", strconv.Itoa(freePort(t)), "--log-level", "warn")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	u, err := coord.ParseURL("zk://" + addr + "/strata")
	if err != nil {
		t.Fatal(err)
	}
	s, err := coord.Dial(ctx, coord.Config{URL: u, SessionTimeout: 4 * time.Second, Logger: quietLogger(),
		TLS: ca.ClientConfig("operator")})
	if err != nil {
		t.Fatalf("operator dial over TLS: %v", err)
	}
	defer s.Close()
	leaders, err := s.WatchLeader(ctx, "master/leader")
	if err != nil {
		t.Fatal(err)
	}
	for leader := (coord.Leader{}); leader.Node == ""; {
		select {
		case leader = <-leaders:
		case <-ctx.Done():
			t.Fatal("strata master never led against a TLS-only coord server")
		}
	}
}
