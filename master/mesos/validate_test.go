package mesos

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDecodeCallErrorsNameTheField(t *testing.T) {
	const fw = `"framework_id": {"value": "f1"}`
	for _, tc := range []struct {
		name, body string
		want       []string // each must appear in the error
	}{
		{"malformed", `{"type": "ACCEPT",`, []string{"malformed JSON"}},
		{"not an object", `[1,2]`, []string{"cannot use JSON array"}},
		{"no type", `{` + fw + `}`, []string{"type: required field is missing"}},
		{"unknown type", `{"type": "SUBSCRIBE_NOW"}`, []string{`type: unknown value "SUBSCRIBE_NOW"`}},
		{"type as number", `{"type": 1}`, []string{"type: cannot use JSON number as a string"}},
		{"subscribe without body", `{"type": "SUBSCRIBE"}`, []string{"subscribe: required for a SUBSCRIBE call"}},
		{"subscribe without framework_info", `{"type": "SUBSCRIBE", "subscribe": {}}`, []string{"subscribe.framework_info: required field is missing"}},
		{"subscribe id mismatch", `{"type": "SUBSCRIBE", ` + fw + `, "subscribe": {"framework_info": {"user": "u", "name": "n", "id": {"value": "f2"}}}}`,
			[]string{"framework_id: differs from subscribe.framework_info.id"}},
		{"multi-role with role", `{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n", "role": "a", "roles": ["b", "b"], "capabilities": [{"type": "MULTI_ROLE"}]}}}`,
			[]string{"subscribe.framework_info.role: must not be set", `subscribe.framework_info.roles[1]: duplicate role "b"`}},
		{"roles without multi-role", `{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n", "roles": ["b"]}}}`,
			[]string{"subscribe.framework_info.roles: needs the MULTI_ROLE capability"}},
		{"unknown capability", `{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n", "capabilities": [{"type": "TELEPORT"}]}}}`,
			[]string{`subscribe.framework_info.capabilities[0].type: unknown value "TELEPORT"`}},
		{"missing framework id", `{"type": "DECLINE", "decline": {}}`, []string{"framework_id: required for a DECLINE call"}},
		{"accept without body", `{"type": "ACCEPT", ` + fw + `}`, []string{"accept: required for a ACCEPT call"}},
		{"negative cpus in launch", `{"type": "ACCEPT", ` + fw + `, "accept": {"operations": [{"type": "LAUNCH", "launch": {"task_infos": [
			{"name": "t", "task_id": {"value": "t"}, "agent_id": {"value": "a"},
			 "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}, {"name": "cpus", "type": "SCALAR", "scalar": {"value": -0.5}}]}]}}]}}`,
			[]string{"accept.operations[0].launch.task_infos[0].resources[1].scalar.value: negative value -0.5"}},
		{"NaN mem", `{"type": "ACCEPT", ` + fw + `, "accept": {"operations": [{"type": "LAUNCH", "launch": {"task_infos": [
			{"name": "t", "task_id": {"value": "t"}, "agent_id": {"value": "a"},
			 "resources": [{"name": "mem", "type": "SCALAR", "scalar": {"value": "NaN"}}]}]}}]}}`,
			[]string{"accept.operations[0].launch.task_infos[0].resources[0].scalar.value: NaN is not a quantity"}},
		{"launch without body", `{"type": "ACCEPT", ` + fw + `, "accept": {"operations": [{"type": "LAUNCH"}]}}`,
			[]string{"accept.operations[0].launch: required for a LAUNCH operation"}},
		{"unknown operation", `{"type": "ACCEPT", ` + fw + `, "accept": {"operations": [{"type": "LAUNCH_ROCKET"}]}}`,
			[]string{`accept.operations[0].type: unknown value "LAUNCH_ROCKET"`}},
		{"task without ids", `{"type": "ACCEPT", ` + fw + `, "accept": {"operations": [{"type": "LAUNCH", "launch": {"task_infos": [{"name": "t"}]}}]}}`,
			[]string{"accept.operations[0].launch.task_infos[0].task_id: required field is missing",
				"accept.operations[0].launch.task_infos[0].agent_id: required field is missing"}},
		{"task id escapes the sandbox", `{"type": "ACCEPT", ` + fw + `, "accept": {"operations": [{"type": "LAUNCH", "launch": {"task_infos": [
			{"name": "t", "task_id": {"value": "../../etc"}, "agent_id": {"value": "a"}}]}}]}}`,
			[]string{`accept.operations[0].launch.task_infos[0].task_id: ID "../../etc" contains invalid characters`}},
		{"id as string", `{"type": "KILL", "framework_id": "f1", "kill": {"task_id": {"value": "t"}}}`,
			[]string{`framework_id: cannot use JSON string as an object {"value": "..."}`}},
		{"id value as number", `{"type": "KILL", ` + fw + `, "kill": {"task_id": {"value": 7}}}`,
			[]string{"kill.task_id.value: cannot use JSON number as a string"}},
		{"id without value", `{"type": "KILL", ` + fw + `, "kill": {"task_id": {}}}`,
			[]string{"kill.task_id: cannot use JSON object without \"value\""}},
		{"unknown task state in filters", `{"type": "DECLINE", ` + fw + `, "decline": {"filters": {"refuse_seconds": "soon"}}}`,
			[]string{"decline.filters.refuse_seconds: cannot use JSON string as a number"}},
		{"short uuid", `{"type": "ACKNOWLEDGE", ` + fw + `, "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "AAEC"}}`,
			[]string{"acknowledge.uuid: a UUID is 16 bytes, got 3"}},
		{"bad base64", `{"type": "ACKNOWLEDGE", ` + fw + `, "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "!!"}}`,
			[]string{"not valid standard base64"}},
		{"explicit reconcile needs task ids", `{"type": "RECONCILE", ` + fw + `, "reconcile": {"tasks": [{"agent_id": {"value": "a"}}]}}`,
			[]string{"reconcile.tasks[0].task_id: required field is missing"}},
		{"null offer id", `{"type": "DECLINE", ` + fw + `, "decline": {"offer_ids": [{"value": "o1"}, null]}}`,
			[]string{"decline.offer_ids[1]: ID must not be empty"}},
		{"reconcile null", `{"type": "RECONCILE", ` + fw + `, "reconcile": null}`, []string{"reconcile: required for a RECONCILE call"}},
		{"update framework id mismatch", `{"type": "UPDATE_FRAMEWORK", ` + fw + `, "update_framework": {"framework_info": {"user": "u", "name": "n"}}}`,
			[]string{"framework_id: differs from update_framework.framework_info.id"}},
		{"bad range", `{"type": "ACCEPT", ` + fw + `, "accept": {"operations": [{"type": "RESERVE", "reserve": {"resources": [
			{"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 10, "end": 1}]}, "reservations": [{"type": "DYNAMIC", "role": "r"}]}]}}]}}`,
			[]string{"accept.operations[0].reserve.resources[0].ranges.range[0]: begin 10 is greater than end 1"}},
		{"bad reserved role", `{"type": "ACCEPT", ` + fw + `, "accept": {"operations": [{"type": "RESERVE", "reserve": {"resources": [
			{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}, "reservations": [{"type": "DYNAMIC", "role": "a b"}]}]}}]}}`,
			[]string{"accept.operations[0].reserve.resources[0].reservations[0].role: role component \"a b\" cannot contain whitespace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DecodeCall([]byte(tc.body))
			if err == nil {
				t.Fatalf("DecodeCall accepted %s as %+v", tc.body, c)
			}
			var fe FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not FieldErrors: %v", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidCallsDecode(t *testing.T) {
	for _, body := range []string{
		`{"type": "TEARDOWN", "framework_id": {"value": "f"}}`,
		`{"type": "REVIVE", "framework_id": {"value": "f"}}`,
		`{"type": "REVIVE", "framework_id": {"value": "f"}, "revive": {"roles": ["a"]}}`,
		`{"type": "SUPPRESS", "framework_id": {"value": "f"}, "suppress": null}`,
		`{"type": "SHUTDOWN", "framework_id": {"value": "f"}, "shutdown": {"executor_id": {"value": "e"}, "agent_id": {"value": "a"}}}`,
		`{"type": "MESSAGE", "framework_id": {"value": "f"}, "message": {"executor_id": {"value": "e"}, "agent_id": {"value": "a"}, "data": "aGk="}}`,
		`{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "", "name": "x", "id": null}}, "framework_id": null}`,
	} {
		if _, err := DecodeCall([]byte(body)); err != nil {
			t.Errorf("DecodeCall(%s): %v", body, err)
		}
	}
}

func TestOperatorCallValidation(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"type": "GET_STATE"}`, ""},
		{`{"type": "SUBSCRIBE", "subscribe": {"offer_events": true}}`, ""},
		{`{"type": "GET_METRICS", "get_metrics": {"timeout": {"nanoseconds": 5000000000}}}`, ""},
		{`{"type": "TEARDOWN"}`, "teardown: required for a TEARDOWN call"},
		{`{"type": "TEARDOWN", "teardown": {}}`, "teardown.framework_id: required field is missing"},
		{`{"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": "a"}}}`, ""},
		{`{"type": "DEACTIVATE_AGENT"}`, "deactivate_agent: required for a DEACTIVATE_AGENT call"},
		{`{"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"role": "a", "weight": 0}]}}`, "update_weights.weight_infos[0].weight: weight must be positive"},
		{`{"type": "UPDATE_WEIGHTS", "update_weights": {"weight_infos": [{"weight": 2}]}}`, "update_weights.weight_infos[0].role: required field is missing"},
		{`{"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [{"role": "*", "limits": {"cpus": {"value": 1}}}]}}`, `update_quota.quota_configs[0].role: quota cannot be set for role "*"`},
		{`{"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [{"role": "a", "limits": {"cpus": {"value": -1}}}]}}`, `update_quota.quota_configs[0].limits["cpus"].value: negative value -1`},
		{`{"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [{"role": "a", "guarantees": {"cpus": {"value": 4}}, "limits": {"cpus": {"value": 2}}}]}}`, `guarantee 4 is above limit 2`},
		{`{"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": "a"}, "max_grace_period": "90.5s"}}`, ""},
		{`{"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": "a"}, "max_grace_period": "soon"}}`, "drain_agent.max_grace_period: cannot use JSON string"},
		{`{"type": "RESERVE_RESOURCES", "reserve_resources": {"agent_id": {"value": "a"}, "resources": [{"name": "cpus", "type": "SCALAR"}]}}`, "reserve_resources.resources[0].scalar: SCALAR resource has no scalar"},
		{`{"type": "GET_EVERYTHING"}`, `type: unknown value "GET_EVERYTHING"`},
	} {
		c, err := DecodeOperatorCall([]byte(tc.body))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.body, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.body, err, tc.want)
		case tc.want == "" && c.Type == OperatorSubscribe && !c.Subscribe.OfferEvents:
			t.Errorf("%s: offer_events lost", tc.body)
		}
	}
}

func TestFieldErrorsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"type": "ACCEPT", "framework_id": {"value": "f"}, "accept": {"offer_ids": [`)
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"value": "../%d"}`, i)
	}
	b.WriteString(`]}}`)
	_, err := DecodeCall([]byte(b.String()))
	var fe FieldErrors
	if !errors.As(err, &fe) || len(fe) != maxFieldErrors {
		t.Fatalf("got %d errors, want %d: %v", len(fe), maxFieldErrors, err)
	}
	if fe[0].Field != "accept.offer_ids[0]" {
		t.Fatalf("first error at %q", fe[0].Field)
	}
}

func TestValidateIDRules(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "a\nb", strings.Repeat("x", 256)} {
		if ValidateID(bad) == nil {
			t.Errorf("ValidateID(%q) accepted", bad)
		}
	}
	for _, good := range []string{"web.1", "7b0f-S3", strings.Repeat("x", 255), "name with spaces", "ünïcode"} {
		if err := ValidateID(good); err != nil {
			t.Errorf("ValidateID(%q): %v", good, err)
		}
	}
}

func TestMessageDataIsNeverNull(t *testing.T) {
	data, err := json.Marshal(&Event{Type: EventMessage, Message: &Message{AgentID: "a", ExecutorID: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"MESSAGE","message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":""}}`; string(data) != want {
		t.Fatalf("got %s\nwant %s", data, want)
	}
}
