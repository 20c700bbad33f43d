package coord

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in      string
		want    URL
		wantErr string // substring of the error; "" means success
	}{
		{in: "zk://h1:2181/strata", want: URL{Servers: []string{"h1:2181"}, Chroot: "/strata"}},
		{in: "zk://h1:2181,h2:2182,10.0.0.3:2183/mesos/prod",
			want: URL{Servers: []string{"h1:2181", "h2:2182", "10.0.0.3:2183"}, Chroot: "/mesos/prod"}},
		{in: "zk://127.0.0.1:2181/", want: URL{Servers: []string{"127.0.0.1:2181"}, Chroot: "/"}},
		{in: "zk://127.0.0.1:2181", want: URL{Servers: []string{"127.0.0.1:2181"}, Chroot: "/"}},
		{in: "  zk://h:1/a/  ", want: URL{Servers: []string{"h:1"}, Chroot: "/a"}},
		{in: "zk://h/strata", want: URL{Servers: []string{"h:2181"}, Chroot: "/strata"}},
		{in: "zk://[::1]:2181,[fe80::1]/x", want: URL{Servers: []string{"[::1]:2181", "[fe80::1]:2181"}, Chroot: "/x"}},
		{in: "zk://alice:s3cret@h1:2181,h2:2181/strata",
			want: URL{Servers: []string{"h1:2181", "h2:2181"}, Chroot: "/strata", User: "alice", Password: "s3cret"}},
		{in: "zk://alice:p@ss:w@rd@h1:2181/strata",
			want: URL{Servers: []string{"h1:2181"}, Chroot: "/strata", User: "alice", Password: "p@ss:w@rd"}},
		{in: "zk://alice:@h1:2181/s", want: URL{Servers: []string{"h1:2181"}, Chroot: "/s", User: "alice"}},

		{in: "", wantErr: "missing scheme"},
		{in: "h1:2181/strata", wantErr: "missing scheme"},
		{in: "http://h1:2181/strata", wantErr: `scheme "http" is not supported`},
		{in: "ZK://h1:2181/strata", wantErr: `scheme "ZK" is not supported`},
		{in: "zk:///strata", wantErr: "no servers"},
		{in: "zk://alice:pw@/strata", wantErr: "no servers"},
		{in: "zk://h1:2181,,h2:2181/s", wantErr: "empty server"},
		{in: "zk://h1:2181,/s", wantErr: "empty server"},
		{in: "zk://:2181/s", wantErr: "empty host"},
		{in: "zk://h1:abc/s", wantErr: `port "abc"`},
		{in: "zk://h1:0/s", wantErr: `port "0"`},
		{in: "zk://h1:70000/s", wantErr: `port "70000"`},
		{in: "zk://h1:/s", wantErr: `port ""`},
		{in: "zk://::1:2181/s", wantErr: "IPv6 addresses must be bracketed"},
		{in: "zk://alice@h1:2181/s", wantErr: "credentials must be user:password"},
		{in: "zk://:pw@h1:2181/s", wantErr: "empty user"},
		{in: "zk://h1:2181/a//b", wantErr: "empty path segment"},
		{in: "zk://h1:2181/a/../b", wantErr: `relative segment ".."`},
		{in: "zk://h1:2181/a/./b", wantErr: `relative segment "."`},
		{in: "zk://h1:2181/a\x01b", wantErr: "not allowed"},
		{in: "zk://h1:2181/s?x=1", wantErr: "query strings"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %+v, want error containing %q", tt.in, got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseURL(%q) error %q, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseURL(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			// String round-trips.
			again, err := ParseURL(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("ParseURL(%q.String() = %q) = %+v, %v", tt.in, got.String(), again, err)
			}
		})
	}
}

func TestParseURLErrorsHidePassword(t *testing.T) {
	for _, in := range []string{
		"zk://alice:hunter2@h1:bad/s",
		"zk://alice:hunter2@h1:2181/a//b",
		"zk://alice:hunter2@/s",
	} {
		_, err := ParseURL(in)
		if err == nil {
			t.Fatalf("ParseURL(%q) succeeded", in)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("error leaks the password: %v", err)
		}
	}
}

func TestURLRedacted(t *testing.T) {
	u, err := ParseURL("zk://alice:hunter2@h1:2181/strata")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Redacted(), "zk://alice:xxxxx@h1:2181/strata"; got != want {
		t.Fatalf("Redacted() = %q, want %q", got, want)
	}
	if got, want := u.String(), "zk://alice:hunter2@h1:2181/strata"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	plain := URL{Servers: []string{"h:1"}, Chroot: "/"}
	if got, want := plain.Redacted(), "zk://h:1/"; got != want {
		t.Fatalf("Redacted() = %q, want %q", got, want)
	}
}

func TestJoinChroot(t *testing.T) {
	tests := []struct {
		chroot, rel, want, wantErr string
	}{
		{"/strata", "master/leader", "/strata/master/leader", ""},
		{"/strata", "/master/leader", "/strata/master/leader", ""},
		{"/strata", "", "/strata", ""},
		{"/", "a", "/a", ""},
		{"/", "", "/", ""},
		{"/strata", "a/", "", "must not end with /"},
		{"/strata", "a//b", "", "empty path segment"},
		{"/strata", "../x", "", "relative segment"},
	}
	for _, tt := range tests {
		got, err := joinChroot(tt.chroot, tt.rel)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("joinChroot(%q, %q) = %q, %v; want error %q", tt.chroot, tt.rel, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("joinChroot(%q, %q) = %q, %v; want %q", tt.chroot, tt.rel, got, err, tt.want)
		}
	}
}

func TestSortMembers(t *testing.T) {
	got := sortMembers([]string{
		"json.info_0000000010", "info_0000000001", "json.info_0000000002",
		"json.info_junk", "log_replicas", "json.info_-2147483648", "json.info_0000000003",
	})
	want := []string{"json.info_-2147483648", "json.info_0000000002", "json.info_0000000003", "json.info_0000000010"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sortMembers = %v, want %v", got, want)
	}
}
