package tui

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/strata-dc/strata/master/client"
)

// sshBackend gives every session its own stream, opened with the
// fixture's snapshot, and records actions in the shared stub.
type sshBackend struct{ *stubBackend }

func (b sshBackend) Subscribe(ctx context.Context) (<-chan client.OperatorUpdate, error) {
	ch := make(chan client.OperatorUpdate, 1)
	ch <- client.OperatorUpdate{Event: subscribed(fixtureState())}
	return ch, nil // never closed: the model stops reading when it ends
}

// testKey is a client key: its signer and its authorized_keys line.
type testKey struct {
	signer gossh.Signer
	line   string
}

func newTestKey(t *testing.T, comment string) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey())))
	if comment != "" {
		line += " " + comment
	}
	return testKey{signer: s, line: line}
}

// sshScreen collects what a session draws.
type sshScreen struct {
	mu  sync.Mutex
	raw []byte
}

func (s *sshScreen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = append(s.raw, p...)
	return len(p), nil
}

// mark is where the output is now; since reads what came after it.
func (s *sshScreen) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.raw)
}

func (s *sshScreen) since(mark int) (raw, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw = string(s.raw[mark:])
	return raw, stripANSI(raw)
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r`)

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// waitText waits until everything drawn after mark holds all of want.
func (s *sshScreen) waitText(t *testing.T, mark int, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, text := s.since(mark)
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q; it showed:\n%s", missing, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type sshSession struct {
	client *gossh.Client
	sess   *gossh.Session
	in     io.WriteCloser
	screen *sshScreen
}

func (c *sshSession) send(t *testing.T, keys string) {
	t.Helper()
	if _, err := c.in.Write([]byte(keys)); err != nil {
		t.Fatalf("send %q: %v", keys, err)
	}
}

func dialDashboard(t *testing.T, s *SSHServer, k testKey) (*gossh.Client, error) {
	return gossh.Dial("tcp", s.Addr().String(), &gossh.ClientConfig{
		User: "operator",
		Auth: []gossh.AuthMethod{gossh.PublicKeys(k.signer)},
		HostKeyCallback: func(_ string, _ net.Addr, key gossh.PublicKey) error {
			if got := gossh.FingerprintSHA256(key); got != s.HostKeyFingerprint() {
				return errors.New("host key " + got + " is not the server's")
			}
			return nil
		},
		Timeout: 10 * time.Second,
	})
}

// openDashboard logs in with k and starts a shell on an 80×24 pty of
// terminal type term, with env sent first.
func openDashboard(t *testing.T, s *SSHServer, k testKey, term string, env map[string]string) *sshSession {
	t.Helper()
	c, err := dialDashboard(t, s, k)
	if err != nil {
		t.Fatalf("ssh login: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if err := sess.Setenv(k, v); err != nil {
			t.Fatalf("setenv %s: %v", k, err)
		}
	}
	if err := sess.RequestPty(term, 24, 80, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	screen := &sshScreen{}
	sess.Stdout = screen
	sess.Stderr = screen
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	return &sshSession{client: c, sess: sess, in: in, screen: screen}
}

func startSSHDashboard(t *testing.T, dir string, b Backend, authorized ...string) *SSHServer {
	t.Helper()
	keysFile := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keysFile, []byte("# who may watch\n"+strings.Join(authorized, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewSSHServer(SSHOptions{Addr: "127.0.0.1:0", AuthorizedKeys: keysFile,
		HostKey:   filepath.Join(dir, "data", HostKeyName),
		Dashboard: Options{Backend: b, Cluster: "zk://10.0.0.1:2181/strata-over-ssh-test", RolesEvery: -1}})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

func TestSSHDashboard(t *testing.T) {
	dir := t.TempDir()
	stub := newStub()
	admin, reader, stranger := newTestKey(t, "alice@laptop "+AdminMarker), newTestKey(t, "bob@desk"), newTestKey(t, "")
	s := startSSHDashboard(t, dir, sshBackend{stub}, admin.line, reader.line)

	hk, err := os.Stat(filepath.Join(dir, "data", HostKeyName))
	if err != nil || hk.Mode().Perm() != 0o600 {
		t.Fatalf("host key file: %v, mode %v", err, hk)
	}

	t.Run("admin", func(t *testing.T) {
		c := openDashboard(t, s, admin, "xterm-256color", nil)
		raw, _ := c.screen.since(0)
		text := c.screen.waitText(t, 0, "strata top", "live", "agents 3/4 up", "Overview · ? help")
		if strings.Contains(text, "[read-only]") {
			t.Errorf("admin session is read-only:\n%s", text)
		}
		raw, _ = c.screen.since(0)
		if !strings.Contains(raw, "38;5;") {
			t.Errorf("TERM=xterm-256color drew no 256-colour sequences: %q", raw[:min(len(raw), 400)])
		}

		mark := c.screen.mark()
		c.send(t, "2")
		c.screen.waitText(t, mark, "Agents · ", "node-01", "draining")

		mark = c.screen.mark()
		c.send(t, "D")
		c.screen.waitText(t, mark, "drain agent node-01 (M1-S1)")
		c.send(t, "y")
		waitActions(t, stub, "drain M1-S1")

		// A wider window: the header has room for the whole cluster name.
		mark = c.screen.mark()
		if err := c.sess.WindowChange(40, 160); err != nil {
			t.Fatal(err)
		}
		c.screen.waitText(t, mark, "strata-over-ssh-test")

		mark = c.screen.mark()
		c.send(t, "q")
		if err := c.sess.Wait(); err != nil {
			t.Errorf("session after q: %v", err)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		before := len(stub.Actions())
		c := openDashboard(t, s, reader, "xterm-256color", map[string]string{"NO_COLOR": "1"})
		c.screen.waitText(t, 0, "strata top [read-only]", "agents 3/4 up")
		mark := c.screen.mark()
		c.send(t, "2")
		c.screen.waitText(t, mark, "Agents · ", "node-01")

		// Bubble Tea reads runes that arrive together as one key, so the
		// key after D is a tab (its own key), and help waits for it.
		mark = c.screen.mark()
		c.send(t, "D\t")
		c.screen.waitText(t, mark, "Frameworks · ")
		c.send(t, "?")
		text := c.screen.waitText(t, mark, "HELP", "read-only: actions are off")
		if strings.Contains(text, "drain agent node-01") {
			t.Errorf("read-only session asked to drain:\n%s", text)
		}
		if strings.Contains(text, "drain agent") && strings.Contains(text, "D ") {
			t.Errorf("read-only help lists the drain key:\n%s", text)
		}
		if got := stub.Actions(); len(got) != before {
			t.Errorf("read-only session sent %v", got[before:])
		}
		raw, _ := c.screen.since(0)
		if strings.Contains(raw, "38;5;") || strings.Contains(raw, "38;2;") {
			t.Errorf("NO_COLOR session drew colours")
		}
		c.sess.Close()
	})

	t.Run("no pty", func(t *testing.T) {
		cl, err := dialDashboard(t, s, reader)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		sess, err := cl.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, err := sess.CombinedOutput("")
		var exit *gossh.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
			t.Errorf("no pty: err %v, want exit status 1", err)
		}
		if !strings.Contains(string(out), "needs a terminal") {
			t.Errorf("no pty: %q", out)
		}
	})

	t.Run("unknown key", func(t *testing.T) {
		cl, err := dialDashboard(t, s, stranger)
		if err == nil {
			cl.Close()
			t.Fatal("an unlisted key logged in")
		}
		if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("unknown key: %v", err)
		}
	})
}

func waitActions(t *testing.T, b *stubBackend, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, a := range b.Actions() {
			if a == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("action %q never sent; sent %v", want, b.Actions())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSSHServerRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	b := sshBackend{newStub()}
	bad := filepath.Join(dir, "bad_keys")
	if err := os.WriteFile(bad, []byte("ssh-ed25519 AAAA-not-base64 x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty_keys")
	if err := os.WriteFile(empty, []byte("# nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		keys, want string
	}{
		{filepath.Join(dir, "missing"), "no such file"},
		{bad, "line 1"},
		{empty, "no keys"},
	} {
		_, err := NewSSHServer(SSHOptions{Addr: "127.0.0.1:0", AuthorizedKeys: c.keys,
			HostKey: filepath.Join(dir, "hk"), Dashboard: Options{Backend: b}})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--authorized-keys") {
			t.Errorf("keys %s: err %v, want one naming --authorized-keys and %q", c.keys, err, c.want)
		}
	}
}

func TestSSHKeyRoles(t *testing.T) {
	dir := t.TempDir()
	marked, plain, extra := newTestKey(t, "ops "+AdminMarker), newTestKey(t, "strata-admins-not"), newTestKey(t, "carol")
	auth, admins := filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "admin_keys")
	if err := os.WriteFile(auth, []byte(marked.line+"\n"+plain.line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(admins, []byte(extra.line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &SSHServer{opts: SSHOptions{AuthorizedKeys: auth, AdminKeys: admins}}
	for _, c := range []struct {
		name  string
		k     testKey
		admin bool
	}{{"marked", marked, true}, {"plain", plain, false}, {"admin file", extra, true}} {
		if got := s.isAdmin(c.k.signer.PublicKey()); got != c.admin {
			t.Errorf("%s key: admin %v, want %v", c.name, got, c.admin)
		}
	}
}

func TestSSHHostKeyKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", HostKeyName)
	first, err := loadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v, mode %v", err, fi)
	}
	again, err := loadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if gossh.FingerprintSHA256(first.PublicKey()) != gossh.FingerprintSHA256(again.PublicKey()) {
		t.Error("the host key changed on the second start")
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateHostKey(path); err == nil || !strings.Contains(err.Error(), "--host-key") {
		t.Errorf("a corrupt host key: err %v, want one naming --host-key", err)
	}
}
