package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// compatDir holds real Marathon definitions shared by the project (not
// copied into the repository); STRATA_COMPAT_DIR overrides it.
const compatDir = "/work/shared/compat"

func compatMarathon(t *testing.T) string {
	t.Helper()
	dir := compatDir
	if d := os.Getenv("STRATA_COMPAT_DIR"); d != "" {
		dir = d
	}
	dir = filepath.Join(dir, "marathon")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("compat definitions not on this machine: %s missing (set STRATA_COMPAT_DIR)", dir)
	}
	return dir
}

func mustParse(t *testing.T, body string) *App {
	t.Helper()
	a, err := ParseApp([]byte(body), Root, Options{})
	if err != nil {
		t.Fatalf("ParseApp(%s): %v", body, err)
	}
	return a
}

func TestDefaults(t *testing.T) {
	a := mustParse(t, `{"id":"web","cmd":"sleep 1"}`)
	want := map[string]any{
		"id": "/web", "instances": 1.0, "cpus": 1.0, "mem": 128.0, "disk": 0.0, "gpus": 0.0,
		"backoffSeconds": 1.0, "backoffFactor": 1.15, "maxLaunchDelaySeconds": 300.0, "executor": "",
		"requirePorts": false, "killSelection": "YOUNGEST_FIRST",
	}
	var got map[string]any
	b, _ := json.Marshal(a)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for _, k := range []string{"constraints", "fetch", "healthChecks", "readinessChecks", "dependencies", "networks"} {
		if _, ok := got[k].([]any); !ok {
			t.Errorf("%s = %v, want an array", k, got[k])
		}
	}
	for _, k := range []string{"env", "labels", "secrets"} {
		if _, ok := got[k].(map[string]any); !ok {
			t.Errorf("%s = %v, want an object", k, got[k])
		}
	}
	if s := string(b); !strings.Contains(s, `"upgradeStrategy":{"minimumHealthCapacity":1,"maximumOverCapacity":1}`) ||
		!strings.Contains(s, `"unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}`) ||
		!strings.Contains(s, `"portDefinitions":[{"port":0,"protocol":"tcp","name":"default"}]`) ||
		!strings.Contains(s, `"networks":[{"mode":"host"}]`) {
		t.Errorf("defaults missing from %s", s)
	}
	if strings.Contains(string(b), "null") {
		t.Errorf("null in %s", b)
	}
}

func TestPortsAndPortDefinitions(t *testing.T) {
	tests := []struct {
		name, body string
		want       []PortDefinition
	}{
		{"neither", `{"id":"a","cmd":"x"}`, DefaultPortDefinitions()},
		{"ports", `{"id":"a","cmd":"x","ports":[0,8080]}`, []PortDefinition{{Port: 0, Protocol: "tcp"}, {Port: 8080, Protocol: "tcp"}}},
		{"ports empty", `{"id":"a","cmd":"x","ports":[]}`, []PortDefinition{}},
		{"integral floats", `{"id":"a","cmd":"x","ports":[8080.0],"instances":2.0}`, []PortDefinition{{Port: 8080, Protocol: "tcp"}}},
		{"ports null", `{"id":"a","cmd":"x","ports":null}`, DefaultPortDefinitions()},
		{"portDefinitions", `{"id":"a","cmd":"x","portDefinitions":[{"port":9000,"name":"http","protocol":"udp"}]}`,
			[]PortDefinition{{Port: 9000, Protocol: "udp", Name: "http"}}},
		{"both equal", `{"id":"a","cmd":"x","ports":[9000],"portDefinitions":[{"port":9000}]}`, []PortDefinition{{Port: 9000, Protocol: "tcp"}}},
		{"bridge", `{"id":"a","container":{"type":"DOCKER","docker":{"image":"nginx"},"portMappings":[{"containerPort":80,"hostPort":0}]},"networks":[{"mode":"container/bridge"}]}`, []PortDefinition{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustParse(t, tt.body)
			if !reflect.DeepEqual(a.PortDefinitions, tt.want) {
				t.Errorf("portDefinitions = %+v, want %+v", a.PortDefinitions, tt.want)
			}
			if a.Ports != nil {
				t.Errorf("ports kept: %v", a.Ports)
			}
		})
	}
}

func TestNormalizeDetails(t *testing.T) {
	a := mustParse(t, `{"id":"a","cmd":"x","uris":["http://h/f.tgz","http://h/run.sh"],
		"healthChecks":[{"protocol":"TCP"},{"protocol":"COMMAND","command":{"value":"true"}},{}],
		"dependencies":["../b", "/c"],"unreachableStrategy":"disabled"}`)
	if len(a.Fetch) != 2 || !a.Fetch[0].Extract || a.Fetch[1].Extract || a.URIs != nil {
		t.Errorf("uris → fetch: %+v", a.Fetch)
	}
	hc := a.HealthChecks
	if hc[0].PortIndex == nil || *hc[0].PortIndex != 0 || hc[0].Path != "" {
		t.Errorf("TCP check: %+v", hc[0])
	}
	if hc[1].PortIndex != nil || hc[1].Path != "" {
		t.Errorf("COMMAND check: %+v", hc[1])
	}
	if hc[2].Protocol != ProtocolHTTP || hc[2].Path != "/" || hc[2].GracePeriodSeconds != 300 || hc[2].IntervalSeconds != 60 ||
		hc[2].TimeoutSeconds != 20 || hc[2].MaxConsecutiveFailures != 3 || *hc[2].PortIndex != 0 {
		t.Errorf("default check: %+v", hc[2])
	}
	if !reflect.DeepEqual(a.Dependencies, []PathID{"/b", "/c"}) {
		t.Errorf("dependencies = %v", a.Dependencies)
	}
	if !a.UnreachableStrategy.Disabled {
		t.Error("unreachableStrategy disabled lost")
	}
	if c := mustParse(t, `{"id":"a","cmd":"x","constraints":[["hostname","unique"]]}`).Constraints[0]; c[1] != "UNIQUE" {
		t.Errorf("operator not upper-cased: %v", c)
	}
	b, _ := json.Marshal(a)
	if !strings.Contains(string(b), `"unreachableStrategy":"disabled"`) {
		t.Errorf("disabled form not printed: %s", b)
	}
}

func TestEnvAndSecrets(t *testing.T) {
	body := `{"id":"s","cmd":"x","env":{"A":"1","PW":{"secret":"pw"}},"secrets":{"pw":{"source":"db/pw"}}}`
	if _, err := ParseApp([]byte(body), Root, Options{}); err == nil {
		t.Fatal("secret reference accepted without the secrets feature")
	}
	a, err := ParseApp([]byte(body), Root, Options{Features: []string{FeatureSecrets}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Env["A"].Value != "1" || a.Env["PW"].Secret != "pw" {
		t.Errorf("env = %+v", a.Env)
	}
	b, _ := json.Marshal(a.Env)
	if string(b) != `{"A":"1","PW":{"secret":"pw"}}` {
		t.Errorf("env JSON = %s", b)
	}
	bad := `{"id":"s","cmd":"x","env":{"PW":{"secret":"nope"}},"secrets":{"pw":{"source":"db/pw"}}}`
	_, err = ParseApp([]byte(bad), Root, Options{Features: []string{FeatureSecrets}})
	if e, ok := err.(*Error); !ok || !e.Has("/env/PW", "references an undefined secret named 'nope'") {
		t.Errorf("undefined secret: %v", err)
	}
}

func TestContainerRoundTrip(t *testing.T) {
	body := `{"id":"/nginx","instances":1,"cpus":0.5,"mem":64,
	  "container":{"type":"DOCKER","docker":{"image":"nginx:1.25","network":"BRIDGE","forcePullImage":true,
	    "portMappings":[{"containerPort":80,"hostPort":0,"servicePort":10000,"protocol":"tcp","name":"http"}],
	    "parameters":[{"key":"label","value":"a=b"}]},
	   "volumes":[{"containerPath":"/data","hostPath":"/srv/data","mode":"RW"}]}}`
	a := mustParse(t, body)
	c := a.Container
	if c.Type != ContainerDocker || c.Docker.Image != "nginx:1.25" || len(c.PortMappings) != 1 || c.Docker.PortMappings != nil ||
		c.Docker.Network != "" || len(c.Volumes) != 1 {
		t.Fatalf("container = %+v docker %+v", c, c.Docker)
	}
	if len(a.Networks) != 1 || a.Networks[0].Mode != NetworkBridge || len(a.PortDefinitions) != 0 {
		t.Errorf("networks %+v portDefinitions %+v", a.Networks, a.PortDefinitions)
	}
	if b, _ := json.Marshal(a); strings.Contains(string(b), "portDefinitions") || !strings.Contains(string(b), `"portMappings"`) {
		t.Errorf("bridge app JSON: %s", b)
	}
	roundTrip(t, a)
}

func TestPortMappingNormalization(t *testing.T) {
	host := mustParse(t, `{"id":"a","container":{"type":"DOCKER","docker":{"image":"nginx"},"portMappings":[{"containerPort":80}]}}`)
	if host.Container.PortMappings != nil || len(host.PortDefinitions) != 1 {
		t.Errorf("host networking: mappings %+v definitions %+v", host.Container.PortMappings, host.PortDefinitions)
	}
	cn := mustParse(t, `{"id":"a","cmd":"x","networks":[{"name":"dcos"}]}`)
	if cn.Container == nil || cn.Container.Type != ContainerMesos || !reflect.DeepEqual(cn.Container.PortMappings, DefaultPortMappings()) ||
		cn.Networks[0].Mode != NetworkContainer {
		t.Errorf("container network without container: %+v %+v", cn.Container, cn.Networks)
	}
	br := mustParse(t, `{"id":"a","networks":[{"mode":"container/bridge"}],"container":{"type":"DOCKER","docker":{"image":"nginx"},"portMappings":[{"containerPort":80}]}}`)
	if hp := br.Container.PortMappings[0].HostPort; hp == nil || *hp != 0 {
		t.Errorf("bridge mapping host port %v", hp)
	}
	for _, a := range []*App{host, cn, br} {
		roundTrip(t, a)
	}
}

// roundTrip checks decode → defaults → encode → decode gives the same app.
func roundTrip(t *testing.T, a *App) {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseApp(b, Root, Options{Features: []string{FeatureSecrets}})
	if err != nil {
		t.Fatalf("re-parse %s: %v", b, err)
	}
	b2, _ := json.Marshal(again)
	if string(b) != string(b2) {
		t.Errorf("round trip differs:\n%s\n%s", b, b2)
	}
	x, y := a.Clone(), again.Clone()
	x.rawID, y.rawID, x.rawDeps, y.rawDeps, x.decoded, y.decoded = "", "", nil, nil, false, false
	if !reflect.DeepEqual(x, y) {
		t.Errorf("round trip struct differs:\n%+v\n%+v", x, y)
	}
}

func TestCompatApps(t *testing.T) {
	dir := compatMarathon(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Skipf("no definitions in %s", dir)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src, _ := os.ReadFile(strings.TrimSuffix(f, ".json") + ".source")
			reject := strings.Contains(string(src), "expect: reject")
			isGroup := strings.Contains(string(src), "kind: group")
			if isGroup {
				g, err := DecodeGroup(data, Root)
				if err == nil {
					err = errOrNil(g.Validate(Options{}))
				}
				if (err != nil) != reject {
					t.Fatalf("group: err %v, expect reject %v", err, reject)
				}
				return
			}
			a, err := ParseApp(data, Root, Options{})
			if reject {
				if err == nil {
					t.Fatal("accepted, Marathon rejects it")
				}
				e, ok := err.(*Error)
				if !ok || e.Status != 422 {
					t.Fatalf("err = %#v, want a 422", err)
				}
				switch name {
				case "min-health-capacity-invalid":
					if !e.Has("/upgradeStrategy/minimumHealthCapacity", "error.max") {
						t.Errorf("details = %+v", e.Details)
					}
				case "app-with-secrets":
					if !e.Has("/env/DATABASE_PW", "use of secret-references in the environment requires the secrets feature to be enabled") {
						t.Errorf("details = %+v", e.Details)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			roundTrip(t, a)
		})
	}
}

func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

func TestValidation(t *testing.T) {
	const pmsg = "Health check port indices must address an element of the ports array or container port mappings."
	tests := []struct {
		name, body string
		status     int
		message    string
		path, err  string
	}{
		{"cmd and args", `{"id":"a","cmd":"x","args":["y"]}`, 422, MessageNotValid, "/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."},
		{"nothing to run", `{"id":"a"}`, 422, MessageNotValid, "/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'."},
		{"negative instances", `{"id":"a","cmd":"x","instances":-1}`, 422, MessageInvalidJSON, "/instances", "error.min"},
		{"zero cpus", `{"id":"a","cmd":"x","cpus":0}`, 422, MessageInvalidJSON, "/cpus", "error.min"},
		{"negative mem", `{"id":"a","cmd":"x","mem":-1}`, 422, MessageInvalidJSON, "/mem", "error.min"},
		{"negative disk", `{"id":"a","cmd":"x","disk":-3}`, 422, MessageInvalidJSON, "/disk", "error.min"},
		{"backoff factor", `{"id":"a","cmd":"x","backoffFactor":0.5}`, 422, MessageInvalidJSON, "/backoffFactor", "error.min"},
		{"bad id", `{"id":"/Foo","cmd":"x"}`, 422, MessageInvalidJSON, "/id", "error.pattern"},
		{"missing id", `{"cmd":"x"}`, 422, MessageInvalidJSON, "/id", "error.path.missing"},
		{"reserved id", `{"id":"/a/versions","cmd":"x"}`, 422, MessageNotValid, "/id", "must not end with any of the following reserved keywords: restart, tasks, versions, ., .."},
		{"root id", `{"id":"/","cmd":"x"}`, 422, MessageNotValid, "/id", "Path must contain at least one path element"},
		{"min health > 1", `{"id":"a","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":1.5}}`, 422, MessageInvalidJSON, "/upgradeStrategy/minimumHealthCapacity", "error.max"},
		{"min health < 0", `{"id":"a","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":-0.5}}`, 422, MessageInvalidJSON, "/upgradeStrategy/minimumHealthCapacity", "error.min"},
		{"over capacity > 1", `{"id":"a","cmd":"x","upgradeStrategy":{"maximumOverCapacity":2}}`, 422, MessageInvalidJSON, "/upgradeStrategy/maximumOverCapacity", "error.max"},
		{"bad operator", `{"id":"a","cmd":"x","constraints":[["hostname","SOMETIMES"]]}`, 422, MessageNotValid, "/constraints(0)", msgConstraintOperator},
		{"short constraint", `{"id":"a","cmd":"x","constraints":[["hostname"]]}`, 422, MessageInvalidJSON, "/constraints(0)", "error.minLength"},
		{"long constraint", `{"id":"a","cmd":"x","constraints":[["a","b","c","d"]]}`, 422, MessageInvalidJSON, "/constraints(0)", "error.maxLength"},
		{"unique with value", `{"id":"a","cmd":"x","constraints":[["hostname","UNIQUE","x"]]}`, 422, MessageNotValid, "/constraints(0)", msgUniqueNoValue},
		{"group by text", `{"id":"a","cmd":"x","constraints":[["rack","UNIQUE"],["rack","GROUP_BY","many"]]}`, 422, MessageNotValid, "/constraints(1)", msgGroupByInt},
		{"max per no value", `{"id":"a","cmd":"x","constraints":[["rack","MAX_PER"]]}`, 422, MessageNotValid, "/constraints(0)", msgMaxPerInt},
		{"like no value", `{"id":"a","cmd":"x","constraints":[["rack","LIKE"]]}`, 422, MessageNotValid, "/constraints(0)", msgLikeRegexp},
		{"like bad regexp", `{"id":"a","cmd":"x","constraints":[["rack","LIKE","[a-"]]}`, 422, MessageNotValid, "/constraints(0)", msgInvalidRegexp},
		{"is with set", `{"id":"a","cmd":"x","constraints":[["rack","IS","{a,b}"]]}`, 422, MessageNotValid, "/constraints(0)", msgIsOnlySupportsText},
		{"empty field", `{"id":"a","cmd":"x","constraints":[["","UNIQUE"]]}`, 422, MessageNotValid, "/constraints(0)", msgConstraintIllegal},
		{"duplicate port names", `{"id":"a","cmd":"x","portDefinitions":[{"port":0,"name":"http"},{"port":0,"name":"http"}]}`, 422, MessageNotValid, "/portDefinitions", "Port names must be unique."},
		{"duplicate ports", `{"id":"a","cmd":"x","portDefinitions":[{"port":80},{"port":80}]}`, 422, MessageNotValid, "/portDefinitions", "Ports must be unique."},
		{"duplicate legacy ports", `{"id":"a","cmd":"x","ports":[80,80]}`, 422, MessageNotValid, "/", "ports must be unique"},
		{"ports and definitions", `{"id":"a","cmd":"x","ports":[80],"portDefinitions":[{"port":81}]}`, 422, MessageNotValid, "/", "cannot specify both ports and port definitions"},
		{"uris and fetch", `{"id":"a","cmd":"x","uris":["http://a"],"fetch":[{"uri":"http://b"}]}`, 422, MessageNotValid, "/uris", "may not be set in conjunction with fetch"},
		{"port index out of range", `{"id":"a","cmd":"x","ports":[0],"healthChecks":[{"protocol":"HTTP","portIndex":1}]}`, 422, MessageNotValid, "/healthChecks(0)", pmsg},
		{"port index without ports", `{"id":"a","cmd":"x","ports":[],"healthChecks":[{"protocol":"TCP"}]}`, 422, MessageNotValid, "/healthChecks(0)", pmsg},
		{"two mesos checks", `{"id":"a","cmd":"x","healthChecks":[{"protocol":"MESOS_HTTP"},{"protocol":"MESOS_TCP"}]}`, 422, MessageNotValid, "/", "AppDefinition can contain at most one Mesos health check"},
		{"bad health protocol", `{"id":"a","cmd":"x","healthChecks":[{"protocol":"GOPHER"}]}`, 422, MessageInvalidJSON, "/healthChecks(0)/protocol", "error.unknown.enum.literal"},
		{"unreachable order", `{"id":"a","cmd":"x","unreachableStrategy":{"inactiveAfterSeconds":600,"expungeAfterSeconds":60}}`, 422, MessageNotValid, "/unreachableStrategy/inactiveAfterSeconds", "inactiveAfterSeconds (600) must be less or equal to expungeAfterSeconds, which is 60"},
		{"kill selection", `{"id":"a","cmd":"x","killSelection":"RANDOM"}`, 422, MessageInvalidJSON, "/killSelection", "error.unknown.enum.literal"},
		{"docker without image", `{"id":"a","container":{"type":"DOCKER","docker":{"image":""}}}`, 422, MessageNotValid, "/container/docker/image", "must not be empty"},
		{"readiness port name", `{"id":"a","cmd":"x","readinessChecks":[{"portName":"http"}]}`, 422, MessageNotValid, "/readinessChecks(0)/portName", "No port definition reference for portName http"},
		{"single instance", `{"id":"a","cmd":"x","instances":2,"labels":{"MARATHON_SINGLE_INSTANCE_APP":"true"},"upgradeStrategy":{"minimumHealthCapacity":0,"maximumOverCapacity":0}}`, 422, MessageNotValid, "/", "Single instance app may only have one instance"},
		{"gpus without feature", `{"id":"a","cmd":"x","gpus":1}`, 422, MessageNotValid, "/", "Feature gpu_resources is not enabled. Enable with --enable_features gpu_resources)"},
		{"wrong type", `{"id":"a","cmd":"x","cpus":"many"}`, 400, MessageInvalidJSON, "/cpus", "error.expected.jsnumber"},
		{"wrong nested type", `{"id":"a","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":"x"}}`, 400, MessageInvalidJSON, "/upgradeStrategy/minimumHealthCapacity", "error.expected.jsnumber"},
		{"not an object", `[1,2]`, 400, MessageInvalidJSON, "/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseApp([]byte(tt.body), Root, Options{})
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Status != tt.status || e.Message != tt.message {
				t.Errorf("status %d message %q, want %d %q", e.Status, e.Message, tt.status, tt.message)
			}
			if tt.err != "" && !e.Has(tt.path, tt.err) {
				t.Errorf("details %+v lack %s: %s", e.Details, tt.path, tt.err)
			}
			if _, err := json.Marshal(e); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestValidAppsAccepted(t *testing.T) {
	for _, body := range []string{
		`{"id":"/a","args":["/bin/sleep","10"]}`,
		`{"id":"/a","container":{"type":"DOCKER","docker":{"image":"nginx"}}}`,
		`{"id":"/a","container":{"type":"MESOS"},"cmd":"x"}`,
		`{"id":"/a","cmd":"x","constraints":[["hostname","UNIQUE"],["rack","GROUP_BY"],["rack","GROUP_BY","3"],["@zone","MAX_PER","2"],["@region","CLUSTER","eu"],["rack","LIKE","r[1-3]"],["rack","UNLIKE","r9"],["level","IS","2.5"],["hostname","cluster","h1"]]}`,
		`{"id":"/a","cmd":"x","instances":0,"cpus":0.001,"mem":0}`,
		`{"id":"/a","cmd":"x","ports":[0,0],"healthChecks":[{"protocol":"HTTP","portIndex":1},{"protocol":"TCP","port":8080},{"protocol":"COMMAND","command":{"value":"true"}}]}`,
		`{"id":"/a","cmd":"x","portDefinitions":[{"port":0,"name":"http-api"}],"readinessChecks":[{}]}`,
		`{"id":"/a","cmd":"x","residency":{},"upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0}}`,
		`{"id":"/a","cmd":"x","killSelection":"OLDEST_FIRST","taskKillGracePeriodSeconds":5,"acceptedResourceRoles":["*","prod"],"user":"nobody","storeUrls":["http://s"]}`,
		`{"id":"/a","cmd":"x","ports":null,"dependencies":null,"env":null,"labels":null}`,
	} {
		a, err := ParseApp([]byte(body), Root, Options{})
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		roundTrip(t, a)
	}
}
