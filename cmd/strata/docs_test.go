package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsMan writes the man pages and checks a few are there and say
// what --help says.
func TestDocsMan(t *testing.T) {
	dir := t.TempDir()
	root := newRootCmd()
	root.SetArgs([]string{"docs", "man", dir})
	root.SetOut(new(strings.Builder))
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"strata.1", "strata-up.1", "strata-apps-deploy.1", "strata-agent.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		if !strings.Contains(string(b), ".TH \"STRATA\"") {
			t.Errorf("%s is not a man page:\n%.200s", page, b)
		}
	}
	up, _ := os.ReadFile(filepath.Join(dir, "strata-up.1"))
	if !strings.Contains(string(up), `\fB--data-dir\fP`) {
		t.Errorf("strata-up.1 does not document --data-dir:\n%.500s", up)
	}
}
