package schedule

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The package's DST rule, checked on both kinds of schedule: a wall time in
// a spring-forward gap runs shifted forward by the gap; a wall time in a
// fall-back overlap runs once, at its first (pre-change offset) occurrence.
func TestDST(t *testing.T) {
	tests := []struct {
		name, expr, tz, after string
		want                  []string
	}{
		// Daily at 02:30 across both 2024 transitions, ISO and cron, in both zones.
		{"NY spring ISO", "R/2024-03-08T02:30:00/P1D", "America/New_York", "2024-03-08T00:00:00-05:00",
			[]string{"2024-03-08T02:30:00-05:00", "2024-03-09T02:30:00-05:00", "2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"}},
		{"NY spring cron", "30 2 * * *", "America/New_York", "2024-03-08T00:00:00-05:00",
			[]string{"2024-03-08T02:30:00-05:00", "2024-03-09T02:30:00-05:00", "2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"}},
		{"NY fall ISO 02:30", "R/2024-11-02T02:30:00Z/P1D", "America/New_York", "2024-11-01T00:00:00Z",
			[]string{"2024-11-02T02:30:00-04:00", "2024-11-03T02:30:00-05:00", "2024-11-04T02:30:00-05:00"}},
		{"NY fall cron 02:30 (6 fields)", "0 30 2 * * *", "America/New_York", "2024-11-02T00:00:00-04:00",
			[]string{"2024-11-02T02:30:00-04:00", "2024-11-03T02:30:00-05:00", "2024-11-04T02:30:00-05:00"}},
		{"NY fall ISO 01:30 once", "R/2024-11-02T01:30:00Z/P1D", "America/New_York", "2024-11-01T00:00:00Z",
			[]string{"2024-11-02T01:30:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}},
		{"NY fall cron 01:30 once", "30 1 * * *", "America/New_York", "2024-11-02T00:00:00-04:00",
			[]string{"2024-11-02T01:30:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}},
		{"Berlin spring ISO", "R/2024-03-30T02:30:00+01:00/P1D", "Europe/Berlin", "2024-03-29T00:00:00Z",
			[]string{"2024-03-30T02:30:00+01:00", "2024-03-31T03:30:00+02:00", "2024-04-01T02:30:00+02:00"}},
		{"Berlin spring cron", "30 2 * * *", "Europe/Berlin", "2024-03-29T23:00:00Z",
			[]string{"2024-03-30T02:30:00+01:00", "2024-03-31T03:30:00+02:00", "2024-04-01T02:30:00+02:00"}},
		{"Berlin fall ISO", "R/2024-10-26T02:30:00+02:00/P1D", "Europe/Berlin", "2024-10-25T00:00:00Z",
			[]string{"2024-10-26T02:30:00+02:00", "2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"}},
		{"Berlin fall cron", "30 2 * * *", "Europe/Berlin", "2024-10-25T23:00:00Z",
			[]string{"2024-10-26T02:30:00+02:00", "2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"}},
		// Exact periods are elapsed time and ignore the wall clock.
		{"NY PT24H across spring", "R/2024-03-09T02:30:00/PT24H", "America/New_York", "2024-03-09T00:00:00-05:00",
			[]string{"2024-03-09T02:30:00-05:00", "2024-03-10T03:30:00-04:00", "2024-03-11T03:30:00-04:00"}},
		{"NY PT1H across fall", "R/2024-11-03T00:30:00/PT1H", "America/New_York", "2024-11-03T00:00:00-04:00",
			[]string{"2024-11-03T00:30:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00", "2024-11-03T02:30:00-05:00"}},
		// A start inside the gap or the overlap follows the same rule; later
		// days come back to the written wall time.
		{"NY start in gap", "R/2024-03-10T02:30:00/P1D", "America/New_York", "2024-03-01T00:00:00Z",
			[]string{"2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"}},
		{"Berlin start in overlap", "R/2024-10-27T02:30:00/PT30M", "Europe/Berlin", "2024-10-01T00:00:00Z",
			[]string{"2024-10-27T02:30:00+02:00", "2024-10-27T02:00:00+01:00", "2024-10-27T02:30:00+01:00"}},
		// Several times an hour: the gap's wall times collapse onto real ones,
		// the repeated hour's wall times already ran.
		{"NY */30 spring", "*/30 * * * *", "America/New_York", "2024-03-10T01:00:00-05:00",
			[]string{"2024-03-10T01:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:30:00-04:00", "2024-03-10T04:00:00-04:00"}},
		{"NY */30 fall", "*/30 * * * *", "America/New_York", "2024-11-03T00:00:00-04:00",
			[]string{"2024-11-03T00:30:00-04:00", "2024-11-03T01:00:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-03T02:00:00-05:00", "2024-11-03T02:30:00-05:00"}},
		{"NY hourly spring", "@hourly", "America/New_York", "2024-03-10T00:30:00-05:00",
			[]string{"2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00"}},
		// Asked from inside the overlap's second pass.
		{"NY 01:30 from second pass", "30 1 * * *", "America/New_York", "2024-11-03T01:45:00-05:00",
			[]string{"2024-11-04T01:30:00-05:00"}},
		{"NY */15 from second pass", "*/15 * * * *", "America/New_York", "2024-11-03T01:10:00-05:00",
			[]string{"2024-11-03T02:00:00-05:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.expr, tc.tz, now)
			if err != nil {
				t.Fatal(err)
			}
			got := firstN(s, mustTime(t, tc.after), len(tc.want))
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestCronMatchesRule checks Cron.Next, which walks zone segments, against
// the rule stated in the package doc applied by brute force: resolve every
// matching wall minute of a few days around each transition and take the
// smallest instant after each probe.
func TestCronMatchesRule(t *testing.T) {
	specs := []string{"*/20 * * * *", "30 2 * * *", "0 1-3 * * *", "15,45 * * * *", "0 0 * * *", "59 1 * * *", "0 3 * * *"}
	windows := []struct{ tz, from string }{
		{"America/New_York", "2024-03-09T00:00:00Z"},
		{"America/New_York", "2024-11-02T00:00:00Z"},
		{"Europe/Berlin", "2024-03-30T00:00:00Z"},
		{"Europe/Berlin", "2024-10-26T00:00:00Z"},
		{"Australia/Lord_Howe", "2024-04-06T00:00:00Z"}, // a 30-minute change
	}
	for _, win := range windows {
		loc, _ := LoadZone(win.tz)
		start := mustTime(t, win.from)
		for _, spec := range specs {
			c, err := ParseCron(spec, win.tz, now)
			if err != nil {
				t.Fatal(err)
			}
			var runs []time.Time
			seen := map[int64]bool{}
			w0 := wallOf(start.In(loc)).Truncate(time.Hour)
			for m := 0; m < 4*24*60; m++ {
				w := w0.Add(time.Duration(m) * time.Minute)
				if got, ok := c.firstWall(w); !ok || !got.Equal(w) {
					continue
				}
				r := resolve(w, loc)
				if !seen[r.Unix()] {
					seen[r.Unix()] = true
					runs = append(runs, r)
				}
			}
			slices.SortFunc(runs, func(a, b time.Time) int { return a.Compare(b) })
			for p := 12 * 60; p < 3*24*60; p += 7 {
				after := start.Add(time.Duration(p)*time.Minute + 30*time.Second)
				var want time.Time
				for _, r := range runs {
					if r.After(after) {
						want = r
						break
					}
				}
				got, ok := c.Next(after)
				if !ok || !got.Equal(want) {
					t.Fatalf("%s %s: Next(%s) = %s, rule says %s", win.tz, spec, after.In(loc), got, want.In(loc))
				}
			}
		}
	}
}
