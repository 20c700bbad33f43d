package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2024, 6, 1, 12, 0, 0, 123456789, time.UTC)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustISO(t *testing.T, expr, tz string) *ISO {
	t.Helper()
	s, err := ParseISO(expr, tz, now)
	if err != nil {
		t.Fatalf("ParseISO(%q, %q): %v", expr, tz, err)
	}
	return s
}

// firstN lists the first n occurrences by calling Next repeatedly, the way
// the scheduler core walks a schedule.
func firstN(s Schedule, after time.Time, n int) []string {
	var out []string
	for len(out) < n {
		t, ok := s.Next(after)
		if !ok {
			break
		}
		out = append(out, t.Format(time.RFC3339Nano))
		after = t
	}
	return out
}

func TestPeriodUnits(t *testing.T) {
	const start = "2024-01-31T10:00:00Z"
	tests := []struct {
		period string
		want   []string // occurrences after the start
	}{
		{"P1Y", []string{"2025-01-31T10:00:00Z", "2026-01-31T10:00:00Z"}},
		{"P1M", []string{"2024-02-29T10:00:00Z", "2024-03-31T10:00:00Z", "2024-04-30T10:00:00Z"}},
		{"P1W", []string{"2024-02-07T10:00:00Z", "2024-02-14T10:00:00Z"}},
		{"P1D", []string{"2024-02-01T10:00:00Z", "2024-02-02T10:00:00Z"}},
		{"PT1H", []string{"2024-01-31T11:00:00Z", "2024-01-31T12:00:00Z"}},
		{"PT10M", []string{"2024-01-31T10:10:00Z", "2024-01-31T10:20:00Z"}},
		{"PT2S", []string{"2024-01-31T10:00:02Z", "2024-01-31T10:00:04Z"}},
		{"PT1.5S", []string{"2024-01-31T10:00:01.5Z", "2024-01-31T10:00:03Z"}},
		{"PT0,25S", []string{"2024-01-31T10:00:00.25Z", "2024-01-31T10:00:00.5Z"}},
		{"P1Y2M3DT4H5M6S", []string{"2025-04-03T14:05:06Z", "2026-06-06T18:10:12Z"}},
		{"P1DT12H", []string{"2024-02-01T22:00:00Z", "2024-02-03T10:00:00Z"}},
		{"P12DT12M", []string{"2024-02-12T10:12:00Z", "2024-02-24T10:24:00Z"}},
		{"P1W1D", []string{"2024-02-08T10:00:00Z", "2024-02-16T10:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.period, func(t *testing.T) {
			s := mustISO(t, "R/"+start+"/"+tc.period, "")
			got := firstN(s, mustTime(t, start), len(tc.want))
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestYearThenMonthClampLikeJoda(t *testing.T) {
	// Joda adds years, then months, clamping at each step: Feb 29 + 1Y = Feb
	// 28, + 1M = Mar 28 (not Mar 29 as 13 months would give).
	s := mustISO(t, "R/2024-02-29T00:00:00Z/P1Y1M", "")
	got := s.Occurrence(1).Format(time.RFC3339)
	if got != "2025-03-28T00:00:00Z" {
		t.Fatalf("got %s", got)
	}
}

func TestRepetitions(t *testing.T) {
	start := mustTime(t, "2012-10-01T05:52:00Z")
	tests := []struct {
		expr      string
		runs      int
		remaining int64
	}{
		{"R0/2012-10-01T05:52:00Z/PT2S", 0, 0},
		{"R1/2012-10-01T05:52:00Z/PT2S", 1, 1},
		{"R10/2012-10-01T05:52:00Z/PT2S", 10, 10},
		{"R/2012-10-01T05:52:00Z/PT2S", 50, -1},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s := mustISO(t, tc.expr, "")
			got := firstN(s, start.Add(-time.Nanosecond), 50)
			if len(got) != tc.runs {
				t.Fatalf("got %d runs, want %d: %v", len(got), tc.runs, got)
			}
			if tc.runs > 0 && got[0] != "2012-10-01T05:52:00Z" {
				t.Errorf("first run %s, want the start", got[0])
			}
			if r := s.Remaining(start.Add(-time.Second)); r != tc.remaining {
				t.Errorf("Remaining before start = %d, want %d", r, tc.remaining)
			}
		})
	}
	s := mustISO(t, "R5/2024-01-01T00:00:00Z/P1D", "")
	for _, c := range []struct {
		after string
		rem   int64
		adv   string
	}{
		{"2023-12-31T00:00:00Z", 5, "R5/2024-01-01T00:00:00.000Z/P1D"},
		{"2024-01-01T00:00:00Z", 4, "R4/2024-01-02T00:00:00.000Z/P1D"},
		{"2024-01-03T12:00:00Z", 2, "R2/2024-01-04T00:00:00.000Z/P1D"},
		{"2024-01-05T00:00:00Z", 0, "R0/2024-01-06T00:00:00.000Z/P1D"},
		{"2030-01-01T00:00:00Z", 0, "R0/2030-01-02T00:00:00.000Z/P1D"},
	} {
		if r := s.Remaining(mustTime(t, c.after)); r != c.rem {
			t.Errorf("Remaining(%s) = %d, want %d", c.after, r, c.rem)
		}
		if a := s.Advance(mustTime(t, c.after)); a != c.adv {
			t.Errorf("Advance(%s) = %s, want %s", c.after, a, c.adv)
		}
	}
	if _, ok := s.Next(mustTime(t, "2024-01-05T00:00:00Z")); ok {
		t.Error("Next after the fifth run should be exhausted")
	}
}

func TestStartPastFutureAndNow(t *testing.T) {
	s := mustISO(t, "R/2024-06-01T12:00:00Z/PT1H", "")
	// Start in the past: the next occurrence is on the hour after now.
	if got, _ := s.Next(mustTime(t, "2024-06-03T07:30:00Z")); got.Format(time.RFC3339) != "2024-06-03T08:00:00Z" {
		t.Errorf("past start: got %s", got)
	}
	// Start in the future: the start itself.
	if got, _ := s.Next(mustTime(t, "2024-01-01T00:00:00Z")); got.Format(time.RFC3339) != "2024-06-01T12:00:00Z" {
		t.Errorf("future start: got %s", got)
	}
	// Exactly on an occurrence: strictly after.
	if got, _ := s.Next(mustTime(t, "2024-06-01T13:00:00Z")); got.Format(time.RFC3339) != "2024-06-01T14:00:00Z" {
		t.Errorf("on occurrence: got %s", got)
	}
	// Empty start is now, truncated to the millisecond, and round-trips.
	e := mustISO(t, "R3//PT30M", "")
	if !e.Start().Equal(now.Truncate(time.Millisecond)) {
		t.Errorf("empty start = %s, want %s", e.Start(), now)
	}
	if got := e.String(); got != "R3/2024-06-01T12:00:00.123Z/PT30M" {
		t.Errorf("String = %s", got)
	}
	if got, _ := e.Next(now.Add(-time.Second)); !got.Equal(e.Start()) {
		t.Errorf("first run %s, want the start", got)
	}
	// An empty start with a zone is printed in that zone.
	z := mustISO(t, "R//P1D", "Europe/Berlin")
	if got := z.String(); got != "R/2024-06-01T14:00:00.123+02:00/P1D" {
		t.Errorf("String = %s", got)
	}
}

func TestFarFutureAfter(t *testing.T) {
	tests := []struct {
		expr, tz, after, want string
	}{
		{"R/2000-01-01T00:00:00Z/PT1S", "", "9000-06-15T10:20:30.5Z", "9000-06-15T10:20:31Z"},
		{"R/2000-01-01T00:00:00Z/PT7M", "", "2400-01-01T00:00:00Z", "2400-01-01T00:07:00Z"}, // 400 years are whole weeks,
		{"R/2000-01-01T00:00:00Z/PT0.001S", "", "3000-01-01T00:00:00.0005Z", "3000-01-01T00:00:00.001Z"},
		{"R/2000-01-31T00:00:00Z/P1M", "", "5000-02-10T00:00:00Z", "5000-02-28T00:00:00Z"},
		{"R/2000-01-01T02:30:00Z/P1D", "America/New_York", "2500-07-10T12:00:00Z", "2500-07-11T02:30:00-04:00"},
		{"R/2000-01-01T00:00:00Z/P1DT1S", "", "2100-01-01T00:00:00Z", "2100-01-01T10:08:45Z"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s := mustISO(t, tc.expr, tc.tz)
			got, ok := s.Next(mustTime(t, tc.after))
			if !ok || got.Format(time.RFC3339Nano) != tc.want {
				t.Errorf("got %s %v, want %s", got.Format(time.RFC3339Nano), ok, tc.want)
			}
			// The answer is really the first occurrence after: the one before
			// it is not after.
			if k := s.index(mustTime(t, tc.after)); k > 0 && s.Occurrence(k-1).After(mustTime(t, tc.after)) {
				t.Errorf("occurrence %d is also after", k-1)
			}
		})
	}
	s := mustISO(t, "R10/2000-01-01T00:00:00Z/PT1S", "")
	if _, ok := s.Next(mustTime(t, "9999-01-01T00:00:00Z")); ok {
		t.Error("finite schedule should be exhausted far in the future")
	}
}

func TestStartFormsAndZonePrecedence(t *testing.T) {
	tests := []struct {
		expr, tz, wantStart string
	}{
		{"R/2014-03-08T20:00:00.000Z/PT2H", "", "2014-03-08T20:00:00Z"},
		{"R/2014-03-08T16:57:17.507Z/PT2H", "", "2014-03-08T16:57:17.507Z"},
		{"R/1997-07-16T19:20:30.45+01:00/P1D", "", "1997-07-16T18:20:30.45Z"},
		{"R/1997-07-16T19:20:30-0130/P1D", "", "1997-07-16T20:50:30Z"},
		{"R/2024-01-01/P1D", "", "2024-01-01T00:00:00Z"},
		{"R/2024-01-01T05:06/P1D", "", "2024-01-01T05:06:00Z"},
		{"R/2024-01-01T05:06:07/P1D", "", "2024-01-01T05:06:07Z"},
		// scheduleTimeZone wins over the written offset (Chronos' docs: the
		// effective zone of this example is Pacific time).
		{"R/2014-10-10T18:32:00Z/PT60M", "PST", "2014-10-11T01:32:00Z"},
		{"R/2014-10-10T18:32:00+05:00/PT60M", "America/Los_Angeles", "2014-10-11T01:32:00Z"},
		{"R/2014-10-10T18:32:00Z/PT60M", "GMT+02:00", "2014-10-10T16:32:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.expr+" "+tc.tz, func(t *testing.T) {
			s := mustISO(t, tc.expr, tc.tz)
			if got := s.Start().UTC().Format(time.RFC3339Nano); got != tc.wantStart {
				t.Errorf("start %s, want %s", got, tc.wantStart)
			}
			// The canonical form parses back to the same schedule.
			again := mustISO(t, s.String(), tc.tz)
			if again.String() != s.String() || !again.Start().Equal(s.Start()) {
				t.Errorf("round trip %s -> %s", s, again)
			}
		})
	}
	// A fixed-offset start without a zone keeps its offset when printed.
	if got := mustISO(t, "R/2024-01-01T00:00:00+05:30/P1D", "").String(); got != "R/2024-01-01T00:00:00.000+05:30/P1D" {
		t.Errorf("String = %s", got)
	}
}

func TestISOErrors(t *testing.T) {
	tests := []struct {
		expr, tz, part, want string
	}{
		{"R/2024-01-01T00:00:00Z/P1X", "", "period", `schedule: period "P1X": unknown designator 'X'`},
		{"R/2024-01-01T00:00:00Z/PT0S", "", "period", "must be longer than zero"},
		{"R/2024-01-01T00:00:00Z/P0D", "", "period", "must be longer than zero"},
		{"R/2024-01-01T00:00:00Z/P", "", "period", "no value"},
		{"R/2024-01-01T00:00:00Z/PT", "", "period", "'T' must be followed"},
		{"R/2024-01-01T00:00:00Z/P1H", "", "period", "needs a 'T'"},
		{"R/2024-01-01T00:00:00Z/P1D1Y", "", "period", "out of order"},
		{"R/2024-01-01T00:00:00Z/P1.5D", "", "period", "only seconds may have a fraction"},
		{"R/2024-01-01T00:00:00Z/P-1D", "", "period", "signed values"},
		{"R/2024-01-01T00:00:00Z/1D", "", "period", "expected P"},
		{"R/2024-01-01T00:00:00Z/PT1H30", "", "period", "has no designator"},
		{"Rx/2024-01-01T00:00:00Z/P1D", "", "repetitions", "non-negative integer"},
		{"R-1/2024-01-01T00:00:00Z/P1D", "", "repetitions", "non-negative integer"},
		{"R/2024-13-01T00:00:00Z/P1D", "", "start", "month out of range"},
		{"R/2023-02-29T00:00:00Z/P1D", "", "start", "day out of range"},
		{"R/2024-01-01T25:00:00Z/P1D", "", "start", "time of day"},
		{"R/yesterday/P1D", "", "start", "expected YYYY-MM-DD"},
		{"R/1969-12-31T00:00:00Z/P1D", "", "start", "before 1970"},
		{"R/2024-01-01T00:00:00Z", "", "expression", "expected R[n]/<start>/<period>"},
		{"R/2024-01-01T00:00:00Z/P1D", "Mars/Olympus", "time zone", "unknown"},
		{"R/2024-01-01T00:00:00Z/P1D", "Local", "time zone", "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.expr+" "+tc.tz, func(t *testing.T) {
			_, err := Parse(tc.expr, tc.tz, now)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if se.Part != tc.part || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v (part %q), want part %q containing %q", err, se.Part, tc.part, tc.want)
			}
		})
	}
}

func TestPeriodStringAndDuration(t *testing.T) {
	for in, want := range map[string]string{
		"P1Y12M12D": "P1Y12M12D", "PT60M": "PT60M", "PT1.500S": "PT1.5S", "P0D": "PT0S",
		"P1Y2M3DT4H5M6S": "P1Y2M3DT4H5M6S", "PT0.000000001S": "PT0.000000001S", "P2W": "P2W",
	} {
		p, err := ParsePeriod(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for in, want := range map[string]time.Duration{"PT30M": 30 * time.Minute, "P1DT1H": 25 * time.Hour, "P1W": 7 * 24 * time.Hour, "PT0S": 0} {
		p, _ := ParsePeriod(in)
		if d, ok := p.Duration(); !ok || d != want {
			t.Errorf("%s.Duration() = %v %v, want %v", in, d, ok, want)
		}
	}
	p, _ := ParsePeriod("P1M")
	if _, ok := p.Duration(); ok {
		t.Error("P1M has no fixed duration")
	}
}
