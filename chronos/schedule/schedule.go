package schedule

import (
	"strings"
	"time"
)

// Schedule yields a job's due instants. The scheduler core only needs Next;
// String gives the canonical expression to store and show.
type Schedule interface {
	// Next is the first scheduled instant strictly after after, false when
	// a finite repetition count is used up (or a cron never matches again).
	Next(after time.Time) (time.Time, bool)
	String() string
}

var (
	_ Schedule = (*ISO)(nil)
	_ Schedule = (*Cron)(nil)
)

// Parse reads expr as an ISO 8601 repeating interval when it starts with
// "R", else as a cron expression, both evaluated in the zone tz. now
// resolves an ISO interval's empty start. Errors are *Error and name the
// part that is wrong.
func Parse(expr, tz string, now time.Time) (Schedule, error) {
	e := strings.TrimSpace(expr)
	if e == "" {
		return nil, &Error{Part: "expression", Value: expr, Reason: "empty (expected R[n]/<start>/<period> or a cron expression)"}
	}
	if strings.HasPrefix(e, "R") {
		return ParseISO(e, tz, now)
	}
	return ParseCron(e, tz, now)
}
