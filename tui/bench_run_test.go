package tui

import (
	"strings"
	"testing"
)

// TestRunBenchTiny runs `strata bench tui`'s logic at a tiny size and
// checks the table names every figure.
func TestRunBenchTiny(t *testing.T) {
	r, err := RunBench(BenchOptions{Agents: 5, Tasks: 40, Width: 80, Height: 24, Runs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.FirstFrame <= 0 || r.Frame <= 0 || r.KeySort <= 0 {
		t.Errorf("figures not measured: %+v", r)
	}
	var b strings.Builder
	if err := PrintBench(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first frame", "≤ 16 ms", "key: filter keystroke", "RSS", "k9s", "K9S"} {
		if !strings.Contains(b.String(), want) && !strings.Contains(strings.ToUpper(b.String()), strings.ToUpper(want)) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if _, err := RunBench(BenchOptions{Runs: 0, Width: 80, Height: 24}); err == nil {
		t.Error("runs 0 accepted")
	}
}
