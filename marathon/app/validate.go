package app

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/strata-dc/strata/master/mesos"
)

// Options are the server settings validation depends on.
type Options struct {
	// Features are Marathon's --enable_features ("secrets", "gpu_resources",
	// "external_volumes"). Without "secrets", secrets and secret env
	// references are refused, as Marathon does.
	Features []string
	// ValidRoles, when not empty, are the roles an app may name in "role"
	// (Marathon: the --mesos_role and the group's role).
	ValidRoles []string
	// MaxInstances, when positive, caps "instances" (Strata's
	// --max-instances-per-app): every instance costs a record in memory
	// and in coord, so an absurd count must be refused, not attempted.
	MaxInstances int
}

func (o Options) has(feature string) bool { return slices.Contains(o.Features, feature) }

// Feature names.
const (
	FeatureSecrets = "secrets"
	FeatureGPUs    = "gpu_resources"
)

// DecodeApp reads an app definition sent to POST /v2/apps (or nested in a
// group under base) and normalizes it. Unreadable JSON and values of the
// wrong JSON type give a 400 *Error; deprecated fields used inconsistently
// (ports with different portDefinitions, uris with fetch) give a 422.
func DecodeApp(data []byte, base PathID) (*App, error) {
	var a App
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, decodeError(err)
	}
	if err := a.checkDeprecated(); err != nil {
		return nil, err
	}
	a.Normalize(base)
	return &a, nil
}

// ParseApp is DecodeApp followed by Validate.
func ParseApp(data []byte, base PathID, opts Options) (*App, error) {
	a, err := DecodeApp(data, base)
	if err != nil {
		return nil, err
	}
	if err := a.Validate(base, opts); err != nil {
		return nil, err
	}
	return a, nil
}

// checkDeprecated applies Marathon's validateOldAppAPI, which runs on the
// definition as sent, before ports and uris are folded away.
func (a *App) checkDeprecated() *Error {
	var v violations
	if len(a.URIs) > 0 && len(a.Fetch) > 0 {
		v.add("/uris", "may not be set in conjunction with fetch")
	}
	seen := map[int]bool{}
	for _, p := range a.Ports {
		if p != 0 && seen[p] {
			v.add("/", "ports must be unique")
			break
		}
		seen[p] = true
	}
	if a.Ports != nil && a.PortDefinitions != nil {
		same := len(a.Ports) == len(a.PortDefinitions)
		for i := 0; same && i < len(a.Ports); i++ {
			same = a.Ports[i] == a.PortDefinitions[i].Port
		}
		if !same {
			v.add("/", "cannot specify both ports and port definitions")
		}
	}
	if c := a.Container; c != nil && c.Docker != nil && len(c.Docker.PortMappings) > 0 && len(c.PortMappings) > 0 {
		v.add("/container", "cannot specify both portMappings and docker.portMappings")
	}
	return v.err(422, MessageNotValid)
}

// Validate checks a normalized app (DecodeApp's result) as Marathon does
// on create and update. base is the group the app was sent under ("/" for
// /v2/apps). Schema violations are reported alone with message "Invalid
// JSON", as Marathon's JSON reader fails before its validator runs.
func (a *App) Validate(base PathID, opts Options) *Error {
	if err := a.validateSchema(); err != nil {
		return err
	}
	return a.validateSemantics(base, opts)
}

// pathIDPattern is the RAML pattern of strings.PathId.
var pathIDPattern = regexp.MustCompile(`^(\/?((\.\.)|(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9]))?($|\/))+$`)

// namePattern is strings.LegacyName, used for port names.
var namePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validateSchema applies the bounds the RAML declares (minimum, maximum,
// minLength, pattern, enum), which Marathon enforces while reading.
func (a *App) validateSchema() *Error {
	var v violations
	id := a.rawID
	if id == "" && !a.decoded {
		id = a.ID
	}
	if id == "" {
		v.add("/id", "error.path.missing")
	} else if !pathIDPattern.MatchString(string(id)) {
		v.add("/id", "error.pattern")
	}
	for i, d := range a.rawDeps {
		if !pathIDPattern.MatchString(string(d)) {
			v.add(fmt.Sprintf("/dependencies(%d)", i), "error.pattern")
		}
	}
	minF := func(path string, x, lo float64) {
		if x < lo {
			v.add(path, "error.min")
		}
	}
	maxF := func(path string, x, hi float64) {
		if x > hi {
			v.add(path, "error.max")
		}
	}
	minF("/cpus", a.Cpus, 0.001)
	minF("/mem", a.Mem, 0)
	minF("/disk", a.Disk, 0)
	minF("/gpus", float64(a.Gpus), 0)
	minF("/instances", float64(a.Instances), 0)
	// The RAML declares instances as int32: more is refused while reading,
	// not attempted.
	maxF("/instances", float64(a.Instances), math.MaxInt32)
	minF("/backoffSeconds", float64(a.BackoffSeconds), 0)
	minF("/backoffFactor", a.BackoffFactor, 1)
	minF("/maxLaunchDelaySeconds", float64(a.MaxLaunchDelaySeconds), 0)
	if a.TaskKillGracePeriodSeconds != nil {
		minF("/taskKillGracePeriodSeconds", float64(*a.TaskKillGracePeriodSeconds), 0)
	}
	us := a.UpgradeStrategy
	minF("/upgradeStrategy/minimumHealthCapacity", us.MinimumHealthCapacity, 0)
	maxF("/upgradeStrategy/minimumHealthCapacity", us.MinimumHealthCapacity, 1)
	minF("/upgradeStrategy/maximumOverCapacity", us.MaximumOverCapacity, 0)
	maxF("/upgradeStrategy/maximumOverCapacity", us.MaximumOverCapacity, 1)
	if !a.UnreachableStrategy.Disabled {
		minF("/unreachableStrategy/inactiveAfterSeconds", float64(a.UnreachableStrategy.InactiveAfterSeconds), 0)
		minF("/unreachableStrategy/expungeAfterSeconds", float64(a.UnreachableStrategy.ExpungeAfterSeconds), 0)
	}
	switch a.KillSelection {
	case YoungestFirst, OldestFirst:
	default:
		v.add("/killSelection", "error.unknown.enum.literal")
	}
	for i, c := range a.Constraints {
		p := fmt.Sprintf("/constraints(%d)", i)
		if len(c) < 2 {
			v.add(p, "error.minLength")
		} else if len(c) > 3 {
			v.add(p, "error.maxLength")
		}
	}
	for i, pd := range a.PortDefinitions {
		p := fmt.Sprintf("/portDefinitions(%d)", i)
		if pd.Port < 0 || pd.Port > 65535 {
			v.add(p+"/port", "error.max")
		}
		if pd.Name != "" && !namePattern.MatchString(pd.Name) {
			v.add(p+"/name", "error.pattern")
		}
		if !validNetworkProtocol(pd.Protocol) {
			v.add(p+"/protocol", "error.unknown.enum.literal")
		}
	}
	for i, hc := range a.HealthChecks {
		p := fmt.Sprintf("/healthChecks(%d)", i)
		if !healthProtocols[hc.Protocol] {
			v.add(p+"/protocol", "error.unknown.enum.literal")
		}
		minF(p+"/gracePeriodSeconds", float64(hc.GracePeriodSeconds), 0)
		minF(p+"/intervalSeconds", float64(hc.IntervalSeconds), 0)
		minF(p+"/maxConsecutiveFailures", float64(hc.MaxConsecutiveFailures), 0)
		minF(p+"/delaySeconds", float64(hc.DelaySeconds), 0)
		if hc.IPProtocol != "IPv4" && hc.IPProtocol != "IPv6" {
			v.add(p+"/ipProtocol", "error.unknown.enum.literal")
		}
	}
	for i, n := range a.Networks {
		switch n.Mode {
		case NetworkHost, NetworkContainer, NetworkBridge:
		default:
			v.add(fmt.Sprintf("/networks(%d)/mode", i), "error.unknown.enum.literal")
		}
	}
	if c := a.Container; c != nil && c.Type != ContainerDocker && c.Type != ContainerMesos {
		v.add("/container/type", "error.unknown.enum.literal")
	}
	for i, art := range a.Fetch {
		if art.URI == "" {
			v.add(fmt.Sprintf("/fetch(%d)/uri", i), "error.minLength")
		}
	}
	return v.err(422, MessageInvalidJSON)
}

func validNetworkProtocol(p string) bool { return p == "tcp" || p == "udp" || p == "udp,tcp" }

// validateSemantics is Marathon's validateCanonicalAppAPI and
// AppDefinition.validBasicAppDefinition, with their paths and sentences.
func (a *App) validateSemantics(base PathID, opts Options) *Error {
	var v violations
	raw := a.rawID
	if raw == "" {
		raw = a.ID
	}
	for _, m := range validateID(raw.Canonical(base), "", true) {
		v.add("/id", m)
	}
	if opts.MaxInstances > 0 && a.Instances > opts.MaxInstances {
		v.add("/instances", fmt.Sprintf("must be at most %d (--max-instances-per-app)", opts.MaxInstances))
	}
	if base != "" && base != Root {
		for _, m := range validateID(raw, base, false) {
			if strings.HasPrefix(m, "Identifier is not child") {
				v.add("/id", m)
			}
		}
	}
	for i, d := range a.Dependencies {
		for _, m := range ValidatePathID(d) {
			v.add(fmt.Sprintf("/dependencies(%d)", i), m)
		}
		if d == a.ID {
			v.add(fmt.Sprintf("/dependencies(%d)", i), "An app cannot depend on itself")
		}
	}
	if climbsAboveRoot(raw, base) {
		v.add("/id", "Path climbs above the root group")
	}

	cmd, args := a.Cmd != "", len(a.Args) > 0
	container := false
	if c := a.Container; c != nil {
		container = c.Docker != nil || c.Type == ContainerMesos
	}
	if !((cmd != args) || (!(cmd && args) && container)) {
		v.add("/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.")
	}
	if c := a.Container; c != nil {
		if c.Type == ContainerDocker && (c.Docker == nil || c.Docker.Image == "") {
			v.add("/container/docker/image", "must not be empty")
		}
		if c.Type == ContainerMesos && c.Docker != nil && c.Docker.Image == "" {
			v.add("/container/docker/image", "must not be empty")
		}
		portMappingNames(c.PortMappings, "/container/portMappings", &v)
	}

	// Port definitions: names and fixed ports unique.
	names := map[string]bool{}
	ports := map[int]bool{}
	for _, pd := range a.PortDefinitions {
		if pd.Name != "" {
			if names[pd.Name] {
				v.add("/portDefinitions", "Port names must be unique.")
			}
			names[pd.Name] = true
		}
		if pd.Port != 0 {
			if ports[pd.Port] {
				v.add("/portDefinitions", "Ports must be unique.")
			}
			ports[pd.Port] = true
		}
	}
	hostNet, nonHost := false, false
	for _, n := range a.Networks {
		if n.Mode == NetworkHost {
			hostNet = true
		} else {
			nonHost = true
		}
	}
	if hostNet && a.Container != nil && len(a.Container.PortMappings) > 0 {
		v.add("/", "portMappings are not allowed with host-networking")
	}
	if nonHost && len(a.PortDefinitions) > 0 {
		v.add("/", "portDefinitions are only allowed with host-networking")
	}

	// Health checks.
	nPorts := a.portCount()
	mesosChecks, commandChecks := 0, 0
	for i, hc := range a.HealthChecks {
		p := fmt.Sprintf("/healthChecks(%d)", i)
		if hc.Command == nil && (hc.Protocol == ProtocolHTTP || hc.Protocol == ProtocolHTTPS || hc.Protocol == ProtocolTCP) {
			ok := false
			switch {
			case hc.PortIndex != nil:
				ok = *hc.PortIndex >= 0 && *hc.PortIndex < nPorts
			default:
				ok = hc.Port != nil || nPorts == 1
			}
			if !ok {
				v.add(p, "Health check port indices must address an element of the ports array or container port mappings.")
			}
		}
		if hc.Protocol == ProtocolCommand && (hc.Command == nil || hc.Command.Value == "") {
			v.add(p+"/command", "Command is required for health checks of protocol COMMAND")
		}
		if hc.IPProtocol == "IPv6" && !(hc.IsMesos() && hc.Protocol != ProtocolCommand && a.Container != nil && a.Container.Type == ContainerDocker) {
			v.add(p, "IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks")
		}
		if hc.Command != nil {
			commandChecks++
		}
		if hc.IsMesos() {
			mesosChecks++
		}
	}
	if mesosChecks-commandChecks > 1 {
		v.add("/", "AppDefinition can contain at most one Mesos health check")
	}

	// Readiness checks.
	if len(a.ReadinessChecks) > 1 {
		v.addf("/readinessChecks", "got %d, expected 1 or less", len(a.ReadinessChecks))
	}
	portNames := a.PortNames()
	for i, rc := range a.ReadinessChecks {
		p := fmt.Sprintf("/readinessChecks(%d)", i)
		if !slices.Contains(portNames, rc.PortName) {
			v.addf(p+"/portName", "No port definition reference for portName %s", rc.PortName)
		}
		if rc.TimeoutSeconds >= rc.IntervalSeconds {
			v.addf(p+"/timeoutSeconds", "got %d, expected less than %d", rc.TimeoutSeconds, rc.IntervalSeconds)
		}
	}

	for i, c := range a.Constraints {
		if len(c) < 2 || len(c) > 3 {
			continue // reported by the schema tier
		}
		if _, err := c.Parse(); err != nil {
			v.add(fmt.Sprintf("/constraints(%d)", i), err.Error())
		}
	}

	// Secrets and env.
	if len(a.Secrets) > 0 && !opts.has(FeatureSecrets) {
		v.add("/secrets", "Feature secrets is not enabled. Enable with --enable_features secrets)")
	}
	for _, k := range sortedKeys(a.Env) {
		e := a.Env[k]
		if e.Secret == "" {
			continue
		}
		if !opts.has(FeatureSecrets) {
			v.add("/env/"+k, "use of secret-references in the environment requires the secrets feature to be enabled")
		} else if _, ok := a.Secrets[e.Secret]; !ok {
			v.add("/env/"+k, "references an undefined secret named '"+e.Secret+"'")
		}
	}
	for _, k := range sortedKeys(a.Secrets) {
		if a.Secrets[k].Source == "" {
			v.add("/secrets/"+k+"/source", "must not be empty")
		}
	}

	if len(a.AcceptedResourceRoles) > 0 {
		seen := map[string]bool{}
		for i, r := range a.AcceptedResourceRoles {
			if r != mesos.DefaultRole {
				if err := mesos.ValidateRole(r); err != nil {
					v.addf(fmt.Sprintf("/acceptedResourceRoles(%d)", i), "%v", err)
				}
			}
			if seen[r] {
				v.add("/acceptedResourceRoles", "elements must be unique")
			}
			seen[r] = true
		}
	} else if a.AcceptedResourceRoles != nil {
		v.add("/acceptedResourceRoles", "must not be empty")
	}
	if a.Role != "" && len(opts.ValidRoles) > 0 && !slices.Contains(opts.ValidRoles, a.Role) {
		v.addf("/role", "got %s, expected one of: [%s]", a.Role, strings.Join(opts.ValidRoles, ", "))
	}

	if a.Gpus > 0 {
		if a.Container != nil && a.Container.Type == ContainerDocker {
			v.add("/", "GPU resources only work with the Mesos containerizer")
		}
		if !opts.has(FeatureGPUs) {
			v.add("/", "Feature gpu_resources is not enabled. Enable with --enable_features gpu_resources)")
		}
	}
	if a.Labels["MARATHON_SINGLE_INSTANCE_APP"] == "true" {
		if a.Instances > 1 {
			v.add("/", "Single instance app may only have one instance")
		}
		if a.UpgradeStrategy.MinimumHealthCapacity != 0 {
			v.addf("/upgradeStrategy/minimumHealthCapacity", "got %s, expected 0.0", fmtFloat(a.UpgradeStrategy.MinimumHealthCapacity))
		}
		if a.UpgradeStrategy.MaximumOverCapacity != 0 {
			v.addf("/upgradeStrategy/maximumOverCapacity", "got %s, expected 0.0", fmtFloat(a.UpgradeStrategy.MaximumOverCapacity))
		}
	}
	if a.Residency != nil && !a.UnreachableStrategy.Disabled {
		v.add("/", "unreachableStrategy must be disabled for resident tasks")
	}
	if u := a.UnreachableStrategy; !u.Disabled && u.InactiveAfterSeconds > u.ExpungeAfterSeconds {
		v.addf("/unreachableStrategy/inactiveAfterSeconds",
			"inactiveAfterSeconds (%d) must be less or equal to expungeAfterSeconds, which is %d", u.InactiveAfterSeconds, u.ExpungeAfterSeconds)
	}
	if a.Executor != "" && !executorPattern.MatchString(a.Executor) {
		v.addf("/executor", "must fully match regular expression '%s'", executorPatternText)
	}
	return v.err(422, MessageNotValid)
}

const executorPatternText = `^(//cmd)|(/?[^/]+(/[^/]+)*)|$`

var executorPattern = regexp.MustCompile(`^(?:(?://cmd)|(?:/?[^/]+(?:/[^/]+)*)|)$`)

func portMappingNames(pms []PortMapping, path string, v *violations) {
	seen := map[string]bool{}
	for _, m := range pms {
		if m.Name == "" {
			continue
		}
		if seen[m.Name] {
			v.add(path, "Port names must be unique.")
		}
		seen[m.Name] = true
	}
}

// fmtFloat prints a float the way Scala prints a Double (1.0, 0.5).
func fmtFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
