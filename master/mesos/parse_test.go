package mesos

import (
	"strings"
	"testing"
)

func TestParseResources(t *testing.T) {
	for _, tc := range []struct {
		in, role, want string
	}{
		{"cpus:4;mem:2048;ports:[31000-32000];cpus(ads):2;disks:{a,b}", "", "cpus:4;mem:2048;ports:[31000-32000];cpus(ads):2;disks:{a,b}"},
		{" cpus : 4 ; mem:2048 ;", "", "cpus:4;mem:2048"},
		{"cpus:1;cpus:2.5", "", "cpus:3.5"},
		{"cpus(*):1;cpus:1", "", "cpus:2"},
		{"cpus:1;mem(eng/backend):10", "ops", "cpus(ops):1;mem(eng/backend):10"},
		{"ports:[1-2, 3-4, 10-20]", "", "ports:[1-4,10-20]"},
		{"ports:[31000-32000,30000-30999]", "", "ports:[30000-32000]"},
		{"gpus:0;cpus:0.0001", "", ""}, // empty resources vanish
		{"cpus:0.1234", "", "cpus:0.123"},
		{"disks:{a, b,c}", "", "disks:{a,b,c}"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":4}},{"name":"mem","type":"SCALAR","scalar":{"value":2048},"role":"ads"}]`, "", "cpus:4;mem(ads):2048"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":4}}]`, "eng", "cpus(eng):4"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":4},"reservations":[{"type":"STATIC","role":"a"}]}]`, "eng", "cpus(a):4"},
		{"", "", ""},
	} {
		rs, err := ParseResources(tc.in, tc.role)
		if err != nil {
			t.Errorf("ParseResources(%q, %q): %v", tc.in, tc.role, err)
			continue
		}
		if got := rs.String(); got != tc.want {
			t.Errorf("ParseResources(%q, %q) = %q, want %q", tc.in, tc.role, got, tc.want)
		}
	}
}

func TestParseResourcesErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"cpus", "want name:value"},
		{"cpus:1:2", "exactly one ':'"},
		{"cpus(ads:1", "mismatched"},
		{"cpus)ads(:1", "mismatched parentheses"},
		{"(ads):1", "empty name"},
		{"cpus:-1", "negative value"},
		{"cpus:nan", `"nan" is not a number`},
		{"cpus:inf", `"inf" is not a number`},
		{"cpus:1e400", "not a finite number"},
		{"cpus:abc", `"abc" is not a number`},
		{"ports:[5-1]", "begin is greater than end"},
		{"ports:[1-x]", "non-negative integers"},
		{"ports:[1-2", "mismatched brackets"},
		{"ports:[]", "are empty"},
		{"ports:1[2-3]", "unexpected '['"},
		{"cpus(a//b):1", "adjacent slashes"},
		{"cpus(-x):1", "dash"},
		{"cpus:1;cpus:[1-2]", "both SCALAR and RANGES"},
		{"cp us:1", "contains"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":-4}}]`, "[0].scalar.value: negative value -4"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":4},"revocable":{}}]`, "revocable"},
		{`[{"name":"cpus","type":"SCALAR","scalar":{"value":4},"role":"a","reservation":{"principal":"p"}}]`, "dynamic reservations"},
		{`[{"name":"cpus","type":"SCALER","scalar":{"value":4}}]`, `[0].type: unknown value "SCALER"`},
	} {
		_, err := ParseResources(tc.in, "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseResources(%q) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestParseAttributes(t *testing.T) {
	as, err := ParseAttributes("rack:r1;zone:a;level:2;ports:[1-3];url:http://x:1/y;weight:0.5")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		typ  ValueType
		str  string
	}{
		{"rack", ValueText, "rack:r1"}, {"zone", ValueText, "zone:a"}, {"level", ValueScalar, "level:2"},
		{"ports", ValueRanges, "ports:[1-3]"}, {"url", ValueText, "url:http://x:1/y"}, {"weight", ValueScalar, "weight:0.5"},
	}
	if len(as) != len(want) {
		t.Fatalf("got %d attributes: %v", len(as), as)
	}
	for i, w := range want {
		if as[i].Name != w.name || as[i].Type != w.typ || as[i].String() != w.str {
			t.Errorf("attribute %d = %+v (%s), want %s %s", i, as[i], as[i], w.typ, w.str)
		}
		if err := Validate(as[i]); err != nil {
			t.Errorf("attribute %d invalid: %v", i, err)
		}
	}
	back, err := ParseAttributes(as.String())
	if err != nil || !back.Equal(as) {
		t.Fatalf("attributes do not round-trip: %v, %v", back, err)
	}
	if a, ok := as.Get("level"); !ok || a.Scalar.Cmp(ScalarOf(2)) != 0 {
		t.Fatalf("Get(level) = %v %v", a, ok)
	}
	for _, bad := range []string{"rack", "rack:", ":r1", "disks:{a,b}", "x:[1-"} {
		if _, err := ParseAttributes(bad); err == nil {
			t.Errorf("ParseAttributes(%q) should fail", bad)
		}
	}
}
