package schedule

import (
	"testing"
	"time"
)

// Next is on the scheduler's hot path; these show its cost per call.

func benchNext(b *testing.B, expr, tz string, after time.Time) {
	s, err := Parse(expr, tz, now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.Next(after); !ok {
			b.Fatal("no next")
		}
	}
}

func BenchmarkISOExact(b *testing.B) {
	benchNext(b, "R/2000-01-01T00:00:00Z/PT1M", "", now)
}

func BenchmarkISOCalendarFarFuture(b *testing.B) {
	benchNext(b, "R/2000-01-31T02:30:00Z/P1M", "America/New_York", time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC))
}

func BenchmarkCronMinute(b *testing.B) {
	benchNext(b, "* * * * *", "Europe/Berlin", now)
}

func BenchmarkCronSecondsNearDST(b *testing.B) {
	benchNext(b, "* * * * * *", "America/New_York", time.Date(2024, 3, 10, 6, 30, 0, 0, time.UTC))
}
