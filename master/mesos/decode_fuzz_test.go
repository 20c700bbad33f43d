package mesos

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz targets below guard the decoders every API body goes through.
// Their seed corpora run as ordinary tests; `go test -fuzz=FuzzDecodeCall
// ./master/mesos` runs one for longer. Invariants: no panic, no hang, and
// whatever a decoder accepts re-encodes to JSON it accepts again.

// hostileJSON are bodies shaped like the attacks the APIs see.
var hostileJSON = []string{
	``, `{`, `}`, `null`, `[]`, `"x"`, `1`, `{"type":null}`, `{"type":1}`, `{"type":"SUBSCRIBE"`,
	`{"type":"NOPE"}`, `{"type":"SUBSCRIBE","subscribe":[]}`, `{"type":"\xff\xfe"}`,
	strings.Repeat("[", 10000), strings.Repeat(`{"a":`, 5000),
	`{"type":"ACCEPT","accept":{"offer_ids":[{"value":"o"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1e308}}]}]}}]}}`,
	`{"type":"ACCEPT","accept":{"offer_ids":[{"value":"o"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},"resources":[{"name":"mem","type":"SCALAR","scalar":{"value":-1}}]}]}}]}}`,
	`{"type":"ACCEPT","accept":{"offer_ids":[{"value":"o"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},"resources":[{"name":"mem","type":"SCALAR","scalar":{"value":"NaN"}}]}]}}]}}`,
	`{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":1e999}]}}`,
	`{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"../x","limits":{"cpus":{"value":-5}}}]}}`,
	`{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"!!"}}`,
}

func seedDir(f *testing.F, dir string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func seedHostile(f *testing.F) {
	for _, s := range hostileJSON {
		f.Add([]byte(s))
	}
}

// reDecode checks that an accepted message re-encodes to JSON the same
// decoder accepts.
func reDecode[T any](t *testing.T, v *T, decode func([]byte) (*T, error)) {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("accepted message does not encode: %v", err)
	}
	if _, err := decode(b); err != nil {
		t.Fatalf("accepted message re-encoded as %s is refused: %v", b, err)
	}
}

func FuzzDecodeCall(f *testing.F) {
	seedDir(f, "mesos")
	seedDir(f, "golden")
	seedHostile(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := DecodeCall(data); err == nil {
			reDecode(t, c, DecodeCall)
		}
	})
}

func FuzzDecodeAgentCall(f *testing.F) {
	seedHostile(f)
	f.Add([]byte(`{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"h","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]}}}`))
	f.Add([]byte(`{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"AAAAAAAAAAAAAAAAAAAAAA=="}}}`))
	f.Add([]byte(`{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_BOGUS"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := DecodeAgentCall(data); err == nil {
			reDecode(t, c, DecodeAgentCall)
		}
	})
}

func FuzzDecodeOperatorCall(f *testing.F) {
	seedDir(f, "mesos")
	seedHostile(f)
	for _, s := range []string{`{"type":"GET_STATE"}`, `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"eng","weight":2.5}]}}`,
		`{"type":"DRAIN_AGENT","drain_agent":{"agent_id":{"value":"a"},"max_grace_period":"10s"}}`,
		`{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"a/../../b"}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := DecodeOperatorCall(data); err == nil {
			reDecode(t, c, DecodeOperatorCall)
		}
	})
}

func FuzzDecodeAgentOperatorCall(f *testing.F) {
	seedHostile(f)
	f.Add([]byte(`{"type":"READ_FILE","read_file":{"path":"/x/../../etc/passwd","offset":18446744073709551615,"length":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c AgentOperatorCall
		_ = DecodeJSON(data, &c)
	})
}

// FuzzParseResources: no panic, and an accepted list prints as text that
// parses back to the same list.
func FuzzParseResources(f *testing.F) {
	for _, s := range []string{"cpus:4;mem:4096;ports:[31000-32000]", "cpus(eng):1;cpus:2", "disks:{a,b}", "cpus:1e308",
		"cpus:-1", "cpus:NaN", "cpus:Infinity", "mem:0x10", "ports:[5-1]", "ports:[1-2,2-3]", "cpus(../x):1", ";;", "cpus::1",
		`[{"name":"cpus","type":"SCALAR","scalar":{"value":2}}]`, `[{"name":"cpus","type":"RANGES"}]`, "gpus:0.0001", "cpus:1;cpus:{a}"} {
		f.Add(s, "")
		f.Add(s, "eng")
	}
	f.Fuzz(func(t *testing.T, text, role string) {
		rs, err := ParseResources(text, role)
		if err != nil {
			return
		}
		for _, r := range rs {
			if strings.ContainsAny(r.ReservationRole(), "();:") {
				return // the flag syntax cannot spell this role
			}
		}
		again, err := ParseResources(rs.String(), role)
		if err != nil {
			t.Fatalf("%q parsed as %q, which is refused: %v", text, rs.String(), err)
		}
		if again.String() != rs.String() {
			t.Fatalf("%q: %q re-parses as %q", text, rs.String(), again.String())
		}
	})
}

// FuzzParseAttributes: no panic, and accepted attributes round-trip
// through their text form.
func FuzzParseAttributes(f *testing.F) {
	for _, s := range []string{"rack:r1;zone:a;level:2", "a:[1-2]", "a:{x}", "a:", ":b", "url:http://x:80", "n:1e400", "n:-0", "a:1;a:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		as, err := ParseAttributes(text)
		if err != nil {
			return
		}
		again, err := ParseAttributes(as.String())
		if err != nil {
			t.Fatalf("%q parsed as %q, which is refused: %v", text, as.String(), err)
		}
		if again.String() != as.String() {
			t.Fatalf("%q: %q re-parses as %q", text, as.String(), again.String())
		}
	})
}

// TestCallDecodersSurviveMutations is a short, seeded mutation run over
// the fuzz seeds, so every `go test` throws broken calls at the decoders
// even when nobody runs -fuzz: each must return (no panic) and whatever
// it accepts must re-encode to a call it accepts again.
func TestCallDecodersSurviveMutations(t *testing.T) {
	seeds := append([]string(nil), hostileJSON...)
	for _, dir := range []string{"mesos", "golden"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*_call.json"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				seeds = append(seeds, string(b))
			}
		}
	}
	splices := [][]byte{[]byte(`1e308`), []byte(`"NaN"`), []byte(`-1`), []byte(`null`), []byte(`[`), []byte(`{"value":"`), []byte("\xff"), []byte(`"TASK_BOGUS"`)}
	rng := rand.New(rand.NewPCG(9, 9))
	n := 30000
	if testing.Short() {
		n = 1000
	}
	for i := 0; i < n; i++ {
		b := []byte(seeds[rng.IntN(len(seeds))])
		for k := rng.IntN(3) + 1; k > 0 && len(b) > 0; k-- {
			j := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b[j] = byte(rng.IntN(256))
			case 1:
				b = b[:j]
			default:
				b = append(b[:j:j], append(splices[rng.IntN(len(splices))], b[j:]...)...)
			}
		}
		if c, err := DecodeCall(b); err == nil {
			reDecode(t, c, DecodeCall)
		}
		if c, err := DecodeAgentCall(b); err == nil {
			reDecode(t, c, DecodeAgentCall)
		}
		if c, err := DecodeOperatorCall(b); err == nil {
			reDecode(t, c, DecodeOperatorCall)
		}
	}
}
