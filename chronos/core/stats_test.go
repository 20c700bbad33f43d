package core

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestStatHistogramAndChronosFieldNames(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly()}, JobSpec{Name: "b", Schedule: hourly()})
	for i := 0; i < 10; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		for _, r := range launches(x.tick(at)) {
			x.observe(at.Add(time.Second), EventStarted, r.TaskID)
			d := time.Duration(i+1) * time.Minute
			if r.Job == "b" {
				d = 30 * time.Second
			}
			x.observe(at.Add(time.Second+d), EventFinished, r.TaskID)
		}
	}
	st, ok := x.c.Stat("a")
	if !ok {
		t.Fatal("no stat")
	}
	want := Histogram{Median: 330000, P75: 495000, P95: 600000, P98: 600000, P99: 600000, Mean: 330000, Count: 10}
	if st.Histogram != want {
		t.Fatalf("histogram %+v, want %+v", st.Histogram, want)
	}
	if len(st.TaskStatHistory) != 10 || st.TaskStatHistory[0].Duration != "10m0s" || st.TaskStatHistory[0].Status != "SUCCESS" ||
		st.TaskStatHistory[0].SlaveID != "agent-1" || st.TaskStatHistory[0].StartTime != "01/01/26 09:00:01" {
		t.Fatalf("newest task stat %+v", st.TaskStatHistory[0])
	}
	raw, _ := json.Marshal(st)
	for _, field := range []string{`"histogram":{`, `"75thPercentile":`, `"95thPercentile":`, `"98thPercentile":`, `"99thPercentile":`,
		`"median":`, `"mean":`, `"count":10`, `"taskStatHistory":[`, `"taskId":`, `"jobName":"a"`, `"slaveId":`, `"startTime":`, `"endTime":`, `"duration":`, `"status":`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("job stat JSON lacks %s: %s", field, raw)
		}
	}

	got, err := x.c.StatsByPercentile("median")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].JobNameLabel != "a" || got[0].Time != 330 || got[1].Time != 30 {
		t.Fatalf("stats/median %+v", got)
	}
	raw, _ = json.Marshal(got[0])
	if string(raw) != `{"jobNameLabel":"a","time":330}` {
		t.Fatalf("%s", raw)
	}
	if _, err := x.c.StatsByPercentile("90thPercentile"); err == nil || !strings.Contains(err.Error(), "99thPercentile") {
		t.Fatalf("bad percentile: %v", err)
	}
}

func TestStatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Second:                              "0m5s",
		time.Hour + 2*time.Minute:                    "1h2m0s",
		26*time.Hour + 3*time.Minute + 4*time.Second: "1d2h3m4s",
	} {
		if got := statDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

func TestRecordJSONRoundTrip(t *testing.T) {
	x := newH(t, Config{}, JobSpec{Name: "a", Schedule: hourly(), Retries: 1})
	r := one(t, x.tick(t0), ActionLaunch)
	x.observe(t0.Add(time.Minute), EventFailed, r.TaskID)
	// Records survive a trip through JSON (how the daemon stores them).
	var recs []Record
	for _, rec := range x.s.records() {
		raw, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var back Record
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, back)
	}
	c, err := New(Config{}, x.jobs, recs, t0.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ds := c.Tick(t0.Add(2 * time.Minute))
	if len(ds) != 1 || ds[0].Action != ActionLaunch || ds[0].Run.Attempt != 1 {
		t.Fatalf("%+v", ds)
	}
}
