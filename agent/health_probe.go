package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strata-dc/strata/agent/supervise"
	"github.com/strata-dc/strata/master/mesos"
)

// The three probes of a health check. Tasks share the host's network, so
// HTTP and TCP probes go to the loopback address, as Mesos' do for tasks
// without a network namespace of their own.

// probeHost is the loopback address of the probe's protocol.
func probeHost(p mesos.NetworkProtocol) string {
	if p == mesos.IPv6 {
		return "::1"
	}
	return "127.0.0.1"
}

// httpProbe GETs scheme://loopback:port/path on a fresh connection each
// time; healthy when the status is one of statuses, or 200–399 without
// them. Like Mesos (curl -k) it does not verify an https certificate:
// the task's certificate names its service, not the loopback address.
func httpProbe(h *mesos.HTTPCheckInfo) probeFunc {
	scheme := h.Scheme
	if scheme == "" {
		scheme = "http"
	}
	path := h.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := scheme + "://" + net.JoinHostPort(probeHost(h.Protocol), strconv.FormatUint(uint64(h.Port), 10)) + path
	statuses := slices.Clone(h.Statuses)
	client := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as Mesos' curl -k
			DisableKeepAlives: true,
			Proxy:             nil, // never through the agent's proxy
		},
		// A redirect is an answer: 3xx counts as healthy by default, as
		// for curl without -L.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		req.Header.Set("User-Agent", "strata-health-check")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if !healthyStatus(resp.StatusCode, statuses) {
			return fmt.Errorf("GET %s: unexpected status %s", url, resp.Status)
		}
		return nil
	}
}

func healthyStatus(code int, statuses []uint32) bool {
	if len(statuses) == 0 {
		return code >= 200 && code < 400
	}
	return slices.Contains(statuses, uint32(code))
}

// tcpProbe is healthy when loopback:port accepts a connection.
func tcpProbe(t *mesos.TCPCheckInfo) probeFunc {
	addr := net.JoinHostPort(probeHost(t.Protocol), strconv.FormatUint(uint64(t.Port), 10))
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", addr, err)
		}
		c.Close()
		return nil
	}
}

// probeOutputMax bounds the output of a command probe kept for messages.
const probeOutputMax = 512

// commandProbe runs cmd as the task's own processes run: its environment
// (the check's variables on top), its sandbox as the working directory,
// its user. The probe leads a process group of its own, and when ctx ends
// (the timeout) the whole group is killed, so a probe that forked leaves
// nothing behind. Exit status 0 is healthy.
func commandProbe(ctx context.Context, cmd *mesos.CommandInfo, spec supervise.Spec) error {
	env, err := probeEnv(spec.Env, cmd.Environment)
	if err != nil {
		return err
	}
	var path string
	var args []string
	if cmd.GetShell() {
		path, args = "/bin/sh", []string{"sh", "-c", cmd.Value}
	} else {
		args = slices.Clone(cmd.Arguments)
		if len(args) == 0 {
			args = []string{cmd.Value}
		}
		if path, err = lookPathIn(cmd.Value, env); err != nil {
			return err
		}
	}
	cred, err := probeCredential(spec.User)
	if err != nil {
		return err
	}
	out := &tailBuffer{max: probeOutputMax}
	c := exec.CommandContext(ctx, path)
	c.Args, c.Env, c.Dir, c.Stdout, c.Stderr = args, env, spec.Sandbox, out, out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	// The timeout kills the probe's whole group, not only its leader.
	c.Cancel = func() error { return unix.Kill(-c.Process.Pid, unix.SIGKILL) }
	c.WaitDelay = probeWaitDelay
	if err := c.Start(); err != nil {
		return fmt.Errorf("start the health check command: %w", err)
	}
	err = c.Wait()
	// Whatever the probe left in its group (daemons it started) goes too.
	_ = unix.Kill(-c.Process.Pid, unix.SIGKILL)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := err.Error()
	if o := strings.TrimSpace(out.String()); o != "" {
		msg += ": " + o
	}
	return errors.New(msg)
}

// probeEnv is the task's environment with the check command's variables
// on top.
func probeEnv(base []string, extra *mesos.Environment) ([]string, error) {
	env := slices.Clone(base)
	if extra == nil {
		return env, nil
	}
	idx := map[string]int{}
	for i, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		idx[name] = i
	}
	for i, v := range extra.Variables {
		if v.Name == "" || strings.ContainsAny(v.Name, "=\x00") {
			return nil, fmt.Errorf("health_check.command.environment.variables[%d].name %q: not a variable name", i, v.Name)
		}
		val := v.Value
		switch v.Type {
		case "", mesos.EnvValue, mesos.EnvUnknown:
		case mesos.EnvSecret:
			if v.Secret == nil || v.Secret.Value == nil {
				return nil, fmt.Errorf("health_check.command.environment.variables[%d] %s: only secrets given by value are supported", i, v.Name)
			}
			val = string(v.Secret.Value.Data)
		default:
			return nil, fmt.Errorf("health_check.command.environment.variables[%d].type %q: unknown", i, v.Type)
		}
		if j, ok := idx[v.Name]; ok {
			env[j] = v.Name + "=" + val
		} else {
			idx[v.Name] = len(env)
			env = append(env, v.Name+"="+val)
		}
	}
	return env, nil
}

// lookPathIn finds an argv command's program in the PATH of env, the
// task's, not the agent's.
func lookPathIn(prog string, env []string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	pathVar := supervise.DefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range filepath.SplitList(pathVar) {
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("health_check.command.value: %q not found in the task's PATH", prog)
}

// probeCredential is the task's user for the probe: nil (the agent's
// own) when the task runs as the agent's user.
func probeCredential(name string) (*syscall.Credential, error) {
	if name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("the task's user %q: %w", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("the task's user %q: uid %q gid %q are not numbers", name, u.Uid, u.Gid)
	}
	if uint64(os.Geteuid()) == uid {
		return nil, nil
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil && uint32(n) != cred.Gid {
				cred.Groups = append(cred.Groups, uint32(n))
			}
		}
	}
	return cred, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.max {
		p = p[len(p)-t.max:]
	}
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return n, nil
}

func (t *tailBuffer) String() string { return t.b.String() }

// probeWaitDelay bounds how long a finished probe's output pipes may be
// held open by processes it left behind (they are killed anyway).
const probeWaitDelay = time.Second
