package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Action is an authorizable action, named as in Mesos' ACLs JSON.
type Action string

// The actions Strata authorizes. Each names its object in objectField.
const (
	RegisterFrameworks Action = "register_frameworks" // object: the framework's roles
	RunTasks           Action = "run_tasks"           // object: the Unix user a task runs as
	TeardownFrameworks Action = "teardown_frameworks" // object: the framework's principal
	ReserveResources   Action = "reserve_resources"   // object: the reservation's role
	UnreserveResources Action = "unreserve_resources" // object: the reserver's principal
	CreateVolumes      Action = "create_volumes"      // object: the volume's role
	DestroyVolumes     Action = "destroy_volumes"     // object: the creator's principal
	GetQuotas          Action = "get_quotas"          // object: role
	UpdateQuotas       Action = "update_quotas"       // object: role
	UpdateWeights      Action = "update_weights"      // object: role
	ViewRoles          Action = "view_roles"          // object: role
	ViewFlags          Action = "view_flags"          // object: implicit (ANY/NONE)
	GetEndpoints       Action = "get_endpoints"       // object: the URL path
	AccessSandboxes    Action = "access_sandboxes"    // object: the Unix user owning the sandbox
	RegisterAgents     Action = "register_agents"     // object: implicit (ANY/NONE)
	DrainAgents        Action = "drain_agents"        // object: agent ID
	DeactivateAgents   Action = "deactivate_agents"   // object: agent ID
	ReactivateAgents   Action = "reactivate_agents"   // object: agent ID
	MarkAgentsGone     Action = "mark_agents_gone"    // object: agent ID

	// Marathon's and chronos' REST APIs. Marathon's objects are app IDs
	// or group paths, matched as paths (see pathActions); chronos' are
	// job names, matched exactly.
	UpdateApps Action = "update_apps" // object: app ID or group path ("/prod/web")
	ViewApps   Action = "view_apps"   // object: app ID or group path
	UpdateJobs Action = "update_jobs" // object: job name
	ViewJobs   Action = "view_jobs"   // object: job name
)

// objectField is each action's object key in the ACLs JSON (Mesos'
// acls.proto). Actions missing here are rejected when parsed, so a typo in
// an ACL file is an error rather than a silently permissive rule.
var objectField = map[Action]string{
	RegisterFrameworks: "roles", RunTasks: "users", TeardownFrameworks: "framework_principals",
	ReserveResources: "roles", UnreserveResources: "reserver_principals",
	CreateVolumes: "roles", DestroyVolumes: "creator_principals",
	GetQuotas: "roles", UpdateQuotas: "roles", UpdateWeights: "roles", ViewRoles: "roles",
	ViewFlags: "flags", GetEndpoints: "paths", AccessSandboxes: "users", RegisterAgents: "agents",
	DrainAgents: "agents", DeactivateAgents: "agents", ReactivateAgents: "agents", MarkAgentsGone: "agents",
	UpdateApps: "app_ids", ViewApps: "app_ids", UpdateJobs: "job_names", ViewJobs: "job_names",
}

// pathActions are the actions whose objects are Marathon paths: a rule's
// value covers that path and everything under it on a '/' boundary, so
// {"app_ids":{"values":["/prod"]}} covers the app /prod and the apps of
// group /prod (/prod/web), but not /production; "/" covers every app.
// Marathon authorizes a group's apps through the group the same way.
var pathActions = map[Action]bool{UpdateApps: true, ViewApps: true}

// pathCovers reports whether rule value v covers the path p.
func pathCovers(v, p string) bool {
	v = "/" + strings.Trim(v, "/")
	if v == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == v || strings.HasPrefix(p, v+"/")
}

// EntityType is an Entity's kind: some listed values, any value, or none.
type EntityType string

// Entity types, as in Mesos.
const (
	Some EntityType = "SOME"
	Any  EntityType = "ANY"
	None EntityType = "NONE"
)

// Entity is one side of a rule: {"values":["a","b"]}, {"type":"ANY"} or
// {"type":"NONE"}.
type Entity struct {
	Type   EntityType `json:"type,omitempty"`
	Values []string   `json:"values,omitempty"`
}

func (e Entity) kind() EntityType {
	if e.Type == "" {
		return Some
	}
	return e.Type
}

func (e Entity) String() string {
	switch e.kind() {
	case Any, None:
		return string(e.kind())
	}
	return fmt.Sprintf("%q", e.Values)
}

// Rule is one ACL: principals (the subject) and the action's object.
type Rule struct {
	Principals Entity
	Object     Entity
	// Name is how a denial cites the rule: action[index], e.g.
	// "register_frameworks[1]".
	Name string
}

// ACLs are the parsed --acls file. nil ACLs allow everything, as a Mesos
// master without --acls does.
type ACLs struct {
	// Permissive decides requests no rule matches (Mesos' default: true).
	Permissive bool
	rules      map[Action][]Rule
}

// LoadACLs reads --acls: a path (or file:///path) to the JSON, or, as
// Mesos also accepts, the JSON itself.
func LoadACLs(pathOrJSON string) (*ACLs, error) {
	data, err := readValue(pathOrJSON)
	if err != nil {
		return nil, fmt.Errorf("acls: %w", err)
	}
	a, err := ParseACLs(data)
	if err != nil {
		return nil, fmt.Errorf("acls: %w", err)
	}
	return a, nil
}

// readValue returns s itself when it is JSON, else the file it names.
func readValue(s string) ([]byte, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") {
		return []byte(t), nil
	}
	return os.ReadFile(strings.TrimPrefix(t, "file://"))
}

// ParseACLs parses Mesos' ACLs JSON: {"permissive": bool, "<action>":
// [{"principals": Entity, "<object>": Entity}, ...], ...}. Unknown actions,
// unknown keys in a rule, missing entities and malformed entities are
// errors naming the field.
func ParseACLs(data []byte) (*ACLs, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	a := &ACLs{Permissive: true, rules: map[Action][]Rule{}}
	for _, key := range slices.Sorted(mapKeys(raw)) {
		v := raw[key]
		if key == "permissive" {
			if err := json.Unmarshal(v, &a.Permissive); err != nil {
				return nil, fmt.Errorf("permissive: want true or false: %w", err)
			}
			continue
		}
		act := Action(key)
		field, ok := objectField[act]
		if !ok {
			return nil, fmt.Errorf("%s: unknown action (known: %s)", key, strings.Join(knownActions(), ", "))
		}
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, fmt.Errorf("%s: want a list of rules: %w", key, err)
		}
		for i, r := range list {
			name := fmt.Sprintf("%s[%d]", key, i)
			var rule Rule
			rule.Name = name
			for k, ev := range r {
				var dst *Entity
				switch k {
				case "principals":
					dst = &rule.Principals
				case field:
					dst = &rule.Object
				default:
					return nil, fmt.Errorf("%s.%s: unknown field (want principals and %s)", name, k, field)
				}
				if err := parseEntity(ev, dst); err != nil {
					return nil, fmt.Errorf("%s.%s: %w", name, k, err)
				}
			}
			if _, ok := r["principals"]; !ok {
				return nil, fmt.Errorf("%s.principals: required", name)
			}
			if _, ok := r[field]; !ok {
				return nil, fmt.Errorf("%s.%s: required", name, field)
			}
			a.rules[act] = append(a.rules[act], rule)
		}
	}
	return a, nil
}

func parseEntity(data json.RawMessage, e *Entity) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(e); err != nil {
		return fmt.Errorf("want {\"values\":[...]} or {\"type\":\"ANY\"|\"NONE\"}: %w", err)
	}
	switch e.kind() {
	case Some:
		if len(e.Values) == 0 {
			return fmt.Errorf("values: at least one value is required (or type ANY/NONE)")
		}
	case Any, None:
		if len(e.Values) > 0 {
			return fmt.Errorf("values: not allowed with type %s", e.Type)
		}
	default:
		return fmt.Errorf("type: %q is not SOME, ANY or NONE", e.Type)
	}
	return nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func knownActions() []string {
	var out []string
	for a := range objectField {
		out = append(out, string(a))
	}
	slices.Sort(out)
	return out
}

// Rules returns an action's rules, in evaluation order.
func (a *ACLs) Rules(act Action) []Rule {
	if a == nil {
		return nil
	}
	return a.rules[act]
}

// Decision is the outcome of one authorization.
type Decision struct {
	Allowed bool
	// Rule names the rule that decided ("" when none matched and
	// Permissive decided, or when there are no ACLs).
	Rule string
}

// Authorize decides whether principal may perform act on object, the way
// Mesos' local authorizer does: the first rule whose principals and
// object both match decides, and it allows unless either side is NONE;
// when no rule matches, Permissive decides. An empty principal (an
// anonymous caller) or an empty object is Mesos' ANY request, which only
// rules for ANY or NONE match.
func (a *ACLs) Authorize(act Action, principal, object string) Decision {
	if a == nil {
		return Decision{Allowed: true}
	}
	for _, r := range a.rules[act] {
		if matches(principal, r.Principals) && matchesObject(act, object, r.Object) {
			return Decision{Allowed: r.Principals.kind() != None && r.Object.kind() != None, Rule: r.Name}
		}
	}
	return Decision{Allowed: a.Permissive}
}

// matches is Mesos' matching table: a named request value matches ANY,
// NONE, or a list holding it; an ANY request (value "") matches only ANY
// and NONE.
func matches(value string, e Entity) bool {
	switch e.kind() {
	case Any, None:
		return true
	}
	return value != "" && slices.Contains(e.Values, value)
}

// matchesObject is matches, with path matching for pathActions.
func matchesObject(act Action, value string, e Entity) bool {
	if !pathActions[act] || e.kind() != Some {
		return matches(value, e)
	}
	return value != "" && slices.ContainsFunc(e.Values, func(v string) bool { return pathCovers(v, value) })
}

// Check authorizes act on every object (Mesos asks once per role of a
// framework, once per task's user, ...), returning nil or a *Denied for
// the first object refused. No objects is one ANY request, for the
// actions whose object is implicit.
func (a *ACLs) Check(act Action, principal string, objects ...string) error {
	if a == nil {
		return nil
	}
	if len(objects) == 0 {
		objects = []string{""}
	}
	for _, o := range objects {
		if d := a.Authorize(act, principal, o); !d.Allowed {
			return &Denied{Action: act, Principal: principal, Object: o, Rule: d.Rule, rule: a.ruleText(act, d.Rule)}
		}
	}
	return nil
}

func (a *ACLs) ruleText(act Action, name string) string {
	for _, r := range a.rules[act] {
		if r.Name == name {
			return fmt.Sprintf(`{"principals":%s,%q:%s}`, entityJSON(r.Principals), objectField[act], entityJSON(r.Object))
		}
	}
	return ""
}

func entityJSON(e Entity) string {
	b, _ := json.Marshal(e)
	return string(b)
}

// Denied is an authorization refusal; the HTTP layer answers it with 403
// and a body naming the rule (see WriteError).
type Denied struct {
	Action    Action
	Principal string // "" for an anonymous caller
	Object    string // "" for an implicit object
	// Rule names the deciding rule, "" when the ACLs are not permissive
	// and no rule matched.
	Rule string
	rule string // the rule's JSON, for the message
}

func (d *Denied) Error() string {
	who := "anonymous caller"
	if d.Principal != "" {
		who = fmt.Sprintf("principal %q", d.Principal)
	}
	what := string(d.Action)
	if d.Object != "" {
		what += fmt.Sprintf(" on %s %q", strings.TrimSuffix(objectField[d.Action], "s"), d.Object)
	}
	if d.Rule == "" {
		return fmt.Sprintf("%s is not authorized to %s: no ACL rule matches and the ACLs are not permissive", who, what)
	}
	return fmt.Sprintf("%s is not authorized to %s: denied by ACL rule %s %s", who, what, d.Rule, d.rule)
}
