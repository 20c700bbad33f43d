package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/strata-dc/strata/master/auth"
)

const exampleACLs = `{
  "permissive": false,
  "register_frameworks": [
    {"principals": {"values": ["marathon"]}, "roles": {"values": ["web", "batch"]}},
    {"principals": {"values": ["marathon"]}, "roles": {"type": "NONE"}},
    {"principals": {"type": "ANY"}, "roles": {"values": ["*"]}}
  ],
  "run_tasks": [
    {"principals": {"type": "ANY"}, "users": {"values": ["root"]}, "comment_is_not_allowed": 1}
  ]
}`

func TestParseACLsErrors(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{exampleACLs, "run_tasks[0].comment_is_not_allowed: unknown field"},
		{`{"register_framework": []}`, "register_framework: unknown action"},
		{`{"run_tasks": [{"principals": {"type":"ANY"}}]}`, "run_tasks[0].users: required"},
		{`{"run_tasks": [{"users": {"type":"ANY"}}]}`, "run_tasks[0].principals: required"},
		{`{"run_tasks": [{"principals": {"type":"SOMETIMES"}, "users": {"type":"ANY"}}]}`, `run_tasks[0].principals: type: "SOMETIMES"`},
		{`{"run_tasks": [{"principals": {"values": []}, "users": {"type":"ANY"}}]}`, "run_tasks[0].principals: values: at least one"},
		{`{"run_tasks": [{"principals": {"type":"ANY","values":["a"]}, "users": {"type":"ANY"}}]}`, "values: not allowed with type ANY"},
		{`{"permissive": "yes"}`, "permissive: want true or false"},
		{`[]`, "JSON"},
	} {
		_, err := auth.ParseACLs([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseACLs(%s): err = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestAuthorizeFirstMatch(t *testing.T) {
	acls, err := auth.ParseACLs([]byte(strings.Replace(exampleACLs, `, "comment_is_not_allowed": 1`, "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		act            auth.Action
		principal, obj string
		allowed        bool
		rule           string
	}{
		{auth.RegisterFrameworks, "marathon", "web", true, "register_frameworks[0]"},
		{auth.RegisterFrameworks, "marathon", "prod", false, "register_frameworks[1]"}, // NONE rule
		{auth.RegisterFrameworks, "marathon", "*", false, "register_frameworks[1]"},    // first match wins over [2]
		{auth.RegisterFrameworks, "chronos", "*", true, "register_frameworks[2]"},
		{auth.RegisterFrameworks, "chronos", "web", false, ""},             // no match, not permissive
		{auth.RegisterFrameworks, "", "*", true, "register_frameworks[2]"}, // anonymous matches ANY
		{auth.RegisterFrameworks, "", "web", false, ""},
		{auth.RunTasks, "anyone", "root", true, "run_tasks[0]"},
		{auth.RunTasks, "anyone", "nobody", false, ""},
		{auth.RunTasks, "anyone", "", false, ""}, // an ANY object only matches ANY/NONE rules
		{auth.UpdateWeights, "operator", "web", false, ""},
	} {
		d := acls.Authorize(tc.act, tc.principal, tc.obj)
		if d.Allowed != tc.allowed || d.Rule != tc.rule {
			t.Errorf("Authorize(%s, %q, %q) = %+v, want allowed=%v rule=%q", tc.act, tc.principal, tc.obj, d, tc.allowed, tc.rule)
		}
	}
}

func TestPermissiveDefaultAndNil(t *testing.T) {
	acls, err := auth.ParseACLs([]byte(`{"update_weights":[{"principals":{"type":"ANY"},"roles":{"values":["prod"]}}, {"principals":{"type":"ANY"},"roles":{"type":"NONE"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !acls.Permissive {
		t.Fatal("permissive should default to true, as in Mesos")
	}
	if err := acls.Check(auth.DrainAgents, "x", "agent-1"); err != nil {
		t.Errorf("no drain_agents rules, permissive: %v", err)
	}
	err = acls.Check(auth.UpdateWeights, "ops", "prod", "dev")
	var d *auth.Denied
	if !errors.As(err, &d) || d.Object != "dev" || d.Rule != "update_weights[1]" {
		t.Fatalf("Check = %v", err)
	}
	for _, want := range []string{`principal "ops"`, `update_weights on role "dev"`, "update_weights[1]", `"type":"NONE"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("denial %q does not say %q", err, want)
		}
	}
	var none *auth.ACLs
	if err := none.Check(auth.RunTasks, "", "root"); err != nil {
		t.Errorf("nil ACLs deny: %v", err)
	}
}

func TestLoadACLsInlineOrFile(t *testing.T) {
	inline := `{"permissive": false}`
	a, err := auth.LoadACLs(inline)
	if err != nil || a.Permissive {
		t.Fatalf("inline: %+v %v", a, err)
	}
	if _, err := auth.LoadACLs("/nonexistent/acls.json"); err == nil {
		t.Fatal("missing file accepted")
	}
}

// TestAuthorizeFrameworkObjects: marathon's app_ids match as paths on a
// '/' boundary; chronos' job_names match exactly; a misspelt action or
// object field is a parse error.
func TestAuthorizeFrameworkObjects(t *testing.T) {
	acls, err := auth.ParseACLs([]byte(`{
  "permissive": false,
  "update_apps": [
    {"principals": {"values": ["alice"]}, "app_ids": {"values": ["/prod/"]}},
    {"principals": {"values": ["ops"]}, "app_ids": {"values": ["/"]}}
  ],
  "view_apps": [{"principals": {"type": "ANY"}, "app_ids": {"type": "ANY"}}],
  "update_jobs": [{"principals": {"values": ["alice"]}, "job_names": {"values": ["backup"]}}],
  "view_jobs": [{"principals": {"values": ["bob"]}, "job_names": {"type": "NONE"}}]
}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		act            auth.Action
		principal, obj string
		allowed        bool
	}{
		{auth.UpdateApps, "alice", "/prod", true},
		{auth.UpdateApps, "alice", "/prod/web", true},
		{auth.UpdateApps, "alice", "/production", false},
		{auth.UpdateApps, "alice", "/", false},
		{auth.UpdateApps, "alice", "", false}, // an ANY request: only ANY rules match
		{auth.UpdateApps, "ops", "/anything/at/all", true},
		{auth.UpdateApps, "ops", "/", true},
		{auth.ViewApps, "", "/prod", true},
		{auth.UpdateJobs, "alice", "backup", true},
		{auth.UpdateJobs, "alice", "backup2", false},
		{auth.UpdateJobs, "alice", "backu", false},
		{auth.ViewJobs, "bob", "backup", false},
	} {
		if d := acls.Authorize(tc.act, tc.principal, tc.obj); d.Allowed != tc.allowed {
			t.Errorf("Authorize(%s, %q, %q) = %+v, want allowed %v", tc.act, tc.principal, tc.obj, d, tc.allowed)
		}
	}
	err = acls.Check(auth.UpdateApps, "alice", "/prod/web", "/dev/web")
	if err == nil || !strings.Contains(err.Error(), `app_id "/dev/web"`) {
		t.Errorf("Check of a denied app: %v", err)
	}
	for _, bad := range []string{
		`{"update_app": []}`,
		`{"update_apps": [{"principals": {"type": "ANY"}, "job_names": {"type": "ANY"}}]}`,
		`{"view_jobs": [{"principals": {"type": "ANY"}, "app_ids": {"type": "ANY"}}]}`,
	} {
		if _, err := auth.ParseACLs([]byte(bad)); err == nil {
			t.Errorf("ParseACLs(%s) accepted a misspelt action or object", bad)
		}
	}
}
