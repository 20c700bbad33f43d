package zktest

import (
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord/server"
)

// ContainerCheckInterval is how often every server started here looks for
// empty containers and expired TTL nodes (ZooKeeper's
// znode.container.checkIntervalMs), short so those tests are fast.
const ContainerCheckInterval = 500 * time.Millisecond

// SuperDigest is the super user every server started here accepts:
// "super:secret", as ZooKeeper's DigestAuthenticationProvider.superDigest.
const SuperDigest = "super:lK75jTNcA+U9vtVEw5vB51mj/w4="

// Embedded starts Strata's embedded coord server in this process, with the
// same settings as the Apache servers started here (tick, session bounds,
// four-letter words), its data in a temp dir, and stops it in t.Cleanup.
func Embedded(t testing.TB) string {
	t.Helper()
	return EmbeddedWith(t, nil)
}

// EmbeddedWith is Embedded with adjust applied to the configuration
// before the server starts (nil changes nothing), e.g. to turn on
// EnforceAuth as ApacheWith does with a JVM property.
func EmbeddedWith(t testing.TB, adjust func(*server.Config)) string {
	t.Helper()
	var logger *slog.Logger
	if os.Getenv("ZKTEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg := server.Config{
		DataDir:                t.TempDir(),
		ClientAddress:          "127.0.0.1:0",
		TickTime:               TickTime,
		MinSessionTimeout:      2 * TickTime,
		MaxSessionTimeout:      60 * time.Second,
		FourLetterWords:        []string{"*"},
		ForceSync:              true,
		ContainerCheckInterval: ContainerCheckInterval,
		SuperDigest:            SuperDigest,
		Logger:                 logger,
	}
	if adjust != nil {
		adjust(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("embedded coord server: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("embedded coord server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr().String()
}
