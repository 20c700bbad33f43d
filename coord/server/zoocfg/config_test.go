package zoocfg

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, text string) Config {
	t.Helper()
	c, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return c
}

// TestParseDebianExample: the zoo.cfg Debian's zookeeper package ships as an
// example parses, validates, and means what it means to ZooKeeper.
func TestParseDebianExample(t *testing.T) {
	paths := []string{"testdata/debian-conf_example-zoo.cfg"}
	if _, err := os.Stat("/etc/zookeeper/conf_example/zoo.cfg"); err == nil {
		paths = append(paths, "/etc/zookeeper/conf_example/zoo.cfg")
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			c, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			want := Default()
			want.DataDir, want.DataLogDir = "/tmp/zookeeper", "/tmp/zookeeper"
			want.Unknown = map[string]string{"initLimit": "10", "syncLimit": "5"}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("Load(%s) =\n%+v\nwant\n%+v", p, c, want)
			}
		})
	}
}

func TestParseEveryKey(t *testing.T) {
	c, err := Load("testdata/full-zoo.cfg")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DataDir:                 "/srv/coord/data",
		DataLogDir:              "/srv/coord/log",
		ClientPort:              2282,
		ClientPortAddress:       "127.0.0.1",
		SecureClientPort:        2283,
		SecureClientPortAddress: "127.0.0.1",
		SSL: SSLConfig{
			KeyStoreLocation: "/etc/zookeeper/tls/server.pem", KeyStoreType: "PEM",
			TrustStoreLocation: "/etc/zookeeper/tls/ca.pem", TrustStoreType: "PEM", ClientAuth: "want",
		},
		TickTime:                 500 * time.Millisecond,
		MinSessionTimeout:        1500 * time.Millisecond,
		MaxSessionTimeout:        30 * time.Second,
		MaxClientCnxns:           0,
		FourLetterWhitelist:      []string{"ruok", "srvr", "mntr"},
		AutopurgeSnapRetainCount: 5,
		AutopurgePurgeInterval:   24 * time.Hour,
		SnapCount:                50000,
		ForceSync:                false,
		PreAllocSize:             16 << 20,
		JuteMaxBuffer:            4 << 20,
		AdminAddress:             "127.0.0.1:7000",
		GlobalOutstandingLimit:   2000,
		SuperDigest:              "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
		Unknown: map[string]string{
			"initLimit": "10", "syncLimit": "5", "admin.enableServer": "false", "metricsProvider.exportJvmInfo": "true",
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseEnsembleIsRefused(t *testing.T) {
	_, err := Load("testdata/ensemble-zoo.cfg")
	if err == nil {
		t.Fatal("a three-server zoo.cfg parsed; the embedded server is standalone only")
	}
	for _, want := range []string{"testdata/ensemble-zoo.cfg", "line 8", "server.2", "ensemble of 3 servers", "standalone only", "Apache ZooKeeper", "--zk"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	_, err = Parse(strings.NewReader("dataDir=/d\ndynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2: dynamicConfigFile") || !strings.Contains(err.Error(), "standalone only") {
		t.Errorf("dynamicConfigFile error = %v", err)
	}
}

func TestParseDerivesAndAdjusts(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, c Config)
	}{
		{"session bounds follow tickTime", "tickTime=1000", func(t *testing.T, c Config) {
			if c.MinSessionTimeout != 2*time.Second || c.MaxSessionTimeout != 20*time.Second {
				t.Errorf("bounds %v..%v, want 2s..20s", c.MinSessionTimeout, c.MaxSessionTimeout)
			}
		}},
		{"-1 means unset", "tickTime=100\nminSessionTimeout=-1\nmaxSessionTimeout=-1", func(t *testing.T, c Config) {
			if c.MinSessionTimeout != 200*time.Millisecond || c.MaxSessionTimeout != 2*time.Second {
				t.Errorf("bounds %v..%v, want 200ms..2s", c.MinSessionTimeout, c.MaxSessionTimeout)
			}
		}},
		{"one bound set", "maxSessionTimeout=90000", func(t *testing.T, c Config) {
			if c.MinSessionTimeout != 4*time.Second || c.MaxSessionTimeout != 90*time.Second {
				t.Errorf("bounds %v..%v, want 4s..90s", c.MinSessionTimeout, c.MaxSessionTimeout)
			}
		}},
		{"dataLogDir defaults to dataDir", "dataDir=/a", func(t *testing.T, c Config) {
			if c.DataLogDir != "/a" {
				t.Errorf("DataLogDir = %q", c.DataLogDir)
			}
		}},
		{"last of a repeated key wins", "clientPort=1\nclientPort=2", func(t *testing.T, c Config) {
			if c.ClientPort != 2 {
				t.Errorf("ClientPort = %d", c.ClientPort)
			}
		}},
		{"snapRetainCount raised to 3", "autopurge.snapRetainCount=1", func(t *testing.T, c Config) {
			if c.AutopurgeSnapRetainCount != 3 || !warned(c, "snapRetainCount 1") {
				t.Errorf("retain %d, warnings %q", c.AutopurgeSnapRetainCount, c.Warnings)
			}
		}},
		{"snapCount raised to 2", "snapCount=0", func(t *testing.T, c Config) {
			if c.SnapCount != 2 || !warned(c, "snapCount 0") {
				t.Errorf("snapCount %d, warnings %q", c.SnapCount, c.Warnings)
			}
		}},
		{"one server runs standalone", "server.1=localhost:2888:3888", func(t *testing.T, c Config) {
			if c.Unknown["server.1"] != "localhost:2888:3888" || !warned(c, "server.1") {
				t.Errorf("unknown %v, warnings %q", c.Unknown, c.Warnings)
			}
		}},
		{"whitelist star", "4lw.commands.whitelist=*", func(t *testing.T, c Config) {
			if !reflect.DeepEqual(c.FourLetterWhitelist, []string{"*"}) {
				t.Errorf("whitelist %q", c.FourLetterWhitelist)
			}
		}},
		{"whitelist empty allows srvr only", "4lw.commands.whitelist=", func(t *testing.T, c Config) {
			if len(c.FourLetterWhitelist) != 0 {
				t.Errorf("whitelist %q", c.FourLetterWhitelist)
			}
		}},
		{"whitelist typo warned", "4lw.commands.whitelist=ruok,mntrr", func(t *testing.T, c Config) {
			if !warned(c, `"mntrr" is not a four-letter word`) {
				t.Errorf("warnings %q", c.Warnings)
			}
		}},
		{"purge interval with unit", "autopurge.purgeInterval=90m", func(t *testing.T, c Config) {
			if c.AutopurgePurgeInterval != 90*time.Minute {
				t.Errorf("purge %v", c.AutopurgePurgeInterval)
			}
		}},
		{"purge interval in ms and days", "autopurge.purgeInterval=1D\n", func(t *testing.T, c Config) {
			if c.AutopurgePurgeInterval != 24*time.Hour {
				t.Errorf("purge %v", c.AutopurgePurgeInterval)
			}
		}},
		{"jute.maxbuffer decimal and octal", "jute.maxbuffer=010", func(t *testing.T, c Config) {
			if c.JuteMaxBuffer != 8 {
				t.Errorf("jute.maxbuffer %d (Integer.decode reads 010 as octal)", c.JuteMaxBuffer)
			}
		}},
		{"superDigest as the JVM property", "zookeeper.DigestAuthenticationProvider.superDigest=super:x", func(t *testing.T, c Config) {
			if c.SuperDigest != "super:x" {
				t.Errorf("SuperDigest %q", c.SuperDigest)
			}
		}},
		{"strata.adminAddress wins over the prometheus provider", "strata.adminAddress=127.0.0.1:9100\n" +
			"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=7000",
			func(t *testing.T, c Config) {
				if c.AdminAddress != "127.0.0.1:9100" {
					t.Errorf("AdminAddress %q", c.AdminAddress)
				}
			}},
		{"prometheus provider binds all interfaces by default", "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n" +
			"metricsProvider.httpPort=7000", func(t *testing.T, c Config) {
			if c.AdminAddress != "0.0.0.0:7000" {
				t.Errorf("AdminAddress %q", c.AdminAddress)
			}
		}},
		{"httpPort without the prometheus provider is ignored", "metricsProvider.httpPort=7000", func(t *testing.T, c Config) {
			if c.AdminAddress != "" || c.Unknown["metricsProvider.httpPort"] != "7000" {
				t.Errorf("AdminAddress %q, unknown %v", c.AdminAddress, c.Unknown)
			}
		}},
		{"secure port alone leaves no plaintext port", "secureClientPort=2281", func(t *testing.T, c Config) {
			if c.SecureClientPort != 2281 || !c.NoClientPort || len(c.Unknown) != 0 {
				t.Errorf("SecureClientPort %d, NoClientPort %v, unknown %v", c.SecureClientPort, c.NoClientPort, c.Unknown)
			}
		}},
		{"forceSync yes", "forceSync=yes", func(t *testing.T, c Config) {
			if !c.ForceSync {
				t.Error("ForceSync false")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, parse(t, tt.in)) })
	}
}

func warned(c Config, substr string) bool {
	for _, w := range c.Warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"dataDir=/d\nclientPort=abc", `line 2: clientPort: "abc": not a number`},
		{"clientPort=99999999999", `line 1: clientPort: "99999999999": out of range`},
		{"tickTime=2s", `line 1: tickTime: "2s": not a number`},
		{"\n\nmaxClientCnxns=1.5", "line 3: maxClientCnxns"},
		{"minSessionTimeout=", `line 1: minSessionTimeout: "": not a number`},
		{"snapCount=lots", "line 1: snapCount"},
		{"jute.maxbuffer=0x", "line 1: jute.maxbuffer"},
		{"jute.maxbuffer=0x100000000", `line 1: jute.maxbuffer: "0x100000000": out of range`},
		{"preAllocSize=-1", "line 1: preAllocSize"},
		{"autopurge.purgeInterval=1w", "line 1: autopurge.purgeInterval"},
		{"autopurge.snapRetainCount=three", "line 1: autopurge.snapRetainCount"},
		{"globalOutstandingLimit=--1", "line 1: globalOutstandingLimit"},
		{"forceSync=false", `line 1: forceSync: "false": want yes or no`},
		{"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider", "needs metricsProvider.httpPort"},
		{"metricsProvider.className=PrometheusMetricsProvider\nmetricsProvider.httpPort=x", "line 2: metricsProvider.httpPort"},
		{"server.1=a:1:2\nserver.2=b:1:2", "line 2: server.2"},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Default()
	ok.DataDir = "/d"
	if err := ok.Validate(); err != nil {
		t.Fatalf("Default with dataDir: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // "" = valid
	}{
		{"dataDir", func(c *Config) { c.DataDir = "" }, "dataDir: required"},
		{"port high", func(c *Config) { c.ClientPort = 65536 }, "clientPort 65536"},
		{"port negative", func(c *Config) { c.ClientPort = -1 }, "clientPort -1"},
		{"port zero picks one", func(c *Config) { c.ClientPort = 0 }, ""},
		{"address", func(c *Config) { c.ClientPortAddress = "bad host!" }, "clientPortAddress"},
		{"address ipv6", func(c *Config) { c.ClientPortAddress = "::1" }, ""},
		{"address name", func(c *Config) { c.ClientPortAddress = "zk-1.example.com" }, ""},
		{"tick zero", func(c *Config) { c.TickTime = 0 }, "tickTime 0s"},
		{"tick fraction", func(c *Config) { c.TickTime = 1500 * time.Microsecond }, "tickTime"},
		{"min above max", func(c *Config) { c.MinSessionTimeout, c.MaxSessionTimeout = 50*time.Second, 40*time.Second },
			"minSessionTimeout 50s must not be larger than maxSessionTimeout 40s"},
		{"derived bounds", func(c *Config) { c.MinSessionTimeout, c.MaxSessionTimeout = 0, 0 }, ""},
		{"derived max below min", func(c *Config) { c.MinSessionTimeout, c.MaxSessionTimeout = 60*time.Second, 0 },
			"minSessionTimeout 1m0s must not be larger than maxSessionTimeout 40s"},
		{"negative min", func(c *Config) { c.MinSessionTimeout = -5 * time.Millisecond }, "minSessionTimeout -5ms"},
		{"cnxns", func(c *Config) { c.MaxClientCnxns = -1 }, "maxClientCnxns -1"},
		{"retain", func(c *Config) { c.AutopurgeSnapRetainCount = 2 }, "autopurge.snapRetainCount 2"},
		{"purge", func(c *Config) { c.AutopurgePurgeInterval = -time.Hour }, "autopurge.purgeInterval"},
		{"snapCount", func(c *Config) { c.SnapCount = 1 }, "snapCount 1"},
		{"prealloc", func(c *Config) { c.PreAllocSize = -1 }, "preAllocSize"},
		{"jute", func(c *Config) { c.JuteMaxBuffer = 0 }, "jute.maxbuffer 0"},
		{"outstanding", func(c *Config) { c.GlobalOutstandingLimit = 0 }, "globalOutstandingLimit 0"},
		{"digest no colon", func(c *Config) { c.SuperDigest = "super" }, "superDigest"},
		{"digest empty hash", func(c *Config) { c.SuperDigest = "super:" }, "superDigest"},
		{"admin", func(c *Config) { c.AdminAddress = "9100" }, "strata.adminAddress"},
		{"admin port", func(c *Config) { c.AdminAddress = ":99999" }, "port must be 0-65535"},
		{"admin ok", func(c *Config) { c.AdminAddress = ":9100" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	bad := Config{}
	err := bad.Validate()
	for _, want := range []string{"dataDir", "tickTime", "snapRetainCount", "snapCount", "jute.maxbuffer", "globalOutstandingLimit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate of the zero Config = %v, want every problem named, including %s", err, want)
		}
	}
}

// TestLoadRelativeDirs: a relative dataDir resolves against the working
// directory, as the JVM resolves a relative java.io.File; ZooKeeper warns
// unless the path starts with ./.
func TestLoadRelativeDirs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cfg := filepath.Join(dir, "conf", "zoo.cfg")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("dataDir=data\ndataLogDir=./log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load("conf/zoo.cfg")
	if err != nil {
		t.Fatal(err)
	}
	// TempDir may sit behind a symlink; compare what Getwd reports.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(wd, "data") || c.DataLogDir != filepath.Join(wd, "log") {
		t.Errorf("dirs = %q, %q; want them under %q", c.DataDir, c.DataLogDir, wd)
	}
	if !warned(c, "dataDir data is relative") || warned(c, "dataLogDir") {
		t.Errorf("warnings = %q; want one for dataDir only", c.Warnings)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.cfg")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestSessionTimeoutsAndIgnoredKeys(t *testing.T) {
	c := Config{TickTime: time.Second, MaxSessionTimeout: 7 * time.Second}
	if minT, maxT := c.SessionTimeouts(); minT != 2*time.Second || maxT != 7*time.Second {
		t.Errorf("SessionTimeouts = %v, %v", minT, maxT)
	}
	c.Unknown = map[string]string{"syncLimit": "5", "initLimit": "10"}
	if got := c.IgnoredKeys(); !reflect.DeepEqual(got, []string{"initLimit", "syncLimit"}) {
		t.Errorf("IgnoredKeys = %q", got)
	}
}
