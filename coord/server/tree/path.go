package tree

import (
	"strings"
	"unicode/utf8"
)

// validPath reports whether ZooKeeper's PathUtils.validatePath accepts path.
// ZooKeeper checks UTF-16 code units, so a character outside the Basic
// Multilingual Plane (a surrogate pair) is refused, and so is invalid UTF-8,
// which Java decodes to U+FFFD, itself in a refused range.
func validPath(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	if len(path) == 1 {
		return true
	}
	if path[len(path)-1] == '/' {
		return false
	}
	last := '/'
	for i, c := range path {
		if i == 0 {
			continue
		}
		switch {
		case c == 0:
			return false
		case c == '/' && last == '/':
			return false // empty node name
		case c == '.' && (last == '/' || last == '.') && relativeAt(path, i):
			return false
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f,
			c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0,
			c == utf8.RuneError:
			return false
		}
		last = c
	}
	return true
}

// relativeAt reports whether the '.' at i ends a "." or ".." path element.
func relativeAt(path string, i int) bool {
	end := i+1 == len(path) || path[i+1] == '/'
	if !end {
		return false
	}
	start := strings.LastIndexByte(path[:i+1], '/')
	elem := path[start+1 : i+1]
	return elem == "." || elem == ".."
}

// specialPath is what ZooKeeper refuses to delete.
func specialPath(path string) bool {
	switch path {
	case "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config":
		return true
	}
	return false
}
