package schedule

import (
	"testing"
	"time"
)

// FuzzParse: Parse must not panic or hang on any expression; an accepted
// schedule's String parses back to the same String, and Next moves
// strictly forward.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"R/2012-10-01T05:52:00Z/PT2S", "R0/2012-10-01T05:52:00Z/PT2S", "R//PT1M", "R1//PT24H",
		"R/2024-02-29T00:00:00Z/P1Y1M", "R-1//PT1S", "R99999999999999999999//PT1S", "R//PT0S", "R//P-1D", "R//PT1e308S",
		"R/9999-12-31T23:59:59Z/P9999Y", "R/0000-01-01T00:00:00Z/PT1S", "R//P1W2D", "R//PT0.5S", "R//PT", "R/x/y/z", "R",
		"* * * * *", "0 0 29 2 *", "*/0 * * * *", "0-59/1 * * * *", "60 * * * *", "0 0 31 4 *", "@daily", "@every 1s",
		"1,2,3 */2 1-31 JAN-DEC MON-FRI", "0 0 * * 7", "0 0 0 0 0", "\xff * * * *", "* * * * * *", "5-1 * * * *"} {
		f.Add(s, "")
		f.Add(s, "Europe/Berlin")
	}
	f.Add("0 2 * * *", "America/New_York")
	f.Add("R//PT1H", "../../etc/passwd")
	now := time.Date(2024, 3, 10, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr, tz string) {
		s, err := Parse(expr, tz, now)
		if err != nil {
			return
		}
		again, err := Parse(s.String(), tz, now)
		if err != nil {
			t.Fatalf("%q is %q, which is refused: %v", expr, s.String(), err)
		}
		if again.String() != s.String() {
			t.Fatalf("%q: %q re-parses as %q", expr, s.String(), again.String())
		}
		at := now
		for i := 0; i < 3; i++ {
			next, ok := s.Next(at)
			if !ok {
				break
			}
			if !next.After(at) {
				t.Fatalf("%q: Next(%v) = %v, not after", expr, at, next)
			}
			at = next
		}
	})
}

// FuzzParsePeriod: no panic; an accepted period prints as one that parses
// to the same period.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"PT2S", "P1Y2M3W4DT5H6M7.5S", "P", "PT", "P-1D", "PT1e9S", "P99999999999999999999D", "PT0.000000001S", "P1DT", "p1d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			return
		}
		again, err := ParsePeriod(p.String())
		if err != nil {
			t.Fatalf("%q is %q, which is refused: %v", s, p.String(), err)
		}
		if again != p {
			t.Fatalf("%q: %q re-parses as %+v, want %+v", s, p.String(), again, p)
		}
	})
}
