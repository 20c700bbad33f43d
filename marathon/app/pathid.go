package app

import (
	"regexp"
	"strconv"
	"strings"
)

// PathID is a Marathon id: slash-separated segments naming an app or a
// group in the group tree ("/prod/web"). Canonical ids are absolute, have no
// empty, "." or ".." segments and no trailing slash; the root group is "/".
// Users may send relative ids ("web", "../db") which are resolved against
// the enclosing group, as Marathon does for apps nested in group JSON and
// for dependencies.
type PathID string

// MaxIDLength bounds an id (without its leading slash). Marathon sets
// none, but a task id is the id with / as _ plus "." and a 36-character
// UUID, and the agent makes it a directory name, which Linux limits to 255
// bytes: a longer id could be stored but never launched.
const MaxIDLength = 255 - 1 - 36

// Root is the id of the root group.
const Root PathID = "/"

// segmentPattern is Marathon's ID_PATH_SEGMENT_PATTERN: dot-separated DNS
// labels of lowercase letters, digits and inner dashes, or "." / "..".
var segmentPattern = regexp.MustCompile(`^(?:(?:(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|\.|\.\.)$`)

// segmentPatternText is the pattern as Marathon prints it in its message.
const segmentPatternText = `^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.)$`

// reservedLastSegments cannot end an id because they collide with the
// /v2/apps/{id}/restart|tasks|versions routes.
var reservedLastSegments = []string{"restart", "tasks", "versions", ".", ".."}

// IsAbsolute reports whether p starts with a slash.
func (p PathID) IsAbsolute() bool { return strings.HasPrefix(string(p), "/") }

// Segments returns the non-empty segments of p (nil for the root).
func (p PathID) Segments() []string {
	var out []string
	for s := range strings.SplitSeq(string(p), "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Canonical resolves p against base (an absolute group id): relative ids
// are appended to base, "." segments are dropped and ".." segments remove
// their predecessor (never climbing above the root).
func (p PathID) Canonical(base PathID) PathID {
	var segs []string
	if !p.IsAbsolute() {
		segs = base.Segments()
	}
	for _, s := range p.Segments() {
		switch s {
		case ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	return fromSegments(segs)
}

func fromSegments(segs []string) PathID {
	return PathID("/" + strings.Join(segs, "/"))
}

// IsRoot reports whether p names the root group.
func (p PathID) IsRoot() bool { return p.IsAbsolute() && len(p.Segments()) == 0 }

// Parent returns the enclosing group of a canonical id ("/" for top-level
// ids and for the root itself).
func (p PathID) Parent() PathID {
	segs := p.Segments()
	if len(segs) == 0 {
		return Root
	}
	return fromSegments(segs[:len(segs)-1])
}

// Name is the last segment ("" for the root).
func (p PathID) Name() string {
	segs := p.Segments()
	if len(segs) == 0 {
		return ""
	}
	return segs[len(segs)-1]
}

// Child appends one segment.
func (p PathID) Child(name string) PathID { return fromSegments(append(p.Segments(), name)) }

// IsAncestorOf reports whether p strictly contains other in the tree; the
// root is an ancestor of every other id.
func (p PathID) IsAncestorOf(other PathID) bool {
	ps, os := p.Segments(), other.Segments()
	if len(ps) >= len(os) {
		return false
	}
	for i := range ps {
		if ps[i] != os[i] {
			return false
		}
	}
	return true
}

// SafeName is the id with slashes turned into underscores and no leading
// one ("/prod/web" → "prod_web"), as Marathon prefixes task ids.
func (p PathID) SafeName() string { return strings.Join(p.Segments(), "_") }

// String returns the id as given.
func (p PathID) String() string { return string(p) }

// validateID returns Marathon's messages for an id as the user sent it,
// relative to base (pathIdValidator, absolutePathValidator, nonEmptyPath
// and childOf in Marathon's PathId).
func validateID(raw PathID, base PathID, requireAbsolute bool) []string {
	var errs []string
	segs := raw.Segments()
	for _, s := range segs {
		if !segmentPattern.MatchString(s) {
			errs = append(errs, "must fully match regular expression '"+segmentPatternText+"'")
			break
		}
	}
	if n := len(segs); n > 0 {
		for _, r := range reservedLastSegments {
			if segs[n-1] == r {
				errs = append(errs, "must not end with any of the following reserved keywords: "+strings.Join(reservedLastSegments, ", "))
				break
			}
		}
	}
	if requireAbsolute && !raw.IsAbsolute() {
		errs = append(errs, "Path needs to be absolute")
	}
	if len(segs) == 0 {
		errs = append(errs, "Path must contain at least one path element")
	}
	if n := len(raw.Canonical(base.Canonical(Root)).SafeName()); n > MaxIDLength {
		errs = append(errs, "must be at most "+strconv.Itoa(MaxIDLength)+" characters without its leading slash, got "+strconv.Itoa(n))
	}
	if base != "" && len(segs) > 0 && raw.Canonical(base).Parent() != base.Canonical(Root) {
		errs = append(errs, "Identifier is not child of '"+base.Canonical(Root).String()+"'")
	}
	return errs
}

// ValidatePathID reports whether id is a well-formed Marathon id that may
// name an app or group (not the root, no reserved last segment).
func ValidatePathID(id PathID) []string { return validateID(id, "", false) }

// SegmentRule is what ValidSegment demands, worded for error messages.
const SegmentRule = "must fully match regular expression '" + segmentPatternText + "' and not be '.' or '..'"

// ValidSegment reports whether s may be one segment of an id that names an
// app or group as it is (in a URL path): a Marathon id segment, and not a
// dot segment, which only relative ids in definitions may use.
func ValidSegment(s string) bool {
	return s != "." && s != ".." && segmentPattern.MatchString(s)
}

// climbsAboveRoot reports whether resolving raw against base uses a ".."
// with nothing left to remove. Canonical quietly stops at the root (as
// Marathon's canonicalPath does); a definition that asks to climb above it
// is refused, as the id it names is not the one it spells.
func climbsAboveRoot(raw, base PathID) bool {
	depth := 0
	if !raw.IsAbsolute() && base != "" {
		depth = len(base.Segments())
	}
	for _, s := range raw.Segments() {
		switch s {
		case ".":
		case "..":
			if depth == 0 {
				return true
			}
			depth--
		default:
			depth++
		}
	}
	return false
}
