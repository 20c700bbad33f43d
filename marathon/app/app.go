package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// App is a Marathon application definition with Marathon's JSON field
// names. Values are plain (not pointers): an App built by DecodeApp or
// Patch always carries Marathon's defaults, so the rest of the framework
// reads app.Instances, not a maybe. Optional parts whose absence means
// something (container, residency, taskKillGracePeriodSeconds) are pointers.
//
// Deprecated input fields (ports, uris, container.docker.portMappings,
// container.docker.network) are accepted and folded into their canonical
// forms by Normalize, the way Marathon's AppNormalization does, so they are
// never printed back.
type App struct {
	ID                         PathID               `json:"id"`
	Cmd                        string               `json:"cmd,omitempty"`
	Args                       []string             `json:"args,omitempty"`
	User                       string               `json:"user,omitempty"`
	Env                        map[string]EnvValue  `json:"env"`
	Instances                  int                  `json:"instances"`
	Cpus                       float64              `json:"cpus"`
	Mem                        float64              `json:"mem"`
	Disk                       float64              `json:"disk"`
	Gpus                       int                  `json:"gpus"`
	Executor                   string               `json:"executor"`
	Constraints                []Constraint         `json:"constraints"`
	URIs                       []string             `json:"uris,omitempty"`
	Fetch                      []Artifact           `json:"fetch"`
	StoreURLs                  []string             `json:"storeUrls,omitempty"`
	Ports                      []int                `json:"ports,omitempty"`
	PortDefinitions            []PortDefinition     `json:"portDefinitions"`
	RequirePorts               bool                 `json:"requirePorts"`
	BackoffSeconds             int                  `json:"backoffSeconds"`
	BackoffFactor              float64              `json:"backoffFactor"`
	MaxLaunchDelaySeconds      int                  `json:"maxLaunchDelaySeconds"`
	Container                  *Container           `json:"container,omitempty"`
	HealthChecks               []HealthCheck        `json:"healthChecks"`
	ReadinessChecks            []ReadinessCheck     `json:"readinessChecks"`
	Dependencies               []PathID             `json:"dependencies"`
	UpgradeStrategy            UpgradeStrategy      `json:"upgradeStrategy"`
	Labels                     map[string]string    `json:"labels"`
	AcceptedResourceRoles      []string             `json:"acceptedResourceRoles,omitempty"`
	Residency                  *Residency           `json:"residency,omitempty"`
	Secrets                    map[string]SecretDef `json:"secrets"`
	TaskKillGracePeriodSeconds *int                 `json:"taskKillGracePeriodSeconds,omitempty"`
	UnreachableStrategy        UnreachableStrategy  `json:"unreachableStrategy"`
	KillSelection              KillSelection        `json:"killSelection"`
	Networks                   []Network            `json:"networks"`
	TTY                        *bool                `json:"tty,omitempty"`
	Role                       string               `json:"role,omitempty"`
	Version                    string               `json:"version,omitempty"`
	VersionInfo                *VersionInfo         `json:"versionInfo,omitempty"`

	// rawID is the id exactly as the user sent it, before Normalize made it
	// canonical; validation reports on what was sent.
	rawID PathID
	// rawDeps likewise keeps the dependencies as sent.
	rawDeps []PathID
	// decoded marks an app read from JSON, whose rawID is authoritative
	// (even when empty: the id was missing).
	decoded bool
}

// EnvValue is one environment variable: a plain string or, with the
// secrets feature, a reference {"secret": "name"} to an entry of App.Secrets.
type EnvValue struct {
	Value  string
	Secret string
}

// MarshalJSON writes a string, or {"secret": …} for a secret reference.
func (e EnvValue) MarshalJSON() ([]byte, error) {
	if e.Secret != "" {
		return json.Marshal(struct {
			Secret string `json:"secret"`
		}{e.Secret})
	}
	return json.Marshal(e.Value)
}

// UnmarshalJSON accepts either form.
func (e *EnvValue) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var s struct {
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*e = EnvValue{Secret: s.Secret}
		return nil
	}
	var v string
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*e = EnvValue{Value: v}
	return nil
}

// SecretDef declares a secret by its source in the secret store.
type SecretDef struct {
	Source string `json:"source"`
}

// Artifact is a URI the Mesos fetcher downloads into the sandbox.
type Artifact struct {
	URI        string `json:"uri"`
	Extract    bool   `json:"extract"`
	Executable bool   `json:"executable"`
	Cache      bool   `json:"cache"`
	DestPath   string `json:"destPath,omitempty"`
}

// UnmarshalJSON applies the RAML default extract=true.
func (a *Artifact) UnmarshalJSON(data []byte) error {
	type plain Artifact
	p := plain{Extract: true}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*a = Artifact(p)
	return nil
}

// PortDefinition is a host port the app needs per instance (host
// networking). Port 0 asks Marathon to assign a service port; with
// requirePorts the non-zero ports are also the host ports.
type PortDefinition struct {
	Port     int               `json:"port"`
	Protocol string            `json:"protocol"`
	Name     string            `json:"name,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// UnmarshalJSON applies the default protocol "tcp".
func (p *PortDefinition) UnmarshalJSON(data []byte) error {
	type plain PortDefinition
	v := plain{Protocol: "tcp"}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*p = PortDefinition(v)
	return nil
}

// Container is the app's container. It is kept and printed back faithfully;
// volumes and linuxInfo are carried as raw JSON since Strata does not run
// them yet.
type Container struct {
	Type         string            `json:"type"`
	Docker       *Docker           `json:"docker,omitempty"`
	Volumes      []json.RawMessage `json:"volumes"`
	PortMappings []PortMapping     `json:"portMappings,omitempty"`
	LinuxInfo    json.RawMessage   `json:"linuxInfo,omitempty"`
}

// Container engine types.
const (
	ContainerDocker = "DOCKER"
	ContainerMesos  = "MESOS"
)

// UnmarshalJSON applies the RAML default type DOCKER.
func (c *Container) UnmarshalJSON(data []byte) error {
	type plain Container
	v := plain{Type: ContainerDocker}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*c = Container(v)
	return nil
}

// Docker is container.docker: the image and Docker-specific options.
type Docker struct {
	Image          string            `json:"image"`
	ForcePullImage bool              `json:"forcePullImage"`
	Privileged     bool              `json:"privileged"`
	Parameters     []DockerParameter `json:"parameters"`
	Network        string            `json:"network,omitempty"`
	PortMappings   []PortMapping     `json:"portMappings,omitempty"`
	Credential     json.RawMessage   `json:"credential,omitempty"`
	PullConfig     json.RawMessage   `json:"pullConfig,omitempty"`
}

// DockerParameter is one `docker run` option.
type DockerParameter struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// PortMapping maps a container port to a host port (bridge or container
// networking). A nil HostPort means no host port.
type PortMapping struct {
	ContainerPort int               `json:"containerPort"`
	HostPort      *int              `json:"hostPort,omitempty"`
	ServicePort   int               `json:"servicePort"`
	Protocol      string            `json:"protocol"`
	Name          string            `json:"name,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	NetworkNames  []string          `json:"networkNames,omitempty"`
}

// UnmarshalJSON applies the default protocol "tcp".
func (p *PortMapping) UnmarshalJSON(data []byte) error {
	type plain PortMapping
	v := plain{Protocol: "tcp"}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*p = PortMapping(v)
	return nil
}

// UpgradeStrategy bounds a rolling upgrade: at least
// ⌈instances × MinimumHealthCapacity⌉ healthy, at most
// instances × (1 + MaximumOverCapacity) running.
type UpgradeStrategy struct {
	MinimumHealthCapacity float64 `json:"minimumHealthCapacity"`
	MaximumOverCapacity   float64 `json:"maximumOverCapacity"`
}

// DefaultUpgradeStrategy is Marathon's default: replace one for one, never
// fall below full capacity, allow doubling.
var DefaultUpgradeStrategy = UpgradeStrategy{MinimumHealthCapacity: 1, MaximumOverCapacity: 1}

// UnmarshalJSON starts from the defaults so a partial object keeps them.
func (u *UpgradeStrategy) UnmarshalJSON(data []byte) error {
	type plain UpgradeStrategy
	v := plain(DefaultUpgradeStrategy)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*u = UpgradeStrategy(v)
	return nil
}

// UnreachableStrategy says when instances on unreachable agents are
// replaced (InactiveAfterSeconds) and forgotten (ExpungeAfterSeconds), or,
// when Disabled, that they are waited for forever. In JSON the disabled
// form is the string "disabled".
type UnreachableStrategy struct {
	Disabled             bool
	InactiveAfterSeconds int64
	ExpungeAfterSeconds  int64
}

// DefaultUnreachableStrategy is Marathon's default for apps without
// persistent volumes (UnreachableEnabled with 0 s / 0 s).
var DefaultUnreachableStrategy = UnreachableStrategy{}

// MarshalJSON writes "disabled" or the object.
func (u UnreachableStrategy) MarshalJSON() ([]byte, error) {
	if u.Disabled {
		return []byte(`"disabled"`), nil
	}
	return fmt.Appendf(nil, `{"inactiveAfterSeconds":%d,"expungeAfterSeconds":%d}`, u.InactiveAfterSeconds, u.ExpungeAfterSeconds), nil
}

// UnmarshalJSON accepts "disabled" or {inactiveAfterSeconds, expungeAfterSeconds}.
func (u *UnreachableStrategy) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		if s != "disabled" {
			return &json.UnmarshalTypeError{Value: "string " + s, Type: jsonObjectType}
		}
		*u = UnreachableStrategy{Disabled: true}
		return nil
	}
	var v struct {
		InactiveAfterSeconds int64 `json:"inactiveAfterSeconds"`
		ExpungeAfterSeconds  int64 `json:"expungeAfterSeconds"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*u = UnreachableStrategy{InactiveAfterSeconds: v.InactiveAfterSeconds, ExpungeAfterSeconds: v.ExpungeAfterSeconds}
	return nil
}

// Residency is the deprecated residency object (no effect in Marathon
// 1.10, kept for round-trips).
type Residency struct {
	RelaunchEscalationTimeoutSeconds int64  `json:"relaunchEscalationTimeoutSeconds"`
	TaskLostBehavior                 string `json:"taskLostBehavior"`
}

// UnmarshalJSON applies the RAML defaults 3600 / WAIT_FOREVER.
func (r *Residency) UnmarshalJSON(data []byte) error {
	type plain Residency
	v := plain{RelaunchEscalationTimeoutSeconds: 3600, TaskLostBehavior: "WAIT_FOREVER"}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*r = Residency(v)
	return nil
}

// KillSelection picks which instances go first when scaling down.
type KillSelection string

// Kill selections.
const (
	YoungestFirst KillSelection = "YOUNGEST_FIRST"
	OldestFirst   KillSelection = "OLDEST_FIRST"
)

// Network is one network the app's instances join.
type Network struct {
	Name   string            `json:"name,omitempty"`
	Mode   string            `json:"mode"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Network modes.
const (
	NetworkHost      = "host"
	NetworkContainer = "container"
	NetworkBridge    = "container/bridge"
)

// UnmarshalJSON applies the RAML default mode "container".
func (n *Network) UnmarshalJSON(data []byte) error {
	type plain Network
	v := plain{Mode: NetworkContainer}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*n = Network(v)
	return nil
}

// VersionInfo records when the app's configuration last changed and when
// it was last only scaled (or restarted); both are version timestamps.
type VersionInfo struct {
	LastScalingAt      string `json:"lastScalingAt"`
	LastConfigChangeAt string `json:"lastConfigChangeAt"`
}

// VersionLayout is how Marathon prints versions: ISO-8601 in UTC with
// milliseconds ("2017-03-01T10:00:00.000Z").
const VersionLayout = "2006-01-02T15:04:05.000Z"

// FormatVersion prints t as a Marathon version.
func FormatVersion(t time.Time) string { return t.UTC().Format(VersionLayout) }

// ParseVersion reads a version; it accepts any RFC 3339 time so clients
// may send versions with other precisions.
func ParseVersion(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("version %q: %w", s, err)
	}
	return t.UTC(), nil
}

// MarshalJSON prints the app as GET /v2/apps/{id} does: collections that
// are empty are printed as [] or {}, never null.
func (a App) MarshalJSON() ([]byte, error) {
	type plain App
	a.fillEmpty()
	// Like Marathon's appWriter, portDefinitions are left out when the app
	// is not on host networking (they cannot apply there).
	out := struct {
		plain
		PortDefinitions *[]PortDefinition `json:"portDefinitions,omitempty"`
	}{plain: plain(a)}
	if a.hostNetworking() {
		out.PortDefinitions = &a.PortDefinitions
	}
	return json.Marshal(out)
}

// hostNetworking reports whether every network is "host" (true for none).
func (a *App) hostNetworking() bool {
	for _, n := range a.Networks {
		if n.Mode != NetworkHost {
			return false
		}
	}
	return true
}

// UnmarshalJSON decodes an app for creation: fields that are absent or
// null take Marathon's defaults. Use Patch to apply a partial update to an
// existing app. The id and dependencies are not resolved here; Normalize
// does that against the enclosing group.
func (a *App) UnmarshalJSON(data []byte) error {
	stripped, err := stripNulls(data)
	if err != nil {
		return err
	}
	type plain App
	v := plain(*Defaults())
	if err := json.Unmarshal(stripped, &v); err != nil {
		return err
	}
	*a = App(v)
	a.rawID = a.ID
	a.rawDeps = append([]PathID(nil), a.Dependencies...)
	a.decoded = true
	return nil
}

// fillEmpty replaces nil collections that Marathon always prints.
func (a *App) fillEmpty() {
	if a.Env == nil {
		a.Env = map[string]EnvValue{}
	}
	if a.Constraints == nil {
		a.Constraints = []Constraint{}
	}
	if a.Fetch == nil {
		a.Fetch = []Artifact{}
	}
	if a.PortDefinitions == nil {
		a.PortDefinitions = []PortDefinition{}
	}
	if a.HealthChecks == nil {
		a.HealthChecks = []HealthCheck{}
	}
	if a.ReadinessChecks == nil {
		a.ReadinessChecks = []ReadinessCheck{}
	}
	if a.Dependencies == nil {
		a.Dependencies = []PathID{}
	}
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if a.Secrets == nil {
		a.Secrets = map[string]SecretDef{}
	}
	if a.Networks == nil {
		a.Networks = []Network{}
	}
	if c := a.Container; c != nil && c.Volumes == nil {
		cc := *c
		cc.Volumes = []json.RawMessage{}
		a.Container = &cc
	}
	if c := a.Container; c != nil && c.Docker != nil && c.Docker.Parameters == nil {
		cc, d := *c, *c.Docker
		d.Parameters = []DockerParameter{}
		cc.Docker = &d
		a.Container = &cc
	}
}

// stripNulls prepares a request body: it removes the top-level keys whose
// value is null (Marathon clients send "ports": null and "dependencies":
// null to mean "not given") and writes integral numbers such as 2.0 as
// integers, since Marathon's reader accepts 2.0 where it wants an int.
func stripNulls(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil { // the body was null: Marathon's reader wants an object
		return nil, &json.UnmarshalTypeError{Value: "null", Type: jsonObjectType}
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid JSON: data after the top-level object")
	}
	for k, v := range m {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = integralNumbers(v)
	}
	return json.Marshal(m)
}

// integralNumbers rewrites numbers with a fraction or exponent whose value
// is a whole number ("2.0", "1e3") as plain integers, recursively.
func integralNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			return x
		}
		f, err := x.Float64()
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return x
		}
		return json.Number(strconv.FormatInt(int64(f), 10))
	case map[string]any:
		for k, e := range x {
			x[k] = integralNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = integralNumbers(e)
		}
	}
	return v
}

// Clone returns a deep copy (through JSON, which is exact for every field
// an App holds).
func (a *App) Clone() *App {
	type plain App
	b, err := json.Marshal(plain(*a))
	if err != nil {
		panic(fmt.Sprintf("clone app %s: %v", a.ID, err)) // every field marshals
	}
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		panic(fmt.Sprintf("clone app %s: %v", a.ID, err))
	}
	c := App(v)
	c.rawID, c.rawDeps, c.decoded = a.rawID, append([]PathID(nil), a.rawDeps...), a.decoded
	return &c
}
