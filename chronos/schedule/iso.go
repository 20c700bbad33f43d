package schedule

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ISO is a parsed Chronos repeating interval R[n]/<start>/<period>.
type ISO struct {
	reps   int64 // -1 = forever
	start  time.Time
	wall   wall // start's local fields, the base of calendar arithmetic
	period Period
	loc    *time.Location
}

// epochFloor is the earliest start Chronos accepts ("before 1970!").
var epochFloor = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)

// ParseISO parses an ISO 8601 repeating interval evaluated in the zone tz
// ("" = the start's own offset, UTC if it has none). An empty start means
// now, truncated to the millisecond.
func ParseISO(expr, tz string, now time.Time) (*ISO, error) {
	parts := strings.Split(expr, "/")
	if len(parts) != 3 {
		return nil, &Error{Part: "expression", Value: expr, Reason: "expected R[n]/<start>/<period>, e.g. R/2024-01-01T00:00:00Z/P1D"}
	}
	s := &ISO{reps: -1}
	rep := parts[0]
	if !strings.HasPrefix(rep, "R") {
		return nil, &Error{Part: "repetitions", Value: rep, Reason: "expected R (forever) or R<n>"}
	}
	if rep != "R" {
		n, err := strconv.ParseInt(rep[1:], 10, 64)
		if err != nil || n < 0 || rep[1] == '+' || rep[1] == '-' {
			return nil, &Error{Part: "repetitions", Value: rep, Reason: "expected R (forever) or R<n> with n a non-negative integer"}
		}
		s.reps = n
	}
	var zone *time.Location
	if tz != "" {
		loc, err := LoadZone(tz)
		if err != nil {
			return nil, err
		}
		zone = loc
	}
	if parts[1] == "" {
		loc := zone
		if loc == nil {
			loc = time.UTC
		}
		s.start = now.Truncate(time.Millisecond).In(loc)
		s.loc = loc
		s.wall = wallOf(s.start)
	} else {
		w, off, hasOff, err := parseStart(parts[1])
		if err != nil {
			return nil, err
		}
		switch {
		case zone != nil: // scheduleTimeZone wins; keep the wall fields (Joda withZoneRetainFields)
			s.loc = zone
		case hasOff && off == 0, !hasOff:
			s.loc = time.UTC
		default:
			s.loc = time.FixedZone("", off)
		}
		s.wall = w
		s.start = resolve(w, s.loc)
	}
	if s.start.Before(epochFloor) {
		return nil, &Error{Part: "start", Value: parts[1], Reason: "is before 1970-01-01T00:00:01Z"}
	}
	p, err := ParsePeriod(parts[2])
	if err != nil {
		return nil, err
	}
	if p.IsZero() {
		return nil, &Error{Part: "period", Value: parts[2], Reason: "must be longer than zero"}
	}
	s.period = p
	return s, nil
}

var startRE = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$`)

// parseStart reads the date-time forms Joda's DateTime.parse accepts in
// practice: a calendar date with optional time, fraction and offset.
func parseStart(s string) (w wall, off int, hasOff bool, err error) {
	bad := func(reason string) (wall, int, bool, error) {
		return wall{}, 0, false, &Error{Part: "start", Value: s, Reason: reason}
	}
	m := startRE.FindStringSubmatch(s)
	if m == nil {
		return bad("expected YYYY-MM-DDThh:mm:ss[.s](Z|±hh:mm), e.g. 2024-01-01T00:00:00Z")
	}
	num := func(i int) int {
		if m[i] == "" {
			return 0
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	y, mo, d, h, mi, sec := num(1), num(2), num(3), num(4), num(5), num(6)
	if mo < 1 || mo > 12 {
		return bad("month out of range")
	}
	if d < 1 || d > daysIn(y, time.Month(mo)) {
		return bad("day out of range")
	}
	if h > 23 || mi > 59 || sec > 59 {
		return bad("time of day out of range")
	}
	ns := 0
	if m[7] != "" {
		ns, _ = strconv.Atoi((m[7] + "000000000")[:9])
	}
	if z := m[8]; z != "" && z != "Z" {
		digits := strings.ReplaceAll(z[1:], ":", "")
		oh, _ := strconv.Atoi(digits[:2])
		om := 0
		if len(digits) == 4 {
			om, _ = strconv.Atoi(digits[2:])
		}
		if oh > 18 || om > 59 {
			return bad("offset out of range")
		}
		off = oh*3600 + om*60
		if z[0] == '-' {
			off = -off
		}
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC), off, m[8] != "", nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// addMonthsClamped moves a wall time by n months keeping the day unless the
// target month is shorter, as Joda's monthOfYear().add does.
func addMonthsClamped(w wall, n int64) wall {
	total := int64(w.Year())*12 + int64(w.Month()-1) + n
	y, m := int(total/12), time.Month(total%12+1)
	d := min(w.Day(), daysIn(y, m))
	return time.Date(y, m, d, w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
}

// Occurrence is the k-th scheduled instant (k from 0), ignoring the
// repetition count.
func (s *ISO) Occurrence(k int64) time.Time {
	p := s.period
	t := s.start
	if p.HasCalendar() {
		w := s.wall
		if p.Years != 0 {
			w = addMonthsClamped(w, 12*p.Years*k)
		}
		if p.Months != 0 {
			w = addMonthsClamped(w, p.Months*k)
		}
		if days := p.Weeks*7 + p.Days; days != 0 {
			w = w.AddDate(0, 0, int(days*k))
		}
		t = resolve(w, s.loc)
	}
	return addScaled(t, k, p.Exact()).In(s.loc)
}

var bigBillion = big.NewInt(1e9)

// addScaled returns t + k·d without overflowing when k·d exceeds 292 years.
func addScaled(t time.Time, k int64, d time.Duration) time.Time {
	if d == 0 || k == 0 {
		return t
	}
	if overflow, total := mulCheck(k, int64(d)); !overflow {
		return time.Unix(t.Unix()+total/1e9, int64(t.Nanosecond())+total%1e9)
	}
	total := new(big.Int).Mul(big.NewInt(k), big.NewInt(int64(d)))
	sec, ns := new(big.Int).QuoRem(total, bigBillion, new(big.Int))
	return time.Unix(t.Unix()+sec.Int64(), int64(t.Nanosecond())+ns.Int64())
}

// mulCheck multiplies two non-negative int64s, reporting overflow.
func mulCheck(a, b int64) (overflow bool, product int64) {
	if a == 0 || b == 0 {
		return false, 0
	}
	if a > math.MaxInt64/b {
		return true, 0
	}
	return false, a * b
}

// index is the number of occurrences at or before after (ignoring the
// repetition count), which is also the k of the first one after it.
func (s *ISO) index(after time.Time) int64 {
	if after.Before(s.start) {
		return 0
	}
	p := s.period
	if !p.HasCalendar() {
		d := big.NewInt(int64(p.Exact()))
		diff := new(big.Int).Mul(big.NewInt(after.Unix()-s.start.Unix()), bigBillion)
		diff.Add(diff, big.NewInt(int64(after.Nanosecond()-s.start.Nanosecond())))
		k := diff.Quo(diff, d)
		if !k.IsInt64() || k.Int64() == math.MaxInt64 {
			return math.MaxInt64
		}
		return k.Int64() + 1
	}
	// Calendar periods have no fixed length: guess from the average length,
	// then step. The guess is within a couple of periods, so this is a few
	// iterations however far away after is.
	guess := float64(after.Unix()-s.start.Unix())/p.approxSeconds() - 1
	k := int64(0)
	if guess > 0 {
		k = int64(math.Min(guess, 1e12))
	}
	for !s.Occurrence(k).After(after) {
		k++
	}
	for k > 0 && s.Occurrence(k-1).After(after) {
		k--
	}
	return k
}

// Next is the first scheduled instant strictly after after; false once a
// finite repetition count is used up.
func (s *ISO) Next(after time.Time) (time.Time, bool) {
	k := s.index(after)
	if s.reps >= 0 && k >= s.reps {
		return time.Time{}, false
	}
	return s.Occurrence(k), true
}

// Remaining is how many runs are still scheduled strictly after after; -1
// for a schedule that repeats forever.
func (s *ISO) Remaining(after time.Time) int64 {
	if s.reps < 0 {
		return -1
	}
	return max(0, s.reps-s.index(after))
}

// Advance rewrites the expression the way Chronos does after runs: the
// remaining count and the next occurrence as the new start
// ("R5/…T00:00/P1D" after the first run becomes "R4/<next day>/P1D").
// Strata keeps the original expression instead (occurrences stay anchored to
// the first start, so month-end clamping and DST-gap shifts don't drift);
// this exists to show Chronos-style schedules in API answers.
func (s *ISO) Advance(after time.Time) string {
	k := s.index(after)
	next := s.Occurrence(k)
	rep := "R"
	if s.reps >= 0 {
		rep = "R" + strconv.FormatInt(max(0, s.reps-k), 10)
	}
	return rep + "/" + formatStart(next) + "/" + s.period.String()
}

// Repetitions is the run count, -1 for forever.
func (s *ISO) Repetitions() int64 { return s.reps }

// Start is the first occurrence.
func (s *ISO) Start() time.Time { return s.start }

// Period is the repeat interval.
func (s *ISO) Period() Period { return s.period }

// Location is the zone occurrences are computed in.
func (s *ISO) Location() *time.Location { return s.loc }

// String is the canonical expression: the start printed as Chronos prints
// it (milliseconds and the zone's offset), the period canonically.
func (s *ISO) String() string {
	rep := "R"
	if s.reps >= 0 {
		rep = "R" + strconv.FormatInt(s.reps, 10)
	}
	return rep + "/" + formatStart(s.start) + "/" + s.period.String()
}

func formatStart(t time.Time) string {
	if t.Nanosecond()%1e6 == 0 {
		return t.Format("2006-01-02T15:04:05.000Z07:00")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z07:00")
}
