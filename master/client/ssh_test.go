package client

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/client/sshtest"
)

// TestHelperDialStdio is not a test: the sshd test runs this test binary
// on the "far side" as its strata program (STRATA_SSH_STRATA), with the
// arguments `dial-stdio --socket P`, and this relays like `strata
// dial-stdio` does. Run normally it does nothing.
func TestHelperDialStdio(t *testing.T) {
	args := flag.Args()
	if len(args) < 3 || args[0] != "dial-stdio" {
		return
	}
	network := "unix"
	if args[1] == "--tcp" {
		network = "tcp"
	}
	err := RelayStdio(context.Background(), network, args[2], os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestIntegration_SSH runs a real sshd on 127.0.0.1 (Debian's
// openssh-server, see package sshtest) and reaches a master's control socket through ssh:// exactly as
// the CLI does: ssh runs "dial-stdio" on the far side.
//
// Client options go through STRATA_SSH_OPTS ("-i key -o
// StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ...") and the
// far side's program through STRATA_SSH_STRATA.
func TestIntegration_SSH(t *testing.T) {
	sshd := sshtest.Start(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("STRATA_SSH_OPTS", sshd.Opts)
	t.Setenv("STRATA_SSH_STRATA", self+" -test.run=^TestHelperDialStdio$")

	dir, err := os.MkdirTemp("", "strata-ssh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := newFakeCluster(t)
	sock := filepath.Join(dir, "master.sock")
	c.startUnix("A", sock)
	addr := fmt.Sprintf("ssh://%s@127.0.0.1:%d%s", sshd.User, sshd.Port, sock)
	ep, err := Resolve(context.Background(), addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	op, err := NewOperator(ep.Options)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := op.GetState(ctx)
	if err != nil {
		t.Fatalf("GetState over ssh: %v\nsshd: %s", err, sshd.Log())
	}
	if st.GetTasks == nil || len(st.GetTasks.Tasks) != 1 {
		t.Fatalf("GetState over ssh: %+v", st)
	}
	if err := op.Health(ctx); err != nil {
		t.Fatalf("Health over ssh (a second request): %v", err)
	}

	// A refused login is one line naming ssh's complaint.
	t.Setenv("STRATA_SSH_OPTS", sshd.BadKeyOpts())
	bad, err := Resolve(context.Background(), addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	op2, err := NewOperator(bad.Options)
	if err != nil {
		t.Fatal(err)
	}
	defer op2.Close()
	if _, err := op2.GetState(ctx); err == nil || !strings.Contains(err.Error(), "ssh") {
		t.Errorf("GetState with a wrong key: %v, want an ssh error", err)
	}
}
