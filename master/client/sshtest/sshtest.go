// Package sshtest starts a real sshd (Debian's openssh-server) on
// 127.0.0.1 for tests of the ssh:// transport: an ephemeral port, a host
// key and an authorized client key generated in a temp dir, and the
// STRATA_SSH_OPTS that make the system ssh client use them without
// touching ~/.ssh (StrictHostKeyChecking=no, UserKnownHostsFile=/dev/null,
// BatchMode=yes). Tests are skipped, saying exactly what is missing, where
// sshd cannot run.
package sshtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Server is a running sshd.
type Server struct {
	Port int
	Dir  string // keys, config, pid file
	// Opts is the value for STRATA_SSH_OPTS: the client key and options
	// that skip host-key checks and prompts.
	Opts string
	// User is who may log in (the current user).
	User string

	log *lockedBuffer
}

// Log is what sshd wrote to stderr, for failure messages.
func (s *Server) Log() string { return s.log.String() }

// BadKeyOpts is Opts with a key that is not authorized.
func (s *Server) BadKeyOpts() string { return clientOpts(filepath.Join(s.Dir, "host_key")) }

func clientOpts(key string) string {
	return "-i " + key + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
}

// Start runs sshd until the test ends. It needs sshd, ssh and ssh-keygen,
// and root (sshd's privilege separation); it creates sshd's privilege
// separation dir /run/sshd when missing, as Debian's service does at boot.
func Start(t testing.TB) *Server {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/sshd"); e != nil {
			t.Skip("sshd not found (apt-get install openssh-server)")
		}
		sshd = "/usr/sbin/sshd"
	}
	for _, tool := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (apt-get install openssh-client)", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("sshd's privilege separation needs root; the test runs as uid " + fmt.Sprint(os.Geteuid()))
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Skipf("cannot create sshd's privilege separation dir /run/sshd: %v", err)
	}
	dir, err := os.MkdirTemp("", "strata-sshd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, k := range []string{"host_key", "user_key"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "user_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := filepath.Join(dir, "sshd_config")
	conf := fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
`, port, filepath.Join(dir, "host_key"), filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"))
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sshd, "-t", "-f", cfg).CombinedOutput(); err != nil {
		t.Skipf("sshd rejects a minimal config here: %v: %s", err, out)
	}
	s := &Server{Port: port, Dir: dir, Opts: clientOpts(filepath.Join(dir, "user_key")), User: "root", log: &lockedBuffer{}}
	srv := exec.Command(sshd, "-D", "-e", "-f", cfg)
	srv.Stderr = s.log
	if err := srv.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on %d: %v\n%s", port, err, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
