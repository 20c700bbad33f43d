package schedule

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Cron is a cron expression evaluated on the local wall clock of a zone,
// with the package's DST rule. robfig/cron parses it; the search for the
// next instant is ours, because robfig's own Next runs an overlap's wall
// times twice and skips a gap's.
type Cron struct {
	expr string
	spec *cron.SpecSchedule
	loc  *time.Location
}

// cronParser takes 5 fields, or 6 with seconds first, and @descriptors.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// starBit marks a field written as "*" (robfig's unexported starBit); it
// changes how day-of-month and day-of-week combine.
const starBit = 1 << 63

// searchDays bounds the search for a matching date (robfig gives up after
// five years too); an expression such as "0 0 30 2 *" never matches.
const searchDays = 5*366 + 1

// ParseCron parses a 5- or 6-field cron expression (or @hourly, @daily, …)
// evaluated in the zone tz ("" = UTC). now is only used to check that the
// expression matches some date.
func ParseCron(expr, tz string, now time.Time) (*Cron, error) {
	e := strings.TrimSpace(expr)
	if strings.HasPrefix(e, "TZ=") || strings.HasPrefix(e, "CRON_TZ=") {
		return nil, &Error{Part: "cron", Value: expr, Reason: "a TZ= prefix is not supported; use scheduleTimeZone"}
	}
	if strings.HasPrefix(e, "@every") {
		return nil, &Error{Part: "cron", Value: expr, Reason: "@every is not supported; use an ISO 8601 interval such as R//PT5M"}
	}
	if n := len(strings.Fields(e)); !strings.HasPrefix(e, "@") && n != 5 && n != 6 {
		return nil, &Error{Part: "cron", Value: expr, Reason: "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first)"}
	}
	loc, err := LoadZone(tz)
	if err != nil {
		return nil, err
	}
	sched, err := cronParser.Parse(e)
	if err != nil {
		return nil, &Error{Part: "cron", Value: expr, Reason: err.Error()}
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, &Error{Part: "cron", Value: expr, Reason: "not a field-based schedule"}
	}
	c := &Cron{expr: e, spec: spec, loc: loc}
	if _, ok := c.Next(now); !ok {
		return nil, &Error{Part: "cron", Value: expr, Reason: "matches no date within five years"}
	}
	return c, nil
}

// String is the expression as written (trimmed).
func (c *Cron) String() string { return c.expr }

// Location is the zone the fields are matched in.
func (c *Cron) Location() *time.Location { return c.loc }

func bit(field uint64, v int) bool { return field&(1<<uint(v)) != 0 }

func (c *Cron) dayMatches(w wall) bool {
	dom := bit(c.spec.Dom, w.Day())
	dow := bit(c.spec.Dow, int(w.Weekday()))
	if c.spec.Dom&starBit != 0 || c.spec.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// firstWall is the first matching wall time at or after w (whole seconds).
func (c *Cron) firstWall(w wall) (wall, bool) {
	day := time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	tod := w.Sub(day)
	for i := 0; i < searchDays; i++ {
		if bit(c.spec.Month, int(day.Month())) && c.dayMatches(day) {
			if t, ok := c.firstInDay(day, tod); ok {
				return t, true
			}
		}
		day = day.AddDate(0, 0, 1)
		tod = 0
	}
	return wall{}, false
}

func (c *Cron) firstInDay(day wall, from time.Duration) (wall, bool) {
	fh, fm, fs := int(from/time.Hour), int(from%time.Hour/time.Minute), int(from%time.Minute/time.Second)
	for h := fh; h < 24; h++ {
		if !bit(c.spec.Hour, h) {
			continue
		}
		m0 := 0
		if h == fh {
			m0 = fm
		}
		for m := m0; m < 60; m++ {
			if !bit(c.spec.Minute, m) {
				continue
			}
			s0 := 0
			if h == fh && m == fm {
				s0 = fs
			}
			for s := s0; s < 60; s++ {
				if bit(c.spec.Second, s) {
					return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second), true
				}
			}
		}
	}
	return wall{}, false
}

// Next is the first instant strictly after after whose local wall time
// matches, resolved by the package's DST rule.
//
// It walks the zone's constant-offset segments (time.ZoneBounds) from
// after. Inside a segment wall time and instant move together, so the first
// matching wall is the answer for that segment, except for two cases at its
// start: after a fall-back change the repeated wall times are skipped (they
// already ran in the previous segment), and after a spring-forward change the
// wall times of the gap run in the segment's first moments, shifted forward.
func (c *Cron) Next(after time.Time) (time.Time, bool) {
	horizon := after.AddDate(5, 0, 1)
	probe := after
	for first := true; probe.Before(horizon); first = false {
		zt := probe.In(c.loc)
		_, off := zt.Zone()
		start, end := zt.ZoneBounds()
		prevOff := off
		if !start.IsZero() {
			_, prevOff = start.Add(-time.Second).In(c.loc).Zone()
		}
		var best time.Time
		found := false

		// Wall times swallowed by a spring-forward gap at the segment start.
		if prevOff < off {
			gapFrom := time.Unix(start.Unix()+int64(prevOff), 0).UTC()
			gapTo := time.Unix(start.Unix()+int64(off), 0).UTC()
			from := wallOf(after.In(time.FixedZone("", prevOff))).Truncate(time.Second).Add(time.Second)
			if from.Before(gapFrom) {
				from = gapFrom
			}
			if w, ok := c.firstWall(from); ok && w.Before(gapTo) {
				best, found = time.Unix(w.Unix()-int64(prevOff), 0).In(c.loc), true
			}
		}

		// Ordinary wall times of this segment.
		var from wall
		if first {
			from = wallOf(zt).Truncate(time.Second).Add(time.Second)
		} else {
			from = wallOf(zt) // probe is the segment start, itself a candidate
		}
		if prevOff > off { // fall back: skip the second pass of the repeated hour
			secondPassEnd := start.Add(time.Duration(prevOff-off) * time.Second)
			if probe.Before(secondPassEnd) {
				from = wallOf(secondPassEnd.In(c.loc))
			}
		}
		w, ok := c.firstWall(from)
		if ok {
			t := time.Unix(w.Unix()-int64(off), 0).In(c.loc)
			if (end.IsZero() || t.Before(end)) && (!found || t.Before(best)) {
				best, found = t, true
			}
		}
		if found {
			return best, true
		}
		if !ok || end.IsZero() {
			return time.Time{}, false
		}
		probe = end
	}
	return time.Time{}, false
}
