package agent

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenBeneath: the kernel-enforced guard refuses links that leave the
// directory even when the path check was passed (a link swapped in after
// it), and follows links that stay inside.
func TestOpenBeneath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"abs": "/etc/passwd", "up": "../../../../etc/passwd", "ok": "in"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	f, err := openBeneath(dir, "ok")
	if err != nil {
		t.Fatalf("a link inside: %v", err)
	}
	f.Close()
	for _, rel := range []string{"abs", "up", "../x", "/etc/passwd"} {
		f, err := openBeneath(dir, rel)
		if err == nil {
			f.Close()
			t.Fatalf("%s: opened", rel)
		}
		if !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.ELOOP) {
			t.Logf("%s: %v (no openat2 here: refused by O_NOFOLLOW instead)", rel, err)
		}
	}
}
