package supervise

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestGroupSync: concurrent writers all return with their files in
// place, every call covered by a finished sync.
func TestGroupSync(t *testing.T) {
	dir := t.TempDir()
	g := &GroupSync{Dir: dir}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			path := filepath.Join(dir, fmt.Sprintf("f%d", i))
			if err := writeJSONGrouped(g, path, map[string]int{"i": i}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 64 {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("f%d", i)))
		if err != nil || string(b) != fmt.Sprintf("{\"i\":%d}\n", i) {
			t.Fatalf("file %d: %q %v", i, b, err)
		}
	}
	if g.asked != 64 || g.done != 64 {
		t.Fatalf("asked %d, done %d, want 64 and 64", g.asked, g.done)
	}
}

// TestGroupSyncError: a sync that fails fails every caller it covered,
// and the next round starts clean.
func TestGroupSyncError(t *testing.T) {
	g := &GroupSync{Dir: filepath.Join(t.TempDir(), "missing")}
	if err := g.Sync(); err == nil {
		t.Fatal("a sync of a missing directory succeeded")
	}
	g.Dir = t.TempDir()
	if err := g.Sync(); err != nil {
		t.Fatalf("a good sync after a failed one: %v", err)
	}
}
