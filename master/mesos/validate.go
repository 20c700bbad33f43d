package mesos

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// FieldError is one problem with a decoded message, located by its JSON path
// ("accept.operations[0].launch.task_infos[1].resources[2].scalar.value").
// The master turns these into 400 answers, so the path must name the field
// exactly as the client spelled it.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// FieldErrors collects every problem found in one message, in document
// order, so an API error can list all of them in its "details".
type FieldErrors []*FieldError

// maxFieldErrors bounds how many problems one validation reports; a hostile
// message with a million bad resources must not produce a million-line error.
const maxFieldErrors = 20

func (es FieldErrors) Error() string {
	switch len(es) {
	case 0:
		return "no errors"
	case 1:
		return es[0].Error()
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Details returns one string per problem, the shape of the "details" array in
// Strata's JSON error answers.
func (es FieldErrors) Details() []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Error()
	}
	return out
}

// add records a problem unless the cap is reached.
func (es *FieldErrors) add(field, format string, args ...any) {
	if len(*es) >= maxFieldErrors {
		return
	}
	*es = append(*es, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns nil for no problems so callers can `return errs.err()`.
func (es FieldErrors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// joinPath appends a field name to a JSON path.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// indexPath appends an array index to a JSON path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// Enum is implemented by every enum type in this package. Enums decode
// leniently (a client must not drop a whole event over a name it doesn't know,
// and neither do we); server-side validation then rejects unknown names in
// calls with a FieldError naming the field.
type Enum interface {
	IsKnown() bool
}

// checker is implemented by messages with rules beyond "enums are known and
// required fields are present" (Resource, Attribute, ...). check appends
// problems found at path and is responsible for the message's whole subtree:
// the walker does not descend into a checker (check may call validateInto
// for children that need only the generic rules).
type checker interface {
	check(path string, errs *FieldErrors)
}

// wrapped is implemented by the slice types whose JSON form wraps the array
// in an object ({"labels": [...]}, {"range": [...]}); the walker adds the key
// so paths match the JSON.
type wrapped interface {
	wrappedKey() string
}

// Validate checks any message of this package: every enum holds a known name,
// every field tagged `mesos:"required"` is present, and messages with their
// own rules (resources, attributes) obey them. It returns FieldErrors or nil.
func Validate(msg any) error {
	var errs FieldErrors
	walk(reflect.ValueOf(msg), "", &errs)
	return errs.err()
}

// validateInto is Validate for callers that add their own problems.
func validateInto(msg any, path string, errs *FieldErrors) {
	walk(reflect.ValueOf(msg), path, errs)
}

var (
	enumType    = reflect.TypeFor[Enum]()
	checkerType = reflect.TypeFor[checker]()
	wrappedType = reflect.TypeFor[wrapped]()
	bytesType   = reflect.TypeFor[[]byte]()
)

// structField is the walker's cached view of one struct field.
type structField struct {
	index    int
	name     string
	required bool
}

var fieldCache sync.Map // reflect.Type -> []structField

func fieldsOf(t reflect.Type) []structField {
	if v, ok := fieldCache.Load(t); ok {
		return v.([]structField)
	}
	var fields []structField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fields = append(fields, structField{
			index:    i,
			name:     name,
			required: f.Tag.Get("mesos") == "required",
		})
	}
	v, _ := fieldCache.LoadOrStore(t, fields)
	return v.([]structField)
}

// walk visits v depth-first. It never descends into nil pointers: a missing
// optional message has no required fields.
func walk(v reflect.Value, path string, errs *FieldErrors) {
	if !v.IsValid() || len(*errs) >= maxFieldErrors {
		return
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		walk(v.Elem(), path, errs)
		return
	}
	t := v.Type()
	if t.Implements(idType) && v.Kind() == reflect.String {
		if s := v.String(); s != "" {
			if err := ValidateID(s); err != nil {
				errs.add(path, "%v", err)
			}
		}
		return
	}
	if t.Implements(enumType) && v.Kind() == reflect.String {
		if s := v.String(); s != "" && !v.Interface().(Enum).IsKnown() {
			errs.add(path, "unknown value %q", s)
		}
		return
	}
	if t.Implements(checkerType) {
		v.Interface().(checker).check(path, errs)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for _, f := range fieldsOf(t) {
			fv := v.Field(f.index)
			fp := joinPath(path, f.name)
			if f.required && fv.IsZero() {
				errs.add(fp, "required field is missing")
				continue
			}
			walk(fv, fp, errs)
		}
	case reflect.Slice:
		if t == bytesType {
			return
		}
		base := path
		if t.Implements(wrappedType) {
			base = joinPath(path, v.Interface().(wrapped).wrappedKey())
		}
		emptyIDs := t.Elem().Implements(idType) && t.Elem().Kind() == reflect.String
		for i := 0; i < v.Len(); i++ {
			if emptyIDs && v.Index(i).Len() == 0 {
				errs.add(indexPath(base, i), "ID must not be empty")
				continue
			}
			walk(v.Index(i), indexPath(base, i), errs)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			walk(v.MapIndex(k), path+"["+quoteKey(k.String())+"]", errs)
		}
	}
}

// quoteKey writes a map key in a path: limits["cpus"].
func quoteKey(k string) string { return strconv.Quote(k) }

// DecodeJSON unmarshals data into msg and validates it, turning every failure
// into FieldErrors that name the offending field. It is how the master reads
// calls: malformed JSON, wrong JSON types, unknown enum names, missing
// required fields and invalid resources all come back as one error type.
func DecodeJSON(data []byte, msg any) error {
	// JSON is UTF-8 (RFC 8259); encoding/json would quietly turn bad bytes
	// into U+FFFD and store a name nobody sent.
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return FieldErrors{{Message: fmt.Sprintf("body: invalid UTF-8 at byte %d", i)}}
	}
	if err := json.Unmarshal(data, msg); err != nil {
		return jsonFieldError(err)
	}
	return Validate(msg)
}

// jsonFieldError converts encoding/json's errors into FieldErrors.
func jsonFieldError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var b64Err base64.CorruptInputError
	switch {
	case errors.As(err, &b64Err):
		return FieldErrors{{Message: fmt.Sprintf("a bytes field is not valid standard base64 (bad input at byte %d)", int64(b64Err))}}
	case errors.As(err, &typeErr):
		what := "this field"
		if typeErr.Type != nil {
			what = describeType(typeErr.Type)
		}
		return FieldErrors{{Field: typeErr.Field, Message: fmt.Sprintf("cannot use JSON %s as %s", typeErr.Value, what)}}
	case errors.As(err, &syntaxErr):
		return FieldErrors{{Message: fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)}}
	default:
		return FieldErrors{{Message: "invalid JSON: " + err.Error()}}
	}
}

// describeType names the JSON shape a Go type expects, for error messages a
// client author can act on.
func describeType(t reflect.Type) string {
	if t.Implements(idType) || reflect.PointerTo(t).Implements(idType) {
		return `an object {"value": "..."}`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t == bytesType {
			return "a base64 string"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

// typeError builds the error a custom UnmarshalJSON returns for a value of
// the wrong JSON shape; encoding/json fills in the field path.
func typeError(data []byte, t reflect.Type) error {
	return &json.UnmarshalTypeError{Value: jsonKind(data), Type: t}
}

// jsonKind names the kind of a raw JSON value ("string", "number", ...).
func jsonKind(data []byte) string {
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "nothing"
	}
	switch s[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number " + s
}

// isNull reports whether raw JSON is the literal null, which means "unset".
func isNull(data []byte) bool {
	return strings.TrimSpace(string(data)) == "null"
}

// enumSet builds the lookup table behind an enum's IsKnown.
func enumSet[T ~string](values ...T) map[T]struct{} {
	m := make(map[T]struct{}, len(values))
	for _, v := range values {
		m[v] = struct{}{}
	}
	return m
}
