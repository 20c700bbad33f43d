package main

import "testing"

func TestPreviousVersion(t *testing.T) {
	vs := []string{"2026-01-03T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-01T00:00:00.000Z"}
	for _, c := range []struct {
		current, want string
	}{
		{vs[0], vs[1]},
		{vs[1], vs[2]},
		{vs[2], ""},        // the oldest kept: nothing before it
		{"", vs[1]},        // current unknown: the one below the newest
		{"2025-01-01", ""}, // not among the stored versions
	} {
		if got := previousVersion(vs, c.current); got != c.want {
			t.Errorf("previousVersion(%q) = %q, want %q", c.current, got, c.want)
		}
	}
}
