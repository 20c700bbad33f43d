package app

import (
	"os"
	"reflect"
	"testing"
	"time"
)

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

func TestPatch(t *testing.T) {
	base := mustParse(t, `{"id":"/web","cmd":"serve","instances":2,"labels":{"a":"1","b":"2"},
	  "env":{"X":"1"},"portDefinitions":[{"port":0,"name":"http"}],
	  "healthChecks":[{"protocol":"HTTP","path":"/health"}],"upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0.2}}`)

	tests := []struct {
		name  string
		patch string
		check func(t *testing.T, a *App)
	}{
		{"scale only", `{"instances":5}`, func(t *testing.T, a *App) {
			if a.Instances != 5 || a.Cmd != "serve" || a.Labels["a"] != "1" || a.UpgradeStrategy.MinimumHealthCapacity != 0.5 {
				t.Errorf("%+v", a)
			}
		}},
		{"nulls mean unchanged", `{"id":"/web","instances":3,"ports":null,"dependencies":null,"labels":null}`, func(t *testing.T, a *App) {
			if a.Instances != 3 || len(a.Labels) != 2 || a.PortDefinitions[0].Name != "http" {
				t.Errorf("%+v", a)
			}
		}},
		{"labels replaced not merged", `{"labels":{"c":"3"}}`, func(t *testing.T, a *App) {
			if !reflect.DeepEqual(a.Labels, map[string]string{"c": "3"}) {
				t.Errorf("labels %v", a.Labels)
			}
		}},
		{"health checks replaced with defaults", `{"healthChecks":[{"protocol":"TCP"}]}`, func(t *testing.T, a *App) {
			hc := a.HealthChecks
			if len(hc) != 1 || hc[0].Protocol != ProtocolTCP || hc[0].Path != "" || hc[0].GracePeriodSeconds != 300 || *hc[0].PortIndex != 0 {
				t.Errorf("%+v", hc)
			}
		}},
		{"ports replace port definitions", `{"ports":[8080,8081]}`, func(t *testing.T, a *App) {
			if len(a.PortDefinitions) != 2 || a.PortDefinitions[1].Port != 8081 || a.Ports != nil {
				t.Errorf("%+v", a.PortDefinitions)
			}
		}},
		{"partial upgrade strategy", `{"upgradeStrategy":{"minimumHealthCapacity":0}}`, func(t *testing.T, a *App) {
			if a.UpgradeStrategy != (UpgradeStrategy{MinimumHealthCapacity: 0, MaximumOverCapacity: 1}) {
				t.Errorf("%+v", a.UpgradeStrategy)
			}
		}},
		{"id is kept", `{"id":"/other","cpus":2}`, func(t *testing.T, a *App) {
			if a.ID != "/web" || a.Cpus != 2 {
				t.Errorf("%s %v", a.ID, a.Cpus)
			}
		}},
		{"relative dependency", `{"dependencies":["db"]}`, func(t *testing.T, a *App) {
			if !reflect.DeepEqual(a.Dependencies, []PathID{"/db"}) {
				t.Errorf("%v", a.Dependencies)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := base.Clone()
			got, err := base.Patch([]byte(tt.patch))
			if err != nil {
				t.Fatal(err)
			}
			if verr := got.Validate(Root, Options{}); verr != nil {
				t.Fatalf("patched app invalid: %v", verr)
			}
			tt.check(t, got)
			if Classify(before, base) != NoChange {
				t.Error("Patch modified the original")
			}
		})
	}

	if _, err := base.Patch([]byte(`{"cpus":"x"}`)); err == nil || err.(*Error).Status != 400 {
		t.Errorf("type error: %v", err)
	}
	if _, err := base.Patch([]byte(`{"version":"2020-01-01T00:00:00.000Z","cpus":2}`)); err == nil || err.(*Error).Status != 422 {
		t.Errorf("version with other fields: %v", err)
	}
	if v, ok, err := RollbackVersion([]byte(`{"id":"/web","version":"2020-01-01T00:00:00.000Z"}`)); err != nil || !ok || v != "2020-01-01T00:00:00.000Z" {
		t.Errorf("RollbackVersion = %q %v %v", v, ok, err)
	}
	if _, ok, _ := RollbackVersion([]byte(`{"instances":2}`)); ok {
		t.Error("RollbackVersion without version")
	}
}

func TestClassifyAndStamp(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	a := mustParse(t, `{"id":"/web","cmd":"serve"}`)
	if c := StampVersion(nil, a, t0, false); c != ConfigChange || a.Version != "2024-05-01T10:00:00.000Z" ||
		*a.VersionInfo != (VersionInfo{LastScalingAt: a.Version, LastConfigChangeAt: a.Version}) {
		t.Fatalf("new app: %v %s %+v", c, a.Version, a.VersionInfo)
	}

	scaled, _ := a.Patch([]byte(`{"instances":4}`))
	if c := StampVersion(a, scaled, t1, false); c != ScaleChange {
		t.Fatalf("scale classified %v", c)
	}
	if scaled.VersionInfo.LastConfigChangeAt != FormatVersion(t0) || scaled.VersionInfo.LastScalingAt != FormatVersion(t1) {
		t.Errorf("scale versionInfo %+v", scaled.VersionInfo)
	}

	changed, _ := scaled.Patch([]byte(`{"instances":1,"env":{"A":"b"}}`))
	if c := StampVersion(scaled, changed, t2, false); c != ConfigChange {
		t.Fatalf("config classified %v", c)
	}
	if *changed.VersionInfo != (VersionInfo{LastScalingAt: FormatVersion(t2), LastConfigChangeAt: FormatVersion(t2)}) {
		t.Errorf("config versionInfo %+v", changed.VersionInfo)
	}

	restarted := changed.Clone()
	if c := StampVersion(changed, restarted, t2.Add(time.Minute), true); c != ScaleChange ||
		restarted.VersionInfo.LastConfigChangeAt != FormatVersion(t2) {
		t.Errorf("restart: %v %+v", c, restarted.VersionInfo)
	}
	if c := Classify(changed, changed.Clone()); c != NoChange {
		t.Errorf("same app classified %v", c)
	}
	for _, p := range []string{`{"labels":{"x":"y"}}`, `{"constraints":[["hostname","UNIQUE"]]}`, `{"cpus":0.5}`, `{"killSelection":"OLDEST_FIRST"}`} {
		b, _ := a.Patch([]byte(p))
		if Classify(a, b) != ConfigChange {
			t.Errorf("%s not a config change", p)
		}
	}
	b, _ := a.Patch([]byte(`{"instances":3,"cpus":0.5}`))
	if got := ChangedFields(a, b); !reflect.DeepEqual(got, []string{"cpus", "instances"}) {
		t.Errorf("ChangedFields = %v", got)
	}
	if _, err := ParseVersion(a.Version); err != nil {
		t.Error(err)
	}
}
