package app

import (
	"slices"
	"testing"
)

func TestPathIDCanonical(t *testing.T) {
	tests := []struct {
		id, base, want string
	}{
		{"/prod/web", "/", "/prod/web"},
		{"web", "/prod", "/prod/web"},
		{"web/", "/prod", "/prod/web"},
		{"../db", "/prod/web", "/prod/db"},
		{"./x", "/a", "/a/x"},
		{"../../../x", "/a", "/x"},
		{"//a//b//", "/", "/a/b"},
		{"/", "/prod", "/"},
		{"", "/prod", "/prod"},
		{"/a/../b", "/", "/b"},
	}
	for _, tt := range tests {
		if got := PathID(tt.id).Canonical(PathID(tt.base)); got != PathID(tt.want) {
			t.Errorf("%q.Canonical(%q) = %q, want %q", tt.id, tt.base, got, tt.want)
		}
	}
}

func TestPathIDParts(t *testing.T) {
	p := PathID("/prod/web/api")
	if p.Parent() != "/prod/web" || p.Name() != "api" || p.SafeName() != "prod_web_api" {
		t.Errorf("parts of %s: parent %s name %s safe %s", p, p.Parent(), p.Name(), p.SafeName())
	}
	if PathID("/a").Parent() != Root || Root.Parent() != Root || !Root.IsRoot() {
		t.Error("root handling")
	}
	if !PathID("/a").IsAncestorOf("/a/b") || PathID("/a").IsAncestorOf("/ab") || PathID("/a").IsAncestorOf("/a") || !Root.IsAncestorOf("/x") {
		t.Error("IsAncestorOf")
	}
	if got := PathID("/a").Child("b"); got != "/a/b" {
		t.Errorf("Child = %s", got)
	}
}

func TestValidatePathID(t *testing.T) {
	tests := []struct {
		id   PathID
		want []string
	}{
		{"/prod/web", nil},
		{"/a.b-c/d0", nil},
		{"/Prod", []string{"must fully match regular expression '" + segmentPatternText + "'"}},
		{"/-a", []string{"must fully match regular expression '" + segmentPatternText + "'"}},
		{"/a_b", []string{"must fully match regular expression '" + segmentPatternText + "'"}},
		{"/app/tasks", []string{"must not end with any of the following reserved keywords: restart, tasks, versions, ., .."}},
		{"/app/restart", []string{"must not end with any of the following reserved keywords: restart, tasks, versions, ., .."}},
		{"/", []string{"Path must contain at least one path element"}},
	}
	for _, tt := range tests {
		if got := ValidatePathID(tt.id); !slices.Equal(got, tt.want) {
			t.Errorf("ValidatePathID(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
	if got := validateID("x/y", "/g", false); !slices.Contains(got, "Identifier is not child of '/g'") {
		t.Errorf("nested grandchild: %q", got)
	}
	if got := validateID("web", "/g", false); got != nil {
		t.Errorf("child: %q", got)
	}
}
