package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseSSH(t *testing.T) {
	for _, c := range []struct {
		in   string
		want SSHTarget
		bad  bool
	}{
		{in: "ssh://h", want: SSHTarget{Host: "h"}},
		{in: "ssh://ops@h:2222", want: SSHTarget{User: "ops", Host: "h", Port: 2222}},
		{in: "ssh://ops@h/var/lib/strata/master.sock", want: SSHTarget{User: "ops", Host: "h", Socket: "/var/lib/strata/master.sock"}},
		{in: "ssh://[::1]:22/", want: SSHTarget{Host: "::1", Port: 22}},
		{in: "ssh://", bad: true},
		{in: "ssh://h:0", bad: true},
		{in: "ssh://u:pw@h", bad: true},
		{in: "ssh://-oProxyCommand=x", bad: true},
		{in: "http://h", bad: true},
	} {
		got, err := ParseSSH(c.in)
		if (err != nil) != c.bad {
			t.Errorf("ParseSSH(%q) error %v, want bad=%v", c.in, err, c.bad)
			continue
		}
		if !c.bad && got != c.want {
			t.Errorf("ParseSSH(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestSSHCommand(t *testing.T) {
	env := map[string]string{"STRATA_SSH_OPTS": "-F /x/cfg  -o BatchMode=yes", "STRATA_SSH_STRATA": "/opt/strata"}
	get := func(k string) string { return env[k] }
	tg := SSHTarget{User: "ops", Host: "h", Port: 2222, Socket: "/s/master.sock"}
	want := []string{"ssh", "-F", "/x/cfg", "-o", "BatchMode=yes", "-p", "2222", "-l", "ops", "--", "h", "/opt/strata", "dial-stdio", "--socket", "/s/master.sock"}
	if got := tg.Command(get, ""); !reflect.DeepEqual(got, want) {
		t.Errorf("Command = %q\nwant      %q", got, want)
	}
	got := SSHTarget{Host: "h"}.Command(func(string) string { return "" }, "127.0.0.1:5051")
	want = []string{"ssh", "--", "h", "strata", "dial-stdio", "--tcp", "127.0.0.1:5051"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Command(tcp) = %q, want %q", got, want)
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		in, master string
	}{
		{"unix:///run/x/master.sock", "unix:///run/x/master.sock"},
		{"http://127.0.0.1:5050", "http://127.0.0.1:5050"},
		{"127.0.0.1:5050", "127.0.0.1:5050"},
		{"ssh://ops@h", "http://" + sshMasterHost},
	} {
		ep, err := Resolve(ctx, c.in, Options{})
		if err != nil {
			t.Errorf("Resolve(%q): %v", c.in, err)
			continue
		}
		if ep.Options.Master != c.master {
			t.Errorf("Resolve(%q).Master = %q, want %q", c.in, ep.Options.Master, c.master)
		}
		if (ep.SSH != nil) != (c.in[:3] == "ssh") || (ep.SSH != nil) != (ep.Options.DialContext != nil) {
			t.Errorf("Resolve(%q): ssh dialer %v", c.in, ep.SSH)
		}
		ep.Close()
	}
	for _, bad := range []string{"ftp://h", "zk://", "ssh://", "unix://", "http://"} {
		if _, err := Resolve(ctx, bad, Options{}); !errors.Is(err, ErrBadAddress) {
			t.Errorf("Resolve(%q) = %v, want ErrBadAddress", bad, err)
		}
	}
}

func TestResolveDefaultSocket(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ep, err := Resolve(context.Background(), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Socket != SystemSocket {
		t.Errorf("without ./.strata: socket %q, want %q", ep.Socket, SystemSocket)
	}
	if err := os.MkdirAll(DefaultDataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(DefaultDataDir, SocketName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ep, err = Resolve(context.Background(), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, DefaultDataDir, SocketName); ep.Socket != want {
		t.Errorf("with ./.strata: socket %q, want %q", ep.Socket, want)
	}
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(t.TempDir())
	noEnv := func(string) string { return "" }
	if _, err := LoadToken(noEnv, filepath.Join(dir, "master.sock")); !errors.Is(err, ErrNoToken) {
		t.Errorf("no token anywhere: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, TokenName), []byte("beside\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := LoadToken(noEnv, filepath.Join(dir, "master.sock")); err != nil || tok != "beside" {
		t.Errorf("token beside the socket: %q, %v", tok, err)
	}
	env := func(k string) string {
		if k == "STRATA_TOKEN" {
			return "fromenv"
		}
		return ""
	}
	if tok, _ := LoadToken(env, filepath.Join(dir, "master.sock")); tok != "fromenv" {
		t.Errorf("STRATA_TOKEN not preferred: %q", tok)
	}
}

func TestDynamicReservation(t *testing.T) {
	rs, err := DynamicReservation("cpus:1;mem:128", "prod", "ops")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].ReservationRole() != "prod" || !rs[0].IsDynamicallyReserved() {
		t.Errorf("DynamicReservation = %v", rs)
	}
	for _, bad := range [][2]string{{"cpus:1", "*"}, {"cpus:1", ""}, {"cpus:x", "prod"}} {
		if _, err := DynamicReservation(bad[0], bad[1], ""); err == nil {
			t.Errorf("DynamicReservation(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}

func TestExplain(t *testing.T) {
	inner := errors.New("dial unix /x: connect: no such file or directory")
	err := fmt.Errorf("operator GET_STATE at unix:///x/api/v1: %w", &url.Error{Op: "Post", URL: "http://unix-1.sock.invalid/api/v1", Err: inner})
	got := Explain(err)
	if want := "operator GET_STATE at unix:///x/api/v1: dial unix /x: connect: no such file or directory"; got.Error() != want {
		t.Errorf("Explain = %q, want %q", got, want)
	}
	if !errors.Is(got, inner) {
		t.Error("Explain lost the error chain")
	}
	if Explain(nil) != nil {
		t.Error("Explain(nil) != nil")
	}
}
