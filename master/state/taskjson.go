package state

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/strata-dc/strata/master/mesos"
)

// appendTaskJSON appends t's JSON: the bytes json.Marshal(t) makes. The
// fields nearly every task has — IDs, names, state, plain scalar
// resources — are written directly; reflection over mesos.Task was most
// of the first GET_STATE after a failover, when no task's JSON is cached.
// Anything rarer (statuses, labels, a container, ranges, reservations…)
// is encoded field by field with encoding/json, which writes a field's
// value the same way alone as inside its struct.
func appendTaskJSON(b []byte, t *mesos.Task) ([]byte, error) {
	var err error
	b = append(b, `{"name":`...)
	b = appendString(b, t.Name)
	b = appendID(append(b, `,"task_id":`...), string(t.TaskID))
	b = appendID(append(b, `,"framework_id":`...), string(t.FrameworkID))
	if t.ExecutorID != "" {
		b = appendID(append(b, `,"executor_id":`...), string(t.ExecutorID))
	}
	b = appendID(append(b, `,"agent_id":`...), string(t.AgentID))
	b = appendString(append(b, `,"state":`...), string(t.State))
	if len(t.Resources) > 0 {
		b = append(b, `,"resources":`...)
		if b, err = appendResources(b, t.Resources); err != nil {
			return b, err
		}
	}
	// The rarer fields, in mesos.Task's order, with its omitempty rules.
	for _, f := range [...]struct {
		name  string
		empty bool
		v     func() any
	}{
		{"statuses", len(t.Statuses) == 0, func() any { return t.Statuses }},
		{"status_update_state", t.StatusUpdateState == "", func() any { return t.StatusUpdateState }},
		{"status_update_uuid", len(t.StatusUpdateUUID) == 0, func() any { return t.StatusUpdateUUID }},
		{"labels", len(t.Labels) == 0, func() any { return t.Labels }},
		{"discovery", t.Discovery == nil, func() any { return t.Discovery }},
		{"container", t.Container == nil, func() any { return t.Container }},
		{"health_check", t.HealthCheck == nil, func() any { return t.HealthCheck }},
		{"kill_policy", t.KillPolicy == nil, func() any { return t.KillPolicy }},
		{"user", t.User == "", func() any { return t.User }},
		{"limits", len(t.Limits) == 0, func() any { return t.Limits }},
	} {
		if f.empty {
			continue
		}
		b = append(b, ',', '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		if b, err = appendJSON(b, f.v()); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendResources writes plain scalars directly and hands the list to
// encoding/json when it has anything else.
func appendResources(b []byte, rs mesos.Resources) ([]byte, error) {
	for i := range rs {
		r := &rs[i]
		if r.Type != mesos.ValueScalar || r.Scalar == nil || r.ProviderID != "" || r.Ranges != nil || r.Set != nil ||
			r.Role != "" || r.Reservation != nil || r.Reservations != nil || r.Disk != nil || r.Revocable != nil ||
			r.Shared != nil {
			return appendJSON(b, rs)
		}
	}
	b = append(b, '[')
	for i := range rs {
		r := &rs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(append(b, `{"name":`...), r.Name)
		b = appendString(append(b, `,"type":`...), string(r.Type))
		scalar, err := r.Scalar.MarshalJSON() // {"value":N}: nothing to compact or escape
		if err != nil {
			return b, err
		}
		b = append(append(b, `,"scalar":`...), scalar...)
		if a := r.AllocationInfo; a != nil {
			b = append(b, `,"allocation_info":{`...)
			if a.Role != "" {
				b = appendString(append(b, `"role":`...), a.Role)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendID writes an ID in the proto shape {"value":"…"}.
func appendID(b []byte, id string) []byte {
	return append(appendString(append(b, `{"value":`...), id), '}')
}

// appendString quotes s as encoding/json does (HTML-safe): printable
// ASCII without quotes, backslashes or <>& is copied; anything else goes
// through encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
