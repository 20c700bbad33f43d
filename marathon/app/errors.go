package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Error is a request Marathon refuses, in the body shape Marathon answers:
// {"message": …, "details": [{"path": "/cpus", "errors": ["…"]}]}.
//
// Marathon has two tiers and Strata keeps both: a definition that breaks
// the RAML schema (a wrong JSON type, a number outside a declared
// minimum/maximum, a bad id pattern) fails while being read, with message
// "Invalid JSON" and Play's codes ("error.min", "error.expected.jsnumber");
// one that reads but breaks a semantic rule fails validation with message
// "Object is not valid" and Accord's sentences ("got -1, expected 0 or
// more"). Status is 400 for unreadable JSON and 422 otherwise.
type Error struct {
	Status  int         `json:"-"`
	Message string      `json:"message"`
	Details []Violation `json:"details"`
}

// Violation lists the errors at one path ("/", "/cpus",
// "/constraints(0)", "/healthChecks(1)/portIndex").
type Violation struct {
	Path   string   `json:"path"`
	Errors []string `json:"errors"`
}

// Messages of the two tiers.
const (
	MessageInvalidJSON = "Invalid JSON"
	MessageNotValid    = "Object is not valid"
)

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for _, d := range e.Details {
		fmt.Fprintf(&b, "; %s: %s", d.Path, strings.Join(d.Errors, ", "))
	}
	return b.String()
}

// Has reports whether the error lists msg at path (for tests and callers
// that branch on a specific rule).
func (e *Error) Has(path, msg string) bool {
	for _, d := range e.Details {
		if d.Path == path {
			for _, m := range d.Errors {
				if m == msg {
					return true
				}
			}
		}
	}
	return false
}

// violations collects messages grouped by path, in first-seen order.
type violations struct {
	list []Violation
}

func (v *violations) add(path, msg string) {
	if path == "" {
		path = "/"
	}
	for i := range v.list {
		if v.list[i].Path == path {
			for _, m := range v.list[i].Errors {
				if m == msg {
					return
				}
			}
			v.list[i].Errors = append(v.list[i].Errors, msg)
			return
		}
	}
	v.list = append(v.list, Violation{Path: path, Errors: []string{msg}})
}

func (v *violations) addf(path, format string, args ...any) {
	v.add(path, fmt.Sprintf(format, args...))
}

func (v *violations) err(status int, message string) *Error {
	if len(v.list) == 0 {
		return nil
	}
	return &Error{Status: status, Message: message, Details: v.list}
}

var jsonObjectType = reflect.TypeFor[map[string]any]()

// decodeError turns an encoding/json error into Marathon's 400 body,
// naming the field the way Play's JsPath does ("/upgradeStrategy/maximumOverCapacity").
func decodeError(err error) *Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		path := "/" + strings.ReplaceAll(te.Field, ".", "/")
		return &Error{Status: 400, Message: MessageInvalidJSON, Details: []Violation{{Path: path, Errors: []string{expectedCode(te.Type)}}}}
	}
	return &Error{Status: 400, Message: MessageInvalidJSON, Details: []Violation{{Path: "/", Errors: []string{err.Error()}}}}
}

// expectedCode is Play's error code for a value of the wrong JSON type.
func expectedCode(t reflect.Type) string {
	if t == nil {
		return "error.expected.jsvalue"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "error.expected.jsstring"
	case reflect.Bool:
		return "error.expected.jsboolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "error.expected.jsnumber"
	case reflect.Slice, reflect.Array:
		return "error.expected.jsarray"
	}
	return "error.expected.jsobject"
}
