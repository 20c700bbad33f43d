package coord_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/strata-dc/strata/coord"
	"github.com/strata-dc/strata/coord/server"
)

// TestEmbedThenElect is the in-process mode end to end: a daemon starts its
// own coord server, dials it through the recipes and leads.
func TestEmbedThenElect(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := coord.Embed(server.Config{DataDir: t.TempDir(), ClientAddress: "127.0.0.1:0", ForceSync: true, Logger: quiet}, "/strata")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.URL().Chroot; got != "/strata" {
		t.Fatalf("chroot %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess, err := coord.Dial(ctx, coord.Config{URL: e.URL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	cand, err := sess.Elect("master/leader", []byte(`{"id":"m1"}`))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case term := <-cand.Terms():
		if _, err := term.Store().Put(ctx, "registry", map[string]int{"agents": 0}); err != nil {
			t.Fatalf("leader write: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("never became leader of an embedded server")
	}
	l, err := sess.Leader(ctx, "master/leader")
	if err != nil || string(l.Info) != `{"id":"m1"}` {
		t.Fatalf("leader %+v %v", l, err)
	}
}
