package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is an ISO 8601 duration as Joda's ISOPeriodFormat.standard reads
// it. Calendar parts (Years, Months, Weeks, Days) are kept apart from the
// exact parts because they are added on the local calendar, while Hours,
// Minutes, Seconds and Nanos are elapsed time.
type Period struct {
	Years, Months, Weeks, Days int64
	Hours, Minutes, Seconds    int64
	Nanos                      int64 // fraction of a second, 0…999999999
}

// Limits that keep every occurrence computation inside int64 arithmetic;
// no real schedule comes near them.
const (
	maxCalendarUnits = 1_000_000
	maxExact         = time.Duration(1<<63 - 1)
)

// ParsePeriod reads an ISO 8601 duration such as "P1DT12H" or "PT1.5S".
// The error is an *Error naming the period and what is wrong with it.
// A zero period parses (epsilon may be zero); schedules reject it themselves.
func ParsePeriod(s string) (Period, error) {
	bad := func(format string, args ...any) (Period, error) {
		return Period{}, &Error{Part: "period", Value: s, Reason: fmt.Sprintf(format, args...)}
	}
	if !strings.HasPrefix(s, "P") {
		return bad("expected P[nY][nM][nW][nD][T[nH][nM][nS]]")
	}
	var p Period
	rest := s[1:]
	inTime := false
	seenAny := false
	// Designators must come in this order; rank tracks the last one seen.
	dateOrder := "YMWD"
	timeOrder := "HMS"
	rank := -1
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return bad("second 'T'")
			}
			inTime = true
			rank = -1
			rest = rest[1:]
			if rest == "" {
				return bad("'T' must be followed by hours, minutes or seconds")
			}
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.' || rest[i] == ',') {
			i++
		}
		if i == len(rest) {
			return bad("number %q has no designator", rest)
		}
		num, des := rest[:i], rest[i]
		rest = rest[i+1:]
		if num == "" {
			if des == '-' || des == '+' {
				return bad("signed values are not allowed")
			}
			return bad("designator '%c' has no number", des)
		}
		order := dateOrder
		if inTime {
			order = timeOrder
		}
		r := strings.IndexByte(order, des)
		if r < 0 {
			if !inTime && strings.IndexByte(timeOrder, des) >= 0 && des != 'M' {
				return bad("designator '%c' needs a 'T' before it", des)
			}
			return bad("unknown designator '%c'", des)
		}
		if r <= rank {
			return bad("designator '%c' out of order", des)
		}
		rank = r
		whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(num, ",", "."), ".")
		if hasFrac && !(inTime && des == 'S') {
			return bad("only seconds may have a fraction")
		}
		if whole == "" || strings.ContainsAny(frac, ".") {
			return bad("malformed number %q", num)
		}
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || n > maxCalendarUnits*1000 {
			return bad("number %q is too large", num)
		}
		seenAny = true
		switch {
		case !inTime && des == 'Y':
			p.Years = n
		case !inTime && des == 'M':
			p.Months = n
		case !inTime && des == 'W':
			p.Weeks = n
		case !inTime && des == 'D':
			p.Days = n
		case des == 'H':
			p.Hours = n
		case des == 'M':
			p.Minutes = n
		case des == 'S':
			p.Seconds = n
			if hasFrac {
				if frac == "" || len(frac) > 9 {
					return bad("fraction of seconds must have 1 to 9 digits")
				}
				ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
				p.Nanos = ns
			}
		}
	}
	if !seenAny {
		return bad("no value (expected e.g. P1D or PT30M)")
	}
	if p.Years > maxCalendarUnits || p.Months > maxCalendarUnits || p.Weeks > maxCalendarUnits || p.Days > maxCalendarUnits {
		return bad("calendar part is too large")
	}
	if p.Hours > int64(maxExact/time.Hour) || p.Minutes > int64(maxExact/time.Minute) || p.Seconds > int64(maxExact/time.Second) {
		return bad("too long")
	}
	exact := time.Duration(p.Hours)*time.Hour + time.Duration(p.Minutes)*time.Minute
	if exact < 0 || exact > maxExact-time.Duration(p.Seconds)*time.Second-time.Second {
		return bad("too long")
	}
	return p, nil
}

// IsZero reports whether the period adds nothing.
func (p Period) IsZero() bool { return p == Period{} }

// HasCalendar reports whether the period has years, months, weeks or days,
// which are added on the local calendar rather than as elapsed time.
func (p Period) HasCalendar() bool {
	return p.Years != 0 || p.Months != 0 || p.Weeks != 0 || p.Days != 0
}

// Exact is the elapsed-time part (hours, minutes, seconds).
func (p Period) Exact() time.Duration {
	return time.Duration(p.Hours)*time.Hour + time.Duration(p.Minutes)*time.Minute +
		time.Duration(p.Seconds)*time.Second + time.Duration(p.Nanos)
}

// Duration converts the period to elapsed time counting a week as 7 and a
// day as 24 hours (Joda's toStandardDuration, which epsilon uses). It is
// false when the period has years or months, which have no fixed length.
func (p Period) Duration() (time.Duration, bool) {
	if p.Years != 0 || p.Months != 0 {
		return 0, false
	}
	days := p.Weeks*7 + p.Days
	if days > int64((maxExact-p.Exact())/(24*time.Hour)) {
		return 0, false
	}
	return time.Duration(days)*24*time.Hour + p.Exact(), true
}

// String prints the period canonically: designators in order, zero parts
// left out, "PT0S" for zero, seconds' fraction without trailing zeros.
func (p Period) String() string {
	if p.IsZero() {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteByte('P')
	part := func(n int64, d byte) {
		if n != 0 {
			b.WriteString(strconv.FormatInt(n, 10))
			b.WriteByte(d)
		}
	}
	part(p.Years, 'Y')
	part(p.Months, 'M')
	part(p.Weeks, 'W')
	part(p.Days, 'D')
	if p.Hours != 0 || p.Minutes != 0 || p.Seconds != 0 || p.Nanos != 0 {
		b.WriteByte('T')
		part(p.Hours, 'H')
		part(p.Minutes, 'M')
		if p.Seconds != 0 || p.Nanos != 0 {
			b.WriteString(strconv.FormatInt(p.Seconds, 10))
			if p.Nanos != 0 {
				b.WriteByte('.')
				b.WriteString(strings.TrimRight(fmt.Sprintf("%09d", p.Nanos), "0"))
			}
			b.WriteByte('S')
		}
	}
	return b.String()
}

// approxSeconds is the period's average length, used only to guess how many
// periods fit between two instants before stepping to the exact answer.
func (p Period) approxSeconds() float64 {
	days := float64(p.Years)*365.2425 + float64(p.Months)*30.436875 + float64(p.Weeks*7+p.Days)
	return days*86400 + p.Exact().Seconds()
}
