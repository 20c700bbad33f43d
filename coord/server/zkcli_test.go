package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/zktest"
)

// zkCli is the command-line client from Debian's zookeeper package. Its
// zkEnv.sh runs java from javaForZkCli.
const (
	zkCli        = "/usr/share/zookeeper/bin/zkCli.sh"
	javaForZkCli = "/usr/bin/java"
)

// zkCliTimeout bounds one zkCli run; a JVM on a loaded 2-core machine can
// take seconds to start.
const zkCliTimeout = 60 * time.Second

func requireZkCli(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(zkCli); err != nil {
		t.Skipf("%s is missing (Debian package zookeeper): %v", zkCli, err)
	}
	if _, err := os.Stat(javaForZkCli); err != nil {
		t.Skipf("%s is missing (zkCli.sh's zkEnv.sh runs it): %v", javaForZkCli, err)
	}
}

// TestZkCli drives the real zkCli.sh against every server: one batch of
// commands on stdin, then an interactive session that sets watches and
// sees them fire when another client changes the nodes.
func TestZkCli(t *testing.T) {
	requireZkCli(t)
	for _, srv := range zktest.Servers() {
		t.Run(srv.Name, func(t *testing.T) {
			t.Parallel()
			addr := srv.Start(t)
			t.Run("batch", func(t *testing.T) { zkCliBatch(t, addr) })
			t.Run("watch", func(t *testing.T) { zkCliWatch(t, addr) })
		})
	}
}

func zkCliBatch(t *testing.T, addr string) {
	script := `create /zkcli "hello"
create /zkcli/a "A"
create -e /zkcli/eph "E"
create -s /zkcli/seq- "S"
create -c /zkcli/cont
create -t 100000 /zkcli/ttl "t"
ls /zkcli
get /zkcli
set /zkcli "world"
get /zkcli
stat /zkcli
stat /zkcli/eph
set -v 5 /zkcli "stale"
getAllChildrenNumber /zkcli
getEphemerals /zkcli
sync /zkcli
delete /zkcli/a
delete /zkcli/nope
create /zkcli/b/c
create /zkcli/b
create /zkcli/b/c "x"
delete /zkcli/b
ls /zkcli
addauth digest u:p
whoami
setAcl /zkcli/cont auth::cdrwa
getAcl /zkcli/cont
deleteall /zkcli
ls /zkcli
ls /zookeeper
quit
`
	ctx, cancel := context.WithTimeout(context.Background(), zkCliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, zkCli, "-server", addr)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	// zkCli's exit status is that of its last command, which succeeds.
	if err != nil {
		t.Fatalf("zkCli.sh: %v\n%s", err, out)
	}
	expectInOrder(t, string(out),
		`Created /zkcli`,
		`Created /zkcli/a`,
		`Created /zkcli/eph`,
		`Created /zkcli/seq-0000000002`,
		`Created /zkcli/cont`,
		`Created /zkcli/ttl`,
		`[a, cont, eph, seq-0000000002, ttl]`,
		`hello`,
		`world`,
		// stat /zkcli
		`~cZxid = 0x[0-9a-f]+`, `~ctime = .+`, `~mZxid = 0x[0-9a-f]+`, `~mtime = .+`, `~pZxid = 0x[0-9a-f]+`,
		`cversion = 5`, `dataVersion = 1`, `aclVersion = 0`, `ephemeralOwner = 0x0`,
		`dataLength = 5`, `numChildren = 5`,
		// stat /zkcli/eph: owned by zkCli's session
		`~ephemeralOwner = 0x[1-9a-f][0-9a-f]*`,
		`version No is not valid : /zkcli`,
		`5`,
		`[/zkcli/eph]`,
		`Sync is OK`,
		`Node does not exist: /zkcli/nope`,
		`Node does not exist: /zkcli/b/c`,
		`Created /zkcli/b`,
		`Created /zkcli/b/c`,
		`Node not empty: /zkcli/b`,
		`[b, cont, eph, seq-0000000002, ttl]`,
		`Auth scheme: User`,
		`digest: u`,
		`'digest,'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=`,
		`: cdrwa`,
		`Node does not exist: /zkcli`,
		`[config, quota]`,
	)
	// Cross-check with another client: deleteall removed everything.
	c := gozkClient(t, addr)
	if ok, _, err := c.Exists("/zkcli"); err != nil || ok {
		t.Errorf("after deleteall: /zkcli exists=%t err=%v", ok, err)
	}
}

func zkCliWatch(t *testing.T, addr string) {
	c := gozkClient(t, addr)
	if _, err := c.Create("/zkw", []byte("before"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create /zkw: %v", err)
	}
	cli := startZkCli(t, addr)
	cli.send("get -w /zkw")
	cli.expect("before")
	if _, err := c.Set("/zkw", []byte("after"), -1); err != nil {
		t.Fatalf("set /zkw: %v", err)
	}
	cli.expect("WatchedEvent state:SyncConnected type:NodeDataChanged path:/zkw")
	cli.send("ls -w /zkw")
	cli.expect("[]")
	if _, err := c.Create("/zkw/child", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create /zkw/child: %v", err)
	}
	cli.expect("WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/zkw")
	// One-shot: a second change is not reported; the next command's
	// output comes first.
	if _, err := c.Set("/zkw", []byte("again"), -1); err != nil {
		t.Fatalf("set /zkw: %v", err)
	}
	cli.send("get /zkw")
	cli.expectNext("again", "WatchedEvent")
	cli.send("quit")
	cli.wait()
}

// zkCliSession is an interactive zkCli.sh whose stdin the test writes and
// whose output it reads line by line.
type zkCliSession struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // closed when the output ends
	seen  []string
}

func startZkCli(t *testing.T, addr string) *zkCliSession {
	t.Helper()
	cmd := exec.Command(zkCli, "-server", addr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start zkCli.sh: %v", err)
	}
	s := &zkCliSession{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	exited := make(chan struct{})
	go func() { // owned by the session: ends when zkCli exits
		cmd.Wait()
		pw.Close()
		close(exited)
	}()
	go func() { // owned by the session: ends when the pipe closes
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	return s
}

func (s *zkCliSession) send(line string) {
	s.t.Helper()
	if _, err := fmt.Fprintln(s.stdin, line); err != nil {
		s.t.Fatalf("zkCli stdin: %v", err)
	}
}

// expect reads output until a line equals want.
func (s *zkCliSession) expect(want string) {
	s.t.Helper()
	deadline := time.After(zkCliTimeout)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("zkCli exited before printing %q; output:\n%s", want, strings.Join(s.seen, "\n"))
			}
			s.seen = append(s.seen, line)
			if line == want {
				return
			}
		case <-deadline:
			s.t.Fatalf("zkCli did not print %q within %v; output:\n%s", want, zkCliTimeout, strings.Join(s.seen, "\n"))
		}
	}
}

// expectNext reads output until a line equals want, failing if a line
// starting with forbidden comes first.
func (s *zkCliSession) expectNext(want, forbidden string) {
	s.t.Helper()
	deadline := time.After(zkCliTimeout)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatalf("zkCli exited before printing %q", want)
			}
			s.seen = append(s.seen, line)
			if strings.HasPrefix(line, forbidden) {
				s.t.Fatalf("zkCli printed %q before %q; output:\n%s", line, want, strings.Join(s.seen, "\n"))
			}
			if line == want {
				return
			}
		case <-deadline:
			s.t.Fatalf("zkCli did not print %q within %v", want, zkCliTimeout)
		}
	}
}

// wait waits for zkCli to exit after quit.
func (s *zkCliSession) wait() {
	s.t.Helper()
	deadline := time.After(zkCliTimeout)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return
			}
			s.seen = append(s.seen, line)
		case <-deadline:
			s.t.Fatalf("zkCli did not exit after quit")
		}
	}
}

// expectInOrder checks that each expectation matches a line of out, in
// order, other lines in between allowed. An expectation starting with "~"
// is a regular expression for the whole line; others are exact lines.
func expectInOrder(t *testing.T, out string, want ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		match := func(l string) bool { return l == w }
		if strings.HasPrefix(w, "~") {
			re := regexp.MustCompile("^" + w[1:] + "$")
			match = re.MatchString
		}
		for i < len(lines) && !match(strings.TrimRight(lines[i], "\r")) {
			i++
		}
		if i == len(lines) {
			t.Fatalf("zkCli output lacks %q (after the lines matched before it); output:\n%s", w, out)
		}
		i++
	}
}

// gozkClient is a go-zookeeper session closed at the end of the test.
func gozkClient(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(silentZK{}), zk.WithLogInfo(false))
	if err != nil {
		t.Fatalf("go-zookeeper connect: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}
