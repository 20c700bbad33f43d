package table

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// now is the fixed "now" every view is rendered at.
var now = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func fixture(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestGolden(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	var agents, tasks, fws mesos.OperatorResponse
	fixture(t, "get_agents.json", &agents)
	fixture(t, "get_tasks.json", &tasks)
	fixture(t, "get_frameworks.json", &fws)
	names := FrameworkNames(fws.GetFrameworks)
	cases := []struct {
		name string
		run  func(*bytes.Buffer) error
	}{
		{"agents.txt", func(b *bytes.Buffer) error {
			return Agents(agents.GetAgents, tasks.GetTasks.Tasks, now).Render(b, false, Style{})
		}},
		{"agents_wide.txt", func(b *bytes.Buffer) error {
			return Agents(agents.GetAgents, tasks.GetTasks.Tasks, now).Render(b, true, Style{})
		}},
		{"tasks.txt", func(b *bytes.Buffer) error {
			return Tasks(AllTasks(tasks.GetTasks, true), names, now).Render(b, false, Style{})
		}},
		{"frameworks.txt", func(b *bytes.Buffer) error {
			return Frameworks(fws.GetFrameworks, tasks.GetTasks.Tasks, now).Render(b, false, Style{})
		}},
		{"offers_wide.txt", func(b *bytes.Buffer) error { return Offers(fws.GetFrameworks).Render(b, true, Style{}) }},
		{"task_show.txt", func(b *bytes.Buffer) error {
			tk := FindTask(AllTasks(tasks.GetTasks, true), "web.1")
			return TaskShow(tk, names[tk.FrameworkID], now).Render(b, Style{})
		}},
		{"tasks.json", func(b *bytes.Buffer) error { return WriteJSON(b, &tasks) }},
		{"agents.yaml", func(b *bytes.Buffer) error { return WriteYAML(b, &agents) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.run(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, b.Bytes())
		})
	}
}

// TestJSONIsTheAPIDocument: -o json re-encodes the decoded answer; it must
// be the same document the master sent (same fields, same values).
func TestJSONIsTheAPIDocument(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "get_tasks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var resp mesos.OperatorResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, &resp); err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(raw, &want)
	_ = json.Unmarshal(b.Bytes(), &got)
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if !bytes.Equal(wb, gb) {
		t.Errorf("re-encoded JSON differs from the API's:\n got %s\nwant %s", gb, wb)
	}
}

func TestHuman(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "0ms"}, {1500 * time.Millisecond, "1s"}, {90 * time.Second, "1m30s"}, {11 * time.Minute, "11m"},
		{3*time.Hour + 4*time.Minute, "3h4m"}, {50 * time.Hour, "2d2h"}, {400 * time.Hour, "16d"}} {
		if got := Duration(c.d); got != c.want {
			t.Errorf("Duration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	for _, c := range []struct {
		mb   float64
		want string
	}{{0, "0B"}, {0.5, "512KiB"}, {512, "512MiB"}, {1536, "1.5GiB"}, {1 << 20, "1TiB"}} {
		if got := SizeMB(c.mb); got != c.want {
			t.Errorf("SizeMB(%v) = %q, want %q", c.mb, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{{"512", 512, true}, {"2GiB", 2048, true}, {"1.5g", 1536, true}, {"64 MiB", 64, true}, {"x", 0, false}, {"-1", 0, false}} {
		got, err := ParseSizeMB(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseSizeMB(%q) = %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) succeeded")
	}
}

func TestStyleForHonoursNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	if StyleFor(os.Stdout).Color {
		t.Error("colour with NO_COLOR set")
	}
	t.Setenv("NO_COLOR", "")
	if StyleFor(&bytes.Buffer{}).Color {
		t.Error("colour on a buffer")
	}
}

func TestTree(t *testing.T) {
	nodes := map[string][]string{"/": {"b", "a"}, "/a": {"x"}, "/a/x": nil, "/b": nil}
	lines, err := Tree("/", -1, func(p string) ([]string, error) { return nodes[p], nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/", "  a", "    x", "  b"}
	if len(lines) != len(want) {
		t.Fatalf("Tree = %q, want %q", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("Tree = %q, want %q", lines, want)
		}
	}
}
