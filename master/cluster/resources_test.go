package cluster

import (
	"path/filepath"
	"testing"
)

func TestSplit(t *testing.T) {
	got := Split(Host{CPUs: 3, MemMB: 4096, DiskMB: 1000}, 2)
	if len(got) != 2 {
		t.Fatalf("Split: %d shares", len(got))
	}
	if got[0].String() != "cpus:1.5;mem:2048;disk:500;ports:[31000-31999]" ||
		got[1].String() != "cpus:1.5;mem:2048;disk:500;ports:[32000-32999]" {
		t.Errorf("Split = %v / %v", got[0], got[1])
	}
	tiny := Split(Host{CPUs: 1, MemMB: 40}, 4)
	if tiny[3].String() != "cpus:0.2;mem:32;ports:[34000-34999]" {
		t.Errorf("tiny host share %q", tiny[3].String())
	}
}

func TestDataDir(t *testing.T) {
	dir := t.TempDir()
	tok, err := ensureToken(filepath.Join(dir, "token"))
	if err != nil || len(tok) != 64 {
		t.Fatalf("token %q, %v", tok, err)
	}
	again, _ := ensureToken(filepath.Join(dir, "token"))
	if again != tok {
		t.Error("a second start made a new token")
	}
	l, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataDir(dir); err == nil {
		t.Error("a second lock on the same data dir succeeded")
	}
	l.Close()
	if err := saveState(filepath.Join(dir, "cluster.json"), savedState{IP: "127.0.0.1", CoordPort: 2181}); err != nil {
		t.Fatal(err)
	}
	if a, ok := LocalCoord(dir); !ok || a != "127.0.0.1:2181" {
		t.Errorf("LocalCoord = %q, %v", a, ok)
	}
}
