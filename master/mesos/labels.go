package mesos

import (
	"encoding/json"
	"strings"
)

// Label is a free-form key/value pair attached to tasks, frameworks and
// reservations.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// Labels is Mesos' Labels message, {"labels": [{"key": "k", "value": "v"}]}.
type Labels []Label

func (Labels) wrappedKey() string { return "labels" }

// MarshalJSON writes {"labels": [...]}.
func (ls Labels) MarshalJSON() ([]byte, error) {
	items := []Label(ls)
	if items == nil {
		items = []Label{}
	}
	return json.Marshal(struct {
		Labels []Label `json:"labels"`
	}{items})
}

// UnmarshalJSON reads {"labels": [...]}; null is empty.
func (ls *Labels) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*ls = nil
		return nil
	}
	var w struct {
		Labels []Label `json:"labels"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*ls = w.Labels
	return nil
}

// Get returns the value of the first label with the given key.
func (ls Labels) Get(key string) (string, bool) {
	for _, l := range ls {
		if l.Key == key {
			return l.Value, true
		}
	}
	return "", false
}

// Equal reports whether ls and o hold the same pairs in the same order, the
// comparison Mesos uses for reservation labels.
func (ls Labels) Equal(o Labels) bool {
	if len(ls) != len(o) {
		return false
	}
	for i := range ls {
		if ls[i] != o[i] {
			return false
		}
	}
	return true
}

// String prints {k: v, k2}, as Mesos does.
func (ls Labels) String() string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Key
		if l.Value != "" {
			parts[i] += ": " + l.Value
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Parameter is a generic key/value pair (docker parameters, URL queries).
type Parameter struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}
