package agent

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestMaxSandboxAge(t *testing.T) {
	week := 7 * 24 * time.Hour
	for _, c := range []struct {
		usage float64
		want  time.Duration
	}{
		{0, time.Duration(0.9 * float64(week))},
		{0.5, time.Duration(0.4 * float64(week))},
		{0.9, 0},
		{0.99, 0},
	} {
		if got := maxSandboxAge(week, c.usage); got.Round(time.Second) != c.want.Round(time.Second) {
			t.Errorf("usage %.2f: max age %s, want %s", c.usage, got, c.want)
		}
	}
}

// TestRemoveExpiredSandboxes builds a real sandbox tree and checks that
// only finished runs older than the max age go, with the directories
// they leave empty, and that live runs stay however old.
func TestRemoveExpiredSandboxes(t *testing.T) {
	slaves := filepath.Join(t.TempDir(), "slaves")
	run := func(fw, ex, id string, age time.Duration) string {
		dir := filepath.Join(slaves, "A1", "frameworks", fw, "executors", ex, "runs", id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "stdout")
		if err := os.WriteFile(out, []byte("hello\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		for _, p := range []string{out, dir} {
			if err := os.Chtimes(p, when, when); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	old := run("F1", "e1", "c-old", 2*time.Hour)
	fresh := run("F1", "e2", "c-fresh", time.Minute)
	liveOld := run("F2", "e3", "c-live", 5*time.Hour)
	// A run whose directory is old but whose stdout was just written.
	writing := run("F2", "e4", "c-writing", 3*time.Hour)
	now := time.Now()
	if err := os.Chtimes(filepath.Join(writing, "stdout"), now, now); err != nil {
		t.Fatal(err)
	}

	removed := removeExpiredSandboxes(slaves, map[string]bool{"c-live": true}, time.Hour, now)
	if !slices.Equal(removed, []string{old}) {
		t.Fatalf("removed %v, want only %s", removed, old)
	}
	for _, keep := range []string{fresh, liveOld, writing} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s should remain: %v", keep, err)
		}
	}
	if _, err := os.Stat(filepath.Join(slaves, "A1", "frameworks", "F1", "executors", "e1")); !os.IsNotExist(err) {
		t.Errorf("the emptied executor directory should be gone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(slaves, "A1", "frameworks", "F1")); err != nil {
		t.Errorf("a framework directory with runs left must stay: %v", err)
	}
	// Once the last run of F1 expires, F1 goes too.
	removed = removeExpiredSandboxes(slaves, nil, 0, now.Add(time.Hour))
	if _, err := os.Stat(filepath.Join(slaves, "A1", "frameworks", "F1")); !os.IsNotExist(err) {
		t.Errorf("an emptied framework directory should be gone (removed %v): %v", removed, err)
	}
}
