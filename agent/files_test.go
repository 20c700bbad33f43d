package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// sandboxAgent is a real master and agent running tasks whose sandboxes
// the files, monitor and operator tests look at:
//
//	writer  prints a numbered line every 50 ms, after planting symlinks in
//	        its sandbox: passwd → /etc/passwd, root → /, out → stdout
//	spin    burns some CPU, writes a 200 000-byte file big, then sleeps
type sandboxAgent struct {
	a       *runningAgent
	dir     string
	fw      mesos.FrameworkID
	base    string // http://host:port
	writer  string // the writer's sandbox
	spin    string // the spin task's sandbox
	tcp     *client.Agent
	unix    *client.Agent
	agentID mesos.AgentID
	sched   *testScheduler
}

func startSandboxAgent(t *testing.T) *sandboxAgent {
	t.Helper()
	e := startCoord(t)
	m := startMaster(t, e)
	dir := newWorkDir(t)
	a := startAgent(t, agentConfig(t, e.URL().String(), dir))
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	s := newTestScheduler(t, m, mesos.FrameworkInfo{User: "test", Name: "files"})
	s.launch(map[mesos.TaskID]string{
		"writer": "ln -s /etc/passwd passwd; ln -s / root; ln -s stdout out; mkdir sub; echo hi > sub/f; " +
			"i=0; while :; do echo line-$i; i=$((i+1)); sleep 0.05; done",
		"spin": "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; head -c 200000 /dev/zero | tr '\\0' x > big.tmp; mv big.tmp big; sleep 600",
	})
	s.await("writer", mesos.TaskRunning)
	s.await("spin", mesos.TaskRunning)
	sa := &sandboxAgent{a: a, dir: dir, fw: s.info.ID, base: "http://" + a.Addr().String(), agentID: a.ID(), sched: s}
	w, _ := taskOf(a.Agent, "writer")
	sp, _ := taskOf(a.Agent, "spin")
	sa.writer, sa.spin = w.Sandbox, sp.Sandbox
	if sa.writer == "" || sa.spin == "" {
		t.Fatalf("sandboxes: %+v %+v", w, sp)
	}
	waitFor(t, "the writer's output and links", func() bool {
		b, _ := os.ReadFile(filepath.Join(sa.writer, "stdout"))
		_, err := os.Lstat(filepath.Join(sa.writer, "out"))
		return bytes.Contains(b, []byte("line-3\n")) && err == nil
	})
	waitFor(t, "the spin task's big file", func() bool {
		_, err := os.Stat(filepath.Join(sa.spin, "big"))
		return err == nil
	})
	var err error
	if sa.tcp, err = client.NewAgent(sa.base, client.Options{Timeout: patience}); err != nil {
		t.Fatal(err)
	}
	if sa.unix, err = client.NewAgent("unix://"+filepath.Join(dir, "agent.sock"), client.Options{Timeout: patience}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sa.tcp.Close(); sa.unix.Close() })
	return sa
}

// get fetches path?query and returns the status and body.
func (sa *sandboxAgent) get(t *testing.T, path string, q url.Values) (int, []byte) {
	t.Helper()
	resp, err := http.Get(sa.base + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type readAnswer struct {
	Data   string `json:"data"`
	Offset int64  `json:"offset"`
}

func (sa *sandboxAgent) read(t *testing.T, path string, offset, length string) (int, readAnswer, string) {
	t.Helper()
	q := url.Values{"path": {path}}
	if offset != "" {
		q.Set("offset", offset)
	}
	if length != "" {
		q.Set("length", length)
	}
	code, b := sa.get(t, "/files/read", q)
	var ra readAnswer
	if code == http.StatusOK {
		if err := json.Unmarshal(b, &ra); err != nil {
			t.Fatalf("read %s: %v: %s", path, err, b)
		}
	}
	return code, ra, string(b)
}

// TestIntegration_Files: browse and read real sandboxes while a task
// writes; the runs/latest form; Mesos' offset and length rules; and every
// way out of a sandbox refused.
func TestIntegration_Files(t *testing.T) {
	sa := startSandboxAgent(t)
	stdout := filepath.Join(sa.writer, "stdout")
	virtual := fmt.Sprintf("/frameworks/%s/executors/writer/runs/latest", sa.fw)

	t.Run("browse", func(t *testing.T) {
		for _, p := range []string{sa.writer, virtual, sa.writer + "/"} {
			code, b := sa.get(t, "/files/browse", url.Values{"path": {p}})
			if code != http.StatusOK {
				t.Fatalf("browse %s: %d %s", p, code, b)
			}
			var list []struct {
				Path string `json:"path"`
				Size uint64 `json:"size"`
				Mode string `json:"mode"`
			}
			if err := json.Unmarshal(b, &list); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, e := range list {
				got[filepath.Base(e.Path)] = e.Mode
				if !strings.HasPrefix(e.Path, strings.TrimRight(p, "/")+"/") {
					t.Errorf("entry path %q is not under %q", e.Path, p)
				}
			}
			if !strings.HasPrefix(got["stdout"], "-rw") || !strings.HasPrefix(got["sub"], "d") || !strings.HasPrefix(got["passwd"], "l") {
				t.Fatalf("browse %s: %s", p, b)
			}
		}
	})

	t.Run("read while writing", func(t *testing.T) {
		code, first, body := sa.read(t, stdout, "-1", "")
		if code != http.StatusOK || first.Data != "" || first.Offset <= 0 {
			t.Fatalf("offset=-1: %d %s", code, body)
		}
		// The file grows under us: a read from the old end brings new lines.
		waitFor(t, "new output", func() bool {
			_, ra, _ := sa.read(t, stdout, fmt.Sprint(first.Offset), "")
			return strings.Contains(ra.Data, "line-")
		})
		code, ra, body := sa.read(t, stdout, "5", "7")
		want, _ := os.ReadFile(stdout)
		if code != http.StatusOK || ra.Offset != 5 || ra.Data != string(want[5:12]) {
			t.Fatalf("offset=5 length=7: %d %s, want %q", code, body, want[5:12])
		}
		// Past the end: nothing, and the offset asked for.
		if code, ra, body := sa.read(t, stdout, "100000000", ""); code != http.StatusOK || ra.Data != "" || ra.Offset != 100000000 {
			t.Fatalf("past the end: %d %s", code, body)
		}
		// No offset at all: the size, as offset=-1.
		if code, ra, body := sa.read(t, stdout, "", ""); code != http.StatusOK || ra.Data != "" || ra.Offset < first.Offset {
			t.Fatalf("no offset: %d %s", code, body)
		}
		for _, bad := range [][2]string{{"-2", ""}, {"x", ""}, {"0", "-5"}, {"0", "ten"}} {
			if code, _, body := sa.read(t, stdout, bad[0], bad[1]); code != http.StatusBadRequest {
				t.Fatalf("offset=%s length=%s: %d %s", bad[0], bad[1], code, body)
			}
		}
	})

	t.Run("latest and links inside", func(t *testing.T) {
		code, ra, body := sa.read(t, virtual+"/sub/f", "0", "")
		if code != http.StatusOK || ra.Data != "hi\n" {
			t.Fatalf("%s/sub/f: %d %s", virtual, code, body)
		}
		// A link to a file in the same sandbox is followed.
		code, ra, body = sa.read(t, virtual+"/out", "0", "6")
		if code != http.StatusOK || ra.Data != "line-0" {
			t.Fatalf("%s/out: %d %s", virtual, code, body)
		}
		// The absolute form with "latest" too.
		abs := filepath.Join(filepath.Dir(sa.writer), "latest", "sub", "f")
		if code, ra, body := sa.read(t, abs, "0", ""); code != http.StatusOK || ra.Data != "hi\n" {
			t.Fatalf("%s: %d %s", abs, code, body)
		}
	})

	t.Run("read cap", func(t *testing.T) {
		big := filepath.Join(sa.spin, "big")
		code, ra, _ := sa.read(t, big, "0", "")
		if code != http.StatusOK || len(ra.Data) != os.Getpagesize()*16 {
			t.Fatalf("read of a 200000-byte file without length: %d, %d bytes; want %d (16 pages)", code, len(ra.Data), os.Getpagesize()*16)
		}
		code, ra, _ = sa.read(t, big, "199990", "100")
		if code != http.StatusOK || ra.Data != "xxxxxxxxxx" {
			t.Fatalf("tail of big: %d %q", code, ra.Data)
		}
	})

	t.Run("download", func(t *testing.T) {
		code, b := sa.get(t, "/files/download", url.Values{"path": {filepath.Join(sa.spin, "big")}})
		if code != http.StatusOK || len(b) != 200000 {
			t.Fatalf("download: %d, %d bytes", code, len(b))
		}
		if code, b := sa.get(t, "/files/download", url.Values{"path": {sa.writer}}); code != http.StatusBadRequest {
			t.Fatalf("download of a directory: %d %s", code, b)
		}
	})

	t.Run("confinement", func(t *testing.T) {
		cases := []struct {
			name, path string
			status     int
		}{
			{"dot-dot", sa.writer + "/../../../../../../../../etc/passwd", http.StatusForbidden},
			{"dot-dot virtual", virtual + "/../../../../frameworks", http.StatusForbidden},
			{"dot-dot to a sibling run", sa.writer + "/../" + filepath.Base(sa.spin) + "/big", http.StatusForbidden},
			{"symlink to /etc/passwd", sa.writer + "/passwd", http.StatusForbidden},
			{"through a symlink to /", sa.writer + "/root/etc/passwd", http.StatusForbidden},
			{"absolute outside", "/etc/passwd", http.StatusForbidden},
			{"work dir outside sandboxes", filepath.Join(sa.dir, "meta", "agent.json"), http.StatusForbidden},
			{"above the run", filepath.Dir(sa.writer), http.StatusForbidden},
			{"relative", "etc/passwd", http.StatusBadRequest},
			{"empty", "", http.StatusBadRequest},
			{"unknown run", fmt.Sprintf("/frameworks/%s/executors/writer/runs/nope/stdout", sa.fw), http.StatusNotFound},
			{"unknown file", sa.writer + "/nope", http.StatusNotFound},
		}
		for _, c := range cases {
			for _, ep := range []string{"/files/read", "/files/browse", "/files/download"} {
				code, b := sa.get(t, ep, url.Values{"path": {c.path}, "offset": {"0"}})
				if code != c.status {
					t.Errorf("%s %s (%s): %d %s, want %d", ep, c.name, c.path, code, b, c.status)
				}
				if bytes.Contains(b, []byte("root:")) {
					t.Errorf("%s %s leaked /etc/passwd: %s", ep, c.name, b)
				}
				var msg struct {
					Message string `json:"message"`
				}
				if json.Unmarshal(b, &msg) != nil || msg.Message == "" {
					t.Errorf("%s %s: no JSON message: %s", ep, c.name, b)
				}
			}
			// The operator API refuses the same way.
			_, _, err := sa.unix.ReadFile(context.Background(), c.path, 0, -1)
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.StatusCode != c.status {
				t.Errorf("READ_FILE %s: %v, want %d", c.name, err, c.status)
			}
		}
	})
}
