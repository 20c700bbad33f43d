package marathon

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/placement"
	"github.com/strata-dc/strata/master/mesos"
)

func mustApp(t *testing.T, js string) *app.App {
	t.Helper()
	a, err := app.ParseApp([]byte(js), app.Root, app.Options{})
	if err != nil {
		t.Fatalf("parse %s: %v", js, err)
	}
	app.StampVersion(nil, a, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), false)
	return a
}

// TestBuildTask: the command, environment, labels, kill policy and the
// agent-run health check of a launched instance.
func TestBuildTask(t *testing.T) {
	a := mustApp(t, `{"id": "/prod/web", "cmd": "serve $PORT0", "instances": 1,
		"env": {"MODE": "prod"}, "labels": {"team": "core", "bad-key": "x"},
		"portDefinitions": [{"port": 0, "name": "http"}, {"port": 0}],
		"taskKillGracePeriodSeconds": 7,
		"healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 1}]}`)
	offer := &mesos.Offer{ID: "o1", AgentID: "agent-1", Hostname: "h1"}
	m := placement.Match{HostPorts: []int{31000, 31001}}
	ti := buildTask(a, "prod_web.x", offer, m, Config{})
	if ti.Name != "web.prod" || ti.TaskID != "prod_web.x" || ti.AgentID != "agent-1" {
		t.Errorf("identity: %+v", ti)
	}
	if ti.Command == nil || ti.Command.Value != "serve $PORT0" || !ti.Command.GetShell() {
		t.Errorf("command: %+v", ti.Command)
	}
	env := map[string]string{}
	for _, v := range ti.Command.Environment.Variables {
		env[v.Name] = v.Value
	}
	for k, want := range map[string]string{
		"MODE": "prod", "PORT0": "31000", "PORT1": "31001", "PORT": "31000", "PORTS": "31000,31001",
		"PORT_HTTP": "31000", "HOST": "h1", "MESOS_TASK_ID": "prod_web.x", "MARATHON_APP_ID": "/prod/web",
		"MARATHON_APP_VERSION": "2026-01-02T03:04:05.000Z", "MARATHON_APP_LABEL_TEAM": "core", "MARATHON_APP_LABELS": "team",
	} {
		if env[k] != want {
			t.Errorf("env %s = %q, want %q", k, env[k], want)
		}
	}
	if v, _ := ti.Labels.Get("team"); v != "core" {
		t.Errorf("labels: %+v", ti.Labels)
	}
	if ti.KillPolicy == nil || ti.KillPolicy.GracePeriod == nil || ti.KillPolicy.GracePeriod.Nanoseconds != int64(7*time.Second) {
		t.Errorf("kill policy: %+v", ti.KillPolicy)
	}
	hc := ti.HealthCheck
	if hc == nil || hc.Type != mesos.CheckHTTP || hc.HTTP == nil || hc.HTTP.Port != 31001 || hc.HTTP.Path != "/health" || hc.HTTP.Scheme != "http" {
		t.Fatalf("health check: %+v", hc)
	}
	if hc.GetGracePeriodSeconds() != 300 || hc.GetIntervalSeconds() != 60 || hc.GetConsecutiveFailures() != 3 {
		t.Errorf("health check timings: %+v", hc)
	}
}

// TestHealthCheckForms: every Marathon protocol becomes a check the agent
// runs.
func TestHealthCheckForms(t *testing.T) {
	idx := 0
	port := 8080
	for _, tc := range []struct {
		in   app.HealthCheck
		want mesos.HealthCheckType
		port uint32
	}{
		{app.HealthCheck{Protocol: app.ProtocolTCP, PortIndex: &idx}, mesos.CheckTCP, 31000},
		{app.HealthCheck{Protocol: app.ProtocolMesosTCP, Port: &port}, mesos.CheckTCP, 8080},
		{app.HealthCheck{Protocol: app.ProtocolMesosHTTPS, PortIndex: &idx, Path: "/"}, mesos.CheckHTTP, 31000},
		{app.HealthCheck{Protocol: app.ProtocolCommand, Command: &app.CommandCheck{Value: "true"}}, mesos.CheckCommand, 0},
	} {
		hc := healthCheck(tc.in, []int{31000})
		if hc.Type != tc.want {
			t.Errorf("%s: type %s, want %s", tc.in.Protocol, hc.Type, tc.want)
			continue
		}
		switch hc.Type {
		case mesos.CheckTCP:
			if hc.TCP.Port != tc.port {
				t.Errorf("%s: port %d, want %d", tc.in.Protocol, hc.TCP.Port, tc.port)
			}
		case mesos.CheckHTTP:
			if hc.HTTP.Port != tc.port || hc.HTTP.Scheme != "https" {
				t.Errorf("%s: %+v", tc.in.Protocol, hc.HTTP)
			}
		case mesos.CheckCommand:
			if hc.Command.Value != "true" {
				t.Errorf("%s: %+v", tc.in.Protocol, hc.Command)
			}
		}
	}
}

// TestArgsRunWithoutShell: args are exec'd as given.
func TestArgsRunWithoutShell(t *testing.T) {
	a := mustApp(t, `{"id": "/a", "args": ["/bin/echo", "hi"]}`)
	ti := buildTask(a, "a.x", &mesos.Offer{AgentID: "ag"}, placement.Match{}, Config{})
	if ti.Command.GetShell() || ti.Command.Value != "/bin/echo" || strings.Join(ti.Command.Arguments, " ") != "/bin/echo hi" {
		t.Errorf("command %+v", ti.Command)
	}
}

func TestSplitAppPath(t *testing.T) {
	for _, tc := range []struct{ in, id, verb, arg string }{
		{"simple", "/simple", "", ""},
		{"prod/web", "/prod/web", "", ""},
		{"prod/web/restart", "/prod/web", "restart", ""},
		{"prod/web/tasks", "/prod/web", "tasks", ""},
		{"prod/web/tasks/prod_web.1", "/prod/web", "tasks", "prod_web.1"},
		{"prod/web/versions", "/prod/web", "versions", ""},
		{"prod/web/versions/2026-01-02T03:04:05.000Z", "/prod/web", "versions", "2026-01-02T03:04:05.000Z"},
		{"tasks-app/web", "/tasks-app/web", "", ""},
	} {
		id, verb, arg := splitAppPath(tc.in)
		if string(id) != tc.id || verb != tc.verb || arg != tc.arg {
			t.Errorf("splitAppPath(%q) = %q %q %q, want %q %q %q", tc.in, id, verb, arg, tc.id, tc.verb, tc.arg)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Master: "zk://h1:2181,h2:2181/strata"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.ZK != "zk://h1:2181,h2:2181/strata/marathon" || c.HTTPAddress != DefaultHTTPAddress ||
		c.FailoverTimeout != 7*24*time.Hour || c.ZKMaxVersions != 50 || c.FrameworkName != "marathon" || c.MesosRole != "*" {
		t.Errorf("defaults: %+v", c)
	}
	if _, err := (Config{Master: "http://m:5050"}).withDefaults(); err == nil || !strings.Contains(err.Error(), "zk") {
		t.Errorf("an http master without --zk: %v", err)
	}
	if _, err := (Config{}).withDefaults(); err == nil || !strings.Contains(err.Error(), "master") {
		t.Errorf("no master: %v", err)
	}
}

func TestMatchLabel(t *testing.T) {
	labels := map[string]string{"env": "prod"}
	for sel, want := range map[string]bool{"env": true, "env==prod": true, "env==dev": false, "env!=dev": true, "team": false, "team!=x": true} {
		if got := matchLabel(labels, sel); got != want {
			t.Errorf("matchLabel(%q) = %v, want %v", sel, got, want)
		}
	}
}

// TestAssignServicePorts: ports declared 0 get free service ports; ports
// already taken (declared or assigned before) are never reused.
func TestAssignServicePorts(t *testing.T) {
	cur := app.NewRoot()
	old := mustApp(t, `{"id": "/old", "cmd": "x", "portDefinitions": [{"port": 10000}]}`)
	if err := cur.PutApp(old); err != nil {
		t.Fatal(err)
	}
	target := cloneGroup(cur)
	a := mustApp(t, `{"id": "/a", "cmd": "x", "portDefinitions": [{"port": 0}, {"port": 10001}, {"port": 0}]}`)
	if err := target.PutApp(a); err != nil {
		t.Fatal(err)
	}
	if err := assignServicePorts(cur, target); err != nil {
		t.Fatal(err)
	}
	got, _ := target.App("/a")
	var ports []int
	for _, pd := range got.PortDefinitions {
		ports = append(ports, pd.Port)
	}
	if fmt.Sprint(ports) != "[10002 10001 10003]" {
		t.Errorf("ports %v, want [10002 10001 10003]", ports)
	}
	if o, _ := target.App("/old"); o.PortDefinitions[0].Port != 10000 {
		t.Errorf("the existing app's port changed: %+v", o.PortDefinitions)
	}
}
