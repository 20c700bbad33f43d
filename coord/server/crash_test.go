package server_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// strataBinary builds cmd/strata once per test binary run.
func strataBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "strata-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "strata")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/strata-dc/strata/cmd/strata").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serveProcess starts `strata coord serve` as a child process and waits
// until it prints that it is serving.
func serveProcess(t testing.TB, dir string, port int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(strataBinary(t), "coord", "serve", "--data-dir", dir,
		"--client-port", strconv.Itoa(port), "--tick-time", "100ms", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "serving") {
				ready <- sc.Text()
			}
		}
		close(ready)
	}()
	select {
	case line, ok := <-ready:
		if !ok {
			t.Fatal("strata coord serve exited before serving")
		}
		_ = line
	case <-time.After(30 * time.Second):
		t.Fatal("strata coord serve did not start within 30s")
	}
	return cmd
}

// TestCrashKeepsAcknowledgedWrites kills -9 the server process during a
// stream of writes, several times, and checks after each restart that every
// write the server acknowledged is there with its data.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	rng := rand.New(rand.NewPCG(7, 11))

	acked := map[string]string{}
	var mu sync.Mutex
	seq := 0
	for round := 0; round < 4; round++ {
		cmd := serveProcess(t, dir, port)
		c, ev, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(discard{}), zk.WithMaxConnBufferSize(4<<20))
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, ev, zk.StateHasSession)

		// Everything acknowledged in earlier rounds survived the kill.
		mu.Lock()
		for path, want := range acked {
			got, _, err := c.Get(path)
			if err != nil || string(got) != want {
				t.Fatalf("round %d: acknowledged %s = %q is %q (%v) after kill -9", round, path, want, got, err)
			}
		}
		mu.Unlock()
		if round == 0 {
			if _, err := c.Create("/crash", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
				t.Fatal(err)
			}
		}

		// Stream writes from 8 goroutines; kill -9 at a random moment.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					seq++
					path := fmt.Sprintf("/crash/n%07d", seq)
					mu.Unlock()
					val := "v-" + path
					if _, err := c.Create(path, []byte(val), 0, zk.WorldACL(zk.PermAll)); err != nil {
						return // the server is gone: this write was never acknowledged
					}
					mu.Lock()
					acked[path] = val
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		wg.Wait()
		c.Close()
	}
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n == 0 {
		t.Fatal("no write was acknowledged: the test proved nothing")
	}

	// A last restart: the full set is there, and nothing unacknowledged
	// came back as garbage.
	serveProcess(t, dir, port)
	c, ev, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(discard{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitState(t, ev, zk.StateHasSession)
	children, _, err := c.Children("/crash")
	if err != nil {
		t.Fatal(err)
	}
	if len(children) < n {
		t.Fatalf("%d children after the last restart, %d writes were acknowledged", len(children), n)
	}
	for _, ch := range children {
		got, _, err := c.Get("/crash/" + ch)
		if err != nil || string(got) != "v-/crash/"+ch {
			t.Fatalf("%s: %q %v", ch, got, err)
		}
	}
	t.Logf("%d acknowledged writes over 4 kill -9 rounds all survived", n)
}
