// Package schedule turns a Chronos job's schedule expression and
// scheduleTimeZone into the instants at which the job is due. It is pure:
// "now" is passed in by the caller and nothing here reads the clock.
//
//	s, err := schedule.Parse("R/2024-03-08T02:30:00Z/P1D", "America/New_York", now)
//	next, ok := s.Next(lastProcessed) // first instant strictly after lastProcessed
//
// Two kinds of expression are understood; Parse tells them apart by the
// leading "R".
//
// # ISO 8601 repeating intervals (Chronos)
//
// R[n]/<start>/<period>. "R" repeats forever, "Rn" runs n times (R0 never
// runs: Chronos leaves a finished job at R0). An empty start means "now" as
// passed by the caller, truncated to the millisecond so the canonical
// expression round-trips. The start is an ISO 8601 date-time
// (YYYY-MM-DD[Thh[:mm[:ss[.s…]]]][Z|±hh[:mm]]), as Joda's DateTime.parse
// accepts it; without an offset it is UTC. Starts before 1970-01-01T00:00:01Z
// are rejected, as in Chronos.
//
// When scheduleTimeZone is set it wins over the offset written in the start:
// the start's wall-clock fields are kept and read in that zone (Chronos does
// withZoneRetainFields), so "R/2014-10-10T18:32:00Z/PT60M" with "PST" starts at
// 18:32 Pacific time. Without a zone the start's own offset is a fixed zone.
//
// The period is P[nY][nM][nW][nD][T[nH][nM][n[.f]S]] (Joda's ISO period
// format: fractions only on seconds, no negative parts). A zero period is
// rejected. Occurrence k (k = 0, 1, …) is computed directly from the start,
// never from the previous occurrence:
//
//	wall  = start's local date-time + k·Y years, then + k·M months (each step
//	        clamps the day to the month's end, as Joda does), then + k·(7W+D) days
//	occ_k = resolve(wall, zone) + k·(H hours + M minutes + S seconds)
//
// so years, months, weeks and days are calendar arithmetic in the zone's
// local time (a daily job stays at 02:30 local across DST) while hours,
// minutes and seconds are exact elapsed time (PT24H is 23 or 25 hours of wall
// clock across a DST change, exactly like Joda's period arithmetic in
// Chronos). Because occ_k comes from the start, month-end clamping does not
// drift (Jan 31 + P1M gives Feb 29, Mar 31, Apr 30, …). Next jumps to the
// right k arithmetically for exact periods and from an estimate plus a few
// steps for calendar periods, so a far-future "after" costs the same as a
// near one.
//
// # Cron (extension)
//
// Five fields (minute hour day-of-month month day-of-week) or six (seconds
// first), parsed by github.com/robfig/cron/v3, plus its descriptors @yearly,
// @annually, @monthly, @weekly, @daily, @midnight and @hourly. "@every" is
// refused (it counts from whenever it is asked, so runs could not be
// identified by their instant; use R//PT… instead), and so is a CRON_TZ=
// prefix (use scheduleTimeZone). Fields match the zone's local wall clock;
// an expression that matches no date within five years is rejected.
//
// # Daylight saving time — one rule for both kinds
//
// A local wall-clock time is turned into an instant by resolve:
//
//   - Gap (spring forward; the wall time does not exist): it runs at the
//     instant the wall time would have had with the offset before the
//     change, i.e. shifted forward by the gap length. 02:30 on 2024-03-10 in
//     America/New_York runs at 03:30 EDT; Europe/Berlin on 2024-03-31 likewise.
//   - Overlap (fall back; the wall time happens twice): it runs once, at the
//     first occurrence (the earlier, pre-change offset). 01:30 on 2024-11-03 in
//     America/New_York runs at 01:30 EDT only; 02:30 on 2024-10-27 in
//     Europe/Berlin at 02:30 CEST only.
//
// Compared with Joda, which Chronos uses: Joda's period arithmetic is also
// lenient in the same direction, but its withZoneRetainFields is strict, so
// Chronos refused a start written inside a gap; Strata accepts it and shifts
// it like any other occurrence. A consequence for
// cron: a schedule that fires several times an hour does not fire during the
// repeated hour's second pass (its wall times already ran), and fires at most
// once per distinct instant in a gap (02:00 and 03:00 collapse to 03:00).
// ISO schedules with H/M/S periods are unaffected: they are exact durations.
package schedule
