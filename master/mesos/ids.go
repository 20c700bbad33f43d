package mesos

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// IDs are Go strings so they compare, print and key maps naturally, but on
// the wire they are proto messages: {"value": "..."}. An empty ID is "unset"
// and is omitted from optional fields.

// FrameworkID is assigned by the master when a framework first subscribes.
type FrameworkID string

// AgentID is assigned by the master when an agent registers
// ("<masterID>-S<n>").
type AgentID string

// OfferID names one offer; it is good for a single ACCEPT or DECLINE.
type OfferID string

// TaskID is chosen by the framework and unique among its live tasks.
type TaskID string

// ExecutorID is chosen by the framework, unique per agent while running.
type ExecutorID string

// ResourceProviderID names a resource provider on an agent.
type ResourceProviderID string

// OperationID is chosen by the framework for operations it wants feedback on.
type OperationID string

// id is implemented by the ID types so error messages can describe the
// {"value": ...} shape.
type id interface{ isID() }

var idType = reflect.TypeFor[id]()

func (FrameworkID) isID()        {}
func (AgentID) isID()            {}
func (OfferID) isID()            {}
func (TaskID) isID()             {}
func (ExecutorID) isID()         {}
func (ResourceProviderID) isID() {}
func (OperationID) isID()        {}

func (v FrameworkID) MarshalJSON() ([]byte, error)        { return marshalID(string(v)) }
func (v AgentID) MarshalJSON() ([]byte, error)            { return marshalID(string(v)) }
func (v OfferID) MarshalJSON() ([]byte, error)            { return marshalID(string(v)) }
func (v TaskID) MarshalJSON() ([]byte, error)             { return marshalID(string(v)) }
func (v ExecutorID) MarshalJSON() ([]byte, error)         { return marshalID(string(v)) }
func (v ResourceProviderID) MarshalJSON() ([]byte, error) { return marshalID(string(v)) }
func (v OperationID) MarshalJSON() ([]byte, error)        { return marshalID(string(v)) }

func (v *FrameworkID) UnmarshalJSON(b []byte) error        { return unmarshalID(b, v) }
func (v *AgentID) UnmarshalJSON(b []byte) error            { return unmarshalID(b, v) }
func (v *OfferID) UnmarshalJSON(b []byte) error            { return unmarshalID(b, v) }
func (v *TaskID) UnmarshalJSON(b []byte) error             { return unmarshalID(b, v) }
func (v *ExecutorID) UnmarshalJSON(b []byte) error         { return unmarshalID(b, v) }
func (v *ResourceProviderID) UnmarshalJSON(b []byte) error { return unmarshalID(b, v) }
func (v *OperationID) UnmarshalJSON(b []byte) error        { return unmarshalID(b, v) }

// marshalID writes {"value":"..."} without going through reflection: GET_STATE
// on a big cluster marshals millions of IDs.
func marshalID(s string) ([]byte, error) {
	b := make([]byte, 0, len(s)+12)
	b = append(b, `{"value":`...)
	b = appendJSONString(b, s)
	return append(b, '}'), nil
}

// appendJSONString quotes s as a JSON string. Plain printable ASCII (every
// ID Mesos or Strata generates) is copied; anything else goes through
// encoding/json so escaping stays correct.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// unmarshalID reads {"value": "..."}; null leaves the ID unset.
func unmarshalID[T ~string](data []byte, dst *T) error {
	if isNull(data) {
		*dst = ""
		return nil
	}
	if t := strings.TrimSpace(string(data)); t == "" || t[0] != '{' {
		return typeError(data, reflect.TypeFor[T]())
	}
	var w struct {
		Value *string `json:"value"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	if w.Value == nil {
		return &json.UnmarshalTypeError{Value: `object without "value"`, Type: reflect.TypeFor[T]()}
	}
	*dst = T(*w.Value)
	return nil
}

// ContainerID names a container on an agent; a nested container names its
// parent.
type ContainerID struct {
	Value  string       `json:"value" mesos:"required"`
	Parent *ContainerID `json:"parent,omitempty"`
}

// String prints the container's path from its outermost ancestor, the way
// Mesos names nested containers ("parent.child").
func (c *ContainerID) String() string {
	if c == nil {
		return ""
	}
	if c.Parent == nil {
		return c.Value
	}
	return c.Parent.String() + "." + c.Value
}

// maxIDLength is NAME_MAX: IDs become directory names in agents' sandboxes.
const maxIDLength = 255

// ValidateID applies Mesos' rules for IDs chosen by frameworks and agents:
// non-empty, at most 255 bytes, not "." or "..", and free of control
// characters and slashes, because agents use them as directory names.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("ID must not be empty")
	case len(id) > maxIDLength:
		return fmt.Errorf("ID must not be longer than %d bytes", maxIDLength)
	case id == "." || id == "..":
		return fmt.Errorf("ID %q is not allowed", id)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c == 0x7f || c == '/' || c == '\\' {
			return fmt.Errorf("ID %q contains invalid characters", id)
		}
	}
	return nil
}
