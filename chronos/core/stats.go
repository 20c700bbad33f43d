package core

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// Histogram is a job's run durations in milliseconds, with Chronos'
// /job/stat field names. Chronos computes it over a decaying sample of
// recent runs; the core computes it over the retained run history (the
// last Config.HistoryLimit records), interpolating as Dropwizard's
// Snapshot does. Chronos writes the median under "mean" (a bug); this
// writes the arithmetic mean.
type Histogram struct {
	P75    float64 `json:"75thPercentile"`
	P95    float64 `json:"95thPercentile"`
	P98    float64 `json:"98thPercentile"`
	P99    float64 `json:"99thPercentile"`
	Median float64 `json:"median"`
	Mean   float64 `json:"mean"`
	Count  int     `json:"count"`
}

// TaskStat is one entry of /job/stat's taskStatHistory, in Chronos'
// shape: times as "MM/dd/yy HH:mm:ss" (UTC) or "N/A", duration as
// "1d2h3m4s".
type TaskStat struct {
	TaskID    string `json:"taskId"`
	JobName   string `json:"jobName"`
	SlaveID   string `json:"slaveId"`
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime"`
	Duration  string `json:"duration,omitempty"`
	Status    string `json:"status"`
}

// JobStat is the body of GET /v1/scheduler/job/stat/{name}.
type JobStat struct {
	Histogram       Histogram  `json:"histogram"`
	TaskStatHistory []TaskStat `json:"taskStatHistory"`
}

// PercentileTime is one element of GET /v1/scheduler/stats/{percentile}:
// the job and its duration at that percentile, in seconds.
type PercentileTime struct {
	JobNameLabel string  `json:"jobNameLabel"`
	Time         float64 `json:"time"`
}

// Status returns a job's counters.
func (c *Core) Status(name string) (JobStatus, bool) {
	j := c.jobs[name]
	if j == nil {
		return JobStatus{}, false
	}
	return *j.status.clone(), true
}

// History returns up to n of the job's terminal and skipped records,
// newest first (n ≤ 0: all retained).
func (c *Core) History(name string, n int) []Run {
	j := c.jobs[name]
	if j == nil {
		return nil
	}
	var out []Run
	for i := len(j.history) - 1; i >= 0 && (n <= 0 || len(out) < n); i-- {
		out = append(out, *j.history[i].clone())
	}
	return out
}

// Active returns the job's pending, launched and running records, oldest
// first.
func (c *Core) Active(name string) []Run {
	j := c.jobs[name]
	if j == nil {
		return nil
	}
	var out []Run
	for _, r := range sortedRuns(j.active) {
		out = append(out, *r.clone())
	}
	return out
}

func (c *Core) durations(j *jobState) []float64 {
	var ms []float64
	for _, r := range j.history {
		if (r.State == StateSucceeded || r.State == StateFailed) && r.Kind != KindMarked {
			if d := r.Duration(); d > 0 {
				ms = append(ms, float64(d)/float64(time.Millisecond))
			}
		}
	}
	sort.Float64s(ms)
	return ms
}

// quantile interpolates like Dropwizard's Snapshot.getValue: position
// q·(n+1), clamped to the ends.
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	pos := q * float64(n+1)
	idx := int(math.Floor(pos))
	if idx < 1 {
		return sorted[0]
	}
	if idx >= n {
		return sorted[n-1]
	}
	lower, upper := sorted[idx-1], sorted[idx]
	return lower + (pos-float64(idx))*(upper-lower)
}

func histogram(ms []float64) Histogram {
	h := Histogram{Count: len(ms)}
	if len(ms) == 0 {
		return h
	}
	var sum float64
	for _, v := range ms {
		sum += v
	}
	h.Mean = sum / float64(len(ms))
	h.Median = quantile(ms, 0.5)
	h.P75 = quantile(ms, 0.75)
	h.P95 = quantile(ms, 0.95)
	h.P98 = quantile(ms, 0.98)
	h.P99 = quantile(ms, 0.99)
	return h
}

// Stat is /job/stat/{name}: the duration histogram and the retained
// attempts, newest first.
func (c *Core) Stat(name string) (JobStat, bool) {
	j := c.jobs[name]
	if j == nil {
		return JobStat{}, false
	}
	st := JobStat{Histogram: histogram(c.durations(j)), TaskStatHistory: []TaskStat{}}
	runs := append([]*Run(nil), j.history...)
	runs = append(runs, sortedRuns(j.active)...)
	sort.SliceStable(runs, func(a, b int) bool { return runs[a].Seq > runs[b].Seq })
	for _, r := range runs {
		if r.TaskID == "" {
			continue
		}
		ts := TaskStat{
			TaskID: r.TaskID, JobName: r.Job, SlaveID: r.Agent,
			StartTime: statTime(r.StartedAt), EndTime: statTime(r.FinishedAt),
			Status: taskStatus(r.State),
		}
		if d := r.Duration(); d > 0 {
			ts.Duration = statDuration(d)
		}
		st.TaskStatHistory = append(st.TaskStatHistory, ts)
	}
	return st, true
}

func statTime(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return t.UTC().Format("01/02/06 15:04:05")
}

func statDuration(d time.Duration) string {
	s := int64(d / time.Second)
	days, s := s/86400, s%86400
	h, s := s/3600, s%3600
	m, s := s/60, s%60
	out := ""
	if days > 0 {
		out += strconv.FormatInt(days, 10) + "d"
	}
	if days > 0 || h > 0 {
		out += strconv.FormatInt(h, 10) + "h"
	}
	return out + strconv.FormatInt(m, 10) + "m" + strconv.FormatInt(s, 10) + "s"
}

// taskStatus maps a run state onto the names Chronos' TaskStat shows.
func taskStatus(s RunState) string {
	switch s {
	case StateSucceeded:
		return "SUCCESS"
	case StateFailed, StateKilled:
		return "FAIL"
	case StateRunning:
		return "RUNNING"
	}
	return "IDLE"
}

// StatsByPercentile is /stats/{percentile}: every job with at least one
// measured run, slowest first, time in seconds. percentile is one of
// Chronos' names: 99thPercentile, 98thPercentile, 95thPercentile,
// 75thPercentile, median, mean.
func (c *Core) StatsByPercentile(percentile string) ([]PercentileTime, error) {
	pick := map[string]func(Histogram) float64{
		"99thPercentile": func(h Histogram) float64 { return h.P99 },
		"98thPercentile": func(h Histogram) float64 { return h.P98 },
		"95thPercentile": func(h Histogram) float64 { return h.P95 },
		"75thPercentile": func(h Histogram) float64 { return h.P75 },
		"median":         func(h Histogram) float64 { return h.Median },
		"mean":           func(h Histogram) float64 { return h.Mean },
	}[percentile]
	if pick == nil {
		return nil, fmt.Errorf("percentile %q: expected one of 99thPercentile, 98thPercentile, 95thPercentile, 75thPercentile, median, mean", percentile)
	}
	out := []PercentileTime{}
	for _, name := range c.sortedJobs() {
		ms := c.durations(c.jobs[name])
		if len(ms) == 0 {
			continue
		}
		out = append(out, PercentileTime{JobNameLabel: name, Time: pick(histogram(ms)) / 1000})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Time > out[b].Time })
	return out, nil
}
