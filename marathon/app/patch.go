package app

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Patch applies a partial app JSON (PATCH /v2/apps/{id}, or PUT with a
// partial body) onto a copy of a and returns the normalized result. Each
// field present in data replaces the whole field — a new "labels" object
// replaces the labels, a new "healthChecks" list the checks — and fields
// that are absent or null stay as they were, as Marathon's AppUpdate does.
// The id never changes. A "version" field means a rollback and may only
// come with "id"; use RollbackVersion to detect it.
func (a *App) Patch(data []byte) (*App, error) {
	stripped, err := stripNulls(data)
	if err != nil {
		return nil, decodeError(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(stripped, &keys); err != nil {
		return nil, decodeError(err)
	}
	if _, ok := keys["version"]; ok {
		for k := range keys {
			if k != "version" && k != "id" {
				return nil, &Error{Status: 422, Message: MessageNotValid, Details: []Violation{{Path: "/",
					Errors: []string{"The 'version' field may only be combined with the 'id' field."}}}}
			}
		}
	}
	delete(keys, "id")
	delete(keys, "version")
	delete(keys, "versionInfo")

	out := a.Clone()
	type plain App
	p := plain(*out)
	clearFields(reflect.ValueOf(&p).Elem(), keys)
	// A new ports list replaces the port definitions it stands for; likewise
	// uris replace fetch.
	if _, ok := keys["ports"]; ok {
		if _, both := keys["portDefinitions"]; !both {
			p.PortDefinitions = nil
		}
	}
	if _, ok := keys["uris"]; ok {
		if _, both := keys["fetch"]; !both {
			p.Fetch = nil
		}
	}
	body, err := json.Marshal(keys)
	if err != nil {
		return nil, decodeError(err)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, decodeError(err)
	}
	res := App(p)
	res.ID = a.ID
	res.rawID = a.ID
	res.rawDeps = append([]PathID(nil), res.Dependencies...)
	if err := res.checkDeprecated(); err != nil {
		return nil, err
	}
	if _, ok := keys["networks"]; ok {
		if _, pd := keys["portDefinitions"]; !pd {
			if _, ports := keys["ports"]; !ports {
				res.PortDefinitions = nil // let the defaults follow the new networking mode
			}
		}
	}
	res.Normalize(Root)
	return &res, nil
}

// clearFields zeroes the struct fields whose JSON names are keys, so that
// decoding replaces them instead of merging into maps and slices.
func clearFields(v reflect.Value, keys map[string]json.RawMessage) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if _, ok := keys[name]; ok {
			v.Field(i).SetZero()
		}
	}
}

// RollbackVersion reports whether an update body asks to go back to a
// stored version ({"version": "…"}, optionally with "id").
func RollbackVersion(data []byte) (string, bool, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return "", false, decodeError(err)
	}
	raw, ok := keys["version"]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, decodeError(err)
	}
	for k := range keys {
		if k != "version" && k != "id" {
			return "", false, &Error{Status: 422, Message: MessageNotValid, Details: []Violation{{Path: "/",
				Errors: []string{"The 'version' field may only be combined with the 'id' field."}}}}
		}
	}
	return s, true, nil
}

// Change is how an app definition differs from the one it replaces.
type Change int

// Kinds of change, as Marathon classifies them for versionInfo.
const (
	// NoChange: the definitions are the same.
	NoChange Change = iota
	// ScaleChange: only instances differ; running instances are kept.
	ScaleChange
	// ConfigChange: something the instances run with differs; they are
	// replaced by a rolling upgrade.
	ConfigChange
)

func (c Change) String() string {
	switch c {
	case ScaleChange:
		return "scale"
	case ConfigChange:
		return "config"
	}
	return "none"
}

// Classify compares two definitions of the same app the way Marathon's
// isUpgrade and isOnlyScaleChange do: every field but instances, version
// and versionInfo is configuration.
func Classify(from, to *App) Change {
	f, t := from.Clone(), to.Clone()
	for _, x := range []*App{f, t} {
		x.Version, x.VersionInfo = "", nil
		x.rawID, x.rawDeps = "", nil
		x.fillEmpty()
	}
	fi, ti := f.Instances, t.Instances
	f.Instances, t.Instances = 0, 0
	fb, _ := json.Marshal(f)
	tb, _ := json.Marshal(t)
	if string(fb) != string(tb) || f.ID != t.ID {
		return ConfigChange
	}
	if fi != ti {
		return ScaleChange
	}
	return NoChange
}

// StampVersion sets to's version to now and its versionInfo from the
// change against from (nil for a new app): a new app or a config change
// sets both lastConfigChangeAt and lastScalingAt to now; a scale or
// restart keeps lastConfigChangeAt and moves lastScalingAt. restart marks a
// /restart, which Marathon records like a scale change.
func StampVersion(from, to *App, now time.Time, restart bool) Change {
	v := FormatVersion(now)
	to.Version = v
	change := ConfigChange
	if from != nil {
		change = Classify(from, to)
		if restart && change == NoChange {
			change = ScaleChange
		}
	}
	switch {
	case from == nil || change == ConfigChange || from.VersionInfo == nil:
		to.VersionInfo = &VersionInfo{LastScalingAt: v, LastConfigChangeAt: v}
	default:
		to.VersionInfo = &VersionInfo{LastScalingAt: v, LastConfigChangeAt: from.VersionInfo.LastConfigChangeAt}
	}
	return change
}

// ChangedFields lists the JSON names of the top-level fields that differ,
// sorted; handy for events and for explaining why a deployment restarts
// instances.
func ChangedFields(from, to *App) []string {
	var fm, tm map[string]json.RawMessage
	fb, _ := json.Marshal(from)
	tb, _ := json.Marshal(to)
	_ = json.Unmarshal(fb, &fm)
	_ = json.Unmarshal(tb, &tm)
	var out []string
	for k, v := range fm {
		if k == "version" || k == "versionInfo" {
			continue
		}
		if string(tm[k]) != string(v) {
			out = append(out, k)
		}
	}
	for k := range tm {
		if _, ok := fm[k]; !ok && k != "version" && k != "versionInfo" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
