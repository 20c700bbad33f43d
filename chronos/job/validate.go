package job

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/strata-dc/strata/chronos/schedule"
)

// FieldError is one problem with one field; the API answers 400 with it.
type FieldError struct {
	Field   string `json:"field"`   // JSON key, with [i] and .key for nested values: "fetch[0].uri"
	Message string `json:"message"` // what was expected
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Errors is every problem found in a job, so a client can fix them at once.
type Errors struct {
	List []FieldError
}

func (e *Errors) Error() string {
	parts := make([]string, len(e.List))
	for i, f := range e.List {
		parts[i] = f.Error()
	}
	return strings.Join(parts, "; ")
}

// Fields names the offending fields in order, for tests and logs.
func (e *Errors) Fields() []string {
	out := make([]string, len(e.List))
	for i, f := range e.List {
		out[i] = f.Field
	}
	return out
}

// Defaults are the daemon's flags that fill fields a job leaves out
// (Chronos: --mesos_task_cpu, --mesos_task_mem, --mesos_task_disk,
// --task_epsilon, --user).
type Defaults struct {
	CPUs, Mem, Disk float64
	Epsilon         string // e.g. "PT60S", Chronos' --task_epsilon default of 60 s
	RunAsUser       string
}

// ApplyDefaults fills cpus, mem and disk when absent or 0 (as Chronos
// does), epsilon and runAsUser when empty.
func (j *Job) ApplyDefaults(d Defaults) {
	if j.CPUs == 0 {
		j.CPUs = d.CPUs
	}
	if j.Mem == 0 {
		j.Mem = d.Mem
	}
	if j.Disk == 0 {
		j.Disk = d.Disk
	}
	if j.Epsilon == "" {
		j.Epsilon = d.Epsilon
	}
	if j.RunAsUser == "" {
		j.RunAsUser = d.RunAsUser
	}
}

// Kind is what an endpoint expects: POST /iso8601 takes Scheduled jobs,
// POST /dependency Dependent ones; Any is for jobs loaded from the store.
type Kind int

const (
	Any Kind = iota
	Scheduled
	Dependent
)

// MaxNameLength bounds a job name. Chronos sets none, but a run's task id
// (ct:<ms>:<attempt>:<name>:<seq>) names the run's sandbox directory on the
// agent, which Linux limits to 255 bytes; 200 leaves room for the rest.
const MaxNameLength = 200

// NamePattern is the job name rule (Chronos' jobNamePattern, anchored).
var NamePattern = regexp.MustCompile(`^[\w.-]+$`)

// Validate checks the job by itself (the graph checks that parents exist
// and that there is no cycle). now resolves an empty schedule start. The
// error is *Errors naming each bad field.
func (j *Job) Validate(kind Kind, now time.Time) error {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case j.Name == "":
		add("name", "required, matching %s", NamePattern)
	case !NamePattern.MatchString(j.Name):
		add("name", "%q must match %s (letters, digits, _ . -)", j.Name, NamePattern)
	case j.Name == "." || j.Name == "..":
		// The name is a node name in coord, where dot segments are not names.
		add("name", "%q is not a job name", j.Name)
	case len(j.Name) > MaxNameLength:
		add("name", "must be at most %d characters, got %d", MaxNameLength, len(j.Name))
	}
	if strings.TrimSpace(j.Command) == "" && len(j.Container) == 0 {
		add("command", "required (or a container whose image runs by itself)")
	}

	switch {
	case j.Schedule != "" && len(j.Parents) > 0:
		add("parents", "a job has either a schedule or parents, not both")
	case kind == Scheduled && len(j.Parents) > 0:
		add("parents", "not accepted by /iso8601; post dependent jobs to /dependency")
	case kind == Dependent && len(j.Parents) == 0:
		add("parents", "required by /dependency: a non-empty list of job names")
	case j.Schedule == "" && len(j.Parents) == 0:
		add("schedule", `required: R[n]/<start>/<period> (e.g. "R/2024-01-01T00:00:00Z/P1D"; "R1//PT24H" runs once now) or a cron expression`)
	}
	if j.Schedule != "" {
		if _, err := schedule.Parse(j.Schedule, j.ScheduleTimeZone, now); err != nil {
			var se *schedule.Error
			field := "schedule"
			if errors.As(err, &se) && se.Part == "time zone" {
				field = "scheduleTimeZone"
			}
			add(field, "%s", strings.TrimPrefix(err.Error(), "schedule: "))
		}
	}
	seen := map[string]bool{}
	for i, p := range j.Parents {
		switch {
		case !NamePattern.MatchString(p):
			add(fmt.Sprintf("parents[%d]", i), "%q is not a job name", p)
		case p == j.Name:
			add(fmt.Sprintf("parents[%d]", i), "a job cannot be its own parent")
		case seen[p]:
			add(fmt.Sprintf("parents[%d]", i), "%q is listed twice", p)
		}
		seen[p] = true
	}

	if j.Epsilon != "" {
		p, err := schedule.ParsePeriod(j.Epsilon)
		var se *schedule.Error
		switch {
		case errors.As(err, &se):
			add("epsilon", "%q: %s", j.Epsilon, se.Reason)
		case err != nil:
			add("epsilon", "%v", err)
		default:
			if _, ok := p.Duration(); !ok {
				add("epsilon", "%q: years and months have no fixed length; use weeks, days or hours", j.Epsilon)
			}
		}
	}
	if j.Retries < 0 || j.Retries > math.MaxInt32 {
		// Chronos reads retries as a Java int.
		add("retries", "must be from 0 to %d, got %d", math.MaxInt32, j.Retries)
	}
	for _, r := range []struct {
		field string
		v     float64
	}{{"cpus", j.CPUs}, {"mem", j.Mem}, {"disk", j.Disk}} {
		if r.v < 0 {
			add(r.field, "must be 0 or more, got %g", r.v)
		}
	}
	if j.MaxCompletionTime < 0 {
		add("maxCompletionTime", "must be 0 (no limit) or a number of seconds, got %d", j.MaxCompletionTime)
	}
	if len(j.URIs) > 0 && len(j.Fetch) > 0 {
		add("uris", "give either uris (deprecated) or fetch, not both")
	}
	for i, f := range j.Fetch {
		if f.URI == "" {
			add(fmt.Sprintf("fetch[%d].uri", i), "required")
		}
	}
	for i, u := range j.URIs {
		if u == "" {
			add(fmt.Sprintf("uris[%d]", i), "must not be empty")
		}
	}
	for i, e := range j.EnvironmentVariables {
		if e.Name == "" {
			add(fmt.Sprintf("environmentVariables[%d].name", i), "required")
		}
	}
	for i, c := range j.Constraints {
		field := fmt.Sprintf("constraints[%d]", i)
		if c.Attribute == "" {
			add(field, "attribute name required")
		}
		switch c.Operator {
		case OpEquals:
		case OpLike, OpUnlike:
			if _, err := regexp.Compile("^(?:" + c.Value + ")$"); err != nil {
				add(field, "%s value %q is not a regular expression: %v", c.Operator, c.Value, err)
			}
		default:
			add(field, "operator %q: expected EQUALS, LIKE or UNLIKE", c.Operator)
		}
	}
	if len(errs) > 0 {
		return &Errors{List: errs}
	}
	return nil
}

// Parse is Decode, ApplyDefaults and Validate in one, for the POST
// endpoints.
func Parse(data []byte, kind Kind, d Defaults, now time.Time) (*Job, error) {
	j, err := Decode(data)
	if err != nil {
		return nil, err
	}
	j.ApplyDefaults(d)
	if err := j.Validate(kind, now); err != nil {
		return nil, err
	}
	j.PinStart(now)
	return j, nil
}

// PinStart replaces an empty ISO start ("R//PT1H", "start now") with now,
// printed canonically. A stored schedule must not be re-read with a later
// "now" after a restart or failover, or its occurrences would move.
func (j *Job) PinStart(now time.Time) {
	parts := strings.Split(strings.TrimSpace(j.Schedule), "/")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "R") || parts[1] != "" {
		return
	}
	if s, err := schedule.ParseISO(strings.TrimSpace(j.Schedule), j.ScheduleTimeZone, now); err == nil {
		j.Schedule = s.String()
	}
}

// Matches reports whether a constraint admits an agent attribute value:
// EQUALS compares, LIKE must match the whole value, UNLIKE must not.
func (c Constraint) Matches(value string) bool {
	switch c.Operator {
	case OpEquals:
		return value == c.Value
	case OpLike, OpUnlike:
		re, err := regexp.Compile("^(?:" + c.Value + ")$")
		if err != nil {
			return false
		}
		return re.MatchString(value) == (c.Operator == OpLike)
	}
	return false
}
