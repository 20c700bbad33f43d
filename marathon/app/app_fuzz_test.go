package app

import (
	"encoding/json"
	"strings"
	"testing"
)

var fuzzApps = []string{
	`{"id":"web","cmd":"sleep 1"}`, `{"id":"a","cmd":"x","ports":[0,8080]}`, `{"id":"a","cmd":"x","ports":[8080.0],"instances":2.0}`,
	`{"id":"/a/../../b","cmd":"x"}`, `{"id":"a","cmd":"x","cpus":1e308,"mem":-1}`, `{"id":"a","cmd":"x","cpus":"NaN"}`,
	`{"id":"a","cmd":"x","instances":-1}`, `{"id":"a","cmd":"x","instances":1e20}`, `{"id":"a","cmd":"x","constraints":[["host","BOGUS"]]}`,
	`{"id":"a","cmd":"x","constraints":[["hostname","LIKE","["]]}`, `{"id":"a","cmd":"x","healthChecks":[{"protocol":"NOPE"}]}`,
	`{"id":"a","container":{"type":"DOCKER","docker":{"image":"x"},"portMappings":[{"containerPort":-1}]}}`,
	`{"id":"a","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":2}}`, `{"id":"a","cmd":"x","env":{"A":{"secret":"s"}}}`,
	`{"id":"a","cmd":"x","dependencies":["../b","/c"]}`, `{"id":"\u0000","cmd":"x"}`, `{"id":"a\xff","cmd":"x"}`,
	`{"id":"a","cmd":"x","labels":{"a":1}}`, `{"id":null}`, `{}`, `[]`, `{`, ``, strings.Repeat(`{"id":`, 3000),
}

// FuzzParseApp runs POST /v2/apps' decoder and validator on arbitrary
// bodies: no panic, no hang, and an accepted app re-encodes to a body that
// is accepted again.
func FuzzParseApp(f *testing.F) {
	for _, s := range fuzzApps {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseApp(data, Root, Options{})
		if err != nil {
			return
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("accepted app does not encode: %v", err)
		}
		if _, err := ParseApp(b, Root, Options{}); err != nil {
			t.Fatalf("accepted app re-encoded as %s is refused: %v", b, err)
		}
	})
}

// FuzzDecodeGroup runs PUT /v2/groups' decoder: no panic, no hang.
func FuzzDecodeGroup(f *testing.F) {
	f.Add([]byte(`{"id":"/prod","apps":[{"id":"web","cmd":"x"}],"groups":[{"id":"db","apps":[{"id":"pg","cmd":"y","dependencies":["../web"]}]}]}`))
	f.Add([]byte(`{"id":"/","groups":[{"id":"/","groups":[{"id":"/"}]}]}`))
	f.Add([]byte(`{"id":"a","apps":[{"id":"x","cmd":"1"},{"id":"x","cmd":"2"}]}`))
	f.Add([]byte(`{"id":"a","apps":null,"groups":null,"dependencies":[null]}`))
	f.Add([]byte(strings.Repeat(`{"groups":[`, 2000)))
	for _, s := range fuzzApps {
		f.Add([]byte(`{"id":"/g","apps":[` + s + `]}`))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeGroup(data, Root)
	})
}
