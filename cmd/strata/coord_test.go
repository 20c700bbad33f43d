package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// coordConfig parses `strata coord serve` flags as the command would and
// returns the server configuration they make.
func coordConfig(t *testing.T, args ...string) (enforce bool, schemes []string, check func(user, password string) bool, err error) {
	t.Helper()
	var f coordServeFlags
	fl := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	f.register(fl)
	if err := fl.Parse(append([]string{"--data-dir", t.TempDir()}, args...)); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	cfg, _, err := f.serverConfig(fl)
	return cfg.EnforceAuth, cfg.EnforceAuthSchemes, cfg.CheckDigest, err
}

// TestCoordServeAuthenticate: --authenticate=auto enforces authentication
// only outside loopback (so `strata up`'s embedded coord stays open on
// 127.0.0.1), an explicit flag wins, and zoo.cfg's enforce.auth.enabled
// decides when the flag is not given.
func TestCoordServeAuthenticate(t *testing.T) {
	dir := t.TempDir()
	zooOpen := filepath.Join(dir, "open.cfg")
	os.WriteFile(zooOpen, []byte("dataDir="+dir+"/d\nclientPort=0\n"), 0o644)
	zooOff := filepath.Join(dir, "off.cfg")
	os.WriteFile(zooOff, []byte("dataDir="+dir+"/d\nclientPort=0\nenforce.auth.enabled=false\n"), 0o644)
	zooOn := filepath.Join(dir, "on.cfg")
	os.WriteFile(zooOn, []byte("dataDir="+dir+"/d\nclientPort=0\nclientPortAddress=127.0.0.1\nzookeeper.enforce.auth.enabled=true\nzookeeper.enforce.auth.schemes=digest,ip\n"), 0o644)

	for _, tc := range []struct {
		name    string
		args    []string
		enforce bool
		schemes []string
	}{
		{"loopback default", nil, false, nil},
		{"localhost", []string{"--client-port-address", "localhost"}, false, nil},
		{"all interfaces", []string{"--client-port-address", "0.0.0.0"}, true, []string{"digest"}},
		{"empty address binds all", []string{"--client-port-address", ""}, true, []string{"digest"}},
		{"a host address", []string{"--client-port-address", "10.1.2.3"}, true, []string{"digest"}},
		{"forced on loopback", []string{"--authenticate"}, true, []string{"digest"}},
		{"forced off outside", []string{"--client-port-address", "0.0.0.0", "--authenticate=false"}, false, nil},
		{"zoo.cfg without address", []string{"--config", zooOpen}, true, []string{"digest"}},
		{"zoo.cfg says off", []string{"--config", zooOff}, false, nil},
		{"zoo.cfg says on", []string{"--config", zooOn}, true, []string{"digest", "ip"}},
		{"flag beats zoo.cfg", []string{"--config", zooOn, "--authenticate=auto"}, false, []string{"digest", "ip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enforce, schemes, _, err := coordConfig(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if enforce != tc.enforce || !slices.Equal(schemes, tc.schemes) {
				t.Errorf("enforce=%t schemes=%q, want %t %q", enforce, schemes, tc.enforce, tc.schemes)
			}
		})
	}
	if _, _, _, err := coordConfig(t, "--authenticate=maybe"); err == nil || !strings.Contains(err.Error(), "--authenticate") {
		t.Errorf("--authenticate=maybe: err = %v", err)
	}
}

// TestCoordServeCredentials: --credentials (master/auth's format) is the
// list of digest users addAuth accepts.
func TestCoordServeCredentials(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	os.WriteFile(creds, []byte(`{"credentials":[{"principal":"master","secret":"m-secret"},{"principal":"agent","secret":"a-secret"}]}`), 0o600)
	_, _, check, err := coordConfig(t, "--credentials", creds)
	if err != nil {
		t.Fatal(err)
	}
	if check == nil {
		t.Fatal("--credentials gave no digest check")
	}
	for _, tc := range []struct {
		user, pw string
		ok       bool
	}{{"master", "m-secret", true}, {"agent", "a-secret", true}, {"master", "a-secret", false}, {"nobody", "m-secret", false}, {"agent", "", false}} {
		if got := check(tc.user, tc.pw); got != tc.ok {
			t.Errorf("check(%s, %s) = %t, want %t", tc.user, tc.pw, got, tc.ok)
		}
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	if _, _, _, err := coordConfig(t, "--credentials", empty); err == nil {
		t.Error("an empty credentials file was accepted")
	}
	if _, _, _, err := coordConfig(t, "--credentials", filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "--credentials") {
		t.Errorf("missing credentials file: err = %v", err)
	}
}
