package mesos

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// TimeInfo is an instant in nanoseconds since the Unix epoch.
type TimeInfo struct {
	Nanoseconds int64 `json:"nanoseconds"`
}

// TimeInfoOf converts a time.Time.
func TimeInfoOf(t time.Time) *TimeInfo { return &TimeInfo{Nanoseconds: t.UnixNano()} }

// Time converts back to a time.Time.
func (t TimeInfo) Time() time.Time { return time.Unix(0, t.Nanoseconds) }

// UnmarshalJSON accepts nanoseconds as a number or a decimal string (proto3
// JSON writes int64 as strings).
func (t *TimeInfo) UnmarshalJSON(data []byte) error {
	n, err := unmarshalNanos(data, reflect.TypeFor[TimeInfo]())
	t.Nanoseconds = n
	return err
}

// DurationInfo is a span of time in nanoseconds.
type DurationInfo struct {
	Nanoseconds int64 `json:"nanoseconds"`
}

// DurationInfoOf converts a time.Duration.
func DurationInfoOf(d time.Duration) *DurationInfo { return &DurationInfo{Nanoseconds: int64(d)} }

// Duration converts back to a time.Duration.
func (d DurationInfo) Duration() time.Duration { return time.Duration(d.Nanoseconds) }

// UnmarshalJSON accepts nanoseconds as a number or a decimal string.
func (d *DurationInfo) UnmarshalJSON(data []byte) error {
	n, err := unmarshalNanos(data, reflect.TypeFor[DurationInfo]())
	d.Nanoseconds = n
	return err
}

func unmarshalNanos(data []byte, t reflect.Type) (int64, error) {
	if isNull(data) {
		return 0, nil
	}
	if s := strings.TrimSpace(string(data)); s == "" || s[0] != '{' {
		return 0, typeError(data, t)
	}
	var w struct {
		Nanoseconds json.RawMessage `json:"nanoseconds"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return 0, err
	}
	n, err := parseJSONInt(w.Nanoseconds)
	if err != nil {
		return 0, &json.UnmarshalTypeError{Value: jsonKind(w.Nanoseconds), Type: reflect.TypeFor[int64](), Field: "nanoseconds"}
	}
	return n, nil
}

// ProtoDuration is google.protobuf.Duration, which the operator API uses for
// DRAIN_AGENT's max_grace_period. Mesos' codec writes it as a message,
// {"seconds": 600, "nanos": 0}; the proto3 string form "600s" is read too.
type ProtoDuration struct {
	Seconds int64 `json:"seconds"`
	Nanos   int32 `json:"nanos,omitempty"`
}

// ProtoDurationOf converts a time.Duration.
func ProtoDurationOf(d time.Duration) *ProtoDuration {
	return &ProtoDuration{Seconds: int64(d / time.Second), Nanos: int32(d % time.Second)}
}

// Duration converts back to a time.Duration, saturating on overflow.
func (d ProtoDuration) Duration() time.Duration {
	if d.Seconds > math.MaxInt64/int64(time.Second)-1 {
		return math.MaxInt64
	}
	if d.Seconds < math.MinInt64/int64(time.Second)+1 {
		return math.MinInt64
	}
	return time.Duration(d.Seconds)*time.Second + time.Duration(d.Nanos)
}

// UnmarshalJSON reads {"seconds": N, "nanos": N} (numbers or strings) or
// "1.5s".
func (d *ProtoDuration) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*d = ProtoDuration{}
		return nil
	}
	s := strings.TrimSpace(string(data))
	if s != "" && s[0] == '"' {
		var str string
		if err := json.Unmarshal(data, &str); err != nil {
			return err
		}
		parsed, err := parseProtoDurationString(str)
		if err != nil {
			return typeError(data, reflect.TypeFor[ProtoDuration]())
		}
		*d = parsed
		return nil
	}
	if s == "" || s[0] != '{' {
		return typeError(data, reflect.TypeFor[ProtoDuration]())
	}
	var w struct {
		Seconds json.RawMessage `json:"seconds"`
		Nanos   json.RawMessage `json:"nanos"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	sec, err := parseJSONInt(w.Seconds)
	if err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(w.Seconds), Type: reflect.TypeFor[int64](), Field: "seconds"}
	}
	nanos, err := parseJSONInt(w.Nanos)
	if err != nil || nanos <= -1e9 || nanos >= 1e9 {
		return &json.UnmarshalTypeError{Value: jsonKind(w.Nanos), Type: reflect.TypeFor[int32](), Field: "nanos"}
	}
	*d = ProtoDuration{Seconds: sec, Nanos: int32(nanos)}
	return nil
}

// parseProtoDurationString reads proto3's "<seconds>[.<fraction>]s".
func parseProtoDurationString(s string) (ProtoDuration, error) {
	num, ok := strings.CutSuffix(s, "s")
	if !ok || num == "" {
		return ProtoDuration{}, fmt.Errorf("duration %q must end in s", s)
	}
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	whole, frac, _ := strings.Cut(num, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || len(frac) > 9 {
		return ProtoDuration{}, fmt.Errorf("bad duration %q", s)
	}
	var nanos int64
	if frac != "" {
		n, err := strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 32)
		if err != nil {
			return ProtoDuration{}, fmt.Errorf("bad duration %q", s)
		}
		nanos = int64(n)
	}
	if neg {
		sec, nanos = -sec, -nanos
	}
	return ProtoDuration{Seconds: sec, Nanos: int32(nanos)}, nil
}

// Unavailability is a maintenance window: from start, for duration.
type Unavailability struct {
	Start    *TimeInfo     `json:"start" mesos:"required"`
	Duration *DurationInfo `json:"duration,omitempty"`
}
