package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenViews renders every view of the fixture cluster at 80×24 and
// 160×48 with a fixed clock and no colour, and compares with
// testdata/<view>_<w>x<h>.golden (regenerate with -update).
func TestGoldenViews(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for i, v := range allViews() {
			name := fmt.Sprintf("%s_%dx%d", v.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				m := newFixtureModel(size[0], size[1], false, nil)
				defer m.Close()
				m.switchTo(i)
				m.Update(nil)
				checkFrame(t, m, size[0], size[1])
				golden(t, name, m.View())
			})
		}
	}
}

// TestGoldenOverlays covers describe, help and the confirmation line.
func TestGoldenOverlays(t *testing.T) {
	m := newFixtureModel(80, 24, false, nil)
	defer m.Close()
	run(m, keys("2")) // agents, sorted by host: node-01 first
	run(m, keys("enter"))
	checkFrame(t, m, 80, 24)
	golden(t, "describe_agent_80x24", m.View())
	run(m, keys("esc"))
	run(m, keys("?"))
	golden(t, "help_80x24", m.View())
	run(m, keys("esc"))
	run(m, keys("D"))
	golden(t, "confirm_drain_80x24", m.View())
}

// checkFrame asserts the frame is exactly h lines of at most w cells:
// nothing wraps or scrolls the terminal.
func checkFrame(t *testing.T, m *Model, w, h int) {
	t.Helper()
	lines := strings.Split(m.View(), "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, want ≤ %d: %q", i, n, w, l)
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -run Golden -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}
