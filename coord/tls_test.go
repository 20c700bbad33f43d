package coord

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/server"
	"github.com/strata-dc/strata/master/auth/authtest"
)

// secureServer runs an embedded server whose only client port is TLS, with
// a certificate for 127.0.0.1 from ca; clientAuth is ssl.clientAuth.
func secureServer(t *testing.T, ca *authtest.CA, clientAuth string) string {
	t.Helper()
	certFile, keyFile := ca.Issue("coord", "127.0.0.1")
	tcfg, err := server.ServerTLS(server.TLSFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: ca.File, ClientAuth: clientAuth})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		DataDir:             t.TempDir(),
		SecureClientAddress: "127.0.0.1:0",
		TLS:                 tcfg,
		TickTime:            100 * time.Millisecond,
		Logger:              slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.SecureAddr().String()
}

func dialTLSSession(ctx context.Context, t *testing.T, addr string, tcfg *tls.Config) (*Session, error) {
	u, err := ParseURL("zk://" + addr + "/strata")
	if err != nil {
		t.Fatal(err)
	}
	return Dial(ctx, Config{URL: u, SessionTimeout: testTimeout, TLS: tcfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func TestIntegration_SessionOverTLS(t *testing.T) {
	ca := authtest.NewCA(t)
	addr := secureServer(t, ca, "need")
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()

	s, err := dialTLSSession(ctx, t, addr, ca.ClientConfig("master"))
	if err != nil {
		t.Fatalf("dial over TLS with a client certificate: %v", err)
	}
	defer s.Close()
	// The chroot was made over TLS; the recipes work on top of it.
	c, err := s.Elect("master/leader", []byte(`{"id":"m1"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Resign(context.Background())
	l, err := s.WatchLeader(ctx, "master/leader")
	if err != nil {
		t.Fatal(err)
	}
	for led := false; !led; {
		select {
		case leader := <-l:
			led = string(leader.Info) == `{"id":"m1"}`
		case <-ctx.Done():
			t.Fatal("never saw the elected leader over TLS")
		}
	}
	if _, _, err := s.Conn().Get("/strata"); err != nil {
		t.Errorf("get the chroot over TLS: %v", err)
	}
}

// TestIntegration_TLSVerifiesTheServer: a client that does not trust the
// server's CA, or that has no certificate when one is needed, never gets a
// session; Dial gives up when its context ends.
func TestIntegration_TLSVerifiesTheServer(t *testing.T) {
	ca := authtest.NewCA(t)
	addr := secureServer(t, ca, "need")
	other := authtest.NewCA(t)
	for name, tcfg := range map[string]*tls.Config{
		"untrusted server":      other.ClientConfig("master"),
		"no client certificate": ca.ClientConfig(""),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			s, err := dialTLSSession(ctx, t, addr, tcfg)
			if err == nil {
				s.Close()
				t.Fatal("got a session")
			}
		})
	}
}

func TestServerTLSNamesEachServer(t *testing.T) {
	base := &tls.Config{MinVersion: tls.VersionTLS12}
	if got := serverTLS(base, "10.0.0.7:2281").ServerName; got != "10.0.0.7" {
		t.Errorf("ServerName = %q, want the server's IP", got)
	}
	if got := serverTLS(base, "[::1]:2281").ServerName; got != "::1" {
		t.Errorf("ServerName = %q, want ::1", got)
	}
	if base.ServerName != "" {
		t.Error("serverTLS changed the shared configuration")
	}
	named := &tls.Config{ServerName: "coord.example"}
	if got := serverTLS(named, "10.0.0.7:2281"); got != named {
		t.Error("an explicit ServerName was replaced")
	}
}
