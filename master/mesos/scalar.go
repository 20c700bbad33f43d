package mesos

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Scalar is Mesos' Value.Scalar ({"value": 0.5}) held as a fixed-point count
// of thousandths. Mesos itself rounds every scalar to three decimals before
// doing arithmetic; storing the thousandths makes that exact everywhere, so
// adding 0.1 cpus ten thousand times gives exactly 1000 and an allocator's
// sums never drift.
//
// Three values that JSON can carry but resources must not are kept as
// sentinels so validation can name them rather than the decoder choking:
// NaN, +Infinity and -Infinity ("Infinity" is legal in TaskInfo.limits).
// Numbers too large for the fixed-point range decode as infinities.
type Scalar struct {
	milli int64
}

const (
	milliNaN    = math.MinInt64
	milliNegInf = math.MinInt64 + 1
	milliPosInf = math.MaxInt64
	// maxMilli bounds finite values; beyond it a float becomes an infinity.
	maxMilli = math.MaxInt64 - 1
	minMilli = math.MinInt64 + 2
	// maxMilliFloat is a float comfortably inside the finite range; values
	// past it convert to infinities instead of overflowing int64.
	maxMilliFloat = 9.2e18
)

// ScalarOf rounds v to the nearest thousandth, half away from zero, as Mesos
// does (llround(v * 1000)).
func ScalarOf(v float64) Scalar {
	switch {
	case math.IsNaN(v):
		return Scalar{milliNaN}
	case math.IsInf(v, 1):
		return Scalar{milliPosInf}
	case math.IsInf(v, -1):
		return Scalar{milliNegInf}
	}
	m := math.Round(v * 1000)
	if m >= maxMilliFloat {
		return Scalar{milliPosInf}
	}
	if m <= -maxMilliFloat {
		return Scalar{milliNegInf}
	}
	return Scalar{int64(m)}
}

// ScalarFromMilli makes a Scalar from a count of thousandths.
func ScalarFromMilli(m int64) Scalar {
	switch {
	case m > maxMilli:
		return Scalar{milliPosInf}
	case m < minMilli:
		return Scalar{milliNegInf}
	}
	return Scalar{m}
}

// Infinity is the +Infinity scalar, used for "no limit" in TaskInfo.limits.
func Infinity() Scalar { return Scalar{milliPosInf} }

// Milli returns the value in thousandths. It is meaningless for
// non-finite scalars; check IsFinite first.
func (s Scalar) Milli() int64 { return s.milli }

// Float64 returns the value as a float, the nearest double to the decimal.
func (s Scalar) Float64() float64 {
	switch s.milli {
	case milliNaN:
		return math.NaN()
	case milliPosInf:
		return math.Inf(1)
	case milliNegInf:
		return math.Inf(-1)
	}
	return float64(s.milli) / 1000
}

// IsFinite reports whether s is neither NaN nor infinite.
func (s Scalar) IsFinite() bool {
	return s.milli != milliNaN && s.milli != milliPosInf && s.milli != milliNegInf
}

// IsNaN reports whether s is NaN.
func (s Scalar) IsNaN() bool { return s.milli == milliNaN }

// IsInf reports whether s is an infinity with the given sign (0: either).
func (s Scalar) IsInf(sign int) bool {
	return (sign >= 0 && s.milli == milliPosInf) || (sign <= 0 && s.milli == milliNegInf)
}

// IsZero reports whether s is exactly zero.
func (s Scalar) IsZero() bool { return s.milli == 0 }

// Sign returns -1, 0 or +1 (0 for NaN).
func (s Scalar) Sign() int {
	switch {
	case s.milli == milliNaN || s.milli == 0:
		return 0
	case s.milli < 0:
		return -1
	}
	return 1
}

func (s Scalar) neg() Scalar {
	switch s.milli {
	case milliNaN:
		return s
	case milliPosInf:
		return Scalar{milliNegInf}
	case milliNegInf:
		return Scalar{milliPosInf}
	}
	return Scalar{-s.milli}
}

// Add returns s+o. Sums past the fixed-point range saturate to infinity;
// +Inf plus -Inf is NaN, as in IEEE arithmetic.
func (s Scalar) Add(o Scalar) Scalar {
	if s.IsNaN() || o.IsNaN() {
		return Scalar{milliNaN}
	}
	if !s.IsFinite() || !o.IsFinite() {
		if !s.IsFinite() && !o.IsFinite() && s.milli != o.milli {
			return Scalar{milliNaN}
		}
		if !s.IsFinite() {
			return s
		}
		return o
	}
	sum := s.milli + o.milli
	switch {
	case o.milli > 0 && (sum < s.milli || sum > maxMilli):
		return Scalar{milliPosInf}
	case o.milli < 0 && (sum > s.milli || sum < minMilli):
		return Scalar{milliNegInf}
	}
	return Scalar{sum}
}

// Sub returns s-o.
func (s Scalar) Sub(o Scalar) Scalar { return s.Add(o.neg()) }

// Cmp compares s and o: -1, 0 or +1. NaN sorts below everything, so it never
// "fits" anywhere.
func (s Scalar) Cmp(o Scalar) int {
	a, b := s.milli, o.milli
	if a == milliNaN || b == milliNaN {
		switch {
		case a == b:
			return 0
		case a == milliNaN:
			return -1
		}
		return 1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Min returns the smaller of s and o.
func (s Scalar) Min(o Scalar) Scalar {
	if s.Cmp(o) <= 0 {
		return s
	}
	return o
}

// String prints the shortest decimal: 0.1, 32, 2048.5, Infinity, NaN.
func (s Scalar) String() string {
	return string(s.appendNumber(nil, false))
}

// appendNumber writes s as a JSON number, or for non-finite values the
// strings Mesos' parser accepts ("Infinity", "-Infinity"; "NaN" never
// leaves a valid message). quoted adds quotes around non-finite names.
func (s Scalar) appendNumber(b []byte, quoted bool) []byte {
	var name string
	switch s.milli {
	case milliNaN:
		name = "NaN"
	case milliPosInf:
		name = "Infinity"
	case milliNegInf:
		name = "-Infinity"
	}
	if name != "" {
		if quoted {
			return strconv.AppendQuote(b, name)
		}
		return append(b, name...)
	}
	m := s.milli
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	b = strconv.AppendInt(b, m/1000, 10)
	if frac := m % 1000; frac != 0 {
		digits := []byte{'0' + byte(frac/100), '0' + byte(frac/10%10), '0' + byte(frac%10)}
		for digits[len(digits)-1] == '0' {
			digits = digits[:len(digits)-1]
		}
		b = append(b, '.')
		b = append(b, digits...)
	}
	return b
}

// MarshalJSON writes the proto shape {"value": 0.1}.
func (s Scalar) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, `{"value":`...)
	b = s.appendNumber(b, true)
	return append(b, '}'), nil
}

// UnmarshalJSON reads {"value": x}, where x is a number with or without a
// decimal point, or a string holding one ("5", "Infinity", "-Infinity",
// "NaN"), as Mesos' own parser allows. A bare number in place of the object
// is accepted too: Mesos' documentation shows that form for
// TaskInfo.limits, and accepting it costs nothing.
func (s *Scalar) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*s = Scalar{}
		return nil
	}
	t := strings.TrimSpace(string(data))
	if t != "" && t[0] == '{' {
		var w struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(data, &w); err != nil {
			return err
		}
		if len(w.Value) == 0 || isNull(w.Value) {
			return &json.UnmarshalTypeError{Value: `object without "value"`, Type: reflect.TypeFor[Scalar](), Field: "value"}
		}
		v, err := parseJSONDouble(w.Value)
		if err != nil {
			return &json.UnmarshalTypeError{Value: jsonKind(w.Value), Type: reflect.TypeFor[float64](), Field: "value"}
		}
		*s = ScalarOf(v)
		return nil
	}
	v, err := parseJSONDouble(data)
	if err != nil {
		return typeError(data, reflect.TypeFor[Scalar]())
	}
	*s = ScalarOf(v)
	return nil
}

// parseJSONDouble reads a JSON number, or a string holding a number or one
// of the non-finite names, the way proto3 JSON and Mesos accept doubles.
func parseJSONDouble(data []byte) (float64, error) {
	t := strings.TrimSpace(string(data))
	if t != "" && t[0] == '"' {
		var str string
		if err := json.Unmarshal([]byte(t), &str); err != nil {
			return 0, err
		}
		switch str {
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		case "NaN":
			return math.NaN(), nil
		}
		t = strings.TrimSpace(str)
		if !json.Valid([]byte(t)) || t == "" || t[0] == '"' || t[0] == '{' || t[0] == '[' {
			return 0, strconv.ErrSyntax
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil && !isRangeErr(err) {
		return 0, err
	}
	return v, nil
}

// isRangeErr reports strconv's overflow error, whose value (±Inf or 0) is
// still the right reading of the number.
func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
