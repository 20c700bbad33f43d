package schedule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // schedules must not depend on the host having /usr/share/zoneinfo
)

// javaShortIDs are the legacy three-letter IDs java.util.TimeZone accepts
// (ZoneId.SHORT_IDS), which Chronos users write in scheduleTimeZone ("PST"
// is in Chronos' own docs) but the IANA database does not carry.
var javaShortIDs = map[string]string{
	"ACT": "Australia/Darwin", "AET": "Australia/Sydney", "AGT": "America/Argentina/Buenos_Aires",
	"ART": "Africa/Cairo", "AST": "America/Anchorage", "BET": "America/Sao_Paulo",
	"BST": "Asia/Dhaka", "CAT": "Africa/Harare", "CNT": "America/St_Johns",
	"CST": "America/Chicago", "CTT": "Asia/Shanghai", "EAT": "Africa/Addis_Ababa",
	"ECT": "Europe/Paris", "IET": "America/Indiana/Indianapolis", "IST": "Asia/Kolkata",
	"JST": "Asia/Tokyo", "MIT": "Pacific/Apia", "NET": "Asia/Yerevan",
	"NST": "Pacific/Auckland", "PLT": "Asia/Karachi", "PNT": "America/Phoenix",
	"PRT": "America/Puerto_Rico", "PST": "America/Los_Angeles", "SST": "Pacific/Guadalcanal",
	"VST": "Asia/Ho_Chi_Minh",
}

// customID is Java's custom zone syntax, GMT+h, GMT+hh:mm, GMT-hhmm.
var customID = regexp.MustCompile(`^(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?$`)

// LoadZone resolves a scheduleTimeZone: "" is UTC; IANA names go through
// time.LoadLocation (with the embedded database as fallback); Java's
// three-letter IDs and GMT±hh:mm are accepted because Chronos accepted them.
// Unlike java.util.TimeZone, an unknown name is an error, not silently GMT.
func LoadZone(name string) (*time.Location, error) {
	switch name {
	case "", "UTC", "Z", "GMT":
		return time.UTC, nil
	case "Local":
		// time.LoadLocation would give the host's zone; schedules must not
		// change meaning with the machine they are evaluated on.
		return nil, &Error{Part: "time zone", Value: name, Reason: "unknown (use an IANA name such as Europe/Berlin)"}
	}
	if m := customID.FindStringSubmatch(name); m != nil {
		h, _ := strconv.Atoi(m[2])
		mins := 0
		if m[3] != "" {
			mins, _ = strconv.Atoi(m[3])
		}
		if h > 18 || mins > 59 {
			return nil, &Error{Part: "time zone", Value: name, Reason: "offset out of range"}
		}
		off := h*3600 + mins*60
		if m[1] == "-" {
			off = -off
		}
		return time.FixedZone(name, off), nil
	}
	if loc, err := time.LoadLocation(name); err == nil && !strings.HasPrefix(name, "/") {
		return loc, nil
	}
	if alias, ok := javaShortIDs[name]; ok {
		if loc, err := time.LoadLocation(alias); err == nil {
			return loc, nil
		}
	}
	return nil, &Error{Part: "time zone", Value: name, Reason: "unknown (use an IANA name such as America/New_York)"}
}

// wall is a local date and time of day with no zone, carried in a UTC
// time.Time so that date arithmetic on it never meets a DST change.
type wall = time.Time

func wallOf(t time.Time) wall {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func offsetAt(unix int64, loc *time.Location) int64 {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return int64(off)
}

// resolve turns a local wall time into an instant by the package's DST rule:
// a time in a gap moves forward by the gap's length, a time in an overlap
// takes its first occurrence. It looks for at most one offset change within
// a day of w; real zones change offset months apart.
func resolve(w wall, loc *time.Location) time.Time {
	ws := w.Unix()
	ns := int64(w.Nanosecond())
	before := offsetAt(ws-86400, loc)
	after := offsetAt(ws+86400, loc)
	t1, t2 := ws-before, ws-after
	ok1 := offsetAt(t1, loc) == before
	ok2 := offsetAt(t2, loc) == after
	var u int64
	switch {
	case ok1 && ok2:
		u = min(t1, t2) // overlap (or no change): the first occurrence
	case ok1:
		u = t1
	case ok2:
		u = t2
	default:
		u = t1 // gap: read with the offset before the change, i.e. shifted forward
	}
	return time.Unix(u, ns).In(loc)
}

// Error is a schedule that cannot be used. Part is "repetitions", "start",
// "period", "time zone", "cron" or "expression", so an API can point at
// schedule or scheduleTimeZone.
type Error struct {
	Part   string
	Value  string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("schedule: %s %q: %s", e.Part, e.Value, e.Reason)
}
