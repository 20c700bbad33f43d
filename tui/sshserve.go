package tui

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"
)

// AdminMarker is the word that, in an authorized_keys line's comment,
// makes that key an admin of `strata top --serve-ssh`:
//
//	ssh-ed25519 AAAAC3Nz... alice@laptop strata-admin
//
// Admins get the dashboard's actions; every other listed key gets it
// read-only. A key listed in SSHOptions.AdminKeys is an admin too.
const AdminMarker = "strata-admin"

// HostKeyName is the host key's file name in the data dir when no path
// is given.
const HostKeyName = "top_ssh_host_ed25519_key"

// SSHOptions configure ServeSSH.
type SSHOptions struct {
	// Addr is where to listen ("127.0.0.1:2222"; port 0 picks one).
	Addr string
	// AuthorizedKeys is the OpenSSH authorized_keys file of who may
	// connect. It is read again at each login, so keys can be added or
	// removed without a restart. Lines whose comment holds AdminMarker
	// are admins.
	AuthorizedKeys string
	// AdminKeys optionally lists more keys (authorized_keys format) that
	// may connect as admins.
	AdminKeys string
	// HostKey is the server's private key file; it is generated
	// (ed25519, mode 0600) when missing.
	HostKey string
	// Dashboard is the template of each session's Options: its Backend
	// is shared by every session (each subscribes on its own), its Keys
	// are copied per session. ReadOnly makes every session read-only,
	// admins included. Renderer is ignored: each session gets one for
	// the client's terminal.
	Dashboard Options
	// Color overrides the colour depth the client's TERM implies.
	Color ColorMode
	// Mouse enables mouse events in every session.
	Mouse bool
	// Logger records logins and refusals (nil: discarded).
	Logger *slog.Logger
}

// SSHServer serves the dashboard over SSH: one Model per session, sized
// to the session's pty and following its resizes.
type SSHServer struct {
	opts    SSHOptions
	log     *slog.Logger
	srv     *ssh.Server
	ln      net.Listener
	hostKey gossh.PublicKey

	mu       sync.Mutex
	sessions sync.WaitGroup
	closed   bool
}

// keySet is one read of the key files: which keys may connect, and
// which of them are admins (by the key's wire form).
type keySet struct {
	allowed map[string]bool // value: admin
}

// NewSSHServer checks the key files, loads or creates the host key and
// starts listening; Serve then answers connections.
func NewSSHServer(o SSHOptions) (*SSHServer, error) {
	if o.AuthorizedKeys == "" {
		return nil, errors.New("--authorized-keys: a file of the keys allowed in is required")
	}
	if o.HostKey == "" {
		return nil, errors.New("--host-key: no host key path")
	}
	if o.Dashboard.Backend == nil {
		return nil, errors.New("ssh dashboard: no backend")
	}
	s := &SSHServer{opts: o, log: o.Logger}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ks, err := s.loadKeys()
	if err != nil {
		return nil, err
	}
	if len(ks.allowed) == 0 {
		return nil, fmt.Errorf("--authorized-keys %s: no keys in it, nobody could connect", o.AuthorizedKeys)
	}
	signer, err := loadOrCreateHostKey(o.HostKey)
	if err != nil {
		return nil, err
	}
	s.hostKey = signer.PublicKey()
	srv, err := wish.NewServer(
		func(srv *ssh.Server) error { srv.AddHostKey(signer); return nil },
		wish.WithPublicKeyAuth(s.authorize),
		// The outer middleware refuses sessions without a pty before any
		// model exists; the inner one runs the session's program.
		wish.WithMiddleware(s.runProgram, s.requirePty),
	)
	if err != nil {
		return nil, fmt.Errorf("ssh dashboard: %w", err)
	}
	s.srv = srv
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("--serve-ssh %s: %w", o.Addr, err)
	}
	s.ln = ln
	return s, nil
}

// Addr is the address the server listens on.
func (s *SSHServer) Addr() net.Addr { return s.ln.Addr() }

// HostKeyFingerprint is the host key's SHA256 fingerprint, for the
// operator to compare with what ssh shows on first connect.
func (s *SSHServer) HostKeyFingerprint() string { return gossh.FingerprintSHA256(s.hostKey) }

// Serve answers connections until Close; it returns nil after Close.
func (s *SSHServer) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Close drops every connection and waits (a few seconds at most) for
// the sessions' dashboards to stop.
func (s *SSHServer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Close()
	// The listener too, in case Serve never ran (the server only tracks
	// listeners it serves).
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	done := make(chan struct{})
	go func() { s.sessions.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.log.Warn("ssh dashboard: sessions still ending after close")
	}
	return err
}

// authorize admits the keys the files list, reading them again each
// time; a file that cannot be read refuses everyone (and says why).
func (s *SSHServer) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	ks, err := s.loadKeys()
	if err != nil {
		s.log.Error("ssh dashboard: refusing logins", "err", err)
		return false
	}
	if _, ok := ks.allowed[string(key.Marshal())]; !ok {
		s.log.Info("ssh dashboard: unknown key refused", "user", ctx.User(), "remote", ctx.RemoteAddr().String(),
			"key", gossh.FingerprintSHA256(key))
		return false
	}
	return true
}

// isAdmin reads the files again for the key the session authenticated
// with (not whichever key was merely offered first).
func (s *SSHServer) isAdmin(key ssh.PublicKey) bool {
	if key == nil {
		return false
	}
	ks, err := s.loadKeys()
	if err != nil {
		return false
	}
	return ks.allowed[string(key.Marshal())]
}

func (s *SSHServer) loadKeys() (*keySet, error) {
	ks := &keySet{allowed: map[string]bool{}}
	if err := readKeyFile(s.opts.AuthorizedKeys, "--authorized-keys", ks, false); err != nil {
		return nil, err
	}
	if s.opts.AdminKeys != "" {
		if err := readKeyFile(s.opts.AdminKeys, "--admin-keys", ks, true); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

// readKeyFile adds the keys of an authorized_keys file to ks, naming the
// line of any key it cannot parse.
func readKeyFile(path, flag string, ks *keySet, admin bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, comment, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return fmt.Errorf("%s %s line %d: %w", flag, path, n, err)
		}
		a := admin || hasAdminMarker(comment)
		k := string(key.Marshal())
		ks.allowed[k] = ks.allowed[k] || a
	}
	return sc.Err()
}

func hasAdminMarker(comment string) bool {
	for _, w := range strings.Fields(comment) {
		if w == AdminMarker {
			return true
		}
	}
	return false
}

// loadOrCreateHostKey reads the host key, or generates an ed25519 one
// (mode 0600, its directory 0700) when the file does not exist.
func loadOrCreateHostKey(path string) (gossh.Signer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, fmt.Errorf("--host-key %s: generating: %w", path, gerr)
		}
		block, merr := gossh.MarshalPrivateKey(priv, "strata top ssh host key")
		if merr != nil {
			return nil, fmt.Errorf("--host-key %s: %w", path, merr)
		}
		data = pem.EncodeToMemory(block)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("--host-key %s: %w", path, err)
		}
		f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if ferr != nil {
			return nil, fmt.Errorf("--host-key %s: %w", path, ferr)
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("--host-key %s: %w", path, werr)
		}
	} else if err != nil {
		return nil, fmt.Errorf("--host-key %s: %w", path, err)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("--host-key %s: %w", path, err)
	}
	return signer, nil
}

// requirePty turns away sessions without a terminal with a message that
// says what to do, and counts the sessions Close waits for.
func (s *SSHServer) requirePty(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.sessions.Add(1)
		s.mu.Unlock()
		defer s.sessions.Done()
		if _, _, ok := sess.Pty(); !ok {
			wish.Fatalln(sess, "strata top needs a terminal: connect with `ssh -t` (no command, no -T)")
			return
		}
		next(sess)
	}
}

// runProgram is the bubbletea middleware: one dashboard per session,
// reading keys from and drawing to the session, sized to its pty and
// following its window changes, stopped when the client goes away.
//
// (wish/bubbletea does the same, but pulls in a terminal-query module
// this repository does not carry, and queries the client's background
// colour, which blocks on terminals that never answer.)
func (s *SSHServer) runProgram(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		_, windows, _ := sess.Pty()
		m, p := s.program(sess)
		defer m.Close()
		ctx, cancel := context.WithCancel(sess.Context())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // follows resizes until the program ends
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					p.Quit()
					return
				case w, ok := <-windows:
					if !ok {
						windows = nil // the session's requests ended; wait for ctx
						continue
					}
					p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
				}
			}
		}()
		if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
			s.log.Warn("ssh dashboard: session ended", "user", sess.User(), "err", err)
		}
		p.Kill()
		cancel()
		wg.Wait()
		next(sess)
	}
}

// program builds the session's dashboard: read-only unless the key is an
// admin's, its own copy of the keymap, colours from the client's TERM.
func (s *SSHServer) program(sess ssh.Session) (*Model, *tea.Program) {
	o := s.opts.Dashboard
	admin := s.isAdmin(sess.PublicKey())
	o.ReadOnly = o.ReadOnly || !admin
	km := DefaultKeyMap()
	if o.Keys != nil {
		c := *o.Keys
		km = &c
	}
	o.Keys = km
	o.Renderer = sessionRenderer(sess, s.opts.Color)
	m := New(o)
	role := "read-only"
	if !o.ReadOnly {
		role = "admin"
	}
	s.log.Info("ssh dashboard: session", "user", sess.User(), "remote", sess.RemoteAddr().String(), "role", role,
		"key", gossh.FingerprintSHA256(sess.PublicKey()))
	popts := []tea.ProgramOption{tea.WithInput(sess), tea.WithOutput(sess), tea.WithAltScreen(),
		tea.WithoutSignalHandler()}
	if s.opts.Mouse {
		popts = append(popts, tea.WithMouseCellMotion())
	}
	return m, tea.NewProgram(m, popts...)
}

// sessionRenderer picks the colour depth from the client's TERM (and
// COLORTERM or NO_COLOR when the client sends them), not from the
// server's own terminal; it never queries the client, which some
// terminals never answer.
func sessionRenderer(sess ssh.Session, mode ColorMode) *lipgloss.Renderer {
	env := sess.Environ()
	if pty, _, ok := sess.Pty(); ok && pty.Term != "" {
		env = append(env, "TERM="+pty.Term)
	}
	getenv := sshEnviron(env).Getenv
	r := lipgloss.NewRenderer(sess, termenv.WithEnvironment(sshEnviron(env)), termenv.WithUnsafe())
	switch term := getenv("TERM"); {
	case mode == ColorNone, getenv("NO_COLOR") != "", term == "" || term == "dumb":
		r.SetColorProfile(termenv.Ascii)
	case mode == ColorTrue:
		r.SetColorProfile(termenv.TrueColor)
	case mode == Color256:
		r.SetColorProfile(termenv.ANSI256)
	case mode == Color16:
		r.SetColorProfile(termenv.ANSI)
	}
	r.SetHasDarkBackground(true)
	return r
}

// sshEnviron is the client's environment for termenv's detection.
type sshEnviron []string

func (e sshEnviron) Environ() []string { return e }

func (e sshEnviron) Getenv(k string) string {
	v := ""
	for _, kv := range e {
		if strings.HasPrefix(kv, k+"=") {
			v = kv[len(k)+1:]
		}
	}
	return v
}

// ServeSSH runs an SSHServer until ctx ends.
func ServeSSH(ctx context.Context, s *SSHServer) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
		err := s.Close()
		<-errc
		return err
	}
}
