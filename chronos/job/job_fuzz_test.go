package job

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse runs POST /scheduler/iso8601's decoder and validator on
// arbitrary bodies: no panic, no hang, and an accepted job re-encodes
// (MarshalJSON) to a body that is accepted again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","command":"true","schedule":"R//PT1M","async":true,"dataJob":false}`,
		`{"name":"a","command":"x","schedule":"R1//PT24H","scheduleTimeZone":"Europe/Berlin"}`,
		`{"name":"child","command":"x","parents":["a","a"]}`,
		`{"name":"../../etc","command":"x","schedule":"R//PT1M"}`,
		`{"name":"a","command":"x","schedule":"R//PT1M","cpus":1e308,"mem":-1,"disk":"NaN"}`,
		`{"name":"a","command":"x","schedule":"R//PT1M","epsilon":"PT-1S","retries":-5}`,
		`{"name":"a","command":"x","schedule":"R//PT1M","container":{"type":"DOCKER","image":"x"},"environmentVariables":[{"name":"A"}]}`,
		`{"name":"\xff","command":"x","schedule":"R//PT1M"}`, `{"name":null}`, `[]`, `{`, ``, strings.Repeat("[", 5000),
		`{"name":"a","command":"x","schedule":"* * * * *","scheduleTimeZone":"Mars/Olympus"}`,
	} {
		f.Add([]byte(s), 0)
	}
	now := time.Date(2024, 3, 10, 1, 30, 0, 0, time.UTC)
	d := Defaults{CPUs: 0.1, Mem: 128, Disk: 256, Epsilon: "PT60S"}
	f.Fuzz(func(t *testing.T, data []byte, kind int) {
		k := Kind(uint(kind) % 3)
		j, err := Parse(data, k, d, now)
		if err != nil {
			return
		}
		b, err := j.MarshalJSON()
		if err != nil {
			t.Fatalf("accepted job does not encode: %v", err)
		}
		if _, err := Parse(b, k, d, now); err != nil {
			t.Fatalf("accepted job re-encoded as %s is refused: %v", b, err)
		}
	})
}
