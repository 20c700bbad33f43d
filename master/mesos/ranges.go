package mesos

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Range is an inclusive interval of unsigned integers, typically ports.
type Range struct {
	Begin uint64 `json:"begin"`
	End   uint64 `json:"end"`
}

// UnmarshalJSON accepts begin/end as numbers or as decimal strings: proto3
// JSON printers (Java's JsonFormat, Go's protojson) write uint64 as strings,
// and Mesos reads both.
func (r *Range) UnmarshalJSON(data []byte) error {
	var w struct {
		Begin json.RawMessage `json:"begin"`
		End   json.RawMessage `json:"end"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	b, err := parseJSONUint(w.Begin)
	if err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(w.Begin), Type: reflect.TypeFor[uint64](), Field: "begin"}
	}
	e, err := parseJSONUint(w.End)
	if err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(w.End), Type: reflect.TypeFor[uint64](), Field: "end"}
	}
	*r = Range{Begin: b, End: e}
	return nil
}

// Ranges is Value.Ranges. In JSON it is {"range": [{"begin": 1, "end": 2}]}.
// The arithmetic methods treat it as a set of integers: they accept ranges
// in any order, overlapping or adjacent, and return them sorted and
// coalesced ([1-2],[3-4] becomes [1-4], as Mesos does). Inverted ranges
// (begin > end) count as empty; Validate reports them.
type Ranges []Range

func (Ranges) wrappedKey() string { return "range" }

// MarshalJSON writes {"range": [...]}.
func (rs Ranges) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 16+len(rs)*32)
	b = append(b, `{"range":[`...)
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"begin":`...)
		b = strconv.AppendUint(b, r.Begin, 10)
		b = append(b, `,"end":`...)
		b = strconv.AppendUint(b, r.End, 10)
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// UnmarshalJSON reads {"range": [...]}; null or a missing "range" is empty.
func (rs *Ranges) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*rs = nil
		return nil
	}
	var w struct {
		Range []Range `json:"range"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*rs = w.Range
	return nil
}

// Normalize returns the ranges sorted by begin with overlapping and adjacent
// ranges merged and inverted ones dropped. The receiver is not modified.
func (rs Ranges) Normalize() Ranges {
	if len(rs) == 0 {
		return nil
	}
	out := make(Ranges, 0, len(rs))
	for _, r := range rs {
		if r.Begin <= r.End {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Range) int {
		switch {
		case a.Begin < b.Begin:
			return -1
		case a.Begin > b.Begin:
			return 1
		}
		return 0
	})
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			// Adjacent counts as touching; End+1 would overflow at MaxUint64.
			if last.End == math.MaxUint64 || r.Begin <= last.End+1 {
				if r.End > last.End {
					last.End = r.End
				}
				continue
			}
		}
		merged = append(merged, r)
	}
	if len(merged) == 0 {
		return nil
	}
	return merged
}

// isNormalized reports whether rs is already sorted and coalesced, so hot
// paths can skip copying.
func (rs Ranges) isNormalized() bool {
	for i, r := range rs {
		if r.Begin > r.End {
			return false
		}
		if i > 0 {
			prev := rs[i-1]
			if prev.End == math.MaxUint64 || r.Begin <= prev.End+1 {
				return false
			}
		}
	}
	return true
}

// disjoint reports whether no range is inverted and none overlaps another:
// what Validate requires (adjacent and unsorted ranges are fine).
func (rs Ranges) disjoint() bool {
	if rs.isNormalized() {
		return true
	}
	for i, a := range rs {
		if a.Begin > a.End {
			return false
		}
		for _, b := range rs[i+1:] {
			if b.Begin <= b.End && a.Begin <= b.End && b.Begin <= a.End {
				return false
			}
		}
	}
	return true
}

func (rs Ranges) normalized() Ranges {
	if rs.isNormalized() {
		return rs
	}
	return rs.Normalize()
}

// Add returns the union of rs and o.
func (rs Ranges) Add(o Ranges) Ranges {
	all := make(Ranges, 0, len(rs)+len(o))
	all = append(all, rs...)
	all = append(all, o...)
	return all.Normalize()
}

// Subtract returns the integers of rs that are not in o.
func (rs Ranges) Subtract(o Ranges) Ranges {
	a, b := rs.normalized(), o.normalized()
	var out Ranges
	j := 0
	for _, r := range a {
		cur := r
		empty := false
		for j < len(b) && b[j].End < cur.Begin {
			j++
		}
		for k := j; k < len(b) && b[k].Begin <= cur.End; k++ {
			cut := b[k]
			if cut.Begin > cur.Begin {
				out = append(out, Range{Begin: cur.Begin, End: cut.Begin - 1})
			}
			if cut.End >= cur.End {
				empty = true
				break
			}
			cur.Begin = cut.End + 1
		}
		if !empty {
			out = append(out, cur)
		}
	}
	return out
}

// Contains reports whether every integer in o is also in rs.
func (rs Ranges) Contains(o Ranges) bool {
	a, b := rs.normalized(), o.normalized()
	i := 0
	for _, r := range b {
		for i < len(a) && a[i].End < r.Begin {
			i++
		}
		if i == len(a) || a[i].Begin > r.Begin || a[i].End < r.End {
			return false
		}
	}
	return true
}

// Intersects reports whether rs and o share any integer.
func (rs Ranges) Intersects(o Ranges) bool {
	a, b := rs.normalized(), o.normalized()
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].End < b[j].Begin:
			i++
		case b[j].End < a[i].Begin:
			j++
		default:
			return true
		}
	}
	return false
}

// Equal reports whether rs and o hold the same integers.
func (rs Ranges) Equal(o Ranges) bool {
	return slices.Equal(rs.normalized(), o.normalized())
}

// Size returns how many integers rs holds, saturating at MaxUint64.
func (rs Ranges) Size() uint64 {
	var n uint64
	for _, r := range rs.normalized() {
		w := r.End - r.Begin
		if w == math.MaxUint64 || n > math.MaxUint64-w-1 {
			return math.MaxUint64
		}
		n += w + 1
	}
	return n
}

// String prints the flag syntax: [31000-32000,33000-33100].
func (rs Ranges) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(r.Begin, 10))
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(r.End, 10))
	}
	b.WriteByte(']')
	return b.String()
}

// checkRanges reports inverted and overlapping ranges (adjacent ones are
// fine; Mesos coalesces them). path names the Ranges message.
func (rs Ranges) checkRanges(path string, errs *FieldErrors) {
	base := joinPath(path, "range")
	for i, r := range rs {
		if r.Begin > r.End {
			errs.add(indexPath(base, i), "begin %d is greater than end %d", r.Begin, r.End)
		}
	}
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			a, b := rs[i], rs[j]
			if a.Begin <= a.End && b.Begin <= b.End && a.Begin <= b.End && b.Begin <= a.End {
				errs.add(indexPath(base, j), "range %d-%d overlaps range %d-%d", b.Begin, b.End, a.Begin, a.End)
			}
		}
	}
}

// jsonNumberText is a JSON number's text, unquoted when it came as a string
// (Mesos' codec accepts both); "" for null or nothing.
func jsonNumberText(data []byte) (string, error) {
	t := strings.TrimSpace(string(data))
	if t == "" || t == "null" {
		return "", nil
	}
	if t[0] == '"' {
		var s string
		if err := json.Unmarshal([]byte(t), &s); err != nil {
			return "", err
		}
		t = strings.TrimSpace(s)
	}
	return t, nil
}

// parseJSONUint reads a non-negative integer given as a JSON number
// (including integral floats like 31000.0) or as a decimal string.
func parseJSONUint(data []byte) (uint64, error) {
	t, err := jsonNumberText(data)
	if err != nil || t == "" {
		return 0, err
	}
	if v, err := strconv.ParseUint(t, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f >= 1<<64 || !json.Valid([]byte(t)) {
		return 0, strconv.ErrSyntax
	}
	return uint64(f), nil
}

// parseJSONInt reads a signed integer the same lenient way.
func parseJSONInt(data []byte) (int64, error) {
	t, err := jsonNumberText(data)
	if err != nil || t == "" {
		return 0, err
	}
	if v, err := strconv.ParseInt(t, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f != math.Trunc(f) || f >= 1<<63 || f < -(1<<63) || !json.Valid([]byte(t)) {
		return 0, strconv.ErrSyntax
	}
	return int64(f), nil
}
