package core

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkTick100kJobs measures a tick with 100,000 daily jobs defined,
// spread over the day so that about one is due per simulated second: the
// cost must follow the jobs due, not the jobs defined.
func BenchmarkTick100kJobs(b *testing.B) {
	const n = 100_000
	jobs := make([]JobSpec, n)
	day := 24 * time.Hour
	for i := range jobs {
		off := time.Duration(i) * day / n
		jobs[i] = JobSpec{Name: fmt.Sprintf("job-%06d", i), Schedule: every{start: t0.Add(off), period: day},
			Epsilon: time.Minute, Since: t0.Add(-time.Second)}
	}
	c, err := New(Config{}, jobs, nil, t0)
	if err != nil {
		b.Fatal(err)
	}
	now := t0
	launched := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = now.Add(time.Second)
		for _, d := range c.Tick(now) {
			if d.Action == ActionLaunch {
				launched++
				c.Observe(now, Event{Kind: EventFinished, TaskID: d.Run.TaskID})
			}
		}
	}
	b.StopTimer()
	if b.N > 10 && launched == 0 {
		b.Fatal("nothing launched")
	}
	b.ReportMetric(float64(launched)/float64(b.N), "launches/tick")
}
