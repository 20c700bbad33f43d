package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func mustWrite(t *testing.T, f File, s string, off int64) {
	t.Helper()
	if _, err := f.WriteAt([]byte(s), off); err != nil {
		t.Fatal(err)
	}
}

func mustSync(t *testing.T, f File) {
	t.Helper()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, fs FS, path string) File {
	t.Helper()
	f, err := fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readFile(t *testing.T, path string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

// TestFaultFSDropsUnsyncedData is the check on the checker: unsynced bytes,
// overwrites, truncations and size changes are all undone by a plain cut.
func TestFaultFSDropsUnsyncedData(t *testing.T) {
	dir := t.TempDir()
	fs := NewFaultFS(OSFS(), 1)
	path := filepath.Join(dir, "f")
	f := create(t, fs, path)
	mustWrite(t, f, "hello world", 0)
	mustSync(t, f)
	if err := fs.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "HELLO", 0)           // overwrite, unsynced
	mustWrite(t, f, "!!!!", 11)           // append, unsynced
	if err := f.Truncate(3); err != nil { // shrink, unsynced
		t.Fatal(err)
	}
	if err := f.Allocate(100); err != nil { // grow, unsynced
		t.Fatal(err)
	}
	mustWrite(t, f, "xy", 5)
	if err := fs.PowerCut(false); err != nil {
		t.Fatal(err)
	}
	if got, _ := readFile(t, path); got != "hello world" {
		t.Fatalf("after cut: %q, want the synced %q", got, "hello world")
	}
	// The old handle is dead and the FS is off until Restart.
	if _, err := f.WriteAt([]byte("late"), 0); !errors.Is(err, ErrPowerCut) {
		t.Fatalf("write through a pre-cut handle: %v", err)
	}
	if _, err := fs.OpenFile(path, os.O_RDONLY, 0); !errors.Is(err, ErrPowerCut) {
		t.Fatalf("open while the power is off: %v", err)
	}
	fs.Restart()
	g, err := fs.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, g, "J", 0)
	mustSync(t, g)
	g.Close()
	if err := fs.PowerCut(false); err != nil {
		t.Fatal(err)
	}
	if got, _ := readFile(t, path); got != "Jello world" {
		t.Fatalf("synced write after restart lost: %q", got)
	}
}

// TestFaultFSTornWrites shows a torn cut keeps the synced bytes and a prefix
// of the unsynced ones, sometimes all, sometimes none, sometimes garbage.
func TestFaultFSTornWrites(t *testing.T) {
	const synced = "durable:"
	unsynced := []string{"aaaa", "bbbbbbbb", "cccccccccccc"}
	all := synced + unsynced[0] + unsynced[1] + unsynced[2]
	var none, some, full, garbage int
	for seed := int64(0); seed < 200; seed++ {
		dir := t.TempDir()
		fs := NewFaultFS(OSFS(), seed)
		path := filepath.Join(dir, "f")
		f := create(t, fs, path)
		mustWrite(t, f, synced, 0)
		mustSync(t, f)
		fs.SyncDir(dir)
		off := int64(len(synced))
		for _, s := range unsynced {
			mustWrite(t, f, s, off)
			off += int64(len(s))
		}
		if err := fs.PowerCut(true); err != nil {
			t.Fatal(err)
		}
		got, _ := readFile(t, path)
		if !bytes.HasPrefix([]byte(got), []byte(synced)) || len(got) > len(all) {
			t.Fatalf("seed %d: %q lost synced data or grew", seed, got)
		}
		n := 0
		for n < len(got) && got[n] == all[n] {
			n++
		}
		switch {
		case n < len(got):
			garbage++
		case n == len(synced):
			none++
		case n == len(all):
			full++
		default:
			some++
		}
	}
	if none == 0 || some == 0 || full == 0 || garbage == 0 {
		t.Fatalf("torn outcomes none=%d some=%d full=%d garbage=%d: every kind should occur", none, some, full, garbage)
	}
}

// TestFaultFSDirectoryEntries shows unsynced creates, removes and renames may
// be undone by a cut, and synced ones are not.
func TestFaultFSDirectoryEntries(t *testing.T) {
	var vanished, kept, cameBack, stayedGone, undone, renamed int
	for seed := int64(0); seed < 100; seed++ {
		dir := t.TempDir()
		fs := NewFaultFS(OSFS(), seed)
		// A file whose data is synced but whose directory is not.
		f := create(t, fs, filepath.Join(dir, "new"))
		mustWrite(t, f, "data", 0)
		mustSync(t, f)
		f.Close()
		// A durable file removed without a directory sync.
		old := filepath.Join(dir, "old")
		if err := os.WriteFile(old, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := fs.Remove(old); err != nil {
			t.Fatal(err)
		}
		// A durable file replaced by a rename without a directory sync.
		target := filepath.Join(dir, "target")
		if err := os.WriteFile(target, []byte("before"), 0o644); err != nil {
			t.Fatal(err)
		}
		g := create(t, fs, filepath.Join(dir, "tmp"))
		mustWrite(t, g, "after", 0)
		mustSync(t, g)
		g.Close()
		if err := fs.Rename(filepath.Join(dir, "tmp"), target); err != nil {
			t.Fatal(err)
		}
		if names, _ := fs.ReadDir(dir); len(names) != 2 {
			t.Fatalf("seed %d: ReadDir %v, want [new target]", seed, names)
		}
		if err := fs.PowerCut(false); err != nil {
			t.Fatal(err)
		}
		if s, ok := readFile(t, filepath.Join(dir, "new")); ok {
			if s != "data" {
				t.Fatalf("seed %d: synced file came back as %q", seed, s)
			}
			kept++
		} else {
			vanished++
		}
		if s, ok := readFile(t, old); ok {
			if s != "old" {
				t.Fatalf("seed %d: removed file came back as %q", seed, s)
			}
			cameBack++
		} else {
			stayedGone++
		}
		switch s, _ := readFile(t, target); s {
		case "before":
			undone++
		case "after":
			renamed++
		default:
			t.Fatalf("seed %d: rename target holds %q", seed, s)
		}
		names, _ := os.ReadDir(dir)
		for _, n := range names {
			if n.Name() != "new" && n.Name() != "old" && n.Name() != "target" && n.Name() != "tmp" {
				t.Fatalf("seed %d: stray file %s after the cut", seed, n.Name())
			}
		}
	}
	if vanished == 0 || kept == 0 || cameBack == 0 || stayedGone == 0 || undone == 0 || renamed == 0 {
		t.Fatalf("outcomes vanished=%d kept=%d cameBack=%d stayedGone=%d undone=%d renamed=%d: each should occur",
			vanished, kept, cameBack, stayedGone, undone, renamed)
	}

	// After SyncDir, none of it is undone.
	for seed := int64(0); seed < 20; seed++ {
		dir := t.TempDir()
		fs := NewFaultFS(OSFS(), seed)
		f := create(t, fs, filepath.Join(dir, "new"))
		mustWrite(t, f, "data", 0)
		mustSync(t, f)
		if err := fs.SyncDir(dir); err != nil {
			t.Fatal(err)
		}
		if err := fs.PowerCut(true); err != nil {
			t.Fatal(err)
		}
		if s, _ := readFile(t, filepath.Join(dir, "new")); s != "data" {
			t.Fatalf("seed %d: synced file in a synced directory reads %q", seed, s)
		}
	}
}

func TestFaultFSCutAfter(t *testing.T) {
	dir := t.TempDir()
	fs := NewFaultFS(OSFS(), 1)
	f := create(t, fs, filepath.Join(dir, "f")) // op 1 (create)
	fs.CutAfter(3, false)
	mustWrite(t, f, "a", 0) // 1
	mustSync(t, f)          // 2
	if _, err := f.WriteAt([]byte("b"), 1); !errors.Is(err, ErrPowerCut) {
		t.Fatalf("third op after CutAfter(3): %v, want ErrPowerCut", err)
	}
	if fs.Cuts() != 1 {
		t.Fatalf("%d cuts", fs.Cuts())
	}
	if s, _ := readFile(t, filepath.Join(dir, "f")); s != "a" && s != "" {
		t.Fatalf("file reads %q", s)
	}
}
