package app

import (
	"slices"
	"strings"
)

// Marathon's defaults for an app (raml/Apps.scala and app.raml).
const (
	DefaultCpus                  = 1.0
	DefaultMem                   = 128.0
	DefaultDisk                  = 0.0
	DefaultInstances             = 1
	DefaultBackoffSeconds        = 1
	DefaultBackoffFactor         = 1.15
	DefaultMaxLaunchDelaySeconds = 300
	DefaultExecutor              = ""
)

// Defaults returns an app holding every default and nothing else; decoding
// a definition onto it leaves the defaults where the user said nothing.
// Port definitions are left nil: whether the default applies depends on
// ports and networks, which Normalize looks at.
func Defaults() *App {
	return &App{
		Instances:             DefaultInstances,
		Cpus:                  DefaultCpus,
		Mem:                   DefaultMem,
		Disk:                  DefaultDisk,
		Executor:              DefaultExecutor,
		BackoffSeconds:        DefaultBackoffSeconds,
		BackoffFactor:         DefaultBackoffFactor,
		MaxLaunchDelaySeconds: DefaultMaxLaunchDelaySeconds,
		UpgradeStrategy:       DefaultUpgradeStrategy,
		UnreachableStrategy:   DefaultUnreachableStrategy,
		KillSelection:         YoungestFirst,
	}
}

// DefaultPortDefinitions is what an app with neither ports nor
// portDefinitions gets on host networking: one port, assigned by Marathon.
func DefaultPortDefinitions() []PortDefinition {
	return []PortDefinition{{Port: 0, Protocol: "tcp", Name: "default"}}
}

// Normalize brings a decoded app into Marathon's canonical form, as
// AppNormalization does before an app is stored: the id and dependencies
// become absolute (resolved against base, the enclosing group), uris become
// fetch, ports become portDefinitions, Docker port mappings move to the
// container, networks default to host, health checks get their port index,
// and resident apps get unreachableStrategy "disabled". It is idempotent.
func (a *App) Normalize(base PathID) {
	if base == "" {
		base = Root
	}
	if !a.decoded && a.rawID == "" {
		a.rawID = a.ID
		a.rawDeps = append([]PathID(nil), a.Dependencies...)
	}
	a.ID = a.ID.Canonical(base)
	// Like Marathon's withCanonizedIds, dependencies resolve against the
	// same base as the id.
	for i, d := range a.Dependencies {
		a.Dependencies[i] = d.Canonical(base)
	}

	if len(a.URIs) > 0 && len(a.Fetch) == 0 {
		for _, u := range a.URIs {
			a.Fetch = append(a.Fetch, Artifact{URI: u, Extract: isExtract(u)})
		}
	}
	a.URIs = nil

	// Networks: docker.network is the deprecated spelling.
	if c := a.Container; c != nil && c.Docker != nil && c.Docker.Network != "" {
		if len(a.Networks) == 0 {
			switch c.Docker.Network {
			case "BRIDGE":
				a.Networks = []Network{{Mode: NetworkBridge}}
			case "USER":
				a.Networks = []Network{{Mode: NetworkContainer}}
			default:
				a.Networks = []Network{{Mode: NetworkHost}}
			}
		}
		d := *c.Docker
		d.Network = ""
		cc := *c
		cc.Docker = &d
		a.Container = &cc
	}
	if len(a.Networks) == 0 {
		a.Networks = []Network{{Mode: NetworkHost}}
	}
	hostNetworking := a.hostNetworking()

	if c := a.Container; c != nil && c.Docker != nil && len(c.Docker.PortMappings) > 0 {
		cc, d := *c, *c.Docker
		if len(cc.PortMappings) == 0 {
			cc.PortMappings = d.PortMappings
		}
		d.PortMappings = nil
		cc.Docker = &d
		a.Container = &cc
	}

	a.normalizePortMappings(hostNetworking)

	switch {
	case !hostNetworking:
		a.PortDefinitions = []PortDefinition{}
		a.RequirePorts = false
	case a.PortDefinitions != nil:
	case a.Ports != nil:
		a.PortDefinitions = make([]PortDefinition, 0, len(a.Ports))
		for _, p := range a.Ports {
			a.PortDefinitions = append(a.PortDefinitions, PortDefinition{Port: p, Protocol: "tcp"})
		}
	default:
		a.PortDefinitions = DefaultPortDefinitions()
	}
	a.Ports = nil

	hasPorts := len(a.PortDefinitions) > 0 || (a.Container != nil && len(a.Container.PortMappings) > 0)
	for i := range a.HealthChecks {
		a.HealthChecks[i].normalize(hasPorts)
	}
	// Marathon stores the operator as an enum, so it prints it upper-case.
	for i, c := range a.Constraints {
		if len(c) >= 2 {
			if up := strings.ToUpper(c[1]); up != c[1] && operators[Operator(up)] {
				cc := slices.Clone(c)
				cc[1] = up
				a.Constraints[i] = cc
			}
		}
	}
	if a.Residency != nil && a.UnreachableStrategy == DefaultUnreachableStrategy {
		a.UnreachableStrategy = UnreachableStrategy{Disabled: true}
	}
	if a.KillSelection == "" {
		a.KillSelection = YoungestFirst
	}
	a.fillEmpty()
}

// isExtract mirrors Marathon's FetchUri.isExtract: archives are unpacked.
func isExtract(uri string) bool {
	for _, suf := range []string{".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"} {
		if len(uri) >= len(suf) && uri[len(uri)-len(suf):] == suf {
			return true
		}
	}
	return false
}

// PortNames returns the names of the app's ports (port definitions or
// container port mappings), "" for unnamed ones, in index order.
func (a *App) PortNames() []string {
	var out []string
	if c := a.Container; c != nil && len(c.PortMappings) > 0 {
		for _, m := range c.PortMappings {
			out = append(out, m.Name)
		}
		return out
	}
	for _, p := range a.PortDefinitions {
		out = append(out, p.Name)
	}
	return out
}

// portCount is the number of port indices health checks may address
// (Marathon's AppDefinition.portIndices).
func (a *App) portCount() int {
	if c := a.Container; c != nil && len(c.PortMappings) > 0 {
		return len(c.PortMappings)
	}
	return len(a.PortDefinitions)
}

// DefaultPortMappings is what a container on a non-host network gets when it
// declares no port mappings.
func DefaultPortMappings() []PortMapping {
	return []PortMapping{{ContainerPort: 0, Protocol: "tcp", Name: "default"}}
}

// normalizePortMappings follows Marathon's container normalization: port
// mappings mean nothing on host networking and are dropped; on other
// networks a container (MESOS if none was given) always has some, and in
// bridge mode a mapping without a host port gets a dynamic one (0).
func (a *App) normalizePortMappings(hostNetworking bool) {
	if hostNetworking {
		if a.Container != nil && a.Container.PortMappings != nil {
			c := *a.Container
			c.PortMappings = nil
			a.Container = &c
		}
		return
	}
	c := Container{Type: ContainerMesos}
	if a.Container != nil {
		c = *a.Container
	}
	if len(c.PortMappings) == 0 {
		c.PortMappings = DefaultPortMappings()
	} else {
		c.PortMappings = append([]PortMapping(nil), c.PortMappings...)
	}
	bridge := false
	for _, n := range a.Networks {
		bridge = bridge || n.Mode == NetworkBridge
	}
	if bridge {
		for i := range c.PortMappings {
			if c.PortMappings[i].HostPort == nil {
				zero := 0
				c.PortMappings[i].HostPort = &zero
			}
		}
	}
	a.Container = &c
}
