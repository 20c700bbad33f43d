package mesos

import (
	"encoding/json"
	"math"
	"testing"
)

func TestScalarOfRoundsToThousandths(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want int64
	}{
		{0.1, 100}, {32, 32000}, {0.0004, 0}, {0.0005, 1}, {-0.0005, -1},
		{1.2345, 1235}, {2048.5, 2048500}, {0.3, 300},
	} {
		if got := ScalarOf(tc.in).Milli(); got != tc.want {
			t.Errorf("ScalarOf(%v).Milli() = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestScalarString(t *testing.T) {
	for _, tc := range []struct {
		s    Scalar
		want string
	}{
		{ScalarOf(0.1), "0.1"}, {ScalarOf(32), "32"}, {ScalarOf(2048.25), "2048.25"},
		{ScalarOf(0.001), "0.001"}, {ScalarOf(-1.5), "-1.5"}, {ScalarOf(0), "0"},
		{Infinity(), "Infinity"}, {ScalarOf(math.Inf(-1)), "-Infinity"}, {ScalarOf(math.NaN()), "NaN"},
		{ScalarOf(123456789.123), "123456789.123"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// Adding 0.1 ten thousand times must be exactly 1000: the reason scalars
// are fixed-point.
func TestScalarSumsDoNotDrift(t *testing.T) {
	var sum Scalar
	tenth := ScalarOf(0.1)
	for range 10000 {
		sum = sum.Add(tenth)
	}
	if sum.Cmp(ScalarOf(1000)) != 0 || sum.String() != "1000" {
		t.Fatalf("sum = %s (%d milli), want exactly 1000", sum, sum.Milli())
	}
	for range 10000 {
		sum = sum.Sub(tenth)
	}
	if !sum.IsZero() {
		t.Fatalf("after subtracting back: %s, want 0", sum)
	}
}

func TestScalarArithmeticSaturates(t *testing.T) {
	big := ScalarFromMilli(maxMilli)
	if got := big.Add(ScalarOf(1)); !got.IsInf(1) {
		t.Errorf("max+1 = %s, want Infinity", got)
	}
	if got := ScalarFromMilli(minMilli).Sub(ScalarOf(1)); !got.IsInf(-1) {
		t.Errorf("min-1 = %s, want -Infinity", got)
	}
	if got := Infinity().Add(ScalarOf(math.Inf(-1))); !got.IsNaN() {
		t.Errorf("Inf + -Inf = %s, want NaN", got)
	}
	if got := Infinity().Sub(ScalarOf(5)); !got.IsInf(1) {
		t.Errorf("Inf - 5 = %s, want Infinity", got)
	}
	if got := ScalarOf(math.NaN()).Add(ScalarOf(1)); !got.IsNaN() {
		t.Errorf("NaN + 1 = %s, want NaN", got)
	}
	if ScalarOf(1e300).IsFinite() {
		t.Errorf("1e300 should be out of the fixed-point range")
	}
	if c := ScalarOf(math.NaN()).Cmp(ScalarOf(-5)); c != -1 {
		t.Errorf("NaN.Cmp(-5) = %d, want -1", c)
	}
}

func TestScalarJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // String() of the decoded value
		out  string // re-encoded
	}{
		{`{"value": 0.1}`, "0.1", `{"value":0.1}`},
		{`{"value": 32}`, "32", `{"value":32}`},
		{`{"value": 32.0}`, "32", `{"value":32}`},
		{`{"value": "5"}`, "5", `{"value":5}`},
		{`{"value": "Infinity"}`, "Infinity", `{"value":"Infinity"}`},
		{`{"value": "-Infinity"}`, "-Infinity", `{"value":"-Infinity"}`},
		{`{"value": "NaN"}`, "NaN", `{"value":"NaN"}`},
		{`{"value": 1e300}`, "Infinity", `{"value":"Infinity"}`},
		{`{"value": 1.2345e3}`, "1234.5", `{"value":1234.5}`},
		{`512.5`, "512.5", `{"value":512.5}`},
		{`"Infinity"`, "Infinity", `{"value":"Infinity"}`},
	} {
		var s Scalar
		if err := json.Unmarshal([]byte(tc.in), &s); err != nil {
			t.Errorf("Unmarshal(%s): %v", tc.in, err)
			continue
		}
		if s.String() != tc.want {
			t.Errorf("Unmarshal(%s) = %s, want %s", tc.in, s, tc.want)
		}
		out, err := json.Marshal(s)
		if err != nil || string(out) != tc.out {
			t.Errorf("Marshal(%s) = %s, %v; want %s", s, out, err, tc.out)
		}
	}
	for _, bad := range []string{`{"value": "abc"}`, `{"value": true}`, `{}`, `"inf"`, `{"value": "0x10"}`} {
		var s Scalar
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("Unmarshal(%s) = %s, want an error", bad, s)
		}
	}
}
