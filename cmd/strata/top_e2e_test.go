package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tmuxPane drives one pane of a private tmux server (its own socket, no
// user config), so the test never touches anyone else's tmux.
type tmuxPane struct {
	sock, target string
}

func (p *tmuxPane) tmux(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", p.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// capture is the pane's screen as text.
func (p *tmuxPane) capture(t *testing.T) string {
	t.Helper()
	return p.tmux(t, "capture-pane", "-p", "-t", p.target)
}

// keys presses keys (tmux key names, each its own key).
func (p *tmuxPane) keys(t *testing.T, keys ...string) {
	t.Helper()
	p.tmux(t, append([]string{"send-keys", "-t", p.target}, keys...)...)
}

// waitScreen waits until the screen holds every one of want, and
// returns it.
func (p *tmuxPane) waitScreen(t *testing.T, what string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		screen := p.capture(t)
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		if ok {
			return screen
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the screen never showed %q; it shows:\n%s", what, want, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestIntegration_TopTmux runs the real `strata top` in a 120×40 tmux
// pane against `strata up` with one running task, switches to the Agents
// and Tasks views and reads what they show.
func TestIntegration_TopTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a whole cluster")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed on this machine (apt-get install -y tmux)")
	}
	bin := buildStrata(t)
	dir, err := os.MkdirTemp("", "strata-top")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	up := startUp(t, bin, dir)
	agentIDs(t, bin, dir, 2)
	task := launchTask(t, up.field(t, "master"), "sleep 600")

	// A short socket path: unix sockets allow ~100 bytes.
	sockDir, err := os.MkdirTemp("", "tmx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	p := &tmuxPane{sock: filepath.Join(sockDir, "s"), target: "top"}
	// The shell stays after top ends so its exit status can be read;
	// kill-server ends both.
	script := `NO_COLOR=1 STRATA_MASTER= "$0" top; echo "strata top exited: $?"; read x`
	p.tmux(t, "new-session", "-d", "-s", "top", "-x", "120", "-y", "40", "-c", dir, "sh", "-c", script, bin)
	t.Cleanup(func() {
		_ = exec.Command("tmux", "-S", p.sock, "kill-server").Run()
	})

	p.waitScreen(t, "header", "strata top", "● live", "agents 2/2 up", "tasks 1", "Overview")

	p.keys(t, "2")
	screen := p.waitScreen(t, "Agents view", "Agents · 1/2", "HOST", "active")
	if n := strings.Count(screen, " active "); n < 2 {
		t.Errorf("Agents view: want 2 active agents, see %d:\n%s", n, screen)
	}
	t.Logf("Agents view:\n%s", screen)

	p.keys(t, "7")
	screen = p.waitScreen(t, "Tasks view", "Tasks · 1/1", task, "e2e", "RUNNING")
	t.Logf("Tasks view:\n%s", screen)

	p.keys(t, "q")
	p.waitScreen(t, "exit", "strata top exited: 0")

	if _, err := exec.LookPath("ssh"); err != nil {
		t.Log("ssh (openssh-client) is not installed on this machine: the --serve-ssh part is not run")
	} else {
		topOverSSH(t, bin, dir, p)
	}

	p.tmux(t, "kill-server")
	up.stop(t)
}

// topOverSSH serves the dashboard with `strata top --serve-ssh` and logs
// in with OpenSSH's client in a new tmux window, once as an admin and
// once read-only.
func topOverSSH(t *testing.T, bin, dir string, p *tmuxPane) {
	keyDir := t.TempDir()
	newKey := func(name string) (path, pub string) {
		path = filepath.Join(keyDir, name)
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
		b, err := os.ReadFile(path + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		return path, strings.TrimSpace(string(b))
	}
	adminKey, adminPub := newKey("alice")
	readerKey, readerPub := newKey("bob")
	auth := filepath.Join(keyDir, "authorized_keys")
	if err := os.WriteFile(auth, []byte(adminPub+" strata-admin\n"+readerPub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	srv := exec.Command(bin, "top", "--serve-ssh", "127.0.0.1:0", "--authorized-keys", auth)
	srv.Dir = dir
	srv.Env = append(os.Environ(), "STRATA_MASTER=")
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuf{}
	srv.Stderr = stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	addrc, waited := make(chan string, 1), make(chan error, 1)
	go func() { // the server's first line names its address; then EOF
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			const prefix = "strata top serving over ssh on "
			if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok && rest != "" {
				addrc <- strings.Fields(rest)[0]
			}
		}
		waited <- srv.Wait()
	}()
	t.Cleanup(func() {
		if srv.ProcessState == nil {
			_ = srv.Process.Kill()
		}
	})
	var addr string
	select {
	case addr = <-addrc:
	case err := <-waited:
		t.Fatalf("strata top --serve-ssh ended: %v\n%s", err, stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("strata top --serve-ssh printed no address\n%s", stderr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	hk, err := os.Stat(filepath.Join(dir, ".strata", "top_ssh_host_ed25519_key"))
	if err != nil || hk.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v, mode %v", err, hk)
	}

	login := func(window, key string) *tmuxPane {
		w := &tmuxPane{sock: p.sock, target: window}
		script := `ssh -tt -p "$1" -i "$2" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no ` +
			`-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "operator@$0"; echo "ssh exited: $?"; read x`
		p.tmux(t, "new-window", "-d", "-n", window, "-t", "top", "sh", "-c", script, host, port, key)
		return w
	}

	admin := login("admin", adminKey)
	admin.waitScreen(t, "admin over ssh", "strata top", "● live", "agents 2/2 up")
	if s := admin.capture(t); strings.Contains(s, "[read-only]") {
		t.Errorf("admin over ssh is read-only:\n%s", s)
	}
	admin.keys(t, "7")
	admin.waitScreen(t, "admin over ssh: Tasks", "Tasks · 1/1", "RUNNING")
	admin.keys(t, "K")
	admin.waitScreen(t, "admin over ssh: kill confirmation", "kill task")
	admin.keys(t, "n")
	admin.keys(t, "q")
	admin.waitScreen(t, "admin ssh exit", "ssh exited: 0")

	reader := login("reader", readerKey)
	reader.waitScreen(t, "read-only over ssh", "strata top [read-only]", "agents 2/2 up")
	reader.keys(t, "2")
	reader.waitScreen(t, "read-only over ssh: Agents", "Agents · 1/2")
	reader.keys(t, "q")
	reader.waitScreen(t, "reader ssh exit", "ssh exited: 0")

	if err := srv.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("strata top --serve-ssh after SIGINT: %v\n%s", err, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("strata top --serve-ssh did not stop after SIGINT\n%s", stderr)
	}
	if log := stderr.String(); !strings.Contains(log, `"role":"admin"`) || !strings.Contains(log, `"role":"read-only"`) {
		t.Errorf("server log lacks the sessions' roles:\n%s", log)
	}
}

// waitLine waits until one line of the screen holds every one of want,
// and returns the screen.
func (p *tmuxPane) waitLine(t *testing.T, what string, want ...string) string {
	t.Helper()
	return p.waitFor(t, what, func(screen string) bool { return countLines(screen, want...) > 0 })
}

// waitFor waits until ok holds for the screen, and returns it.
func (p *tmuxPane) waitFor(t *testing.T, what string, ok func(screen string) bool) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		screen := p.capture(t)
		if ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen before the deadline; the screen shows:\n%s", what, screen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// typeText types s literally (tmux send-keys -l), so spaces and slashes
// are characters, not key names.
func (p *tmuxPane) typeText(t *testing.T, s string) {
	t.Helper()
	p.tmux(t, "send-keys", "-t", p.target, "-l", s)
}

// appInstances is the Apps view's INSTANCES cell (running/wanted) for
// the app id, or "" when the app is not on the screen.
func appInstances(screen, id string) string {
	for _, l := range strings.Split(screen, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.TrimPrefix(f[0], ">") != id {
			continue
		}
		for _, c := range f[1:] {
			if n, w, ok := strings.Cut(c, "/"); ok && n != "" && w != "" && strings.Trim(n+w, "0123456789") == "" {
				return c
			}
		}
	}
	return ""
}

// countLines counts the screen's lines that hold every one of want.
func countLines(screen string, want ...string) int {
	n := 0
	for _, l := range strings.Split(screen, "\n") {
		all := true
		for _, w := range want {
			all = all && strings.Contains(l, w)
		}
		if all {
			n++
		}
	}
	return n
}

// TestIntegration_TopTmuxActions drives marathon and chronos from the
// real dashboard in tmux against `strata up`: it deploys an app with the
// Apps view's short form, scales it to two, sees both tasks running in
// the Tasks view, then adds a chronos job, runs it now and sees the run
// succeed in the Jobs view's history strip.
func TestIntegration_TopTmuxActions(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a whole cluster")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed on this machine (apt-get install -y tmux)")
	}
	bin := buildStrata(t)
	dir, err := os.MkdirTemp("", "strata-topact")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	up := startUp(t, bin, dir, "--dashboard=false")
	agentIDs(t, bin, dir, 2)

	sockDir, err := os.MkdirTemp("", "tmx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	p := &tmuxPane{sock: filepath.Join(sockDir, "s"), target: "top"}
	script := `NO_COLOR=1 STRATA_MASTER= STRATA_MARATHON= STRATA_CHRONOS= "$0" top; echo "strata top exited: $?"; read x`
	p.tmux(t, "new-session", "-d", "-s", "top", "-x", "160", "-y", "48", "-c", dir, "sh", "-c", script, bin)
	t.Cleanup(func() {
		_ = exec.Command("tmux", "-S", p.sock, "kill-server").Run()
	})
	p.waitScreen(t, "header", "strata top", "● live", "agents 2/2 up")

	// Apps: deploy through the `:` command with the short form, confirm,
	// see 1/1.
	p.keys(t, "8")
	p.waitScreen(t, "Apps view", "Apps · ")
	p.keys(t, ":")
	p.typeText(t, `deploy /tmuxapp "sleep 1000" 1`)
	p.keys(t, "Enter")
	p.waitScreen(t, "deploy confirmation", "deploy app /tmuxapp")
	p.keys(t, "y")
	p.waitFor(t, "the app at 1/1", func(s string) bool { return appInstances(s, "/tmuxapp") == "1/1" })

	// Scale to two.
	p.keys(t, "N")
	p.waitScreen(t, "scale prompt", "scale app /tmuxapp")
	p.typeText(t, "2")
	p.keys(t, "Enter")
	p.waitScreen(t, "scale confirmation", "from 1 to 2 instances")
	p.keys(t, "y")
	screen := p.waitFor(t, "the app at 2/2", func(s string) bool { return appInstances(s, "/tmuxapp") == "2/2" })
	t.Logf("Apps view:\n%s", screen)

	// Tasks: both of the app's tasks running.
	p.keys(t, "7")
	screen = p.waitFor(t, "two tmuxapp tasks RUNNING", func(s string) bool {
		return countLines(s, "tmuxapp", "RUNNING") >= 2
	})
	t.Logf("Tasks view:\n%s", screen)

	// Jobs: add a job that only runs when asked, run it now, see ✓.
	p.keys(t, "9")
	p.waitScreen(t, "Jobs view", "Jobs · ")
	p.keys(t, "A")
	p.waitScreen(t, "add-job prompt", "add job from a file")
	p.typeText(t, "tmuxjob R/2099-01-01T00:00:00Z/P1D true")
	p.keys(t, "Enter")
	p.waitScreen(t, "add-job confirmation", "add job tmuxjob")
	p.keys(t, "y")
	// The selected row, not the confirmation's echo of the name.
	p.waitFor(t, "the job listed and selected", func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == ">tmuxjob" {
				return true
			}
		}
		return false
	})
	p.keys(t, "J")
	p.waitScreen(t, "run-job confirmation", "run job tmuxjob")
	p.keys(t, "y")
	screen = p.waitFor(t, "the run sent", func(s string) bool {
		return strings.Contains(s, "done: run job") || strings.Contains(s, "failed")
	})
	if !strings.Contains(screen, "done: run job") {
		t.Fatalf("run job failed:\n%s", screen)
	}
	screen = p.waitLine(t, "a successful run in the history strip", "tmuxjob", "✓")
	t.Logf("Jobs view:\n%s", screen)

	p.keys(t, "q")
	p.waitScreen(t, "exit", "strata top exited: 0")
	p.tmux(t, "kill-server")
	up.stop(t)
}
