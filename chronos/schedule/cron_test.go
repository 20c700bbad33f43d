package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCronNext(t *testing.T) {
	// now is Saturday 2024-06-01T12:00:00.123456789Z.
	tests := []struct {
		expr, tz, after string
		want            []string
	}{
		{"0 * * * *", "", "2024-06-01T12:00:00.123456789Z", []string{"2024-06-01T13:00:00Z", "2024-06-01T14:00:00Z"}},
		{"*/15 * * * * *", "", "2024-06-01T12:00:00Z", []string{"2024-06-01T12:00:15Z", "2024-06-01T12:00:30Z"}},
		{"0 0 9 * * MON-FRI", "", "2024-06-01T12:00:00Z", []string{"2024-06-03T09:00:00Z", "2024-06-04T09:00:00Z"}},
		{"0 9 * * 1", "Asia/Tokyo", "2024-06-01T12:00:00Z", []string{"2024-06-03T09:00:00+09:00", "2024-06-10T09:00:00+09:00"}},
		// Day-of-month and day-of-week both restricted: either matches.
		{"0 0 13 * 5", "", "2024-06-01T12:00:00Z", []string{"2024-06-07T00:00:00Z", "2024-06-13T00:00:00Z", "2024-06-14T00:00:00Z"}},
		{"0 0 13 * *", "", "2024-06-01T12:00:00Z", []string{"2024-06-13T00:00:00Z", "2024-07-13T00:00:00Z"}},
		{"0 0 29 2 *", "", "2024-06-01T12:00:00Z", []string{"2028-02-29T00:00:00Z"}},
		{"@hourly", "", "2024-06-01T12:00:00Z", []string{"2024-06-01T13:00:00Z"}},
		{"@daily", "Europe/Berlin", "2024-06-01T12:00:00Z", []string{"2024-06-02T00:00:00+02:00"}},
		{"@midnight", "", "2024-06-01T12:00:00Z", []string{"2024-06-02T00:00:00Z"}},
		{"@weekly", "", "2024-06-01T12:00:00Z", []string{"2024-06-02T00:00:00Z"}},
		{"@monthly", "", "2024-06-01T12:00:00Z", []string{"2024-07-01T00:00:00Z"}},
		{"@yearly", "", "2024-06-01T12:00:00Z", []string{"2025-01-01T00:00:00Z"}},
		{"@annually", "", "2024-06-01T12:00:00Z", []string{"2025-01-01T00:00:00Z"}},
		{"0 0 1 1 *", "", "9000-01-01T00:00:00Z", []string{"9001-01-01T00:00:00Z"}},
		{"  5 4 * * *  ", "", "2024-06-01T12:00:00Z", []string{"2024-06-02T04:05:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.expr+" "+tc.tz, func(t *testing.T) {
			s, err := Parse(tc.expr, tc.tz, now)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := s.(*Cron); !ok {
				t.Fatalf("Parse gave %T, want *Cron", s)
			}
			got := firstN(s, mustTime(t, tc.after), len(tc.want))
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if s.String() != strings.TrimSpace(tc.expr) {
				t.Errorf("String = %q", s.String())
			}
		})
	}
}

func TestCronErrors(t *testing.T) {
	tests := []struct {
		expr, tz, part, want string
	}{
		{"* * *", "", "cron", "expected 5 fields"},
		{"* * * * * * *", "", "cron", "expected 5 fields"},
		{"61 * * * *", "", "cron", "61"},
		{"* * * * FOO", "", "cron", "FOO"},
		{"@every 5m", "", "cron", "@every is not supported"},
		{"@fortnightly", "", "cron", "fortnightly"},
		{"CRON_TZ=UTC 0 * * * *", "", "cron", "use scheduleTimeZone"},
		{"0 0 30 2 *", "", "cron", "matches no date"},
		{"0 * * * *", "Nowhere/Special", "time zone", "unknown"},
		{"   ", "", "expression", "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
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

func TestLoadZone(t *testing.T) {
	at := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)
	for name, wantOff := range map[string]int{
		"": 0, "UTC": 0, "America/New_York": -5 * 3600, "PST": -8 * 3600, "CST": -6 * 3600,
		"EST": -5 * 3600, "GMT+02:00": 2 * 3600, "GMT-3": -3 * 3600, "UTC+0530": 5*3600 + 1800,
		"Asia/Kolkata": 5*3600 + 1800,
	} {
		loc, err := LoadZone(name)
		if err != nil {
			t.Errorf("LoadZone(%q): %v", name, err)
			continue
		}
		if _, off := at.In(loc).Zone(); off != wantOff {
			t.Errorf("LoadZone(%q) offset %d, want %d", name, off, wantOff)
		}
	}
	for _, name := range []string{"Local", "Mars/Base", "GMT+25", "../etc/passwd", "/etc/localtime"} {
		if _, err := LoadZone(name); err == nil {
			t.Errorf("LoadZone(%q) accepted", name)
		}
	}
}
