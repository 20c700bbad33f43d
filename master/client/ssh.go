package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The ssh transport works like `docker -H ssh://`: every connection the
// HTTP client opens runs the system ssh client,
//
//	ssh [STRATA_SSH_OPTS...] [-p port] [-l user] -- host strata dial-stdio [--socket P | --tcp H:P]
//
// and speaks HTTP over its stdin and stdout, so ~/.ssh/config, agents and
// jump hosts work as they do for ssh itself. There is one ssh process per
// connection (no multiplexing of our own; ssh's ControlMaster in
// ~/.ssh/config shares one TCP connection among them if wanted); the HTTP
// client keeps idle connections, so a CLI command usually starts one.
//
// Environment:
//
//	STRATA_SSH         the ssh program (default "ssh")
//	STRATA_SSH_OPTS    extra ssh arguments, split on white space, e.g.
//	                   "-F /path/ssh_config -o StrictHostKeyChecking=no"
//	STRATA_SSH_STRATA  the strata program on the far side (default "strata")

// sshMasterHost is the made-up host of ssh masters' URLs; the dialer maps
// it to the far side's control socket. ".invalid" never resolves, so the
// name can only mean this.
const sshMasterHost = "master.ssh.invalid"

// SSHTarget is a parsed ssh://[user@]host[:port][/path/to/master.sock].
type SSHTarget struct {
	User   string
	Host   string
	Port   int    // 0: ssh's default (or ~/.ssh/config's)
	Socket string // the master's control socket on the far side; "": dial-stdio's default
}

// ParseSSH parses an ssh:// master address.
func ParseSSH(s string) (SSHTarget, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return SSHTarget{}, fmt.Errorf("ssh address %q: %w", s, err)
	}
	if u.Scheme != "ssh" {
		return SSHTarget{}, fmt.Errorf("ssh address %q: want ssh://[user@]host[:port][/path/to/master.sock]", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return SSHTarget{}, fmt.Errorf("ssh address %q: no query or fragment allowed", s)
	}
	t := SSHTarget{Host: u.Hostname(), Socket: u.Path}
	if t.Host == "" {
		return SSHTarget{}, fmt.Errorf("ssh address %q has no host", s)
	}
	if strings.HasPrefix(t.Host, "-") {
		return SSHTarget{}, fmt.Errorf("ssh address %q: host may not start with '-'", s)
	}
	if u.User != nil {
		if _, hasPass := u.User.Password(); hasPass {
			return SSHTarget{}, fmt.Errorf("ssh address %q: passwords in the URL are not supported; use ssh keys or an agent", s)
		}
		t.User = u.User.Username()
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SSHTarget{}, fmt.Errorf("ssh address %q: port %q is not in 1-65535", s, p)
		}
		t.Port = n
	}
	if t.Socket == "/" {
		t.Socket = ""
	}
	return t, nil
}

// String formats t back as an ssh:// URL.
func (t SSHTarget) String() string {
	u := url.URL{Scheme: "ssh", Host: t.Host, Path: t.Socket}
	if t.Port != 0 {
		u.Host = net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	}
	if t.User != "" {
		u.User = url.User(t.User)
	}
	return u.String()
}

// Command is the ssh command line that relays one connection: to the
// master's control socket when tcpAddr is empty, else to tcpAddr on the
// far side (an agent's API).
func (t SSHTarget) Command(env func(string) string, tcpAddr string) []string {
	if env == nil {
		env = os.Getenv
	}
	prog := env("STRATA_SSH")
	if prog == "" {
		prog = "ssh"
	}
	args := []string{prog}
	args = append(args, strings.Fields(env("STRATA_SSH_OPTS"))...)
	if t.Port != 0 {
		args = append(args, "-p", strconv.Itoa(t.Port))
	}
	if t.User != "" {
		args = append(args, "-l", t.User)
	}
	remote := env("STRATA_SSH_STRATA")
	if remote == "" {
		remote = "strata"
	}
	args = append(args, "--", t.Host, remote, "dial-stdio")
	switch {
	case tcpAddr != "":
		args = append(args, "--tcp", tcpAddr)
	case t.Socket != "":
		args = append(args, "--socket", t.Socket)
	}
	return args
}

// Dialer returns a DialContext that runs one ssh process per connection.
// The master's made-up host goes to the far side's control socket; any
// other address is dialled over TCP on the far side (agents' APIs, which
// listen on the remote host's loopback in `strata up`).
func (t SSHTarget) Dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		tcp := addr
		if host == sshMasterHost {
			tcp = ""
		}
		return dialCommand(ctx, t.Command(nil, tcp))
	}
}

// maxSSHStderr bounds how much of ssh's stderr is kept for error messages.
const maxSSHStderr = 4 << 10

// dialCommand starts argv and returns its stdin/stdout as a connection.
// ctx bounds only the start: the connection outlives the dial.
func dialCommand(ctx context.Context, argv []string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	// Its own process group: a Ctrl-C meant for the CLI reaches ssh only
	// through Close, so ssh cannot print its own noise or die mid-reply.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	c := &cmdConn{cmd: cmd, stdin: stdin, stdout: stdout, stderr: &limitedBuffer{max: maxSSHStderr}, argv0: argv[0]}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ssh: start %s: %w", argv[0], err)
	}
	c.waited = make(chan struct{})
	go func() { // owned by the connection: ends when the process does
		c.waitErr = cmd.Wait()
		close(c.waited)
	}()
	return c, nil
}

// cmdConn is a net.Conn over a process's stdin and stdout. Deadlines are
// not supported (pipes to a process have none); the HTTP client bounds
// requests by their contexts, which close the connection.
type cmdConn struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *limitedBuffer
	argv0  string

	waited  chan struct{}
	waitErr error

	closeOnce sync.Once
}

func (c *cmdConn) Read(p []byte) (int, error) {
	n, err := c.stdout.Read(p)
	if err == io.EOF && n == 0 {
		if msg := c.failure(); msg != "" {
			return 0, errors.New(msg)
		}
	}
	return n, err
}

func (c *cmdConn) Write(p []byte) (int, error) {
	n, err := c.stdin.Write(p)
	if err != nil {
		if msg := c.failure(); msg != "" {
			return n, errors.New(msg)
		}
	}
	return n, err
}

// failure describes why ssh ended, once it has: its exit status and the
// last of its stderr ("ssh: connect to host h port 22: Connection
// refused"), so the CLI's one-line error says what went wrong.
func (c *cmdConn) failure() string {
	select {
	case <-c.waited:
	case <-time.After(2 * time.Second):
		return ""
	}
	if c.waitErr == nil {
		return ""
	}
	msg := strings.TrimSpace(c.stderr.String())
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	if msg == "" {
		return fmt.Sprintf("%s: %v", c.argv0, c.waitErr)
	}
	return fmt.Sprintf("%s: %v: %s", c.argv0, c.waitErr, msg)
}

// Close ends the connection: stdin is closed so the far side sees EOF,
// and ssh gets a moment to exit before it is killed.
func (c *cmdConn) Close() error {
	c.closeOnce.Do(func() {
		_ = c.stdin.Close()
		select {
		case <-c.waited:
		case <-time.After(time.Second):
			_ = c.cmd.Process.Kill()
			<-c.waited
		}
		_ = c.stdout.Close()
	})
	return nil
}

func (c *cmdConn) LocalAddr() net.Addr  { return cmdAddr("local") }
func (c *cmdConn) RemoteAddr() net.Addr { return cmdAddr(c.argv0) }

func (c *cmdConn) SetDeadline(time.Time) error      { return nil }
func (c *cmdConn) SetReadDeadline(time.Time) error  { return nil }
func (c *cmdConn) SetWriteDeadline(time.Time) error { return nil }

type cmdAddr string

func (a cmdAddr) Network() string { return "cmd" }
func (a cmdAddr) String() string  { return string(a) }

// limitedBuffer keeps the last max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// RelayStdio is `strata dial-stdio`: it connects to network/addr (the
// control socket, "unix", or an agent's "tcp" address) and copies in to
// it and it to out until either side ends. It is the far end of the ssh
// transport.
func RelayStdio(ctx context.Context, network, addr string, in io.Reader, out io.Writer) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return fmt.Errorf("dial-stdio: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	upDone := make(chan error, 1)
	go func() { // owned by RelayStdio: ends at stdin's EOF or when conn closes
		_, err := io.Copy(conn, in)
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		upDone <- err
	}()
	_, err = io.Copy(out, conn)
	if ctx.Err() != nil {
		return nil
	}
	// The server closed its side: the relay is over even if stdin is
	// still open. The stdin copier ends when the connection closes
	// (deferred) or, blocked on a read of in, when the process exits,
	// which is what `strata dial-stdio` does next.
	select {
	case <-upDone:
	default:
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("dial-stdio: %w", err)
	}
	return nil
}
