package table

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dc/strata/master/client"
)

// Views of Chronos' API answers (strata jobs).

// jobSchedule is a job's schedule, or "after A, B" for a dependent job.
func jobSchedule(j *client.ChronosJob) string {
	if len(j.Parents) > 0 {
		return "after " + strings.Join(j.Parents, ", ")
	}
	s := j.Schedule
	if j.ScheduleTimeZone != "" {
		s += " (" + j.ScheduleTimeZone + ")"
	}
	return orDash(s)
}

// JobLast is a job's last outcome: success, failure or fresh (never run).
func JobLast(j *client.ChronosJob) string {
	s, e := parseTime(j.LastSuccess), parseTime(j.LastError)
	switch {
	case s.IsZero() && e.IsZero():
		return "fresh"
	case e.After(s):
		return "failure"
	}
	return "success"
}

// Jobs lists Chronos jobs; states maps a job's name to what it does now
// (idle, queued, running: /jobs/summary), nil when unknown.
func Jobs(jobs []client.ChronosJob, states map[string]string, now time.Time) *Table {
	t := &Table{Columns: []Column{
		{Header: "NAME"}, {Header: "SCHEDULE"}, {Header: "STATE"}, {Header: "LAST"}, {Header: "OK", Right: true},
		{Header: "FAILED", Right: true}, {Header: "LAST RUN", Right: true}, {Header: "CPUS", Right: true, Wide: true},
		{Header: "MEM", Right: true, Wide: true}, {Header: "OWNER", Wide: true}, {Header: "COMMAND", Wide: true},
	}, Tones: map[int]Tone{}}
	jobs = slices.Clone(jobs)
	slices.SortFunc(jobs, func(x, y client.ChronosJob) int { return strings.Compare(x.Name, y.Name) })
	for i := range jobs {
		j := &jobs[i]
		state := orDash(states[j.Name])
		if j.Disabled {
			state = "disabled"
		}
		last := JobLast(j)
		lastRun := parseTime(j.LastSuccess)
		if e := parseTime(j.LastError); e.After(lastRun) {
			lastRun = e
		}
		ago := "-"
		if !lastRun.IsZero() {
			ago = Age(lastRun, now) + " ago"
		}
		t.Rows = append(t.Rows, []string{j.Name, jobSchedule(j), state, last, strconv.FormatInt(j.SuccessCount, 10),
			strconv.FormatInt(j.ErrorCount, 10), ago, Number(j.CPUs), SizeMB(j.Mem), orDash(j.Owner), j.Command})
		switch {
		case j.Disabled:
			t.Tones[len(t.Rows)-1] = ToneDim
		case last == "failure":
			t.Tones[len(t.Rows)-1] = ToneBad
		case state == "running":
			t.Tones[len(t.Rows)-1] = ToneGood
		}
	}
	return t
}

// JobShow describes one job.
func JobShow(j *client.ChronosJob, state string, now time.Time) *KV {
	kv := &KV{}
	kv.Add("Name", j.Name)
	kv.Add("Command", j.Command)
	if !j.Shell && len(j.Arguments) > 0 {
		kv.Add("Arguments", strings.Join(j.Arguments, " "))
	}
	kv.Add("Schedule", jobSchedule(j))
	kv.Add("Epsilon", j.Epsilon)
	kv.Add("State", state)
	kv.Add("Disabled", strconv.FormatBool(j.Disabled))
	kv.Add("Concurrent", strconv.FormatBool(j.Concurrent))
	kv.Add("Retries", strconv.Itoa(j.Retries))
	kv.Add("Resources", fmt.Sprintf("cpus %s, mem %s, disk %s", Number(j.CPUs), SizeMB(j.Mem), SizeMB(j.Disk)))
	kv.Add("Run as", j.RunAsUser)
	kv.Add("Owner", j.Owner)
	kv.Add("Description", j.Description)
	kv.Add("Last", JobLast(j))
	kv.Add("Successes", strconv.FormatInt(j.SuccessCount, 10))
	kv.Add("Failures", fmt.Sprintf("%d (%d since the last success)", j.ErrorCount, j.ErrorsSinceLastSuccess))
	for _, p := range []struct{ k, v string }{{"Last success", j.LastSuccess}, {"Last error", j.LastError}} {
		if ts := parseTime(p.v); !ts.IsZero() {
			kv.Add(p.k, Age(ts, now)+" ago ("+p.v+")")
		} else {
			kv.Add(p.k, "")
		}
	}
	return kv
}

// JobHistory lists a job's runs, newest first as the API answers them.
func JobHistory(runs []client.ChronosRun, now time.Time) *Table {
	t := &Table{Columns: []Column{
		{Header: "SCHEDULED"}, {Header: "KIND"}, {Header: "STATE"}, {Header: "ATTEMPT", Right: true},
		{Header: "EXIT", Right: true}, {Header: "DURATION", Right: true}, {Header: "TASK", Wide: true},
		{Header: "AGENT", Wide: true}, {Header: "MESSAGE", Wide: true}, {Header: "AGE", Right: true},
	}, Tones: map[int]Tone{}}
	for _, r := range runs {
		exit := "-"
		if r.ExitStatus != nil {
			exit = strconv.Itoa(*r.ExitStatus)
		}
		dur := "-"
		switch {
		case !r.StartedAt.IsZero() && !r.FinishedAt.IsZero():
			dur = Duration(r.FinishedAt.Sub(r.StartedAt))
		case !r.StartedAt.IsZero():
			dur = Duration(now.Sub(r.StartedAt)) + "+"
		}
		msg := r.Message
		if r.SkipReason != "" {
			msg = strings.TrimSpace(r.SkipReason + " " + msg)
			if r.Count > 1 {
				msg += fmt.Sprintf(" (%d instants)", r.Count)
			}
		}
		state := strings.ToLower(r.State)
		t.Rows = append(t.Rows, []string{r.ScheduledAt.UTC().Format("2006-01-02 15:04:05"), r.Kind, state,
			strconv.Itoa(r.Attempt), exit, dur, orDash(r.TaskID), orDash(r.AgentID), orDash(msg), Age(r.ScheduledAt, now)})
		switch state {
		case "failed", "error", "lost", "killed":
			t.Tones[len(t.Rows)-1] = ToneBad
		case "skipped":
			t.Tones[len(t.Rows)-1] = ToneDim
		case "succeeded", "success", "finished":
			t.Tones[len(t.Rows)-1] = ToneGood
		}
	}
	return t
}
