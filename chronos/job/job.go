package job

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dc/strata/chronos/schedule"
)

// Job is one Chronos job. Field names and JSON keys are Chronos'.
type Job struct {
	Name             string
	Command          string
	Arguments        []string // passed to Command when Shell is false
	Shell            bool     // run Command with /bin/sh -c (default true)
	Schedule         string   // ISO 8601 interval or cron; empty for a dependent job
	ScheduleTimeZone string   // IANA name; wins over the offset in Schedule
	Parents          []string // non-empty for a dependent job
	Epsilon          string   // ISO 8601 duration: how late a missed run may still start

	Executor      string
	ExecutorFlags string
	TaskInfoData  string

	Retries     int // extra attempts after a failed run (default 2)
	Owner       string
	OwnerName   string
	Description string

	CPUs float64
	Mem  float64 // MB
	Disk float64 // MB

	Disabled              bool
	Concurrent            bool // may start while the previous run is still running
	SoftError             bool // a failure still lets children run
	HighPriority          bool
	DataProcessingJobType bool
	MaxCompletionTime     int64 // seconds, 0 = no limit (Chronos sends it to Mesos as seconds)

	RunAsUser            string
	URIs                 []string // deprecated by Chronos in favour of Fetch
	Fetch                []Fetch
	EnvironmentVariables []EnvironmentVariable
	Constraints          []Constraint
	Container            json.RawMessage // kept as sent (compacted) and passed on

	// Read-only: owned by the daemon's run history.
	SuccessCount           int64
	ErrorCount             int64
	LastSuccess            string // RFC 3339 with milliseconds, "" before the first success
	LastError              string
	ErrorsSinceLastSuccess int64

	ignored []string
}

// Fetch is one file the Mesos fetcher downloads into the sandbox.
type Fetch struct {
	URI        string `json:"uri"`
	Executable bool   `json:"executable"`
	Cache      bool   `json:"cache"`
	Extract    bool   `json:"extract"`
	OutputFile string `json:"output_file,omitempty"`
}

// EnvironmentVariable is one variable of the task's environment.
type EnvironmentVariable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Constraint restricts the agents a run may use: the agent attribute
// Attribute must equal (EQUALS), fully match (LIKE) or not match (UNLIKE)
// Value. In JSON it is ["attribute", "OPERATOR", "value"].
type Constraint struct {
	Attribute, Operator, Value string
}

// Constraint operators Chronos knows.
const (
	OpEquals = "EQUALS"
	OpLike   = "LIKE"
	OpUnlike = "UNLIKE"
)

// MarshalJSON writes the constraint as Chronos' three-element array.
func (c Constraint) MarshalJSON() ([]byte, error) {
	return json.Marshal([3]string{c.Attribute, c.Operator, c.Value})
}

// Dependent reports whether the job runs after its parents rather than on
// a schedule.
func (j *Job) Dependent() bool { return len(j.Parents) > 0 }

// IgnoredFields lists the keys Decode skipped because Chronos doesn't read
// them either (async, dataJob, …), sorted, for logging.
func (j *Job) IgnoredFields() []string { return j.ignored }

// EpsilonDuration is Epsilon as elapsed time; false if it is unset or
// invalid (Validate reports which).
func (j *Job) EpsilonDuration() (time.Duration, bool) {
	if j.Epsilon == "" {
		return 0, false
	}
	p, err := schedule.ParsePeriod(j.Epsilon)
	if err != nil {
		return 0, false
	}
	return p.Duration()
}

// ParseSchedule parses Schedule in ScheduleTimeZone (now resolves an empty
// ISO start). Dependent jobs have no schedule and get an error.
func (j *Job) ParseSchedule(now time.Time) (schedule.Schedule, error) {
	return schedule.Parse(j.Schedule, j.ScheduleTimeZone, now)
}

// Clone returns a deep copy, so a graph or a caller can change one without
// the other.
func (j *Job) Clone() *Job {
	c := *j
	c.Arguments = slices.Clone(j.Arguments)
	c.Parents = slices.Clone(j.Parents)
	c.URIs = slices.Clone(j.URIs)
	c.Fetch = slices.Clone(j.Fetch)
	c.EnvironmentVariables = slices.Clone(j.EnvironmentVariables)
	c.Constraints = slices.Clone(j.Constraints)
	c.Container = slices.Clone(j.Container)
	c.ignored = slices.Clone(j.ignored)
	return &c
}

// wire is the JSON shape in Chronos' JobSerializer order. Parents and
// Schedule are pointers so a job prints exactly one of them, as Chronos does.
type wire struct {
	Name                   string                `json:"name"`
	Command                string                `json:"command"`
	Shell                  bool                  `json:"shell"`
	Epsilon                string                `json:"epsilon"`
	Executor               string                `json:"executor"`
	ExecutorFlags          string                `json:"executorFlags"`
	TaskInfoData           string                `json:"taskInfoData"`
	Retries                int                   `json:"retries"`
	Owner                  string                `json:"owner"`
	OwnerName              string                `json:"ownerName"`
	Description            string                `json:"description"`
	SuccessCount           int64                 `json:"successCount"`
	ErrorCount             int64                 `json:"errorCount"`
	LastSuccess            string                `json:"lastSuccess"`
	LastError              string                `json:"lastError"`
	CPUs                   float64               `json:"cpus"`
	Disk                   float64               `json:"disk"`
	Mem                    float64               `json:"mem"`
	Disabled               bool                  `json:"disabled"`
	SoftError              bool                  `json:"softError"`
	DataProcessingJobType  bool                  `json:"dataProcessingJobType"`
	ErrorsSinceLastSuccess int64                 `json:"errorsSinceLastSuccess"`
	Fetch                  []Fetch               `json:"fetch"`
	URIs                   []string              `json:"uris"`
	EnvironmentVariables   []EnvironmentVariable `json:"environmentVariables"`
	Arguments              []string              `json:"arguments"`
	HighPriority           bool                  `json:"highPriority"`
	RunAsUser              string                `json:"runAsUser"`
	Concurrent             bool                  `json:"concurrent"`
	MaxCompletionTime      int64                 `json:"maxCompletionTime"`
	Container              json.RawMessage       `json:"container,omitempty"`
	Constraints            []Constraint          `json:"constraints"`
	Parents                *[]string             `json:"parents,omitempty"`
	Schedule               *string               `json:"schedule,omitempty"`
	ScheduleTimeZone       *string               `json:"scheduleTimeZone,omitempty"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// MarshalJSON prints the job as Chronos' GET /jobs does: every field, empty
// lists as [], and parents for a dependent job or schedule and
// scheduleTimeZone for a scheduled one.
func (j *Job) MarshalJSON() ([]byte, error) {
	w := wire{
		Name: j.Name, Command: j.Command, Shell: j.Shell, Epsilon: j.Epsilon,
		Executor: j.Executor, ExecutorFlags: j.ExecutorFlags, TaskInfoData: j.TaskInfoData,
		Retries: j.Retries, Owner: j.Owner, OwnerName: j.OwnerName, Description: j.Description,
		SuccessCount: j.SuccessCount, ErrorCount: j.ErrorCount, LastSuccess: j.LastSuccess, LastError: j.LastError,
		CPUs: j.CPUs, Disk: j.Disk, Mem: j.Mem, Disabled: j.Disabled, SoftError: j.SoftError,
		DataProcessingJobType: j.DataProcessingJobType, ErrorsSinceLastSuccess: j.ErrorsSinceLastSuccess,
		Fetch: nonNil(j.Fetch), URIs: nonNil(j.URIs), EnvironmentVariables: nonNil(j.EnvironmentVariables),
		Arguments: nonNil(j.Arguments), HighPriority: j.HighPriority, RunAsUser: j.RunAsUser,
		Concurrent: j.Concurrent, MaxCompletionTime: j.MaxCompletionTime, Container: j.Container,
		Constraints: nonNil(j.Constraints),
	}
	if j.Dependent() {
		w.Parents = &j.Parents
	} else {
		w.Schedule, w.ScheduleTimeZone = &j.Schedule, &j.ScheduleTimeZone
	}
	return json.Marshal(w)
}

// Decode reads a job as Chronos' JobDeserializer does (see the package
// doc). It applies the defaults that need no daemon configuration (shell
// true, retries 2); ApplyDefaults adds the rest. Errors are *Errors naming
// every offending field.
func Decode(data []byte) (*Job, error) {
	j := &Job{}
	if err := json.Unmarshal(data, j); err != nil {
		var ve *Errors
		if errors.As(err, &ve) {
			return nil, ve
		}
		return nil, &Errors{List: []FieldError{{Field: "body", Message: "invalid JSON: " + jsonProblem(err)}}}
	}
	return j, nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "expected a JSON object"
	}
	return err.Error()
}

// UnmarshalJSON implements Decode's reading rules.
func (j *Job) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if m == nil {
		return &Errors{List: []FieldError{{Field: "body", Message: "expected a JSON object, got null"}}}
	}
	d := decoder{m: m}
	*j = Job{
		Name:                   d.str("name"),
		Command:                d.str("command"),
		Arguments:              d.strs("arguments"),
		Shell:                  d.boolean("shell", true),
		Schedule:               d.str("schedule"),
		ScheduleTimeZone:       d.str("scheduleTimeZone"),
		Parents:                d.strs("parents"),
		Epsilon:                d.str("epsilon"),
		Executor:               d.str("executor"),
		ExecutorFlags:          d.str("executorFlags"),
		TaskInfoData:           d.str("taskInfoData"),
		Retries:                int(d.integer("retries", 2)),
		Owner:                  d.str("owner"),
		OwnerName:              d.str("ownerName"),
		Description:            d.str("description"),
		CPUs:                   d.number("cpus"),
		Mem:                    d.number("mem"),
		Disk:                   d.number("disk"),
		Disabled:               d.boolean("disabled", false),
		Concurrent:             d.boolean("concurrent", false),
		SoftError:              d.boolean("softError", false),
		HighPriority:           d.boolean("highPriority", false),
		DataProcessingJobType:  d.boolean("dataProcessingJobType", false),
		MaxCompletionTime:      d.integer("maxCompletionTime", 0),
		RunAsUser:              d.str("runAsUser"),
		URIs:                   d.strs("uris"),
		Fetch:                  d.fetch("fetch"),
		EnvironmentVariables:   d.env("environmentVariables"),
		Constraints:            d.constraints("constraints"),
		Container:              d.object("container"),
		SuccessCount:           d.integer("successCount", 0),
		ErrorCount:             d.integer("errorCount", 0),
		LastSuccess:            d.str("lastSuccess"),
		LastError:              d.str("lastError"),
		ErrorsSinceLastSuccess: d.integer("errorsSinceLastSuccess", 0),
	}
	for k := range m {
		if !d.used[k] {
			j.ignored = append(j.ignored, k)
		}
	}
	sort.Strings(j.ignored)
	if len(d.errs) > 0 {
		return &Errors{List: d.errs}
	}
	return nil
}

// decoder reads fields leniently, the way Jackson's asText/asDouble/
// asBoolean do for well-formed input, and records a FieldError for values
// that have the wrong shape.
type decoder struct {
	m    map[string]json.RawMessage
	used map[string]bool
	errs []FieldError
}

// raw returns the field's value, or nil when it is absent or null.
func (d *decoder) raw(field string) json.RawMessage {
	if d.used == nil {
		d.used = map[string]bool{}
	}
	d.used[field] = true
	v, ok := d.m[field]
	if !ok || string(v) == "null" {
		return nil
	}
	return v
}

func (d *decoder) fail(field, format string, args ...any) {
	d.errs = append(d.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func shown(v json.RawMessage) string {
	s := string(v)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// scalarText is a JSON string's value, or the literal text of a number or
// boolean (Jackson's asText); false for objects and arrays.
func scalarText(v json.RawMessage) (string, bool) {
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	case '{', '[':
		return "", false
	}
	return string(v), true
}

func (d *decoder) str(field string) string {
	v := d.raw(field)
	if v == nil {
		return ""
	}
	s, ok := scalarText(v)
	if !ok {
		d.fail(field, "expected a string, got %s", shown(v))
	}
	return s
}

func (d *decoder) boolean(field string, def bool) bool {
	v := d.raw(field)
	if v == nil {
		return def
	}
	s, _ := scalarText(v)
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	d.fail(field, "expected true or false, got %s", shown(v))
	return def
}

func (d *decoder) number(field string) float64 {
	v := d.raw(field)
	if v == nil {
		return 0
	}
	s, ok := scalarText(v)
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	// "NaN" and "Infinity" parse, but no resource is either, and JSON
	// cannot even print them back.
	if !ok || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		d.fail(field, "expected a finite number, got %s", shown(v))
		return 0
	}
	return f
}

func (d *decoder) integer(field string, def int64) int64 {
	v := d.raw(field)
	if v == nil {
		return def
	}
	s, ok := scalarText(v)
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// 2.0 is an integer written as a float; 2.5 is not.
		if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && f == float64(int64(f)) {
			n, err = int64(f), nil
		}
	}
	if !ok || err != nil {
		d.fail(field, "expected an integer, got %s", shown(v))
		return def
	}
	return n
}

// array decodes a JSON array into its elements; absent or null is nil.
func (d *decoder) array(field string) []json.RawMessage {
	v := d.raw(field)
	if v == nil {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		d.fail(field, "expected a list, got %s", shown(v))
		return nil
	}
	if len(items) == 0 {
		return nil // [] and absent are the same job
	}
	return items
}

func (d *decoder) strs(field string) []string {
	items := d.array(field)
	if items == nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := scalarText(it)
		if !ok || string(it) == "null" {
			d.fail(fmt.Sprintf("%s[%d]", field, i), "expected a string, got %s", shown(it))
			continue
		}
		out = append(out, s)
	}
	return out
}

// sub decodes an array element as an object with the same lenient rules,
// prefixing errors with its position.
func (d *decoder) sub(field string, i int, it json.RawMessage) (*decoder, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(it, &m); err != nil || m == nil {
		d.fail(fmt.Sprintf("%s[%d]", field, i), "expected an object, got %s", shown(it))
		return nil, false
	}
	return &decoder{m: m}, true
}

func (d *decoder) absorb(prefix string, s *decoder) {
	for _, e := range s.errs {
		d.errs = append(d.errs, FieldError{Field: prefix + "." + e.Field, Message: e.Message})
	}
}

func (d *decoder) fetch(field string) []Fetch {
	items := d.array(field)
	if items == nil {
		return nil
	}
	out := make([]Fetch, 0, len(items))
	for i, it := range items {
		s, ok := d.sub(field, i, it)
		if !ok {
			continue
		}
		out = append(out, Fetch{
			URI:        s.str("uri"),
			Executable: s.boolean("executable", false),
			Cache:      s.boolean("cache", false),
			Extract:    s.boolean("extract", true), // Chronos extracts unless told not to
			OutputFile: s.str("output_file"),
		})
		d.absorb(fmt.Sprintf("%s[%d]", field, i), s)
	}
	return out
}

func (d *decoder) env(field string) []EnvironmentVariable {
	items := d.array(field)
	if items == nil {
		return nil
	}
	out := make([]EnvironmentVariable, 0, len(items))
	for i, it := range items {
		s, ok := d.sub(field, i, it)
		if !ok {
			continue
		}
		out = append(out, EnvironmentVariable{Name: s.str("name"), Value: s.str("value")})
		d.absorb(fmt.Sprintf("%s[%d]", field, i), s)
	}
	return out
}

func (d *decoder) constraints(field string) []Constraint {
	items := d.array(field)
	if items == nil {
		return nil
	}
	out := make([]Constraint, 0, len(items))
	for i, it := range items {
		var parts []string
		if err := json.Unmarshal(it, &parts); err != nil || len(parts) != 3 {
			d.fail(fmt.Sprintf("%s[%d]", field, i), `expected ["attribute", "EQUALS|LIKE|UNLIKE", "value"], got %s`, shown(it))
			continue
		}
		out = append(out, Constraint{Attribute: parts[0], Operator: parts[1], Value: parts[2]})
	}
	return out
}

// object keeps a JSON object as compact bytes; Strata passes a container
// through to the task unchanged rather than re-shaping it as Chronos did.
func (d *decoder) object(field string) json.RawMessage {
	v := d.raw(field)
	if v == nil {
		return nil
	}
	if v[0] != '{' {
		d.fail(field, "expected an object, got %s", shown(v))
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		d.fail(field, "invalid JSON: %v", err)
		return nil
	}
	return b.Bytes()
}
